// test_faults.c: NaN and Inf as teaching moments. A lesson whose numbers
// break (log(0), division by zero, exp overflow, a broken gradient) must
// build its screens without crashing, mark the wires, and explain in the
// narrative where and why the numbers broke.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lesson_test.h"
#include "lessons/lesson.h"
#include "views/lesson_view.h"

// The explanation at the last step, or "" when everything is finite.
static void explain_last(const char *program, char *buf, size_t n)
{
    char text[1024];
    snprintf(text, sizeof(text), "gradlab-lesson: 1\ntitle: t\nprogram:\n%s\nstep: auto\n", program);
    Lesson *l = lesson_test_parse(text);
    Graph *g = graph_create(0);
    Scene *s = scene_create();
    for (size_t st = 0; st < l->nsteps; st++) { // every step builds, nothing crashes
        LessonViewParams vp = {.lesson = l, .step = st, .theme = theme_get(THEME_DARK), .scale = 1};
        lesson_view_build(s, g, &vp, 1280, 720);
        assert_false(s->failed);
    }
    lesson_eval(l, g, l->nsteps - 1);
    lesson_explain_faults(g, buf, n);
    // The screen says so too.
    bool broken = buf[0] != '\0';
    assert_int_equal(scene_find(s, "fault") != NULL, broken);
    graph_destroy(g);
    scene_destroy(s);
    lesson_destroy(l);
}

static void test_log_zero(void **state)
{
    (void)state;
    char buf[1024];
    explain_last("    x = 0\n    l = log(x)\n    f = l * 2", buf, sizeof(buf));
    assert_non_null(strstr(buf, "`log(0)` is **-Inf**: the logarithm needs a positive input."));
    assert_non_null(strstr(buf, "That is `l`"));
}

static void test_log_negative_is_nan(void **state)
{
    (void)state;
    char buf[1024];
    explain_last("    x = -1\n    f = log(x)", buf, sizeof(buf));
    assert_non_null(strstr(buf, "`log(-1)` is **NaN**"));
}

static void test_division_by_zero(void **state)
{
    (void)state;
    char buf[1024];
    explain_last("    a = 3\n    b = 0\n    f = a / b", buf, sizeof(buf));
    assert_non_null(strstr(buf, "`3 / 0` is **+Inf**: division by zero."));
}

static void test_exp_overflow(void **state)
{
    (void)state;
    char buf[1024];
    explain_last("    x = 800\n    f = exp(x)", buf, sizeof(buf));
    assert_non_null(strstr(buf, "`exp(800)` is **+Inf**: it overflows a double"));
}

static void test_gradient_breaks(void **state)
{
    (void)state;
    char buf[1024];
    // abs(x)^0.5 at 0 is finite, but its slope 0.5 * 0^-0.5 is infinite.
    explain_last("    x = 0\n    a = abs(x)\n    f = a ^ 0.5", buf, sizeof(buf));
    assert_non_null(strstr(buf, "**The gradient broke.**"));
    assert_non_null(strstr(buf, "the local derivative for `a` is **+Inf**"));
}

static void test_finite_says_nothing(void **state)
{
    (void)state;
    char buf[1024];
    explain_last("    x = -2\n    y = 5\n    z = -4\n    f = (x + y) * z", buf, sizeof(buf));
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_zero),
        cmocka_unit_test(test_log_negative_is_nan),
        cmocka_unit_test(test_division_by_zero),
        cmocka_unit_test(test_exp_overflow),
        cmocka_unit_test(test_gradient_breaks),
        cmocka_unit_test(test_finite_says_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
