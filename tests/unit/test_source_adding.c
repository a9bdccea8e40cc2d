// test_source_adding.c: the `adding` source kind (lesson 9). Its state
// after N steps is the same however the steps are split into advance()
// calls, and the same in a fresh instance; the published arrays have the
// documented shapes (a training loss per step, its running mean over the
// last `every`, the 1/6 line, a test score before training, every `every`
// steps and at the limit); the figures agree with the arrays; it stops at
// its limit; a choice parameter names the model; bad options are refused
// with a reason. (That the LSTM learns and the tanh RNN does not at T = 50
// is the lesson's own check, run by lessons_check.)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/run.h"
#include "lessons/source_kinds.h"

#define HEAD "gradlab-lesson: 2\ntitle: T\nparam: m = irnn choice lstm rnn irnn\n"
#define TAIL "program:\n    a = 1\n    f = a * 2\n\nstep: intro\n"
#define SMALL "T 12 hidden 8 batch 4 every 10 test 16"

typedef struct Made {
    Lesson *l;
    double values[LESSON_MAX_PARAMS2];
    void *inst;
    char err[200];
} Made;

// Parse a lesson whose one source is `source: s adding OPTS` and make an
// instance of it (NULL with m->err on a bad option). Free with unmake.
static void *make(Made *m, const char *opts)
{
    char text[1024];
    snprintf(text, sizeof(text), HEAD "source: s adding %s\n" TAIL, opts);
    Diag d;
    diag_init(&d, "t.lesson", text, strlen(text));
    m->l = lesson_parse(text, strlen(text), "t.lesson", &d);
    if (!m->l)
        fail_msg("the lesson does not parse:\n%s", diag_text(&d));
    diag_free(&d);
    for (int i = 0; i < m->l->f2.nparams; i++)
        m->values[i] = m->l->f2.params[i].value;
    SourceParams p = {.lesson = m->l, .values = m->values};
    m->err[0] = '\0';
    m->inst = source_adding_kind.create(&p, &m->l->f2.sources[0], m->err, sizeof(m->err));
    return m->inst;
}

static void unmake(Made *m)
{
    source_adding_kind.destroy(m->inst);
    lesson_destroy(m->l);
}

static const double *array(const RunArrays *a, const char *name, int *n)
{
    const double *data = NULL;
    const RunArray *r = run_arrays_find(a, name, &data);
    if (!r)
        fail_msg("no array '%s'", name);
    *n = r->ndim == 0 ? 1 : r->shape[0];
    return data;
}

static double number(const RunArrays *a, const char *name)
{
    int n;
    return array(a, name, &n)[0];
}

// Every array of a equals the same array of b, bit for bit.
static void expect_same(const RunArrays *a, const RunArrays *b)
{
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        int na, nb;
        const double *x = array(a, a->arrays[i].name, &na), *y = array(b, a->arrays[i].name, &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(x, y, (size_t)na * sizeof(double));
    }
}

static void test_chunks_do_not_matter(void **state)
{
    (void)state;
    const char *models[] = {"lstm", "rnn", "irnn"};
    for (int k = 0; k < 3; k++) {
        char opts[200];
        snprintf(opts, sizeof(opts), "model %s " SMALL " limit 60", models[k]);
        Made a, b, c;
        assert_non_null(make(&a, opts));
        assert_non_null(make(&b, opts));
        assert_non_null(make(&c, opts));
        assert_int_equal(source_adding_kind.advance(a.inst, 60), 60);
        assert_int_equal(source_adding_kind.advance(b.inst, 7), 7);
        assert_int_equal(source_adding_kind.advance(b.inst, 13), 13);
        assert_int_equal(source_adding_kind.advance(b.inst, 100), 40); // stops at its limit
        for (int s = 0; s < 60; s++)
            assert_int_equal(source_adding_kind.advance(c.inst, 1), 1);
        RunArrays ra = {0}, rb = {0}, rc = {0};
        source_adding_kind.publish(a.inst, "s.", &ra);
        source_adding_kind.publish(b.inst, "s.", &rb);
        source_adding_kind.publish(c.inst, "s.", &rc);
        expect_same(&ra, &rb);
        expect_same(&ra, &rc);
        run_arrays_free(&ra);
        run_arrays_free(&rb);
        run_arrays_free(&rc);
        unmake(&a);
        unmake(&b);
        unmake(&c);
    }
}

static void test_shapes_and_figures(void **state)
{
    (void)state;
    Made m;
    assert_non_null(make(&m, "model lstm " SMALL " limit 25"));
    assert_int_equal(source_adding_kind.steps(m.inst), 0);
    RunArrays a = {0};
    source_adding_kind.publish(m.inst, "s.", &a);
    int n;
    array(&a, "s.test", &n);
    assert_int_equal(n, 1);                    // scored before training
    assert_null(run_arrays_find(&a, "s.loss", NULL)); // no steps, no loss yet

    assert_int_equal(source_adding_kind.advance(m.inst, 1000), 25);
    assert_non_null(source_adding_kind.finished(m.inst));
    assert_int_equal(source_adding_kind.advance(m.inst, 10), 0);
    run_arrays_clear(&a);
    source_adding_kind.publish(m.inst, "s.", &a);
    int nl, ns, nb, nt;
    const double *loss = array(&a, "s.loss", &nl), *smooth = array(&a, "s.smooth", &ns);
    const double *base = array(&a, "s.baseline", &nb), *test = array(&a, "s.test", &nt);
    assert_int_equal(nl, 25);
    assert_int_equal(ns, 25);
    assert_int_equal(nb, 25);
    assert_int_equal(nt, 4); // steps 0, 10, 20 and the limit, 25
    for (int i = 0; i < nl; i++) {
        assert_true(isfinite(loss[i]) && loss[i] >= 0);
        assert_true(base[i] == 1.0 / 6.0);
        double sum = 0;
        int lo = i - 9 > 0 ? i - 9 : 0;
        for (int j = lo; j <= i; j++)
            sum += loss[j];
        assert_true(fabs(smooth[i] - sum / (i - lo + 1)) <= 1e-12 * fmax(1, sum));
    }
    double best = INFINITY;
    for (int i = 0; i < nt; i++)
        best = fmin(best, test[i]);
    assert_true(number(&a, "s.last") == test[nt - 1]);
    assert_true(number(&a, "s.best") == best);
    assert_true(fabs(number(&a, "s.ratio") - (1.0 / 6.0) / test[nt - 1]) < 1e-12);
    assert_true(number(&a, "s.steps") == 25);
    assert_true(number(&a, "s.T") == 12);
    assert_true(number(&a, "s.hidden") == 8);
    assert_true(fabs(number(&a, "s.lr") - 1e-2) < 1e-9); // the LSTM's default rate
    double reached = number(&a, "s.reached");
    assert_true(reached == 0 || reached == 10 || reached == 20 || reached == 25);
    run_arrays_free(&a);
    unmake(&m);
}

// `model {m}` reads the choice: irnn by default, which means a ReLU RNN
// with its own default rate.
static void test_model_from_a_choice(void **state)
{
    (void)state;
    Made m;
    assert_non_null(make(&m, "model {m} " SMALL));
    RunArrays a = {0};
    source_adding_kind.publish(m.inst, "s.", &a);
    assert_true(fabs(number(&a, "s.lr") - 1e-4) < 1e-9); // a float
    run_arrays_free(&a);
    unmake(&m);
}

static void test_bad_options(void **state)
{
    (void)state;
    const char *bad[][2] = {
        {"model gru", "lstm, rnn, irnn"}, {"T 1", "T"},         {"T 201", "T"},
        {"hidden 2.5", "whole"},          {"limit 0", "limit"}, {"every 0", "every"},
        {"lr 0", "lr"},                   {"test 5000", "test"},
        {"hidden 65", "hidden"},          {"batch 65", "batch"}, {"limit 10001", "limit"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        Made m;
        assert_null(make(&m, bad[i][0]));
        if (!strstr(m.err, bad[i][1]))
            fail_msg("'%s': the reason '%s' does not mention '%s'", bad[i][0], m.err, bad[i][1]);
        lesson_destroy(m.l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_do_not_matter),
        cmocka_unit_test(test_shapes_and_figures),
        cmocka_unit_test(test_model_from_a_choice),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
