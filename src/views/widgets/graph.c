// graph.c: the graph widget's drawing: clipping, level of detail, edges,
// boxes, group frames and tabs, the tooltip, the legend; and the view
// helpers (fit, zoom, pan, hit-testing). The layout is in graph_layout.c.
#include "views/widgets/graph.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/numfmt.h"
#include "lessons/lesson.h"
#include "views/widgets/graph_layout.h"

// Level of detail, by the on-screen size of one layout unit.
#define LOD_FULL_SCALE 0.72f    // name, value and gradient
#define LOD_VALUE_SCALE 0.30f   // value only (a group: its name); below that shapes only
#define MIN_TEXT 8.0f           // no text smaller than this many pixels

// ---------------------------------------------------------------------------
// Drawing

typedef enum Lod { LOD_SHAPES, LOD_VALUES, LOD_FULL } Lod;

// Where things go on screen, and the box nothing may leave.
typedef struct Draw {
    Scene *s;
    const GraphParams *p;
    const GraphLayout *lay;
    const Theme *t;
    float ox, oy, k;        // screen = origin + layout * k
    float ky;               // ... and k * the view's stretch vertically
    float cx0, cy0, cx1, cy1;
    Lod lod;
    char id[96];            // the id prefix (longer ones are cut)
    int hover;              // vnode under the mouse, or -1
    const unsigned char *group_bad; // (ngroups) a collapsed group holds a NaN/Inf
    bool sticky;            // a tab would be out of view: tabs in a strip at the top
    float tab_y;            // ... at this y
    float top0;             // the top of the drawing box before that strip
    float group_fs;         // values-only detail: one size for every collapsed group's name
    int *grads_drawn;       // how many gradients were drawn (for the legend)
} Draw;

static float sx(const Draw *d, float lx) { return d->ox + lx * d->k; }
static float sy(const Draw *d, float ly) { return d->oy + ly * d->ky; }

// What a lesson step has on screen (GraphParams.reveal): a number not
// reached yet is blank.
static bool shows_value(const GraphParams *p, const Value *v)
{
    return !p->reveal || (v->mark & LESSON_SHOWN_VALUE);
}

static bool shows_grad(const GraphParams *p, const Value *v)
{
    return !p->reveal || (v->mark & LESSON_SHOWN_GRAD);
}

// A NaN or Inf among the numbers shown for v.
static bool shows_bad(const GraphParams *p, const Value *v)
{
    return (shows_value(p, v) && !isfinite(v->data)) || (shows_grad(p, v) && !isfinite(v->grad));
}

// Clip a rectangle to the drawing box. false when nothing is left;
// *cut says whether anything was cut off.
static bool clip_rect(const Draw *d, float *x, float *y, float *w, float *h, bool *cut)
{
    float x0 = fmaxf(*x, d->cx0), y0 = fmaxf(*y, d->cy0);
    float x1 = fminf(*x + *w, d->cx1), y1 = fminf(*y + *h, d->cy1);
    if (x1 <= x0 || y1 <= y0)
        return false;
    *cut = x0 != *x || y0 != *y || x1 != *x + *w || y1 != *y + *h;
    *x = x0, *y = y0, *w = x1 - x0, *h = y1 - y0;
    return true;
}

static bool inside(const Draw *d, float x0, float y0, float x1, float y1)
{
    return x0 >= d->cx0 && y0 >= d->cy0 && x1 <= d->cx1 && y1 <= d->cy1;
}

// A line clipped to the drawing box (Liang-Barsky).
static SceneRef clipped_line(const Draw *d, float x0, float y0, float x1, float y1, float w, Color c)
{
    float t0 = 0, t1 = 1, dx = x1 - x0, dy = y1 - y0;
    const float pp[4] = {-dx, dx, -dy, dy};
    const float qq[4] = {x0 - d->cx0, d->cx1 - x0, y0 - d->cy0, d->cy1 - y0};
    for (int i = 0; i < 4; i++) {
        if (pp[i] == 0) {
            if (qq[i] < 0)
                return (SceneRef){-1};
            continue;
        }
        float r = qq[i] / pp[i];
        if (pp[i] < 0)
            t0 = fmaxf(t0, r);
        else
            t1 = fminf(t1, r);
        if (t0 > t1)
            return (SceneRef){-1};
    }
    return scene_line(d->s, x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy, w, c);
}

// Text only when it fits inside the drawing box entirely.
static SceneRef text_in(const Draw *d, float x, float y, SceneFont f, float size, SceneAlign a, Color c,
                        const char *str, float width)
{
    float left = a == ALIGN_LEFT ? x : a == ALIGN_CENTER ? x - width / 2 : x - width;
    if (!inside(d, left, y, left + width, y + scene_line_height(size)))
        return (SceneRef){-1};
    return scene_text(d->s, x, y, f, size, a, c, str);
}

// Width of n code points of the mono font, without asking the font.
static float mono_width(float size, const char *str)
{
    size_t n = 0;
    for (const unsigned char *q = (const unsigned char *)str; *q; q++)
        n += (*q & 0xC0) != 0x80;
    return 0.602f * size * (float)n;
}

// snprintf into buf, ending in an ellipsis (on a whole UTF-8 character)
// when it did not fit.
static void cut_to(char *buf, size_t n, int ret)
{
    if (ret < 0 || (size_t)ret < n || n < 4)
        return;
    size_t len = n - 4; // room for the ellipsis and the NUL
    while (len > 0 && ((unsigned char)buf[len] & 0xC0) == 0x80)
        len--;
    memcpy(buf + len, "\u2026", 4);
}

// Binding strength of an op in a formula: sums 1, products 2, powers 3,
// calls (tanh, max) 4; a name or a leaf binds like a call.
static int op_precedence(int op)
{
    switch ((ValueOp)op) {
    case OP_ADD: case OP_SUB: return 1;
    case OP_MUL: case OP_DIV: case OP_NEG: return 2;
    case OP_POW: return 3;
    default: return 4;
    }
}

static int precedence(const Value *v)
{
    return v->name || !v->src[0] ? 4 : op_precedence(v->op);
}

// v written over its sources' names, as the program would write it
// ("x1 × w1 + x2 × w2", "tanh(n)", "q^2"), unnamed sources expanded to
// depth levels ("…" below that).
static void formula(const Value *v, char *buf, size_t n, int depth);

// How a source is written inside a formula of precedence prec (right:
// it is the right operand, where a - (b - c) needs its parentheses).
static void operand(const Value *v, char *buf, size_t n, int depth, int prec, bool right)
{
    if (v->name) {
        snprintf(buf, n, "%s", v->name);
    } else if (v->op == OP_CONST) {
        numfmt_short(buf, n, v->data, 4);
    } else if (!v->src[0]) {
        snprintf(buf, n, "input %u", v->index); // an unnamed input (only C callers make one)
    } else if (depth <= 0) {
        snprintf(buf, n, "\u2026");
    } else {
        int mine = precedence(v);
        if (mine < prec || (right && mine == prec && prec < 4)) {
            char in[96];
            formula(v, in, sizeof(in), depth - 1);
            cut_to(buf, n, snprintf(buf, n, "(%s)", in));
        } else {
            formula(v, buf, n, depth - 1);
        }
    }
}

static void formula(const Value *v, char *buf, size_t n, int depth)
{
    char a[96], b[96], num[32];
    const char *sym = value_op_symbol[v->op];
    if (!v->src[0]) {
        operand(v, buf, n, depth, 0, false);
        return;
    }
    int prec = op_precedence(v->op);
    operand(v->src[0], a, sizeof(a), depth, prec == 4 ? 0 : prec, false); // a call's argument needs none
    if (v->src[1])
        operand(v->src[1], b, sizeof(b), depth, prec == 4 ? 0 : prec, true);
    int ret;
    switch ((ValueOp)v->op) {
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
        ret = snprintf(buf, n, "%s %s %s", a, sym, b);
        break;
    case OP_MAX: case OP_MIN:
        ret = snprintf(buf, n, "%s(%s, %s)", sym, a, b);
        break;
    case OP_NEG:
        ret = snprintf(buf, n, "\u2212%s", a);
        break;
    case OP_POW:
        ret = snprintf(buf, n, "%s^%s", a, numfmt_short(num, sizeof(num), v->exponent, 4));
        break;
    default: // tanh(n), σ(x), √(x)
        ret = snprintf(buf, n, "%s(%s)", sym, a);
        break;
    }
    cut_to(buf, n, ret);
}

// How a node is called in text: its name, its constant, or for an unnamed
// gate a readable formula over its sources ("x1 × w1", "tanh(q)"): never an
// internal number. Short: at most two levels of unnamed gates, and one when
// that is long.
static char *node_name(const Value *v, char *buf, size_t n)
{
    operand(v, buf, n, 2, 0, false);
    if (strlen(buf) > 28)
        operand(v, buf, n, 1, 0, false);
    return buf;
}

// The same inside a formula or after ∂: compound ones in parentheses.
static char *node_name_in(const Value *v, char *buf, size_t n);

char *graph_node_name(const Value *v, bool in_formula, char *buf, size_t n)
{
    return in_formula ? node_name_in(v, buf, n) : node_name(v, buf, n);
}

static char *node_name_in(const Value *v, char *buf, size_t n)
{
    node_name(v, buf, n);
    if (!v->name && v->src[0] && precedence(v) < 4) {
        char in[96];
        snprintf(in, sizeof(in), "%s", buf);
        cut_to(buf, n, snprintf(buf, n, "(%s)", in));
    }
    return buf;
}

// A gate's operator as its box shows it ("+", "tanh", "^2").
static char *op_label(const Value *v, char *buf, size_t n)
{
    char num[32];
    if (v->op == OP_POW)
        snprintf(buf, n, "^%s", numfmt_short(num, sizeof(num), v->exponent, 3));
    else
        snprintf(buf, n, "%s", value_op_symbol[v->op]);
    return buf;
}

// A number as a box shows it: `decimals` decimals between 0.1 and 10, so
// the inputs and the result of a gate read alike (-6 + 6.881 = 0.881), and
// decimals + 1 significant digits elsewhere (0.0567, 12.35, 1.2e-05).
static char *box_number(char *buf, size_t n, double x, int decimals)
{
    double a = fabs(x);
    int sig = decimals + 1;
    if (isfinite(x) && a >= 0.1 && a < 1)
        sig = decimals; // no digit before the point
    return numfmt_short(buf, n, x, sig);
}

static void group_name(const GraphParams *p, int k, char *buf, size_t n)
{
    if (p->group_names && p->group_names[k]) {
        snprintf(buf, n, "%s", p->group_names[k]);
        return;
    }
    // The format is the caller's and takes one int.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
    snprintf(buf, n, p->group_format ? p->group_format : "group %d", k);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
}

// The vertical offset of input slot port at box b.
static float port_offset(const Draw *d, const VNode *b, int port)
{
    if (b->kind != VN_NODE || port < 0 || !d->p->graph->nodes[b->node]->src[1])
        return 0;
    return (port == 0 ? -0.22f : 0.22f) * b->h;
}

// Small muted text on a chip of the panel's colour, so lines under it do
// not run through it; only when it fits in the box.
static void label_chip(const Draw *d, float x, float y, float size, SceneAlign a, const char *str)
{
    float w = scene_text_width(d->s, FONT_REGULAR, size, str), lh = scene_line_height(size);
    float left = a == ALIGN_LEFT ? x : a == ALIGN_CENTER ? x - w / 2 : x - w, m = 0.2f * size;
    if (!inside(d, left - m, y, left + w + m, y + lh))
        return;
    if (d->lod == LOD_FULL) // (smaller, the labels sit in the gaps between columns)
        scene_rect(d->s, roundf(left - m), roundf(y + 0.1f * lh), roundf(w + 2 * m), roundf(0.85f * lh), 0, d->t->panel);
    scene_text(d->s, x, y, FONT_REGULAR, size, a, d->t->muted, str);
}

static void draw_edges(const Draw *d)
{
    const GraphLayout *lay = d->lay;
    const Theme *t = d->t;
    const VNode *v = lay->v;
    float k = d->k, u = d->p->unit;
    Color base = color_mix(t->wire, t->wire_done, 0.25f);
    float w0 = fminf(fmaxf(1.8f * k, 1.0f), 2.4f * u);
    float pts[2 * (MAX_SPAN * 2 + 2)];
    char buf[96];
    for (int j = 0; j < lay->ne; j++) {
        const VEdge *e = &lay->e[j];
        if (e->count == 0)
            continue;
        const VNode *a = &v[e->from], *b = &v[e->to];
        const Value *src = d->p->graph->nodes[e->src];
        Color col = !shows_value(d->p, src) ? color_mix(t->wire, t->panel, 0.4f)
                    : isfinite(src->data) ? base : d->t->warn;
        if ((src->flags & VALUE_SHARED) && isfinite(src->data)) // a weight shared by every step
            col = color_alpha(t->series[1], shows_value(d->p, src) ? 230 : 140);
        float w = w0 * (1 + 0.35f * log2f((float)e->count));
        if (d->hover >= 0 && (e->from == d->hover || e->to == d->hover)) {
            col = t->accent;
            w *= 1.6f;
        }
        float tx = sx(d, b->x - BOX_W / 2), ty = sy(d, b->y + port_offset(d, b, e->port));
        if (e->stub) {
            clipped_line(d, tx - STUB_LEN * k, ty, tx, ty, w, col);
            continue;
        }
        int np = 0;
        pts[np++] = sx(d, a->x + BOX_W / 2);
        pts[np++] = sy(d, a->y);
        for (int q = 0; q < e->ndummy; q++) {
            const VNode *dn = &v[e->dummy0 + q];
            pts[np++] = sx(d, dn->x - BOX_W / 2);
            pts[np++] = sy(d, dn->y);
            pts[np++] = sx(d, dn->x + BOX_W / 2);
            pts[np++] = sy(d, dn->y);
        }
        pts[np++] = tx;
        pts[np++] = ty;
        float bx0 = INFINITY, by0 = INFINITY, bx1 = -INFINITY, by1 = -INFINITY;
        for (int q = 0; q < np; q += 2) {
            bx0 = fminf(bx0, pts[q]), bx1 = fmaxf(bx1, pts[q]);
            by0 = fminf(by0, pts[q + 1]), by1 = fmaxf(by1, pts[q + 1]);
        }
        if (bx1 < d->cx0 || bx0 > d->cx1 || by1 < d->cy0 || by0 > d->cy1)
            continue;
        if (np == 4)
            clipped_line(d, pts[0], pts[1], pts[2], pts[3], w, col);
        else if (inside(d, bx0, by0, bx1, by1))
            scene_polyline(d->s, pts, np / 2, w, col);
        else
            for (int q = 0; q + 3 < np; q += 2)
                clipped_line(d, pts[q], pts[q + 1], pts[q + 2], pts[q + 3], w, col);
        if (e->count > 1 && d->lod == LOD_FULL) {
            float size = 11 * k;
            snprintf(buf, sizeof(buf), "\u00d7%d", e->count);
            float mx = (pts[np - 4] + tx) / 2, my = (pts[np - 3] + ty) / 2;
            label_chip(d, mx, my - scene_line_height(size) - 1 * k, size, ALIGN_CENTER, buf);
        }
    }
    // The stubs' labels last, on chips over every line.
    if (d->lod == LOD_SHAPES)
        return;
    float size = fmaxf(11 * k, MIN_TEXT);
    for (int j = 0; j < lay->ne; j++) {
        const VEdge *e = &lay->e[j];
        if (e->count == 0 || !e->stub)
            continue;
        const VNode *a = &v[e->from], *b = &v[e->to];
        const Value *src = d->p->graph->nodes[e->src];
        float tx = sx(d, b->x - BOX_W / 2), ty = sy(d, b->y + port_offset(d, b, e->port));
        if (tx < d->cx0 || tx - STUB_LEN * k > d->cx1 || ty < d->cy0 || ty > d->cy1)
            continue;
        if (a->kind == VN_GROUP && e->count > 1) {
            char gname[64];
            group_name(d->p, a->group, gname, sizeof(gname));
            snprintf(buf, sizeof(buf), "%s (%d)", gname, e->count);
        } else {
            node_name(src, buf, sizeof(buf));
            if (e->count > 1) {
                size_t len = strlen(buf);
                snprintf(buf + len, sizeof(buf) - len, " +%d", e->count - 1);
            }
        }
        // Above the stub, ending at the box: clear of the column to the left
        // (with less detail, only when it fits in the gap between columns);
        // else a small ring where it starts: this value comes from elsewhere.
        if (d->lod == LOD_VALUES &&
            scene_text_width(d->s, FONT_REGULAR, size, buf) > (COL_PITCH - BOX_W - 12) * k) {
            float x0 = tx - STUB_LEN * k, r = fmaxf(2.2f * k, 1.5f);
            if (inside(d, x0 - r, ty - r, x0 + r, ty + r))
                scene_ring(d->s, x0, ty, r, 1, d->t->muted);
            continue;
        }
        label_chip(d, tx - 3 * k, ty - scene_line_height(size) - 0.5f * k, size, ALIGN_RIGHT, buf);
    }
}

// A rounded box with a border, clipped; the outer item is tagged id (which
// may be NULL). Returns whether anything was drawn.
static bool box(const Draw *d, float x, float y, float w, float h, float r, float bw, Color edge, Color fill,
                const char *id)
{
    bool cut = false;
    // Whole pixels, so the renderer's corner fans meet its straight sides.
    float x1 = roundf(x + w), y1 = roundf(y + h);
    x = roundf(x), y = roundf(y), w = x1 - x, h = y1 - y;
    r = roundf(r);
    bw = fmaxf(roundf(bw), 1);
    if (!clip_rect(d, &x, &y, &w, &h, &cut))
        return false;
    if (cut)
        r = 0;
    SceneRef outer = scene_rect(d->s, x, y, w, h, r, edge);
    if (!scene_ok(outer))
        return false;
    if (id)
        scene_tag(d->s, outer, id);
    if (w > 2 * bw && h > 2 * bw)
        scene_rect(d->s, x + bw, y + bw, w - 2 * bw, h - 2 * bw, fmaxf(r - bw, 0), fill);
    return true;
}

static void nan_marker(const Draw *d, float bx, float by, float bw)
{
    float r = fmaxf(6.5f * d->k, 2.5f);
    float cx = bx + bw - r * 0.4f, cy = by + r * 0.4f;
    if (!inside(d, cx - r, cy - r, cx + r, cy + r))
        return;
    char id[128];
    snprintf(id, sizeof(id), "%s:nan", d->id);
    scene_tag(d->s, scene_circle(d->s, cx, cy, r, d->t->warn), id);
    if (d->lod == LOD_FULL)
        scene_text(d->s, cx, cy - scene_line_height(r * 1.6f) / 2, FONT_BOLD, r * 1.6f, ALIGN_CENTER,
                   d->t->background, "!");
}

static void draw_group_box(const Draw *d, int i)
{
    const VNode *vn = &d->lay->v[i];
    const Theme *t = d->t;
    float k = d->k;
    float bx = sx(d, vn->x - BOX_W / 2), by = sy(d, vn->y - vn->h / 2), bw = BOX_W * k, bh = vn->h * d->ky;
    bool bad = d->group_bad[vn->group], hot = d->hover == i;
    Color edge = bad ? t->warn : hot ? t->accent : t->series[4];
    Color fill = color_mix(t->gate, t->series[4], 0.14f);
    char id[128], name[64], line[96];
    // A second sheet behind: this box stands for a stack of nodes.
    box(d, bx + 4 * k, by - 4 * k, bw, bh, 8 * k, fmaxf(1.2f * k, 1), color_mix(edge, t->panel, 0.5f),
        color_mix(fill, t->panel, 0.4f), NULL);
    snprintf(id, sizeof(id), "%s:group:%d", d->id, vn->group);
    box(d, bx, by, bw, bh, 8 * k, fmaxf((hot || bad ? 2.6f : 1.8f) * k, 1), edge, fill, id);
    group_name(d->p, vn->group, name, sizeof(name));
    if (d->lod == LOD_FULL) {
        float fs = 14 * k;
        snprintf(line, sizeof(line), "\u25b8 %s", name);
        text_in(d, bx + bw / 2, by + 8 * k, FONT_BOLD, fs, ALIGN_CENTER, t->text, line,
                scene_text_width(d->s, FONT_BOLD, fs, line));
        snprintf(line, sizeof(line), "%d nodes", vn->count);
        text_in(d, bx + bw / 2, by + 32 * k, FONT_REGULAR, 12 * k, ALIGN_CENTER, bad ? t->warn : t->muted,
                line, scene_text_width(d->s, FONT_REGULAR, 12 * k, line));
    } else if (d->lod == LOD_VALUES && d->group_fs >= MIN_TEXT) {
        // A name too long for the box at the common size loses its end.
        float fs = d->group_fs, room = bw - 16 * k;
        size_t len = strlen(name);
        while (len > 1 && scene_text_width(d->s, FONT_BOLD, fs, name) > room) {
            do
                len--;
            while (len > 1 && ((unsigned char)name[len] & 0xC0) == 0x80);
            snprintf(name + len, sizeof(name) - len, "\u2026");
        }
        text_in(d, bx + bw / 2, by + bh / 2 - scene_line_height(fs) / 2, FONT_BOLD, fs, ALIGN_CENTER, t->text,
                name, scene_text_width(d->s, FONT_BOLD, fs, name));
    }
    if (bad)
        nan_marker(d, bx, by, bw);
}

// A number of a box, tagged "ID:value:INDEX" or "ID:grad:INDEX".
static void box_text(const Draw *d, const char *what, const Value *v, float x, float y, float size, SceneAlign a,
                     Color c, const char *str, float w)
{
    SceneRef ref = text_in(d, x, y, FONT_MONO, size, a, c, str, w);
    if (scene_ok(ref)) {
        char id[128];
        snprintf(id, sizeof(id), "%s:%s:%u", d->id, what, v->index);
        scene_tag(d->s, ref, id);
        if (what[0] == 'g')
            ++*d->grads_drawn;
    }
}

static void draw_node_box(const Draw *d, int i)
{
    const VNode *vn = &d->lay->v[i];
    const Theme *t = d->t;
    const GraphParams *p = d->p;
    const Value *val = p->graph->nodes[vn->node];
    float k = d->k;
    float bx = sx(d, vn->x - BOX_W / 2), by = sy(d, vn->y - vn->h / 2), bw = BOX_W * k, bh = vn->h * d->ky;
    bool bad = shows_bad(p, val), hot = d->hover == i, leaf = !val->src[0], cur = p->current == val;
    bool is_out = p->out ? val == p->out : vn->nout == 0 && vn->nin > 0;
    bool sv = shows_value(p, val), sg = shows_grad(p, val);
    Color edge = color_mix(t->gate_edge, t->gate, 0.35f);
    if (val->op == OP_INPUT)
        edge = t->series[1];
    else if (val->op == OP_CONST)
        edge = color_mix(t->muted, t->gate, 0.3f);
    if (is_out)
        edge = t->series[0];
    if (bad)
        edge = t->warn;
    bool shared = (val->flags & VALUE_SHARED) != 0;
    if (hot || cur)
        edge = t->accent;
    Color fill = leaf ? color_mix(t->gate, t->panel, 0.6f) : t->gate;
    float bwid = fmaxf((cur ? 3.4f : hot || bad || is_out || shared ? 2.6f : 1.6f) * k, 1);
    char id[128], label[64], num[32], num2[32];
    if (shared && !cur) { // a weight shared by every time step: a second frame around it
        float g = fmaxf(4 * k, 2);
        snprintf(id, sizeof(id), "%s:shared:%d", d->id, vn->node);
        box(d, bx - g, by - g, bw + 2 * g, bh + 2 * g, 7 * k + g, fmaxf(2 * k, 1), t->series[1], t->panel, id);
    }
    if (cur) { // the step's node: a wide glow, as the circuit's current gate
        float gl = fmaxf(7 * k, 3);
        snprintf(id, sizeof(id), "%s:current", d->id);
        box(d, bx - gl, by - gl, bw + 2 * gl, bh + 2 * gl, 7 * k + gl, 0, color_alpha(t->accent, 80),
            color_alpha(t->accent, 80), id);
    } else if (hot) {
        box(d, bx - 4 * k, by - 4 * k, bw + 8 * k, bh + 8 * k, 10 * k, 0, color_alpha(t->accent, 60),
            color_alpha(t->accent, 60), NULL);
    }
    snprintf(id, sizeof(id), "%s:node:%d", d->id, vn->node);
    if (!box(d, bx, by, bw, bh, 7 * k, bwid, edge, fill, id))
        return;
    Color vcol = isfinite(val->data) ? t->value : t->warn, gcol = isfinite(val->grad) ? t->grad : t->warn;
    if (d->lod == LOD_FULL) {
        // The name (or a constant's number) at the top left, the operator
        // always at the top right, value and gradient at the bottom: each
        // only once the step has reached it (blank before, never 0).
        float fs = 13.5f * k, pad = 8 * k;
        if (val->name || !val->src[0]) {
            node_name(val, label, sizeof(label));
            text_in(d, bx + pad, by + 5 * k, FONT_BOLD, fs, ALIGN_LEFT, t->text, label,
                    scene_text_width(d->s, FONT_BOLD, fs, label));
        }
        if (val->src[0]) {
            op_label(val, label, sizeof(label));
            text_in(d, bx + bw - pad, by + 5 * k, FONT_BOLD, fs, ALIGN_RIGHT, t->muted, label,
                    scene_text_width(d->s, FONT_BOLD, fs, label));
        }
        box_number(num, sizeof(num), val->data, 3);
        box_number(num2, sizeof(num2), val->grad, 3);
        // One size for both, whether or not both are shown yet, so a number
        // does not change size when its neighbour appears.
        float vs = 14 * k, room = bw - 2 * pad - 10 * k;
        float need = mono_width(vs, num) + mono_width(vs, num2);
        if (need > room)
            vs *= room / need;
        float ly = by + bh - 7 * k - scene_line_height(vs);
        if (sv)
            box_text(d, "value", val, bx + pad, ly, vs, ALIGN_LEFT, vcol, num, mono_width(vs, num));
        if (sg)
            box_text(d, "grad", val, bx + bw - pad, ly, vs, ALIGN_RIGHT, gcol, num2, mono_width(vs, num2));
    } else if (d->lod == LOD_VALUES) {
        // The name or operator above the value and the gradient while two
        // lines fit (the gradient while it is at least MIN_TEXT), else the
        // value alone. Text slides into the visible part of a box the edge
        // of the widget cuts.
        box_number(num, sizeof(num), val->data, 2);
        box_number(num2, sizeof(num2), val->grad, 2);
        float pad = fmaxf(4 * k, 1.5f);
        float vx0 = fmaxf(bx, d->cx0), vx1 = fminf(bx + bw, d->cx1);
        float vy0 = fmaxf(by, d->cy0), vy1 = fminf(by + bh, d->cy1);
        float vs = fminf(21 * k, (bw - 2 * pad) / fmaxf(mono_width(1, num), 1));
        float ls = fmaxf(11 * k, MIN_TEXT);
        bool two = bh - 2 * pad >= ls + fmaxf(fminf(vs, 12 * k), MIN_TEXT) + 1;
        if (two) {
            vs = fminf(vs, fmaxf(fminf(vs, 12 * k), MIN_TEXT));
            if (val->name || !val->src[0])
                node_name(val, label, sizeof(label));
            else
                op_label(val, label, sizeof(label));
            float lw = scene_text_width(d->s, FONT_BOLD, ls, label);
            float lx = fmaxf(bx + pad + 1, vx0 + 2);
            if (lx + lw <= fminf(bx + bw - pad, vx1 - 2))
                text_in(d, lx, by + pad - 0.125f * ls, FONT_BOLD, ls, ALIGN_LEFT, val->name ? t->text : t->muted,
                        label, lw);
        }
        // Value and gradient side by side, in a box wholly in view.
        float both = (bw - 2 * pad - 6 * k) / fmaxf(mono_width(1, num) + mono_width(1, num2), 1);
        float gs = fminf(vs, both);
        bool whole = vx0 == bx && vx1 == bx + bw && vy0 == by && vy1 == by + bh;
        if (two && whole && gs >= MIN_TEXT) {
            float vy = by + bh - pad + 0.125f * gs - scene_line_height(gs);
            if (sv)
                box_text(d, "value", val, bx + pad + 1, vy, gs, ALIGN_LEFT, vcol, num, mono_width(gs, num));
            if (sg)
                box_text(d, "grad", val, bx + bw - pad - 1, vy, gs, ALIGN_RIGHT, gcol, num2, mono_width(gs, num2));
        } else {
            float vw = mono_width(vs, num);
            if (sv && vs >= MIN_TEXT && vx1 - vx0 >= vw + 2 * pad) {
                float vy = two ? by + bh - pad + 0.125f * vs - scene_line_height(vs)
                               : by + bh / 2 - scene_line_height(vs) / 2;
                if (vy < vy0 && vy1 - vy0 >= scene_line_height(vs))
                    vy = vy0;
                else if (vy + scene_line_height(vs) > vy1 && vy1 - vy0 >= scene_line_height(vs))
                    vy = vy1 - scene_line_height(vs);
                float cx = fminf(fmaxf(two ? bx + bw - pad - 1 - vw / 2 : bx + bw / 2, vx0 + pad + vw / 2),
                                 vx1 - pad - vw / 2);
                box_text(d, "value", val, cx, vy, vs, ALIGN_CENTER, vcol, num, vw);
            }
        }
    }
    if (bad)
        nan_marker(d, bx, by, bw);
}

// The font size and height of a group's tab: readable a little below full
// detail (at least MIN_TEXT), growing into the room above the frame.
static void tab_size(const Draw *d, float *fs, float *th)
{
    bool named = d->lod != LOD_SHAPES;
    *fs = named ? fmaxf(12.5f * d->k, MIN_TEXT + 0.5f) : 12.5f * d->k;
    *th = named ? fmaxf((GROUP_TAB - 4) * d->k, scene_line_height(*fs) + 1) : (GROUP_TAB - 4) * d->k;
}

// The faint frames behind expanded groups (alternating tints, so
// neighbouring frames stay apart), or with tabs = true their tabs, drawn
// over the boxes: a tab collapses its group.
static void draw_groups(const Draw *d, bool tabs)
{
    const GraphLayout *lay = d->lay;
    const Theme *t = d->t;
    float k = d->k;
    char id[128], name[64], line[96];
    for (int g = 0; g < lay->ngroups; g++) {
        const GroupBox *gb = &lay->groups[g];
        if (gb->vnode >= 0 || !(gb->x1 > gb->x0))
            continue;
        Color tint = g % 2 ? t->series[2] : t->series[4];
        float x = sx(d, gb->x0), y = sy(d, gb->y0), w = (gb->x1 - gb->x0) * k, h = (gb->y1 - gb->y0) * d->ky;
        bool cut = false;
        if (!tabs) {
            // Opaque: a blended fill this large is slow in a software renderer.
            float cx = roundf(x), cy = roundf(y), cw = roundf(x + w) - cx, ch = roundf(y + h) - cy;
            if (clip_rect(d, &cx, &cy, &cw, &ch, &cut)) {
                scene_rect(d->s, cx, cy, cw, ch, 0, color_mix(t->panel, tint, 0.09f));
            }
            continue;
        }
        Draw dt = *d; // tabs may use the sticky strip
        dt.cy0 = d->top0;
        group_name(d->p, g, name, sizeof(name));
        snprintf(line, sizeof(line), "\u25be %s", name);
        bool named = d->lod != LOD_SHAPES;
        float fs, th;
        tab_size(d, &fs, &th);
        float pad = fmaxf(8 * k, 4), tw = scene_text_width(d->s, FONT_BOLD, fs, line) + 2 * pad;
        snprintf(id, sizeof(id), "%s:group:%d", d->id, g);
        // Above its frame (no other group's box is in its columns); when
        // that is scrolled out of view, in a strip at the top that boxes are
        // clipped below (a sticky header). Sideways it stays in view while
        // the frame is.
        float ty0 = y - th - 2 * k;
        if (d->sticky && ty0 < d->cy0)
            ty0 = d->tab_y;
        if (y + h < ty0 + th)
            continue;
        float tx0 = fmaxf(x, fminf(d->cx0 + 2, x + w - tw));
        float tx = tx0, ty = ty0, tww = tw, thh = th;
        if (clip_rect(&dt, &tx, &ty, &tww, &thh, &cut))
            scene_tag(d->s, scene_rect(d->s, tx, ty, tww, thh, cut ? 0 : fminf(6 * k, th / 3),
                                       color_mix(t->panel, tint, 0.35f)), id);
        if (named)
            text_in(&dt, tx0 + pad, ty0 + (th - scene_line_height(fs)) / 2, FONT_BOLD, fs, ALIGN_LEFT,
                    t->text, line, tw - 2 * pad);
    }
}

// The tooltip of box i near the mouse: the formula, value and gradient, and
// the local derivative on each input edge; or a group's summary.
static void draw_tooltip(const Draw *d, int i)
{
    const VNode *vn = &d->lay->v[i];
    const Theme *t = d->t;
    const GraphParams *p = d->p;
    float u = p->unit, fs = 14 * u, lh = scene_line_height(fs);
    char lines[6][160], values[6][32], a[64], me[64], num[32];
    Color cols[6];
    int nl = 0;
    for (int q = 0; q < 6; q++)
        values[q][0] = 0;
    if (vn->kind == VN_GROUP) {
        group_name(p, vn->group, a, sizeof(a));
        snprintf(lines[nl], 160, "%s \u2014 %d nodes", a, vn->count);
        cols[nl++] = t->text;
        if (d->group_bad[vn->group]) {
            snprintf(lines[nl], 160, "holds a NaN or Inf");
            cols[nl++] = t->warn;
        }
        snprintf(lines[nl], 160, "click to expand");
        cols[nl++] = t->muted;
    } else {
        const Value *v = p->graph->nodes[vn->node];
        // The first line: "n = x1 × w1 + b", or an unnamed gate's formula
        // alone; names are the program's, unnamed sources are formulas.
        char f[160];
        formula(v, f, sizeof(f), 2);
        node_name_in(v, me, sizeof(me));
        if (v->op == OP_INPUT)
            snprintf(lines[nl], 160, "%s  (input)", me);
        else if (v->op == OP_CONST)
            snprintf(lines[nl], 160, "constant %s", me);
        else if (v->name)
            cut_to(lines[nl], 160, snprintf(lines[nl], 160, "%s = %s", v->name, f));
        else
            snprintf(lines[nl], 160, "%s", f);
        cols[nl++] = t->text;
        // Label and number apart, the numbers in one column; a number the
        // step has not reached is said to be so, never shown as 0.
        bool sv = shows_value(p, v), sg = shows_grad(p, v);
        snprintf(lines[nl], 160, "value");
        if (sv)
            numfmt_short(values[nl], sizeof(values[nl]), v->data, 6);
        else
            snprintf(lines[nl], 160, "value     not computed yet");
        cols[nl++] = !sv ? t->muted : isfinite(v->data) ? t->value : t->warn;
        snprintf(lines[nl], 160, "gradient");
        if (sg)
            numfmt_short(values[nl], sizeof(values[nl]), v->grad, 6);
        else
            snprintf(lines[nl], 160, "gradient  not reached yet");
        cols[nl++] = !sg ? t->muted : isfinite(v->grad) ? t->grad : t->warn;
        for (int q = 0; q < 2 && v->src[q] && sv; q++) {
            node_name_in(v->src[q], a, sizeof(a));
            if (v->name)
                cut_to(lines[nl], 160, snprintf(lines[nl], 160, "\u2202%s/\u2202%s = %s", v->name, a,
                                                numfmt_short(num, sizeof(num), v->local[q], 4)));
            else // d(formula)/d(x) would repeat the first line
                cut_to(lines[nl], 160, snprintf(lines[nl], 160, "local \u2202/\u2202%s = %s", a,
                                                numfmt_short(num, sizeof(num), v->local[q], 4)));
            cols[nl++] = isfinite(v->local[q]) ? t->text : t->warn;
        }
    }
    // The numbers in one column, lined up at the decimal point.
    float w = 0, col = 0, ipart[6] = {0}, imax = 0;
    for (int q = 0; q < nl; q++)
        if (values[q][0]) {
            col = fmaxf(col, scene_text_width(d->s, FONT_MONO, fs, lines[q]) + 0.6f * fs);
            ipart[q] = 0.602f * fs * (float)strcspn(values[q], ".e");
            imax = fmaxf(imax, ipart[q]);
        }
    for (int q = 0; q < nl; q++)
        w = fmaxf(w, values[q][0] ? col + imax - ipart[q] + scene_text_width(d->s, FONT_MONO, fs, values[q])
                                  : scene_text_width(d->s, FONT_MONO, fs, lines[q]));
    float pad = 9 * u, bw = ceilf(w + 2 * pad), bh = ceilf(lh * (float)nl + 2 * pad);
    // Beside the hovered box and its glow, so the box stays whole: below,
    // right, above or left, the first place inside the widget that covers
    // no other box (else the first inside it).
    float bx0 = sx(d, vn->x - BOX_W / 2) - 6 * d->k, bx1 = sx(d, vn->x + BOX_W / 2) + 6 * d->k;
    float by0 = sy(d, vn->y - vn->h / 2) - 6 * d->k, by1 = sy(d, vn->y + vn->h / 2) + 6 * d->k;
    float gap = 6 * u, mx = p->mouse_x, my = p->mouse_y;
    float lo_x = p->x + 2 * u, hi_x = p->x + p->w - 2 * u - bw, lo_y = p->y + 2 * u, hi_y = p->y + p->h - 2 * u - bh;
    const float cand[4][2] = {{mx - 12 * u, by1 + gap}, {bx1 + gap, my - 12 * u},
                              {mx - 12 * u, by0 - gap - bh}, {bx0 - gap - bw, my - 12 * u}};
    float x = fminf(fmaxf(mx + 16 * u, lo_x), hi_x), y = fminf(fmaxf(my + 18 * u, lo_y), hi_y);
    bool found = false, fits_any = false;
    for (int c = 0; c < 4 && !found; c++) {
        // Slid along the side it is on to stay inside the widget.
        float cx = cand[c][0], cy = cand[c][1];
        if (c % 2 == 0)
            cx = fminf(fmaxf(cx, lo_x), hi_x);
        else
            cy = fminf(fmaxf(cy, lo_y), hi_y);
        if (cx < lo_x - 0.5f || cx > hi_x + 0.5f || cy < lo_y - 0.5f || cy > hi_y + 0.5f)
            continue;
        bool clear = true;
        for (int j = 0; j < d->lay->nreal && clear; j++) {
            const VNode *o = &d->lay->v[j];
            float ox0 = sx(d, o->x - BOX_W / 2), oy0 = sy(d, o->y - o->h / 2);
            clear = j == i || ox0 > cx + bw || ox0 + BOX_W * d->k < cx || oy0 > cy + bh || oy0 + o->h * d->ky < cy;
        }
        if (clear || !fits_any)
            x = cx, y = cy;
        fits_any = true;
        found = clear;
    }
    x = roundf(fmaxf(x, lo_x)), y = roundf(fmaxf(y, lo_y));
    float bd = fmaxf(roundf(1.5f * u), 1);
    char id[128];
    snprintf(id, sizeof(id), "%s:tooltip-box", d->id);
    scene_tag(d->s, scene_rect(d->s, x - bd, y - bd, bw + 2 * bd, bh + 2 * bd, roundf(8 * u), t->accent), id);
    scene_rect(d->s, x, y, bw, bh, roundf(8 * u) - bd, t->panel);
    snprintf(id, sizeof(id), "%s:tooltip", d->id);
    for (int q = 0; q < nl; q++) {
        float ty = y + pad + lh * (float)q;
        scene_tag(d->s, scene_text(d->s, x + pad, ty, FONT_MONO, fs, ALIGN_LEFT, cols[q], lines[q]), id);
        if (values[q][0])
            scene_tag(d->s, scene_text(d->s, x + pad + col + imax - ipart[q], ty, FONT_MONO, fs, ALIGN_LEFT, cols[q], values[q]), id);
    }
}

static void draw_legend(const Draw *d, bool any_bad, bool grads)
{
    const Theme *t = d->t;
    const GraphParams *p = d->p;
    float u = p->unit, fs = 12.5f * u, lh = scene_line_height(fs);
    float x = p->x + 12 * u, y = p->y + p->h - 10 * u - lh;
    const char *names[3] = {"value", "gradient", "NaN / Inf"};
    Color cols[3] = {t->value, t->grad, t->warn};
    char id[128];
    snprintf(id, sizeof(id), "%s:legend", d->id);
    // Only what is drawn: values down to values-only detail, gradients
    // when some are (at full detail always, once the step reaches one),
    // NaN markers whenever there are any.
    bool shown[3] = {d->lod != LOD_SHAPES, grads || (d->lod == LOD_FULL && !d->p->reveal), any_bad};
    float lw = 0; // on a chip of the panel's colour, over whatever is under it
    for (int q = 0; q < 3; q++)
        if (shown[q])
            lw += 13 * u + scene_text_width(d->s, FONT_REGULAR, fs, names[q]) + 16 * u;
    if (lw > 0)
        scene_rect(d->s, x - 6 * u, y - 3 * u, lw - 4 * u, lh + 6 * u, 4 * u, t->panel);
    for (int q = 0; q < 3; q++) {
        if (!shown[q])
            continue;
        scene_rect(d->s, x, y + lh / 2 - 4 * u, 8 * u, 8 * u, 2 * u, cols[q]);
        scene_tag(d->s, scene_text(d->s, x + 13 * u, y, FONT_REGULAR, fs, ALIGN_LEFT, t->muted, names[q]), id);
        x += 13 * u + scene_text_width(d->s, FONT_REGULAR, fs, names[q]) + 16 * u;
    }
}

static int pick(const Draw *d, float mx, float my)
{
    const GraphLayout *lay = d->lay;
    if (mx < d->cx0 || mx > d->cx1 || my < d->cy0 || my > d->cy1)
        return -1;
    float lx = (mx - d->ox) / d->k, ly = (my - d->oy) / d->ky;
    for (int i = lay->nreal; i-- > 0;) {
        const VNode *vn = &lay->v[i];
        if (fabsf(lx - vn->x) <= BOX_W / 2 && fabsf(ly - vn->y) <= vn->h / 2)
            return i;
    }
    return -1;
}

void graph_build(Scene *s, GraphLayout *lay, const GraphParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit;
    graph_layout_update(lay, p);
    scene_rect(s, p->x, p->y, p->w, p->h, 8 * u, t->panel);
    if (!lay->ok) {
        scene_text(s, p->x + 12 * u, p->y + 12 * u, FONT_REGULAR, 14 * u, ALIGN_LEFT, t->warn,
                   "graph: out of memory while laying out");
        s->failed = true;
        return;
    }
    GraphView view = graph_view_current(lay, p);
    int grads_drawn = 0;
    Draw d = {.s = s, .p = p, .lay = lay, .t = t, .hover = -1, .grads_drawn = &grads_drawn};
    snprintf(d.id, sizeof(d.id), "%s", p->id ? p->id : "graph");
    d.k = view.scale * u;
    d.ky = d.k * (view.stretch > 1 ? view.stretch : 1);
    d.ox = p->x + view.ox;
    d.oy = p->y + view.oy;
    d.cx0 = p->x + 1, d.cy0 = p->y + 1, d.cx1 = p->x + p->w - 1, d.cy1 = p->y + p->h - 1;
    d.lod = d.k >= LOD_FULL_SCALE ? LOD_FULL : d.k >= LOD_VALUE_SCALE ? LOD_VALUES : LOD_SHAPES;

    unsigned char *bad = arena_calloc(&s->arena, (size_t)(lay->ngroups ? lay->ngroups : 1), 1);
    if (!bad) {
        s->failed = true;
        return;
    }
    bool any_bad = false;
    const Graph *g = p->graph;
    for (int i = 0; i < lay->n; i++) {
        int vm = lay->vmap[i];
        if (vm < 0 || !shows_bad(p, g->nodes[i]))
            continue;
        any_bad = true;
        if (lay->v[vm].kind == VN_GROUP)
            bad[lay->v[vm].group] = 1;
    }
    d.group_bad = bad;
    if (d.lod == LOD_VALUES) {
        // The largest size at which every group's name fits its box with a
        // margin, so "parameters" is not smaller than "step 7".
        char name[64];
        float ref = 20, fit = 26 * d.k;
        for (int k = 0; k < lay->ngroups; k++)
            if (lay->groups[k].vnode >= 0) {
                group_name(p, k, name, sizeof(name));
                float w = scene_text_width(s, FONT_BOLD, ref, name);
                if (w > 0)
                    fit = fminf(fit, ref * (BOX_W - 20) * d.k / w);
            }
        d.group_fs = fmaxf(fit, fminf(26 * d.k, MIN_TEXT + 1));
    }
    // The sticky header: when the tab of a frame in view would be above the
    // box, the tabs go in a strip at the top and everything else is clipped
    // below it.
    d.top0 = d.cy0;
    float tfs, tth;
    tab_size(&d, &tfs, &tth);
    for (int k = 0; k < lay->ngroups; k++) {
        const GroupBox *gb = &lay->groups[k];
        if (gb->vnode < 0 && gb->x1 > gb->x0 && sx(&d, gb->x1) > d.cx0 && sx(&d, gb->x0) < d.cx1 &&
            sy(&d, gb->y0) - tth - 2 * d.k < d.cy0 + 2 && sy(&d, gb->y1) > d.cy0 + 2 * tth + 4) {
            d.sticky = true;
            d.tab_y = d.cy0 + 2;
            d.cy0 += tth + 4;
            break;
        }
    }
    if (p->hover)
        d.hover = pick(&d, p->mouse_x, p->mouse_y);

    draw_groups(&d, false);
    draw_edges(&d);
    for (int i = 0; i < lay->nreal; i++) {
        const VNode *vn = &lay->v[i];
        float x0 = sx(&d, vn->x - BOX_W / 2), y0 = sy(&d, vn->y - vn->h / 2);
        float x1 = x0 + BOX_W * d.k, y1 = y0 + vn->h * d.ky;
        if (x1 < d.cx0 || x0 > d.cx1 || y1 < d.cy0 || y0 > d.cy1)
            continue;
        if (vn->kind == VN_GROUP)
            draw_group_box(&d, i);
        else
            draw_node_box(&d, i);
    }
    draw_groups(&d, true);
    if (p->legend)
        draw_legend(&d, any_bad, grads_drawn > 0);
    if (d.hover >= 0)
        draw_tooltip(&d, d.hover);
}

// ---------------------------------------------------------------------------
// The view

// The fitted view of a layout of lw x lh units in p's box.
static GraphView fit_size(float lw, float lh, const GraphParams *p)
{
    float u = p->unit, margin = 28 * u;
    float aw = fmaxf(p->w - 2 * margin, 1), ah = fmaxf(p->h - 2 * margin - (p->legend ? 20 * u : 0), 1);
    float k = fminf(lw > 0 ? aw / lw : 1.5f * u, lh > 0 ? ah / lh : 1.5f * u);
    k = fminf(k, 1.5f * u);
    GraphView v = {.scale = k / u, .stretch = 1, .fitted = true, .unit = u, .w = p->w, .h = p->h,
                   .lw = lw, .lh = lh};
    // A long graph shown as shapes only is stretched to use the height
    // (up to 4 times), rather than drawn as a thin strip.
    if (k < LOD_VALUE_SCALE && lh > 0)
        v.stretch = fminf(fmaxf(ah / (lh * k), 1), 4);
    v.ox = (p->w - lw * k) / 2;
    v.oy = (p->h - (p->legend ? 20 * u : 0) - lh * k * v.stretch) / 2;
    return v;
}

GraphView graph_view_fit(const GraphLayout *lay, const GraphParams *p)
{
    return fit_size(lay->ok ? lay->width : 0, lay->ok ? lay->height : 0, p);
}

// Shift a zoomed view so the picture stays in the box: a picture smaller
// than the box inside it, a bigger one leaving no more than a margin free.
static void keep_in_view(GraphView *v, const GraphParams *p)
{
    if (v->lw <= 0 || v->lh <= 0)
        return;
    float k = v->scale * p->unit, m = 28 * p->unit;
    float pw = v->lw * k, ph = v->lh * k * (v->stretch > 1 ? v->stretch : 1);
    const float size[2] = {pw, ph}, box[2] = {p->w, p->h};
    float *o[2] = {&v->ox, &v->oy};
    for (int a = 0; a < 2; a++) {
        if (size[a] <= box[a] - 2 * m)
            *o[a] = fminf(fmaxf(*o[a], m), box[a] - m - size[a]);
        else
            *o[a] = fminf(fmaxf(*o[a], box[a] - m - size[a]), m);
    }
}

// view brought up to p's box and unit; lw, lh: the layout's size (0 when
// unknown: the view's own record is used).
static GraphView view_for(GraphView v, float lw, float lh, const GraphParams *p)
{
    if (lw > 0 && lh > 0)
        v.lw = lw, v.lh = lh;
    if (v.scale <= 0)
        return fit_size(v.lw, v.lh, p);
    if (v.fitted && (v.unit != p->unit || v.w != p->w || v.h != p->h))
        return fit_size(v.lw, v.lh, p); // fitted stays fitted, in the new box
    if (v.unit > 0 && v.unit != p->unit) {
        // The text scale changed under a zoomed view: the picture grows
        // with the unit about the box's centre (the old box's centre is
        // where the user was looking), then stays in view.
        float r = p->unit / v.unit;
        float cx0 = (v.w > 0 ? v.w : p->w) / 2, cy0 = (v.h > 0 ? v.h : p->h) / 2;
        v.ox = p->w / 2 - (cx0 - v.ox) * r;
        v.oy = p->h / 2 - (cy0 - v.oy) * r;
        keep_in_view(&v, p);
    }
    v.unit = p->unit, v.w = p->w, v.h = p->h;
    return v;
}

// A fitted view smaller than p->min_scale: at min_scale instead, centred on
// the current node (else the output, else the left end), kept in view.
static GraphView follow_view(const GraphLayout *lay, GraphView v, const GraphParams *p)
{
    // (an output whose value is not shown yet: the left end, where the inputs are)
    const Value *focus = p->current ? p->current : p->out && shows_value(p, p->out) ? p->out : NULL;
    float u = p->unit, k = p->min_scale * u, fx = 0, fy = lay->height / 2;
    int vi = focus && lay->vmap && (int)focus->index < lay->n ? lay->vmap[focus->index] : -1;
    if (!focus && lay->nlayers > 0 && lay->lay_start[1] > lay->lay_start[0])
        vi = lay->lay_nodes[lay->lay_start[0]], fx = 0, fy = lay->v[vi].y, vi = -1;
    if (vi >= 0)
        fx = lay->v[vi].x, fy = lay->v[vi].y;
    v.scale = p->min_scale;
    v.stretch = 1;
    v.ox = p->w / 2 - fx * k;
    v.oy = p->h / 2 - fy * k;
    v.follow = true;
    v.fitted = false;
    keep_in_view(&v, p);
    v.unit = u, v.w = p->w, v.h = p->h;
    return v;
}

GraphView graph_view_current(const GraphLayout *lay, const GraphParams *p)
{
    GraphView v = p->view;
    if (v.follow && p->min_scale > 0) // fitted again, then followed again
        v.scale = 0, v.follow = false;
    v = view_for(v, lay->ok ? lay->width : 0, lay->ok ? lay->height : 0, p);
    if (v.fitted && p->min_scale > 0 && v.scale < p->min_scale && lay->ok)
        v = follow_view(lay, v, p);
    return v;
}

void graph_view_zoom(GraphView *view, const GraphParams *p, float factor, float mx, float my)
{
    *view = view_for(*view, 0, 0, p); // from what is on screen
    float u = p->unit, k0 = view->scale * u, st0 = view->stretch > 1 ? view->stretch : 1;
    float s1 = fminf(fmaxf(view->scale * factor, 0.02f), 8.0f), k1 = s1 * u;
    // The stretch gives way as the view zooms in: the vertical scale stays
    // until it is gone; zooming back out brings it back (up to 4).
    float st1 = st0 > 1 ? fminf(fmaxf(st0 * k0 / k1, 1), 4) : 1;
    float lx = (mx - p->x - view->ox) / k0, ly = (my - p->y - view->oy) / (k0 * st0);
    view->scale = s1;
    view->stretch = st1;
    view->ox = mx - p->x - lx * k1;
    view->oy = my - p->y - ly * k1 * st1;
    view->fitted = false;
    view->follow = false;
}

void graph_view_pan(GraphView *view, float dx, float dy)
{
    view->ox += dx;
    view->oy += dy;
    view->fitted = false;
    view->follow = false;
}

static int hit_number(const Scene *s, float mx, float my, const char *id, const char *what)
{
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "%.95s:%s:", id ? id : "graph", what);
    const SceneItem *it = scene_hit(s, mx, my, prefix);
    return it ? atoi(it->id + strlen(prefix)) : -1;
}

int graph_hit_group(const Scene *s, float mx, float my, const char *id)
{
    return hit_number(s, mx, my, id, "group");
}

int graph_hit_node(const Scene *s, float mx, float my, const char *id)
{
    return hit_number(s, mx, my, id, "node");
}
