// test_lesson_rnn.c: lesson 6 (lessons/06-rnn-unrolled.lesson) computes
// what src/models' RNN computes. The lesson unrolls a one-unit tanh RNN in
// a program loop; here the same weights go into rnn.h's model (I = 1,
// H = 1, PyTorch's h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), with
// the lesson's b as b_ih and 0 as b_hh), the same inputs and initial state
// go forward, and the lesson's loss gradient dL/dh_t goes backward. Every
// h_t, dL/dh_t, dL/dx_t, dL/dh_0 and the gradients of W_hh, W_ih and both
// biases must agree, in each of the lesson's three tasks (many-to-many,
// many-to-one, one-to-many). Also: the lesson's shared weights are flagged
// VALUE_SHARED, and W_hh's gradient is the sum of the per-step shares.
//
// The model computes in float32 (its tanh is a polynomial good to about
// 1e-7), the lesson in double, so they agree to float precision, not to
// 1e-9: TOL below. The lesson's weights and data are exact in float, so no
// difference comes from rounding the inputs.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/expr.h"
#include "engine/value.h"
#include "lessons/lesson.h"
#include "models/rnn.h"

#define TOL 1e-6    // |lesson - model| <= TOL * max(1, |lesson|)
#define MAX_T 64

static Lesson *load_lesson6(void)
{
    const char *dir = getenv("GRADLAB_DATA_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/lessons/06-rnn-unrolled.lesson", dir && *dir ? dir : GRADLAB_SOURCE_DIR);
    Diag d;
    Lesson *l = lesson_load(path, &d);
    if (!l)
        fail_msg("%s does not load:\n%s", path, diag_text(&d));
    diag_free(&d);
    return l;
}

// The lesson's value named name in g, evaluated; fails when missing.
static const Value *named(const Lesson *l, const Graph *g, const char *name)
{
    const Value *v = program_lookup(l->program, g, name);
    if (!v)
        fail_msg("lesson 6 has no value named %s", name);
    return v;
}

// Element t of the lesson's list ("h", 3 is h[3]).
static const Value *elem(const Lesson *l, const Graph *g, const char *list, int t)
{
    char name[64];
    snprintf(name, sizeof(name), "%s[%d]", list, t);
    return named(l, g, name);
}

static void expect_close(const char *what, int t, double lesson, double model)
{
    double err = fabs(lesson - model), bound = TOL * fmax(1.0, fabs(lesson));
    if (!(err <= bound))
        fail_msg("%s (t = %d): lesson %.17g, model %.9g, differ by %.3g (more than %.3g)", what, t, lesson, model,
                 err, bound);
}

// Set the task, evaluate the lesson, run the model on the same numbers and
// compare. Returns the largest difference seen, relative as in TOL.
static double compare_task(Lesson *l, double seq_in, double seq_out)
{
    assert_true(program_set_input(l->program, "seq_in", seq_in));
    assert_true(program_set_input(l->program, "seq_out", seq_out));
    Graph *g = graph_create(0);
    assert_non_null(g);
    assert_non_null(lesson_eval_full(l, g));

    size_t nh = 0;
    assert_true(program_list(l->program, "h", &nh));
    int T = (int)nh - 1;
    assert_true(T >= 1 && T <= MAX_T);

    // The model, with the lesson's weights.
    Rnn *m = rnn_create(1, 1, RNN_TANH);
    assert_non_null(m);
    m->p.w_ih[0] = (float)named(l, g, "wxh")->data;
    m->p.w_hh[0] = (float)named(l, g, "whh")->data;
    m->p.b_ih[0] = (float)named(l, g, "b")->data;
    m->p.b_hh[0] = 0.0f;
    assert_true((double)m->p.w_ih[0] == named(l, g, "wxh")->data); // exact in float
    assert_true((double)m->p.w_hh[0] == named(l, g, "whh")->data);
    assert_true((double)m->p.b_ih[0] == named(l, g, "b")->data);

    // The same inputs x[1..T] (after the task's mask) and initial state.
    float x[MAX_T], h0 = (float)elem(l, g, "h", 0)->data, out[MAX_T], dout[MAX_T], dx[MAX_T];
    for (int t = 1; t <= T; t++) {
        x[t - 1] = (float)elem(l, g, "x", t)->data;
        assert_true((double)x[t - 1] == elem(l, g, "x", t)->data);
    }
    assert_true(rnn_forward(m, x, &h0, 1, T));
    rnn_output(m, out);

    // The lesson's loss gradient at each h[t], outside the recurrence: the
    // error e[t] = (h[t] - y[t])^2 sends dL/de[t] * 2 (h[t] - y[t]).
    double worst = 0;
    for (int t = 1; t <= T; t++) {
        double h = elem(l, g, "h", t)->data, y = elem(l, g, "y", t)->data;
        dout[t - 1] = (float)(elem(l, g, "e", t)->grad * 2.0 * (h - y));
        expect_close("h", t, h, out[t - 1]);
        worst = fmax(worst, fabs(h - out[t - 1]) / fmax(1.0, fabs(h)));
    }
    rnn_zero_grad(m);
    rnn_backward(m, dout, NULL);
    rnn_grad_input(m, dx);

    // dL/dh_t in total (own error and the future), dL/dx_t, dL/dh_0.
    for (int t = 1; t <= T; t++) {
        RecurrentStep st = rnn_step(m, t - 1);
        assert_non_null(st.dh);
        double gh = elem(l, g, "h", t)->grad, gx = elem(l, g, "x", t)->grad;
        expect_close("dL/dh", t, gh, st.dh[0]);
        expect_close("dL/dx", t, gx, dx[t - 1]);
        worst = fmax(worst, fabs(gh - st.dh[0]) / fmax(1.0, fabs(gh)));
    }
    expect_close("dL/dh0", 0, elem(l, g, "h", 0)->grad, m->dh0[0]);

    // The weights' gradients: each the sum over the steps.
    struct { const char *what, *name; float got; } w[] = {
        {"dL/dW_hh", "whh", m->g.w_hh[0]},
        {"dL/dW_ih", "wxh", m->g.w_ih[0]},
        {"dL/db_ih", "b", m->g.b_ih[0]},
        {"dL/db_hh", "b", m->g.b_hh[0]},
    };
    for (size_t k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
        double gl = named(l, g, w[k].name)->grad;
        expect_close(w[k].what, 0, gl, w[k].got);
        worst = fmax(worst, fabs(gl - w[k].got) / fmax(1.0, fabs(gl)));
    }

    // The lesson's per-step shares w[t] (copies of W_hh) add up to its gradient.
    double sum = 0;
    for (int t = 1; t <= T; t++)
        sum += elem(l, g, "w", t)->grad;
    assert_true(fabs(sum - named(l, g, "whh")->grad) <= 1e-12);

    rnn_destroy(m);
    graph_destroy(g);
    return worst;
}

static void test_many_to_many(void **state)
{
    (void)state;
    Lesson *l = load_lesson6();
    double worst = compare_task(l, 1, 1);
    print_message("many-to-many: largest difference %.3g\n", worst);
    lesson_destroy(l);
}

static void test_many_to_one(void **state)
{
    (void)state;
    Lesson *l = load_lesson6();
    double worst = compare_task(l, 1, 0);
    print_message("many-to-one: largest difference %.3g\n", worst);
    lesson_destroy(l);
}

static void test_one_to_many(void **state)
{
    (void)state;
    Lesson *l = load_lesson6();
    double worst = compare_task(l, 0, 1);
    print_message("one-to-many: largest difference %.3g\n", worst);
    lesson_destroy(l);
}

// The weights every step reads are the shared parameters a view marks; the
// data of one step are not.
static void test_shared_weights(void **state)
{
    (void)state;
    Lesson *l = load_lesson6();
    Graph *g = graph_create(0);
    assert_non_null(g);
    assert_non_null(lesson_eval_full(l, g));
    const char *shared[] = {"whh", "wxh", "b"}, *own[] = {"x[1]", "u[3]", "y[2]", "h[0]"};
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
        if (!(named(l, g, shared[i])->flags & VALUE_SHARED))
            fail_msg("%s is read by every step but is not flagged VALUE_SHARED", shared[i]);
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (named(l, g, own[i])->flags & VALUE_SHARED)
            fail_msg("%s belongs to one step but is flagged VALUE_SHARED", own[i]);
    graph_destroy(g);
    lesson_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_to_many),
        cmocka_unit_test(test_many_to_one),
        cmocka_unit_test(test_one_to_many),
        cmocka_unit_test(test_shared_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
