// test_recurrent_fused.c: the recurrent models' fused kernels against their
// generic twins (lstm_fused.h, rnn_fused.h), on the same parameters and
// inputs: every activation, every gradient and dL/dx.
//
// The generic twins are checked against finite differences
// (test_recurrent_grad.c) and PyTorch (test_torch_compare.py); the fused
// ones must agree with them to float rounding. Where the fused kernels
// cannot run (no AVX2 and FMA, another architecture, a -Dsimd=portable
// build) the comparison is skipped with the reason: it never compares a
// path with itself.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/lstm.h"
#include "models/lstm_fused.h"
#include "models/rnn.h"
#include "models/rnn_fused.h"
#include "models/rng.h"

static const char *unavailable_reason(void)
{
#if defined(GRADLAB_SIMD_PORTABLE)
    return "built with -Dsimd=portable";
#elif !defined(__x86_64__)
    return "not an x86-64 machine";
#else
    return "this CPU has no AVX2 and FMA";
#endif
}

static void fill(float *v, size_t n, Pcg *r, float scale)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (2.0f * pcg_uniform(r) - 1.0f) * scale;
}

// Largest |a - b| over n values, relative to 1 + the largest |b|.
static double rel_diff(const float *a, const float *b, size_t n)
{
    double d = 0.0, mx = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        d = e > d || e != e ? e : d;
        mx = fabs((double)b[i]) > mx ? fabs((double)b[i]) : mx;
    }
    return d / (1.0 + mx);
}

#define CHECK(what, a, b, n)                                                                \
    do {                                                                                    \
        double e_ = rel_diff((a), (b), (n));                                                \
        worst = e_ > worst ? e_ : worst;                                                    \
        if (!(e_ < 2e-5))                                                                   \
            fail_msg("%s differs by %.3g (B %d T %d I %d H %d)", (what), e_, B, T, I, H);  \
    } while (0)

static void lstm_case(int B, int T, int I, int H, uint64_t seed)
{
    Lstm *f = lstm_create(I, H), *g = lstm_create(I, H);
    assert_non_null(f);
    assert_non_null(g);
    assert_true(f->fused);   // two different paths, always
    g->fused = false;
    Pcg r;
    pcg_seed(&r, seed);
    lstm_init_uniform(f, &r);
    for (int j = H; j < 2 * H; j++)   // a forget bias, as the adding task uses
        f->p.b_ih[j] += 1.0f;
    memcpy(g->params, f->params, f->nparams * sizeof(float));
    size_t BTI = (size_t)B * T * I, BTH = (size_t)B * T * H, BH = (size_t)B * H;
    float *buf = malloc((2 * BTI + 3 * BTH + 4 * BH) * sizeof(float));
    assert_non_null(buf);
    float *x = buf, *dout = x + BTI, *h0 = dout + BTH, *c0 = h0 + BH, *dhn = c0 + BH,
          *dcn = dhn + BH, *o1 = dcn + BH, *o2 = o1 + BTH, *dx = o2 + BTH;
    fill(x, BTI, &r, 2.0f);
    fill(dout, BTH, &r, 1.0f);
    fill(h0, BH, &r, 1.0f);
    fill(c0, BH, &r, 1.0f);
    fill(dhn, BH, &r, 1.0f);
    fill(dcn, BH, &r, 1.0f);
    assert_true(lstm_forward(f, x, h0, c0, B, T));
    assert_true(lstm_forward(g, x, h0, c0, B, T));
    assert_true(f->fused_fwd && !g->fused_fwd);
    double worst = 0.0;
    lstm_output(f, o1);
    lstm_output(g, o2);
    CHECK("h", o1, o2, BTH);
    CHECK("c", f->c, g->c, BTH);
    CHECK("gates", f->gates, g->gates, BTH * 4);
    // With dout, dh_n and dc_n; then once more without (NULLs), into the
    // gradients already there.
    lstm_zero_grad(f);
    lstm_zero_grad(g);
    lstm_backward(f, dout, dhn, dcn);
    lstm_backward(g, dout, dhn, dcn);
    CHECK("dh", f->dh, g->dh, BTH);
    CHECK("dc", f->dc, g->dc, BTH);
    CHECK("dh0", f->dh0, g->dh0, BH);
    CHECK("dc0", f->dc0, g->dc0, BH);
    lstm_grad_input(f, o1);
    lstm_grad_input(g, dx);
    CHECK("dx", o1, dx, BTI);
    for (int k = 0; k < LSTM_NUM_PARAMS; k++) {
        size_t n;
        int rows, cols;
        float *a = lstm_param(f, k, true, &n, &rows, &cols);
        float *b = lstm_param(g, k, true, &n, &rows, &cols);
        CHECK(lstm_param_names[k], a, b, n);
    }
    f->skip_dx = g->skip_dx = true;
    lstm_backward(f, NULL, NULL, NULL);
    lstm_backward(g, NULL, NULL, NULL);
    CHECK("dh (no dout)", f->dh, g->dh, BTH);
    CHECK("grads (accumulated)", f->grads, g->grads, f->nparams);
    print_message("lstm fused (avx2) vs generic, B %d T %d I %d H %d: worst %.2g\n", B, T, I, H,
                  worst);
    free(buf);
    lstm_destroy(f);
    lstm_destroy(g);
}

static void test_lstm_fused(void **state)
{
    (void)state;
    if (!lstm_fused_available(8)) {
        print_message("skipped: the fused LSTM kernels cannot run here (%s); only the generic "
                      "path can\n", unavailable_reason());
        skip();
    }
    // Row tiles of 3, 2 and 1; unit panels of 32 and narrower; chunks of
    // LSTM_CHUNK steps, whole and partial; the benchmark's shape.
    lstm_case(1, 1, 1, 8, 1);
    lstm_case(2, 5, 3, 16, 2);
    lstm_case(4, 9, 2, 32, 3);
    lstm_case(5, 17, 7, 40, 4);
    lstm_case(3, 20, 5, 24, 5);
    lstm_case(7, 16, 1, 64, 6);
    lstm_case(32, 12, 2, 128, 7);
}

// Runs everywhere: sizes the fused kernels do not take go the generic way.
static void test_lstm_fused_refuses(void **state)
{
    (void)state;
    assert_false(lstm_fused_available(12));
    assert_false(lstm_fused_available(1));
    Lstm *m = lstm_create(2, 12);
    assert_non_null(m);
    assert_false(m->fused);
    float x[2 * 3 * 2] = {0.5f, -1.0f, 0.25f, 2.0f, -0.5f, 1.0f, 0.5f, -1.0f, 0.25f, 2.0f, -0.5f, 1.0f};
    assert_true(lstm_forward(m, x, NULL, NULL, 2, 3));
    assert_false(m->fused_fwd);
    lstm_destroy(m);
}

static void rnn_case(RnnAct act, bool tokens, int B, int T, int I, int H, uint64_t seed)
{
    Rnn *f = rnn_create(I, H, act), *g = rnn_create(I, H, act);
    assert_non_null(f);
    assert_non_null(g);
    assert_true(f->fused);   // two different paths, always
    g->fused = false;
    Pcg r;
    pcg_seed(&r, seed);
    rnn_init_uniform(f, &r);
    memcpy(g->params, f->params, f->nparams * sizeof(float));
    size_t BTI = (size_t)B * T * I, BTH = (size_t)B * T * H, BH = (size_t)B * H;
    float *buf = malloc((2 * BTI + 3 * BTH + 2 * BH) * sizeof(float));
    int *tok = malloc((size_t)B * T * sizeof(int));
    assert_non_null(buf);
    assert_non_null(tok);
    float *x = buf, *dout = x + BTI, *h0 = dout + BTH, *dhn = h0 + BH, *o1 = dhn + BH,
          *o2 = o1 + BTH, *dx = o2 + BTH;
    fill(x, BTI, &r, 2.0f);
    fill(dout, BTH, &r, 1.0f);
    fill(h0, BH, &r, 1.0f);
    fill(dhn, BH, &r, 1.0f);
    for (int i = 0; i < B * T; i++)
        tok[i] = (int)pcg_below(&r, (uint32_t)I);
    if (tokens) {
        assert_true(rnn_forward_tokens(f, tok, h0, B, T));
        assert_true(rnn_forward_tokens(g, tok, h0, B, T));
    } else {
        assert_true(rnn_forward(f, x, h0, B, T));
        assert_true(rnn_forward(g, x, h0, B, T));
    }
    assert_true(f->fused_fwd && !g->fused_fwd);
    double worst = 0.0;
    rnn_output(f, o1);
    rnn_output(g, o2);
    CHECK("h", o1, o2, BTH);
    rnn_zero_grad(f);
    rnn_zero_grad(g);
    rnn_backward(f, dout, dhn);
    rnn_backward(g, dout, dhn);
    CHECK("dh", f->dh, g->dh, BTH);
    CHECK("dpre", f->dpre, g->dpre, BTH);
    CHECK("dh0", f->dh0, g->dh0, BH);
    CHECK("grads", f->grads, g->grads, f->nparams);
    if (!tokens) {
        rnn_grad_input(f, o1);
        rnn_grad_input(g, dx);
        CHECK("dx", o1, dx, BTI);
    }
    rnn_backward(f, NULL, NULL);
    rnn_backward(g, NULL, NULL);
    CHECK("grads (accumulated, no dout)", f->grads, g->grads, f->nparams);
    print_message("rnn %s%s fused (avx2) vs generic, B %d T %d I %d H %d: worst %.2g\n",
                  rnn_act_names[act], tokens ? " (tokens)" : "", B, T, I, H, worst);
    free(buf);
    free(tok);
    rnn_destroy(f);
    rnn_destroy(g);
}

static void test_rnn_fused(void **state)
{
    (void)state;
    if (!rnn_fused_available(8)) {
        print_message("skipped: the fused RNN kernels cannot run here (%s); only the generic "
                      "path can\n", unavailable_reason());
        skip();
    }
    rnn_case(RNN_TANH, false, 1, 1, 1, 8, 11);
    rnn_case(RNN_TANH, false, 2, 5, 3, 16, 12);
    rnn_case(RNN_TANH, false, 5, 17, 7, 40, 13);
    rnn_case(RNN_TANH, false, 32, 12, 2, 128, 14);
    rnn_case(RNN_RELU, false, 4, 9, 2, 24, 15);
    rnn_case(RNN_SIGMOID, false, 3, 6, 5, 32, 16);
    rnn_case(RNN_LINEAR, false, 7, 4, 3, 8, 17);
    rnn_case(RNN_TANH, true, 1, 25, 71, 96, 18);   // min-char-rnn's one-hot inputs
    rnn_case(RNN_TANH, true, 3, 7, 13, 48, 19);
}

static void test_rnn_fused_refuses(void **state)
{
    (void)state;
    assert_false(rnn_fused_available(12));
    Rnn *m = rnn_create(2, 12, RNN_TANH);
    assert_non_null(m);
    assert_false(m->fused);
    rnn_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lstm_fused),
        cmocka_unit_test(test_lstm_fused_refuses),
        cmocka_unit_test(test_rnn_fused),
        cmocka_unit_test(test_rnn_fused_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
