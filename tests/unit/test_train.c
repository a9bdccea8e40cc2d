// test_train.c: `train:` lessons. The line is parsed and checked (learning
// rate, params that are inputs), a gradient step moves every param against
// its gradient by exactly lr * grad, and repeated steps lower the output.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lessons/lesson.h"

#define HEAD "gradlab-lesson: 1\ntitle: T\nprogram:\n    w = 3\n    x = 2\n    f = (w * x - 1) ^ 2\nstep: done\n"

static Lesson *parse(const char *text, Diag *d)
{
    diag_init(d, "t.lesson", text, strlen(text));
    return lesson_parse(text, strlen(text), "t.lesson", d);
}

static void expect_error(const char *text, const char *want)
{
    Diag d;
    Lesson *l = parse(text, &d);
    assert_null(l);
    if (!strstr(diag_text(&d), want))
        fail_msg("message lacks \"%s\":\n%s", want, diag_text(&d));
    diag_free(&d);
}

static void test_parse(void **state)
{
    (void)state;
    Diag d;
    Lesson *l = parse(HEAD "train: lr 0.05 params w\n", &d);
    assert_non_null(l);
    assert_true(l->train.enabled);
    assert_true(l->train.lr == 0.05);
    assert_int_equal(l->train.nparams, 1);
    assert_string_equal(l->train.params[0], "w");
    lesson_destroy(l);
    diag_free(&d);

    expect_error(HEAD "train: lr -1 params w\n", "a positive learning rate");
    expect_error(HEAD "train: lr 0.1 w\n", "write 'params'");
    expect_error(HEAD "train: lr 0.1 params f\n", "'f' is not an input of the program");
    expect_error(HEAD "train: lr 0.1 params\n", "name at least one input");
    expect_error(HEAD "train: lr 0.1 params w\ntrain: lr 0.1 params x\n", "a second 'train:'");
    expect_error("gradlab-lesson: 1\ntitle: T\ntrain: lr 0.1 params w\n", "before the program");
}

static void test_step_moves_against_the_gradient(void **state)
{
    (void)state;
    Diag d;
    Lesson *l = parse(HEAD "train: lr 0.01 params w\n", &d);
    assert_non_null(l);
    Graph *g = graph_create(0);
    // f = (w x - 1)^2 with w = 3, x = 2: f = 25, df/dw = 2 (w x - 1) x = 20.
    double f0 = lesson_train_step(l, g);
    assert_true(f0 == 25);
    assert_true(fabs(program_input_value(l->program, 0) - (3 - 0.01 * 20)) < 1e-15);
    assert_true(program_input_value(l->program, 1) == 2); // x is not a param
    double prev = f0;
    for (int i = 0; i < 100; i++) { // the error shrinks by 0.92 a step
        double f = lesson_train_step(l, g);
        assert_true(f <= prev);
        prev = f;
    }
    assert_true(prev < 1e-3);
    graph_destroy(g);
    lesson_destroy(l);
    diag_free(&d);
}

static void test_no_train_line_changes_nothing(void **state)
{
    (void)state;
    Diag d;
    Lesson *l = parse(HEAD, &d);
    assert_non_null(l);
    Graph *g = graph_create(0);
    assert_true(lesson_train_step(l, g) == 25);
    assert_true(program_input_value(l->program, 0) == 3);
    graph_destroy(g);
    lesson_destroy(l);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_step_moves_against_the_gradient),
        cmocka_unit_test(test_no_train_line_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
