// test_lesson.c: lesson files (lessons/lesson.h). Lesson 1 loads with its
// steps and checks; lesson_eval marks which numbers are on screen at each
// step; placeholders expand; generated step texts; and bad lesson texts
// give their exact messages with source line and caret.
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

#include "config.h"
#include "lessons/lesson.h"
#include "lessons/run.h"

#define SHOWN (LESSON_SHOWN_VALUE | LESSON_SHOWN_GRAD)

static void lesson1_path(char *buf, size_t n)
{
    const char *dir = getenv("GRADLAB_DATA_DIR");
    snprintf(buf, n, "%s/lessons/01-circuit.lesson", dir && *dir ? dir : GRADLAB_SOURCE_DIR);
}

static Lesson *load_lesson1(void)
{
    char path[4096];
    lesson1_path(path, sizeof(path));
    Diag d;
    Lesson *l = lesson_load(path, &d);
    if (!l)
        fail_msg("%s does not load:\n%s", path, diag_text(&d));
    diag_free(&d);
    return l;
}

static Lesson *parse_ok(const char *src)
{
    Diag d;
    diag_init(&d, "t.lesson", src, strlen(src));
    Lesson *l = lesson_parse(src, strlen(src), "t.lesson", &d);
    if (!l)
        fail_msg("lesson does not parse:\n%s", diag_text(&d));
    diag_free(&d);
    return l;
}

static void expect_error_n(const char *src, size_t len, const char *want)
{
    Diag d;
    diag_init(&d, "bad.lesson", src, len);
    Lesson *l = lesson_parse(src, len, "bad.lesson", &d);
    assert_null(l);
    const char *got = diag_text(&d);
    if (strcmp(got, want) != 0)
        fail_msg("message differs.\n--- got:\n%s\n--- want:\n%s", got, want);
    diag_free(&d);
}

static void expect_error(const char *src, const char *want)
{
    expect_error_n(src, strlen(src), want);
}

// The start every bad lesson below shares: five lines.
#define HEAD "gradlab-lesson: 1\ntitle: T\nprogram:\n    x = 2\n    f = x * 3\n"

// ---------------------------------------------------------------------------
// Lesson 1

static void test_lesson1_loads(void **state)
{
    (void)state;
    Lesson *l = load_lesson1();
    assert_string_equal(l->title, "Backprop through a circuit");
    assert_string_equal(l->view, "circuit");
    assert_int_equal(l->nsteps, 7);
    assert_int_equal(l->nchecks, 6);
    assert_int_equal(l->f2.version, 2);
    assert_int_equal(l->f2.nchecks, 1); // gradcheck
    const StepKind kinds[] = {STEP_INTRO, STEP_FORWARD, STEP_FORWARD, STEP_BACKWARD, STEP_BACKWARD, STEP_DONE,
                              STEP_DONE};
    const size_t gates[] = {SIZE_MAX, 3, 4, 4, 3, SIZE_MAX, SIZE_MAX};
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(l->steps[i].kind, kinds[i]);
        if (kinds[i] == STEP_FORWARD || kinds[i] == STEP_BACKWARD)
            assert_int_equal(l->steps[i].gate, gates[i]);
        assert_non_null(l->steps[i].text);
        assert_non_null(l->steps[i].notes);
    }
    assert_string_equal(l->steps[0].notes,
                        "Ask the room first: if you could nudge one input, which one moves f most?");
    assert_string_equal(l->steps[1].notes, "");
    assert_string_equal(program_output_name(l->program), "f");
    assert_int_equal(program_input_count(l->program), 3);
    char desc[128];
    const char *want[] = {"f == -12", "q == 3", "grad x == -4", "grad y == -4", "grad z == 3", "grad q == -4"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(lesson_check_describe(l, i, desc, sizeof(desc)), want[i]);
    // The first check's line is where "check: f == -12" is in the file.
    int line = 1;
    for (const char *c = l->src; c < strstr(l->src, "check: f == -12"); c++)
        line += *c == '\n';
    assert_int_equal(l->checks[0].line, line);
    lesson_destroy(l);
}

static void test_lesson1_checks_pass(void **state)
{
    (void)state;
    Lesson *l = load_lesson1();
    Graph *g = graph_create(0);
    assert_non_null(lesson_eval(l, g, l->nsteps - 1));
    const double want[] = {-12, 3, -4, -4, 3, -4};
    for (size_t i = 0; i < l->nchecks; i++) {
        double got = NAN;
        assert_true(lesson_check_run(l, g, i, &got));
        assert_true(got == want[i]);
    }
    // Before the backward pass the gradient checks fail.
    lesson_eval(l, g, 2);
    double got;
    assert_true(lesson_check_run(l, g, 0, &got));
    assert_false(lesson_check_run(l, g, 2, &got));
    assert_true(got == 0);
    graph_destroy(g);
    lesson_destroy(l);
}

// Which numbers are on screen at each step of lesson 1 (x y z q f).
static void test_lesson1_shown_bits(void **state)
{
    (void)state;
    Lesson *l = load_lesson1();
    Graph *g = graph_create(0);
    const char *names[] = {"x", "y", "z", "q", "f"};
    // V = value shown, G = gradient shown, per node.
    const char *shown[7] = {
        "V V V - -",       // intro: only the inputs
        "V V V V -",       // forward q
        "V V V V V",       // forward f
        "V V VG VG VG",    // backward f: f's seed, then q and z
        "VG VG VG VG VG",  // backward q: x and y too
        "VG VG VG VG VG",  // done
        "VG VG VG VG VG",  // done, with the nudge
    };
    const double grads[7][5] = {
        {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0},
        {0, 0, 3, -4, 1}, {-4, -4, 3, -4, 1}, {-4, -4, 3, -4, 1}, {-4, -4, 3, -4, 1},
    };
    // Gates that have pushed (LESSON_PUSHED), q then f.
    const char *pushed[7] = {"--", "--", "--", "-P", "PP", "PP", "PP"};
    assert_int_equal(l->nsteps, 7);
    for (size_t st = 0; st < 7; st++) {
        Value *out = lesson_eval(l, g, st);
        assert_non_null(out);
        assert_string_equal(out->name, "f");
        assert_true(out->data == -12); // the graph always holds every value
        char got[64] = "";
        for (size_t i = 0; i < 5; i++) {
            Value *v = program_lookup(l->program, g, names[i]);
            assert_non_null(v);
            assert_true(v->mark & 1);
            if (i)
                strcat(got, " ");
            strcat(got, (v->mark & LESSON_SHOWN_VALUE) ? "V" : "-");
            if (v->mark & LESSON_SHOWN_GRAD)
                strcat(got, "G");
            if (v->grad != grads[st][i])
                fail_msg("step %zu: grad %s = %g, expected %g", st + 1, names[i], v->grad, grads[st][i]);
        }
        if (strcmp(got, shown[st]) != 0)
            fail_msg("step %zu shows '%s', expected '%s'", st + 1, got, shown[st]);
        char p[3] = {(program_lookup(l->program, g, "q")->mark & LESSON_PUSHED) ? 'P' : '-',
                     (program_lookup(l->program, g, "f")->mark & LESSON_PUSHED) ? 'P' : '-', '\0'};
        assert_string_equal(p, pushed[st]);
    }
    // Past the end is the last step.
    lesson_eval(l, g, 99);
    assert_true(program_lookup(l->program, g, "x")->grad == -4);
    graph_destroy(g);
    lesson_destroy(l);
}

static void test_lesson1_states(void **state)
{
    (void)state;
    Lesson *l = load_lesson1();
    LessonState s = lesson_state(l, 0);
    assert_int_equal(s.kind, STEP_INTRO);
    assert_int_equal(s.gate, SIZE_MAX);
    assert_int_equal(s.pass_first, SIZE_MAX);
    assert_false(s.backward_started);
    s = lesson_state(l, 1);
    assert_int_equal(s.kind, STEP_FORWARD);
    assert_int_equal(s.gate, 3);
    assert_int_equal(s.forward_upto, 3);
    assert_false(s.backward_started);
    s = lesson_state(l, 3);
    assert_int_equal(s.kind, STEP_BACKWARD);
    assert_int_equal(s.gate, 4);
    assert_int_equal(s.pass_first, 3);
    assert_true(s.backward_started);
    s = lesson_state(l, 4); // the same backward pass
    assert_int_equal(s.gate, 3);
    assert_int_equal(s.pass_first, 3);
    s = lesson_state(l, 5);
    assert_int_equal(s.kind, STEP_DONE);
    assert_int_equal(s.gate, SIZE_MAX);
    assert_true(s.backward_started);
    lesson_destroy(l);
}

// Expand placeholders by hand with the numbers of lesson 1 at a step, as
// an independent reference for lesson_step_text.
static void expand_by_hand(const char *text, size_t step, char *out, size_t n)
{
    static const char *const names[] = {"x", "y", "z", "q", "f"};
    static const char *const values[] = {"-2", "5", "-4", "3", "-12"};
    // Gradients shown in the graph at each step (0 before backward reaches them).
    static const char *const grads[6][5] = {
        {"0", "0", "0", "0", "0"}, {"0", "0", "0", "0", "0"}, {"0", "0", "0", "0", "0"},
        {"0", "0", "3", "-4", "1"}, {"-4", "-4", "3", "-4", "1"}, {"-4", "-4", "3", "-4", "1"},
    };
    size_t k = 0;
    out[0] = '\0';
    while (*text && k + 1 < n) {
        bool done = false;
        for (size_t i = 0; i < 5 && *text == '{' && !done; i++) {
            char v[16], g[24];
            snprintf(v, sizeof(v), "{%s}", names[i]);
            snprintf(g, sizeof(g), "{grad %s}", names[i]);
            const char *rep = NULL;
            size_t skip = 0;
            if (strncmp(text, v, strlen(v)) == 0) {
                rep = values[i];
                skip = strlen(v);
            } else if (strncmp(text, g, strlen(g)) == 0) {
                rep = grads[step][i];
                skip = strlen(g);
            }
            if (rep) {
                k += (size_t)snprintf(out + k, n - k, "%s", rep);
                text += skip;
                done = true;
            }
        }
        if (!done) {
            out[k++] = *text++;
            out[k] = '\0';
        }
    }
}

static void test_lesson1_placeholders(void **state)
{
    (void)state;
    Lesson *l = load_lesson1();
    Graph *g = graph_create(0);
    char buf[4096], want[4096];
    // Every step's text, expanded, matches the hand expansion and keeps no
    // braces (the last, the nudge, reads the parameter h: run_format's part).
    for (size_t st = 0; st + 1 < l->nsteps; st++) {
        lesson_eval(l, g, st);
        lesson_step_text(l, g, st, buf, sizeof(buf));
        assert_true(l->steps[st].text[0] != '\0'); // lesson 1 writes all its texts
        expand_by_hand(l->steps[st].text, st, want, sizeof(want));
        assert_string_equal(buf, want);
        assert_null(strchr(buf, '{'));
        assert_null(strchr(buf, '}'));
    }
    // The intro names the inputs' values; the numbers follow the inputs.
    lesson_eval(l, g, 0);
    lesson_step_text(l, g, 0, buf, sizeof(buf));
    assert_non_null(strstr(buf, "x = -2, y = 5 and z = -4"));
    assert_true(program_set_input(l->program, "x", 1.5));
    lesson_eval(l, g, 0);
    lesson_step_text(l, g, 0, buf, sizeof(buf));
    assert_non_null(strstr(buf, "x = 1.5, y = 5 and z = -4"));
    assert_true(program_set_input(l->program, "x", -2));
    // A small buffer is cut, and stays terminated.
    char small[10];
    lesson_step_text(l, g, 0, small, sizeof(small));
    assert_int_equal(strlen(small), 9);
    assert_memory_equal(small, l->steps[0].text, 9);
    // Out of range gives "".
    lesson_step_text(l, g, 99, buf, sizeof(buf));
    assert_string_equal(buf, "");
    // The nudge step: lesson_step_text keeps {h:.3g} for the run, which fills
    // it with the parameter (and its nudge panel's figures agree with backprop).
    char err[128], out[4096];
    Run *r = run_create(l, false, err, sizeof(err));
    assert_non_null(r);
    run_goto(r, 6);
    run_settle(r);
    lesson_step_text(l, run_graph(r), 6, buf, sizeof(buf));
    assert_non_null(strstr(buf, "h = {h:.3g}"));
    run_format(r, buf, out, sizeof(out));
    assert_non_null(strstr(out, "h = 0.01:"));
    assert_null(strchr(out, '{'));
    assert_true(run_panel_visible(r, 1)); // shown by the step
    RunNudge nd;
    assert_true(run_nudge(r, 1, &nd));
    assert_true(nd.x == -2 && nd.h == 0.01 && nd.grad == -4);
    assert_true(fabs(nd.f_plus - (-12.04)) < 1e-12 && fabs(nd.numeric - -4) < 1e-9);
    run_goto(r, 0);
    assert_false(run_panel_visible(r, 1)); // hidden again at the start
    run_set_param(r, run_param_find(r, "h"), 5); // clamped to the range
    assert_true(run_param(r, run_param_find(r, "h")) == 1);
    run_destroy(r);
    graph_destroy(g);
    lesson_destroy(l);
}

// ---------------------------------------------------------------------------
// Small lessons

static void test_auto_steps_and_generated_text(void **state)
{
    (void)state;
    Lesson *l = parse_ok(HEAD "step: auto\ncheck: f == 6\ncheck: grad x == 3 tol 1e-9\n");
    assert_int_equal(l->nsteps, 4);
    assert_int_equal(l->steps[0].kind, STEP_INTRO);
    assert_int_equal(l->steps[1].kind, STEP_FORWARD);
    assert_int_equal(l->steps[2].kind, STEP_BACKWARD);
    assert_int_equal(l->steps[3].kind, STEP_DONE);
    Graph *g = graph_create(0);
    char buf[1024];
    const char *want[] = {
        "The inputs are set. Press **\u2192** to run the forward pass gate by gate.",
        "Forward: `f = 2 \u00d7 3` = **6**.",
        ("Backward through `f`: the upstream gradient is \u2202f/\u2202f = **1**. "
         "For `x`: local 3 \u00d7 upstream 1 = **3**. For `3`: local 2 \u00d7 upstream 1 = **2**."),
        "Done. Every value now has its gradient \u2202f/\u2202value.",
    };
    for (size_t st = 0; st < 4; st++) {
        lesson_eval(l, g, st);
        lesson_step_text(l, g, st, buf, sizeof(buf));
        assert_string_equal(buf, want[st]);
    }
    double got;
    assert_true(lesson_check_run(l, g, 0, &got));
    assert_true(lesson_check_run(l, g, 1, &got));
    assert_true(got == 3);
    graph_destroy(g);
    lesson_destroy(l);
}

// A value feeding two gates shows a partial sum until both have pushed.
static void test_partial_sums(void **state)
{
    (void)state;
    Lesson *l = parse_ok("gradlab-lesson: 1\ntitle: T\nprogram:\n"
                         "    x = 3\n    a = x * 2\n    b = x * x\n    f = a + b\n"
                         "step: backward f\nstep: backward b\nstep: backward a\n");
    Graph *g = graph_create(0);
    const double xgrad[] = {0, 6, 8};
    const bool xshown[] = {false, true, true};
    for (size_t st = 0; st < 3; st++) {
        lesson_eval(l, g, st);
        Value *x = program_lookup(l->program, g, "x");
        if (x->grad != xgrad[st])
            fail_msg("step %zu: grad x = %g, expected %g", st + 1, x->grad, xgrad[st]);
        assert_int_equal((x->mark & LESSON_SHOWN_GRAD) != 0, xshown[st]);
        assert_true(x->mark & LESSON_SHOWN_VALUE);
    }
    graph_destroy(g);
    lesson_destroy(l);
}

// Issue 9, backward order: CS231n's staged example. Steps push gradients
// in the order the file gives them, so at each step x's gradient is the sum
// of the paths pushed so far (x feeds num, sigx and xpy).
#define STAGED "gradlab-lesson: 1\ntitle: Staged\nprogram:\n    x = 3\n    y = -4\n" \
               "    num = x + sigmoid(y)\n    sigx = sigmoid(x)\n    xpy = x + y\n    xpysq = xpy ^ 2\n" \
               "    den = sigx + xpysq\n    invden = 1 / den\n    f = num * invden\n"

typedef struct StagedPaths {
    double num, sigx, xpy; // what each path sends x
} StagedPaths;

static StagedPaths staged_paths(void)
{
    double x = 3, y = -4, sy = 1 / (1 + exp(-y)), sx = 1 / (1 + exp(-x));
    double num = x + sy, xpy = x + y, den = sx + xpy * xpy, invden = 1 / den;
    double dden = -num / (den * den);
    return (StagedPaths){invden, dden * sx * (1 - sx), dden * 2 * xpy};
}

// Evaluate every step of the lesson and compare x's gradient with want[]
// (and whether it is shown: not before a path reaches it).
static void expect_grad_x(Lesson *l, const double *want, size_t n)
{
    Graph *g = graph_create(0);
    assert_int_equal(l->nsteps, n);
    for (size_t st = 0; st < n; st++) {
        assert_non_null(lesson_eval(l, g, st));
        Value *x = program_lookup(l->program, g, "x");
        if (!(fabs(x->grad - want[st]) <= 1e-12))
            fail_msg("step %zu: grad x = %.17g, expected %.17g", st + 1, x->grad, want[st]);
        assert_int_equal((x->mark & LESSON_SHOWN_GRAD) != 0, want[st] != 0);
    }
    // A done step is the full backward pass.
    Graph *full = graph_create(0);
    lesson_eval_full(l, full);
    for (size_t st = 0; st < n; st++)
        if (l->steps[st].kind == STEP_DONE)
            assert_true(fabs(program_lookup(l->program, full, "x")->grad - want[st]) < 1e-12);
    graph_destroy(full);
    graph_destroy(g);
}

static void test_backward_order_staged(void **state)
{
    (void)state;
    StagedPaths p = staged_paths();
    // num right after f: possible (only f uses num), so that step shows the
    // gradient from num's path alone.
    Lesson *l = parse_ok(STAGED "step: backward f\nstep: backward num\n    x gets {grad x} through num.\n"
                         "step: backward invden\nstep: backward den\nstep: backward xpysq\n"
                         "step: backward sigx\nstep: backward xpy\nstep: done\n");
    double a[] = {0, p.num, p.num, p.num, p.num, p.num + p.sigx, p.num + p.sigx + p.xpy,
                  p.num + p.sigx + p.xpy};
    expect_grad_x(l, a, 8);
    Graph *g = graph_create(0);
    char buf[128], want[128];
    lesson_eval(l, g, 1);
    snprintf(want, sizeof(want), "x gets %.4f through num.", p.num);
    assert_string_equal(lesson_step_text(l, g, 1, buf, sizeof(buf)), want);
    // At num's step, num, invden (f's other input) and x have gradients on
    // screen; den, sigx and xpy, which no pushed gate feeds, do not.
    const char *on[] = {"f", "num", "invden", "x"}, *off[] = {"den", "sigx", "xpy", "xpysq", "y"};
    for (size_t i = 0; i < 4; i++)
        assert_true(program_lookup(l->program, g, on[i])->mark & LESSON_SHOWN_GRAD);
    for (size_t i = 0; i < 5; i++)
        assert_false(program_lookup(l->program, g, off[i])->mark & LESSON_SHOWN_GRAD);
    assert_true(program_lookup(l->program, g, "num")->mark & LESSON_PUSHED);
    assert_false(program_lookup(l->program, g, "invden")->mark & LESSON_PUSHED);
    LessonState s = lesson_state(l, 4);
    assert_int_equal(s.kind, STEP_BACKWARD);
    assert_int_equal(s.pass_first, 0);
    graph_destroy(g);
    lesson_destroy(l);
    // The statements in reverse (what 'step: auto' does): num comes last,
    // and the fork at x sums the paths pushed so far.
    l = parse_ok(STAGED "step: backward f\nstep: backward invden\nstep: backward den\nstep: backward xpysq\n"
                 "step: backward xpy\nstep: backward sigx\nstep: backward num\nstep: done\n");
    double b[] = {0, 0, 0, 0, p.xpy, p.xpy + p.sigx, p.xpy + p.sigx + p.num, p.xpy + p.sigx + p.num};
    expect_grad_x(l, b, 8);
    lesson_destroy(l);
}

// A gate not named by any step pushes when a named gate needs its gradient:
// 'backward num' first pushes f, 'backward sigx' then pushes invden and den.
// A gate named again pushes nothing more; an intro, forward or done step
// ends the pass, and the next backward step starts again from the output.
static void test_backward_order_implicit(void **state)
{
    (void)state;
    StagedPaths p = staged_paths();
    Lesson *l = parse_ok(STAGED "step: backward num\nstep: backward sigx\nstep: backward sigx\n"
                         "step: forward f\nstep: backward f\nstep: done\nstep: backward xpy\n");
    double want[] = {p.num, p.num + p.sigx, p.num + p.sigx, 0, 0, p.num + p.sigx + p.xpy, p.xpy};
    expect_grad_x(l, want, 7);
    Graph *g = graph_create(0);
    lesson_eval(l, g, 1);
    const char *pushed[] = {"f", "invden", "den", "sigx", "num"}, *not_pushed[] = {"xpysq", "xpy"};
    for (size_t i = 0; i < 5; i++)
        assert_true(program_lookup(l->program, g, pushed[i])->mark & LESSON_PUSHED);
    for (size_t i = 0; i < 2; i++)
        assert_false(program_lookup(l->program, g, not_pushed[i])->mark & LESSON_PUSHED);
    assert_true(program_lookup(l->program, g, "xpysq")->mark & LESSON_SHOWN_GRAD); // den pushed to it
    assert_false(program_lookup(l->program, g, "xpy")->mark & LESSON_SHOWN_GRAD);
    assert_int_equal(lesson_state(l, 2).pass_first, 0);
    assert_int_equal(lesson_state(l, 4).pass_first, 4);
    assert_int_equal(lesson_state(l, 6).pass_first, 6);
    assert_int_equal(lesson_state(l, 5).pass_first, SIZE_MAX);
    graph_destroy(g);
    lesson_destroy(l);
}

// An impossible order names the step to move.
static void test_backward_order_impossible(void **state)
{
    (void)state;
    expect_error("gradlab-lesson: 1\ntitle: T\nprogram:\n    x = 2\n    q = x + 1\n    f = q * 3\n"
                 "step: backward q\nstep: backward f\n",
                 "bad.lesson:7:16: error: 'backward q' comes before 'backward f' on line 8, but f is "
                 "computed from q, so q's gradient is not complete yet; move 'backward q' after "
                 "'backward f'\n"
                 "    step: backward q\n"
                 "                   ^\n");
    // Through a gate no step names: f is computed from a by way of b.
    expect_error("gradlab-lesson: 1\ntitle: T\nprogram:\n    x = 2\n    a = x * 2\n    b = a + 1\n"
                 "    f = b * b\nstep: backward f\nstep: backward a\n    text\nstep: backward b\n",
                 "bad.lesson:9:16: error: 'backward a' comes before 'backward b' on line 11, but b is "
                 "computed from a, so a's gradient is not complete yet; move 'backward a' after "
                 "'backward b'\n"
                 "    step: backward a\n"
                 "                   ^\n");
    // Lesson 1 with its two backward steps swapped.
    char path[4096];
    lesson1_path(path, sizeof(path));
    Diag d;
    Lesson *l1 = lesson_load(path, &d);
    assert_non_null(l1);
    diag_free(&d);
    char *src = strdup(l1->src);
    lesson_destroy(l1);
    char *bf = strstr(src, "\nstep: backward f\n"), *bq = strstr(src, "\nstep: backward q\n");
    assert_non_null(bf);
    assert_non_null(bq);
    assert_true(bf < bq);
    bf[16] = 'q';
    bq[16] = 'f';
    int lq = 2, lf = 2; // the lines of the steps, now 'backward q' first
    for (const char *c = src; c < bf; c++)
        lq += *c == '\n';
    for (const char *c = src; c < bq; c++)
        lf += *c == '\n';
    diag_init(&d, "bad.lesson", src, strlen(src));
    assert_null(lesson_parse(src, strlen(src), "bad.lesson", &d));
    char want[256];
    snprintf(want, sizeof(want), "bad.lesson:%d:16: error: 'backward q' comes before 'backward f' on "
             "line %d, but f is computed from q, so q's gradient is not complete yet; move 'backward q' "
             "after 'backward f'\n", lq, lf);
    if (strncmp(diag_text(&d), want, strlen(want)) != 0)
        fail_msg("message differs.\n--- got:\n%s\n--- want:\n%s", diag_text(&d), want);
    assert_int_equal(d.nerrors, 1);
    diag_free(&d);
    free(src);
}

static void test_check_tolerance(void **state)
{
    (void)state;
    Lesson *l = parse_ok(HEAD "step: auto\n"
                              "check: f == 6.5 tol 0.1\n"     // |6 - 6.5| <= 0.1 * 6.5
                              "check: f == 6.7 tol 0.1\n"     // 0.7 > 0.67
                              "check: grad x == 3.0000001\n"  // default tol 1e-9 * 3
                              "check: grad x ==    3\n"
                              "check: grad f == 1 tol 0\n");
    Graph *g = graph_create(0);
    lesson_eval(l, g, l->nsteps - 1);
    double got;
    assert_true(lesson_check_run(l, g, 0, &got));
    assert_false(lesson_check_run(l, g, 1, &got));
    assert_true(got == 6);
    assert_false(lesson_check_run(l, g, 2, &got));
    assert_true(lesson_check_run(l, g, 3, &got));
    assert_true(lesson_check_run(l, g, 4, &got));
    assert_int_equal(l->checks[0].line, 7);
    assert_true(l->checks[0].tol == 0.1);
    assert_true(l->checks[2].tol == 1e-9);
    graph_destroy(g);
    lesson_destroy(l);
}

// Comments, CRLF, notes, and step blocks keep their text dedented.
static void test_format_details(void **state)
{
    (void)state;
    Lesson *l = parse_ok("# a comment\r\n"
                         "gradlab-lesson: 1\r\n"
                         "title:   Spaces around   \r\n"
                         "view: circuit\r\n"
                         "\r\n"
                         "program:\r\n"
                         "    x = 2   # input\r\n"
                         "\r\n"
                         "    f = x * 3\r\n"
                         "step: intro\r\n"
                         "\r\n"
                         "    First line {x}.\r\n"
                         "      indented more\r\n"
                         "\r\n"
                         "    Second paragraph {grad x}.\r\n"
                         "\r\n"
                         "notes:\r\n"
                         "    Say hello.\r\n"
                         "step: forward f\r\n"
                         "step: backward f\r\n"
                         "step: done\r\n");
    assert_string_equal(l->title, "Spaces around");
    assert_int_equal(l->nsteps, 4);
    assert_string_equal(l->steps[0].text,
                        "First line {x}.\n  indented more\n\nSecond paragraph {grad x}.");
    assert_string_equal(l->steps[0].notes, "Say hello.");
    assert_string_equal(l->steps[1].text, ""); // generated at run time
    Graph *g = graph_create(0);
    char buf[256];
    lesson_eval(l, g, 0);
    lesson_step_text(l, g, 0, buf, sizeof(buf));
    assert_string_equal(buf, "First line 2.\n  indented more\n\nSecond paragraph 0.");
    graph_destroy(g);
    lesson_destroy(l);
}

static void test_load_missing_file(void **state)
{
    (void)state;
    Diag d;
    Lesson *l = lesson_load("/nonexistent/dir/x.lesson", &d);
    assert_null(l);
    const char *t = diag_text(&d);
    assert_non_null(strstr(t, "/nonexistent/dir/x.lesson"));
    assert_non_null(strstr(t, "No such file or directory"));
    assert_true(strncmp(t, "gradlab: error: ", 16) == 0);
    assert_true(d.nerrors >= 1);
    diag_free(&d);
    lesson_destroy(NULL);
}

// ---------------------------------------------------------------------------
// Bad lessons: exact messages.

static void test_error_unknown_key(void **state)
{
    (void)state;
    expect_error(HEAD "titl: X\nstep: auto\n",
                 "bad.lesson:6:1: error: unknown key 'titl'; did you mean 'title'?\n"
                 "    titl: X\n"
                 "    ^\n");
    expect_error(HEAD "colour: red\nstep: auto\n",
                 "bad.lesson:6:1: error: unknown key 'colour'\n"
                 "    colour: red\n"
                 "    ^\n");
    expect_error(HEAD "step auto\n",
                 "bad.lesson:6:1: error: expected 'key: value'; the keys are title, view, program, step, "
                 "notes, check and train\n"
                 "    step auto\n"
                 "    ^\n");
}

static void test_error_indented_line(void **state)
{
    (void)state;
    expect_error("gradlab-lesson: 1\n    hello\ntitle: T\nprogram:\n    x = 2\n    f = x * 3\nstep: auto\n",
                 "bad.lesson:2:1: error: an indented line outside a block; only lines under 'program:', "
                 "'step:' or 'notes:' are indented\n"
                 "        hello\n"
                 "    ^\n");
    expect_error(HEAD "step: auto\ncheck: f == 6\n  stray\n",
                 "bad.lesson:8:1: error: an indented line outside a block; only lines under 'program:', "
                 "'step:' or 'notes:' are indented\n"
                 "      stray\n"
                 "    ^\n");
}

static void test_error_step_before_program(void **state)
{
    (void)state;
    expect_error("gradlab-lesson: 1\ntitle: T\nstep: intro\nprogram:\n    x = 2\n",
                 "bad.lesson:3:1: error: a step comes before the program; put 'program:' first\n"
                 "    step: intro\n"
                 "    ^\n");
    expect_error("gradlab-lesson: 1\ntitle: T\ncheck: x == 2\nprogram:\n    x = 2\nstep: auto\n",
                 "bad.lesson:3:1: error: a check comes before the program; put 'program:' first\n"
                 "    check: x == 2\n"
                 "    ^\n");
}

static void test_error_step_kind(void **state)
{
    (void)state;
    expect_error(HEAD "step: forwrd f\n",
                 "bad.lesson:6:7: error: unknown step 'forwrd'; steps are intro, forward NAME, backward "
                 "NAME, done and auto (did you mean 'forward'?)\n"
                 "    step: forwrd f\n"
                 "          ^\n");
    expect_error(HEAD "step: zzz\n",
                 "bad.lesson:6:7: error: unknown step 'zzz'; steps are intro, forward NAME, backward NAME, "
                 "done and auto\n"
                 "    step: zzz\n"
                 "          ^\n");
    expect_error(HEAD "step: forward\n",
                 "bad.lesson:6:7: error: 'step: forward' needs the name of a gate, as in 'step: forward f'\n"
                 "    step: forward\n"
                 "          ^\n");
    expect_error(HEAD "step: intro now\n",
                 "bad.lesson:6:12: error: 'step: intro' takes no name\n"
                 "    step: intro now\n"
                 "               ^\n");
}

static void test_error_step_names(void **state)
{
    (void)state;
    expect_error(HEAD "step: forward x\n",
                 "bad.lesson:6:15: error: 'x' is an input, not a gate; forward steps name a computed value "
                 "such as 'f'\n"
                 "    step: forward x\n"
                 "                  ^\n");
    expect_error(HEAD "step: backward w\n",
                 "bad.lesson:6:16: error: unknown name 'w'; it must be a name the program assigns\n"
                 "    step: backward w\n"
                 "                   ^\n");
    expect_error("gradlab-lesson: 1\ntitle: T\nprogram:\n    x = 2\n    s = x * x\n    f = x * 3\n"
                 "step: forward s\n",
                 "bad.lesson:7:15: error: the output 'f' does not depend on 's', so no gradient flows "
                 "through it\n"
                 "    step: forward s\n"
                 "                  ^\n");
}

static void test_error_placeholder(void **state)
{
    (void)state;
    expect_error(HEAD "step: intro\n    value {w} here\n",
                 "bad.lesson:7:12: error: unknown name 'w' in a placeholder; the program has no such value\n"
                 "        value {w} here\n"
                 "               ^\n");
    expect_error(HEAD "step: intro\n    slope {grad w}\n",
                 "bad.lesson:7:17: error: unknown name 'w' in a placeholder; the program has no such value\n"
                 "        slope {grad w}\n"
                 "                    ^\n");
    expect_error(HEAD "step: intro\n    open {x here\n",
                 "bad.lesson:7:10: error: '{' without a closing '}'; placeholders look like {x} or {grad x}\n"
                 "        open {x here\n"
                 "             ^\n");
}

static void test_error_not_utf8(void **state)
{
    (void)state;
    expect_error(HEAD "step: intro\n    caf\xe9\n",
                 "bad.lesson:7:8: error: byte 0xe9 is not valid UTF-8 text; save the lesson as UTF-8\n"
                 "        caf\xe9\n"
                 "           ^\n");
    // A valid multi-byte character is fine, and counts as one column.
    Lesson *l = parse_ok(HEAD "step: intro\n    caf\xc3\xa9 \xe2\x88\x82\n");
    assert_string_equal(l->steps[0].text, "caf\xc3\xa9 \xe2\x88\x82");
    lesson_destroy(l);
    expect_error(HEAD "step: intro\n    \xc3\xa9\xc3\xa9 \xc3\n",
                 "bad.lesson:7:8: error: byte 0xc3 is not valid UTF-8 text; save the lesson as UTF-8\n"
                 "        \xc3\xa9\xc3\xa9 \xc3\n"
                 "           ^\n");
}

static void test_error_missing_parts(void **state)
{
    (void)state;
    expect_error("gradlab-lesson: 1\nprogram:\n    x = 2\n    f = x * 3\nstep: auto\n",
                 "bad.lesson:1:1: error: the lesson has no title; add a line 'title: ...'\n"
                 "    gradlab-lesson: 1\n"
                 "    ^\n");
    expect_error("gradlab-lesson: 1\ntitle: T\n",
                 "bad.lesson:1:1: error: the lesson has no program; add a 'program:' block with indented "
                 "lines\n"
                 "    gradlab-lesson: 1\n"
                 "    ^\n");
    expect_error(HEAD "check: f == 6\n",
                 "bad.lesson:7:1: error: the lesson has no steps; add 'step: auto' or 'step: intro' ...\n"
                 "    \n"
                 "    ^\n");
}

static void test_error_check_syntax(void **state)
{
    (void)state;
    expect_error(HEAD "step: auto\ncheck: f = 6\n",
                 "bad.lesson:7:8: error: a check looks like 'NAME == NUMBER' or 'grad NAME == NUMBER', "
                 "optionally followed by 'tol 1e-6'\n"
                 "    check: f = 6\n"
                 "           ^\n");
    expect_error(HEAD "step: auto\ncheck: f == six\n",
                 "bad.lesson:7:13: error: 'six' is not a number\n"
                 "    check: f == six\n"
                 "                ^\n");
    expect_error(HEAD "step: auto\ncheck: f == 6 within 2\n",
                 "bad.lesson:7:15: error: after the number a check takes only 'tol NUMBER'\n"
                 "    check: f == 6 within 2\n"
                 "                  ^\n");
    expect_error(HEAD "step: auto\ncheck: f == 6 tol -1\n",
                 "bad.lesson:7:19: error: the tolerance '-1' must be a number >= 0\n"
                 "    check: f == 6 tol -1\n"
                 "                      ^\n");
    expect_error(HEAD "step: auto\ncheck: f == 6 tol nan\n",
                 "bad.lesson:7:19: error: the tolerance 'nan' must be a finite number\n"
                 "    check: f == 6 tol nan\n"
                 "                      ^\n");
    expect_error(HEAD "step: auto\ncheck: grad w == 6\n",
                 "bad.lesson:7:13: error: unknown name 'w' in a check\n"
                 "    check: grad w == 6\n"
                 "                ^\n");
}

// Issue 8: 1e99999 was "not a number", and inf, -inf and nan could not be
// expected at all.
static void test_check_special_values(void **state)
{
    (void)state;
    expect_error(HEAD "step: auto\ncheck: f == 1e99999\n",
                 "bad.lesson:7:13: error: '1e99999' is out of range of a double (largest is about 1.8e308); "
                 "write inf if you mean infinity\n"
                 "    check: f == 1e99999\n"
                 "                ^\n");
    expect_error(HEAD "step: auto\ncheck: f == -1e-99999\n",
                 "bad.lesson:7:13: error: '-1e-99999' is too small for a double (smallest is about 5e-324); "
                 "write 0 if you mean zero\n"
                 "    check: f == -1e-99999\n"
                 "                ^\n");
    Lesson *l = parse_ok("gradlab-lesson: 1\ntitle: T\nprogram:\n    x = 0\n    y = -1\n    a = log(x)\n"
                         "    b = log(y)\n    c = 0 - a\n    f = a + b\nstep: auto\n"
                         "check: a == -inf\ncheck: c == inf\ncheck: b == nan\ncheck: f == NaN\n"
                         "check: a == INF\ncheck: x == 0e-99999\ncheck: x==0\ncheck: grad x==inf\n"
                         "check: c == -inf\ncheck: b == 0\ncheck: a == nan\n");
    assert_int_equal(l->nchecks, 11);
    Graph *g = graph_create(0);
    assert_non_null(lesson_eval_full(l, g));
    const bool pass[] = {true, true, true, true, false, true, true, true, false, false, false};
    const char *desc[] = {"a == -inf", "c == inf", "b == nan", "f == nan", "a == inf", "x == 0", "x == 0",
                          "grad x == inf"};
    for (size_t i = 0; i < 11; i++) {
        double got;
        if (lesson_check_run(l, g, i, &got) != pass[i])
            fail_msg("check %zu: expected it to %s (got %g)", i + 1, pass[i] ? "pass" : "fail", got);
        char buf[64];
        if (i < 8)
            assert_string_equal(lesson_check_describe(l, i, buf, sizeof(buf)), desc[i]);
    }
    graph_destroy(g);
    lesson_destroy(l);
    // Expected values of any length (issue 8: more than 62 characters).
    l = parse_ok(HEAD "step: auto\ncheck: f == "
                 "6.000000000000000000000000000000000000000000000000000000000000000000000000000000000001\n");
    assert_true(l->checks[0].expected == 6);
    lesson_destroy(l);
}

static void test_error_other(void **state)
{
    (void)state;
    expect_error("gradlab-lesson: 3\ntitle: T\n",
                 "bad.lesson:1:16: error: this gradlab reads lesson formats 1 and 2, not '3'\n"
                 "    gradlab-lesson: 3\n"
                 "                   ^\n");
    expect_error(HEAD "view: grpah\nstep: auto\n",
                 "bad.lesson:6:7: error: unknown view 'grpah'; did you mean 'graph'? the views are 'circuit' and 'graph'\n"
                 "    view: grpah\n"
                 "          ^\n");
    expect_error("gradlab-lesson: 1\ntitle: T\nprogram:\n    x = 2\nnotes:\n    hi\nstep: auto\n",
                 "bad.lesson:5:1: error: 'notes:' belongs under a step; put it after a 'step:'\n"
                 "    notes:\n"
                 "    ^\n");
    // Program errors count lines from the top of the lesson file.
    expect_error("gradlab-lesson: 1\ntitle: T\nprogram:\n    x = 2\n    f = x * w\nstep: auto\n",
                 "bad.lesson:5:13: error: unknown name 'w'; did you mean 'x'?\n"
                 "        f = x * w\n"
                 "                ^\n");
    expect_error("gradlab-lesson: 1\ntitle: T\nprogram:\nstep: auto\n",
                 "bad.lesson:4:1: error: the program is empty; write at least one statement, as in f = x * y\n"
                 "    step: auto\n"
                 "    ^\n");
}

// A second program block is one error; its indented lines belong to it and
// must not each add "an indented line outside a block".
static void test_error_second_program(void **state)
{
    (void)state;
    expect_error(HEAD "program:\n    y = 1\nstep: auto\n",
                 "bad.lesson:6:1: error: a second 'program:'; a lesson has one program\n"
                 "    program:\n"
                 "    ^\n");
}

// Issue 8: a UTF-8 byte-order mark gave "unknown key 'gradlab-lesson'" with
// an invisible character in front. It is skipped, and takes no column.
static void test_byte_order_mark(void **state)
{
    (void)state;
    Lesson *l = parse_ok("\xEF\xBB\xBF" HEAD "step: auto\n");
    assert_string_equal(l->title, "T");
    lesson_destroy(l);
    l = parse_ok("\xEF\xBB\xBF# a comment first\n" HEAD "step: auto\n");
    lesson_destroy(l);
    expect_error("\xEF\xBB\xBFgradlab-lesson: 3\ntitle: T\n",
                 "bad.lesson:1:16: error: this gradlab reads lesson formats 1 and 2, not '3'\n"
                 "    gradlab-lesson: 3\n"
                 "                   ^\n");
}

// Issue 8: an old Mac's lone CR line ends made one long line and a message
// that did not say why. They are line ends, counted as such in messages.
static void test_cr_line_endings(void **state)
{
    (void)state;
    Lesson *l = parse_ok("gradlab-lesson: 1\rtitle: Old Mac\rprogram:\r    x = 2\r    f = x * 3\r"
                         "step: intro\r    Line one {x}.\r\r    Line two.\rstep: auto\rcheck: grad x == 3\r");
    assert_string_equal(l->title, "Old Mac");
    assert_string_equal(l->steps[0].text, "Line one {x}.\n\nLine two.");
    assert_int_equal(l->nsteps, 1 + 1 + 1 + 1);
    assert_int_equal(l->nchecks, 1);
    lesson_destroy(l);
    expect_error("gradlab-lesson: 1\rtitle: T\rprogram:\r    x = 2\r    f = x * w\rstep: auto\r",
                 "bad.lesson:5:13: error: unknown name 'w'; did you mean 'x'?\n"
                 "        f = x * w\n"
                 "                ^\n");
    expect_error("gradlab-lesson: 1\rtitle: T\rprogram:\r    x = 2\r    f = x * 3\rstep: sideways\r",
                 "bad.lesson:6:7: error: unknown step 'sideways'; steps are intro, forward NAME, backward NAME, "
                 "done and auto\n"
                 "    step: sideways\n"
                 "          ^\n");
}

// Issue 9: a second title (or view) silently replaced the first.
static void test_error_second_title(void **state)
{
    (void)state;
    expect_error(HEAD "title: Again\nstep: auto\n",
                 "bad.lesson:6:1: error: a second 'title:'; a lesson has one title (the first is on line 2)\n"
                 "    title: Again\n"
                 "    ^\n");
    expect_error("gradlab-lesson: 1\nview: graph\n" "title: T\nprogram:\n    f = 1\nview: circuit\nstep: auto\n",
                 "bad.lesson:6:1: error: a second 'view:'; a lesson has one view (the first is on line 2)\n"
                 "    view: circuit\n"
                 "    ^\n");
}

// Issue 9: 'step: intro' with a narrative, then 'step: auto' (the README's
// own example) showed the intro twice.
static void test_auto_after_intro(void **state)
{
    (void)state;
    Lesson *l = parse_ok(HEAD "step: intro\n    One neuron.\nstep: auto\n");
    assert_int_equal(l->nsteps, 4); // intro, forward f, backward f, done
    assert_int_equal(l->steps[0].kind, STEP_INTRO);
    assert_string_equal(l->steps[0].text, "One neuron.");
    assert_int_equal(l->steps[1].kind, STEP_FORWARD);
    assert_int_equal(l->steps[2].kind, STEP_BACKWARD);
    assert_int_equal(l->steps[3].kind, STEP_DONE);
    lesson_destroy(l);
    l = parse_ok(HEAD "step: auto\n"); // alone, auto still starts with an intro
    assert_int_equal(l->nsteps, 4);
    assert_int_equal(l->steps[0].kind, STEP_INTRO);
    lesson_destroy(l);
}

// Narrative under 'step: auto' was dropped without a word: it is an error
// that says where it goes. A 'step: done' right after 'step: auto' gave two
// done steps: it is auto's done step with that narrative (and its notes and
// directives); a second 'step: done' is a step of its own.
static void test_auto_narrative_and_done(void **state)
{
    (void)state;
    expect_error(HEAD "step: auto\n\n    One neuron.\n",
                 "bad.lesson:8:5: error: step: auto writes its own narrative; put yours in a 'step: intro' "
                 "before it\n"
                 "        One neuron.\n"
                 "        ^\n");
    Lesson *l = parse_ok(HEAD "step: auto\ncheck: f == 6\nstep: done\n    All done: {grad x}.\n"
                              "notes:\n    Ask.\n");
    assert_int_equal(l->nsteps, 4); // intro, forward f, backward f, done
    assert_int_equal(l->steps[3].kind, STEP_DONE);
    assert_string_equal(l->steps[3].text, "All done: {grad x}.");
    assert_string_equal(l->steps[3].notes, "Ask.");
    lesson_destroy(l);
    l = parse_ok(HEAD "step: auto\nstep: done\n    First.\nstep: done\n    Second.\n");
    assert_int_equal(l->nsteps, 5);
    assert_string_equal(l->steps[3].text, "First.");
    assert_string_equal(l->steps[4].text, "Second.");
    lesson_destroy(l);
    l = parse_ok(HEAD "step: auto\nstep: intro\nstep: done\n"); // not right after auto: its own step
    assert_int_equal(l->nsteps, 6);
    lesson_destroy(l);
    l = parse_ok(HEAD "step: done\nstep: auto\n"); // a done before auto stays
    assert_int_equal(l->nsteps, 5);
    assert_int_equal(l->steps[0].kind, STEP_DONE);
    lesson_destroy(l);
}

// Issue 9: the caret of a train: error pointed at the start of the value,
// not at the bad name.
static void test_error_train_caret(void **state)
{
    (void)state;
#define TRAIN_HEAD "gradlab-lesson: 1\ntitle: T\nprogram:\n    w = 2\n    b = 1\n    f = w * b\nstep: auto\n"
    expect_error(TRAIN_HEAD "train: lr 0.1 params w f\n",
                 "bad.lesson:8:24: error: 'f' is not an input of the program; train params are names set to a "
                 "number, as in w = 0.5\n"
                 "    train: lr 0.1 params w f\n"
                 "                           ^\n");
    expect_error(TRAIN_HEAD "train:  lr 0.1  params  w  bb\n",
                 "bad.lesson:8:28: error: unknown name 'bb' in 'params'; did you mean 'b'?\n"
                 "    train:  lr 0.1  params  w  bb\n"
                 "                               ^\n");
    expect_error(TRAIN_HEAD "train: lr 0.1 params w zzzz\n",
                 "bad.lesson:8:24: error: unknown name 'zzzz' in 'params'; train params are inputs of the program, "
                 "as in w = 0.5\n"
                 "    train: lr 0.1 params w zzzz\n"
                 "                           ^\n");
    expect_error(TRAIN_HEAD "train: lr 0.1 params w b w\n",
                 "bad.lesson:8:26: error: 'w' is listed twice in 'params'\n"
                 "    train: lr 0.1 params w b w\n"
                 "                             ^\n");
    expect_error(TRAIN_HEAD "train: lr fast params w\n",
                 "bad.lesson:8:11: error: 'fast' is not a number\n"
                 "    train: lr fast params w\n"
                 "              ^\n");
    expect_error(TRAIN_HEAD "train: lr -1 params w\n",
                 "bad.lesson:8:11: error: write 'train: lr 0.1 params w b': a positive learning rate, then the "
                 "inputs to train\n"
                 "    train: lr -1 params w\n"
                 "              ^\n");
    expect_error(TRAIN_HEAD "train: lr 0.1 parms w\n",
                 "bad.lesson:8:15: error: after the learning rate write 'params' and the inputs to train, as in "
                 "'params w b'\n"
                 "    train: lr 0.1 parms w\n"
                 "                  ^\n");
#undef TRAIN_HEAD
}

// Issue 8: the first x of x = 2; x = x * x is reachable as x@1 in checks and
// placeholders, as gradlab grad lists it.
static void test_reassigned_labels(void **state)
{
    (void)state;
    Lesson *l = parse_ok("gradlab-lesson: 1\ntitle: T\nprogram:\n    x = 2\n    x = x * x\n"
                         "step: done\n    {x@1} {grad x@1} {x}\ncheck: grad x@1 == 4\ncheck: x@2 == 4\n");
    Graph *g = graph_create(0);
    lesson_eval_full(l, g);
    double got;
    assert_true(lesson_check_run(l, g, 0, &got));
    assert_true(lesson_check_run(l, g, 1, &got));
    char buf[128];
    assert_string_equal(lesson_step_text(l, g, 0, buf, sizeof(buf)), "2 4 4");
    graph_destroy(g);
    lesson_destroy(l);
}

// Issue 9: a lesson on a program with a list and a loop. Steps, checks,
// placeholders and train params name elements such as h[2].
static void test_loop_program(void **state)
{
    (void)state;
    Lesson *l = parse_ok("gradlab-lesson: 1\ntitle: T\nprogram:\n"
                         "    x = [1, -1, 2]\n    w = 0.5\n    h[0] = 0\n"
                         "    for t in 1..3\n        h[t] = tanh(w * h[t-1] + x[t-1])\n    end\n"
                         "    f = h[3] ^ 2\n"
                         "step: forward h[2]\n    h[2] is {h[2]}, d f / d h[1] is {grad h[1]}.\n"
                         "step: backward h[1]\n    {grad h[1]}\n"
                         "check: grad w == 0.1 tol 100\ncheck: h[1] == 0.7615941559557649\n"
                         "train: lr 0.1 params w x[0]\n");
    assert_int_equal(l->nsteps, 2);
    assert_int_equal(l->steps[0].gate, program_binding_node(l->program, "h[2]"));
    assert_int_equal(l->train.nparams, 2);
    assert_string_equal(l->train.params[1], "x[0]");
    Graph *g = graph_create(0);
    lesson_eval_full(l, g);
    double got;
    assert_true(lesson_check_run(l, g, 1, &got));
    char buf[256];
    lesson_eval(l, g, 0);
    assert_string_equal(lesson_step_text(l, g, 0, buf, sizeof(buf)), "h[2] is -0.5506, d f / d h[1] is 0.");
    double before = lesson_train_step(l, g);
    assert_true(lesson_train_step(l, g) < before);
    graph_destroy(g);
    lesson_destroy(l);
    // The 'end' of a loop at column 0 ends the program block: say so.
    expect_error("gradlab-lesson: 1\ntitle: T\nprogram:\n    h[0] = 1\n    for t in 1..2\n    h[t] = h[t-1] * 2\n"
                 "end\nstep: auto\n",
                 "bad.lesson:7:1: error: a loop's 'end' belongs to the program; indent it like the program's "
                 "other lines\n"
                 "    end\n"
                 "    ^\n");
    expect_error("gradlab-lesson: 1\ntitle: T\nprogram:\n    f = 1\nstep: auto\nfor t in 1..2\n",
                 "bad.lesson:6:1: error: a loop's 'for' belongs to the program; indent it like the program's "
                 "other lines\n"
                 "    for t in 1..2\n"
                 "    ^\n");
    expect_error("gradlab-lesson: 1\ntitle: T\nprogram:\n    x = [1, 2]\n    f = x[0] * x[1]\nstep: forward x[2]\n",
                 "bad.lesson:6:15: error: unknown name 'x[2]'; it must be a name the program assigns\n"
                 "    step: forward x[2]\n"
                 "                  ^\n");
}

// sqrt below 0 and at 0: the narrative says why the numbers broke.
static void test_sqrt_faults(void **state)
{
    (void)state;
    Lesson *l = parse_ok("gradlab-lesson: 1\ntitle: T\nprogram:\n    x = -4\n    f = sqrt(x)\nstep: done\n");
    Graph *g = graph_create(0);
    lesson_eval(l, g, 0);
    char buf[512];
    assert_true(lesson_explain_faults(g, buf, sizeof(buf)));
    assert_non_null(strstr(buf, "`sqrt(-4)` is **NaN**: a negative number has no real square root."));
    program_set_input(l->program, "x", 0);
    lesson_eval(l, g, 0);
    assert_true(lesson_explain_faults(g, buf, sizeof(buf)));
    assert_non_null(strstr(buf, "**The gradient broke.**"));
    assert_non_null(strstr(buf, "sqrt"));
    graph_destroy(g);
    lesson_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lesson1_loads),
        cmocka_unit_test(test_lesson1_checks_pass),
        cmocka_unit_test(test_lesson1_shown_bits),
        cmocka_unit_test(test_lesson1_states),
        cmocka_unit_test(test_lesson1_placeholders),
        cmocka_unit_test(test_auto_steps_and_generated_text),
        cmocka_unit_test(test_partial_sums),
        cmocka_unit_test(test_backward_order_staged),
        cmocka_unit_test(test_backward_order_implicit),
        cmocka_unit_test(test_backward_order_impossible),
        cmocka_unit_test(test_check_tolerance),
        cmocka_unit_test(test_format_details),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_error_unknown_key),
        cmocka_unit_test(test_error_indented_line),
        cmocka_unit_test(test_error_step_before_program),
        cmocka_unit_test(test_error_step_kind),
        cmocka_unit_test(test_error_step_names),
        cmocka_unit_test(test_error_placeholder),
        cmocka_unit_test(test_error_not_utf8),
        cmocka_unit_test(test_error_missing_parts),
        cmocka_unit_test(test_error_check_syntax),
        cmocka_unit_test(test_check_special_values),
        cmocka_unit_test(test_error_other),
        cmocka_unit_test(test_error_second_program),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_cr_line_endings),
        cmocka_unit_test(test_error_second_title),
        cmocka_unit_test(test_auto_after_intro),
        cmocka_unit_test(test_auto_narrative_and_done),
        cmocka_unit_test(test_error_train_caret),
        cmocka_unit_test(test_reassigned_labels),
        cmocka_unit_test(test_loop_program),
        cmocka_unit_test(test_sqrt_faults),
    };
    return cmocka_run_group_tests_name("lesson", tests, NULL, NULL);
}
