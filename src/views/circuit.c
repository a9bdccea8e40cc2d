// circuit.c: layered layout and drawing of a scalar graph as a circuit;
// see circuit.h.
//
// Layout: inputs form column 0; a gate sits one column right of its
// rightmost source; a constant sits just left of the gate that uses it.
// Inputs are spread evenly in the order their first consumers appear; each
// gate starts at the mean height of its sources and gates in one column are
// then pushed apart to a minimum spacing and kept inside the box.
#include "views/circuit.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/numfmt.h"
#include "lessons/lesson.h"

typedef struct Node {
    int layer;
    float x, y;
    int order;      // rank inside its layer
} Node;

char *circuit_node_key(const Value *v, char *buf, size_t n)
{
    if (v->name)
        snprintf(buf, n, "%s", v->name);
    else
        snprintf(buf, n, "#%u", v->index);
    return buf;
}

char *circuit_node_label(const Value *v, char *buf, size_t n)
{
    const char *l = value_label(v, buf, n);
    if (l != buf)
        snprintf(buf, n, "%s", l);
    return buf;
}

// A node of one column and its height, sorted by height (ties by index).
typedef struct YKey {
    float y;
    size_t index;
} YKey;

static int cmp_ykey(const void *a, const void *b)
{
    const YKey *p = a, *q = b;
    if (p->y != q->y)
        return p->y < q->y ? -1 : 1;
    return p->index < q->index ? -1 : p->index > q->index;
}

// Sort the indices idx[0..n) by their nodes' heights; keys is scratch for n.
static void sort_by_y(size_t *idx, size_t n, const Node *nodes, YKey *keys)
{
    for (size_t i = 0; i < n; i++)
        keys[i] = (YKey){nodes[idx[i]].y, idx[i]};
    qsort(keys, n, sizeof(YKey), cmp_ykey);
    for (size_t i = 0; i < n; i++)
        idx[i] = keys[i].index;
}

static bool in_circuit(const Value *v) { return v->mark & 1; }

static void layout(const Graph *g, Node *nodes, size_t *scratch, YKey *keys, Arena *arena,
                   const CircuitParams *p, float spacing, int *max_layer_out)
{
    size_t n = g->n;
    int max_layer = 1;
    for (size_t i = 0; i < n; i++) {
        const Value *v = g->nodes[i];
        nodes[i].layer = 0;
        if (!in_circuit(v) || !v->src[0])
            continue;
        int l = 0;
        for (int k = 0; k < 2 && v->src[k]; k++)
            if (v->src[k]->op != OP_CONST && nodes[v->src[k]->index].layer > l)
                l = nodes[v->src[k]->index].layer;
        nodes[i].layer = l + 1;
        if (l + 1 > max_layer)
            max_layer = l + 1;
    }
    // Constants: one column left of their first consumer.
    for (size_t i = 0; i < n; i++) {
        const Value *v = g->nodes[i];
        if (!in_circuit(v) || !v->src[0])
            continue;
        for (int k = 0; k < 2 && v->src[k]; k++)
            if (v->src[k]->op == OP_CONST && nodes[v->src[k]->index].layer == 0)
                nodes[v->src[k]->index].layer = nodes[i].layer - 1;
    }
    *max_layer_out = max_layer;

    float left = p->x + 80 * p->unit;
    float outw = 150 * p->unit;
    float colw = (p->w - (left - p->x) - outw) / (float)max_layer;
    for (size_t i = 0; i < n; i++)
        nodes[i].x = left + colw * (float)nodes[i].layer;

    // Inputs in order of their first use, spread evenly.
    size_t ninputs = 0;
    for (size_t i = 0; i < n; i++)
        nodes[i].order = -1;
    for (size_t i = 0; i < n; i++) {
        const Value *v = g->nodes[i];
        if (!in_circuit(v) || !v->src[0])
            continue;
        for (int k = 0; k < 2 && v->src[k]; k++) {
            const Value *s = v->src[k];
            if (s->op == OP_INPUT && nodes[s->index].order < 0)
                nodes[s->index].order = (int)ninputs++;
        }
    }
    float top = p->y + spacing * 0.5f, bottom = p->y + p->h - spacing * 0.5f;
    for (size_t i = 0; i < n; i++) {
        const Value *v = g->nodes[i];
        if (in_circuit(v) && v->op == OP_INPUT) {
            if (nodes[i].order < 0) // the output itself is an input
                nodes[i].order = (int)ninputs++;
            nodes[i].y = ninputs <= 1 ? (top + bottom) / 2
                                      : top + (bottom - top) * (float)nodes[i].order / (float)(ninputs - 1);
        }
    }
    // Gates at the mean height of their sources, column by column.
    // Gates bucketed by layer once (a counting sort), so each column below
    // costs its own size, not the whole graph's.
    size_t *start = arena_calloc(arena, (size_t)max_layer + 2, sizeof(size_t));
    size_t *bylayer = arena_calloc(arena, n ? n : 1, sizeof(size_t));
    if (!start || !bylayer)
        return;
    for (size_t i = 0; i < n; i++)
        if (in_circuit(g->nodes[i]) && g->nodes[i]->src[0])
            start[nodes[i].layer + 1]++;
    for (int l = 1; l <= max_layer + 1; l++)
        start[l] += start[l - 1];
    for (size_t i = 0; i < n; i++) {
        if (in_circuit(g->nodes[i]) && g->nodes[i]->src[0])
            bylayer[start[nodes[i].layer]++] = i;
    }
    for (int l = max_layer + 1; l > 0; l--) // the fill moved each start to the next layer's
        start[l] = start[l - 1];
    start[0] = 0;
    for (int l = 1; l <= max_layer; l++) {
        size_t m = 0;
        for (size_t b = start[l]; b < start[l + 1]; b++) {
            size_t i = bylayer[b];
            const Value *v = g->nodes[i];
            float sum = 0;
            int cnt = 0;
            for (int k = 0; k < 2 && v->src[k]; k++)
                if (v->src[k]->op != OP_CONST) {
                    sum += nodes[v->src[k]->index].y;
                    cnt++;
                }
            nodes[i].y = cnt ? sum / (float)cnt : (top + bottom) / 2;
            scratch[m++] = i;
        }
        sort_by_y(scratch, m, nodes, keys);
        for (size_t j = 1; j < m; j++) // push apart downwards
            if (nodes[scratch[j]].y < nodes[scratch[j - 1]].y + spacing)
                nodes[scratch[j]].y = nodes[scratch[j - 1]].y + spacing;
        if (m && nodes[scratch[m - 1]].y > bottom) { // then shift back up
            float shift = nodes[scratch[m - 1]].y - bottom;
            for (size_t j = 0; j < m; j++)
                nodes[scratch[j]].y -= shift;
        }
        for (size_t j = 0; j < m; j++)
            if (nodes[scratch[j]].y < top)
                nodes[scratch[j]].y = top;
    }
    // Constants next to their consumer, offset so they do not sit on a wire.
    for (size_t i = 0; i < n; i++) {
        const Value *v = g->nodes[i];
        if (!in_circuit(v) || !v->src[0])
            continue;
        for (int k = 0; k < 2 && v->src[k]; k++)
            if (v->src[k]->op == OP_CONST)
                nodes[v->src[k]->index].y = nodes[i].y + (k == 0 ? -0.5f : 0.5f) * spacing;
    }
}

// Where the wire from v leaves, and where wire slot k of gate c arrives.
static void wire_start(const Value *v, const Node *nodes, float r, float *x, float *y)
{
    *x = nodes[v->index].x + (v->src[0] ? r : 0);
    *y = nodes[v->index].y;
}

static void wire_end(const Value *c, int k, const Node *nodes, float r, float *x, float *y)
{
    float off = c->src[1] ? (k == 0 ? -0.45f : 0.45f) * r : 0;
    *x = nodes[c->index].x - sqrtf(r * r - off * off);
    *y = nodes[c->index].y + off;
}

static Color number_color(Color normal, const Theme *t, double x)
{
    return isfinite(x) ? normal : t->warn;
}

// Value above and gradient below the start of a wire that leaves at (x, y).
static void wire_labels(Scene *s, const Value *v, float x, float y, const CircuitParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit, size = 20 * u;
    char key[80], id[96], num[32];
    circuit_node_key(v, key, sizeof(key));
    if (v->mark & LESSON_SHOWN_VALUE) {
        snprintf(id, sizeof(id), "value:%s", key);
        SceneRef ref = scene_tag(s, scene_text(s, x + 10 * u, y - scene_line_height(size) - 1 * u, FONT_BOLD,
                                               size, ALIGN_LEFT, number_color(t->value, t, v->data),
                                               numfmt_short(num, sizeof(num), v->data, 4)), id);
        SceneItem it = scene_item(s, ref); // a copy: the appends below may move the items
        if (scene_ok(ref) && v->op == OP_INPUT) // a dotted underline says "drag me"
            for (float dx = 0; dx < it.w; dx += 5 * u)
                scene_rect(s, it.x + dx, y - 3 * u, fminf(2.5f * u, it.w - dx), fmaxf(1, 1.5f * u), 0,
                           color_alpha(t->value, 160));
    }
    if (v->mark & LESSON_SHOWN_GRAD) {
        snprintf(id, sizeof(id), "grad:%s", key);
        scene_tag(s, scene_text(s, x + 10 * u, y + 3 * u, FONT_BOLD, size, ALIGN_LEFT,
                                number_color(t->grad, t, v->grad),
                                numfmt_short(num, sizeof(num), v->grad, 4)), id);
    }
}

static void callout(Scene *s, const Graph *g, const Node *nodes, float r, const CircuitParams *p)
{
    const Value *c = g->nodes[p->current];
    const Theme *t = p->theme;
    float u = p->unit, size = 18 * u, lh = scene_line_height(size);
    char lines[4][200];
    Color colors[4];
    int nl = 0;
    char a[32], b[32], v[32], key[80], sk[80];
    circuit_node_label(c, key, sizeof(key));
    if (p->phase == 1) {
        if (c->src[1])
            snprintf(lines[nl], 200, "%s = %s %s %s = %s", key, numfmt_short(a, 32, c->src[0]->data, 4),
                     value_op_symbol[c->op], numfmt_short(b, 32, c->src[1]->data, 4),
                     numfmt_short(v, 32, c->data, 4));
        else if (c->op == OP_POW)
            snprintf(lines[nl], 200, "%s = %s ^ %s = %s", key, numfmt_short(a, 32, c->src[0]->data, 4),
                     numfmt_short(b, 32, c->exponent, 4), numfmt_short(v, 32, c->data, 4));
        else
            snprintf(lines[nl], 200, "%s = %s(%s) = %s", key, value_op_symbol[c->op],
                     numfmt_short(a, 32, c->src[0]->data, 4), numfmt_short(v, 32, c->data, 4));
        colors[nl++] = t->value;
    } else {
        const char *o = p->out_name ? p->out_name : "f";
        snprintf(lines[nl], 200, "local \u00d7 upstream = gradient");
        colors[nl++] = t->muted;
        for (int k = 0; k < 2 && c->src[k]; k++) {
            circuit_node_label(c->src[k], sk, sizeof(sk));
            snprintf(lines[nl], 200, "\u2202%s/\u2202%s:  %s \u00d7 %s = %s", o, sk,
                     numfmt_short(a, 32, c->local[k], 4), numfmt_short(b, 32, c->grad, 4),
                     numfmt_short(v, 32, c->local[k] * c->grad, 4));
            colors[nl++] = t->grad;
        }
    }
    float w = 0;
    for (int i = 0; i < nl; i++) {
        float tw = scene_text_width(s, FONT_MONO, size, lines[i]);
        if (tw > w)
            w = tw;
    }
    float pad = 10 * u, bw = w + 2 * pad, bh = lh * (float)nl + 2 * pad;
    float cx = nodes[c->index].x, cy = nodes[c->index].y;
    // Below the gate if it fits, else above, else beside it.
    float bx = cx - bw / 2, by = cy + r + 26 * u; // below the gate's name label
    float lo = p->y - 10 * u, hi = p->y + p->h + 50 * u;
    if (by + bh > hi)
        by = cy - r - 14 * u - bh;
    if (by < lo) {
        by = fminf(fmaxf(cy - bh / 2, lo), hi - bh);
        bx = cx + r + 16 * u;
        if (bx + bw > p->x + p->w)
            bx = cx - r - 16 * u - bw;
    }
    if (bx < p->x)
        bx = p->x;
    if (bx + bw > p->x + p->w)
        bx = p->x + p->w - bw;
    scene_tag(s, scene_panel(s, bx, by, bw, bh, 8 * u, t->panel, t->accent, 1.5f * u), "callout-box");
    for (int i = 0; i < nl; i++)
        scene_tag(s, scene_text(s, bx + pad, by + pad + lh * (float)i, FONT_MONO, size, ALIGN_LEFT,
                                colors[i], lines[i]), "callout");
}

void circuit_build(Scene *s, const Graph *g, const Value *out, const CircuitParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit;
    float r = 26 * u;
    size_t n = g->n;
    Node *nodes = arena_calloc(&s->arena, n ? n : 1, sizeof(Node));
    size_t *scratch = arena_calloc(&s->arena, n ? n : 1, sizeof(size_t));
    YKey *keys = arena_calloc(&s->arena, n ? n : 1, sizeof(YKey));
    if (!nodes || !scratch || !keys || !out) {
        s->failed = true;
        return;
    }
    // Space the inputs over the box; when it is tight, shrink the gates so
    // that labels above and below each wire still fit.
    size_t ninputs = 0;
    for (size_t i = 0; i < n; i++)
        ninputs += in_circuit(g->nodes[i]) && g->nodes[i]->op == OP_INPUT;
    float spacing = fminf(3.4f * r, p->h / (float)(ninputs > 1 ? ninputs : 1));
    if (spacing < 2.4f * r)
        r = fmaxf(spacing / 2.4f, 8 * u);
    int max_layer;
    layout(g, nodes, scratch, keys, &s->arena, p, spacing, &max_layer);

    // Wires, dimmed until the forward pass has computed their value.
    for (size_t i = 0; i < n; i++) {
        const Value *c = g->nodes[i];
        if (!in_circuit(c) || !c->src[0])
            continue;
        for (int k = 0; k < 2 && c->src[k]; k++) {
            const Value *src = c->src[k];
            float x0, y0, x1, y1;
            wire_start(src, nodes, r, &x0, &y0);
            wire_end(c, k, nodes, r, &x1, &y1);
            Color col = (src->mark & LESSON_SHOWN_VALUE) ? t->wire_done : t->wire;
            if ((src->mark & LESSON_SHOWN_VALUE) && !isfinite(src->data))
                col = t->warn;
            scene_line(s, x0, y0, x1, y1, 2.5f * u, col);
        }
    }
    // The output wire with an arrowhead and the output's name.
    float ox, oy;
    wire_start(out, nodes, r, &ox, &oy);
    float oend = ox + 110 * u;
    Color ocol = (out->mark & LESSON_SHOWN_VALUE) ? t->wire_done : t->wire;
    scene_line(s, ox, oy, oend, oy, 2.5f * u, ocol);
    scene_triangle(s, oend + 12 * u, oy, oend, oy - 7 * u, oend, oy + 7 * u, ocol);
    char key[80], id[96];
    circuit_node_key(out, key, sizeof(key));
    scene_tag(s, scene_text(s, oend + 18 * u, oy - scene_line_height(22 * u) / 2, FONT_BOLD, 22 * u,
                            ALIGN_LEFT, t->text, p->out_name ? p->out_name : key), "name:output");

    // Labels on the first wire leaving each node (and on the output wire).
    for (size_t i = 0; i < n; i++) {
        const Value *v = g->nodes[i];
        if (!in_circuit(v))
            continue;
        float x0, y0;
        wire_start(v, nodes, r, &x0, &y0);
        if (v->op == OP_CONST) {
            char num[32];
            scene_text(s, x0 - 6 * u, y0 - scene_line_height(15 * u) / 2, FONT_MONO, 15 * u, ALIGN_RIGHT,
                       t->muted, numfmt_short(num, sizeof(num), v->data, 4));
            continue;
        }
        if (v->op == OP_INPUT) {
            circuit_node_key(v, key, sizeof(key));
            snprintf(id, sizeof(id), "name:%s", key);
            scene_tag(s, scene_text(s, x0 - 10 * u, y0 - scene_line_height(22 * u) / 2, FONT_BOLD,
                                    22 * u, ALIGN_RIGHT, t->text, key), id);
            scene_circle(s, x0, y0, 4 * u, t->wire_done);
        }
        wire_labels(s, v, x0, y0, p);
    }

    // Gates on top.
    for (size_t i = 0; i < n; i++) {
        const Value *v = g->nodes[i];
        if (!in_circuit(v) || !v->src[0])
            continue;
        bool cur = i == p->current;
        float x = nodes[i].x, y = nodes[i].y;
        circuit_node_key(v, key, sizeof(key));
        snprintf(id, sizeof(id), "gate:%s", key);
        if (cur)
            scene_circle(s, x, y, r + 7 * u, color_alpha(t->accent, 70));
        scene_tag(s, scene_circle(s, x, y, r, t->gate), id);
        scene_ring(s, x, y, r, (cur ? 3.5f : 2) * u, cur ? t->accent : t->gate_edge);
        char sym[40];
        if (v->op == OP_POW) {
            char e[24];
            snprintf(sym, sizeof(sym), "^%s", numfmt_short(e, sizeof(e), v->exponent, 3));
        } else {
            snprintf(sym, sizeof(sym), "%s", value_op_symbol[v->op]);
        }
        float size = strlen(sym) > 2 ? 15 * u : 24 * u;
        scene_text(s, x, y - scene_line_height(size) / 2, FONT_BOLD, size, ALIGN_CENTER, t->text, sym);
        if (v->name && v != out) // name the gate's output, as in "q"
            scene_text(s, x, y + r + 2 * u, FONT_REGULAR, 17 * u, ALIGN_CENTER, t->muted, v->name);
    }
    if (p->current != SIZE_MAX && p->current < n && p->phase)
        callout(s, g, nodes, r, p);
}
