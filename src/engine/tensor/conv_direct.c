// conv_direct.c: conv2d forward and backward one patch row at a time; see
// conv_direct.h.
#include "engine/tensor/conv_direct.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

// The loops below are compiled for AVX-512 and AVX2 too, picked at load
// time, and at O3 so that they vectorise (as optim.c's update loops).
#if defined(__GNUC__) && !defined(__clang__)
#define CONV_VECTORISE __attribute__((optimize("O3", "no-trapping-math")))
#else
#define CONV_VECTORISE
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && defined(__linux__) && \
    !defined(GRADLAB_SIMD_PORTABLE)
#define CONV_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CONV_CLONES
#endif

// The output columns oj whose input column oj * stride - pad + kj lies in
// [0, W): [*lo, *hi).
static void valid_cols(const ConvDims *d, int kj, int *lo, int *hi)
{
    int a = d->pad - kj, b = d->W - 1 + d->pad - kj;
    int l = a <= 0 ? 0 : (a + d->stride - 1) / d->stride;
    int h = b < 0 ? 0 : b / d->stride + 1;
    *lo = l < d->OW ? l : d->OW;
    *hi = h < d->OW ? h : d->OW;
    if (*hi < *lo)
        *hi = *lo;
}

// row (OH*OW) = the input under kernel tap (c, ki, kj) at every output position.
static void gather_row(const ConvDims *d, const float *x, int c, int ki, int kj, float *row)
{
    int lo, hi;
    valid_cols(d, kj, &lo, &hi);
    for (int oi = 0; oi < d->OH; oi++) {
        float *out = row + (size_t)oi * d->OW;
        int i = oi * d->stride - d->pad + ki;
        if (i < 0 || i >= d->H) {
            memset(out, 0, (size_t)d->OW * sizeof(float));
            continue;
        }
        const float *in = x + ((size_t)c * d->H + i) * d->W - d->pad + kj;   // in[oj * stride]
        for (int oj = 0; oj < lo; oj++) out[oj] = 0.0f;
        if (d->stride == 1)
            memcpy(out + lo, in + lo, (size_t)(hi - lo) * sizeof(float));
        else
            for (int oj = lo; oj < hi; oj++) out[oj] = in[oj * d->stride];
        for (int oj = hi; oj < d->OW; oj++) out[oj] = 0.0f;
    }
}

// dx (C, H, W) += drow scattered back to where gather_row read tap (c, ki, kj).
static void scatter_row(const ConvDims *d, const float *drow, int c, int ki, int kj, float *dx)
{
    int lo, hi;
    valid_cols(d, kj, &lo, &hi);
    for (int oi = 0; oi < d->OH; oi++) {
        int i = oi * d->stride - d->pad + ki;
        if (i < 0 || i >= d->H)
            continue;
        float *out = dx + ((size_t)c * d->H + i) * d->W - d->pad + kj;   // out[oj * stride]
        const float *in = drow + (size_t)oi * d->OW;
        if (d->stride == 1)
            for (int oj = lo; oj < hi; oj++) out[oj] += in[oj];
        else
            for (int oj = lo; oj < hi; oj++) out[oj * d->stride] += in[oj];
    }
}

// y[f] (P) += a[f] * row for f < nf (nf <= 4), one pass over row.
CONV_VECTORISE CONV_CLONES
static void axpy4(int P, int nf, const float *a, const float *restrict row, float *restrict y0,
                  float *restrict y1, float *restrict y2, float *restrict y3)
{
    const float a0 = a[0], a1 = nf > 1 ? a[1] : 0, a2 = nf > 2 ? a[2] : 0, a3 = nf > 3 ? a[3] : 0;
    switch (nf) {
    case 4:
        for (int p = 0; p < P; p++) {
            float v = row[p];
            y0[p] += a0 * v, y1[p] += a1 * v, y2[p] += a2 * v, y3[p] += a3 * v;
        }
        break;
    case 3:
        for (int p = 0; p < P; p++) {
            float v = row[p];
            y0[p] += a0 * v, y1[p] += a1 * v, y2[p] += a2 * v;
        }
        break;
    case 2:
        for (int p = 0; p < P; p++) {
            float v = row[p];
            y0[p] += a0 * v, y1[p] += a1 * v;
        }
        break;
    default:
        for (int p = 0; p < P; p++) y0[p] += a0 * row[p];
        break;
    }
}

// Eight floats as one value (GCC and Clang vector extensions): one AVX
// register, or two SSE ones in the default clone. The helpers take and give
// them through pointers: a vector passed by value would have a different
// ABI in each clone, which Clang refuses and GCC warns about.
typedef float v8 __attribute__((vector_size(32)));

__attribute__((always_inline)) static inline void load8(v8 *v, const float *p)
{
    memcpy(v, p, sizeof(*v));
}

__attribute__((always_inline)) static inline float sum8(const v8 *v)
{
    return (((*v)[0] + (*v)[1]) + ((*v)[2] + (*v)[3])) + (((*v)[4] + (*v)[5]) + ((*v)[6] + (*v)[7]));
}

// out[k] = the dot product of a[k] and b (P) for k < 4, each in eight
// interleaved partial sums (a fixed order), one pass over b.
CONV_CLONES
static void dot4(int P, const float *a0, const float *a1, const float *a2, const float *a3, const float *b,
                 float *out)
{
    v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    int p = 0;
    for (; p + 8 <= P; p += 8) {
        v8 v, x0, x1, x2, x3;
        load8(&v, b + p), load8(&x0, a0 + p), load8(&x1, a1 + p), load8(&x2, a2 + p), load8(&x3, a3 + p);
        s0 += x0 * v, s1 += x1 * v, s2 += x2 * v, s3 += x3 * v;
    }
    out[0] = sum8(&s0), out[1] = sum8(&s1), out[2] = sum8(&s2), out[3] = sum8(&s3);
    for (; p < P; p++) {
        float v = b[p];
        out[0] += a0[p] * v, out[1] += a1[p] * v, out[2] += a2[p] * v, out[3] += a3[p] * v;
    }
}

// y (P) += a[0] x0 + a[1] x1 + a[2] x2 + a[3] x3, one pass over y.
CONV_VECTORISE CONV_CLONES
static void combine4(int P, const float *a, const float *restrict x0, const float *restrict x1,
                     const float *restrict x2, const float *restrict x3, float *restrict y)
{
    const float a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    for (int p = 0; p < P; p++)
        y[p] += (a0 * x0[p] + a1 * x1[p]) + (a2 * x2[p] + a3 * x3[p]);
}

int conv_direct_group(const ConvDims *d)
{
    int P = d->OH * d->OW;
    int g = 2 * P > CONV_DIRECT_ROW ? 1 : CONV_DIRECT_ROW / P;
    return g > d->N ? d->N : g < 1 ? 1 : g;
}

bool conv_avx2_usable(const ConvDims *d)
{
#if CONV_AVX2
    // Threads racing here all compute the same answer; the atomic makes the
    // race well defined. 0: not asked yet, 1: no, 2: yes.
    static atomic_int chosen;
    int known = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (!known) {
        const char *force = getenv("GRADLAB_CONV");   // "generic" or "avx2"
        __builtin_cpu_init();
        bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        known = has && !(force && strcmp(force, "generic") == 0) ? 2 : 1;
        atomic_store_explicit(&chosen, known, memory_order_relaxed);
    }
    // The kernel's tap offsets into the padded, phase-split image are ints.
    size_t split = (size_t)d->C * d->stride * ((size_t)(d->OH - 1) * d->stride + d->KH) *
                   ((size_t)d->OW + 8 + d->KW);
    return known == 2 && split < (size_t)INT_MAX;
#else
    (void)d;
    return false;
#endif
}

size_t conv_direct_forward_scratch(const ConvDims *d, int m)
{
    size_t generic = ((size_t)d->F + 1) * (size_t)m * d->OH * d->OW;
#if CONV_AVX2
    if (conv_avx2_usable(d)) {
        size_t simd = conv_avx2_scratch(d);
        return simd > generic ? simd : generic;
    }
#endif
    return generic;
}

void conv_direct_forward(const ConvDims *d, const float *x, int m, const float *w, const float *bias,
                         float *out, float *scratch)
{
#if CONV_AVX2
    if (conv_avx2_usable(d)) {
        conv_avx2_forward(d, x, m, w, bias, out, scratch);
        return;
    }
#endif
    conv_direct_forward_generic(d, x, m, w, bias, out, scratch);
}

void conv_direct_forward_generic(const ConvDims *d, const float *x, int m, const float *w, const float *bias,
                                 float *out, float *scratch)
{
    const int P = d->OH * d->OW, CKK = d->C * d->KH * d->KW;
    const size_t L = (size_t)m * P, img = (size_t)d->C * d->H * d->W;
    float *row = scratch, *acc = m == 1 ? out : scratch + L;   // row (m*P), acc (F, m*P)
    for (int f = 0; f < d->F; f++) {
        float b = bias ? bias[f] : 0.0f;
        for (size_t p = 0; p < L; p++) acc[(size_t)f * L + p] = b;
    }
    for (int c = 0, r = 0; c < d->C; c++)
    for (int ki = 0; ki < d->KH; ki++)
    for (int kj = 0; kj < d->KW; kj++, r++) {
        for (int k = 0; k < m; k++)
            gather_row(d, x + (size_t)k * img, c, ki, kj, row + (size_t)k * P);
        for (int f = 0; f < d->F; f += 4) {
            int nf = d->F - f < 4 ? d->F - f : 4;
            float a[4];
            for (int k = 0; k < nf; k++) a[k] = w[(size_t)(f + k) * CKK + r];
            float *y = acc + (size_t)f * L;
            axpy4((int)L, nf, a, row, y, nf > 1 ? y + L : y, nf > 2 ? y + 2 * L : y, nf > 3 ? y + 3 * L : y);
        }
    }
    for (int k = 0; k < m && acc != out; k++)
        for (int f = 0; f < d->F; f++)
            memcpy(out + ((size_t)k * d->F + f) * P, acc + (size_t)f * L + (size_t)k * P, (size_t)P * sizeof(float));
}

void conv_direct_bias_backward(const ConvDims *d, const float *dout, float *gbias)
{
    // Eight maps' sums side by side: eight independent chains of adds
    // instead of one, each still in position order.
    const size_t P = (size_t)d->OH * d->OW;
    for (int im = 0; im < d->N; im++) {
        const float *o = dout + (size_t)im * d->F * P;   // (F, OH*OW)
        int f = 0;
        for (; f + 8 <= d->F; f += 8) {
            float s[8] = { 0 };
            for (size_t p = 0; p < P; p++)
                for (int k = 0; k < 8; k++) s[k] += o[(f + k) * P + p];
            for (int k = 0; k < 8; k++) gbias[f + k] += s[k];
        }
        for (; f < d->F; f++) {
            float s = 0.0f;
            for (size_t p = 0; p < P; p++) s += o[f * P + p];
            gbias[f] += s;
        }
    }
}

size_t conv_direct_backward_scratch(const ConvDims *d, int m)
{
#if CONV_AVX2
    if (conv_avx2_usable(d))
        return conv_avx2_backward_scratch(d, m);   // at least the generic loop's
#endif
    return ((size_t)d->F + 2) * (size_t)m * d->OH * d->OW;
}

void conv_direct_backward(const ConvDims *d, const float *x, int m, const float *w, const float *dout,
                          float *dx, float *dw, float *scratch)
{
#if CONV_AVX2
    if (conv_avx2_usable(d)) {
        conv_avx2_backward(d, x, m, w, dout, dx, dw, scratch);
        return;
    }
#endif
    conv_direct_backward_generic(d, x, m, w, dout, dx, dw, scratch);
}

void conv_direct_backward_generic(const ConvDims *d, const float *x, int m, const float *w, const float *dout,
                                  float *dx, float *dw, float *scratch)
{
    const int P = d->OH * d->OW, CKK = d->C * d->KH * d->KW;
    const size_t L = (size_t)m * P, img = (size_t)d->C * d->H * d->W;
    float *row = scratch, *drow = scratch + L;   // (m*P), (m*P)
    float *gathered = scratch + 2 * L;   // (F, m*P): the images' dout side by side
    const float *dg = m == 1 ? dout : gathered;   // one image's dout is that already
    for (int k = 0; k < m && m > 1; k++)
        for (int f = 0; f < d->F; f++)
            memcpy(gathered + (size_t)f * L + (size_t)k * P, dout + ((size_t)k * d->F + f) * P, (size_t)P * sizeof(float));
    for (int c = 0, r = 0; c < d->C; c++)
    for (int ki = 0; ki < d->KH; ki++)
    for (int kj = 0; kj < d->KW; kj++, r++) {
        // Maps in fours; a last group of fewer repeats its last map with a
        // zero weight (combine4) or drops the extra sums (dot4).
        if (dw) {
            for (int k = 0; k < m; k++)
                gather_row(d, x + (size_t)k * img, c, ki, kj, row + (size_t)k * P);
            for (int f = 0; f < d->F; f += 4) {
                int nf = d->F - f < 4 ? d->F - f : 4;
                const float *o[4];
                for (int k = 0; k < 4; k++) o[k] = dg + (size_t)(f + (k < nf ? k : nf - 1)) * L;
                float sums[4];
                dot4((int)L, o[0], o[1], o[2], o[3], row, sums);
                for (int k = 0; k < nf; k++) dw[(size_t)(f + k) * CKK + r] += sums[k];
            }
        }
        if (dx) {   // drow = sum over f of w[f, r] * dout[f]
            memset(drow, 0, L * sizeof(float));
            for (int f = 0; f < d->F; f += 4) {
                int nf = d->F - f < 4 ? d->F - f : 4;
                float a[4] = {0};
                const float *o[4];
                for (int k = 0; k < 4; k++) {
                    o[k] = dg + (size_t)(f + (k < nf ? k : nf - 1)) * L;
                    a[k] = k < nf ? w[(size_t)(f + k) * CKK + r] : 0.0f;
                }
                combine4((int)L, a, o[0], o[1], o[2], o[3], drow);
            }
            for (int k = 0; k < m; k++)
                scatter_row(d, drow + (size_t)k * P, c, ki, kj, dx + (size_t)k * img);
        }
    }
}
