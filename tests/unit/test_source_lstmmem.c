// test_source_lstmmem.c: the memory task's probe (models/memtask.h) and the
// `lstmmem` source kind (lesson 8). Without clamps the probe's reference
// forward and backward agree with lstm_forward and lstm_backward; with
// clamps its gradients agree with central differences of its own loss (a
// clamped gate is a constant); clamps mean what they say (input held at 0
// keeps the cell empty, forget held at 0 wipes it at that step only); the
// source's state depends on its step count only, however the steps are
// taken and whether its cache of trainer states is used; bad options are
// refused with a reason, and so are lstmcell and lstmtime panels that
// name no source or param.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/run.h"
#include "lessons/source_kinds.h"
#include "models/memtask.h"

#define HEAD "gradlab-lesson: 2\ntitle: T\n"
#define TAIL "program:\n    a = 1\n    f = a * 2\n\nstep: intro\n"

// A trainer of T steps and H units after `steps` training steps, and a probe sequence for it.
static MemTrainer *trained(int T, int H, int steps, float *x, float *target)
{
    MemConfig c = mem_defaults();
    c.T = T, c.hidden = H;
    MemTrainer *tr = mem_create(&c);
    assert_non_null(tr);
    for (int s = 0; s < steps; s++)
        mem_step(tr);
    Pcg rng;
    pcg_seed(&rng, 5);
    mem_batch(&rng, 1, T, x, target, NULL);
    return tr;
}

static void test_probe_matches_model(void **state)
{
    (void)state;
    const int T = 12, H = 8;
    float x[2 * 12], target;
    MemTrainer *tr = trained(T, H, 60, x, &target);
    MemProbe *p = mem_probe_create(T, 2, H);
    assert_non_null(p);
    mem_probe_run(tr->lstm, tr->head, x, target, NULL, p);
    Lstm *m = tr->lstm;
    float dh[8];
    for (int j = 0; j < H; j++)
        dh[j] = (float)(2 * (p->y - target) * tr->head[j]);
    assert_true(lstm_forward(m, x, NULL, NULL, 1, T));
    lstm_zero_grad(m);
    lstm_backward(m, NULL, dh, NULL);
    double worst = 0;
    for (int t = 0; t < T; t++) {
        RecurrentStep st = lstm_step(m, t);
        for (int j = 0; j < 4 * H; j++)
            worst = fmax(worst, fabs(p->gates[t * 4 * H + j] - st.gates[j]));
        for (int j = 0; j < H; j++) {
            worst = fmax(worst, fabs(p->c[t * H + j] - st.c[j]));
            worst = fmax(worst, fabs(p->h[t * H + j] - st.h[j]));
            worst = fmax(worst, fabs(p->dc[t * H + j] - st.dc[j]));
            worst = fmax(worst, fabs(p->dh[t * H + j] - st.dh[j]));
        }
    }
    for (size_t k = 0; k < m->nparams; k++)
        worst = fmax(worst, fabs(p->dparams[k] - m->grads[k]));
    if (worst > 1e-5)
        fail_msg("probe and model differ by %g", worst);
    mem_probe_destroy(p);
    mem_destroy(tr);
}

// Central differences of the clamped probe's loss against its backward, for
// every LSTM parameter and the read-out.
static void check_fd(const MemClamp *clamps)
{
    const int T = 10, H = 4;
    float x[2 * 10], target;
    MemTrainer *tr = trained(T, H, 30, x, &target);
    MemProbe *p = mem_probe_create(T, 2, H), *q = mem_probe_create(T, 2, H);
    assert_non_null(p);
    assert_non_null(q);
    mem_probe_run(tr->lstm, tr->head, x, target, clamps, p);
    double worst = 0;
    float *w = tr->lstm->params;
    for (size_t k = 0; k < tr->lstm->nparams + (size_t)H + 1; k++) {
        float *v = k < tr->lstm->nparams ? &w[k] : &tr->head[k - tr->lstm->nparams];
        double grad = k < tr->lstm->nparams ? p->dparams[k] : p->dhead[k - tr->lstm->nparams];
        float keep = *v, hi = keep + 1e-2f, lo = keep - 1e-2f;
        *v = hi;
        mem_probe_run(tr->lstm, tr->head, x, target, clamps, q);
        double up = q->loss;
        *v = lo;
        mem_probe_run(tr->lstm, tr->head, x, target, clamps, q);
        double down = q->loss;
        *v = keep;
        double fd = (up - down) / ((double)hi - (double)lo);
        worst = fmax(worst, fabs(fd - grad) / fmax(1e-2, fabs(grad)));
    }
    if (worst > 2e-3)
        fail_msg("central differences and the probe's backward differ by %g (relative)", worst);
    mem_probe_destroy(p);
    mem_probe_destroy(q);
    mem_destroy(tr);
}

static void test_probe_fd_plain(void **state)
{
    (void)state;
    check_fd(NULL);
}

static void test_probe_fd_clamped(void **state)
{
    (void)state;
    MemClamp clamps[4] = {0};
    clamps[MEM_GATE_F] = (MemClamp){.on = true, .value = 0, .at = 4};
    clamps[MEM_GATE_I] = (MemClamp){.on = true, .value = 0.5, .at = 7};
    clamps[MEM_GATE_O] = (MemClamp){.on = true, .value = 0.9, .at = 0};
    check_fd(clamps);
}

static void test_clamp_semantics(void **state)
{
    (void)state;
    const int T = 16, H = 8;
    float x[2 * 16], target;
    MemTrainer *tr = trained(T, H, 40, x, &target);
    MemProbe *p = mem_probe_create(T, 2, H), *plain = mem_probe_create(T, 2, H);
    mem_probe_run(tr->lstm, tr->head, x, target, NULL, plain);
    // Input held at 0 at every step: nothing is ever written; c, h stay 0
    // and the output is the read-out's bias.
    MemClamp clamps[4] = {0};
    clamps[MEM_GATE_I] = (MemClamp){.on = true, .value = 0, .at = 0};
    mem_probe_run(tr->lstm, tr->head, x, target, clamps, p);
    for (int k = 0; k < T * H; k++) {
        assert_true(p->c[k] == 0);
        assert_true(p->h[k] == 0);
    }
    assert_true(p->y == (double)tr->head[H]);
    // Forget held at 0 at step 9 (1-based): that step's f is 0, c_9 = i g,
    // and no gradient reaches c_8 through f; every other step is as before.
    clamps[MEM_GATE_I].on = false;
    clamps[MEM_GATE_F] = (MemClamp){.on = true, .value = 0, .at = 9};
    mem_probe_run(tr->lstm, tr->head, x, target, clamps, p);
    for (int t = 0; t < T; t++)
        for (int j = 0; j < H; j++) {
            double f = p->gates[t * 4 * H + H + j];
            if (t == 8) {
                assert_true(f == 0);
                double ig = p->gates[t * 4 * H + j] * p->gates[t * 4 * H + 2 * H + j];
                assert_true(fabs(p->c[t * H + j] - ig) < 1e-15);
            } else if (t < 8) {
                assert_true(f == plain->gates[t * 4 * H + H + j]);
                assert_true(p->c[t * H + j] == plain->c[t * H + j]);
            }
        }
    assert_false(mem_clamp_at(&clamps[MEM_GATE_F], 7));
    assert_true(mem_clamp_at(&clamps[MEM_GATE_F], 8));
    // dL/dc_8 = dL/dh_8 * o (1 - tanh^2 c_8) only: the cell path is cut.
    for (int j = 0; j < H; j++) {
        int k = 7 * H + j;
        double o = p->gates[7 * 4 * H + 3 * H + j], tc = tanh(p->c[k]);
        assert_true(fabs(p->dc[k] - p->dh[k] * o * (1 - tc * tc)) < 1e-12);
    }
    mem_probe_destroy(p);
    mem_probe_destroy(plain);
    mem_destroy(tr);
}

static Lesson *parse(const char *text)
{
    Diag d;
    diag_init(&d, "t.lesson", text, strlen(text));
    Lesson *l = lesson_parse(text, strlen(text), "t.lesson", &d);
    if (!l)
        fail_msg("the lesson does not parse:\n%s", diag_text(&d));
    diag_free(&d);
    return l;
}

// A headless run of l with source 0 advanced by `steps`, in chunks of `chunk`.
static Run *run_of(Lesson *l, int steps, int chunk)
{
    char err[200];
    Run *r = run_create(l, false, err, sizeof(err));
    if (!r)
        fail_msg("run_create: %s", err);
    for (int done = 0; done < steps; done += chunk) {
        run_extend(r, 0, steps - done < chunk ? steps - done : chunk);
        run_settle(r);
    }
    return r;
}

static const double *array(const Run *r, const char *name, int *n)
{
    const double *data = NULL;
    if (!run_lookup(r, name, &data, n))
        fail_msg("no array '%s' (status: %s)", name, run_source_status(r, 0) ? run_source_status(r, 0) : "-");
    return data;
}

static void test_source_steps_and_cache(void **state)
{
    (void)state;
    // A seed no other test uses, so the first run trains and fills the cache.
    const char *text = HEAD "source: m lstmmem T 20 hidden 8 seed 4242\n" TAIL;
    Lesson *l = parse(text);
    // The published loss is the trainer's own, step for step.
    MemConfig c = mem_defaults();
    c.T = 20, c.hidden = 8, c.seed = 4242;
    MemTrainer *tr = mem_create(&c);
    assert_non_null(tr);
    double want[110];
    for (int s = 0; s < 110; s++)
        want[s] = mem_step(tr);
    Run *a = run_of(l, 110, 110); // trains (and caches every 25 steps)
    Run *b = run_of(l, 110, 7);   // restores from the cache, in odd chunks
    int n, nb;
    const double *la = array(a, "m.loss", &n), *lb = array(b, "m.loss", &nb);
    assert_int_equal(n, 110);
    assert_int_equal(nb, 110);
    for (int s = 0; s < 110; s++) {
        assert_true(la[s] == want[s]);
        assert_true(lb[s] == want[s]);
    }
    const char *names[] = {"m.f", "m.c", "m.dc", "m.error", "m.forget_held", "m.y", "m.grad_gap"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        const double *xa = array(a, names[k], &n), *xb = array(b, names[k], &nb);
        assert_int_equal(n, nb);
        assert_memory_equal(xa, xb, (size_t)n * sizeof(double));
    }
    int t;
    array(a, "m.f", &t);
    assert_int_equal(t, 20 * 8);
    assert_true(array(a, "m.grad_gap", &n)[0] < 1e-4);
    run_destroy(a);
    run_destroy(b);
    mem_destroy(tr);
    lesson_destroy(l);
}

static void test_source_clamps(void **state)
{
    (void)state;
    Lesson *l = parse(HEAD "source: m lstmmem T 20 seed 4243 clamp_input on clamp_forget on forget_at 5 forget_to 0.25\n" TAIL);
    Run *r = run_of(l, 25, 25);
    int n;
    const double *cl = array(r, "m.clamped", &n), *f = array(r, "m.f", &n);
    assert_int_equal(n, 20 * 8);
    for (int t = 0; t < 20; t++) {
        assert_true(cl[t * 4 + 0] == 1);
        assert_true(cl[t * 4 + 1] == (t == 4));
        assert_true(cl[t * 4 + 2] == 0);
        assert_true(cl[t * 4 + 3] == 0);
    }
    for (int j = 0; j < 8; j++)
        assert_true(f[4 * 8 + j] == 0.25);
    const double *c = array(r, "m.c", &n);
    for (int k = 0; k < n; k++)
        assert_true(c[k] == 0);
    assert_true(array(r, "m.surgery_error", &n)[0] > 0.2); // the answer is a constant
    run_destroy(r);
    lesson_destroy(l);
}

static void expect_refused(const char *opts, const char *why)
{
    char text[512], err[200] = "";
    snprintf(text, sizeof(text), HEAD "source: m lstmmem %s\n" TAIL, opts);
    Lesson *l = parse(text);
    Run *r = run_create(l, false, err, sizeof(err));
    if (r) {
        run_settle(r);
        const char *status = run_source_status(r, 0);
        if (!status || !strstr(status, why))
            fail_msg("'%s': expected an error with '%s', got '%s'", opts, why, status ? status : "none");
        run_destroy(r);
    } else if (!strstr(err, why)) {
        fail_msg("'%s': expected an error with '%s', got '%s'", opts, why, err);
    }
    lesson_destroy(l);
}

static void test_bad_options(void **state)
{
    (void)state;
    expect_refused("T 20 mark 30", "after the last step");
    expect_refused("T 2", "must be from 4");
    expect_refused("clamp_forget maybe", "give on or off");
    expect_refused("forget_to 2", "must be from 0 to 1");
    expect_refused("hidden 2.5", "whole numbers");
}

// A panel line that does not load: the lesson's diagnostics hold why.
static void expect_bad_panel(const char *panel, const char *why)
{
    char text[512];
    snprintf(text, sizeof(text), HEAD "param: t = 1 range 1 20 step 1\nsource: m lstmmem T 20\n%s\n" TAIL, panel);
    Diag d;
    diag_init(&d, "t.lesson", text, strlen(text));
    Lesson *l = lesson_parse(text, strlen(text), "t.lesson", &d);
    const char *msg = diag_text(&d);
    if (l || !msg || !strstr(msg, why))
        fail_msg("'%s': expected an error with '%s', got '%s'", panel, why, msg ? msg : "none");
    diag_free(&d);
}

static void test_bad_panels(void **state)
{
    (void)state;
    expect_bad_panel("panel: c lstmcell m", "an 'lstmmem' source and the param that holds the step");
    expect_bad_panel("panel: c lstmtime nosrc t", "no source called 'nosrc'");
    expect_bad_panel("panel: c lstmcell m t nope", "no param called 'nope'");
    expect_bad_panel("panel: c lstmcel m t", "did you mean 'lstmcell'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_matches_model),
        cmocka_unit_test(test_probe_fd_plain),
        cmocka_unit_test(test_probe_fd_clamped),
        cmocka_unit_test(test_clamp_semantics),
        cmocka_unit_test(test_source_steps_and_cache),
        cmocka_unit_test(test_source_clamps),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_bad_panels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
