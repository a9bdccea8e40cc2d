// conv_avx2.c: conv2d forward for layers with few maps as a register-blocked
// AVX2 kernel (internal to the tensor engine; conv_direct.c picks it at run
// time, see conv_direct.h).
//
// One image at a time. Its input is first copied, zero-padded, into a buffer
// whose rows are split by column phase (column j of the padded row goes to
// phase j % stride, place j / stride), so that for every kernel tap the input
// under eight neighbouring output columns is eight contiguous floats, for any
// stride. Then each block of the output, 4 maps x 16 columns of one output
// row (8 ymm accumulators), runs over all C*KH*KW taps: per tap two input
// vectors are loaded and four weights broadcast, eight multiply-adds. Edges
// need no test: padding is zeros in the buffer, and a row's last vector is
// stored under a mask.
//
// Each output is bias + w[0] x[0] + w[1] x[1] + ... over the taps (c, ki, kj)
// in order, a multiply then an add per tap (no fused multiply-add): the same
// sums, rounded the same way, as the portable loop in conv_direct.c, so both
// give the same bits and the pretrained weights do not depend on the path.
#include "engine/tensor/conv_direct.h"

#include <stdint.h>
#include <string.h>

#if CONV_AVX2
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

// The padded, phase-split input of one image: (C, stride, Hp, Wq) floats.
typedef struct SplitDims {
    int Hp, Wq;   // rows (padded) and places per phase row
    int V;        // vectors of 8 per output row, ceil(OW / 8)
} SplitDims;

static SplitDims split_dims(const ConvDims *d)
{
    SplitDims s;
    s.Hp = (d->OH - 1) * d->stride + d->KH;
    s.V = (d->OW + 7) / 8;
    s.Wq = s.V * 8 + (d->KW - 1) / d->stride;
    return s;
}

size_t conv_avx2_scratch(const ConvDims *d)
{
    SplitDims s = split_dims(d);
    size_t CKK = (size_t)d->C * d->KH * d->KW;
    size_t packed = ((size_t)d->F + 3) / 4 * 4 * CKK + ((size_t)d->F + 3) / 4 * 4;   // weights, bias
    return packed + (size_t)d->C * d->stride * s.Hp * s.Wq + CKK;   // + the tap offsets (ints)
}

// xs (C, stride, Hp, Wq) = image x (C, H, W), zero-padded and phase-split:
// xs[c][ph][i][q] = x[c][i - pad][q * stride + ph - pad], 0 outside x. Only
// the places that come from x are written: the caller zeroes xs once, and
// the zeros stay for every image.
AVX2 static void split_input(const ConvDims *d, const SplitDims *s, const float *x, float *xs)
{
    const int st = d->stride;
    for (int c = 0; c < d->C; c++)
        for (int ph = 0; ph < st; ph++) {
            // x's columns j0, j0 + st, ... land at places q0, q0 + 1, ...
            int j0 = ((ph - d->pad) % st + st) % st, q0 = (j0 + d->pad - ph) / st;
            int count = j0 < d->W ? (d->W - j0 + st - 1) / st : 0;
            if (count > s->Wq - q0)
                count = s->Wq - q0 > 0 ? s->Wq - q0 : 0;
            for (int ii = 0; ii < d->H; ii++) {
                int i = ii + d->pad;
                if (i >= s->Hp)
                    break;
                float *row = xs + (((size_t)c * st + ph) * s->Hp + i) * s->Wq + q0;
                const float *in = x + ((size_t)c * d->H + ii) * d->W + j0;
                int t = 0;
                if (st == 1) {
                    memcpy(row, in, (size_t)count * sizeof(float));
                    continue;
                }
                if (st == 2)   // 16 columns in, every other one out
                    for (; t + 8 <= count && j0 + 2 * t + 16 <= d->W; t += 8) {
                        __m256 lo = _mm256_loadu_ps(in + 2 * t), hi = _mm256_loadu_ps(in + 2 * t + 8);
                        __m256 even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
                        _mm256_storeu_ps(row + t, _mm256_castpd_ps(_mm256_permute4x64_pd(
                                                      _mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0))));
                    }
                for (; t < count; t++) row[t] = in[(size_t)t * st];
            }
        }
}

// A lane mask with the first n (0..8) lanes on.
AVX2 static inline __m256i lanes(int n)
{
    static const int32_t ones[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };
    return _mm256_loadu_si256((const __m256i *)(ones + 8 - n));
}

// Stores the block's accumulators of map K (k0 for vector 0, k1 for 1).
#define CONV_STORE(K, NV)                                                      \
    if ((K) < nm) {                                                            \
        float *o = out + (size_t)(K) * P;                                      \
        if (n >= 8)                                                            \
            _mm256_storeu_ps(o, a##K##0);                                      \
        else                                                                   \
            _mm256_maskstore_ps(o, lanes(n), a##K##0);                         \
        if ((NV) > 1) {                                                        \
            if (n >= 16)                                                       \
                _mm256_storeu_ps(o + 8, a##K##1);                              \
            else                                                               \
                _mm256_maskstore_ps(o + 8, lanes(n - 8), a##K##1);             \
        }                                                                      \
    }

// One output block: 4 maps (the group's; nm of them are real, the others
// have zero weights and are not stored) x NV (1 or 2) vectors of 8 output
// columns of one output row. x points at the buffer under the block's first
// column for tap 0; tap r reads x + offs[r]. wp (CKK, 4): the group's weights
// per tap; b4 (4): their biases. out: the first map's output row at the
// block's first column, maps P apart; n: output columns left in the row
// (more than 8 when NV is 2). a += w * x is a multiply then an add.
#define CONV_BLOCK(NAME, NV)                                                   \
AVX2 static void NAME(int nm, int CKK, const int *offs, const float *x, const float *wp, const float *b4, \
                      float *out, size_t P, int n)                             \
{                                                                              \
    __m256 a00 = _mm256_set1_ps(b4[0]), a10 = _mm256_set1_ps(b4[1]);          \
    __m256 a20 = _mm256_set1_ps(b4[2]), a30 = _mm256_set1_ps(b4[3]);          \
    __m256 a01 = a00, a11 = a10, a21 = a20, a31 = a30;                         \
    for (int r = 0; r < CKK; r++, wp += 4) {                                   \
        const float *p = x + offs[r];                                          \
        __m256 x0 = _mm256_loadu_ps(p), x1 = x0;                               \
        if ((NV) > 1)                                                          \
            x1 = _mm256_loadu_ps(p + 8);                                       \
        __m256 w0 = _mm256_broadcast_ss(wp), w1 = _mm256_broadcast_ss(wp + 1); \
        a00 = _mm256_add_ps(a00, _mm256_mul_ps(w0, x0));                       \
        a10 = _mm256_add_ps(a10, _mm256_mul_ps(w1, x0));                       \
        if ((NV) > 1) {                                                        \
            a01 = _mm256_add_ps(a01, _mm256_mul_ps(w0, x1));                   \
            a11 = _mm256_add_ps(a11, _mm256_mul_ps(w1, x1));                   \
        }                                                                      \
        __m256 w2 = _mm256_broadcast_ss(wp + 2), w3 = _mm256_broadcast_ss(wp + 3); \
        a20 = _mm256_add_ps(a20, _mm256_mul_ps(w2, x0));                       \
        a30 = _mm256_add_ps(a30, _mm256_mul_ps(w3, x0));                       \
        if ((NV) > 1) {                                                        \
            a21 = _mm256_add_ps(a21, _mm256_mul_ps(w2, x1));                   \
            a31 = _mm256_add_ps(a31, _mm256_mul_ps(w3, x1));                   \
        }                                                                      \
    }                                                                          \
    CONV_STORE(0, NV) CONV_STORE(1, NV) CONV_STORE(2, NV) CONV_STORE(3, NV)    \
}

CONV_BLOCK(block1, 1)
CONV_BLOCK(block2, 2)

AVX2 void conv_avx2_forward(const ConvDims *d, const float *x, int m, const float *w, const float *bias,
                            float *out, float *scratch)
{
    const SplitDims s = split_dims(d);
    const int CKK = d->C * d->KH * d->KW, G = (d->F + 3) / 4, st = d->stride;
    const size_t P = (size_t)d->OH * d->OW, img = (size_t)d->C * d->H * d->W;
    float *wp = scratch;                          // (G, CKK, 4) weights by group of 4 maps
    float *bp = wp + (size_t)G * CKK * 4;         // (G * 4) biases
    float *xs = bp + (size_t)G * 4;               // (C, stride, Hp, Wq)
    int *offs = (int *)(xs + (size_t)d->C * st * s.Hp * s.Wq);   // (CKK) tap offsets into xs
    for (int g = 0; g < G; g++)
        for (int r = 0; r < CKK; r++)
            for (int k = 0; k < 4; k++) {
                int f = 4 * g + k;
                wp[((size_t)g * CKK + r) * 4 + k] = f < d->F ? w[(size_t)f * CKK + r] : 0.0f;
            }
    for (int f = 0; f < G * 4; f++) bp[f] = f < d->F && bias ? bias[f] : 0.0f;
    for (int c = 0, r = 0; c < d->C; c++)
        for (int ki = 0; ki < d->KH; ki++)
            for (int kj = 0; kj < d->KW; kj++, r++)
                offs[r] = (int)((((size_t)c * st + kj % st) * s.Hp + ki) * s.Wq + kj / st);
    memset(xs, 0, (size_t)d->C * st * s.Hp * s.Wq * sizeof(float));
    for (int im = 0; im < m; im++) {
        split_input(d, &s, x + (size_t)im * img, xs);
        float *o = out + (size_t)im * d->F * P;
        for (int oi = 0; oi < d->OH; oi++) {
            const float *xr = xs + (size_t)oi * st * s.Wq;   // output row oi's first tap row
            for (int g = 0; g < G; g++) {
                int nm = d->F - 4 * g < 4 ? d->F - 4 * g : 4;
                for (int v = 0; v < s.V; v += 2) {
                    int nv = s.V - v < 2 ? 1 : 2;   // vectors in this block
                    (nv == 2 ? block2 : block1)(nm, CKK, offs, xr + 8 * v, wp + (size_t)g * CKK * 4, bp + 4 * g,
                              o + (size_t)4 * g * P + (size_t)oi * d->OW + 8 * v, P, d->OW - 8 * v);
                }
            }
        }
    }
}

#else
typedef int conv_avx2_unused;   // ISO C wants a translation unit to declare something
#endif
