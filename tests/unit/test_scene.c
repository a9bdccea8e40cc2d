// test_scene.c: what is on screen, read back from the draw list without
// pixels (views/scene.h, views/lesson_view.h, views/circuit.h). Lesson 1
// at 1280x720 with the built-in width estimate: the wires' values and
// gradients at each step, the callout's local x upstream product, the step
// counter, the help overlay, and every item inside the frame.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lessons/lesson.h"
#include "views/circuit.h"
#include "views/lesson_view.h"
#include "views/scene.h"
#include "views/theme.h"

#define W 1280
#define H 720

typedef struct Fixture {
    Lesson *lesson;
    Scene *scene;
    Graph *graph;
} Fixture;

static int setup(void **state)
{
    const char *dir = getenv("GRADLAB_DATA_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/lessons/01-circuit.lesson", dir && *dir ? dir : GRADLAB_SOURCE_DIR);
    Fixture *f = calloc(1, sizeof(*f));
    Diag d;
    f->lesson = lesson_load(path, &d);
    if (!f->lesson)
        fprintf(stderr, "%s", diag_text(&d));
    diag_free(&d);
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

// Build lesson 1's screen at step (0-based) and return the scene.
static Scene *build_at(Fixture *f, size_t step, bool help, float w, float h, float scale)
{
    LessonViewParams p = {.lesson = f->lesson, .step = step, .theme = theme_get(THEME_DARK),
                          .scale = scale, .help = help};
    lesson_view_build(f->scene, f->graph, &p, w, h);
    assert_false(f->scene->failed);
    assert_true(f->scene->n > 0);
    return f->scene;
}

static Scene *build(Fixture *f, size_t step)
{
    return build_at(f, step, false, W, H, 1);
}

// The text of the first TEXT item with this id, or NULL.
static const char *text_of(const Scene *s, const char *id)
{
    const SceneItem *it = scene_find(s, id);
    if (!it)
        return NULL;
    assert_int_equal(it->kind, SCENE_TEXT);
    return it->text;
}

#define assert_text(s, id, want)                                                           \
    do {                                                                                   \
        const char *got_ = text_of((s), (id));                                             \
        if (!got_)                                                                         \
            fail_msg("no item '%s' (expected the text '%s')", (id), (want));               \
        if (strcmp(got_, (want)) != 0)                                                     \
            fail_msg("'%s' shows '%s', expected '%s'", (id), got_, (want));                \
        assert_non_null(scene_find_text((s), (id), (want)));                               \
    } while (0)

static size_t count_prefix(const Scene *s, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].id && strncmp(s->items[i].id, prefix, strlen(prefix)) == 0)
            n++;
    return n;
}

// Is there a TEXT item with this id and text?
static bool has_line(const Scene *s, const char *id, const char *text)
{
    return scene_find_text(s, id, text) != NULL;
}

static void test_intro(void **state)
{
    Fixture *f = *state;
    Scene *s = build(f, 0);
    assert_null(scene_find(s, "value:f"));
    assert_null(scene_find(s, "value:q"));
    assert_text(s, "value:x", "-2");
    assert_text(s, "value:y", "5");
    assert_text(s, "value:z", "-4");
    assert_int_equal(count_prefix(s, "grad:"), 0);
    assert_int_equal(count_prefix(s, "callout"), 0);
    assert_text(s, "title", "Backprop through a circuit");
    assert_text(s, "step-counter", "Step 1 of 7");
    assert_text(s, "phase", "INTRODUCTION");
    assert_non_null(scene_find(s, "gate:q"));
    assert_non_null(scene_find(s, "gate:f"));
    assert_null(scene_find(s, "gate:x")); // inputs are not gates
    assert_non_null(scene_find(s, "narrative"));
    assert_null(scene_find(s, "help"));
}

static void test_forward_steps(void **state)
{
    Fixture *f = *state;
    Scene *s = build(f, 1); // forward q
    assert_text(s, "value:q", "3");
    assert_null(scene_find(s, "value:f"));
    assert_text(s, "phase", "FORWARD PASS");
    assert_true(has_line(s, "callout", "q = -2 + 5 = 3"));

    s = build(f, 2); // forward f
    assert_non_null(scene_find_text(s, "value:f", "-12"));
    assert_text(s, "value:f", "-12");
    assert_text(s, "value:q", "3");
    assert_int_equal(count_prefix(s, "grad:"), 0);
    assert_true(has_line(s, "callout", "f = 3 \u00d7 -4 = -12"));
    assert_text(s, "step-counter", "Step 3 of 7");
}

static void test_backward_steps(void **state)
{
    Fixture *f = *state;
    Scene *s = build(f, 3); // backward f: local x upstream at the multiply gate
    assert_text(s, "phase", "BACKWARD PASS");
    assert_text(s, "grad:f", "1");
    assert_text(s, "grad:q", "-4");
    assert_text(s, "grad:z", "3");
    assert_null(scene_find(s, "grad:x"));
    assert_null(scene_find(s, "grad:y"));
    assert_true(has_line(s, "callout", "local \u00d7 upstream = gradient"));
    assert_true(has_line(s, "callout", "\u2202f/\u2202q:  -4 \u00d7 1 = -4"));
    assert_true(has_line(s, "callout", "\u2202f/\u2202z:  3 \u00d7 1 = 3"));
    assert_int_equal(count_prefix(s, "callout"), 4); // the box and three lines

    s = build(f, 4); // backward q: the add gate distributes
    assert_true(has_line(s, "callout", "\u2202f/\u2202x:  1 \u00d7 -4 = -4"));
    assert_true(has_line(s, "callout", "\u2202f/\u2202y:  1 \u00d7 -4 = -4"));
    assert_text(s, "grad:x", "-4");
    assert_text(s, "grad:y", "-4");
}

static void test_last_step(void **state)
{
    Fixture *f = *state;
    Scene *s = build(f, 5);
    assert_text(s, "grad:x", "-4");
    assert_text(s, "grad:y", "-4");
    assert_text(s, "grad:z", "3");
    assert_text(s, "grad:q", "-4");
    assert_text(s, "grad:f", "1");
    assert_text(s, "value:f", "-12");
    assert_text(s, "step-counter", "Step 6 of 7");
    assert_text(s, "phase", "ALL GRADIENTS");
    assert_int_equal(count_prefix(s, "callout"), 0);
    // Past the end shows the last step.
    s = build(f, 99);
    assert_text(s, "step-counter", "Step 7 of 7");
}

// The narrative panel shows the step's expanded text.
static void test_narrative(void **state)
{
    Fixture *f = *state;
    Scene *s = build(f, 2);
    char all[4096] = "";
    for (size_t i = 0; i < s->n; i++) {
        const SceneItem *it = &s->items[i];
        if (it->id && strcmp(it->id, "narrative") == 0 && it->kind == SCENE_TEXT)
            strncat(all, it->text, sizeof(all) - strlen(all) - 1);
    }
    assert_non_null(strstr(all, "-12"));
    assert_null(strchr(all, '{'));
    assert_null(strstr(all, "**")); // markup is rendered, not shown
}

// Every item lies inside the frame.
static void check_inside(const Scene *s, float w, float h, const char *what)
{
    const float tol = 0.5f;
    for (size_t i = 0; i < s->n; i++) {
        const SceneItem *it = &s->items[i];
        float x0, y0, x1, y1;
        switch (it->kind) {
        case SCENE_RECT:
        case SCENE_FRAME:
            x0 = it->x, y0 = it->y, x1 = it->x + it->w, y1 = it->y + it->h;
            break;
        case SCENE_LINE:
            x0 = fminf(it->x, it->x2), x1 = fmaxf(it->x, it->x2);
            y0 = fminf(it->y, it->y2), y1 = fmaxf(it->y, it->y2);
            break;
        case SCENE_CIRCLE:
        case SCENE_RING:
            x0 = it->x - it->radius, x1 = it->x + it->radius;
            y0 = it->y - it->radius, y1 = it->y + it->radius;
            break;
        case SCENE_TEXT:
            x0 = it->align == ALIGN_LEFT ? it->x : it->align == ALIGN_CENTER ? it->x - it->w / 2 : it->x - it->w;
            x1 = x0 + it->w, y0 = it->y, y1 = it->y + it->h;
            break;
        case SCENE_TRIANGLE:
            x0 = fminf(it->x, fminf(it->x2, it->x3)), x1 = fmaxf(it->x, fmaxf(it->x2, it->x3));
            y0 = fminf(it->y, fminf(it->y2, it->y3)), y1 = fmaxf(it->y, fmaxf(it->y2, it->y3));
            break;
        case SCENE_POLYLINE:
            x0 = y0 = INFINITY, x1 = y1 = -INFINITY;
            for (int k = 0; k < it->npts; k++) {
                x0 = fminf(x0, it->pts[2 * k]), x1 = fmaxf(x1, it->pts[2 * k]);
                y0 = fminf(y0, it->pts[2 * k + 1]), y1 = fmaxf(y1, it->pts[2 * k + 1]);
            }
            break;
        default:
            fail_msg("unknown item kind %d", (int)it->kind);
            return;
        }
        if (!(x0 >= -tol && y0 >= -tol && x1 <= w + tol && y1 <= h + tol))
            fail_msg("%s: item %zu (kind %d, id '%s', text '%s') spans (%.1f,%.1f)-(%.1f,%.1f), "
                     "outside %gx%g", what, i, (int)it->kind, it->id ? it->id : "",
                     it->text ? it->text : "", x0, y0, x1, y1, w, h);
    }
}

static void test_inside_frame(void **state)
{
    Fixture *f = *state;
    char what[64];
    for (size_t st = 0; st < f->lesson->nsteps; st++) {
        for (int help = 0; help < 2; help++) {
            Scene *s = build_at(f, st, help, W, H, 1);
            assert_true(s->width == W && s->height == H);
            snprintf(what, sizeof(what), "step %zu%s", st + 1, help ? " with help" : "");
            check_inside(s, W, H, what);
        }
    }
}

// Other window sizes and text scales keep everything on screen too.
static void test_inside_frame_other_sizes(void **state)
{
    Fixture *f = *state;
    const float sizes[][3] = {{1920, 1080, 1}, {800, 600, 1}, {1024, 768, 1}, {1280, 720, 1.25f},
                              {2560, 1440, 1}};
    char what[96];
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        for (size_t st = 0; st < f->lesson->nsteps; st++) {
            Scene *s = build_at(f, st, false, sizes[k][0], sizes[k][1], sizes[k][2]);
            snprintf(what, sizeof(what), "%gx%g scale %g step %zu", sizes[k][0], sizes[k][1], sizes[k][2],
                     st + 1);
            check_inside(s, sizes[k][0], sizes[k][1], what);
        }
}

// The screen of a lesson given as text, at its last step.
static Scene *build_text(const char *src, Lesson **lp, Graph *g, Scene *s, size_t step)
{
    Diag d;
    diag_init(&d, "t.lesson", src, strlen(src));
    Lesson *l = lesson_parse(src, strlen(src), "t.lesson", &d);
    if (!l)
        fail_msg("lesson does not parse:\n%s", diag_text(&d));
    diag_free(&d);
    LessonViewParams p = {.lesson = l, .step = step < l->nsteps ? step : l->nsteps - 1,
                          .theme = theme_get(THEME_DARK), .scale = 1};
    lesson_view_build(s, g, &p, W, H);
    assert_false(s->failed);
    *lp = l;
    return s;
}

static bool boxes_overlap(const SceneItem *a, const SceneItem *b)
{
    float ax = a->align == ALIGN_LEFT ? a->x : a->align == ALIGN_CENTER ? a->x - a->w / 2 : a->x - a->w;
    float bx = b->align == ALIGN_LEFT ? b->x : b->align == ALIGN_CENTER ? b->x - b->w / 2 : b->x - b->w;
    return ax < bx + b->w && bx < ax + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

static bool is_label(const SceneItem *it)
{
    return it->kind == SCENE_TEXT && it->id &&
           (strncmp(it->id, "value:", 6) == 0 || strncmp(it->id, "grad:", 5) == 0 ||
            strncmp(it->id, "name:", 5) == 0);
}

// Gates do not overlap each other, and wire labels do not overlap each other.
static void check_no_overlap(const Scene *s, const char *what)
{
    for (size_t i = 0; i < s->n; i++) {
        const SceneItem *a = &s->items[i];
        for (size_t j = i + 1; j < s->n; j++) {
            const SceneItem *b = &s->items[j];
            if (a->kind == SCENE_CIRCLE && b->kind == SCENE_CIRCLE && a->id && b->id &&
                strncmp(a->id, "gate:", 5) == 0 && strncmp(b->id, "gate:", 5) == 0) {
                float d = hypotf(a->x - b->x, a->y - b->y);
                if (d < a->radius + b->radius)
                    fail_msg("%s: gates %s and %s overlap (centres %.1f apart, radii %.1f)", what, a->id,
                             b->id, d, a->radius);
            }
            if (is_label(a) && is_label(b) && boxes_overlap(a, b))
                fail_msg("%s: labels %s '%s' and %s '%s' overlap", what, a->id, a->text, b->id, b->text);
        }
    }
}

static void test_no_overlap(void **state)
{
    Fixture *f = *state;
    char what[64];
    for (size_t st = 0; st < f->lesson->nsteps; st++) {
        snprintf(what, sizeof(what), "lesson 1 step %zu", st + 1);
        check_no_overlap(build(f, st), what);
    }
    // A neuron, as in micrograd: o = tanh(x1*w1 + x2*w2 + b).
    const char *neuron = "gradlab-lesson: 1\ntitle: A neuron\nprogram:\n"
                         "    x1 = 2\n    x2 = 0\n    w1 = -3\n    w2 = 1\n    b = 6.8813735870195432\n"
                         "    x1w1 = x1 * w1\n    x2w2 = x2 * w2\n    n = x1w1 + x2w2 + b\n    o = tanh(n)\n"
                         "step: auto\n";
    Lesson *l;
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    build_text(neuron, &l, g, s, SIZE_MAX);
    assert_text(s, "grad:x1", "-1.5");
    assert_text(s, "grad:w1", "1");
    assert_text(s, "grad:x2", "0.5");
    assert_text(s, "grad:w2", "0");
    assert_text(s, "value:o", "0.7071");
    check_inside(s, W, H, "neuron");
    check_no_overlap(s, "neuron");
    lesson_destroy(l);
    graph_destroy(g);
    scene_destroy(s);
}

static void test_help_and_blank(void **state)
{
    Fixture *f = *state;
    Scene *s = build_at(f, 2, true, W, H, 1);
    assert_non_null(scene_find(s, "help"));
    s = build_at(f, 2, false, W, H, 1);
    assert_null(scene_find(s, "help"));
    LessonViewParams p = {.lesson = f->lesson, .step = 2, .theme = theme_get(THEME_DARK), .scale = 1,
                          .blank = true};
    lesson_view_build(f->scene, f->graph, &p, W, H);
    assert_int_equal(f->scene->n, 0);
    // A status line replaces the key hints.
    p.blank = false;
    p.status = "saved x.png";
    lesson_view_build(f->scene, f->graph, &p, W, H);
    assert_text(f->scene, "footer", "saved x.png");
}

// Building twice gives the same scene: it is a pure function of the state.
static void test_deterministic(void **state)
{
    Fixture *f = *state;
    Scene *s = build(f, 3);
    size_t n = s->n;
    SceneItem *copy = malloc(n * sizeof(SceneItem));
    memcpy(copy, s->items, n * sizeof(SceneItem));
    char texts[200][128];
    for (size_t i = 0; i < n && i < 200; i++)
        snprintf(texts[i], sizeof(texts[i]), "%s", copy[i].text ? copy[i].text : "");
    build(f, 5);
    s = build(f, 3);
    assert_int_equal(s->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s->items[i].kind, copy[i].kind);
        assert_true(s->items[i].x == copy[i].x && s->items[i].y == copy[i].y);
        if (i < 200)
            assert_string_equal(s->items[i].text ? s->items[i].text : "", texts[i]);
    }
    free(copy);
}

// Hit-testing finds the gate under a point.
static void test_hit(void **state)
{
    Fixture *f = *state;
    Scene *s = build(f, 2);
    const SceneItem *q = scene_find(s, "gate:q");
    assert_non_null(q);
    const SceneItem *hit = scene_hit(s, q->x, q->y, "gate:");
    assert_non_null(hit);
    assert_string_equal(hit->id, "gate:q");
    assert_null(scene_hit(s, -100, -100, "gate:"));
}

// Themes differ, and NaN values are shown plainly in the warning colour.
static void test_nan_and_themes(void **state)
{
    (void)state;
    const char *src = "gradlab-lesson: 1\ntitle: NaN\nprogram:\n    x = -1\n    f = log(x)\nstep: auto\n";
    Diag d;
    diag_init(&d, "nan.lesson", src, strlen(src));
    Lesson *l = lesson_parse(src, strlen(src), "nan.lesson", &d);
    assert_non_null(l);
    diag_free(&d);
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    for (int t = 0; t < THEME_COUNT; t++) {
        const Theme *th = theme_get((ThemeId)t);
        assert_string_equal(th->name, theme_names[t]);
        LessonViewParams p = {.lesson = l, .step = l->nsteps - 1, .theme = th, .scale = 1};
        lesson_view_build(s, g, &p, W, H);
        assert_true(s->background.r == th->background.r && s->background.g == th->background.g &&
                    s->background.b == th->background.b);
        const SceneItem *it = scene_find_text(s, "value:f", "NaN");
        assert_non_null(it);
        assert_true(it->color.r == th->warn.r && it->color.g == th->warn.g && it->color.b == th->warn.b);
        check_inside(s, W, H, th->name);
    }
    assert_ptr_equal(theme_get((ThemeId)99), theme_get(THEME_DARK));
    graph_destroy(g);
    scene_destroy(s);
    lesson_destroy(l);
}

// The scene API itself.
static void test_scene_api(void **state)
{
    (void)state;
    Scene *s = scene_create();
    assert_non_null(s);
    scene_begin(s, 100, 50, color_rgb(0x102030));
    assert_true(s->background.r == 0x10 && s->background.g == 0x20 && s->background.b == 0x30 &&
                s->background.a == 255);
    char id[16] = "a:1";
    SceneRef ref = scene_tag(s, scene_text(s, 10, 5, FONT_REGULAR, 20, ALIGN_LEFT, color_rgb(0), "hi"), id);
    strcpy(id, "zz");
    SceneItem t = scene_item(s, ref);
    assert_string_equal(t.id, "a:1"); // copied
    assert_true(t.w > 0 && t.w == scene_text_width(s, FONT_REGULAR, 20, "hi"));
    assert_true(t.h == scene_line_height(20));
    scene_tag(s, scene_rect(s, 0, 0, 10, 10, 0, color_rgb(0xffffff)), "a:2");
    assert_int_equal(s->n, 2);
    assert_ptr_equal(scene_find(s, "a:1"), &s->items[0]);
    assert_non_null(scene_find_text(s, "a:1", "hi"));
    assert_null(scene_find_text(s, "a:1", "ho"));
    assert_null(scene_find_text(s, "a:2", "hi")); // not a text item
    assert_null(scene_find(s, "a"));
    assert_string_equal(scene_hit(s, 5, 5, "a:")->id, "a:2"); // topmost
    // Measure hook.
    assert_true(scene_text_width(s, FONT_MONO, 10, "\u2202\u2202") ==
                scene_text_width(s, FONT_MONO, 10, "ab")); // code points, not bytes
    scene_begin(s, 100, 50, color_rgb(0));
    assert_int_equal(s->n, 0);
    assert_null(scene_find(s, "a:1"));
    Color m = color_mix(color_rgb(0x000000), color_rgb(0xfefefe), 0.5f);
    assert_true(m.r >= 0x7e && m.r <= 0x80);
    assert_int_equal(color_alpha(color_rgb(0x123456), 7).a, 7);
    scene_destroy(s);
    scene_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intro),
        cmocka_unit_test(test_forward_steps),
        cmocka_unit_test(test_backward_steps),
        cmocka_unit_test(test_last_step),
        cmocka_unit_test(test_narrative),
        cmocka_unit_test(test_inside_frame),
        cmocka_unit_test(test_inside_frame_other_sizes),
        cmocka_unit_test(test_no_overlap),
        cmocka_unit_test(test_help_and_blank),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_hit),
        cmocka_unit_test(test_nan_and_themes),
        cmocka_unit_test(test_scene_api),
    };
    return cmocka_run_group_tests_name("scene", tests, setup, teardown);
}
