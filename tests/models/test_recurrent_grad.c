// test_recurrent_grad.c: the RNN's and the LSTM's backward passes against
// central finite differences of a plain double-precision forward pass, on
// tiny shapes. The loss is L = sum(W_out * output) + sum(W_h * h_T)
// + sum(W_c * c_T) with random weights W, which exercises dout, dh_n and dc_n.
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
#include "models/rnn.h"

enum { B = 2, T = 4, I = 3, H = 3 };

// Everything the loss depends on, in double.
typedef struct Problem {
    bool lstm;
    RnnAct act;
    int np;               // parameter count
    double *p;            // params in the model's layout
    double x[B * T * I];  // (B, T, I)
    double h0[B * H], c0[B * H];
    double wo[B * T * H], wh[B * H], wc[B * H];
} Problem;

static double sigm(double v) { return 1.0 / (1.0 + exp(-v)); }

static double act(RnnAct a, double v)
{
    switch (a) {
    case RNN_TANH: return tanh(v);
    case RNN_RELU: return v > 0 ? v : 0;
    case RNN_SIGMOID: return sigm(v);
    default: return v;
    }
}

// The loss, computed directly from the definitions.
static double loss(const Problem *q)
{
    int G = q->lstm ? 4 : 1;
    const double *wih = q->p, *whh = wih + G * H * I, *bih = whh + G * H * H, *bhh = bih + G * H;
    double L = 0;
    for (int b = 0; b < B; b++) {
        double h[H], c[H];
        memcpy(h, q->h0 + b * H, sizeof h);
        memcpy(c, q->c0 + b * H, sizeof c);
        for (int t = 0; t < T; t++) {
            double a[4 * H];
            for (int r = 0; r < G * H; r++) {
                double s = bih[r] + bhh[r];
                for (int k = 0; k < I; k++)
                    s += wih[r * I + k] * q->x[(b * T + t) * I + k];
                for (int k = 0; k < H; k++)
                    s += whh[r * H + k] * h[k];
                a[r] = s;
            }
            for (int j = 0; j < H; j++) {
                if (q->lstm) {
                    double i = sigm(a[j]), f = sigm(a[H + j]), g = tanh(a[2 * H + j]),
                           o = sigm(a[3 * H + j]);
                    c[j] = f * c[j] + i * g;
                    h[j] = o * tanh(c[j]);
                } else {
                    h[j] = act(q->act, a[j]);
                }
                L += q->wo[(b * T + t) * H + j] * h[j];
            }
        }
        for (int j = 0; j < H; j++) {
            L += q->wh[b * H + j] * h[j];
            if (q->lstm)
                L += q->wc[b * H + j] * c[j];
        }
    }
    return L;
}

static void fill(double *v, int n, Pcg *r, double s)
{
    for (int i = 0; i < n; i++)
        v[i] = s * (2.0 * pcg_uniform(r) - 1.0);
}

// Values are rounded to float once, so the float model and the double
// reference see exactly the same inputs.
static void round_to_float(double *v, int n)
{
    for (int i = 0; i < n; i++)
        v[i] = (float)v[i];
}

static void check(const char *what, double *v, const float *analytic, int n, Problem *q)
{
    const double eps = 1e-5;
    for (int i = 0; i < n; i++) {
        double keep = v[i];
        v[i] = keep + eps;
        double lp = loss(q);
        v[i] = keep - eps;
        double lm = loss(q);
        v[i] = keep;
        double fd = (lp - lm) / (2 * eps);
        double err = fabs(fd - analytic[i]);
        if (err > 2e-4 * fmax(1.0, fabs(fd))) {
            fprintf(stderr, "NOT OK %s[%d]: analytic %.8g, finite difference %.8g\n", what, i,
                    (double)analytic[i], fd);
            fail();
        }
    }
}

static void run(bool lstm, RnnAct a, uint64_t seed)
{
    Problem q = {.lstm = lstm, .act = a};
    int G = lstm ? 4 : 1;
    q.np = G * H * I + G * H * H + 2 * G * H;
    q.p = malloc((size_t)q.np * sizeof(double));
    Pcg r;
    pcg_seed(&r, seed);
    fill(q.p, q.np, &r, 0.8);
    fill(q.x, B * T * I, &r, 1.0);
    fill(q.h0, B * H, &r, 0.5);
    fill(q.c0, B * H, &r, lstm ? 0.5 : 0.0);
    fill(q.wo, B * T * H, &r, 1.0);
    fill(q.wh, B * H, &r, 1.0);
    fill(q.wc, B * H, &r, lstm ? 1.0 : 0.0);
    round_to_float(q.p, q.np);
    round_to_float(q.x, B * T * I);
    round_to_float(q.h0, B * H);
    round_to_float(q.c0, B * H);

    float fx[B * T * I], fh0[B * H], fc0[B * H], fwo[B * T * H], fwh[B * H], fwc[B * H];
    for (int i = 0; i < B * T * I; i++)
        fx[i] = (float)q.x[i];
    for (int i = 0; i < B * T * H; i++)
        fwo[i] = (float)q.wo[i];
    for (int i = 0; i < B * H; i++) {
        fh0[i] = (float)q.h0[i];
        fc0[i] = (float)q.c0[i];
        fwh[i] = (float)q.wh[i];
        fwc[i] = (float)q.wc[i];
    }
    float dx[B * T * I];
    const float *grads, *dh0, *dc0 = NULL;
    Lstm *ml = NULL;
    Rnn *mr = NULL;
    double out_err = 0;
    float out[B * T * H];
    if (lstm) {
        ml = lstm_create(I, H);
        for (int i = 0; i < q.np; i++)
            ml->params[i] = (float)q.p[i];
        assert_true(lstm_forward(ml, fx, fh0, fc0, B, T));
        lstm_zero_grad(ml);
        lstm_backward(ml, fwo, fwh, fwc);
        lstm_grad_input(ml, dx);
        lstm_output(ml, out);
        grads = ml->grads;
        dh0 = ml->dh0;
        dc0 = ml->dc0;
    } else {
        mr = rnn_create(I, H, a);
        for (int i = 0; i < q.np; i++)
            mr->params[i] = (float)q.p[i];
        assert_true(rnn_forward(mr, fx, fh0, B, T));
        rnn_zero_grad(mr);
        rnn_backward(mr, fwo, fwh);
        rnn_grad_input(mr, dx);
        rnn_output(mr, out);
        grads = mr->grads;
        dh0 = mr->dh0;
    }
    // The forward pass agrees too: L from the float outputs.
    double Lf = 0;
    for (int i = 0; i < B * T * H; i++)
        Lf += q.wo[i] * out[i];
    RecurrentStep last = lstm ? lstm_step(ml, T - 1) : rnn_step(mr, T - 1);
    for (int i = 0; i < B * H; i++) {
        Lf += q.wh[i] * last.h[i];
        if (lstm)
            Lf += q.wc[i] * last.c[i];
    }
    out_err = fabs(Lf - loss(&q));
    assert_true(out_err < 1e-4);
    assert_non_null(last.dh);

    check("params", q.p, grads, q.np, &q);
    check("x", q.x, dx, B * T * I, &q);
    check("h0", q.h0, dh0, B * H, &q);
    if (lstm)
        check("c0", q.c0, dc0, B * H, &q);
    lstm_destroy(ml);
    rnn_destroy(mr);
    free(q.p);
}

static void test_lstm(void **state)
{
    (void)state;
    for (uint64_t s = 1; s <= 3; s++)
        run(true, RNN_TANH, s);
}

static void test_rnn(void **state)
{
    (void)state;
    for (uint64_t s = 1; s <= 3; s++) {
        run(false, RNN_TANH, s);
        run(false, RNN_RELU, s);
        run(false, RNN_SIGMOID, s);
        run(false, RNN_LINEAR, s);
    }
}

// The per-step view: dh at the last step equals dout + dh_n there, and
// steps are laid out (B, H) contiguous.
static void test_step_view(void **state)
{
    (void)state;
    Lstm *m = lstm_create(2, 5);
    Pcg r;
    pcg_seed(&r, 9);
    lstm_init_uniform(m, &r);
    float x[3 * 7 * 2];
    for (int i = 0; i < 3 * 7 * 2; i++)
        x[i] = pcg_uniform(&r);
    assert_true(lstm_forward(m, x, NULL, NULL, 3, 7));
    RecurrentStep s = lstm_step(m, 6);
    assert_null(s.dh);
    assert_int_equal(s.B, 3);
    assert_int_equal(s.ngates, 4);
    float ones[3 * 5];
    for (int i = 0; i < 15; i++)
        ones[i] = 1.0f;
    lstm_zero_grad(m);
    lstm_backward(m, NULL, ones, NULL);
    s = lstm_step(m, 6);
    for (int i = 0; i < 15; i++) {
        assert_true(s.dh[i] == 1.0f);
        // h = o * tanh(c)
        float o = s.gates[(i / 5) * 20 + 15 + i % 5];
        assert_true(fabsf(s.h[i] - o * tanhf(s.c[i])) < 1e-6f);
    }
    lstm_destroy(m);
}

// One-hot tokens give exactly what the dense one-hot input gives, forward
// and backward (except dx, which tokens do not have).
static void test_rnn_tokens(void **state)
{
    (void)state;
    enum { V = 7, HH = 5, BB = 2, TT = 6 };
    Rnn *a = rnn_create(V, HH, RNN_TANH), *b = rnn_create(V, HH, RNN_TANH);
    Pcg r;
    pcg_seed(&r, 11);
    rnn_init_uniform(a, &r);
    memcpy(b->params, a->params, a->nparams * sizeof(float));
    int tok[BB * TT];
    float x[BB * TT * V] = {0}, dout[BB * TT * HH];
    for (int i = 0; i < BB * TT; i++) {
        tok[i] = (int)pcg_below(&r, V);
        x[i * V + tok[i]] = 1.0f;
    }
    for (int i = 0; i < BB * TT * HH; i++)
        dout[i] = pcg_uniform(&r) - 0.5f;
    assert_true(rnn_forward(a, x, NULL, BB, TT));
    assert_true(rnn_forward_tokens(b, tok, NULL, BB, TT));
    for (int i = 0; i < BB * TT * HH; i++)
        assert_true(fabsf(a->h[i] - b->h[i]) < 1e-6f);
    rnn_zero_grad(a);
    rnn_zero_grad(b);
    rnn_backward(a, dout, NULL);
    rnn_backward(b, dout, NULL);
    for (size_t i = 0; i < a->nparams; i++)
        assert_true(fabsf(a->grads[i] - b->grads[i]) < 1e-5f);
    rnn_destroy(a);
    rnn_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rnn_tokens),
        cmocka_unit_test(test_lstm),
        cmocka_unit_test(test_rnn),
        cmocka_unit_test(test_step_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
