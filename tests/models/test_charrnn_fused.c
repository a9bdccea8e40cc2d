// test_charrnn_fused.c: the char-RNN's implementations of one iteration
// (charrnn_step.h), each fused loop (AVX-512, charrnn_avx512.c; AVX2 + FMA,
// charrnn_avx2.c) against the generic path (rnn.c, gemm, optim.c), step by
// step from the same state.
//
// Where a fused loop cannot run (no AVX-512 or no AVX2, another
// architecture, a -Dsimd=portable build) its comparison is skipped with the
// reason: it never compares a path with itself.
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/charrnn.h"
#include "models/charrnn_step.h"
#include "models/rng.h"

// The fused loops under test.
typedef struct {
    const char *name;
    bool (*available)(int H);
    double (*step)(CharRnn *m);
    const char *cpu_lacks;   // what a CPU that cannot run it lacks
} Kernel;

static const Kernel kernels[] = {
    {"avx512", charrnn_avx512_available, charrnn_step_avx512, "AVX-512F/VL"},
    {"avx2", charrnn_avx2_available, charrnn_step_avx2, "AVX2 and FMA"},
};

// Why kernel k cannot run here for H hidden units.
static const char *unavailable_reason(const Kernel *k, int H)
{
#if defined(GRADLAB_SIMD_PORTABLE)
    (void)k;
    (void)H;
    return "built with -Dsimd=portable";
#elif !defined(__x86_64__)
    (void)k;
    (void)H;
    return "not an x86-64 machine";
#else
    static char buf[64];
    if (H > 128)
        return "H > 128";
    snprintf(buf, sizeof buf, "this CPU has no %s", k->cpu_lacks);
    return buf;
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

// The clipped gradients of one iteration from m's state (before its step),
// in double precision: rg like m->rnn->grads, hg like m->head_grad, and h_T
// in hT (H). The
// recurrence is expansive once Adagrad has grown W_hh (its first steps move
// every weight by about lr), so float rounding in either path is amplified
// over the T steps: the paths are each measured against this reference.
static void reference_grads(const CharRnn *m, double *rg, double *hg, double *hT)
{
    const int V = m->V, H = m->H, T = m->T;
    const Rnn *r = m->rnn;
    const float *wxh = r->p.w_ih, *whh = r->p.w_hh, *why = m->head, *by = m->head + (size_t)V * H;
    double *hs = calloc((size_t)(T + 1) * H, sizeof(double));
    double *dz = calloc((size_t)T * V, sizeof(double));
    double *dnext = calloc((size_t)H * 2, sizeof(double)), *dr = dnext + H;
    assert_true(hs && dz && dnext);
    for (int j = 0; j < H; j++)
        hs[j] = m->hprev[j];
    for (int t = 0; t < T; t++)
        for (int j = 0; j < H; j++) {
            double a = (double)wxh[(size_t)j * V + m->inputs[t]] + r->p.b_ih[j] + r->p.b_hh[j];
            for (int k = 0; k < H; k++)
                a += (double)whh[(size_t)j * H + k] * hs[(size_t)t * H + k];
            hs[(size_t)(t + 1) * H + j] = tanh(a);
        }
    for (int t = 0; t < T; t++) {
        double *z = dz + (size_t)t * V, mx = -INFINITY, sum = 0.0;
        for (int v = 0; v < V; v++) {
            z[v] = by[v];
            for (int j = 0; j < H; j++)
                z[v] += (double)why[(size_t)v * H + j] * hs[(size_t)(t + 1) * H + j];
            mx = z[v] > mx ? z[v] : mx;
        }
        for (int v = 0; v < V; v++)
            sum += (z[v] = exp(z[v] - mx));
        for (int v = 0; v < V; v++)
            z[v] /= sum;
        z[m->targets[t]] -= 1.0;
    }
    memset(rg, 0, r->nparams * sizeof(double));
    memset(hg, 0, ((size_t)V * H + V) * sizeof(double));
    size_t o_ih = (size_t)(r->p.w_ih - r->params), o_hh = (size_t)(r->p.w_hh - r->params);
    size_t o_b = (size_t)(r->p.b_ih - r->params);
    for (int t = T - 1; t >= 0; t--) {
        const double *z = dz + (size_t)t * V, *h = hs + (size_t)(t + 1) * H, *hp = h - H;
        for (int v = 0; v < V; v++) {
            hg[(size_t)V * H + v] += z[v];
            for (int j = 0; j < H; j++)
                hg[(size_t)v * H + j] += z[v] * h[j];
        }
        for (int j = 0; j < H; j++) {
            double d = dnext[j];
            for (int v = 0; v < V; v++)
                d += z[v] * (double)why[(size_t)v * H + j];
            dr[j] = d * (1.0 - h[j] * h[j]);
            rg[o_b + j] += dr[j];
            rg[o_ih + (size_t)j * V + m->inputs[t]] += dr[j];
            for (int k = 0; k < H; k++)
                rg[o_hh + (size_t)j * H + k] += dr[j] * hp[k];
        }
        for (int k = 0; k < H; k++) {
            dnext[k] = 0.0;
            for (int j = 0; j < H; j++)
                dnext[k] += dr[j] * (double)whh[(size_t)j * H + k];
        }
    }
    memcpy(hT, hs + (size_t)T * H, (size_t)H * sizeof(double));
    double c = m->clip;
    for (size_t i = 0; i < r->nparams; i++)
        rg[i] = rg[i] > c ? c : rg[i] < -c ? -c : rg[i];
    for (size_t i = 0; i < (size_t)V * H + V; i++)
        hg[i] = hg[i] > c ? c : hg[i] < -c ? -c : hg[i];
    free(hs);
    free(dz);
    free(dnext);
}

// max |a - ref| over n.
static double max_diff_ref(const float *a, const double *ref, size_t n)
{
    double d = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - ref[i]);
        d = e > d || e != e ? e : d;
    }
    return d;
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

static void fused_vs_generic(const Kernel *kern)
{
    if (!kern->available(100)) {
        print_message("skipped: the fused %s loop cannot run here (%s); "
                      "only the generic path can\n", kern->name, unavailable_reason(kern, 100));
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
        double *rg = malloc((nrnn + nhead + (size_t)H) * sizeof(double)), *hg = rg + nrnn;
        double *hT = hg + nhead;
        assert_non_null(rg);
        double worst_loss = 0.0, worst_grad = 0.0, worst_h = 0.0, worst_f = 0.0, worst_g = 0.0;
        double sum_f = 0.0, sum_g = 0.0;
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
            reference_grads(g, rg, hg, hT);
            double lf = kern->step(f), lg = charrnn_step_generic(g);
            assert_true(isfinite(lf) && isfinite(lg));
            double e = fabs(lf - lg) / fabs(lg);
            worst_loss = e > worst_loss ? e : worst_loss;
            double scale = 1.0 + max_abs(g->rnn->grads, nrnn) + max_abs(g->head_grad, nhead);
            e = (max_abs_diff(f->rnn->grads, g->rnn->grads, nrnn) +
                 max_abs_diff(f->head_grad, g->head_grad, nhead)) / scale;
            worst_grad = e > worst_grad ? e : worst_grad;
            // Each path against the double-precision reference: the fused
            // one may not be much further from it than the generic one.
            double ef = (max_diff_ref(f->rnn->grads, rg, nrnn) +
                         max_diff_ref(f->head_grad, hg, nhead)) / scale;
            double eg = (max_diff_ref(g->rnn->grads, rg, nrnn) +
                         max_diff_ref(g->head_grad, hg, nhead)) / scale;
            worst_f = ef > worst_f ? ef : worst_f;
            worst_g = eg > worst_g ? eg : worst_g;
            sum_f += ef;
            sum_g += eg;
            e = max_abs_diff(f->hprev, g->hprev, (size_t)H);
            worst_h = e > worst_h ? e : worst_h;
            e = max_diff_ref(f->hprev, hT, (size_t)H);
            worst_h = e > worst_h ? e : worst_h;
            check_update(p0, m0, f->rnn->params, f->opt_rnn->m, f->rnn->grads, nrnn, f->clip);
            check_update(q0, n0, f->head, f->opt_head->m, f->head_grad, nhead, f->clip);
            for (int j = 0; j < H; j++)   // one hidden bias, as in min-char-rnn
                assert_true(f->rnn->p.b_hh[j] == 0.0f && g->rnn->p.b_hh[j] == 0.0f);
            copy_state(g, f);
        }
        print_message("charrnn fused (%s) vs generic, H %d T %d V %d, %d steps: "
                      "loss %.1e, gradients %.1e, h %.1e; gradients against double precision: "
                      "fused %.1e (mean %.1e), generic %.1e (mean %.1e)\n", kern->name, H, T, V,
                      STEPS, worst_loss, worst_grad, worst_h, worst_f, sum_f / STEPS, worst_g,
                      sum_g / STEPS);
        // Float rounding is amplified over the T steps once W_hh has grown
        // (and 1 - h^2 of a saturated unit keeps few bits), for both paths
        // alike: the bounds leave room for that, and on average the fused
        // path must be about as close to the reference as the generic one.
        assert_true(worst_loss < 1e-5);
        assert_true(worst_grad < 5e-5);
        assert_true(worst_h < 2e-5);
        assert_true(worst_f < 5e-5);
        assert_true(worst_g < 5e-5);
        assert_true(sum_f <= 3.0 * sum_g + 1e-7 * STEPS);
        free(rg);
        free(saved);
        charrnn_destroy(f);
        charrnn_destroy(g);
    }
}

static void test_avx512_vs_generic(void **state)
{
    (void)state;
    fused_vs_generic(&kernels[0]);
}

static void test_avx2_vs_generic(void **state)
{
    (void)state;
    fused_vs_generic(&kernels[1]);
}

// charrnn_step takes the AVX-512 loop where it runs, else the AVX2 one,
// else the generic path.
static void test_selection(void **state)
{
    (void)state;
    static const unsigned char text[] = "abcabcabdabcabcabdabcabcabd";
    CharRnn *m = charrnn_create(text, sizeof text - 1, 100, 5, 0.1f, 5.0f, 1);
    assert_non_null(m);
    bool a512 = charrnn_avx512_available(100), a2 = charrnn_avx2_available(100);
    assert_true(m->fused == (a512 || a2));
    assert_true(m->fused_avx512 == a512);
    print_message("charrnn_step here takes the %s path\n",
                  a512 ? "fused avx512" : a2 ? "fused avx2" : "generic");
    assert_true(isfinite(charrnn_step(m)));
    charrnn_destroy(m);
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
    assert_false(charrnn_avx2_available(130));
    assert_false(m->fused);
    float w = m->rnn->p.w_hh[0];
    assert_true(isnan(charrnn_step_avx512(m)));
    assert_true(isnan(charrnn_step_avx2(m)));
    assert_true(m->rnn->p.w_hh[0] == w);
    assert_true(isfinite(charrnn_step(m)));   // the generic path
    charrnn_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avx512_vs_generic),
        cmocka_unit_test(test_avx2_vs_generic),
        cmocka_unit_test(test_selection),
        cmocka_unit_test(test_fused_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
