// test_run.c: the run of a format-2 lesson (lessons/run.h): parameters and
// their ranges, step directives, published arrays (lists as arrays,
// figures in text), and the promise that a source's state depends on its
// step count only: the worker thread and a headless settle give the same
// numbers, bit for bit, whatever the frames do in between.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lessons/run.h"

static const char text[] =
    "gradlab-lesson: 2\n"
    "title: Run test\n"
    "param: w = 0.5 range -1 1 step 0.1\n"
    "param: lr = 0.1 range 0.001 1 log\n"
    "param: act = tanh choice tanh relu\n"
    "source: fit train lr {lr} params w b limit 500 patience 0\n"
    "panel: loss plot fit.loss hidden\n"
    "panel: c circuit\n"
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
    "    Rate {lr:.2f}, activation {act}, loss {fit.loss:.3g}.\n"
    "step: done\n"
    "run: fit 200\n"
    "show: loss\n"
    "set: w = -0.3\n"
    "step: done\n"
    "set: act = relu\n";

static Lesson *load(void)
{
    Diag d;
    diag_init(&d, "run.lesson", text, sizeof(text) - 1);
    Lesson *l = lesson_parse(text, sizeof(text) - 1, "run.lesson", &d);
    if (!l)
        print_message("%s", diag_text(&d));
    diag_free(&d);
    assert_non_null(l);
    return l;
}

static void test_params_and_directives(void **state)
{
    (void)state;
    Lesson *l = load();
    char err[128];
    Run *r = run_create(l, false, err, sizeof(err));
    assert_non_null(r);
    int w = run_param_find(r, "w"), act = run_param_find(r, "act");
    assert_true(w >= 0 && act >= 0);
    assert_true(run_param(r, w) == 0.5);
    assert_false(run_panel_visible(r, 0));
    // Clamped to the range, snapped to the step.
    assert_true(run_set_param(r, w, 7) == 1);
    assert_true(fabs(run_set_param(r, w, 0.33) - 0.3) < 1e-12);
    assert_true(run_set_param(r, act, 5) == 1);
    // Step 1 (from step 0): its own directives on top of what the student set.
    run_goto(r, 1);
    run_settle(r);
    assert_true(run_param(r, w) == -0.3);
    assert_true(run_param(r, act) == 1); // not reset by a step forward
    assert_true(run_panel_visible(r, 0));
    assert_int_equal(run_source_steps(r, 0), 200);
    // A jump replays every step from the defaults, and a source past the
    // count the step asks for starts again (step 0 asks for none).
    run_goto(r, 0);
    run_settle(r);
    assert_true(run_param(r, w) == 0.5 && run_param(r, act) == 0);
    assert_int_equal(run_source_steps(r, 0), 0);
    run_goto(r, 2);
    assert_true(run_param(r, w) == -0.3 && run_param(r, act) == 1);
    run_destroy(r);
    lesson_destroy(l);
}

static void test_lists_and_figures(void **state)
{
    (void)state;
    Lesson *l = load();
    char err[128], buf[256];
    Run *r = run_create(l, false, err, sizeof(err));
    assert_non_null(r);
    const double *h = NULL, *gh = NULL;
    int n = 0, gn = 0;
    assert_true(run_lookup(r, "program.h", &h, &n));
    assert_true(run_lookup(r, "program.grad.h", &gh, &gn));
    assert_int_equal(n, 4);
    assert_int_equal(gn, 4);
    assert_true(h[0] == 0 && fabs(h[1] - tanh(0.5 * 0 + 0.5 + 0.1)) < 1e-15);
    const double *x = NULL;
    assert_true(run_lookup(r, "program.x", &x, &n) && n == 3 && x[2] == 0.9);
    run_format(r, "Rate {lr:.2f}, activation {act}, loss {fit.loss:.3g}, other {y} {grad w}", buf, sizeof(buf));
    const double *loss;
    assert_true(run_lookup(r, "fit.loss", &loss, &n) && n == 1);
    char want[256];
    snprintf(want, sizeof(want), "Rate 0.10, activation tanh, loss %.3g, other {y} {grad w}", loss[0]);
    assert_string_equal(buf, want);
    run_destroy(r);
    lesson_destroy(l);
}

// The worker and a headless settle reach the same state after the same steps.
static void test_worker_matches_headless(void **state)
{
    (void)state;
    Lesson *l = load();
    char err[128];
    Run *head = run_create(l, false, err, sizeof(err));
    run_goto(head, 1);
    run_settle(head);
    const double *a, *b;
    int na, nb;
    assert_true(run_lookup(head, "fit.loss", &a, &na));
    double want[201];
    assert_int_equal(na, 201);
    memcpy(want, a, sizeof(want));
    run_destroy(head);

    Run *win = run_create(l, true, err, sizeof(err));
    assert_non_null(win);
    run_goto(win, 1);
    // Frames come and go while the worker trains; wait (no time limit: the
    // test's own timeout is the guard) until it has published 200 steps.
    for (;;) {
        run_poll(win);
        if (run_source_steps(win, 0) >= 200 && !run_busy(win))
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    run_poll(win);
    assert_true(run_lookup(win, "fit.loss", &b, &nb));
    assert_int_equal(nb, 201);
    assert_memory_equal(want, b, sizeof(want));
    run_destroy(win);
    lesson_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_and_directives),
        cmocka_unit_test(test_lists_and_figures),
        cmocka_unit_test(test_worker_matches_headless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
