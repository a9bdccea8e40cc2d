// test_source_tuning.c: the `tuning` source kind (lesson 13). A grid of 16
// tries 4 distinct rates and random search 16; every trial lands inside the
// ranges asked for; successive halving keeps exactly the better half of each
// rung and spends its budget; the state depends on the steps taken and not
// on how they were split; the range test's rate grows from lo to hi and its
// suggestion is a tenth of the best rate; the seeds' band spans their test
// MSEs; bad options are refused with a reason.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesson_test.h"
#include "lessons/source_kinds.h"

// Small and fast: T 5, 4 units, 32 test sequences.
#define SMALL "T 5 hidden 4 batch 8 test 32 "

typedef SourceInst Inst;

// An instance of `tuning` with these options, or NULL with the reason in err.
static Inst make(const char *options, char *err, size_t n)
{
    return source_inst_make(&source_tuning_kind, "t.lesson", options, err, n);
}

static Inst make_ok(const char *options)
{
    char err[256] = "";
    Inst it = make(options, err, sizeof(err));
    if (!it.s)
        fail_msg("create '%s': %s", options, err);
    return it;
}

static void run_all(Inst *it, int chunk)
{
    while (source_tuning_kind.advance(it->s, chunk) > 0)
        ;
    assert_non_null(source_tuning_kind.finished(it->s));
}

static void test_grid_and_random_rates(void **state)
{
    (void)state;
    Inst g = make_ok(SMALL "mode grid trials 16 budget 320 lo 1e-3 hi 1e-1");
    Inst r = make_ok(SMALL "mode random trials 16 budget 320 lo 1e-3 hi 1e-1");
    run_all(&g, 7);
    run_all(&r, 1000);
    assert_int_equal(source_tuning_kind.steps(g.s), 320);
    assert_int_equal((int)*source_inst_get(&g, "distinct", NULL), 4);
    assert_int_equal((int)*source_inst_get(&r, "distinct", NULL), 16);
    Inst *both[2] = {&g, &r};
    for (int k = 0; k < 2; k++) {
        const RunArray *a;
        const double *pts = source_inst_get(both[k], "points", &a);
        assert_int_equal(a->shape[0], 16);
        double best = INFINITY;
        for (int i = 0; i < 16; i++) {
            assert_true(pts[3 * i] >= 1e-3 * (1 - 1e-12) && pts[3 * i] <= 1e-1 * (1 + 1e-12));
            best = fmin(best, pts[3 * i + 1]);
        }
        assert_true(*source_inst_get(both[k], "best_mse", NULL) == best);
        // The staircase: steps never go back, the best never goes up, it ends at the best and at 320 steps.
        const double *curve = source_inst_get(both[k], "best", &a);
        int n = a->shape[0];
        assert_true(n >= 2);
        for (int i = 1; i < n; i++)
            assert_true(curve[2 * i] >= curve[2 * i - 2] && curve[2 * i + 1] <= curve[2 * i - 1]);
        assert_true(curve[2 * n - 1] == best && curve[2 * n - 2] == 320);
    }
    source_inst_drop(&g);
    source_inst_drop(&r);
}

static void test_halving_keeps_the_better_half(void **state)
{
    (void)state;
    Inst h = make_ok(SMALL "mode halving trials 16 budget 640 lo 1e-3 hi 1");
    run_all(&h, 13);
    const RunArray *a;
    const double *pts = source_inst_get(&h, "points", &a);
    assert_int_equal(a->shape[0], 16 + 8 + 4 + 2);
    int start = 0;
    for (int alive = 16; alive > 2; start += alive, alive /= 2) {
        // The next rung's trials are exactly this rung's best half (by rate, which names a trial).
        const double *rung = pts + 3 * start, *next = pts + 3 * (start + alive);
        for (int i = 0; i < alive; i++) {
            int better = 0;
            for (int j = 0; j < alive; j++)
                better += rung[3 * j + 1] < rung[3 * i + 1];
            bool kept = false;
            for (int j = 0; j < alive / 2; j++)
                kept |= next[3 * j] == rung[3 * i];
            assert_int_equal(kept, better < alive / 2);
        }
    }
    // The last rung's survivors have trained the most.
    assert_true(pts[3 * 28 + 2] == 1.0 && pts[3 * 29 + 2] == 1.0);
    assert_true(pts[2] < 0.1);
    assert_true(source_tuning_kind.steps(h.s) <= 640);
    source_inst_drop(&h);
}

static void test_same_state_however_split(void **state)
{
    (void)state;
    Inst a = make_ok(SMALL "mode halving trials 8 budget 240 seed 3");
    Inst b = make_ok(SMALL "mode halving trials 8 budget 240 seed 3");
    run_all(&a, 1);
    run_all(&b, 100);
    const RunArray *ra, *rb;
    const double *pa = source_inst_get(&a, "points", &ra);
    double copy[3 * 64];
    memcpy(copy, pa, (size_t)ra->shape[0] * 3 * sizeof(double));
    const double *pb = source_inst_get(&b, "points", &rb);
    assert_int_equal(ra->shape[0], rb->shape[0]);
    assert_memory_equal(copy, pb, (size_t)ra->shape[0] * 3 * sizeof(double));
    source_inst_drop(&a);
    source_inst_drop(&b);
}

static void test_range_test(void **state)
{
    (void)state;
    Inst r = make_ok(SMALL "mode range lo 1e-4 hi 10 steps 200");
    run_all(&r, 50);
    const RunArray *a;
    const double *c = source_inst_get(&r, "curve", &a);
    int n = a->shape[0];
    assert_true(n > 10 && n <= 200);
    assert_true(fabs(c[0] - 1e-4) < 1e-12);
    int best = 0;
    for (int k = 1; k < n; k++) {
        assert_true(c[2 * k] > c[2 * (k - 1)]);
        if (c[2 * k + 1] < c[2 * best + 1])
            best = k;
    }
    assert_true(*source_inst_get(&r, "lrmin", NULL) == c[2 * best]);
    assert_true(fabs(*source_inst_get(&r, "suggest", NULL) - c[2 * best] / 10) < 1e-15);
    source_inst_drop(&r);
}

static void test_seeds_band(void **state)
{
    (void)state;
    Inst s = make_ok(SMALL "mode seeds seeds 4 steps 60 optimizer momentum init 0.5");
    run_all(&s, 25);
    const RunArray *a;
    const double *test = source_inst_get(&s, "test", &a);
    assert_int_equal(a->shape[0], 4);
    double lo = INFINITY, hi = -INFINITY, t[4];
    memcpy(t, test, sizeof(t));
    for (int i = 0; i < 4; i++)
        lo = fmin(lo, t[i]), hi = fmax(hi, t[i]);
    assert_true(lo < hi); // the seeds differ
    const double *band = source_inst_get(&s, "band", NULL);
    assert_true(band[0] == lo && band[1] == hi);
    const double *mean = source_inst_get(&s, "mean", &a);
    assert_int_equal(a->shape[0], 60);
    assert_true(isfinite(mean[59]));
    source_inst_drop(&s);
}

static void test_bad_options(void **state)
{
    (void)state;
    static const struct {
        const char *options, *says;
    } bad[] = {
        {"mode hyperband", "give one of seeds, range, grid, random, halving"},
        {"optimizer lion", "give one of sgd, momentum, rmsprop, adam"},
        {"mode grid lo 1 hi 0.1", "'lo' below 'hi'"},
        {"mode halving trials 64 budget 300 T 5", "too small for 64 trials"},
        // 64 trainers side by side at the default sizes: 37 MB, past the 16 MB
        {"mode halving trials 64", "at most 2e+11 and 16 MB"},
        {"seeds 5 T 100 hidden 64 batch 64 steps 10", "and 16 MB"},
        {"seeds 9", "seeds"},
        {"hidden 2.5", "whole number"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        Inst it = make(bad[i].options, err, sizeof(err));
        if (it.s)
            fail_msg("'%s' was accepted", bad[i].options);
        if (!strstr(err, bad[i].says))
            fail_msg("'%s' said \"%s\", not \"%s\"", bad[i].options, err, bad[i].says);
        lesson_destroy(it.l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_and_random_rates), cmocka_unit_test(test_halving_keeps_the_better_half),
        cmocka_unit_test(test_same_state_however_split), cmocka_unit_test(test_range_test),
        cmocka_unit_test(test_seeds_band), cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
