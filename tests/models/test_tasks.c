// test_tasks.c: the training tasks built on the models: the adding
// problem's data and trainer, the character RNN, the bptt norms, and the
// limits both check before a run (memory and work).
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/adding.h"
#include "models/bptt.h"
#include "models/charrnn.h"

static void test_adding_batch(void **state)
{
    (void)state;
    enum { B = 50, T = 17 };
    float x[B * T * 2], y[B];
    Pcg r;
    pcg_seed(&r, 4);
    adding_batch(&r, B, T, x, y);
    for (int b = 0; b < B; b++) {
        int first = -1, second = -1, n = 0;
        float sum = 0.0f;
        for (int t = 0; t < T; t++) {
            float v = x[(b * T + t) * 2], m = x[(b * T + t) * 2 + 1];
            assert_true(v >= 0.0f && v < 1.0f);
            assert_true(m == 0.0f || m == 1.0f);
            if (m == 1.0f) {
                n++;
                sum += v;
                if (first < 0)
                    first = t;
                else
                    second = t;
            }
        }
        assert_int_equal(n, 2);
        assert_true(first < T / 2 && second >= T / 2);
        assert_true(y[b] == sum);
    }
}

// Two trainers from one seed take bit-identical steps.
static void test_adding_reproducible(void **state)
{
    (void)state;
    for (int model = 0; model < ADDING_MODEL_COUNT; model++) {
        AddingConfig c = adding_defaults((AddingModel)model);
        c.T = 12;
        c.hidden = 8;
        c.batch = 5;
        c.seed = 9;
        c.test_size = 20;
        AddingTrainer *a = adding_create(&c), *b = adding_create(&c);
        assert_non_null(a);
        assert_non_null(b);
        for (int s = 0; s < 20; s++)
            assert_true(adding_step(a) == adding_step(b));
        assert_true(adding_test_mse(a) == adding_test_mse(b));
        float *pa = a->lstm ? a->lstm->params : a->rnn->params;
        float *pb = b->lstm ? b->lstm->params : b->rnn->params;
        size_t n = a->lstm ? a->lstm->nparams : a->rnn->nparams;
        assert_memory_equal(pa, pb, n * sizeof(float));
        adding_destroy(a);
        adding_destroy(b);
    }
    adding_destroy(NULL);
    // Sizes beyond the limits give NULL, not a crash.
    AddingConfig c = adding_defaults(ADDING_LSTM);
    c.hidden = 100000;
    assert_null(adding_create(&c));
}

// A short LSTM run on a short sequence learns: the MSE falls well below the
// baseline of 1/6.
static void test_adding_learns(void **state)
{
    (void)state;
    AddingConfig c = adding_defaults(ADDING_LSTM);
    c.T = 10;
    c.hidden = 16;
    c.steps = 800;
    c.test_size = 256;
    AddingTrainer *tr = adding_create(&c);
    for (int s = 0; s < c.steps; s++)
        adding_step(tr);
    assert_true(adding_test_mse(tr) < 0.05);
    adding_destroy(tr);
}

static void test_charrnn(void **state)
{
    (void)state;
    static const char text[] = "hello world, hello gradlab. hello world, hello gradlab. ";
    size_t len = strlen(text);
    CharRnn *m = charrnn_create((const unsigned char *)text, len, 32, 10, 0.1f, 5.0f, 1);
    assert_non_null(m);
    assert_int_equal(m->V, 13);   // " ,.abdeghlorw"
    double first = 0.0, last = 0.0;
    for (int i = 0; i < 600; i++) {
        double loss = charrnn_step(m);
        if (i < 5)
            first += loss;
        if (i >= 595)
            last += loss;
    }
    // The text repeats: the loss falls far below the uniform guess.
    assert_true(first / 5 > 10 * log(13.0) * 0.8);
    assert_true(last < first / 4);
    charrnn_destroy(m);
    charrnn_destroy(NULL);
    assert_null(charrnn_create((const unsigned char *)"ab", 2, 8, 10, 0.1f, 5.0f, 1));
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double d = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        d = e > d || e != e ? e : d;
    }
    return d;
}

// Copy the trained state (weights, Adagrad sums, hidden state) of src into dst.
static void charrnn_copy_state(CharRnn *dst, const CharRnn *src)
{
    size_t nhead = (size_t)src->V * src->H + (size_t)src->V;
    memcpy(dst->rnn->params, src->rnn->params, src->rnn->nparams * sizeof(float));
    memcpy(dst->head, src->head, nhead * sizeof(float));
    memcpy(dst->opt_rnn->m, src->opt_rnn->m, src->rnn->nparams * sizeof(float));
    memcpy(dst->opt_head->m, src->opt_head->m, nhead * sizeof(float));
    memcpy(dst->hprev, src->hprev, (size_t)src->H * sizeof(float));
}

static double max_abs(const float *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fabs((double)a[i]) > m ? fabs((double)a[i]) : m;
    return m;
}

// Adagrad with eps = 1e-8 turns a gradient near 1e-8 into a step of about
// lr whatever its rounding, so two runs that round differently drift apart
// over many steps. The two paths are therefore compared one step at a time
// from the same state: the loss, every (clipped) gradient and the new hidden
// state; then the fused update is checked against optim.c's formula on the
// fused gradients, and the generic model takes the fused model's state.
static void check_step_update(const float *p0, const float *m0, const float *p, const float *m,
                              const float *g, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        float mm = m0[i] + g[i] * g[i];
        float pp = p0[i] - 0.1f * (g[i] / (sqrtf(mm) + 1e-8f));
        double e = fabs((double)pp - p[i]) + fabs((double)mm - m[i]) / (1.0 + fabs((double)mm));
        worst = e > worst ? e : worst;
        assert_true(fabs((double)g[i]) <= 5.0);
    }
    assert_true(worst < 1e-6);
}

// The fused loop (AVX-512, or AVX2 + FMA where AVX-512 is missing) against
// the generic path (rnn.c, gemm, optim.c) over many training steps. Once
// Adagrad has grown W_hh the recurrence amplifies float rounding over the T
// steps, in both paths alike, so the gradients may differ by a few 1e-5 of
// their scale; test_charrnn_fused.c measures each path against a
// double-precision reference. Shapes cover min-char-rnn's, a hidden size that
// fills whole vectors, tiny ones, and a vocabulary over 128.
static void test_charrnn_fused(void **state)
{
    (void)state;
    static const struct { int H, T, nchars; } shapes[] = {
        {100, 25, 71}, {32, 10, 13}, {128, 7, 200}, {5, 3, 4}, {17, 1, 30},
    };
    enum { LEN = 700, STEPS = 60 };
    unsigned char text[LEN];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        Pcg r;
        pcg_seed(&r, 11 + k);
        for (int i = 0; i < LEN; i++)   // some bytes repeat, so there is something to learn
            text[i] = (unsigned char)(i % 7 == 3 ? text[i - 3]
                                                 : 32 + (int)pcg_below(&r, (uint32_t)shapes[k].nchars));
        CharRnn *f = charrnn_create(text, LEN, shapes[k].H, shapes[k].T, 0.1f, 5.0f, 7);
        CharRnn *g = charrnn_create(text, LEN, shapes[k].H, shapes[k].T, 0.1f, 5.0f, 7);
        assert_non_null(f);
        assert_non_null(g);
        if (!f->fused) { // never compare a path with itself: skip, and say why
            charrnn_destroy(f);
            charrnn_destroy(g);
            print_message("skipped: the charrnn fused loop cannot run here "
                          "(it needs AVX-512, or AVX2 and FMA, and H <= 128)\n");
            skip();
        }
        g->fused = false;
        const int H = f->H;
        size_t nrnn = f->rnn->nparams, nhead = (size_t)f->V * H + (size_t)f->V;
        float *saved = malloc(2 * (nrnn + nhead) * sizeof(float));
        assert_non_null(saved);
        float *p0 = saved, *m0 = saved + nrnn, *q0 = m0 + nrnn, *n0 = q0 + nhead;
        double worst_loss = 0.0, worst_grad = 0.0, worst_h = 0.0;
        for (int s = 0; s < STEPS; s++) {
            memcpy(p0, f->rnn->params, nrnn * sizeof(float));
            memcpy(m0, f->opt_rnn->m, nrnn * sizeof(float));
            memcpy(q0, f->head, nhead * sizeof(float));
            memcpy(n0, f->opt_head->m, nhead * sizeof(float));
            double lf = charrnn_step(f), lg = charrnn_step(g);
            assert_true(isfinite(lf) && isfinite(lg));
            double e = fabs(lf - lg) / fabs(lg);
            worst_loss = e > worst_loss ? e : worst_loss;
            double scale = 1.0 + max_abs(g->rnn->grads, nrnn) + max_abs(g->head_grad, nhead);
            e = (max_abs_diff(f->rnn->grads, g->rnn->grads, nrnn) +
                 max_abs_diff(f->head_grad, g->head_grad, nhead)) / scale;
            worst_grad = e > worst_grad ? e : worst_grad;
            e = max_abs_diff(f->hprev, g->hprev, (size_t)H);
            worst_h = e > worst_h ? e : worst_h;
            check_step_update(p0, m0, f->rnn->params, f->opt_rnn->m, f->rnn->grads, nrnn);
            check_step_update(q0, n0, f->head, f->opt_head->m, f->head_grad, nhead);
            // One hidden bias, as in min-char-rnn: b_hh never moves from zero.
            for (int j = 0; j < H; j++)
                assert_true(f->rnn->p.b_hh[j] == 0.0f && g->rnn->p.b_hh[j] == 0.0f);
            charrnn_copy_state(g, f);
        }
        print_message("charrnn fused (%s) vs generic, H %d T %d V %d, %d steps: loss %.1e, "
                      "gradients %.1e, h %.1e\n", f->fused_avx512 ? "avx512" : "avx2", H, f->T,
                      f->V, STEPS, worst_loss, worst_grad,
                      worst_h);
        assert_true(worst_loss < 1e-5);
        assert_true(worst_grad < 5e-5);
        assert_true(worst_h < 2e-5);
        free(saved);
        charrnn_destroy(f);
        charrnn_destroy(g);
    }
}

static void test_bptt(void **state)
{
    (void)state;
    double norms[40];
    BpttConfig c = {.lstm = false, .act = RNN_LINEAR, .init = BPTT_ORTHOGONAL, .scale = 0.9f,
                    .T = 40, .H = 16, .seed = 3};
    assert_true(bptt_grad_norms(&c, norms));
    // Linear and orthogonal times 0.9: each step back multiplies by 0.9.
    assert_true(fabs(norms[39] - 4.0) < 1e-5);
    for (int t = 0; t < 39; t++)
        assert_true(fabs(norms[t] / norms[t + 1] - 0.9) < 1e-4);
    c.lstm = true;
    c.act = RNN_TANH;
    assert_true(bptt_grad_norms(&c, norms));
    for (int t = 0; t < 40; t++)
        assert_true(isfinite(norms[t]) && norms[t] >= 0.0);
}

// The limits: the defaults fit, one past each boundary does not, and the
// message names the limit and what fits.
static void test_limits(void **state)
{
    (void)state;
    char err[300];
    AddingConfig a = adding_defaults(ADDING_LSTM);
    assert_true(adding_check(&a, err, sizeof err));
    assert_true(fabs(adding_work(&a) - 4.1e11) < 0.01e11);   // the figure in the help
    assert_true(adding_work(&a) <= ADDING_MAX_WORK);
    a.T = 133;
    assert_true(adding_check(&a, err, sizeof err));
    a.T = 134;
    assert_false(adding_check(&a, err, sizeof err));
    assert_non_null(strstr(err, "549755813888 (2^39"));
    assert_non_null(strstr(err, "--T 133 or less"));
    a.T = 100000;
    assert_false(adding_check(&a, err, sizeof err));
    assert_non_null(strstr(err, "needs more than 512 MB; use --T 133 or less"));
    a = adding_defaults(ADDING_RNN);
    a.T = 524;
    assert_true(adding_check(&a, err, sizeof err));
    a.T = 525;
    assert_false(adding_check(&a, err, sizeof err));
    a = adding_defaults(ADDING_LSTM);
    a.steps = ADDING_MAX_STEPS + 1;
    assert_false(adding_check(&a, err, sizeof err));
    // The work grows with every size and with the steps.
    AddingConfig b = adding_defaults(ADDING_LSTM);
    double w0 = adding_work(&b);
    b.steps++;
    assert_true(adding_work(&b) > w0);
    b.hidden++;
    assert_true(adding_work(&b) > w0);

    BpttConfig c = {.lstm = false, .act = RNN_TANH, .init = BPTT_ORTHOGONAL, .scale = 1.0f,
                    .T = 85, .H = 4096, .seed = 1};
    assert_true(bptt_check(&c, err, sizeof err));
    assert_true(bptt_work(&c) <= BPTT_MAX_WORK);
    c.T = 86;
    assert_false(bptt_check(&c, err, sizeof err));
    assert_non_null(strstr(err, "4294967296 (2^32"));
    assert_non_null(strstr(err, "use --T 85 or less"));
    c.lstm = true;
    c.T = 1;
    assert_false(bptt_check(&c, err, sizeof err));
    assert_non_null(strstr(err, "the lstm's --hidden is at most 2892"));
    c.H = 2892;
    assert_true(bptt_check(&c, err, sizeof err));
    c.H = 64;
    c.T = 82241;
    assert_true(bptt_check(&c, err, sizeof err));
    c.T = 82242;
    assert_false(bptt_check(&c, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adding_batch),
        cmocka_unit_test(test_adding_reproducible),
        cmocka_unit_test(test_adding_learns),
        cmocka_unit_test(test_charrnn),
        cmocka_unit_test(test_charrnn_fused),
        cmocka_unit_test(test_bptt),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
