// test_charrnn_fused.c: the char-RNN's two implementations of one iteration
// (charrnn_step.h), the fused AVX-512 loop against the generic path
// (rnn.c, gemm, optim.c), step by step from the same state.
//
// Where the fused loop cannot run (no AVX-512, another architecture, a
// -Dsimd=portable build) the comparison is skipped with the reason: it never
// compares a path with itself.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/charrnn.h"
#include "models/charrnn_step.h"
#include "models/rng.h"

// Why the fused loop cannot run here for H hidden units.
static const char *unavailable_reason(int H)
{
#if defined(GRADLAB_SIMD_PORTABLE)
    (void)H;
    return "built with -Dsimd=portable";
#elif !defined(__x86_64__)
    (void)H;
    return "not an x86-64 machine";
#else
    if (H > 128)
        return "H > 128";
    return "this CPU has no AVX-512F/VL";
#endif
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

static double max_abs(const float *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fabs((double)a[i]) > m ? fabs((double)a[i]) : m;
    return m;
}

// Copy the trained state (weights, Adagrad sums, hidden state) of src into dst.
static void copy_state(CharRnn *dst, const CharRnn *src)
{
    size_t nhead = (size_t)src->V * src->H + (size_t)src->V;
    memcpy(dst->rnn->params, src->rnn->params, src->rnn->nparams * sizeof(float));
    memcpy(dst->head, src->head, nhead * sizeof(float));
    memcpy(dst->opt_rnn->m, src->opt_rnn->m, src->rnn->nparams * sizeof(float));
    memcpy(dst->opt_head->m, src->opt_head->m, nhead * sizeof(float));
    memcpy(dst->hprev, src->hprev, (size_t)src->H * sizeof(float));
}

// The fused update against optim.c's Adagrad formula on the fused (clipped)
// gradients: Adagrad with eps = 1e-8 turns a gradient near 1e-8 into a step
// of about lr whatever its rounding, so the two paths are compared one step
// at a time from the same state rather than over a run.
static void check_update(const float *p0, const float *m0, const float *p, const float *m,
                         const float *g, size_t n, float clip)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        float mm = m0[i] + g[i] * g[i];
        float pp = p0[i] - 0.1f * (g[i] / (sqrtf(mm) + 1e-8f));
        double e = fabs((double)pp - p[i]) + fabs((double)mm - m[i]) / (1.0 + fabs((double)mm));
        worst = e > worst ? e : worst;
        assert_true(fabs((double)g[i]) <= clip);
    }
    assert_true(worst < 1e-6);
}

// Shapes: min-char-rnn's, a hidden size of whole vectors, tiny ones, a
// vocabulary over 128.
static const struct { int H, T, nchars; } shapes[] = {
    {100, 25, 71}, {32, 10, 13}, {128, 7, 200}, {5, 3, 4}, {17, 1, 30},
};

static void test_fused_vs_generic(void **state)
{
    (void)state;
    if (!charrnn_avx512_available(100)) {
        print_message("skipped: the fused AVX-512 loop cannot run here (%s); "
                      "only the generic path can\n", unavailable_reason(100));
        skip();
    }
    enum { LEN = 700, STEPS = 60 };
    unsigned char text[LEN];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        Pcg r;
        pcg_seed(&r, 11 + k);
        for (int i = 0; i < LEN; i++)
            text[i] = (unsigned char)(32 + (int)pcg_below(&r, (uint32_t)shapes[k].nchars));
        CharRnn *f = charrnn_create(text, LEN, shapes[k].H, shapes[k].T, 0.1f, 5.0f, 7);
        CharRnn *g = charrnn_create(text, LEN, shapes[k].H, shapes[k].T, 0.1f, 5.0f, 7);
        assert_non_null(f);
        assert_non_null(g);
        assert_true(f->fused && f->work != NULL);   // two different paths, always
        const int H = f->H, V = f->V, T = f->T;
        size_t nrnn = f->rnn->nparams, nhead = (size_t)V * H + (size_t)V;
        float *saved = malloc(2 * (nrnn + nhead) * sizeof(float));
        assert_non_null(saved);
        float *p0 = saved, *m0 = saved + nrnn, *q0 = m0 + nrnn, *n0 = q0 + nhead;
        double worst_loss = 0.0, worst_grad = 0.0, worst_h = 0.0;
        for (int s = 0; s < STEPS; s++) {
            // The same characters for both (a stream with repeats, so there is
            // something to learn), from the same hidden state.
            for (int t = 0; t < T; t++) {
                int c = (int)pcg_below(&r, (uint32_t)V);
                f->inputs[t] = g->inputs[t] = t % 5 == 3 ? f->inputs[t - 3] : c;
                f->targets[t] = g->targets[t] = (c * 7 + 3) % V;
            }
            memcpy(p0, f->rnn->params, nrnn * sizeof(float));
            memcpy(m0, f->opt_rnn->m, nrnn * sizeof(float));
            memcpy(q0, f->head, nhead * sizeof(float));
            memcpy(n0, f->opt_head->m, nhead * sizeof(float));
            double lf = charrnn_step_avx512(f), lg = charrnn_step_generic(g);
            assert_true(isfinite(lf) && isfinite(lg));
            double e = fabs(lf - lg) / fabs(lg);
            worst_loss = e > worst_loss ? e : worst_loss;
            double scale = 1.0 + max_abs(g->rnn->grads, nrnn) + max_abs(g->head_grad, nhead);
            e = (max_abs_diff(f->rnn->grads, g->rnn->grads, nrnn) +
                 max_abs_diff(f->head_grad, g->head_grad, nhead)) / scale;
            worst_grad = e > worst_grad ? e : worst_grad;
            e = max_abs_diff(f->hprev, g->hprev, (size_t)H);
            worst_h = e > worst_h ? e : worst_h;
            check_update(p0, m0, f->rnn->params, f->opt_rnn->m, f->rnn->grads, nrnn, f->clip);
            check_update(q0, n0, f->head, f->opt_head->m, f->head_grad, nhead, f->clip);
            for (int j = 0; j < H; j++)   // one hidden bias, as in min-char-rnn
                assert_true(f->rnn->p.b_hh[j] == 0.0f && g->rnn->p.b_hh[j] == 0.0f);
            copy_state(g, f);
        }
        print_message("charrnn fused (avx512) vs generic, H %d T %d V %d, %d steps: "
                      "loss %.1e, gradients %.1e, h %.1e\n", H, T, V, STEPS, worst_loss,
                      worst_grad, worst_h);
        assert_true(worst_loss < 1e-5);
        assert_true(worst_grad < 1e-5);
        assert_true(worst_h < 1e-5);
        free(saved);
        charrnn_destroy(f);
        charrnn_destroy(g);
    }
}

// Runs everywhere: a size the fused loop does not take is never given to
// it, and calling it anyway changes nothing.
static void test_fused_refuses(void **state)
{
    (void)state;
    static const unsigned char text[] = "abcabcabdabcabcabdabcabcabd";
    CharRnn *m = charrnn_create(text, sizeof text - 1, 130, 5, 0.1f, 5.0f, 1);
    assert_non_null(m);
    assert_false(charrnn_avx512_available(130));
    assert_false(m->fused);
    float w = m->rnn->p.w_hh[0];
    assert_true(isnan(charrnn_step_avx512(m)));
    assert_true(m->rnn->p.w_hh[0] == w);
    assert_true(isfinite(charrnn_step(m)));   // the generic path
    charrnn_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_vs_generic),
        cmocka_unit_test(test_fused_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
