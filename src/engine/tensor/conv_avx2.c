// conv_avx2.c: conv2d forward and backward for layers with few maps as
// register-blocked AVX2 kernels (internal to the tensor engine;
// conv_direct.c picks them at run time, see conv_direct.h). The backward is
// described at its section below.
//
// Forward: one image at a time. Its input is first copied, zero-padded,
// into a buffer whose rows are split by column phase (column j of the
// padded row goes to phase j % stride, place j / stride), so that for every
// kernel tap the input under eight neighbouring output columns is eight
// contiguous floats, for any stride. Then each block of the output, 4 maps
// x 16 columns of one output row (8 ymm accumulators), runs over all
// C*KH*KW taps: per tap two input vectors are loaded and four weights
// broadcast, eight multiply-adds. Edges need no test: padding is zeros in
// the buffer, and a row's last vector is stored under a mask.
//
// Each output is bias + w[0] x[0] + w[1] x[1] + ... over the taps (c, ki, kj)
// in order, a multiply then an add per tap (no fused multiply-add): the same
// sums, rounded the same way, as the portable loop in conv_direct.c, so the
// forward gives the same bits on either path (the backward does not).
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


// ---------------------------------------------------------------------------
// Backward. dw by dot products over the same phase-split images: for 4 maps
// x 2 taps at a time (8 accumulators), each output vector of dout is loaded
// once per map and multiplied (fused) with the two taps' input vectors. dx,
// for stride 1 and square kernels, is the forward kernel run on dout with
// the weights flipped and maps and channels swapped (a transposed
// convolution); otherwise the portable loop. Sums come in another order
// than the portable loop's: the results agree to rounding, not to the bit.

// Floats of the dx part's scratch, and its dims (the transposed
// convolution); 0 when dx takes the portable loop.
static size_t dx_scratch(const ConvDims *d, int m, ConvDims *t)
{
    if (d->stride != 1 || d->KH != d->KW || d->pad > d->KH - 1)
        return 0;
    *t = (ConvDims){ m, d->F, d->OH, d->OW, d->C, d->KH, d->KW, d->H, d->W, 1, d->KH - 1 - d->pad };
    if (!conv_avx2_usable(t))
        return 0;
    return (size_t)d->C * d->F * d->KH * d->KW + (size_t)m * d->C * d->H * d->W + conv_avx2_scratch(t);
}

size_t conv_avx2_backward_scratch(const ConvDims *d, int m)
{
    SplitDims s = split_dims(d);
    ConvDims t;
    size_t dwpart = (size_t)d->C * d->KH * d->KW + (size_t)m * d->C * d->stride * s.Hp * s.Wq;
    size_t dxpart = dx_scratch(d, m, &t);
    size_t generic = ((size_t)d->F + 2) * (size_t)m * d->OH * d->OW;
    size_t most = dwpart > dxpart ? dwpart : dxpart;
    return most > generic ? most : generic;
}

AVX2 static inline float hsum(__m256 v)
{
    __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_add_ps(a, _mm_movehl_ps(a, a));
    a = _mm_add_ss(a, _mm_movehdup_ps(a));
    return _mm_cvtss_f32(a);
}

// dw (F, CKK) += the m images' dout . patches; xs holds the m images split
// (split_input), XS floats apart.
AVX2 static void dw_accumulate(const ConvDims *d, const SplitDims *s, int m, const float *xs, size_t XS,
                               const int *offs, const float *dout, float *dw)
{
    const int CKK = d->C * d->KH * d->KW, st = d->stride;
    const size_t P = (size_t)d->OH * d->OW;
    for (int f = 0; f < d->F; f += 4) {
        int nm = d->F - f < 4 ? d->F - f : 4;
        int fk[4];   // the maps read; a last group of fewer repeats its last map
        for (int k = 0; k < 4; k++) fk[k] = f + (k < nm ? k : nm - 1);
        for (int r = 0; r < CKK; r += 2) {
            int r1 = r + 1 < CKK ? r + 1 : r;
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00;
            __m256 a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int im = 0; im < m; im++) {
                const float *o0 = dout + ((size_t)im * d->F + fk[0]) * P, *o1 = dout + ((size_t)im * d->F + fk[1]) * P;
                const float *o2 = dout + ((size_t)im * d->F + fk[2]) * P, *o3 = dout + ((size_t)im * d->F + fk[3]) * P;
                const float *xa = xs + (size_t)im * XS + offs[r], *xb = xs + (size_t)im * XS + offs[r1];
                for (int oi = 0; oi < d->OH; oi++, o0 += d->OW, o1 += d->OW, o2 += d->OW, o3 += d->OW) {
                    const float *pa = xa + (size_t)oi * st * s->Wq, *pb = xb + (size_t)oi * st * s->Wq;
                    for (int c0 = 0; c0 < d->OW; c0 += 8) {
                        __m256 va, vb, g0, g1, g2, g3;
                        if (d->OW - c0 >= 8) {
                            va = _mm256_loadu_ps(pa + c0), vb = _mm256_loadu_ps(pb + c0);
                            g0 = _mm256_loadu_ps(o0 + c0), g1 = _mm256_loadu_ps(o1 + c0);
                            g2 = _mm256_loadu_ps(o2 + c0), g3 = _mm256_loadu_ps(o3 + c0);
                        } else {   // lanes past the row are 0 in dout and in the input: an
                                   // input no output reads may be Inf or NaN, and 0 x Inf is NaN
                            __m256i mask = lanes(d->OW - c0);
                            va = _mm256_maskload_ps(pa + c0, mask), vb = _mm256_maskload_ps(pb + c0, mask);
                            g0 = _mm256_maskload_ps(o0 + c0, mask), g1 = _mm256_maskload_ps(o1 + c0, mask);
                            g2 = _mm256_maskload_ps(o2 + c0, mask), g3 = _mm256_maskload_ps(o3 + c0, mask);
                        }
                        a00 = _mm256_fmadd_ps(g0, va, a00), a01 = _mm256_fmadd_ps(g0, vb, a01);
                        a10 = _mm256_fmadd_ps(g1, va, a10), a11 = _mm256_fmadd_ps(g1, vb, a11);
                        a20 = _mm256_fmadd_ps(g2, va, a20), a21 = _mm256_fmadd_ps(g2, vb, a21);
                        a30 = _mm256_fmadd_ps(g3, va, a30), a31 = _mm256_fmadd_ps(g3, vb, a31);
                    }
                }
            }
            float sa[4] = { hsum(a00), hsum(a10), hsum(a20), hsum(a30) };
            float sb[4] = { hsum(a01), hsum(a11), hsum(a21), hsum(a31) };
            for (int k = 0; k < nm; k++) {
                dw[(size_t)(f + k) * CKK + r] += sa[k];
                if (r1 != r)
                    dw[(size_t)(f + k) * CKK + r1] += sb[k];
            }
        }
    }
}

AVX2 void conv_avx2_backward(const ConvDims *d, const float *x, int m, const float *w, const float *dout,
                             float *dx, float *dw, float *scratch)
{
    const int CKK = d->C * d->KH * d->KW, st = d->stride;
    const size_t img = (size_t)d->C * d->H * d->W;
    if (dw) {
        const SplitDims s = split_dims(d);
        const size_t XS = (size_t)d->C * st * s.Hp * s.Wq;
        int *offs = (int *)scratch;   // (CKK) tap offsets, then the m split images
        float *xs = scratch + CKK;
        for (int c = 0, r = 0; c < d->C; c++)
            for (int ki = 0; ki < d->KH; ki++)
                for (int kj = 0; kj < d->KW; kj++, r++)
                    offs[r] = (int)((((size_t)c * st + kj % st) * s.Hp + ki) * s.Wq + kj / st);
        memset(xs, 0, (size_t)m * XS * sizeof(float));
        for (int im = 0; im < m; im++) split_input(d, &s, x + (size_t)im * img, xs + (size_t)im * XS);
        dw_accumulate(d, &s, m, xs, XS, offs, dout, dw);
    }
    if (!dx)
        return;
    ConvDims t;
    if (!dx_scratch(d, m, &t)) {
        conv_direct_backward_generic(d, x, m, w, dout, dx, NULL, scratch);
        return;
    }
    // wt (C, F, KH, KW): w's maps and channels swapped, each kernel turned
    // half a turn; then tmp (m, C, H, W) = dout under wt, padded KH-1-pad.
    float *wt = scratch, *tmp = wt + (size_t)d->C * d->F * d->KH * d->KW, *rest = tmp + (size_t)m * img;
    for (int c = 0; c < d->C; c++)
        for (int f = 0; f < d->F; f++)
            for (int a = 0; a < d->KH; a++)
                for (int b = 0; b < d->KW; b++)
                    wt[(((size_t)c * d->F + f) * d->KH + a) * d->KW + b] =
                        w[(((size_t)f * d->C + c) * d->KH + d->KH - 1 - a) * d->KW + d->KW - 1 - b];
    conv_avx2_forward(&t, dout, m, wt, NULL, tmp, rest);
    size_t n = (size_t)m * img, i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dx + i, _mm256_add_ps(_mm256_loadu_ps(dx + i), _mm256_loadu_ps(tmp + i)));
    for (; i < n; i++) dx[i] += tmp[i];
}

#else
typedef int conv_avx2_unused;   // ISO C wants a translation unit to declare something
#endif
