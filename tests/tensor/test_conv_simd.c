// test_conv_simd.c: the AVX2 conv2d kernels (conv_avx2.c) against the
// portable loops they stand in for (conv_direct_forward_generic,
// conv_direct_backward_generic) and against a naive double-precision
// reference, on many shapes: strides 1 to 3, padding
// 0 to 3, odd and tiny sizes, output rows shorter and longer than a vector
// and not a multiple of 8, C > 1, maps not a multiple of 4, kernels that are
// not square, with and without bias. Forward, both paths must agree bit for
// bit (the kernel multiplies then adds, in the portable loop's order);
// backward (dx and dw, added onto what they held), both must be near the
// reference, also when inputs that no output reads hold Inf or NaN. Neither
// may write outside its output.
//
// The kernel is skipped, with the reason printed, where it is not compiled
// (-Dsimd=portable, not x86-64), the CPU lacks AVX2 and FMA, or
// GRADLAB_CONV=generic; the portable loop is still checked then.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor/conv_direct.h"

static unsigned rng = 99;

static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

// A guard value written past every output; it must survive.
#define GUARD 12345.0f
#define SLACK 64

typedef struct Shape {
    int N, C, H, W, F, KH, KW, stride, pad, bias;
} Shape;

// out (N, F, OH*OW) by the definition, in double.
static void reference(const ConvDims *d, const float *x, const float *w, const float *b, double *out)
{
    for (int n = 0; n < d->N; n++) for (int f = 0; f < d->F; f++)
    for (int oi = 0; oi < d->OH; oi++) for (int oj = 0; oj < d->OW; oj++) {
        double acc = b ? b[f] : 0.0;
        for (int c = 0; c < d->C; c++) for (int ki = 0; ki < d->KH; ki++) for (int kj = 0; kj < d->KW; kj++) {
            int i = oi * d->stride - d->pad + ki, j = oj * d->stride - d->pad + kj;
            if (i >= 0 && i < d->H && j >= 0 && j < d->W)
                acc += (double)x[(((size_t)n * d->C + c) * d->H + i) * d->W + j] *
                       w[(((size_t)f * d->C + c) * d->KH + ki) * d->KW + kj];
        }
        out[(((size_t)n * d->F + f) * d->OH + oi) * d->OW + oj] = acc;
    }
}

// Runs one shape through both paths (the kernel only where usable); returns
// whether the kernel ran.
static bool check_shape(const Shape *s)
{
    ConvDims d = { s->N, s->C, s->H, s->W, s->F, s->KH, s->KW, 0, 0, s->stride, s->pad };
    d.OH = (s->H + 2 * s->pad - s->KH) / s->stride + 1;
    d.OW = (s->W + 2 * s->pad - s->KW) / s->stride + 1;
    size_t nx = (size_t)d.N * d.C * d.H * d.W, nw = (size_t)d.F * d.C * d.KH * d.KW;
    size_t ny = (size_t)d.N * d.F * d.OH * d.OW;
    // Inputs exactly their size, so that a read past them shows under
    // valgrind or a sanitizer.
    float *x = malloc(nx * sizeof(float)), *w = malloc(nw * sizeof(float)), *b = malloc((size_t)d.F * sizeof(float));
    float *gen = malloc((ny + SLACK) * sizeof(float)), *simd = malloc((ny + SLACK) * sizeof(float));
    double *ref = malloc(ny * sizeof(double));
    float *scratch = malloc(((size_t)d.F + 1) * d.N * d.OH * d.OW * sizeof(float));
    assert_true(x && w && b && gen && simd && ref && scratch);
    for (size_t i = 0; i < nx; i++) x[i] = frand();
    for (size_t i = 0; i < nw; i++) w[i] = frand();
    for (int i = 0; i < d.F; i++) b[i] = frand();
    for (size_t i = 0; i < ny + SLACK; i++) gen[i] = simd[i] = GUARD;
    const float *bias = s->bias ? b : NULL;

    reference(&d, x, w, bias, ref);
    conv_direct_forward_generic(&d, x, d.N, w, bias, gen, scratch);
    double taps = (double)d.C * d.KH * d.KW;
    for (size_t i = 0; i < ny; i++)
        if (!(fabs(gen[i] - ref[i]) <= 1e-5 * (taps + 1))) {
            fprintf(stderr, "generic: shape N%d C%d %dx%d F%d %dx%d s%d p%d b%d: out[%zu] = %.9g, reference %.9g\n",
                    s->N, s->C, s->H, s->W, s->F, s->KH, s->KW, s->stride, s->pad, s->bias, i, gen[i], ref[i]);
            fail();
        }
    for (size_t i = ny; i < ny + SLACK; i++) assert_true(gen[i] == GUARD);

    bool ran = false;
#if CONV_AVX2
    if (conv_avx2_usable(&d)) {
        free(scratch);
        scratch = malloc(conv_avx2_scratch(&d) * sizeof(float));
        assert_non_null(scratch);
        // Two calls: the images one at a time and all at once (the scratch
        // buffer is reused across images within a call).
        conv_avx2_forward(&d, x, 1, w, bias, simd, scratch);
        if (d.N > 1)
            conv_avx2_forward(&d, x + (size_t)d.C * d.H * d.W, d.N - 1, w, bias,
                              simd + (size_t)d.F * d.OH * d.OW, scratch);
        for (size_t i = 0; i < ny; i++)
            if (memcmp(&simd[i], &gen[i], sizeof(float)) != 0) {
                fprintf(stderr, "avx2: shape N%d C%d %dx%d F%d %dx%d s%d p%d b%d: out[%zu] = %.9g, generic %.9g\n",
                        s->N, s->C, s->H, s->W, s->F, s->KH, s->KW, s->stride, s->pad, s->bias, i, simd[i], gen[i]);
                fail();
            }
        for (size_t i = ny; i < ny + SLACK; i++) assert_true(simd[i] == GUARD);
        ran = true;
    }
#endif
    free(x), free(w), free(b), free(gen), free(simd), free(ref), free(scratch);
    return ran;
}

// Backward: dx (N, C, H, W) and dw (F, C, KH, KW) from a random dout, by the
// definition in double, by the portable loop and by the kernels (where
// usable), each added onto the same nonzero starting values. Returns whether
// the kernels ran.
static bool check_backward(const Shape *s, bool poison)
{
    ConvDims d = { s->N, s->C, s->H, s->W, s->F, s->KH, s->KW, 0, 0, s->stride, s->pad };
    d.OH = (s->H + 2 * s->pad - s->KH) / s->stride + 1;
    d.OW = (s->W + 2 * s->pad - s->KW) / s->stride + 1;
    size_t nx = (size_t)d.N * d.C * d.H * d.W, nw = (size_t)d.F * d.C * d.KH * d.KW;
    size_t ny = (size_t)d.N * d.F * d.OH * d.OW;
    float *x = malloc(nx * sizeof(float)), *w = malloc(nw * sizeof(float)), *dy = malloc(ny * sizeof(float));
    float *dx0 = malloc(nx * sizeof(float)), *dw0 = malloc(nw * sizeof(float));
    float *dx[2] = { malloc((nx + SLACK) * sizeof(float)), malloc((nx + SLACK) * sizeof(float)) };
    float *dw[2] = { malloc((nw + SLACK) * sizeof(float)), malloc((nw + SLACK) * sizeof(float)) };
    double *rdx = calloc(nx, sizeof(double)), *rdw = calloc(nw, sizeof(double));
    assert_true(x && w && dy && dx0 && dw0 && dx[0] && dx[1] && dw[0] && dw[1] && rdx && rdw);
    for (size_t i = 0; i < nx; i++) x[i] = frand(), dx0[i] = frand();
    for (size_t i = 0; i < nw; i++) w[i] = frand(), dw0[i] = frand();
    for (size_t i = 0; i < ny; i++) dy[i] = frand();
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < nx + SLACK; i++) dx[k][i] = i < nx ? dx0[i] : GUARD;
        for (size_t i = 0; i < nw + SLACK; i++) dw[k][i] = i < nw ? dw0[i] : GUARD;
    }
    if (poison) { // inputs no output reads hold Inf and NaN: they must not reach dw
        char *read = calloc(nx, 1);
        assert_non_null(read);
        for (int n = 0; n < d.N; n++) for (int c = 0; c < d.C; c++)
        for (int oi = 0; oi < d.OH; oi++) for (int oj = 0; oj < d.OW; oj++)
        for (int ki = 0; ki < d.KH; ki++) for (int kj = 0; kj < d.KW; kj++) {
            int i = oi * d.stride - d.pad + ki, j = oj * d.stride - d.pad + kj;
            if (i >= 0 && i < d.H && j >= 0 && j < d.W)
                read[(((size_t)n * d.C + c) * d.H + i) * d.W + j] = 1;
        }
        for (size_t i = 0; i < nx; i++)
            if (!read[i])
                x[i] = i % 2 ? INFINITY : NAN;
        free(read);
    }
    for (size_t i = 0; i < nx; i++) rdx[i] = dx0[i];
    for (size_t i = 0; i < nw; i++) rdw[i] = dw0[i];
    for (int n = 0; n < d.N; n++) for (int f = 0; f < d.F; f++)
    for (int oi = 0; oi < d.OH; oi++) for (int oj = 0; oj < d.OW; oj++) {
        double g = dy[(((size_t)n * d.F + f) * d.OH + oi) * d.OW + oj];
        for (int c = 0; c < d.C; c++) for (int ki = 0; ki < d.KH; ki++) for (int kj = 0; kj < d.KW; kj++) {
            int i = oi * d.stride - d.pad + ki, j = oj * d.stride - d.pad + kj;
            if (i < 0 || i >= d.H || j < 0 || j >= d.W)
                continue;
            size_t xi = (((size_t)n * d.C + c) * d.H + i) * d.W + j, wi = (((size_t)f * d.C + c) * d.KH + ki) * d.KW + kj;
            rdx[xi] += g * w[wi];
            rdw[wi] += g * x[xi];
        }
    }
    float *scratch = malloc(((size_t)d.F + 2) * d.N * d.OH * d.OW * sizeof(float));
    assert_non_null(scratch);
    conv_direct_backward_generic(&d, x, d.N, w, dy, dx[0], dw[0], scratch);
    bool ran = false;
#if CONV_AVX2
    if (conv_avx2_usable(&d)) {
        free(scratch);
        scratch = malloc(conv_avx2_backward_scratch(&d, d.N) * sizeof(float));
        assert_non_null(scratch);
        conv_avx2_backward(&d, x, d.N, w, dy, dx[1], dw[1], scratch);
        ran = true;
    }
#endif
    // Each sum has at most F*KH*KW (dx) or N*OH*OW (dw) terms of size < 1.
    double tx = 1e-6 * (d.F * d.KH * d.KW + 2), tw = 1e-6 * ((double)d.N * d.OH * d.OW + 2);
    for (int k = 0; k < (ran ? 2 : 1); k++) {
        for (size_t i = 0; i < nx; i++)
            if (!(fabs(dx[k][i] - rdx[i]) <= tx)) {   // a NaN fails too
                fprintf(stderr, "%s dx: shape N%d C%d %dx%d F%d %dx%d s%d p%d: dx[%zu] = %.9g, reference %.9g\n",
                        k ? "avx2" : "generic", s->N, s->C, s->H, s->W, s->F, s->KH, s->KW, s->stride, s->pad,
                        i, dx[k][i], rdx[i]);
                fail();
            }
        for (size_t i = 0; i < nw; i++)
            if (!(fabs(dw[k][i] - rdw[i]) <= tw)) {
                fprintf(stderr, "%s dw: shape N%d C%d %dx%d F%d %dx%d s%d p%d: dw[%zu] = %.9g, reference %.9g\n",
                        k ? "avx2" : "generic", s->N, s->C, s->H, s->W, s->F, s->KH, s->KW, s->stride, s->pad,
                        i, dw[k][i], rdw[i]);
                fail();
            }
        for (size_t i = nx; i < nx + SLACK; i++) assert_true(dx[k][i] == GUARD);
        for (size_t i = nw; i < nw + SLACK; i++) assert_true(dw[k][i] == GUARD);
    }
    free(x), free(w), free(dy), free(dx0), free(dw0), free(dx[0]), free(dx[1]), free(dw[0]), free(dw[1]);
    free(rdx), free(rdw), free(scratch);
    return ran;
}

// The steering CNN's layers and hand-picked edges.
static const Shape fixed[] = {
    { 3, 1, 32, 64, 8, 5, 5, 2, 2, 1 },    // conv1
    { 3, 8, 8, 16, 16, 3, 3, 1, 1, 1 },    // conv2
    { 2, 1, 1, 1, 1, 1, 1, 1, 0, 0 },      // a single pixel
    { 1, 2, 3, 3, 5, 3, 3, 1, 3, 1 },      // padding wider than the image
    { 2, 3, 5, 7, 7, 3, 3, 2, 0, 1 },      // 7 maps: a group of 3
    { 1, 1, 9, 33, 6, 2, 4, 3, 1, 0 },     // stride 3, OW 11: a masked second vector
    { 2, 4, 6, 17, 13, 1, 3, 1, 1, 1 },    // OW 17: two full vectors and one lane
    { 1, 2, 4, 40, 32, 3, 5, 2, 2, 1 },    // 32 maps, OW 20
    { 1, 3, 5, 48, 9, 5, 1, 1, 0, 1 },     // OW 48: three vector pairs
    { 1, 1, 7, 8, 2, 7, 8, 1, 0, 1 },      // the kernel covers the image
    { 1, 1, 6, 31, 3, 3, 3, 2, 0, 1 },     // stride 2, odd W, no padding
    { 1, 2, 6, 10, 4, 3, 3, 2, 0, 1 },     // column 9 and row 5 read by no output
};

static void test_fixed_shapes(void **state)
{
    (void)state;
    int ran = 0;
    for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
        ran += check_shape(&fixed[k]) + check_backward(&fixed[k], false) + check_backward(&fixed[k], true);
    if (!ran) {
        printf("# skipped the AVX2 kernel: not compiled in (-Dsimd=portable or not x86-64), "
               "no AVX2+FMA on this CPU, or GRADLAB_CONV=generic; the portable loop was checked\n");
        skip();
    }
}

static int pick(int lo, int hi)
{
    rng = rng * 1664525u + 1013904223u;
    return lo + (int)((rng >> 8) % (unsigned)(hi - lo + 1));
}

// Random shapes: 300 of them, every size drawn on its own.
static void test_random_shapes(void **state)
{
    (void)state;
    int ran = 0;
    for (int k = 0; k < 300; k++) {
        Shape s;
        s.N = pick(1, 3), s.C = pick(1, 5), s.F = pick(1, CONV_DIRECT_MAX_F);
        s.KH = pick(1, 5), s.KW = pick(1, 5), s.stride = pick(1, 3), s.pad = pick(0, 3), s.bias = pick(0, 1);
        s.H = pick(1, 12), s.W = pick(1, 40);
        if (s.H + 2 * s.pad < s.KH)
            s.H = s.KH;
        if (s.W + 2 * s.pad < s.KW)
            s.W = s.KW;
        ran += check_shape(&s) + check_backward(&s, k % 2 == 1);
    }
    if (!ran) {
        printf("# skipped the AVX2 kernel (see test_fixed_shapes); the portable loop was checked\n");
        skip();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_shapes),
        cmocka_unit_test(test_random_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
