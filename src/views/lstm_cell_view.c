// lstm_cell_view.c: the LSTM cell diagram and the gate strips over time;
// see lstm_cell_view.h.
#include "views/lstm_cell_view.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/numfmt.h"
#include "views/widgets/palette.h"

// The array SOURCE.NAME of the given shape (cols 0: any), or NULL.
static const double *find(const RunArrays *a, const char *source, const char *name, int rows, int cols)
{
    char full[RUN_ARRAY_NAME];
    snprintf(full, sizeof(full), "%s.%s", source, name);
    const double *data = NULL;
    const RunArray *r = run_arrays_find(a, full, &data);
    if (!r || (rows > 0 && r->shape[0] != rows) || (cols > 0 && r->shape[1] != cols))
        return NULL;
    return data;
}

bool lstm_cell_data(const RunArrays *a, const char *source, double step1, double unit, LstmCellData *d)
{
    memset(d, 0, sizeof(*d));
    char full[RUN_ARRAY_NAME];
    snprintf(full, sizeof(full), "%s.c", source);
    const RunArray *c = run_arrays_find(a, full, &d->c);
    if (!c || c->ndim != 2 || c->shape[0] < 1 || c->shape[1] < 1)
        return false;
    d->T = c->shape[0], d->H = c->shape[1];
    d->x = find(a, source, "x", d->T, 2);
    d->i = find(a, source, "i", d->T, d->H);
    d->f = find(a, source, "f", d->T, d->H);
    d->g = find(a, source, "g", d->T, d->H);
    d->o = find(a, source, "o", d->T, d->H);
    d->h = find(a, source, "h", d->T, d->H);
    d->clamped = find(a, source, "clamped", d->T, 4);
    d->dcnorm = find(a, source, "dcnorm", d->T, 0);
    const double *y = find(a, source, "y", 0, 0), *target = find(a, source, "target", 0, 0);
    const double *mark = find(a, source, "mark", 0, 0), *mem = find(a, source, "unit", 0, 0);
    if (!d->x || !d->i || !d->f || !d->g || !d->o || !d->h || !y || !target || !mark || !mem)
        return false;
    d->y = *y, d->target = *target;
    d->mark = *mark >= 1 && *mark <= d->T ? (int)*mark - 1 : 0; // any source's numbers: NaN and huge ones too
    d->mem_unit = isfinite(*mem) && *mem >= 0 && *mem < d->H ? (int)*mem : 0;
    double t = isfinite(step1) ? round(step1) - 1 : 0;
    d->t = t < 0 ? 0 : t > d->T - 1 ? d->T - 1 : (int)t;
    double u = isfinite(unit) ? round(unit) - 1 : -1;
    d->unit = u < 0 || u > d->H - 1 ? d->mem_unit : (int)u;
    return true;
}

// ---------------------------------------------------------------------------
// The cell

typedef struct Pen {
    Scene *s;
    const Theme *t;
    float k;            // the diagram's unit
    const char *id;
} Pen;

static void wire(const Pen *p, float x1, float y1, float x2, float y2)
{
    scene_line(p->s, x1, y1, x2, y2, 2.5f * p->k, p->t->wire_done);
}

// An arrow head at (x, y) pointing along (dx, dy) (a unit vector).
static void head(const Pen *p, float x, float y, float dx, float dy)
{
    float a = 7 * p->k, b = 4.5f * p->k;
    scene_triangle(p->s, x, y, x - a * dx - b * dy, y - a * dy + b * dx, x - a * dx + b * dy, y - a * dy - b * dx,
                   p->t->wire_done);
}

// A pointwise operation: a circle with its symbol.
static void op(const Pen *p, float x, float y, const char *sym, const char *tag)
{
    float r = 13 * p->k;
    char id[96];
    snprintf(id, sizeof(id), "%s:%s", p->id, tag);
    scene_tag(p->s, scene_circle(p->s, x, y, r, p->t->gate), id);
    scene_ring(p->s, x, y, r, 1.5f * p->k, p->t->gate_edge);
    float fs = (strlen(sym) > 2 ? 11 : 16) * p->k; // "tanh" fits the circle
    scene_text(p->s, x, y - scene_line_height(fs) / 2, FONT_BOLD, fs, ALIGN_CENTER, p->t->text, sym);
}

// A number label: name in muted, value in the value colour, centred at x.
static void label(const Pen *p, float x, float y, SceneAlign align, const char *name, double v, const char *tag)
{
    char buf[96], num[32];
    snprintf(buf, sizeof(buf), "%s %s", name, numfmt_short(num, sizeof(num), v, 3));
    char id[96];
    snprintf(id, sizeof(id), "%s:%s", p->id, tag);
    scene_tag(p->s, scene_text(p->s, x, y, FONT_MONO, fmaxf(13 * p->k, 10), align, p->t->value, buf), id);
}

// A gate's box: its nonlinearity, coloured by its value, a name and value
// under it, and a warning frame when clamped.
static void gate(const Pen *p, float cx, float cy, const char *sym, const char *name, double v, bool sigm,
                 bool clamped, const char *tag)
{
    float bw = 46 * p->k, bh = 30 * p->k;
    Color fill = sigm ? palette_viridis((float)v) : palette_diverging((float)v);
    char id[96];
    snprintf(id, sizeof(id), "%s:%s", p->id, tag);
    scene_tag(p->s, scene_rect(p->s, cx - bw / 2, cy - bh / 2, bw, bh, 5 * p->k, fill), id);
    scene_frame(p->s, cx - bw / 2, cy - bh / 2, bw, bh, (clamped ? 3 : 1.5f) * p->k,
                clamped ? p->t->warn : p->t->gate_edge);
    float fs = 16 * p->k;
    // The symbol in black or white, whichever reads on the fill.
    float lum = 0.299f * fill.r + 0.587f * fill.g + 0.114f * fill.b;
    scene_text(p->s, cx, cy - scene_line_height(fs) / 2, FONT_BOLD, fs, ALIGN_CENTER,
               lum > 140 ? color_rgb(0x101010) : color_rgb(0xf8f8f8), sym);
    // Under the box, left of the wire coming in: clear of every wire.
    label(p, cx - 4 * p->k, cy + bh / 2 + 3 * p->k, ALIGN_RIGHT, name, v, tag);
    if (clamped)
        scene_text(p->s, cx, cy - bh / 2 - scene_line_height(12 * p->k) - 2 * p->k, FONT_BOLD, 12 * p->k,
                   ALIGN_CENTER, p->t->warn, "clamped");
}

// The room under the body for x_t's line.
static float lh_min(float k)
{
    return scene_line_height(fmaxf(13 * k, 10)) + 14 * k;
}

// The cell as equations, for a box too small for the diagram (a large
// --scale on a small screen): the header, the gates as coloured chips, then
// c_t and h_t with the step's numbers, each line shrunk to fit.
static void cell_compact(Scene *s, const LstmViewParams *vp, const LstmCellData *d, const bool *cl)
{
    const Theme *th = vp->theme;
    int t = d->t, H = d->H, j = d->unit;
    size_t at = (size_t)t * H + j;
    double cp = t ? d->c[at - H] : 0, v[4] = {d->i[at], d->f[at], d->g[at], d->o[at]};
    float fs = fmaxf(fminf(15 * vp->unit, vp->h / (4 * 1.3f * 1.25f)), 8), lh = scene_line_height(fs) * 1.3f;
    char line[3][200], a[6][32];
    snprintf(line[0], sizeof(line[0]), "t = %d of %d, unit %d%s: y = %s (target %s)", t + 1, d->T, j + 1,
             j == d->mem_unit ? " (memory)" : "", numfmt_short(a[0], sizeof(a[0]), d->y, 3),
             numfmt_short(a[1], sizeof(a[1]), d->target, 3));
    snprintf(line[1], sizeof(line[1]), "c\u209c = f\u00b7c\u209c\u208b\u2081 + i\u00b7g = %s \u00d7 %s + %s \u00d7 %s = %s",
             numfmt_short(a[0], sizeof(a[0]), v[1], 3), numfmt_short(a[1], sizeof(a[1]), cp, 3),
             numfmt_short(a[2], sizeof(a[2]), v[0], 3), numfmt_short(a[3], sizeof(a[3]), v[2], 3),
             numfmt_short(a[4], sizeof(a[4]), d->c[at], 3));
    snprintf(line[2], sizeof(line[2]), "h\u209c = o\u00b7tanh(c\u209c) = %s \u00d7 %s = %s",
             numfmt_short(a[0], sizeof(a[0]), v[3], 3), numfmt_short(a[1], sizeof(a[1]), tanh(d->c[at]), 3),
             numfmt_short(a[2], sizeof(a[2]), d->h[at], 3));
    float y = vp->y + 2;
    scene_text_fit(s, vp->x, y, FONT_BOLD, fs, ALIGN_LEFT, th->muted, line[0], vp->w);
    y += lh;
    static const char *const names[4] = {"i", "f", "g", "o"};
    float cw = vp->w / 4;
    for (int q = 0; q < 4; q++) {
        char chip[48], id[96];
        snprintf(chip, sizeof(chip), "%s %s", names[q], numfmt_short(a[5], sizeof(a[5]), v[q], 3));
        Color fill = q == 2 ? palette_diverging((float)v[q]) : palette_viridis((float)v[q]);
        float x = vp->x + cw * (float)q;
        scene_rect(s, x, y + lh * 0.15f, fs, fs, 2, fill);
        if (cl[q])
            scene_frame(s, x, y + lh * 0.15f, fs, fs, 2, th->warn);
        snprintf(id, sizeof(id), "%s:%s", vp->id ? vp->id : "lstm", names[q]);
        scene_tag(s, scene_text_fit(s, x + fs * 1.4f, y, FONT_MONO, fs, ALIGN_LEFT, cl[q] ? th->warn : th->value,
                                    chip, cw - fs * 1.6f), id);
    }
    y += lh;
    for (int k = 1; k < 3; k++, y += lh)
        scene_text_fit(s, vp->x, y, FONT_MONO, fs, ALIGN_LEFT, th->value, line[k], vp->w);
}

void lstm_cell_build(Scene *s, const LstmViewParams *vp, const LstmCellData *d)
{
    const Theme *th = vp->theme;
    // The diagram is laid out for 720 x 230 units; smaller boxes shrink it
    // (its numbers stay at least 10 px).
    float k = fminf(vp->unit, fminf(vp->w / 720.0f, vp->h / 230.0f));
    Pen p = {.s = s, .t = th, .k = k, .id = vp->id ? vp->id : "lstm"};
    int t = d->t, H = d->H, j = d->unit;
    size_t at = (size_t)t * H + j;
    double cp = t ? d->c[at - H] : 0, hp = t ? d->h[at - H] : 0;
    double iv = d->i[at], fv = d->f[at], gv = d->g[at], ov = d->o[at], cv = d->c[at], hv = d->h[at];
    bool cl[4] = {false};
    for (int q = 0; d->clamped && q < 4; q++)
        cl[q] = d->clamped[(size_t)t * 4 + q] != 0;
    if (k < 0.6f * fminf(vp->unit, 1)) { // too small to read as a diagram
        cell_compact(s, vp, d, cl);
        return;
    }

    // Header: which step and unit.
    char head_text[160], num[32], num2[32];
    snprintf(head_text, sizeof(head_text), "step t = %d of %d   unit %d of %d%s", t + 1, d->T, j + 1, H,
             j == d->mem_unit ? " (the memory unit)" : "");
    float fs = fmaxf(15 * k, 10), y0 = vp->y + 4 * k;
    scene_text_fit(s, vp->x + 8 * k, y0, FONT_BOLD, fs, ALIGN_LEFT, th->muted, head_text, vp->w * 0.62f);
    snprintf(head_text, sizeof(head_text), "output y = %s  target %s", numfmt_short(num, sizeof(num), d->y, 3),
             numfmt_short(num2, sizeof(num2), d->target, 3));
    char id[96];
    snprintf(id, sizeof(id), "%s:output", p.id);
    scene_tag(s, scene_text_fit(s, vp->x + vp->w - 8 * k, y0, FONT_REGULAR, fs, ALIGN_RIGHT, th->text, head_text,
                                vp->w * 0.36f), id);

    // The body, with room left and right for the states that enter and leave.
    float side = 96 * k, top = y0 + scene_line_height(fs) + 12 * k, bottom = vp->y + vp->h - lh_min(k);
    float bx0 = vp->x + side, bx1 = vp->x + vp->w - side, bw = bx1 - bx0, bh = bottom - top;
    if (!(bw > 100 * k) || !(bh > 120 * k))
        return;
    scene_panel(s, bx0, top, bw, bh, 14 * k, th->panel, th->panel_edge, 1.5f * k);
    float yc = top + 0.14f * bh, yh = top + 0.88f * bh, yg = top + 0.62f * bh, ym = top + 0.36f * bh;
    float xf = bx0 + 0.16f * bw, xi = bx0 + 0.34f * bw, xg = bx0 + 0.50f * bw, xo = bx0 + 0.68f * bw,
          xt = bx0 + 0.86f * bw, xin = bx0 + 0.05f * bw;

    // The cell state along the top: c_{t-1} -> x f -> + i g -> c_t.
    scene_line(s, vp->x + 8 * k, yc, vp->x + vp->w - 8 * k, yc, 4.5f * k, th->value);
    head(&p, vp->x + vp->w - 8 * k, yc, 1, 0);
    // The bottom bus: h_{t-1} and x_t, feeding every gate.
    wire(&p, vp->x + 8 * k, yh, xo, yh);
    wire(&p, xin, vp->y + vp->h - 8 * k, xin, yh);
    head(&p, xin, yh + 3 * k, 0, -1);
    float gh = 15 * k; // half a gate's height
    wire(&p, xf, yh, xf, yg + gh);
    wire(&p, xi, yh, xi, yg + gh);
    wire(&p, xg, yh, xg, yg + gh);
    wire(&p, xo, yh, xo, yg + gh);
    // f up to x on the cell line; i and g into x, then up to +.
    wire(&p, xf, yg - gh, xf, yc + 13 * k);
    head(&p, xf, yc + 13 * k, 0, -1);
    wire(&p, xi, yg - gh, xi, ym);
    wire(&p, xi, ym, xg - 13 * k, ym);
    head(&p, xg - 13 * k, ym, 1, 0);
    wire(&p, xg, yg - gh, xg, ym + 13 * k);
    head(&p, xg, ym + 13 * k, 0, -1);
    wire(&p, xg, ym - 13 * k, xg, yc + 13 * k);
    head(&p, xg, yc + 13 * k, 0, -1);
    // c_t down through tanh into x o, then out along the bottom as h_t.
    wire(&p, xt, yc, xt, ym - 13 * k);
    head(&p, xt, ym - 13 * k, 0, 1);
    wire(&p, xt, ym + 13 * k, xt, yg - 13 * k);
    head(&p, xt, yg - 13 * k, 0, 1);
    wire(&p, xo + 23 * k, yg, xt - 13 * k, yg);
    head(&p, xt - 13 * k, yg, 1, 0);
    wire(&p, xt, yg + 13 * k, xt, yh);
    scene_line(s, xt, yh, vp->x + vp->w - 8 * k, yh, 3 * k, th->value);
    head(&p, vp->x + vp->w - 8 * k, yh, 1, 0);

    op(&p, xf, yc, "\u00d7", "forget-mul");
    op(&p, xg, yc, "+", "add");
    op(&p, xg, ym, "\u00d7", "input-mul");
    op(&p, xt, ym, "tanh", "tanh");
    op(&p, xt, yg, "\u00d7", "output-mul");
    gate(&p, xf, yg, "\u03c3", "f", fv, true, cl[1], "f");
    gate(&p, xi, yg, "\u03c3", "i", iv, true, cl[0], "i");
    gate(&p, xg, yg, "tanh", "g", gv, false, false, "g");
    gate(&p, xo, yg, "\u03c3", "o", ov, true, cl[3], "o");

    // The numbers on the wires.
    float lh = scene_line_height(fmaxf(13 * k, 10));
    label(&p, vp->x + 8 * k, yc - lh - 6 * k, ALIGN_LEFT, "c\u209c\u208b\u2081", cp, "c-prev");
    label(&p, vp->x + 8 * k, yh - lh - 6 * k, ALIGN_LEFT, "h\u209c\u208b\u2081", hp, "h-prev");
    label(&p, vp->x + vp->w - 8 * k, yc - lh - 6 * k, ALIGN_RIGHT, "c\u209c", cv, "c");
    label(&p, vp->x + vp->w - 8 * k, yh - lh - 6 * k, ALIGN_RIGHT, "h\u209c", hv, "h");
    label(&p, xf + 16 * k, yc + 4 * k, ALIGN_LEFT, "f\u00b7c\u209c\u208b\u2081", fv * cp, "fc");
    label(&p, xg + 16 * k, ym + 4 * k, ALIGN_LEFT, "i\u00b7g", iv * gv, "ig");
    label(&p, xt + 16 * k, ym + 4 * k, ALIGN_LEFT, "tanh c\u209c", tanh(cv), "tanhc");
    char xs[96];
    snprintf(xs, sizeof(xs), "x\u209c = (value %s, marker %s)", numfmt_short(num, sizeof(num), d->x[2 * t], 3),
             numfmt_short(num2, sizeof(num2), d->x[2 * t + 1], 3));
    snprintf(id, sizeof(id), "%s:x", p.id);
    scene_tag(s, scene_text_fit(s, xin + 8 * k, vp->y + vp->h - lh - 6 * k, FONT_MONO, fmaxf(13 * k, 10), ALIGN_LEFT,
                                th->value, xs, vp->w - (xin - vp->x) - 16 * k), id);
}

// ---------------------------------------------------------------------------
// The strips over time

typedef struct Band {
    const char *name;
    const double *data;     // (T, cols)
    int cols, gate;         // gate: 0..3 for clamp marks, -1 for none
    bool unit_range;        // a sigmoid gate: 0..1 on the sequential palette
} Band;

void lstm_time_build(Scene *s, const LstmViewParams *vp, const LstmCellData *d)
{
    const Theme *th = vp->theme;
    float u = vp->unit;
    const int T = d->T, H = d->H;
    Band bands[7] = {
        {"x", d->x, 2, -1, false}, {"i", d->i, H, 0, true},  {"f", d->f, H, 1, true}, {"g", d->g, H, -1, false},
        {"o", d->o, H, 3, true},   {"c", d->c, H, -1, false}, {"h", d->h, H, -1, false},
    };
    float fs = fminf(14 * u, fmaxf(9, vp->h / 26));
    float label_w = 34 * u, scale_w = 50 * u, axis_h = scene_line_height(fs) + 4 * u, gap = 3 * u;
    float gx = vp->x + label_w, gw = vp->w - label_w - scale_w, top = vp->y + 2 * u;
    float gh = vp->y + vp->h - axis_h - top - gap * 6;
    if (!(gw > 20) || !(gh > 20))
        return;
    int rows = 4 + 6 * H; // x's two rows are drawn twice as tall
    float rh = gh / (float)rows, cw = gw / (float)T;
    char id[96], num[32];
    const char *pid = vp->id ? vp->id : "lstm-time";
    float y = top;
    for (int b = 0; b < 7; b++) {
        const Band *bd = &bands[b];
        float bh = rh * (float)bd->cols * (b == 0 ? 2 : 1);
        double m = 0;
        for (int k = 0; k < T * bd->cols; k++)
            if (isfinite(bd->data[k]))
                m = fmax(m, fabs(bd->data[k]));
        snprintf(id, sizeof(id), "%s:%s", pid, bd->name);
        Color *px = scene_image_pixels(s, scene_tag(s, scene_image(s, gx, y, gw, bh, T, bd->cols), id));
        for (int r = 0; px && r < bd->cols; r++)
            for (int t = 0; t < T; t++) {
                double v = bd->data[(size_t)t * bd->cols + r];
                px[(size_t)r * T + t] = !isfinite(v)     ? th->warn
                                        : bd->unit_range ? palette_viridis((float)v)
                                                         : palette_diverging(m > 0 ? (float)(v / m) : 0);
            }
        float lfs = fminf(fs, bh / 1.1f); // thin bands (x, or a short box) get smaller names
        if (lfs >= 6)
            scene_text(s, vp->x, y + bh / 2 - scene_line_height(lfs) / 2, FONT_BOLD, lfs, ALIGN_LEFT, th->text,
                       bd->name);
        snprintf(id, sizeof(id), "%s", bd->unit_range ? "0\u20131" : "\u00b1");
        if (!bd->unit_range)
            snprintf(id, sizeof(id), "\u00b1%s", numfmt_short(num, sizeof(num), m, 2));
        if (bh >= scene_line_height(fs * 0.85f))
            scene_text(s, gx + gw + 6 * u, y + bh / 2 - scene_line_height(fs * 0.85f) / 2, FONT_REGULAR,
                       fs * 0.85f, ALIGN_LEFT, th->muted, id);
        // The memory unit's row: a tick on the left of every unit band.
        if (bd->cols == H && H > 1) {
            float ry = y + rh * ((float)d->unit + 0.5f);
            scene_triangle(s, gx - 2 * u, ry, gx - 8 * u, ry - 4 * u, gx - 8 * u, ry + 4 * u, th->accent);
        }
        // Clamped steps: a cross over the gate's column.
        for (int t = 0; bd->gate >= 0 && d->clamped && t < T; t++) {
            if (d->clamped[(size_t)t * 4 + bd->gate] == 0)
                continue;
            float cx = gx + cw * (float)t;
            snprintf(id, sizeof(id), "%s:clamp-%s", pid, bd->name);
            scene_tag(s, scene_frame(s, cx, y, fmaxf(cw, 2), bh, fmaxf(1.5f, 1.5f * u), th->warn), id);
            if (cw >= 6)
                scene_line(s, cx, y, cx + cw, y + bh, fmaxf(1, u), th->warn),
                    scene_line(s, cx + cw, y, cx, y + bh, fmaxf(1, u), th->warn);
        }
        y += bh + gap;
    }
    if (vp->scrub_id) // over the strips, invisible: what a drag hits
        scene_tag(s, scene_rect(s, gx + cw / 2, top, fmaxf(cw * (float)(T - 1), 1), y - gap - top, 0,
                                color_alpha(th->background, 0)), vp->scrub_id);
    // The mark and the selected step.
    float mx = gx + cw * ((float)d->mark + 0.5f);
    scene_line(s, mx, top, mx, y - gap, fmaxf(1, u), color_alpha(th->text, 110));
    float sx = gx + cw * (float)d->t;
    snprintf(id, sizeof(id), "%s:marker", pid);
    scene_tag(s, scene_frame(s, sx - u, top - u, fmaxf(cw, 2) + 2 * u, y - gap - top + 2 * u, 2 * u, th->accent),
              id);
    // The time axis: every tenth step, the mark and the selected step.
    float ay = y;
    int every = T <= 20 ? 5 : T <= 60 ? 10 : 20;
    float last_right = -1e9f;
    char tl[48];
    snprintf(tl, sizeof(tl), "t = %d", d->t + 1);
    float tw = scene_text_width(s, FONT_BOLD, fs, tl);
    float tx = fminf(fmaxf(sx + cw / 2 - tw / 2, gx), gx + gw - tw);
    for (int t = every; t <= T; t += every) {
        snprintf(num, sizeof(num), "%d", t);
        float x = gx + cw * ((float)t - 0.5f), w = scene_text_width(s, FONT_REGULAR, fs * 0.85f, num);
        if (x - w / 2 < last_right + 6 * u || (x + w / 2 > tx - 6 * u && x - w / 2 < tx + tw + 6 * u))
            continue;
        scene_text(s, x, ay, FONT_REGULAR, fs * 0.85f, ALIGN_CENTER, th->muted, num);
        last_right = x + w / 2;
    }
    snprintf(id, sizeof(id), "%s:step", pid);
    scene_tag(s, scene_text(s, tx, ay, FONT_BOLD, fs, ALIGN_LEFT, th->accent, tl), id);
}
