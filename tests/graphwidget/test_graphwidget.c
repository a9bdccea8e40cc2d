// test_graphwidget.c: scene tests for the computational-graph widget
// (layers left to right, fewer crossings than creation order, a 500+ node
// unrolled RNN collapsing to a readable picture, group toggling by
// hit-test, tooltip text, NaN markers, zoom-to-fit and clipping, the
// layout cache), a steady frame that allocates nothing, and PNG renders of a small
// graph, a 20-step RNN and a 760-node graph in the dark, light and
// high-contrast themes (written to $GRADLAB_GRAPH_PNG_DIR when set).
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/diag.h"
#include "lessons/lesson.h"
#include "sdl/sdl_scene.h"
#include "views/widgets/graph.h"

// ---------------------------------------------------------------------------
// Test graphs

// The CS231n neuron: o = tanh(x1*w1 + x2*w2 + b), with gradients.
static Value *build_neuron(Graph *g)
{
    Value *x1 = value_input(g, 2, "x1"), *w1 = value_input(g, -3, "w1");
    Value *x2 = value_input(g, 0, "x2"), *w2 = value_input(g, 1, "w2");
    Value *b = value_input(g, 6.8813735870195432, "b");
    Value *p1 = value_mul(g, x1, w1), *p2 = value_mul(g, x2, w2);
    Value *n = value_add(g, value_add(g, p1, p2), b);
    value_set_name(g, n, "n");
    Value *o = value_tanh(g, n);
    value_set_name(g, o, "o");
    graph_backward(g, o);
    return o;
}

// A scalar RNN unrolled over T steps with H hidden units:
//   h_t = tanh(W h_{t-1} + U x_t + b),  o_t = V . h_t,  L = sum_t (o_t - y_t)^2.
// group[i] is the time step of node i (weights and h_{-1}: -1). group must
// hold room for every node. Returns L.
static Value *build_rnn(Graph *g, int T, int H, int *group, int nan_step)
{
    char name[32];
    Value *W[4][4], *U[4], *B[4], *V[4], *h[4];
    for (int j = 0; j < H; j++) {
        for (int k = 0; k < H; k++) {
            snprintf(name, sizeof(name), "W%d%d", j, k);
            W[j][k] = value_input(g, 0.5 * sin(1.0 + j * 3 + k), name);
        }
        snprintf(name, sizeof(name), "U%d", j);
        U[j] = value_input(g, 0.8 * cos(0.5 + j), name);
        snprintf(name, sizeof(name), "b%d", j);
        B[j] = value_input(g, 0.1 * (j - 1), name);
        snprintf(name, sizeof(name), "V%d", j);
        V[j] = value_input(g, 0.7 - 0.3 * j, name);
        snprintf(name, sizeof(name), "h\u208b\u2081.%d", j);
        h[j] = value_input(g, 0, name);
    }
    size_t first = 0;
    for (size_t i = 0; i < g->n; i++)
        group[i] = -1;
    Value *L = NULL;
    for (int t = 0; t < T; t++) {
        first = g->n;
        snprintf(name, sizeof(name), "x%d", t);
        Value *x = value_input(g, t == nan_step ? NAN : sin(0.7 * t), name);
        snprintf(name, sizeof(name), "y%d", t);
        Value *y = value_input(g, cos(0.7 * t), name);
        Value *hn[4];
        for (int j = 0; j < H; j++) {
            Value *a = value_mul(g, W[j][0], h[0]);
            for (int k = 1; k < H; k++)
                a = value_add(g, a, value_mul(g, W[j][k], h[k]));
            a = value_add(g, value_add(g, a, value_mul(g, U[j], x)), B[j]);
            snprintf(name, sizeof(name), "a%d.%d", t, j);
            value_set_name(g, a, name);
            hn[j] = value_tanh(g, a);
            snprintf(name, sizeof(name), "h%d.%d", t, j);
            value_set_name(g, hn[j], name);
        }
        Value *o = value_mul(g, V[0], hn[0]);
        for (int j = 1; j < H; j++)
            o = value_add(g, o, value_mul(g, V[j], hn[j]));
        snprintf(name, sizeof(name), "o%d", t);
        value_set_name(g, o, name);
        Value *sq = value_pow(g, value_sub(g, o, y), 2);
        L = L ? value_add(g, L, sq) : sq;
        snprintf(name, sizeof(name), "L%d", t);
        value_set_name(g, L, name);
        for (size_t i = first; i < g->n; i++)
            group[i] = t;
        memcpy(h, hn, sizeof(h));
    }
    graph_backward(g, L);
    return L;
}

static int count_prefix(const Scene *s, const char *prefix)
{
    int n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->items[i].id && strncmp(s->items[i].id, prefix, strlen(prefix)) == 0;
    return n;
}

static bool has_text(const Scene *s, const char *text)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].kind == SCENE_TEXT && strcmp(s->items[i].text, text) == 0)
            return true;
    return false;
}

static const SceneItem *node_item(const Scene *s, const Value *v)
{
    char id[64];
    snprintf(id, sizeof(id), "graph:node:%u", v->index);
    return scene_find(s, id);
}

static const SceneItem *node_item_named(const Scene *s, const Graph *g, const char *prefix, const char *name)
{
    char id[64];
    for (size_t i = 0; i < g->n; i++)
        if (g->nodes[i]->name && strcmp(g->nodes[i]->name, name) == 0) {
            snprintf(id, sizeof(id), "%s:node:%zu", prefix, i);
            return scene_find(s, id);
        }
    return NULL;
}

static GraphParams params(const Graph *g, const Value *out, float w, float h)
{
    return (GraphParams){.x = 20, .y = 10, .w = w, .h = h, .unit = 1, .theme = theme_get(THEME_DARK),
                         .graph = g, .out = out, .legend = true};
}

// ---------------------------------------------------------------------------
// Scene tests

static void test_layers_left_to_right(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *o = build_neuron(g);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, o, 1000, 500);
    scene_begin(s, 1040, 520, p.theme->background);
    graph_build(s, lay, &p);
    assert_false(s->failed);
    assert_int_equal(graph_layout_boxes(lay), (int)g->n);
    for (size_t i = 0; i < g->n; i++) {
        const Value *v = g->nodes[i];
        const SceneItem *it = node_item(s, v);
        assert_non_null(it);
        for (int k = 0; k < 2 && v->src[k]; k++) // every source sits in a column to the left
            assert_true(node_item(s, v->src[k])->x + node_item(s, v->src[k])->w < it->x);
        if (v != o)
            assert_true(it->x < node_item(s, o)->x);
    }
    // Leaves sit next to their first consumer: b one column before the last add.
    const Value *b = g->nodes[4];
    assert_true(node_item(s, b)->x > node_item(s, g->nodes[0])->x);
    // Values and gradients are drawn at this size (3 decimals between 0.1
    // and 10, so inputs and results read alike).
    assert_non_null(scene_find(s, "graph:legend"));
    int found = 0;
    for (size_t i = 0; i < s->n; i++)
        found += s->items[i].kind == SCENE_TEXT && strcmp(s->items[i].text, "0.707") == 0;
    assert_int_equal(found, 1);
    graph_layout_destroy(lay);
    scene_destroy(s);
    graph_destroy(g);
}

static void test_crossings(void **state)
{
    (void)state;
    // Created so that the first order crosses: p uses the last two inputs,
    // q the first two, and p comes first.
    Graph *g = graph_create(0);
    Value *a = value_input(g, 1, "a"), *b = value_input(g, 2, "b");
    Value *c = value_input(g, 3, "c"), *d = value_input(g, 4, "d");
    Value *pp = value_add(g, c, d), *q = value_add(g, a, b);
    Value *r = value_mul(g, pp, q);
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, r, 800, 400);
    assert_true(graph_layout_update(lay, &p));
    assert_int_equal(graph_layout_crossings_initial(lay), 4);
    assert_int_equal(graph_layout_crossings(lay), 0);

    // A bigger one: three interleaved chains with cross links.
    graph_reset(g);
    Value *in[9];
    for (int i = 0; i < 9; i++)
        in[i] = value_input(g, i, NULL);
    Value *cur[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 9; i++) { // chain i%3 takes input i, in scrambled order
        int ch = (i * 2) % 3;
        cur[ch] = cur[ch] ? value_mul(g, cur[ch], in[(i * 4) % 9]) : value_neg(g, in[(i * 4) % 9]);
    }
    Value *m = value_add(g, value_add(g, cur[0], cur[2]), cur[1]);
    p.out = m;
    assert_true(graph_layout_update(lay, &p));
    assert_true(graph_layout_crossings(lay) < graph_layout_crossings_initial(lay));
    graph_layout_destroy(lay);
    graph_destroy(g);
}

static void test_rnn_collapses(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    int *group = calloc(4096, sizeof(int));
    bool collapsed[20];
    Value *L = build_rnn(g, 20, 3, group, -1);
    assert_true(g->n >= 500);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, L, 1880, 1040);
    p.group = group, p.ngroups = 20, p.collapsed = collapsed, p.group_format = "step %d";

    for (int t = 0; t < 20; t++)
        collapsed[t] = false;
    scene_begin(s, 1920, 1080, p.theme->background);
    graph_build(s, lay, &p);
    assert_false(s->failed);
    assert_int_equal(graph_layout_boxes(lay), (int)g->n);
    size_t expanded_items = s->n;

    for (int t = 0; t < 20; t++)
        collapsed[t] = true;
    scene_begin(s, 1920, 1080, p.theme->background);
    graph_build(s, lay, &p);
    // 20 step boxes, 18 weights and 3 initial states.
    assert_int_equal(graph_layout_boxes(lay), 20 + 18 + 3);
    printf("collapsed: %zu items\n", s->n);
    assert_true(s->n < 400);
    assert_true(s->n * 4 < expanded_items);
    assert_non_null(scene_find(s, "graph:group:7"));
    assert_int_equal(count_prefix(s, "graph:nan"), 0);
    // Zoomed in on step 7 (same layout): each box says how many nodes it
    // stands for, and the merged edge from step 6 carries four values (three
    // hidden units and the running loss).
    const SceneItem *b7 = scene_find(s, "graph:group:7");
    p.view = graph_view_fit(lay, &p);
    graph_view_zoom(&p.view, &p, 1.0f / p.view.scale, b7->x + b7->w / 2, b7->y + b7->h / 2);
    assert_false(graph_layout_update(lay, &p));
    scene_begin(s, 1920, 1080, p.theme->background);
    graph_build(s, lay, &p);
    assert_true(has_text(s, "37 nodes"));
    assert_true(has_text(s, "\u25b8 step 7"));
    assert_true(has_text(s, "\u00d74"));
    // The 18 shared weights enter each step as one labelled stub.
    assert_true(has_text(s, "W00 +17"));
    graph_layout_destroy(lay);
    scene_destroy(s);
    free(group);
    graph_destroy(g);
}

static void test_group_toggle(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    int group[512];
    bool collapsed[4] = {true, true, true, true};
    Value *L = build_rnn(g, 4, 2, group, -1);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, L, 1200, 600);
    p.group = group, p.ngroups = 4, p.collapsed = collapsed, p.group_format = "step %d";
    scene_begin(s, 1240, 620, p.theme->background);
    graph_build(s, lay, &p);
    const SceneItem *box = scene_find(s, "graph:group:2");
    assert_non_null(box);
    float mx = box->x + box->w / 2, my = box->y + box->h / 2;
    int k = graph_hit_group(s, mx, my, NULL);
    assert_int_equal(k, 2);
    assert_int_equal(graph_hit_group(s, p.x + 2, p.y + 2, NULL), -1);
    // Hovering the box says what it stands for.
    p.hover = true, p.mouse_x = mx, p.mouse_y = my;
    scene_begin(s, 1240, 620, p.theme->background);
    graph_build(s, lay, &p);
    assert_non_null(scene_find_text(s, "graph:tooltip", "step 2 \u2014 22 nodes"));
    assert_non_null(scene_find_text(s, "graph:tooltip", "click to expand"));
    p.hover = false;
    collapsed[k] = !collapsed[k];
    int before = graph_layout_boxes(lay);
    scene_begin(s, 1240, 620, p.theme->background);
    graph_build(s, lay, &p);
    assert_int_equal(graph_layout_boxes(lay), before - 1 + 22);
    // Expanded: its members are drawn and its tab collapses it again.
    const SceneItem *tab = scene_find(s, "graph:group:2");
    assert_non_null(tab);
    assert_true(tab->w < 200);
    assert_int_equal(graph_hit_group(s, tab->x + 3, tab->y + 3, NULL), 2);
    // A node inside the expanded group is hit as a node, not as the group.
    int hits = 0;
    for (size_t i = 0; i < g->n; i++)
        if (group[i] == 2 && node_item(s, g->nodes[i])) {
            const SceneItem *it = node_item(s, g->nodes[i]);
            assert_int_equal(graph_hit_node(s, it->x + it->w / 2, it->y + it->h / 2, NULL), (int)i);
            assert_int_equal(graph_hit_group(s, it->x + it->w / 2, it->y + it->h / 2, NULL), -1);
            hits++;
        }
    assert_int_equal(hits, 22);
    graph_layout_destroy(lay);
    scene_destroy(s);
    graph_destroy(g);
}

// Expanded steps get columns of their own: every box of step t lies left
// of every box of step t+1 (so their frames cannot overlap), and no tab
// covers a box.
static void test_groups_apart(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    int group[512];
    bool collapsed[4] = {false, false, false, false};
    Value *L = build_rnn(g, 4, 2, group, -1);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, L, 1600, 500);
    p.group = group, p.ngroups = 4, p.collapsed = collapsed, p.group_format = "step %d";
    p.view.scale = 0.8f; // zoomed in: the tabs are named
    scene_begin(s, 1640, 520, p.theme->background);
    graph_build(s, lay, &p);
    float right[4] = {-1e9f, -1e9f, -1e9f, -1e9f}, left[4] = {1e9f, 1e9f, 1e9f, 1e9f};
    for (size_t i = 0; i < g->n; i++) {
        char id[64];
        snprintf(id, sizeof(id), "graph:node:%zu", i);
        const SceneItem *it = scene_find(s, id);
        if (!it || group[i] < 0)
            continue;
        left[group[i]] = fminf(left[group[i]], it->x);
        right[group[i]] = fmaxf(right[group[i]], it->x + it->w);
        for (int k = 0; k < 4; k++) { // no tab over this box
            char tid[64];
            snprintf(tid, sizeof(tid), "graph:group:%d", k);
            const SceneItem *tab = scene_find(s, tid);
            if (tab)
                assert_true(tab->x + tab->w <= it->x || tab->x >= it->x + it->w || tab->y + tab->h <= it->y ||
                            tab->y >= it->y + it->h);
        }
    }
    for (int k = 0; k + 1 < 4; k++)
        if (right[k] > -1e9f && left[k + 1] < 1e9f)
            assert_true(right[k] < left[k + 1]);
    assert_non_null(scene_find(s, "graph:group:0"));
    graph_layout_destroy(lay);
    scene_destroy(s);
    graph_destroy(g);
}

static void test_tooltip(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *o = build_neuron(g);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, o, 1000, 500);
    scene_begin(s, 1040, 520, p.theme->background);
    graph_build(s, lay, &p);
    const SceneItem box = *node_item(s, o), *it = &box; // a copy: the next frame reuses the items
    p.hover = true, p.mouse_x = it->x + it->w / 2, p.mouse_y = it->y + it->h / 2;
    scene_begin(s, 1040, 520, p.theme->background);
    graph_build(s, lay, &p);
    assert_non_null(scene_find_text(s, "graph:tooltip", "o = tanh(n)"));
    assert_non_null(scene_find_text(s, "graph:tooltip", "\u2202o/\u2202n = 0.5"));
    // Labels and numbers are apart, the numbers in one column.
    const SceneItem *vl = scene_find_text(s, "graph:tooltip", "0.707107");
    const SceneItem *gl = scene_find_text(s, "graph:tooltip", "1");
    assert_non_null(scene_find_text(s, "graph:tooltip", "value"));
    assert_non_null(scene_find_text(s, "graph:tooltip", "gradient"));
    assert_non_null(vl);
    assert_non_null(gl);
    assert_true(vl->x == gl->x && vl->y < gl->y);
    // Below the hovered box, which stays uncovered.
    const SceneItem *tb0 = scene_find(s, "graph:tooltip-box");
    assert_true(tb0->y > it->y + it->h || tb0->y + tb0->h < it->y || tb0->x > it->x + it->w ||
                tb0->x + tb0->w < it->x);
    // Inside the widget's box.
    const SceneItem *tb = scene_find(s, "graph:tooltip-box");
    assert_true(tb->x >= p.x && tb->x + tb->w <= p.x + p.w && tb->y + tb->h <= p.y + p.h);
    // A binary gate lists both local derivatives; an unnamed node is its
    // formula over the program's names, never an internal number (#5).
    const Value *mul = g->nodes[5]; // x1 * w1
    it = node_item(s, mul);
    p.mouse_x = it->x + 5, p.mouse_y = it->y + 5;
    scene_begin(s, 1040, 520, p.theme->background);
    graph_build(s, lay, &p);
    assert_non_null(scene_find_text(s, "graph:tooltip", "x1 \u00d7 w1"));
    assert_non_null(scene_find_text(s, "graph:tooltip", "local \u2202/\u2202x1 = -3"));
    assert_non_null(scene_find_text(s, "graph:tooltip", "local \u2202/\u2202w1 = 2"));
    // n's sources: an unnamed sum of products and b.
    it = node_item_named(s, g, "graph", "n");
    p.mouse_x = it->x + 5, p.mouse_y = it->y + 5;
    scene_begin(s, 1040, 520, p.theme->background);
    graph_build(s, lay, &p);
    assert_non_null(scene_find_text(s, "graph:tooltip", "n = x1 \u00d7 w1 + x2 \u00d7 w2 + b"));
    assert_non_null(scene_find_text(s, "graph:tooltip", "\u2202n/\u2202(x1 \u00d7 w1 + x2 \u00d7 w2) = 1"));
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].kind == SCENE_TEXT)
            assert_null(strchr(s->items[i].text, '#'));
    // Off every box: no tooltip.
    p.mouse_x = p.x + 3, p.mouse_y = p.y + 3;
    scene_begin(s, 1040, 520, p.theme->background);
    graph_build(s, lay, &p);
    assert_null(scene_find(s, "graph:tooltip"));
    graph_layout_destroy(lay);
    scene_destroy(s);
    graph_destroy(g);
}

static void test_nan_marker(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *x = value_input(g, -1, "x");
    Value *y = value_log(g, x); // NaN
    Value *z = value_mul(g, y, value_input(g, 2, "k"));
    graph_backward(g, z);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, z, 800, 400);
    scene_begin(s, 840, 420, p.theme->background);
    graph_build(s, lay, &p);
    // log(-1) and the product are NaN, and so is k's gradient (= y).
    assert_int_equal(count_prefix(s, "graph:nan"), 3);
    const SceneItem *nan = scene_find(s, "graph:nan");
    assert_memory_equal(&nan->color, &p.theme->warn, sizeof(Color));
    assert_non_null(scene_find_text(s, "graph:legend", "NaN / Inf"));
    int nantext = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].kind == SCENE_TEXT && strcmp(s->items[i].text, "NaN") == 0) {
            assert_memory_equal(&s->items[i].color, &p.theme->warn, sizeof(Color));
            nantext++;
        }
    assert_true(nantext >= 3);
    graph_destroy(g);

    // A collapsed step holding a NaN is marked as a whole.
    g = graph_create(0);
    int group[512];
    bool collapsed[5] = {true, true, true, true, true};
    Value *L = build_rnn(g, 5, 2, group, 3);
    p = params(g, L, 1200, 500);
    p.group = group, p.ngroups = 5, p.collapsed = collapsed;
    scene_begin(s, 1240, 520, p.theme->background);
    graph_build(s, lay, &p);
    // The loss is NaN, so every gradient is: all steps and weights are marked.
    assert_int_equal(count_prefix(s, "graph:nan"), graph_layout_boxes(lay));
    const SceneItem *g3 = scene_find(s, "graph:group:3");
    assert_memory_equal(&g3->color, &p.theme->warn, sizeof(Color));
    graph_layout_destroy(lay);
    scene_destroy(s);
    graph_destroy(g);
}

// Every item lies inside the widget's box.
static void assert_all_inside(const Scene *s, const GraphParams *p)
{
    for (size_t i = 0; i < s->n; i++) {
        const SceneItem *it = &s->items[i];
        float x0, y0, x1, y1;
        switch (it->kind) {
        case SCENE_LINE:
            x0 = fminf(it->x, it->x2), x1 = fmaxf(it->x, it->x2);
            y0 = fminf(it->y, it->y2), y1 = fmaxf(it->y, it->y2);
            break;
        case SCENE_CIRCLE:
            x0 = it->x - it->radius, x1 = it->x + it->radius, y0 = it->y - it->radius, y1 = it->y + it->radius;
            break;
        case SCENE_TEXT:
            x0 = it->align == ALIGN_LEFT ? it->x : it->align == ALIGN_CENTER ? it->x - it->w / 2 : it->x - it->w;
            x1 = x0 + it->w, y0 = it->y, y1 = it->y + it->h;
            break;
        case SCENE_POLYLINE:
            x0 = y0 = INFINITY, x1 = y1 = -INFINITY;
            for (int q = 0; q < it->npts; q++) {
                x0 = fminf(x0, it->pts[2 * q]), x1 = fmaxf(x1, it->pts[2 * q]);
                y0 = fminf(y0, it->pts[2 * q + 1]), y1 = fmaxf(y1, it->pts[2 * q + 1]);
            }
            break;
        default:
            x0 = it->x, y0 = it->y, x1 = it->x + it->w, y1 = it->y + it->h;
            break;
        }
        assert_true(x0 >= p->x - 0.01f && y0 >= p->y - 0.01f);
        assert_true(x1 <= p->x + p->w + 0.01f && y1 <= p->y + p->h + 0.01f);
    }
}

static void test_fit_zoom_pan(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    int *group = calloc(4096, sizeof(int));
    Value *L = build_rnn(g, 20, 3, group, -1);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, L, 900, 500);
    assert_true(graph_layout_update(lay, &p));
    p.view = graph_view_fit(lay, &p);
    assert_true(p.view.scale > 0 && p.view.scale < 0.2f);
    scene_begin(s, 1000, 600, p.theme->background);
    graph_build(s, lay, &p);
    assert_all_inside(s, &p);
    // Every box is drawn when fitted.
    assert_int_equal(count_prefix(s, "graph:node:"), (int)g->n);
    // Small graph: fit never magnifies past 1.5.
    Graph *g2 = graph_create(0);
    Value *o = build_neuron(g2);
    GraphParams p2 = params(g2, o, 1900, 1000);
    GraphLayout *lay2 = graph_layout_create();
    graph_layout_update(lay2, &p2);
    p2.view = graph_view_fit(lay2, &p2);
    assert_true(p2.view.scale <= 1.5f);

    // Zoom about a point keeps that point fixed; then everything drawn is
    // still clipped to the box, and layout is not redone.
    const SceneItem *it = scene_find(s, "graph:node:100");
    float mx = it->x + it->w / 2, my = it->y + it->h / 2;
    GraphView before = p.view;
    graph_view_zoom(&p.view, &p, 12, mx, my);
    assert_true(fabsf(p.view.scale - before.scale * 12) < 1e-4f);
    assert_true(fabsf((mx - p.x - before.ox) / before.scale - (mx - p.x - p.view.ox) / p.view.scale) < 1e-2f);
    // (vertically through the stretch the fit gives a long graph)
    assert_true(before.stretch > 1);
    assert_true(fabsf((my - p.y - before.oy) / (before.scale * before.stretch) -
                      (my - p.y - p.view.oy) / (p.view.scale * fmaxf(p.view.stretch, 1))) < 1e-2f);
    assert_false(graph_layout_update(lay, &p));
    scene_begin(s, 1000, 600, p.theme->background);
    graph_build(s, lay, &p);
    it = scene_find(s, "graph:node:100");
    assert_non_null(it);
    // (the fitted box was rounded to whole pixels, so its centre is only
    // roughly where the zoom was centred)
    assert_true(fabsf(it->x + it->w / 2 - mx) < 8 && fabsf(it->y + it->h / 2 - my) < 8);
    assert_all_inside(s, &p);
    // Zoomed in, names and values are readable again.
    assert_true(count_prefix(s, "graph:node:") < (int)g->n / 4);
    graph_view_pan(&p.view, 300, -40);
    scene_begin(s, 1000, 600, p.theme->background);
    graph_build(s, lay, &p);
    it = scene_find(s, "graph:node:100");
    assert_non_null(it);
    assert_true(fabsf(it->x + it->w / 2 - mx - 300) < 8);
    assert_all_inside(s, &p);
    // Zoom limits.
    for (int i = 0; i < 40; i++)
        graph_view_zoom(&p.view, &p, 2, mx, my);
    assert_true(p.view.scale <= 8);
    graph_layout_destroy(lay2);
    graph_destroy(g2);
    graph_layout_destroy(lay);
    scene_destroy(s);
    free(group);
    graph_destroy(g);
}

// A lesson's steps in the graph view, as lesson_view passes them: numbers
// appear as the steps reach them (a gradient not reached yet is blank, never
// 0), the step's node is highlighted, and a tooltip says what is not known yet.
static void test_reveal_and_current(void **state)
{
    (void)state;
    const char *src = "gradlab-lesson: 1\ntitle: Neuron\nview: graph\nprogram:\n"
                      "    x1 = 2\n    x2 = 0\n    w1 = -3\n    w2 = 1\n    b = 6.8813735870195432\n"
                      "    n = x1*w1 + x2*w2 + b\n    o = tanh(n)\nstep: auto\n";
    Diag dg;
    diag_init(&dg, "t.lesson", src, strlen(src));
    Lesson *l = lesson_parse(src, strlen(src), "t.lesson", &dg);
    diag_free(&dg);
    assert_non_null(l);
    Graph *g = graph_create(0);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    char id[64];
    int grads_seen = 0;
    for (size_t st = 0; st < l->nsteps; st++) {
        Value *out = lesson_eval(l, g, st);
        assert_non_null(out);
        LessonState ls = lesson_state(l, st);
        GraphParams p = params(g, out, 1200, 500);
        p.reveal = true;
        p.current = ls.gate < g->n ? g->nodes[ls.gate] : NULL;
        scene_begin(s, 1240, 520, p.theme->background);
        graph_build(s, lay, &p);
        for (size_t i = 0; i < g->n; i++) {
            const Value *v = g->nodes[i];
            if (!(v->mark & 1))
                continue;
            snprintf(id, sizeof(id), "graph:grad:%zu", i);
            const SceneItem *gi = scene_find(s, id);
            assert_true((gi != NULL) == ((v->mark & LESSON_SHOWN_GRAD) != 0));
            grads_seen += gi != NULL;
            snprintf(id, sizeof(id), "graph:value:%zu", i);
            assert_true((scene_find(s, id) != NULL) == ((v->mark & LESSON_SHOWN_VALUE) != 0));
        }
        const SceneItem *cur = scene_find(s, "graph:current");
        if (p.current) {
            assert_non_null(cur);
            // The glow is around the current node's box.
            SceneItem glow = *cur;
            const SceneItem *box = node_item(s, p.current);
            assert_non_null(box);
            assert_true(glow.x < box->x && glow.y < box->y && glow.x + glow.w > box->x + box->w &&
                        glow.y + glow.h > box->y + box->h);
        } else {
            assert_null(cur);
        }
        // At the intro nothing is computed: no number but the inputs'.
        if (ls.kind == STEP_INTRO) {
            assert_int_equal(count_prefix(s, "graph:grad:"), 0);
            const SceneItem *it = node_item(s, out);
            p.hover = true, p.mouse_x = it->x + 4, p.mouse_y = it->y + 4;
            scene_begin(s, 1240, 520, p.theme->background);
            graph_build(s, lay, &p);
            assert_non_null(scene_find_text(s, "graph:tooltip", "value     not computed yet"));
            assert_non_null(scene_find_text(s, "graph:tooltip", "gradient  not reached yet"));
        }
    }
    assert_true(grads_seen > 0);
    graph_layout_destroy(lay);
    scene_destroy(s);
    graph_destroy(g);
    lesson_destroy(l);
}

// Ctrl + (a bigger unit) never cuts the graph off: a fitted view is fitted
// again to the box, and a zoomed one grows about the box's centre.
static void test_text_scale(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *o = build_neuron(g);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, o, 900, 400);
    graph_layout_update(lay, &p);
    GraphView kept = graph_view_fit(lay, &p); // what the app keeps between frames
    const float units[] = {1, 1.1f, 1.25f, 1.5f, 2, 3, 0.5f};
    for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
        p.unit = units[k];
        p.view = kept;
        scene_begin(s, 960, 440, p.theme->background);
        graph_build(s, lay, &p);
        assert_int_equal(count_prefix(s, "graph:node:"), (int)g->n); // every box, and whole:
        for (size_t i = 0; i < s->n; i++)
            if (s->items[i].id && strncmp(s->items[i].id, "graph:node:", 11) == 0)
                assert_true(s->items[i].w >= 131 * graph_view_current(lay, &p).scale * p.unit);
        assert_all_inside(s, &p);
        GraphView now = graph_view_current(lay, &p);
        assert_true(now.fitted && now.unit == p.unit);
    }
    // Zoomed in at the centre, then the unit doubles: what was at the
    // centre stays there, and the view is no longer a fit.
    p.unit = 1;
    p.view = kept;
    scene_begin(s, 960, 440, p.theme->background);
    graph_build(s, lay, &p);
    const SceneItem *n = node_item_named(s, g, "graph", "n");
    float cx = n->x + n->w / 2, cy = n->y + n->h / 2;
    graph_view_zoom(&p.view, &p, 1.3f, cx, cy);
    graph_view_pan(&p.view, p.x + p.w / 2 - cx, p.y + p.h / 2 - cy);
    assert_false(p.view.fitted);
    p.unit = 2;
    scene_begin(s, 960, 440, p.theme->background);
    graph_build(s, lay, &p);
    n = node_item_named(s, g, "graph", "n");
    assert_non_null(n);
    assert_true(fabsf(n->x + n->w / 2 - (p.x + p.w / 2)) < 2 && fabsf(n->y + n->h / 2 - (p.y + p.h / 2)) < 2);
    assert_all_inside(s, &p);
    // Zooming from there starts from what is on screen.
    GraphView before = graph_view_current(lay, &p);
    graph_view_zoom(&p.view, &p, 1, p.x + 10, p.y + 10);
    assert_true(fabsf(p.view.ox - before.ox) < 1e-3f && fabsf(p.view.oy - before.oy) < 1e-3f);
    graph_layout_destroy(lay);
    scene_destroy(s);
    graph_destroy(g);
}

static int count_kind(const Scene *s, SceneKind kind)
{
    int n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->items[i].kind == kind;
    return n;
}

// Names, values and gradients when boxes are big; names or operators over
// smaller values and gradients when they are small; shapes only when tiny. No text is ever smaller than 8 px.
static void test_level_of_detail(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *o = build_neuron(g);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, o, 1400, 700);
    p.legend = false;
    float scales[3] = {1.0f, 0.5f, 0.2f};
    int texts[3];
    for (int i = 0; i < 3; i++) {
        p.view = (GraphView){.scale = scales[i], .ox = 10, .oy = 10};
        scene_begin(s, 1440, 720, p.theme->background);
        graph_build(s, lay, &p);
        texts[i] = count_kind(s, SCENE_TEXT);
        assert_int_equal(count_prefix(s, "graph:node:"), (int)g->n);
        // Gradients are shown down to values-only detail.
        assert_int_equal(count_prefix(s, "graph:grad:"), i < 2 ? (int)g->n : 0);
        for (size_t j = 0; j < s->n; j++)
            if (s->items[j].kind == SCENE_TEXT)
                assert_true(s->items[j].size >= 8);
    }
    assert_true(texts[0] >= 3 * (int)g->n - 1); // label, value, gradient (+ op names)
    assert_int_equal(texts[1], 3 * (int)g->n);   // a name or operator, a value and a gradient each
    assert_int_equal(texts[2], 0);
    // An empty graph and a lone node draw without trouble.
    graph_reset(g);
    p.out = NULL;
    scene_begin(s, 1440, 720, p.theme->background);
    p.view.scale = 0;
    graph_build(s, lay, &p);
    assert_false(s->failed);
    assert_int_equal(graph_layout_boxes(lay), 0);
    Value *x = value_input(g, 1, "x");
    p.out = x;
    scene_begin(s, 1440, 720, p.theme->background);
    graph_build(s, lay, &p);
    assert_int_equal(graph_layout_boxes(lay), 1);
    assert_non_null(node_item(s, x));
    graph_layout_destroy(lay);
    scene_destroy(s);
    graph_destroy(g);
}

// Random graphs with random (also non-convex) groups: laid out without
// trouble, never more crossings than the first order, everything inside
// the box, hovering anywhere is safe.
static unsigned rnd_next(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}
#define RND() rnd_next(&seed)

static void test_random_graphs(void **state)
{
    (void)state;
    unsigned seed = 12345;
    Graph *g = graph_create(0);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    int group[400];
    bool collapsed[6];
    for (int round = 0; round < 60; round++) {
        graph_reset(g);
        int n = 2 + (int)(RND() % 150);
        for (int i = 0; i < n; i++) {
            if (i < 3 || RND() % 5 == 0) {
                value_input(g, (double)(RND() % 7) - 3, NULL);
            } else {
                Value *a = g->nodes[RND() % g->n];
                Value *b = g->nodes[g->n - 1 - RND() % (g->n < 4 ? g->n : 4)];
                ValueOp ops[6] = {OP_ADD, OP_MUL, OP_TANH, OP_LOG, OP_SUB, OP_POW};
                value_apply(g, ops[RND() % 6], a, b, 2);
            }
            group[g->n - 1] = (int)(RND() % 8) - 2; // -2 .. 5: some out of range
        }
        for (int k = 0; k < 6; k++)
            collapsed[k] = RND() % 2;
        Value *out = RND() % 3 ? g->nodes[g->n - 1] : NULL;
        if (out)
            graph_backward(g, out);
        float w = 200 + (float)(RND() % 1200), h = 150 + (float)(RND() % 700);
        GraphParams p = params(g, out, w, h);
        p.group = group, p.ngroups = 6, p.collapsed = collapsed, p.legend = RND() % 2;
        p.hover = true;
        p.mouse_x = p.x + (float)(RND() % (unsigned)p.w);
        p.mouse_y = p.y + (float)(RND() % (unsigned)p.h);
        scene_begin(s, 1500, 900, p.theme->background);
        graph_build(s, lay, &p);
        assert_false(s->failed);
        assert_true(graph_layout_ok(lay));
        assert_true(graph_layout_crossings(lay) <= graph_layout_crossings_initial(lay));
        // The tooltip may stick out of a tiny box; check the rest.
        size_t keep = s->n;
        for (size_t i = 0; i < s->n; i++)
            if (s->items[i].id && strstr(s->items[i].id, "tooltip")) {
                keep = i;
                break;
            }
        s->n = keep;
        if (!p.legend)
            assert_all_inside(s, &p);
    }
    graph_layout_destroy(lay);
    scene_destroy(s);
    graph_destroy(g);
}
#undef RND

static void test_layout_cache(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    int group[512];
    bool collapsed[4] = {false, true, false, false};
    Value *L = build_rnn(g, 4, 2, group, -1);
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, L, 800, 400);
    p.group = group, p.ngroups = 4, p.collapsed = collapsed;
    assert_true(graph_layout_update(lay, &p));
    assert_false(graph_layout_update(lay, &p));
    g->nodes[0]->data = 42; // values do not change the layout
    p.view.scale = 3, p.hover = true;
    assert_false(graph_layout_update(lay, &p));
    collapsed[2] = true;
    assert_true(graph_layout_update(lay, &p));
    // The same structure rebuilt from scratch lays out the same.
    float w0, h0, w1, h1;
    graph_layout_size(lay, &w0, &h0);
    graph_reset(g);
    L = build_rnn(g, 4, 2, group, -1);
    p.out = L;
    assert_false(graph_layout_update(lay, &p));
    graph_layout_destroy(lay);
    lay = graph_layout_create();
    assert_true(graph_layout_update(lay, &p));
    graph_layout_size(lay, &w1, &h1);
    assert_true(w0 == w1 && h0 == h1);
    graph_layout_destroy(lay);
    graph_layout_destroy(NULL);
    graph_destroy(g);
}

// ---------------------------------------------------------------------------
// Steady frames and PNG renders

static Offscreen *open_offscreen(int w, int h)
{
    const char *data = getenv("GRADLAB_DATA_DIR");
    if (!data)
        return NULL;
    char fonts[1024], err[1024];
    snprintf(fonts, sizeof(fonts), "%s/assets/fonts", data);
    return offscreen_create(w, h, fonts, err, sizeof(err));
}

// A steady frame allocates nothing: rebuilding one 1920x1080 frame of a
// 20-step RNN (expanded, collapsed, mixed, zoomed to values only and to full
// detail, the mouse still over the graph) keeps the scene's item array and
// arena block. No clock is read: how long a frame takes is a benchmark's
// figure (tests/bench/bench_frame.c prints graph_layout_* and graph_build_*),
// never a unit test's pass or fail.
static void test_steady_frame(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    int *group = calloc(4096, sizeof(int));
    bool collapsed[20];
    Value *L = build_rnn(g, 20, 2, group, -1);
    Scene *s = scene_create();
    GraphLayout *lay = graph_layout_create();
    GraphParams p = params(g, L, 1880, 1040);
    p.group = group, p.ngroups = 20, p.collapsed = collapsed, p.group_format = "step %d";
    for (int mode = 0; mode < 5; mode++) {
        for (int t = 0; t < 20; t++)
            collapsed[t] = mode == 1 || (mode == 2 && t > 1 && t < 18);
        p.view.scale = 0;
        graph_layout_update(lay, &p);
        p.view = graph_view_fit(lay, &p);
        if (mode >= 3)
            graph_view_zoom(&p.view, &p, (mode == 3 ? 0.45f : 0.8f) / p.view.scale, p.x + p.w / 3, p.y + p.h / 2);
        size_t cap = 0;
        const void *block = NULL;
        for (int i = 0; i < 8; i++) {
            if (i == 2) { // steady state: the scene's memory no longer grows
                cap = s->cap;
                block = s->arena.head;
            }
            if (i > 2) {
                assert_int_equal(s->cap, cap);
                assert_ptr_equal(s->arena.head, block);
            }
            p.hover = true, p.mouse_x = p.x + p.w * 0.6f, p.mouse_y = p.y + p.h / 2;
            scene_begin(s, 1920, 1080, p.theme->background);
            graph_build(s, lay, &p);
            assert_false(s->failed);
        }
        assert_false(graph_layout_update(lay, &p)); // a frame never lays out again
    }
    graph_layout_destroy(lay);
    scene_destroy(s);
    free(group);
    graph_destroy(g);
}

static void save(Offscreen *o, Scene *s, const char *dir, const char *what, const Theme *t)
{
    char path[1200], err[1024];
    snprintf(path, sizeof(path), "%s/graph-%s-%s.png", dir, what, t->name);
    assert_true(offscreen_save_png(o, s, path, err, sizeof(err)));
}

static void test_render(void **state)
{
    (void)state;
    const char *dir = getenv("GRADLAB_GRAPH_PNG_DIR");
    Offscreen *o = open_offscreen(1600, 900);
    if (!dir || !o) {
        offscreen_destroy(o);
        skip();
    }
    Scene *s = scene_create();
    scene_renderer_attach(offscreen_scene_renderer(o), s);
    GraphLayout *lay = graph_layout_create(), *lay2 = graph_layout_create();
    Graph *small = graph_create(0), *bad = graph_create(0), *rnn = graph_create(0), *big = graph_create(0);
    Value *o1 = build_neuron(small);
    Value *bx = value_input(bad, -1, "x"), *bk = value_input(bad, 3, "k");
    Value *bl = value_log(bad, bx);
    value_set_name(bad, bl, "y");
    Value *bz = value_add(bad, value_mul(bad, bl, bk), value_const(bad, 1));
    value_set_name(bad, bz, "z");
    graph_backward(bad, bz);
    int *grp = calloc(4096, sizeof(int)), *grp2 = calloc(4096, sizeof(int));
    bool col[21], col2[21];
    Value *lr = build_rnn(rnn, 20, 2, grp, -1);
    Value *lb = build_rnn(big, 20, 3, grp2, -1);
    // The weights and the initial state form group 20, "parameters".
    for (size_t i = 0; i < rnn->n; i++)
        grp[i] = grp[i] < 0 ? 20 : grp[i];
    for (size_t i = 0; i < big->n; i++)
        grp2[i] = grp2[i] < 0 ? 20 : grp2[i];
    const char *names[21] = {[20] = "parameters"};
    const ThemeId themes[3] = {THEME_DARK, THEME_LIGHT, THEME_CONTRAST};
    for (int th = 0; th < 3; th++) {
        const Theme *t = theme_get(themes[th]);
        // 1. The neuron, hovering the tanh, and a NaN beside it.
        scene_begin(s, 1600, 900, t->background);
        scene_text(s, 30, 14, FONT_BOLD, 20, ALIGN_LEFT, t->text, "o = tanh(x1\u00b7w1 + x2\u00b7w2 + b)");
        GraphParams p = {.x = 30, .y = 50, .w = 1540, .h = 520, .unit = 1.2f, .theme = t, .graph = small,
                         .out = o1, .legend = true};
        graph_layout_update(lay, &p);
        p.view = graph_view_fit(lay, &p);
        graph_build(s, lay, &p);
        const SceneItem *it = node_item(s, o1);
        p.hover = true, p.mouse_x = it->x + it->w * 0.6f, p.mouse_y = it->y + it->h * 0.6f;
        scene_begin(s, 1600, 900, t->background);
        scene_text(s, 30, 14, FONT_BOLD, 20, ALIGN_LEFT, t->text, "o = tanh(x1\u00b7w1 + x2\u00b7w2 + b)");
        graph_build(s, lay, &p);
        scene_text(s, 30, 590, FONT_BOLD, 20, ALIGN_LEFT, t->text, "z = 3\u00b7log(x) + 1 at x = \u22121");
        GraphParams q = {.x = 30, .y = 626, .w = 1540, .h = 250, .unit = 1.2f, .theme = t, .graph = bad,
                         .out = bz, .legend = true, .id = "bad"};
        graph_build(s, lay2, &q);
        save(o, s, dir, "small", t);

        // 2. A 20-step RNN with its parameters and every step collapsed,
        // fitted; below, steps 0 and 1 open, zoomed in at the left, with
        // the tooltip of h0.0.
        scene_begin(s, 1600, 900, t->background);
        scene_text(s, 30, 14, FONT_BOLD, 20, ALIGN_LEFT, t->text, "RNN unrolled over 20 steps (452 nodes)");
        for (int k = 0; k < 21; k++)
            col[k] = true;
        p = (GraphParams){.x = 20, .y = 50, .w = 1560, .h = 250, .unit = 1, .theme = t, .graph = rnn, .out = lr,
                          .group = grp, .ngroups = 21, .collapsed = col, .group_format = "step %d",
                          .group_names = names, .legend = false};
        graph_layout_update(lay, &p);
        p.view = graph_view_fit(lay, &p);
        graph_build(s, lay, &p);
        scene_text(s, 30, 316, FONT_BOLD, 20, ALIGN_LEFT, t->text, "steps 0 and 1 expanded, zoomed in");
        for (int k = 0; k < 21; k++)
            col2[k] = k >= 2;
        q = p;
        q.y = 350, q.h = 530, q.id = "zoom", q.collapsed = col2, q.legend = true;
        graph_layout_update(lay2, &q);
        q.view = graph_view_fit(lay2, &q);
        // Where step 0 ends and step 1 begins: h0.0 at a quarter of the
        // width (found in a fitted build that is then dropped).
        size_t mark = s->n;
        graph_build(s, lay2, &q);
        it = node_item_named(s, rnn, "zoom", "h0.0");
        if (it) {
            float hx = it->x + it->w / 2, hy = it->y + it->h / 2;
            graph_view_zoom(&q.view, &q, 0.8f / q.view.scale, hx, hy);
            graph_view_pan(&q.view, q.x + q.w * 0.25f - hx, q.y + q.h * 0.42f - hy);
        }
        s->n = mark;
        graph_build(s, lay2, &q);
        it = node_item_named(s, rnn, "zoom", "h0.0");
        if (it) {
            q.hover = true, q.mouse_x = it->x + it->w / 2, q.mouse_y = it->y + it->h / 2;
            scene_begin(s, 1600, 900, t->background);
            scene_text(s, 30, 14, FONT_BOLD, 20, ALIGN_LEFT, t->text, "RNN unrolled over 20 steps (452 nodes)");
            graph_build(s, lay, &p);
            scene_text(s, 30, 316, FONT_BOLD, 20, ALIGN_LEFT, t->text, "steps 0 and 1 expanded, zoomed in");
            graph_build(s, lay2, &q);
        }
        save(o, s, dir, "rnn20", t);

        // 3. 760 nodes (3 hidden units), all expanded and fitted (shapes
        // only); zoomed in to values only around step 9; every step
        // collapsed.
        scene_begin(s, 1600, 900, t->background);
        scene_text(s, 30, 10, FONT_BOLD, 18, ALIGN_LEFT, t->text,
                   "RNN with 3 hidden units over 20 steps: 760 nodes, fitted");
        for (int k = 0; k < 21; k++)
            col[k] = false;
        p = (GraphParams){.x = 20, .y = 40, .w = 1560, .h = 250, .unit = 1, .theme = t, .graph = big, .out = lb,
                          .group = grp2, .ngroups = 21, .collapsed = col, .group_format = "step %d",
                          .group_names = names};
        graph_layout_update(lay, &p);
        p.view = graph_view_fit(lay, &p);
        graph_build(s, lay, &p);
        scene_text(s, 30, 300, FONT_BOLD, 18, ALIGN_LEFT, t->text, "zoomed in on the middle steps: values only");
        q = p;
        q.y = 330, q.h = 300, q.id = "mid", q.legend = true;
        q.view = graph_view_fit(lay, &q);
        mark = s->n; // a fitted build, dropped, to find h9.1
        graph_build(s, lay, &q);
        it = node_item_named(s, big, "mid", "h9.1");
        float cx = it ? it->x + it->w / 2 : q.x + q.w / 2, cy = it ? it->y + it->h / 2 : q.y + q.h / 2;
        s->n = mark;
        graph_view_zoom(&q.view, &q, 0.42f / q.view.scale, cx, cy);
        graph_view_pan(&q.view, q.x + q.w / 2 - cx, q.y + q.h / 2 - cy);
        graph_build(s, lay, &q);
        for (int k = 0; k < 21; k++)
            col2[k] = true;
        scene_text(s, 30, 640, FONT_BOLD, 18, ALIGN_LEFT, t->text, "every step and the parameters collapsed");
        GraphParams r = p;
        r.y = 670, r.h = 210, r.id = "big2", r.view.scale = 0, r.collapsed = col2;
        graph_build(s, lay2, &r);
        save(o, s, dir, "big", t);
    }
    free(grp);
    free(grp2);
    graph_destroy(small);
    graph_destroy(bad);
    graph_destroy(rnn);
    graph_destroy(big);
    graph_layout_destroy(lay);
    graph_layout_destroy(lay2);
    scene_destroy(s);
    offscreen_destroy(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers_left_to_right),
        cmocka_unit_test(test_crossings),
        cmocka_unit_test(test_rnn_collapses),
        cmocka_unit_test(test_group_toggle),
        cmocka_unit_test(test_groups_apart),
        cmocka_unit_test(test_tooltip),
        cmocka_unit_test(test_nan_marker),
        cmocka_unit_test(test_fit_zoom_pan),
        cmocka_unit_test(test_level_of_detail),
        cmocka_unit_test(test_reveal_and_current),
        cmocka_unit_test(test_text_scale),
        cmocka_unit_test(test_random_graphs),
        cmocka_unit_test(test_layout_cache),
        cmocka_unit_test(test_steady_frame),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
