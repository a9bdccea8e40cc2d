// test_boundary_view.c: the playground's boundary panel (boundary_view.c),
// by scene-level assertions. Every item stays inside the panel's box; the
// map, one point per training point and one hover box per hidden neuron are
// tagged; the mouse over a neuron's small map (or `focus`) draws that
// neuron large and names it in the title; the chosen point is ringed; a
// panel too small to draw, or with more neurons than it draws, draws no
// neuron maps and never crashes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views/boundary_view.h"

enum { G = 20, NG = 8, L = 2, U = 5, NP = 30 };

typedef struct Data {
    double boundary[G * G], neurons[L * U * NG * NG], points[NP * 3], range[4];
} Data;

static void fill(Data *d)
{
    for (int i = 0; i < G * G; i++)
        d->boundary[i] = (double)(i % G) / (G - 1);
    for (int i = 0; i < L * U * NG * NG; i++)
        d->neurons[i] = sin(0.1 * i);
    for (int i = 0; i < NP; i++)
        d->points[3 * i] = -1 + 2.0 * i / NP, d->points[3 * i + 1] = 0.5, d->points[3 * i + 2] = i % 2;
    d->range[0] = -1.5, d->range[1] = 1.5, d->range[2] = -1.5, d->range[3] = 1.5;
}

static BoundaryParams params(const Data *d, float w, float h)
{
    return (BoundaryParams){.x = 10,
                            .y = 20,
                            .w = w,
                            .h = h,
                            .unit = 1,
                            .theme = theme_get(THEME_DARK),
                            .boundary = d->boundary,
                            .grid = G,
                            .range = d->range,
                            .points = d->points,
                            .npoints = NP,
                            .chosen = 4,
                            .neurons = d->neurons,
                            .layers = L,
                            .units = U,
                            .ngrid = NG,
                            .caption = "step 1",
                            .id = "panel:b"};
}

static int count_prefix(const Scene *s, const char *prefix)
{
    int n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->items[i].id && strncmp(s->items[i].id, prefix, strlen(prefix)) == 0;
    return n;
}

static bool has_text(const Scene *s, const char *needle)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].kind == SCENE_TEXT && s->items[i].text && strstr(s->items[i].text, needle))
            return true;
    return false;
}

// Every box-like item within the panel (text anchors included, 1 px slack).
static void expect_inside(const Scene *s, const BoundaryParams *p)
{
    for (size_t i = 0; i < s->n; i++) {
        const SceneItem *it = &s->items[i];
        float x0 = it->x, y0 = it->y, x1 = it->x + it->w, y1 = it->y + it->h;
        if (it->kind == SCENE_CIRCLE || it->kind == SCENE_RING)
            x0 = it->x - it->radius, y0 = it->y - it->radius, x1 = it->x + it->radius,
            y1 = it->y + it->radius;
        else if (it->kind == SCENE_TEXT)
            x1 = it->x + it->w, y1 = it->y;
        else if (it->kind != SCENE_RECT && it->kind != SCENE_FRAME && it->kind != SCENE_IMAGE)
            continue;
        if (x0 < p->x - 8 || y0 < p->y - 8 || x1 > p->x + p->w + 8 || y1 > p->y + p->h + 8)
            fail_msg("item %zu (%s) at %g %g .. %g %g leaves the panel", i, it->id ? it->id : "-", x0, y0, x1,
                     y1);
    }
}

static void test_layout_and_ids(void **state)
{
    (void)state;
    Data d;
    fill(&d);
    Scene *s = scene_create();
    float sizes[][2] = {{700, 400}, {400, 300}, {1200, 500}, {300, 600}};
    for (int k = 0; k < 4; k++) {
        scene_begin(s, 1400, 800, theme_get(THEME_DARK)->background);
        BoundaryParams p = params(&d, sizes[k][0], sizes[k][1]);
        boundary_build(s, &p);
        assert_false(s->failed);
        assert_non_null(scene_find(s, "panel:b:map"));
        assert_int_equal(count_prefix(s, "panel:b:point:"), NP);
        assert_int_equal(count_prefix(s, "panel:b:neuron:"), L * U);
        assert_non_null(scene_find(s, "panel:b:chosen"));
        assert_true(has_text(s, "p(orange)"));
        assert_true(has_text(s, "hidden"));
        expect_inside(s, &p);
    }
    scene_destroy(s);
}

static void test_hover_and_focus(void **state)
{
    (void)state;
    Data d;
    fill(&d);
    Scene *s = scene_create();
    scene_begin(s, 1400, 800, theme_get(THEME_DARK)->background);
    BoundaryParams p = params(&d, 700, 400);
    boundary_build(s, &p);
    // The hover box of neuron 7 (layer 2, neuron 2): the mouse at its centre.
    const SceneItem *box = scene_find(s, "panel:b:neuron:7");
    assert_non_null(box);
    float mx = box->x + box->w / 2, my = box->y + box->h / 2;
    assert_int_equal(boundary_neuron_at(s, "panel:b", mx, my), 7);
    assert_int_equal(boundary_neuron_at(s, "panel:b", p.x + 1, p.y + p.h - 1), 0);
    p.hover = true, p.mouse_x = mx, p.mouse_y = my;
    scene_begin(s, 1400, 800, theme_get(THEME_DARK)->background);
    boundary_build(s, &p);
    assert_true(has_text(s, "layer 2, neuron 2"));
    assert_false(has_text(s, "p(orange)"));
    // Without the mouse, focus names the neuron; out of range it is the output.
    p.hover = false, p.focus = 3;
    scene_begin(s, 1400, 800, theme_get(THEME_DARK)->background);
    boundary_build(s, &p);
    assert_true(has_text(s, "layer 1, neuron 3"));
    p.focus = 99;
    scene_begin(s, 1400, 800, theme_get(THEME_DARK)->background);
    boundary_build(s, &p);
    assert_true(has_text(s, "p(orange)"));
    scene_destroy(s);
}

static void test_degenerate(void **state)
{
    (void)state;
    Data d;
    fill(&d);
    Scene *s = scene_create();
    // Too small: nothing but the title and caption.
    scene_begin(s, 1400, 800, theme_get(THEME_DARK)->background);
    BoundaryParams p = params(&d, 40, 30);
    boundary_build(s, &p);
    assert_null(scene_find(s, "panel:b:map"));
    // More layers than the panel draws: the map and points, no neuron maps.
    scene_begin(s, 1400, 800, theme_get(THEME_DARK)->background);
    p = params(&d, 700, 400);
    p.layers = BOUNDARY_MAX_LAYERS + 1, p.units = 1;
    boundary_build(s, &p);
    assert_non_null(scene_find(s, "panel:b:map"));
    assert_int_equal(count_prefix(s, "panel:b:neuron:"), 0);
    // No neurons (a linear model), NaN in the map, no points.
    scene_begin(s, 1400, 800, theme_get(THEME_DARK)->background);
    p = params(&d, 700, 400);
    d.boundary[5] = NAN;
    p.neurons = NULL, p.points = NULL, p.npoints = 0, p.chosen = 0;
    boundary_build(s, &p);
    assert_non_null(scene_find(s, "panel:b:map"));
    assert_null(scene_find(s, "panel:b:chosen"));
    expect_inside(s, &p);
    scene_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_ids),
        cmocka_unit_test(test_hover_and_focus),
        cmocka_unit_test(test_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
