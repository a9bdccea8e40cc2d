// test_circuit_layout.c: the circuit view survives a lecture hall. On lesson
// 1 at every step, and on circuits of up to 30 gates (a 2-3-1 and a 2-4-1
// MLP written scalar by scalar, the CS231n sigmoid neuron as explicit gates,
// the CS231n staged computation where x and y each feed several gates), at
// 1280x720 and 1024x768 and text scales 1, 1.5 and 2:
//   - no text overlaps other text or a gate (the symbol inside its own gate
//     aside), on the whole lesson screen;
//   - the callout covers no gate, no wire and no text but its own;
//   - in the box a screen would give it (the narrative panel shrinking to
//     give the circuit what circuit_measure says it needs, see screen_box),
//     the circuit stays inside the box and readable: numbers at 1280x720
//     are at least 11 px (30 gates), and the diagram keeps its size from
//     step to step.
// Widths come from the scene's built-in estimate, the same measure the
// layout uses, so the check is exact for what is built.
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

// ---------------------------------------------------------------------------
// The circuits

static const char mlp231[] =
    "gradlab-lesson: 1\ntitle: A 2-3-1 MLP, scalar by scalar\nprogram:\n"
    "    x1 = 0.5\n    x2 = -1\n"
    "    w11 = 0.2\n    w12 = -0.4\n    w13 = 0.7\n    w21 = 0.1\n    w22 = 0.9\n    w23 = -0.6\n"
    "    b1 = 0\n    b2 = 0.1\n    b3 = -0.2\n    v1 = 1.5\n    v2 = -0.8\n    v3 = 0.3\n    c = 0.05\n"
    "    h1 = tanh(x1*w11 + x2*w21 + b1)\n"
    "    h2 = tanh(x1*w12 + x2*w22 + b2)\n"
    "    h3 = tanh(x1*w13 + x2*w23 + b3)\n"
    "    y = h1*v1 + h2*v2 + h3*v3 + c\n"
    "step: auto\n";

// 30 gates: 4 hidden units, a sigmoid output and a squared error.
static const char mlp241[] =
    "gradlab-lesson: 1\ntitle: A 2-4-1 MLP with its loss\nprogram:\n"
    "    x1 = 0.5\n    x2 = -1\n    t = 1\n"
    "    w11 = 0.2\n    w12 = -0.4\n    w13 = 0.7\n    w14 = 0.3\n"
    "    w21 = 0.1\n    w22 = 0.9\n    w23 = -0.6\n    w24 = -0.2\n"
    "    b1 = 0\n    b2 = 0.1\n    b3 = -0.2\n    b4 = 0.3\n"
    "    v1 = 1.5\n    v2 = -0.8\n    v3 = 0.3\n    v4 = 0.6\n"
    "    h1 = tanh(x1*w11 + x2*w21 + b1)\n"
    "    h2 = tanh(x1*w12 + x2*w22 + b2)\n"
    "    h3 = tanh(x1*w13 + x2*w23 + b3)\n"
    "    h4 = tanh(x1*w14 + x2*w24 + b4)\n"
    "    y = sigmoid(h1*v1 + h2*v2 + h3*v3 + h4*v4)\n"
    "    L = (y - t) ^ 2\n"
    "step: auto\n";

// CS231n: f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), gate by gate.
static const char neuron[] =
    "gradlab-lesson: 1\ntitle: The sigmoid neuron, gate by gate\nprogram:\n"
    "    w0 = 2\n    x0 = -1\n    w1 = -3\n    x1 = -2\n    w2 = -3\n"
    "    a = w0 * x0\n    b = w1 * x1\n    s = a + b\n    d = s + w2\n    e = -d\n"
    "    g = exp(e)\n    h = g + 1\n    f = 1 / h\n"
    "step: auto\n";

// CS231n staged backprop: x and y each feed several gates.
static const char staged[] =
    "gradlab-lesson: 1\ntitle: Staged computation\nprogram:\n"
    "    x = 3\n    y = -4\n"
    "    sigy = 1 / (1 + exp(-y))\n    num = x + sigy\n    sigx = 1 / (1 + exp(-x))\n"
    "    xpy = x + y\n    xpysqr = xpy ^ 2\n    den = sigx + xpysqr\n    invden = 1 / den\n"
    "    f = num * invden\n"
    "step: auto\n";

static Lesson *parse(const char *src)
{
    Diag d;
    diag_init(&d, "t.lesson", src, strlen(src));
    Lesson *l = lesson_parse(src, strlen(src), "t.lesson", &d);
    if (!l)
        fail_msg("lesson does not parse:\n%s", diag_text(&d));
    diag_free(&d);
    return l;
}

static Lesson *load_lesson1(void)
{
    const char *dir = getenv("GRADLAB_DATA_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/lessons/01-circuit.lesson", dir && *dir ? dir : GRADLAB_SOURCE_DIR);
    Diag d;
    Lesson *l = lesson_load(path, &d);
    if (!l)
        fail_msg("%s", diag_text(&d));
    diag_free(&d);
    return l;
}

// ---------------------------------------------------------------------------
// Geometry of scene items

typedef struct Box {
    float x0, y0, x1, y1;
} Box;

static Box text_box(const SceneItem *it)
{
    float x = it->align == ALIGN_LEFT ? it->x : it->align == ALIGN_CENTER ? it->x - it->w / 2 : it->x - it->w;
    return (Box){x, it->y, x + it->w, it->y + it->h};
}

// Boxes that merely touch (shared edges, rounding) do not overlap.
static bool boxes_overlap(Box a, Box b)
{
    const float e = 0.25f;
    return a.x0 < b.x1 - e && b.x0 < a.x1 - e && a.y0 < b.y1 - e && b.y0 < a.y1 - e;
}

static bool box_hits_circle(Box b, float cx, float cy, float r)
{
    float nx = fminf(fmaxf(cx, b.x0), b.x1), ny = fminf(fmaxf(cy, b.y0), b.y1);
    return hypotf(nx - cx, ny - cy) < r - 0.25f;
}

static bool box_hits_line(Box b, const SceneItem *ln)
{
    float t0 = 0, t1 = 1, dx = ln->x2 - ln->x, dy = ln->y2 - ln->y;
    const float pp[4] = {-dx, dx, -dy, dy};
    const float qq[4] = {ln->x - b.x0, b.x1 - ln->x, ln->y - b.y0, b.y1 - ln->y};
    for (int i = 0; i < 4; i++) {
        if (pp[i] == 0) {
            if (qq[i] < 0)
                return false;
            continue;
        }
        float r = qq[i] / pp[i];
        if (pp[i] < 0)
            t0 = fmaxf(t0, r);
        else
            t1 = fminf(t1, r);
        if (t0 > t1)
            return false;
    }
    return true;
}

static bool has_prefix(const SceneItem *it, const char *prefix)
{
    return it->id && strncmp(it->id, prefix, strlen(prefix)) == 0;
}

// The gate "gate:KEY" that the symbol "op:KEY" sits in.
static bool own_symbol(const SceneItem *text, const SceneItem *gate)
{
    return has_prefix(text, "op:") && has_prefix(gate, "gate:") && strcmp(text->id + 3, gate->id + 5) == 0;
}

static bool is_callout_text(const SceneItem *it)
{
    return it->id && strcmp(it->id, "callout") == 0;
}

// No text overlaps other text or a gate; the callout's box covers no gate,
// wire or text but its own lines. Returns false with the reason in why.
static bool check_clear(const Scene *s, char *why, size_t n)
{
    Box callout = {0};
    bool have_callout = false;
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].id && strcmp(s->items[i].id, "callout-box") == 0) {
            const SceneItem *it = &s->items[i];
            callout = (Box){it->x, it->y, it->x + it->w, it->y + it->h};
            have_callout = true;
        }
    for (size_t i = 0; i < s->n; i++) {
        const SceneItem *a = &s->items[i];
        if (a->kind != SCENE_TEXT || !a->text[0])
            continue;
        Box ba = text_box(a);
        for (size_t j = i + 1; j < s->n; j++) {
            const SceneItem *b = &s->items[j];
            if (b->kind == SCENE_TEXT && b->text[0] && boxes_overlap(ba, text_box(b))) {
                snprintf(why, n, "text %s '%s' overlaps text %s '%s'", a->id ? a->id : "-", a->text,
                         b->id ? b->id : "-", b->text);
                return false;
            }
        }
        for (size_t j = 0; j < s->n; j++) {
            const SceneItem *g = &s->items[j];
            if (g->kind == SCENE_CIRCLE && has_prefix(g, "gate:") && !own_symbol(a, g) &&
                box_hits_circle(ba, g->x, g->y, g->radius)) {
                snprintf(why, n, "text %s '%s' overlaps %s", a->id ? a->id : "-", a->text, g->id);
                return false;
            }
        }
        if (have_callout && !is_callout_text(a) && boxes_overlap(ba, callout)) {
            snprintf(why, n, "the callout covers text %s '%s'", a->id ? a->id : "-", a->text);
            return false;
        }
    }
    if (have_callout)
        for (size_t j = 0; j < s->n; j++) {
            const SceneItem *g = &s->items[j];
            if (g->kind == SCENE_CIRCLE && has_prefix(g, "gate:") && box_hits_circle(callout, g->x, g->y, g->radius)) {
                snprintf(why, n, "the callout covers %s", g->id);
                return false;
            }
            if (g->kind == SCENE_LINE && has_prefix(g, "wire") && box_hits_line(callout, g)) {
                snprintf(why, n, "the callout covers a wire");
                return false;
            }
        }
    return true;
}

// Every item of the circuit inside its box.
static bool check_inside(const Scene *s, size_t from, const CircuitParams *p, char *why, size_t n)
{
    const float e = 0.5f;
    for (size_t i = from; i < s->n; i++) {
        const SceneItem *it = &s->items[i];
        Box b;
        switch (it->kind) {
        case SCENE_TEXT: b = text_box(it); break;
        case SCENE_LINE:
            b = (Box){fminf(it->x, it->x2), fminf(it->y, it->y2), fmaxf(it->x, it->x2), fmaxf(it->y, it->y2)};
            break;
        case SCENE_CIRCLE: case SCENE_RING:
            b = (Box){it->x - it->radius, it->y - it->radius, it->x + it->radius, it->y + it->radius};
            break;
        case SCENE_TRIANGLE:
            b = (Box){fminf(it->x, fminf(it->x2, it->x3)), fminf(it->y, fminf(it->y2, it->y3)),
                      fmaxf(it->x, fmaxf(it->x2, it->x3)), fmaxf(it->y, fmaxf(it->y2, it->y3))};
            break;
        default: b = (Box){it->x, it->y, it->x + it->w, it->y + it->h}; break;
        }
        if (b.x0 < p->x - e || b.y0 < p->y - e || b.x1 > p->x + p->w + e || b.y1 > p->y + p->h + e) {
            snprintf(why, n, "item %zu (kind %d, %s '%s') leaves the box: %g,%g - %g,%g", i, (int)it->kind,
                     it->id ? it->id : "-", it->kind == SCENE_TEXT ? it->text : "", b.x0, b.y0, b.x1, b.y1);
            return false;
        }
    }
    return true;
}

// ---------------------------------------------------------------------------
// Tests

static const struct {
    float w, h;
} sizes[] = {{1280, 720}, {1024, 768}};
static const float scales[] = {1, 1.5f, 2};

// Every step of l on the whole lesson screen at every size and scale.
static void check_lesson_screens(const Lesson *l, const char *name)
{
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    char why[512];
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        for (size_t sc = 0; sc < sizeof(scales) / sizeof(scales[0]); sc++)
            for (size_t st = 0; st < l->nsteps; st++) {
                LessonViewParams p = {.lesson = l, .step = st, .theme = theme_get(THEME_DARK), .scale = scales[sc]};
                lesson_view_build(s, g, &p, sizes[k].w, sizes[k].h);
                assert_false(s->failed);
                if (!check_clear(s, why, sizeof(why)))
                    fail_msg("%s, %gx%g scale %g, step %zu: %s", name, sizes[k].w, sizes[k].h, scales[sc], st + 1,
                             why);
            }
    graph_destroy(g);
    scene_destroy(s);
}

static void test_lesson1_screens(void **state)
{
    (void)state;
    Lesson *l = load_lesson1();
    check_lesson_screens(l, "lesson 1");
    lesson_destroy(l);
}

static void test_circuit_screens(void **state)
{
    (void)state;
    const char *srcs[] = {mlp231, mlp241, neuron, staged};
    const char *names[] = {"2-3-1 MLP", "2-4-1 MLP", "sigmoid neuron", "staged"};
    for (size_t i = 0; i < 4; i++) {
        Lesson *l = parse(srcs[i]);
        check_lesson_screens(l, names[i]);
        lesson_destroy(l);
    }
}

// The box a lesson screen of w x h at scale has for its circuit: between
// the header (120 units) and the narrative panel above a 40-unit footer,
// 12 units apart. The narrative panel gives the circuit what it needs
// (circuit_measure) down to 125 units (its title and three lines; longer
// text pages), and takes no more than 215 units or a third of the height.
static CircuitParams screen_box(Scene *s, const Graph *g, const Value *out, float w, float h, float scale)
{
    float u = lesson_view_unit(w, h, scale), m = 36 * u, top = 120 * u;
    CircuitParams p = {.x = m, .y = top, .w = w - 2 * m, .h = 1, .unit = u, .theme = theme_get(THEME_DARK)};
    float cw, ch;
    circuit_measure(s, g, out, &p, &cw, &ch);
    float avail = h - top - 40 * u - 12 * u;
    float panel_h = fminf(fmaxf(avail - ch, 125 * u), fminf(215 * u, 0.34f * h));
    p.h = avail - panel_h;
    return p;
}

// Directly in the box a screen has for it: inside the box, clear, and as
// large as it can be: at 1280x720 scale 1, numbers of at least 11 px.
static void test_circuit_in_its_box(void **state)
{
    (void)state;
    const char *srcs[] = {mlp231, mlp241, neuron, staged, NULL};
    const char *names[] = {"2-3-1 MLP", "2-4-1 MLP", "sigmoid neuron", "staged", "lesson 1"};
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    char why[512];
    for (size_t i = 0; i < 5; i++) {
        Lesson *l = srcs[i] ? parse(srcs[i]) : load_lesson1();
        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
            for (size_t sc = 0; sc < sizeof(scales) / sizeof(scales[0]); sc++) {
                float unit_min = INFINITY, unit_max = 0;
                for (size_t st = 0; st < l->nsteps; st++) {
                    Value *out = lesson_eval(l, g, st);
                    assert_non_null(out);
                    LessonState ls = lesson_state(l, st);
                    scene_begin(s, sizes[k].w, sizes[k].h, theme_get(THEME_DARK)->background);
                    CircuitParams p = screen_box(s, g, out, sizes[k].w, sizes[k].h, scales[sc]);
                    p.current = ls.gate;
                    p.phase = ls.kind == STEP_FORWARD ? 1 : ls.kind == STEP_BACKWARD ? 2 : 0;
                    p.out_name = program_output_name(l->program);
                    scene_begin(s, sizes[k].w, sizes[k].h, p.theme->background);
                    if (st == 0 && k == 0 && sc == 0)
                        print_message("%-15s box %.0fx%.0f\n", names[i], p.w, p.h);
                    float u = circuit_build(s, g, out, &p);
                    assert_false(s->failed);
                    assert_true(u > 0 && u <= p.unit + 1e-6f);
                    unit_min = fminf(unit_min, u), unit_max = fmaxf(unit_max, u);
                    if (!check_inside(s, 0, &p, why, sizeof(why)) || !check_clear(s, why, sizeof(why)))
                        fail_msg("%s in its box, %gx%g scale %g, step %zu: %s", names[i], sizes[k].w, sizes[k].h,
                                 scales[sc], st + 1, why);
                    // A callout at every forward and backward step.
                    assert_true((scene_find(s, "callout-box") != NULL) == (p.phase != 0));
                }
                // The diagram does not change size from step to step.
                assert_true(unit_max - unit_min < 1e-4f);
                print_message("%-15s %4gx%-4g scale %-3g numbers at %.1f px\n", names[i], sizes[k].w, sizes[k].h,
                              scales[sc], 20 * unit_min);
                if (k == 0 && sc == 0)
                    assert_true(20 * unit_min >= 11);
            }
        lesson_destroy(l);
    }
    graph_destroy(g);
    scene_destroy(s);
}

// Asked for its size, the circuit gets what it needs: built in a box of
// that size it is drawn at the unit asked for.
static void test_measure(void **state)
{
    (void)state;
    const char *srcs[] = {mlp231, mlp241, neuron, staged, NULL};
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    for (size_t i = 0; i < 5; i++) {
        Lesson *l = srcs[i] ? parse(srcs[i]) : load_lesson1();
        for (float unit = 0.5f; unit <= 2; unit += 0.5f) {
            size_t st = l->nsteps / 2;
            Value *out = lesson_eval(l, g, st);
            LessonState ls = lesson_state(l, st);
            CircuitParams p = {.x = 10, .y = 10, .w = 100, .h = 100, .unit = unit, .theme = theme_get(THEME_DARK),
                               .current = ls.gate, .phase = ls.kind == STEP_BACKWARD ? 2 : 1};
            float w, h;
            scene_begin(s, 4000, 4000, p.theme->background);
            circuit_measure(s, g, out, &p, &w, &h);
            assert_int_equal(s->n, 0);
            assert_true(w > 0 && h > 0);
            p.w = w + 1, p.h = h + 1;
            scene_begin(s, 4000, 4000, p.theme->background);
            float u = circuit_build(s, g, out, &p);
            assert_true(fabsf(u - unit) < 1e-4f);
            // and in a box half as tall, at about half the unit
            p.h = (h + 1) / 2;
            scene_begin(s, 4000, 4000, p.theme->background);
            u = circuit_build(s, g, out, &p);
            assert_true(u < unit && u > unit * 0.3f);
        }
        lesson_destroy(l);
    }
    graph_destroy(g);
    scene_destroy(s);
}

// Tiny, empty and huge boxes draw without trouble and stay inside.
static void test_odd_boxes(void **state)
{
    (void)state;
    Lesson *l = parse(mlp241);
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    char why[512];
    const float boxes[][2] = {{0, 0}, {1, 1}, {40, 30}, {300, 80}, {4000, 2000}, {200, 1500}};
    for (size_t b = 0; b < sizeof(boxes) / sizeof(boxes[0]); b++) {
        Value *out = lesson_eval(l, g, 30);
        LessonState ls = lesson_state(l, 30);
        CircuitParams p = {.x = 5, .y = 5, .w = boxes[b][0], .h = boxes[b][1], .unit = 1,
                           .theme = theme_get(THEME_DARK), .current = ls.gate, .phase = 2};
        scene_begin(s, 4100, 2100, p.theme->background);
        circuit_build(s, g, out, &p);
        assert_false(s->failed);
        if (!check_inside(s, 0, &p, why, sizeof(why)))
            fail_msg("box %gx%g: %s", boxes[b][0], boxes[b][1], why);
    }
    graph_destroy(g);
    scene_destroy(s);
    lesson_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lesson1_screens),
        cmocka_unit_test(test_circuit_screens),
        cmocka_unit_test(test_circuit_in_its_box),
        cmocka_unit_test(test_measure),
        cmocka_unit_test(test_odd_boxes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
