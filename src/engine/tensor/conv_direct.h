// conv_direct.h: convolution without a column matrix, for layers with few
// output maps (internal to the tensor engine; tensor.c calls it).
//
// im2col + gemm copies every input patch into a (C*KH*KW, OH*OW) matrix and
// packs it again for the product; with few maps F each copied number then
// serves only F multiply-adds, and the copying costs more than the
// arithmetic. Here one row of that matrix at a time (one (c, ki, kj), all
// output positions) is gathered into a small buffer that stays in L1, and
// every map's output row is updated from it. Same sums, in a fixed order.
#ifndef GRADLAB_CONV_DIRECT_H
#define GRADLAB_CONV_DIRECT_H

#include <stdbool.h>
#include <stddef.h>

// Shapes of one conv2d: x (N, C, H, W), w (F, C, KH, KW), out (N, F, OH, OW).
typedef struct ConvDims {
    int N, C, H, W, F, KH, KW, OH, OW, stride, pad;
} ConvDims;

// The most maps for which the direct path is taken.
#define CONV_DIRECT_MAX_F 32

// Images are taken m at a time, their rows side by side, so that a row is
// about CONV_DIRECT_ROW floats long even when the output is small.
#define CONV_DIRECT_ROW 1024

// How many images one call takes (1..N).
int conv_direct_group(const ConvDims *d);

// m images x (m, C, H, W): out (m, F, OH*OW) = bias (F, or NULL for 0) +
// w (F, C*KH*KW) applied to each. scratch holds conv_direct_forward_scratch
// floats. Runs the AVX2 kernel (conv_avx2.c) where conv_avx2_usable says so,
// else conv_direct_forward_generic; both give the same bits.
void conv_direct_forward(const ConvDims *d, const float *x, int m, const float *w, const float *bias,
                         float *out, float *scratch);

// Floats of scratch conv_direct_forward needs for m images.
size_t conv_direct_forward_scratch(const ConvDims *d, int m);

// The portable forward, one patch row at a time: as conv_direct_forward;
// scratch holds (F + 1) * m * OH*OW floats.
void conv_direct_forward_generic(const ConvDims *d, const float *x, int m, const float *w, const float *bias,
                                 float *out, float *scratch);

// The AVX2 forward kernel (conv_avx2.c): compiled on x86-64 with GCC or Clang
// unless -Dsimd=portable (GRADLAB_SIMD_PORTABLE); taken at run time when the
// CPU has AVX2 and FMA and GRADLAB_CONV is not "generic".
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(GRADLAB_SIMD_PORTABLE)
#define CONV_AVX2 1
#else
#define CONV_AVX2 0
#endif

// True when conv_direct_forward would run the AVX2 kernel for d: compiled
// in, the CPU has AVX2 and FMA, GRADLAB_CONV is not "generic", and d's
// padded input fits the kernel's int offsets.
bool conv_avx2_usable(const ConvDims *d);

#if CONV_AVX2
// Floats of scratch conv_avx2_forward needs (any m).
size_t conv_avx2_scratch(const ConvDims *d);

// As conv_direct_forward, always by the AVX2 kernel; only when
// conv_avx2_usable(d). scratch holds conv_avx2_scratch(d) floats.
void conv_avx2_forward(const ConvDims *d, const float *x, int m, const float *w, const float *bias,
                       float *out, float *scratch);

// Floats of scratch conv_avx2_backward needs for m images.
size_t conv_avx2_backward_scratch(const ConvDims *d, int m);

// As conv_direct_backward, by the AVX2 kernels (dx by the portable loop
// unless stride 1, KH == KW and pad < KH); only when conv_avx2_usable(d).
// scratch holds conv_avx2_backward_scratch(d, m) floats.
void conv_avx2_backward(const ConvDims *d, const float *x, int m, const float *w, const float *dout,
                        float *dx, float *dw, float *scratch);
#endif

// m images, given dout (m, F, OH*OW): dw (F, C*KH*KW) += dout . patches when
// dw is not NULL, dx (m, C, H, W) += w^T dout scattered back when dx is not
// NULL. scratch holds conv_direct_backward_scratch floats. Runs the AVX2
// kernels where conv_avx2_usable says so (their sums come in another order:
// results agree with conv_direct_backward_generic's to rounding).
void conv_direct_backward(const ConvDims *d, const float *x, int m, const float *w, const float *dout,
                          float *dx, float *dw, float *scratch);

// gbias (F) += each map's sum of dout (N, F, OH*OW), image by image; each
// image's sum in position order from 0 (the same bits as one map at a time).
void conv_direct_bias_backward(const ConvDims *d, const float *dout, float *gbias);

// Floats of scratch conv_direct_backward needs for m images.
size_t conv_direct_backward_scratch(const ConvDims *d, int m);

// The portable backward: as conv_direct_backward; scratch holds
// (F + 2) * m * OH*OW floats.
void conv_direct_backward_generic(const ConvDims *d, const float *x, int m, const float *w, const float *dout,
                                  float *dx, float *dw, float *scratch);

#endif
