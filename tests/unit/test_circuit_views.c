// test_circuit_views.c: what the circuit view draws beyond one number per
// wire, checked on the scene (no pixels): a value that feeds two gates
// (lesson 2's dot) shows each branch's share before its gate and their sum
// at the fork, revealed by the backward steps like every other gradient.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "lessons/lesson.h"
#include "lessons/run.h"
#include "views/lesson_view.h"
#include "views/widgets/graph.h"
#include "views/scene.h"
#include "views/theme.h"

typedef struct Fixture {
    Lesson *lesson;
    Scene *scene;
    Graph *graph;
} Fixture;

static Lesson *load(const char *name)
{
    const char *dir = getenv("GRADLAB_DATA_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/lessons/%s", dir && *dir ? dir : GRADLAB_SOURCE_DIR, name);
    Diag d;
    Lesson *l = lesson_load(path, &d);
    if (!l)
        fprintf(stderr, "%s", diag_text(&d));
    diag_free(&d);
    return l;
}

static int setup_gates(void **state)
{
    Fixture *f = calloc(1, sizeof(*f));
    f->lesson = load("02-gates.lesson");
    f->scene = scene_create();
    f->graph = graph_create(0);
    *state = f;
    return f->lesson && f->scene && f->graph ? 0 : -1;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    lesson_destroy(f->lesson);
    scene_destroy(f->scene);
    graph_destroy(f->graph);
    free(f);
    return 0;
}

static Scene *build(Fixture *f, size_t step, float w, float h, float scale)
{
    LessonViewParams p = {.lesson = f->lesson, .step = step, .theme = theme_get(THEME_DARK), .scale = scale};
    lesson_view_build(f->scene, f->graph, &p, w, h);
    assert_false(f->scene->failed);
    return f->scene;
}

// The step (0-based) whose line is "backward NAME".
static size_t step_of(Fixture *f, const char *name)
{
    assert_non_null(lesson_eval(f->lesson, f->graph, 0));
    for (size_t i = 0; i < f->lesson->nsteps; i++) {
        const LessonStep *st = &f->lesson->steps[i];
        if (st->kind == STEP_BACKWARD && st->gate < f->graph->n && f->graph->nodes[st->gate]->name &&
            strcmp(f->graph->nodes[st->gate]->name, name) == 0)
            return i;
    }
    fail_msg("no step 'backward %s'", name);
    return 0;
}

static const char *text_of(const Scene *s, const char *id)
{
    const SceneItem *it = scene_find(s, id);
    return it && it->kind == SCENE_TEXT ? it->text : NULL;
}

static double number_of(const Scene *s, const char *id)
{
    const char *t = text_of(s, id);
    if (!t)
        fail_msg("no text item '%s'", id);
    return strtod(t, NULL);
}

// The share dot sends through each of its two gates (nd = -dot, fs = σ(dot)):
// 0.5 × σ'(1) each, 0.09831 to 4 digits; their sum is σ'(1).
static void test_fork_shares_and_sum(void **state)
{
    Fixture *f = *state;
    size_t nd = step_of(f, "nd"), fs = step_of(f, "fs");
    const float sizes[][3] = {{1280, 720, 1}, {1920, 1080, 1}, {1024, 768, 1}, {1280, 720, 2}};
    for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
        // Before either gate has pushed: no shares, no sum, but the fork is drawn.
        Scene *s = build(f, nd - 1, sizes[z][0], sizes[z][1], sizes[z][2]);
        assert_non_null(scene_find(s, "fork:dot"));
        assert_null(scene_find(s, "branch:dot:nd"));
        assert_null(scene_find(s, "branch:dot:fs"));
        assert_null(scene_find(s, "sum:dot"));
        // nd has pushed: its share, and the sum so far is that share alone.
        s = build(f, nd, sizes[z][0], sizes[z][1], sizes[z][2]);
        assert_non_null(scene_find(s, "branch:dot:nd"));
        assert_null(scene_find(s, "branch:dot:fs"));
        assert_float_equal(number_of(s, "branch:dot:nd"), 0.09831, 1e-5);
        assert_string_equal(text_of(s, "sum:dot"), "\u03a3");
        assert_float_equal(number_of(s, "grad:dot"), 0.09831, 1e-5);
        // fs has pushed too: both shares, and the sum at the fork.
        s = build(f, fs, sizes[z][0], sizes[z][1], sizes[z][2]);
        assert_float_equal(number_of(s, "branch:dot:nd"), 0.09831, 1e-5);
        assert_float_equal(number_of(s, "branch:dot:fs"), 0.09831, 1e-5);
        assert_non_null(scene_find(s, "sum:dot"));
        assert_float_equal(number_of(s, "grad:dot"), 0.1966, 1e-4);
        // The shares sit left of their gates, right of the sum.
        const SceneItem *sum = scene_find(s, "grad:dot"), *a = scene_find(s, "branch:dot:nd"),
                        *b = scene_find(s, "branch:dot:fs"), *ga = scene_find(s, "gate:nd"),
                        *gb = scene_find(s, "gate:fs");
        assert_non_null(ga);
        assert_non_null(gb);
        assert_true(a->x > sum->x && b->x > sum->x);
        assert_true(a->x + a->w <= ga->x - ga->radius + 1e-3f); // a circle: centre and radius
        assert_true(b->x + b->w <= gb->x - gb->radius + 1e-3f);
    }
}

// A value that feeds one gate has no fork, no shares and no Σ.
static void test_no_fork_for_one_consumer(void **state)
{
    Fixture *f = *state;
    Scene *s = build(f, f->lesson->nsteps - 1, 1280, 720, 1);
    assert_null(scene_find(s, "fork:s"));
    assert_null(scene_find(s, "sum:s"));
    assert_null(scene_find(s, "branch:s:r"));
    assert_non_null(scene_find(s, "grad:s"));
}

// Lesson 3's plot: against curve.x, the saturated intervals shaded, the
// slider's z marked on both curves (a plot's x, shade and mark options).
static void test_plot_shade_and_mark(void **state)
{
    (void)state;
    Lesson *l = load("03-activations.lesson");
    assert_non_null(l);
    char err[256];
    Run *r = run_create(l, false, err, sizeof(err));
    assert_non_null(r);
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    const float sizes[][3] = {{1280, 720, 1}, {1280, 720, 2}, {1024, 768, 1}};
    for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
        run_goto(r, 2); // z = 4 on the sigmoid
        run_settle(r);
        LessonViewParams p = {.lesson = l, .run = r, .theme = theme_get(THEME_DARK), .scale = sizes[z][2]};
        lesson_view_build(s, g, &p, sizes[z][0], sizes[z][1]);
        assert_false(s->failed);
        size_t shades = 0, marks = 0;
        for (size_t i = 0; i < s->n; i++) {
            const char *id = s->items[i].id;
            shades += id && strcmp(id, "panel:plot:plot:shade") == 0;
            marks += id && strcmp(id, "panel:plot:plot:mark") == 0;
        }
        assert_int_equal(shades, 2); // the sigmoid saturates on both sides
        assert_int_equal(marks, 2);  // f and f' at z
        assert_string_equal(text_of(s, "panel:plot:plot:mark-label"), "4");
        assert_non_null(scene_find(s, "panel:plot:plot:legend"));
    }
    graph_destroy(g);
    scene_destroy(s);
    run_destroy(r);
    lesson_destroy(l);
}

// Lesson 6's unrolled RNN is too wide to read whole at 1280x720: the
// circuit is drawn at a readable size (values of at least 11 px) as a
// window that follows the steps, with the current gate in it, nothing
// outside the panel, and the shared W_hh, W_xh and b marked.
static void test_rnn_window_and_shared(void **state)
{
    (void)state;
    Lesson *l = load("06-rnn-unrolled.lesson");
    assert_non_null(l);
    char err[256];
    Run *r = run_create(l, false, err, sizeof(err));
    assert_non_null(r);
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    for (size_t st = 0; st < l->nsteps; st++) {
        run_goto(r, st);
        run_settle(r);
        LessonViewParams p = {.lesson = l, .run = r, .theme = theme_get(THEME_DARK), .scale = 1};
        lesson_view_build(s, g, &p, 1280, 720);
        assert_false(s->failed);
        size_t numbers = 0;
        for (size_t i = 0; i < s->n; i++) {
            const SceneItem *it = &s->items[i];
            if (!it->id || it->kind != SCENE_TEXT ||
                (strncmp(it->id, "value:", 6) != 0 && strncmp(it->id, "grad:", 5) != 0))
                continue;
            numbers++;
            // (a gradient wider than the room for it is drawn a little smaller)
            if (it->size < (it->id[0] == 'v' ? 10.9f : 8.0f))
                fail_msg("step %zu: '%s' is %.1f px", st + 1, it->id, (double)it->size);
            assert_true(it->x >= 0 && it->x + it->w <= 1280 && it->y >= 90 && it->y + it->h <= 470);
        }
        assert_true(numbers > 4);
        const LessonState ls = lesson_state(l, st);
        if (ls.kind == STEP_BACKWARD || ls.kind == STEP_FORWARD) // the current gate is in the window
            assert_non_null(scene_find(s, "callout-box"));
    }
    // The step that introduces weight sharing highlights whh: the three
    // shared weights are marked.
    run_goto(r, 2);
    run_settle(r);
    LessonViewParams p = {.lesson = l, .run = r, .theme = theme_get(THEME_DARK), .scale = 1};
    lesson_view_build(s, g, &p, 1280, 720);
    assert_non_null(scene_find(s, "shared:whh"));
    assert_non_null(scene_find(s, "shared:wxh"));
    assert_non_null(scene_find(s, "shared:b"));
    assert_null(scene_find(s, "shared:h[0]"));
    graph_destroy(g);
    scene_destroy(s);
    run_destroy(r);
    lesson_destroy(l);
}

// The graph view of an unrolled RNN (tests/lessons/rnn-unrolled.lesson) at
// 1280x720: fitted whole it would show shapes only; it is shown at a
// readable zoom around the output, with numbers.
static void test_graph_readable(void **state)
{
    (void)state;
    const char *dir = getenv("GRADLAB_DATA_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/lessons/rnn-unrolled.lesson", dir && *dir ? dir : GRADLAB_SOURCE_DIR);
    Diag d;
    Lesson *l = lesson_load(path, &d);
    diag_free(&d);
    assert_non_null(l);
    char err[256];
    Run *r = run_create(l, false, err, sizeof(err));
    assert_non_null(r);
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    LessonGraphState gs = {0};
    for (size_t st = 0; st < l->nsteps; st++) {
        run_goto(r, st);
        run_settle(r);
        LessonViewParams p = {.lesson = l, .run = r, .theme = theme_get(THEME_DARK), .scale = 1, .graph = &gs};
        lesson_view_build(s, g, &p, 1280, 720);
        assert_false(s->failed);
        size_t numbers = 0;
        for (size_t i = 0; i < s->n; i++) {
            const SceneItem *it = &s->items[i];
            if (it->id && it->kind == SCENE_TEXT && strncmp(it->id, "graph:value:", 12) == 0) {
                numbers++;
                assert_true(it->size >= 8);
            }
        }
        assert_true(numbers >= 3);
    }
    graph_layout_destroy(gs.layout);
    graph_destroy(g);
    scene_destroy(s);
    run_destroy(r);
    lesson_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fork_shares_and_sum, setup_gates, teardown),
        cmocka_unit_test_setup_teardown(test_no_fork_for_one_consumer, setup_gates, teardown),
        cmocka_unit_test(test_plot_shade_and_mark),
        cmocka_unit_test(test_rnn_window_and_shared),
        cmocka_unit_test(test_graph_readable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
