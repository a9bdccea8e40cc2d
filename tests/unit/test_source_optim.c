// test_source_optim.c: the `optimizers` source kind (lessons/source_optim.c)
// and the `surface` panel (views/widgets/surface.c): surfaces picked by a
// choice param, a surface's own map, what an optimizer's stop means, the
// terms of the selected optimizer's step, mistakes named with a fix, and the
// map item a click lands on. The paths themselves are compared with
// torch.optim by test_optim_paths_torch.py.
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lessons/run.h"
#include "views/lesson_view.h"
#include "views/widgets/surface.h"

// A lesson around one optimizers source o with these options, a panel line,
// and its step running o to its limit (or, with run false, not at all).
static Lesson *lesson_with(const char *options, const char *panel, bool run, char *err, size_t n)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "gradlab-lesson: 2\n"
             "title: Optimizers\n"
             "param: surf = bowl choice bowl saddle banana\n"
             "param: opt = sgd choice sgd momentum nesterov rmsprop adam\n"
             "param: lr = 0.05 range 0.001 2 log\n"
             "param: who = adam choice adam sgd\n"
             "source: o optimizers %s\n"
             "%s\n"
             "program:\n"
             "    x = 1\n"
             "    f = x * x\n"
             "step: done\n"
             "%s\n",
             options, panel, run ? "run: o 20000" : "");
    Diag d;
    diag_init(&d, "optim.lesson", text, strlen(text));
    Lesson *l = lesson_parse(text, strlen(text), "optim.lesson", &d);
    snprintf(err, n, "%s", diag_text(&d));
    diag_free(&d);
    return l;
}

static Lesson *load_run(const char *options, bool run)
{
    char err[2048];
    Lesson *l = lesson_with(options, "panel: map surface o", run, err, sizeof(err));
    if (!l)
        print_message("%s", err);
    assert_non_null(l);
    return l;
}

static Lesson *load(const char *options)
{
    return load_run(options, true);
}

static Run *settled(Lesson *l)
{
    char err[256];
    Run *r = run_create(l, false, err, sizeof(err));
    assert_non_null(r);
    run_goto(r, 0);
    run_settle(r);
    return r;
}

static const double *array(const Run *r, const char *name, int *count)
{
    const double *data = NULL;
    int n = 0;
    if (!run_lookup(r, name, &data, &n))
        return NULL;
    if (count)
        *count = n;
    return data;
}

static void test_pick_and_map(void **state)
{
    (void)state;
    Lesson *l =
        load("surface0 \"x^2 + y^2\" surface1 \"x^2 - y^2 on -2 2 -1 1\" pick {surf} limit 50 grid 16 "
             "x0 -1 y0 0.5");
    Run *r = settled(l);
    int n = 0;
    const double *range = array(r, "o.range", &n);
    assert_non_null(range);
    assert_int_equal(n, 4);
    assert_true(range[0] == -3 && range[1] == 3 && range[2] == -3 && range[3] == 3);
    const double *grid = array(r, "o.surface", &n);
    assert_non_null(grid);
    assert_int_equal(n, 16 * 16);
    // Row 0 is the top (y = 3 - half a cell), column 0 the left.
    double cx = -3 + 6 * 0.5 / 16, cy = 3 - 6 * 0.5 / 16;
    assert_true(fabs(grid[0] - (cx * cx + cy * cy)) < 1e-12);
    // The bowl from (-1, 0.5): SGD after 50 steps at 0.05 is the start times 0.9^50.
    const double *sgd = array(r, "o.sgd", &n);
    assert_int_equal(n, 51 * 2);
    assert_true(fabs(sgd[100] - -1 * pow(0.9, 50)) < 1e-6);
    const double *xs = array(r, "o.x.sgd", &n), *ys = array(r, "o.y.sgd", NULL);
    assert_int_equal(n, 51);
    assert_true(xs[50] == sgd[100] && ys[50] == sgd[101] && xs[0] == -1 && ys[0] == 0.5);
    // The second choice picks surface1, with its own map.
    run_set_param(r, run_param_find(r, "surf"), 1);
    run_settle(r);
    range = array(r, "o.range", &n);
    assert_true(range[0] == -2 && range[1] == 2 && range[2] == -1 && range[3] == 1);
    const double *loss = array(r, "o.loss.sgd", &n);
    assert_true(fabs(loss[0] - (1 - 0.25)) < 1e-12);
    // The third names no surface: the source says which and how to fix it.
    run_set_param(r, run_param_find(r, "surf"), 2);
    run_settle(r);
    assert_non_null(run_source_status(r, 0));
    assert_non_null(strstr(run_source_status(r, 0), "no 'surface2'"));
    run_destroy(r);
    lesson_destroy(l);
}

static void test_stops(void **state)
{
    (void)state;
    // Too high a rate on a bowl: SGD diverges, Adam does not.
    Lesson *l = load("surface \"x^2 + y^2\" lr 1.5 limit 100 x0 -2 y0 1");
    Run *r = settled(l);
    assert_true(array(r, "o.status.sgd", NULL)[0] == 2);
    assert_true(array(r, "o.status.adam", NULL)[0] == 0);
    int n = 0;
    array(r, "o.sgd", &n);
    assert_true(n / 2 < 20);
    assert_int_equal(run_source_steps(r, 0), 100);
    run_destroy(r);
    lesson_destroy(l);
    // Off a saddle: downhill, so it left the map rather than diverged.
    l = load("surface \"x^2 - y^2\" lr 0.05 limit 300 x0 -2 y0 0.01");
    r = settled(l);
    assert_true(array(r, "o.status.sgd", NULL)[0] == 1);
    assert_true(array(r, "o.status.adam", NULL)[0] == 1);
    assert_true(array(r, "o.loss.sgd", &n)[n - 1] < -9);
    run_destroy(r);
    lesson_destroy(l);
}

static void test_terms(void **state)
{
    (void)state;
    Lesson *l = load_run("surface \"x^2 + 3*y^2\" lr {lr} select {opt} x0 1 y0 1", false);
    char err[256];
    Run *r = run_create(l, false, err, sizeof(err));
    // Before any step: SGD's step is -lr times the gradient (2x, 6y), and it keeps no velocity.
    run_settle(r);
    const double *g = array(r, "o.grad", NULL), *step = array(r, "o.step", NULL),
                 *p = array(r, "o.point", NULL);
    assert_non_null(g);
    assert_true(p[0] == 1 && p[1] == 1 && g[0] == 2 && g[1] == 6);
    assert_true(fabs(step[0] - -0.05 * 2) < 1e-7 && fabs(step[1] - -0.05 * 6) < 1e-7);
    assert_null(array(r, "o.velocity", NULL));
    // Momentum's first velocity is the gradient; Adam's first step is lr in each coordinate.
    run_set_param(r, run_param_find(r, "opt"), 1);
    run_settle(r);
    const double *v = array(r, "o.velocity", NULL);
    assert_non_null(v);
    assert_true(v[0] == 2 && v[1] == 6);
    run_set_param(r, run_param_find(r, "opt"), 4);
    run_settle(r);
    step = array(r, "o.step", NULL);
    assert_true(fabs(step[0] + 0.05) < 1e-6 && fabs(step[1] + 0.05) < 1e-6);
    assert_true(array(r, "o.selected", NULL)[0] == 4);
    run_destroy(r);
    lesson_destroy(l);
    // A choice whose words are optimizers' names selects by name, whatever their order.
    l = load_run("surface \"x^2 + 3*y^2\" select {who}", false);
    r = run_create(l, false, err, sizeof(err));
    run_settle(r);
    assert_true(array(r, "o.selected", NULL)[0] == 4);
    assert_non_null(array(r, "o.velocity", NULL));
    run_set_param(r, run_param_find(r, "who"), 1);
    run_settle(r);
    assert_true(array(r, "o.selected", NULL)[0] == 0);
    assert_null(array(r, "o.velocity", NULL));
    run_destroy(r);
    lesson_destroy(l);
}

static void test_mistakes(void **state)
{
    (void)state;
    // A name other than x and y, with the column in the expression.
    Lesson *l = load("surface \"x^2 + z\"");
    Run *r = settled(l);
    const char *why = run_source_status(r, 0);
    assert_non_null(why);
    assert_non_null(strstr(why, "column 7"));
    assert_non_null(strstr(why, "unknown name 'z'"));
    run_destroy(r);
    lesson_destroy(l);
    // More than one statement, a bad map, a bad option value.
    const char *bad[][2] = {
        {"surface \"x = 1; x^2\"", "one expression"},       {"surface \"x^2 on 1 0 0 1\"", "XLO XHI YLO YHI"},
        {"surface \"x^2\" select newton", "sgd, momentum"}, {"surface \"x^2\" grid 3", "'grid 3'"},
        {"surface \"x^2\" range 0", "'range 0'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        l = load(bad[i][0]);
        r = settled(l);
        why = run_source_status(r, 0);
        if (!why || !strstr(why, bad[i][1]))
            fail_msg("%s: got '%s', want '%s'", bad[i][0], why ? why : "(nothing)", bad[i][1]);
        run_destroy(r);
        lesson_destroy(l);
    }
    // A surface panel names its source; an unknown option has a suggestion.
    char err[2048];
    assert_null(lesson_with("surface \"x^2\"", "panel: map surface nosuch", true, err, sizeof(err)));
    assert_non_null(strstr(err, "no source called 'nosuch'"));
    assert_null(lesson_with("surface \"x^2\" momentun 0.5", "", true, err, sizeof(err)));
    assert_non_null(strstr(err, "did you mean 'momentum'"));
}

static void test_panel(void **state)
{
    (void)state;
    Lesson *l = load("surface \"x^2 + y^2 on -4 2 -1 1\" x0 -3 y0 0.5 limit 40 select adam");
    Run *r = settled(l);
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    LessonViewParams vp = {.lesson = l, .theme = theme_get(THEME_DARK), .scale = 1, .run = r};
    lesson_view_build(s, g, &vp, 1280, 720);
    assert_false(s->failed);
    const SceneItem *map = scene_find(s, "panel:map:surface");
    assert_non_null(map);
    // The map keeps the plane's proportions (6 by 2), and a click maps back to the plane.
    assert_true(fabsf(map->w / map->h - 3) < 0.02f);
    SceneItem m = *map;
    double x, y;
    assert_true(surface_point_at(&m, (double[4]){-4, 2, -1, 1}, m.x + m.w / 2, m.y + m.h / 4, &x, &y));
    assert_true(fabs(x - -1) < 1e-6 && fabs(y - 0.5) < 1e-6);
    assert_false(surface_point_at(&m, (double[4]){-4, 2, -1, 1}, m.x - 1, m.y, &x, &y));
    // Five legend rows, the selected one in bold.
    assert_non_null(scene_find(s, "panel:map:surface:legend:4"));
    assert_null(scene_find(s, "panel:map:surface:legend:5"));
    assert_int_equal(scene_find(s, "panel:map:surface:legend:4")->font, FONT_BOLD);
    assert_int_equal(scene_find(s, "panel:map:surface:legend:0")->font, FONT_REGULAR);
    // Other sizes and themes build too.
    vp.theme = theme_get(THEME_LIGHT);
    vp.scale = 1.5f;
    lesson_view_build(s, g, &vp, 1024, 768);
    assert_false(s->failed);
    assert_non_null(scene_find(s, "panel:map:surface"));
    graph_destroy(g);
    scene_destroy(s);
    run_destroy(r);
    lesson_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_and_map), cmocka_unit_test(test_stops), cmocka_unit_test(test_terms),
        cmocka_unit_test(test_mistakes),     cmocka_unit_test(test_panel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
