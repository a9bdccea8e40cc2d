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
// w (F, C*KH*KW) applied to each. scratch holds (F + 1) * m * OH*OW floats.
void conv_direct_forward(const ConvDims *d, const float *x, int m, const float *w, const float *bias,
                         float *out, float *scratch);

// m images, given dout (m, F, OH*OW): dw (F, C*KH*KW) += dout . patches when
// dw is not NULL, dx (m, C, H, W) += w^T dout scattered back when dx is not
// NULL. scratch holds (F + 2) * m * OH*OW floats.
void conv_direct_backward(const ConvDims *d, const float *x, int m, const float *w, const float *dout,
                          float *dx, float *dw, float *scratch);

#endif
