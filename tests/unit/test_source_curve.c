// test_source_curve.c: the `curve` and `stack` source kinds (lesson 3).
// curve's f' (from the engine's backward pass) agrees with central
// differences of its own f for every activation and for an expression; the
// sigmoid's slope is at most 1/4 and its saturated edges are where
// sigma' = threshold; ReLU's left half is one saturated interval ending at 0;
// leaky keeps its slope. stack's gradients are the products of its local
// factors, shrink below 0.25^(N-1) through sigmoids and hold at exactly 1
// through ReLUs; a choice parameter reaches both kinds as a word; bad
// options are refused with a reason.
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
#include "lessons/run.h"
#include "lessons/source_kinds.h"

#define HEAD "gradlab-lesson: 2\ntitle: T\nparam: act = relu choice sigmoid relu tanh\n"
#define TAIL "program:\n    a = 1\n    f = a * 2\n\nstep: intro\n"

// The lesson with one source line; its run (headless, computed at creation).
static Run *run_of(const char *source_line, Lesson **l)
{
    char text[1024];
    snprintf(text, sizeof(text), HEAD "source: s %s\n" TAIL, source_line);
    *l = lesson_test_parse(text);
    char err[200];
    Run *r = run_create(*l, false, err, sizeof(err));
    if (!r)
        fail_msg("run_create: %s", err);
    run_settle(r);
    return r;
}

static const double *array(const Run *r, const char *name, int *n)
{
    const double *data = NULL;
    int count = 0;
    if (!run_lookup(r, name, &data, &count))
        fail_msg("no array '%s'", name);
    if (n)
        *n = count;
    return data;
}

static double number(const Run *r, const char *name)
{
    return array(r, name, NULL)[0];
}

// f' by backprop against central differences of f on the same grid, away
// from kinks (where the two sides' slopes differ).
static void expect_df_is_slope(const char *opts, double kink)
{
    Lesson *l;
    Run *r = run_of(opts, &l);
    int n, nf, nd;
    const double *x = array(r, "s.x", &n), *f = array(r, "s.f", &nf), *df = array(r, "s.df", &nd);
    assert_int_equal(n, nf);
    assert_int_equal(n, nd);
    for (int i = 1; i + 1 < n; i++) {
        if (fabs(x[i] - kink) < 0.2)
            continue;
        double fd = (f[i + 1] - f[i - 1]) / (x[i + 1] - x[i - 1]);
        if (!(fabs(fd - df[i]) <= 2e-3 * fmax(1, fabs(df[i]))))
            fail_msg("%s: at x = %g, f' = %.9g by backprop but %.9g by differences", opts, x[i], df[i], fd);
    }
    run_destroy(r);
    lesson_destroy(l);
}

static void test_derivative_is_backprop(void **state)
{
    (void)state;
    expect_df_is_slope("curve activation sigmoid points 1201", 1e9);
    expect_df_is_slope("curve activation tanh points 1201", 1e9);
    expect_df_is_slope("curve activation relu points 1201", 0);
    expect_df_is_slope("curve activation leaky slope 0.2 points 1201", 0);
    expect_df_is_slope("curve expr \"x * sigmoid(x)\" from -4 to 4 points 801", 1e9);
}

static void test_sigmoid_slope_and_saturation(void **state)
{
    (void)state;
    Lesson *l;
    Run *r = run_of("curve activation sigmoid points 2401 threshold 0.05 at 0", &l);
    int n;
    const double *df = array(r, "s.df", &n);
    for (int i = 0; i < n; i++)
        assert_true(df[i] > 0 && df[i] <= 0.25);
    assert_true(fabs(number(r, "s.df_at") - 0.25) < 1e-15);
    assert_true(fabs(number(r, "s.f_at") - 0.5) < 1e-15);
    // sigma' = 0.05 where sigma = (1 + sqrt(0.8)) / 2: x = ln(sigma / (1 - sigma)).
    double s = (1 + sqrt(0.8)) / 2, edge = log(s / (1 - s));
    int k;
    const double *sat = array(r, "s.saturated", &k);
    assert_int_equal(k, 4); // (2, 2)
    assert_true(number(r, "s.nsat") == 2);
    assert_true(sat[0] == -6 && sat[3] == 6);
    assert_true(fabs(sat[1] + edge) < 1e-9);
    assert_true(fabs(sat[2] - edge) < 1e-9);
    assert_true(fabs(number(r, "s.sat_right") - edge) < 1e-9);
    assert_true(fabs(number(r, "s.sat_percent") - 100 * (12 - 2 * edge) / 12) < 1e-6);
    run_destroy(r);
    lesson_destroy(l);
}

static void test_relu_and_leaky(void **state)
{
    (void)state;
    Lesson *l;
    // The choice parameter act is relu by default: its word reaches the kind.
    Run *r = run_of("curve activation {act} at -1", &l);
    int k;
    const double *sat = array(r, "s.saturated", &k);
    assert_int_equal(k, 2);
    assert_true(sat[0] == -6 && fabs(sat[1]) < 1e-12);
    assert_true(number(r, "s.df_at") == 0 && number(r, "s.f_at") == 0);
    assert_true(isnan(number(r, "s.sat_right")));
    int n;
    const double *mask = array(r, "s.mask", &n), *marker = array(r, "s.marker", NULL);
    assert_true(mask[0] == 1 && mask[n - 1] == 0);
    assert_true(number(r, "s.index_at") == 100 && marker[100] == 0); // x = -1 is sample 100 of 241
    run_destroy(r);
    lesson_destroy(l);

    r = run_of("curve activation leaky slope 0.1 at -1", &l);
    assert_true(fabs(number(r, "s.df_at") - 0.1) < 1e-15);
    assert_true(number(r, "s.nsat") == 0);
    run_destroy(r);
    lesson_destroy(l);
}

// Each gradient is the next one times the layer's local factor, and L's own is 1.
static void expect_products(const Run *r)
{
    int n, nl;
    const double *g = array(r, "s.grad", &n), *loc = array(r, "s.local", &nl);
    assert_int_equal(n, nl);
    for (int k = 0; k < n; k++) {
        double next = k + 1 < n ? g[k + 1] : 1;
        assert_true(fabs(g[k] - loc[k] * next) <= 1e-12 * fmax(fabs(g[k]), 1e-300));
    }
}

static void test_stack(void **state)
{
    (void)state;
    Lesson *l;
    Run *r = run_of("stack layers 50 activation sigmoid", &l);
    int n;
    array(r, "s.grad", &n);
    assert_int_equal(n, 50);
    expect_products(r);
    assert_true(number(r, "s.lmax") <= 0.25);
    assert_true(number(r, "s.ratio") <= pow(0.25, 49));
    run_destroy(r);
    lesson_destroy(l);

    r = run_of("stack layers 50 activation {act} weight 1", &l); // relu
    expect_products(r);
    const double *g = array(r, "s.grad", &n);
    for (int k = 0; k < n; k++)
        assert_true(g[k] == 1);
    assert_true(number(r, "s.ratio") == 1 && number(r, "s.factor") == 1);
    run_destroy(r);
    lesson_destroy(l);

    r = run_of("stack layers 1 activation tanh weight 0.5", &l);
    expect_products(r);
    assert_true(number(r, "s.ratio") == 1);
    run_destroy(r);
    lesson_destroy(l);

    r = run_of("stack layers 30 activation tanh", &l);
    expect_products(r);
    assert_true(number(r, "s.ratio") < 1 && number(r, "s.ratio") > pow(0.25, 29));
    run_destroy(r);
    lesson_destroy(l);
}

// The source is refused: its status gives the reason and it publishes nothing.
static void expect_refused(const char *source_line, const char *needle)
{
    Lesson *l;
    Run *r = run_of(source_line, &l);
    const char *why = run_source_status(r, 0);
    if (!why || !strstr(why, needle))
        fail_msg("'%s': status \"%s\" lacks \"%s\"", source_line, why ? why : "(none)", needle);
    int n;
    assert_false(run_lookup(r, "s.x", &(const double *){NULL}, &n));
    assert_false(run_lookup(r, "s.grad", &(const double *){NULL}, &n));
    run_destroy(r);
    lesson_destroy(l);
}

static void test_bad_options(void **state)
{
    (void)state;
    expect_refused("curve activation softplus", "sigmoid, tanh, relu, leaky");
    expect_refused("curve expr \"x +\"", "expr");
    expect_refused("curve expr \"y * 2\"", "expr");
    expect_refused("curve activation tanh expr \"x\"", "not both");
    expect_refused("curve from 2 to 1", "below");
    expect_refused("curve points 1", "points");
    expect_refused("stack layers 51", "layers");
    expect_refused("stack layers 2.5", "whole");
    expect_refused("stack activation swish", "sigmoid, tanh, relu, leaky, linear");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derivative_is_backprop),
        cmocka_unit_test(test_sigmoid_slope_and_saturation),
        cmocka_unit_test(test_relu_and_leaky),
        cmocka_unit_test(test_stack),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
