// test_source_bptt.c: the `bptt` and `explode` source kinds (lesson 7).
// bptt's norms are bit for bit those of models/bptt.c (what `gradlab bptt`
// prints) for every model, activation and init the two share; choice
// parameters reach it as words; a linear RNN with an orthogonal or identity
// W_hh follows the exact law s^(T-t) ||dL/dh_T||; bad options are refused
// with a reason. explode spikes without clipping and names the step and a
// parameter, does not spike with it, and its state depends on its step
// count only, however the steps are taken.
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

#include "lesson_test.h"
#include "lessons/run.h"
#include "lessons/source_kinds.h"
#include "models/bptt.h"

#define HEAD "gradlab-lesson: 2\ntitle: T\n"
#define TAIL "program:\n    a = 1\n    f = a * 2\n\nstep: intro\n"

// A headless run of text; source 0's arrays after `steps` more steps.
static Run *run_of(Lesson *l, int steps)
{
    char err[200];
    Run *r = run_create(l, false, err, sizeof(err));
    if (!r)
        fail_msg("run_create: %s", err);
    if (steps) {
        run_extend(r, 0, steps);
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

static double number(const Run *r, const char *name)
{
    int n;
    const double *x = array(r, name, &n);
    assert_int_equal(n, 1);
    return x[0];
}

// g.norm for the source line `opts` equals bptt_grad_norms(c) exactly.
static void expect_same_as_bptt(const char *opts, BpttConfig c)
{
    char text[1024];
    snprintf(text, sizeof(text), HEAD "source: g bptt %s\n" TAIL, opts);
    Lesson *l = lesson_test_parse(text);
    Run *r = run_of(l, 0);
    int n;
    const double *norm = array(r, "g.norm", &n);
    assert_int_equal(n, c.T);
    double *want = malloc((size_t)c.T * sizeof(double));
    assert_non_null(want);
    assert_true(bptt_grad_norms(&c, want));
    for (int t = 0; t < c.T; t++)
        if (!(norm[t] == want[t] || (isnan(norm[t]) && isnan(want[t]))))
            fail_msg("%s: t = %d: source %.17g, gradlab bptt %.17g", opts, t + 1, norm[t], want[t]);
    // back is norm reversed; first and last are its ends.
    const double *back = array(r, "g.back", &n);
    assert_int_equal(n, c.T);
    for (int k = 0; k < c.T; k++)
        assert_memory_equal(&back[k], &norm[c.T - 1 - k], sizeof(double));
    assert_true(number(r, "g.first") == norm[0]);
    assert_true(number(r, "g.last") == norm[c.T - 1]);
    assert_true(fabs(norm[c.T - 1] - sqrt(c.H)) < 1e-6); // dL/dh_T is all ones
    free(want);
    run_destroy(r);
    lesson_destroy(l);
}

static void test_norms_are_gradlab_bptts(void **state)
{
    (void)state;
    // H 24 takes the models' generic kernels, H 32 the fused ones where the CPU has them.
    expect_same_as_bptt(
        "T 37 hidden 24 scale 1 seed 3",
        (BpttConfig){.act = RNN_TANH, .init = BPTT_ORTHOGONAL, .scale = 1, .T = 37, .H = 24, .seed = 3});
    expect_same_as_bptt(
        "T 60 hidden 32 scale 1.3 activation relu init normal seed 1",
        (BpttConfig){.act = RNN_RELU, .init = BPTT_NORMAL, .scale = 1.3f, .T = 60, .H = 32, .seed = 1});
    expect_same_as_bptt(
        "T 50 hidden 32 scale 2 activation sigmoid init uniform seed 7",
        (BpttConfig){.act = RNN_SIGMOID, .init = BPTT_UNIFORM, .scale = 2, .T = 50, .H = 32, .seed = 7});
    expect_same_as_bptt(
        "T 200 hidden 16 scale 0.9 activation linear",
        (BpttConfig){
            .act = RNN_LINEAR, .init = BPTT_ORTHOGONAL, .scale = 0.9f, .T = 200, .H = 16, .seed = 1});
    expect_same_as_bptt(
        "T 45 hidden 24 scale 1 model lstm seed 2",
        (BpttConfig){
            .lstm = true, .act = RNN_TANH, .init = BPTT_ORTHOGONAL, .scale = 1, .T = 45, .H = 24, .seed = 2});
    expect_same_as_bptt(
        "T 30 hidden 32 scale 0.7 model lstm init normal forget 0",
        (BpttConfig){
            .lstm = true, .act = RNN_TANH, .init = BPTT_NORMAL, .scale = 0.7f, .T = 30, .H = 32, .seed = 1});
    expect_same_as_bptt("T 1 hidden 1 scale 0", (BpttConfig){.act = RNN_TANH, .T = 1, .H = 1, .seed = 1});
}

// Choice and number parameters reach the source: its words, not the
// choices' indices, pick the model, the activation and the init.
static void test_parameters_choose(void **state)
{
    (void)state;
    Lesson *l = lesson_test_parse(
        HEAD "param: act = tanh choice linear sigmoid relu tanh\n"
             "param: model = rnn choice lstm rnn\n"
             "param: init = orthogonal choice identity normal orthogonal\n"
             "param: s = 1 range 0.1 3\n"
             "param: T = 40 range 1 200 step 1\n"
             "source: g bptt T {T} hidden 16 scale {s} activation {act} model {model} init {init}\n" TAIL);
    Run *r = run_of(l, 0);
    BpttConfig c = {.act = RNN_TANH, .init = BPTT_ORTHOGONAL, .scale = 1, .T = 40, .H = 16, .seed = 1};
    double want[200];
    int n;
    assert_true(bptt_grad_norms(&c, want));
    assert_memory_equal(array(r, "g.norm", &n), want, 40 * sizeof(double));
    assert_false(run_lookup(r, "g.law", &(const double *){NULL}, &n)); // tanh: no exact law

    run_set_param(r, run_param_find(r, "act"), 2);  // relu
    run_set_param(r, run_param_find(r, "init"), 1); // normal
    run_set_param(r, run_param_find(r, "s"), 1.5);
    run_set_param(r, run_param_find(r, "T"), 77);
    run_settle(r);
    c = (BpttConfig){.act = RNN_RELU, .init = BPTT_NORMAL, .scale = 1.5f, .T = 77, .H = 16, .seed = 1};
    assert_true(bptt_grad_norms(&c, want));
    const double *norm = array(r, "g.norm", &n);
    assert_int_equal(n, 77);
    assert_memory_equal(norm, want, 77 * sizeof(double));
    assert_true(number(r, "g.gamma") == 1);

    run_set_param(r, run_param_find(r, "act"), 1); // sigmoid: gamma 1/4
    run_settle(r);
    assert_true(number(r, "g.gamma") == 0.25);
    assert_true(number(r, "g.lg") == 0.25 * number(r, "g.lambda1"));

    run_set_param(r, run_param_find(r, "model"), 0); // lstm: no bound, a forget gate
    run_settle(r);
    c = (BpttConfig){
        .lstm = true, .act = RNN_TANH, .init = BPTT_NORMAL, .scale = 1.5f, .T = 77, .H = 16, .seed = 1};
    assert_true(bptt_grad_norms(&c, want));
    assert_memory_equal(array(r, "g.norm", &n), want, 77 * sizeof(double));
    assert_true(isnan(number(r, "g.lambda1")) && isnan(number(r, "g.gamma")));
    double f = number(r, "g.forget_gate");
    assert_true(f > 0.3 && f < 0.7); // sigma of about 0 before training
    run_destroy(r);
    lesson_destroy(l);
}

// A linear RNN whose W_hh has every singular value s: ||dL/dh_t|| is
// s^(T-t) sqrt(H) up to float rounding, its log-slope per step back is
// log s, and its largest singular value is s.
static void expect_law(const char *init, double s, int T)
{
    char text[512];
    snprintf(text, sizeof(text),
             HEAD "source: g bptt T %d hidden 32 scale %g activation linear init %s\n" TAIL, T, s, init);
    Lesson *l = lesson_test_parse(text);
    Run *r = run_of(l, 0);
    int n, nl;
    const double *norm = array(r, "g.norm", &n), *law = array(r, "g.law", &nl);
    const double *law_back = array(r, "g.law_back", &nl);
    assert_int_equal(nl, T);
    double sf = (float)s, worst = 0;
    for (int t = 0; t < T; t++) {
        double exact = pow(sf, T - 1 - t) * sqrt(32.0);
        assert_true(fabs(law[t] / exact - 1) < 1e-6);
        assert_true(law_back[T - 1 - t] == law[t]);
        worst = fmax(worst, fabs(norm[t] / exact - 1));
    }
    assert_true(worst < 1e-5);
    assert_true(fabs(number(r, "g.law_error") - worst) < 1e-6);
    assert_true(fabs(number(r, "g.slope") - log(s)) < 1e-6);
    assert_true(number(r, "g.slope_gap") < 1e-6);
    assert_true(fabs(number(r, "g.log_s") - log(sf)) < 1e-12);
    assert_true(fabs(number(r, "g.factor") - s) < 1e-6);
    assert_true(fabs(number(r, "g.lambda1") - s) < 1e-5);
    run_destroy(r);
    lesson_destroy(l);
}

static void test_linear_law(void **state)
{
    (void)state;
    expect_law("orthogonal", 1.1, 200);
    expect_law("orthogonal", 0.8, 150);
    expect_law("identity", 0.9, 100);
    expect_law("identity", 1.05, 200);
}

// The Pascanu, Mikolov and Bengio picture on a tanh RNN: below scale 1 the
// norm vanishes, well above it explodes; the slope says which.
static void test_vanish_and_explode(void **state)
{
    (void)state;
    Lesson *l =
        lesson_test_parse(HEAD "source: a bptt T 100 scale 0.5\nsource: b bptt T 100 scale 1.5\n" TAIL);
    Run *r = run_of(l, 0);
    assert_true(number(r, "a.first") < 1e-20);
    assert_true(number(r, "a.slope") < -0.5);
    assert_true(number(r, "a.lg") < 1); // sufficient for vanishing
    assert_true(number(r, "b.first") > 100);
    assert_true(number(r, "b.slope") > 0);
    assert_true(number(r, "b.lg") > 1); // necessary for exploding
    run_destroy(r);
    lesson_destroy(l);
}

// A source that cannot be made says why; the run keeps going without it.
static void expect_refused(const char *source, const char *want)
{
    char text[512];
    snprintf(text, sizeof(text), HEAD "param: w = 0.5 range 0 1\nparam: on = off toggle\nsource: g %s\n" TAIL,
             source);
    Lesson *l = lesson_test_parse(text);
    Run *r = run_of(l, 0);
    const char *why = run_source_status(r, 0);
    if (!why || !strstr(why, want))
        fail_msg("'%s': status \"%s\" lacks \"%s\"", source, why ? why : "(none)", want);
    int n;
    assert_false(run_lookup(r, "g.norm", &(const double *){NULL}, &n));
    run_destroy(r);
    lesson_destroy(l);
}

static void test_bad_options(void **state)
{
    (void)state;
    expect_refused("bptt activation softmax",
                   "'activation softmax': give one of tanh, relu, sigmoid, linear");
    expect_refused("bptt model gru", "'model gru': give one of rnn, lstm");
    expect_refused("bptt init xavier", "give one of orthogonal, normal, uniform, identity");
    expect_refused("bptt T 201", "'T 201' is 201; it must be from 1 to 200");
    expect_refused("bptt T 2.5", "whole numbers");
    expect_refused("bptt hidden 0", "it must be from 1 to 128");
    expect_refused("bptt activation {w}", "'w' is a number; give a choice or toggle parameter");
    expect_refused("bptt model {nope}", "no parameter 'nope'");
    expect_refused("bptt model {on}", "'model off': give one of rnn, lstm"); // a toggle reads as on/off
    expect_refused("explode T 1", "'T 1' is 1; it must be from 2 to 200");
    expect_refused("explode threshold 0", "it must be from");
    expect_refused("explode clip 2", "'clip 2' is 2; it must be from 0 to 1");
    expect_refused("explode hidden 8.5", "whole numbers");
}

// source_option_word: literal words, choices and toggles as words.
static void test_option_word(void **state)
{
    (void)state;
    Lesson *l = lesson_test_parse(HEAD "param: act = relu choice tanh relu\nparam: on = on toggle\n"
                                       "source: g bptt activation {act} model {on} init normal\n" TAIL);
    double values[2] = {1, 1};
    SourceParams p = {.lesson = l, .values = values};
    const LessonSource *decl = &l->f2.sources[0];
    char err[160] = "";
    assert_string_equal(source_option_word(&p, decl, "activation", "x", err, sizeof(err)), "relu");
    assert_string_equal(source_option_word(&p, decl, "model", "x", err, sizeof(err)), "on");
    assert_string_equal(source_option_word(&p, decl, "init", "x", err, sizeof(err)), "normal");
    assert_string_equal(source_option_word(&p, decl, "seed", "dflt", err, sizeof(err)), "dflt");
    values[0] = 0, values[1] = 0;
    assert_string_equal(source_option_word(&p, decl, "activation", "x", err, sizeof(err)), "tanh");
    assert_string_equal(source_option_word(&p, decl, "model", "x", err, sizeof(err)), "off");
    lesson_destroy(l);
}

// ---------------------------------------------------------------------------
// explode

#define BOOM "explode lr 0.3 T 40 hidden 16 scale 1.1 seed 1 limit 400"

static void test_spike_is_named(void **state)
{
    (void)state;
    Lesson *l = lesson_test_parse(HEAD "source: g " BOOM "\n" TAIL);
    Run *r = run_of(l, 400);
    int steps = run_source_steps(r, 0), n;
    const char *why = run_source_status(r, 0);
    assert_true(steps >= 1 && steps < 400);
    assert_true(number(r, "g.spike") == steps);
    assert_true(number(r, "g.steps") == steps);
    assert_true(number(r, "g.clipped") == 0);
    char want[64];
    snprintf(want, sizeof(want), "the loss spiked at step %d (", steps);
    if (!why || strncmp(why, want, strlen(want)) != 0 || !strstr(why, "the gradient of ") ||
        !strstr(why, "clip the gradient or lower the rate"))
        fail_msg("status: %s", why ? why : "(none)");
    const double *loss = array(r, "g.loss", &n);
    assert_int_equal(n, steps + 1);
    double best = loss[0];
    for (int k = 1; k < steps; k++) {
        assert_true(isfinite(loss[k]) && loss[k] <= 10 * best); // no spike before the one named
        best = fmin(best, loss[k]);
    }
    assert_true(!isfinite(loss[steps]) || loss[steps] > 10 * best);
    // One gradient norm per update, the global one the root of the sum of the parts' squares.
    const double *norm = array(r, "g.norm", &n);
    assert_int_equal(n, steps);
    const double *part[4];
    const char *names[4] = {"g.W_hh", "g.W_ih", "g.bias", "g.readout"};
    for (int i = 0; i < 4; i++) {
        part[i] = array(r, names[i], &n);
        assert_int_equal(n, steps);
    }
    double peak = 0;
    for (int k = 0; k < steps; k++) {
        double sq = 0;
        for (int i = 0; i < 4; i++)
            sq += part[i][k] * part[i][k];
        assert_true(fabs(sqrt(sq) - norm[k]) <= 1e-12 * norm[k]);
        peak = fmax(peak, norm[k]);
    }
    assert_true(number(r, "g.peak") == peak);
    run_destroy(r);
    lesson_destroy(l);
}

static void test_clipping_prevents_the_spike(void **state)
{
    (void)state;
    Lesson *l = lesson_test_parse(HEAD "source: g " BOOM " clip 1 threshold 1\n"
                                       "source: h " BOOM " clip 1 threshold 1000000\n"
                                       "source: u " BOOM "\n" TAIL);
    char err[200];
    Run *r = run_create(l, false, err, sizeof(err));
    for (int i = 0; i < 3; i++)
        run_extend(r, i, 400);
    run_settle(r);
    assert_int_equal(run_source_steps(r, 0), 400);
    assert_string_equal(run_source_status(r, 0), "the step limit was reached");
    assert_true(number(r, "g.spike") == 0);
    assert_true(number(r, "g.clipped") >= 1);
    // A threshold nothing reaches changes nothing: the same run as unclipped.
    int n, m;
    const double *hl = array(r, "h.loss", &n), *ul = array(r, "u.loss", &m);
    assert_int_equal(n, m);
    assert_memory_equal(hl, ul, (size_t)n * sizeof(double));
    assert_true(number(r, "h.clipped") == 0);
    run_destroy(r);
    lesson_destroy(l);
}

// The state after N steps does not depend on how they were taken.
static void test_steps_not_chunks(void **state)
{
    (void)state;
    Lesson *l =
        lesson_test_parse(HEAD "source: g explode lr 0.2 clip 1 T 40 hidden 16 scale 1.1 seed 1 limit 120\n"
                          TAIL);
    char err[200];
    LessonSource *decl = &l->f2.sources[0];
    double values[1] = {0};
    SourceParams p = {.lesson = l, .values = values};
    const SourceKind *k = &source_explode_kind;
    void *a = k->create(&p, decl, err, sizeof(err)), *b = k->create(&p, decl, err, sizeof(err));
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(k->advance(a, 120), 120);
    for (int i = 0; i < 120; i += 7)
        k->advance(b, i + 7 <= 120 ? 7 : 120 - i);
    assert_int_equal(k->steps(b), 120);
    assert_int_equal(k->advance(b, 5), 0); // at its limit
    RunArrays pa = {0}, pb = {0};
    k->publish(a, "x.", &pa);
    k->publish(b, "x.", &pb);
    assert_int_equal(pa.n, pb.n);
    assert_int_equal(pa.used, pb.used);
    assert_memory_equal(pa.pool, pb.pool, pa.used * sizeof(double));
    run_arrays_free(&pa);
    run_arrays_free(&pb);
    k->destroy(a);
    k->destroy(b);
    lesson_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_norms_are_gradlab_bptts),
        cmocka_unit_test(test_parameters_choose),
        cmocka_unit_test(test_linear_law),
        cmocka_unit_test(test_vanish_and_explode),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_option_word),
        cmocka_unit_test(test_spike_is_named),
        cmocka_unit_test(test_clipping_prevents_the_spike),
        cmocka_unit_test(test_steps_not_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
