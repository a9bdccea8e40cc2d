// test_run_cache.c: headless runs of one lesson sharing a RunCache
// (lessons/run_cache.h), as `gradlab check` uses them: every configuration
// of a source (kind, options, the parameter values they read) is made and
// trained once, counted by the cache, and every number is the same, bit for
// bit, as without sharing: the step screens' arrays and every check's figure.
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lessons/run.h"
#include "lessons/run_cache.h"

// Two training runs and the program. `fit` reads lr; `other` reads nothing
// the steps set; w is a program input (read by all three); look is read by
// no source. Step 2 sets a new rate, step 3 sets it back (the first run's
// configuration again), step 4 changes only look, step 5 asks for more steps.
static const char text[] =
    "gradlab-lesson: 2\n"
    "title: Cache test\n"
    "param: w = 0.5 range -1 1 step 0.1\n"
    "param: lr = 0.1 range 0.001 1 log\n"
    "param: look = 0 range 0 5 step 1\n"
    "source: fit train lr {lr} params w b limit 500 patience 0\n"
    "source: other train lr 0.05 params w b limit 500 patience 0\n"
    "program:\n"
    "    x = [0.5, -0.2, 0.9]\n"
    "    w = 0.5\n"
    "    b = 0.1\n"
    "    h[0] = 0\n"
    "    for t in 1..3\n"
    "        h[t] = tanh(w * h[t-1] + x[t-1] + b)\n"
    "    end\n"
    "    loss = (h[3] - 0.2) ^ 2\n"
    "step: intro\n"
    "    Nothing trained yet.\n"
    "step: done\n"
    "run: fit 100\n"
    "step: done\n"
    "set: lr = 0.2\n"
    "step: done\n"
    "set: lr = 0.1\n"
    "step: done\n"
    "set: look = 1\n"
    "step: done\n"
    "run: fit 150\n"
    "check: after fit 100: fit.loss < 1\n"
    "check: after fit 150: fit.loss < 1\n"
    "check: after other 30: other.loss < 1\n"
    "check: after fit 100: fit.steps >= 100\n"
    "check: gradcheck tol 1e-6\n";

static Lesson *load(void)
{
    Diag d;
    diag_init(&d, "cache.lesson", text, sizeof(text) - 1);
    Lesson *l = lesson_parse(text, sizeof(text) - 1, "cache.lesson", &d);
    if (!l)
        print_message("%s", diag_text(&d));
    diag_free(&d);
    assert_non_null(l);
    return l;
}

// Every published array of a and b: the same names, shapes and bits.
static void assert_same_arrays(const RunArrays *a, const RunArrays *b)
{
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        const RunArray *x = &a->arrays[i], *y = &b->arrays[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->ndim, y->ndim);
        assert_int_equal(x->shape[0], y->shape[0]);
        assert_int_equal(x->shape[1], y->shape[1]);
        assert_memory_equal(a->pool + x->offset, b->pool + y->offset,
                            (size_t)x->shape[0] * (size_t)x->shape[1] * sizeof(double));
    }
}

// The steps, then the checks, with one cache (as `gradlab check` does), and
// again with none: the same numbers; one creation per configuration.
static void test_each_configuration_trains_once(void **state)
{
    (void)state;
    Lesson *l = load();
    char err[256];
    RunCache *c = run_cache_create();
    assert_non_null(c);
    Run *shared = run_create_shared(l, c, err, sizeof(err));
    Run *plain = run_create(l, false, err, sizeof(err));
    assert_non_null(shared);
    assert_non_null(plain);
    for (size_t st = 0; st < l->nsteps; st++) {
        run_goto(shared, st);
        run_settle(shared);
        run_goto(plain, st);
        run_settle(plain);
        assert_same_arrays(run_arrays(shared), run_arrays(plain));
        for (int k = 0; k < run_source_count(plain); k++)
            assert_int_equal(run_source_steps(shared, k), run_source_steps(plain, k));
    }
    RunCacheStats s = run_cache_stats(c);
    // fit at lr 0.1, fit at lr 0.2, other, the program: four configurations,
    // each made once (steps 3 and 4 make nothing; step 5 goes on from 100).
    assert_int_equal(s.created, 4);
    assert_int_equal(s.steps, 100 + 100 + 50);
    run_destroy(shared);
    run_destroy(plain);

    for (int i = 0; i < l->f2.nchecks; i++) {
        double got_shared, got_plain;
        char why[256];
        bool ok_shared = run_check2_shared(l, i, c, &got_shared, why, sizeof(why));
        bool ok_plain = run_check2(l, i, &got_plain, why, sizeof(why));
        assert_true(ok_shared == ok_plain);
        assert_memory_equal(&got_shared, &got_plain, sizeof(double));
        assert_true(ok_plain);
    }
    s = run_cache_stats(c);
    // The checks of fit at 100 and 150 and the gradcheck train nothing; the
    // check of other at 30 takes up the instance the steps made (at 0).
    assert_int_equal(s.created, 4);
    assert_int_equal(s.steps, 100 + 100 + 50 + 30);
    assert_true(s.resumed >= 1);
    assert_true(s.served >= 4);
    run_cache_destroy(c);
    run_cache_destroy(NULL);
    lesson_destroy(l);
}

// Going back a step: a source past the count the step asks for starts again
// (its state is the one after exactly that many steps), from the cache.
static void test_going_back(void **state)
{
    (void)state;
    Lesson *l = load();
    char err[256];
    RunCache *c = run_cache_create();
    Run *r = run_create_shared(l, c, err, sizeof(err));
    assert_non_null(r);
    run_goto(r, 5);
    run_settle(r);
    assert_int_equal(run_source_steps(r, 0), 150);
    run_goto(r, 1);
    run_settle(r);
    assert_int_equal(run_source_steps(r, 0), 100);
    const double *loss;
    int n;
    assert_true(run_lookup(r, "fit.loss", &loss, &n));
    assert_int_equal(n, 101);
    double at100 = loss[100];
    run_goto(r, 0);
    run_settle(r);
    assert_int_equal(run_source_steps(r, 0), 0);
    run_goto(r, 1);
    run_settle(r);
    assert_true(run_lookup(r, "fit.loss", &loss, &n));
    assert_int_equal(n, 101);
    assert_memory_equal(&loss[100], &at100, sizeof(double));
    // 150 steps, then 100 again for step 1 (no state at 100 was kept on the
    // way to 150: a stored state is one at rest); step 0 is the state stored
    // when the run was made, and forward to step 1 again trains nothing.
    RunCacheStats s = run_cache_stats(c);
    assert_int_equal(s.steps, 150 + 100);
    assert_int_equal(s.created, 3 + 1);
    run_destroy(r);

    Run *plain = run_create(l, false, err, sizeof(err));
    run_goto(plain, 5);
    run_settle(plain);
    run_goto(plain, 1);
    run_settle(plain);
    const double *want;
    assert_true(run_lookup(plain, "fit.loss", &want, &n));
    assert_memory_equal(&want[100], &at100, sizeof(double));
    run_destroy(plain);
    run_cache_destroy(c);
    lesson_destroy(l);
}

// A stand-in kind whose instances say how big they are (a size_t each) and
// count their destruction: parked instances stay within the cache's 32 MB.
static int destroyed;
static void fake_destroy(void *inst)
{
    destroyed++;
    free(inst);
}
static int fake_steps(const void *inst)
{
    (void)inst;
    return 0;
}
static size_t fake_bytes(const void *inst)
{
    return *(const size_t *)inst;
}
static const SourceKind fake_kind = {.name = "fake", .destroy = fake_destroy, .steps = fake_steps,
                                     .bytes = fake_bytes};

static void *fake(size_t mb)
{
    size_t *b = malloc(sizeof(*b));
    assert_non_null(b);
    *b = mb << 20;
    return b;
}

static void test_parked_bytes_bounded(void **state)
{
    (void)state;
    RunCache *c = run_cache_create();
    destroyed = 0;
    run_cache_park(c, "a", &fake_kind, fake(20));
    run_cache_park(c, "b", &fake_kind, fake(10));
    assert_int_equal(destroyed, 0);
    run_cache_park(c, "c", &fake_kind, fake(20)); // 50 MB: a goes
    assert_int_equal(destroyed, 1);
    assert_null(run_cache_take(c, "a", 10));
    void *b = run_cache_take(c, "b", 10);
    assert_non_null(b);
    fake_destroy(b);
    run_cache_park(c, "d", &fake_kind, fake(40)); // larger than the budget alone: never kept
    assert_int_equal(destroyed, 3);
    assert_null(run_cache_take(c, "d", 10));
    void *k = run_cache_take(c, "c", 10); // what is taken back leaves the count
    assert_non_null(k);
    run_cache_park(c, "c", &fake_kind, k);
    run_cache_park(c, "e", &fake_kind, fake(12));
    assert_int_equal(destroyed, 3);
    run_cache_destroy(c);
    assert_int_equal(destroyed, 5);
}

// A stand-in source for the memory test: a few numbers, published as one array.
static int tiny_steps(const void *inst)
{
    return *(const int *)inst;
}

static const char *tiny_finished(const void *inst)
{
    return NULL;
}

static void tiny_publish(const void *inst, const char *prefix, RunArrays *out)
{
    int n = 3;
    double *x = run_arrays_add(out, prefix, "x", 1, &n);
    if (x)
        x[0] = x[1] = x[2] = *(const int *)inst;
}

// The cache's 64 MB bound is on the memory its snapshots hold, not only on
// their numbers: each also holds its RunArrays (RUN_MAX_ARRAYS slots, 22 KB)
// and a pool that may be twice its numbers. Five thousand small snapshots
// (as a lesson of 500 steps and 7 sources stores: it held 141 MB counted as
// 64) stay within the bound. The C library's count of bytes in use measures
// it (glibc; a sanitizer's allocator is not counted there, and nothing is
// measured).
static void test_bound_counts_what_is_held(void **state)
{
    (void)state;
#ifdef __GLIBC__
    const SourceKind tiny = {.name = "tiny", .steps = tiny_steps, .finished = tiny_finished,
                             .publish = tiny_publish};
    struct mallinfo2 m0 = mallinfo2();
    size_t before = m0.uordblks + m0.hblkhd;   // in use: in the heap, and mapped on their own
    RunCache *c = run_cache_create();
    assert_non_null(c);
    for (int i = 0; i < 5000; i++) {
        char key[32];
        snprintf(key, sizeof(key), "tiny %d", i);
        run_cache_store(c, key, &tiny, &i);
    }
    struct mallinfo2 m1 = mallinfo2();
    size_t held = m1.uordblks + m1.hblkhd - before;
    print_message("# 5000 small snapshots offered: %.1f MB held\n", (double)held / (1 << 20));
    assert_true(held <= ((size_t)64 << 20) + ((size_t)1 << 20));
    const RunSnapshot *s = run_cache_find(c, "tiny 0", 0);
    assert_non_null(s);
    assert_int_equal(s->arrays.n, 1);
    run_cache_destroy(c);
#else
    print_message("# skipped: mallinfo2 is glibc's\n");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_configuration_trains_once),
        cmocka_unit_test(test_going_back),
        cmocka_unit_test(test_parked_bytes_bounded),
        cmocka_unit_test(test_bound_counts_what_is_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
