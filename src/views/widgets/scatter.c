// scatter.c: axes (linear or decade ticks), points or polylines per set, the
// band and the legend; see scatter.h.
#include "views/widgets/scatter.h"

#include <math.h>
#include <stdio.h>

#include "views/widgets/plot.h"

typedef struct Axis {
    bool log;
    double lo, hi;        // in axis units (log10 for a log axis)
    float p0, p1;         // pixels of lo and hi
} Axis;

// v in axis units, or false when it cannot be drawn on this axis.
static bool axis_value(const Axis *a, double v, double *out)
{
    if (!isfinite(v) || (a->log && v <= 0))
        return false;
    *out = a->log ? log10(v) : v;
    return true;
}

static float axis_map(const Axis *a, double u)
{
    return a->p0 + (float)((u - a->lo) / (a->hi - a->lo)) * (a->p1 - a->p0);
}

// Round the range out: whole decades on a log axis, 5% padding otherwise.
static void axis_finish(Axis *a)
{
    if (!(a->lo <= a->hi))
        a->lo = 0, a->hi = 1;
    if (a->log) {
        a->lo = floor(a->lo);
        a->hi = ceil(a->hi);
        if (a->hi == a->lo)
            a->hi += 1;
        return;
    }
    if (a->hi == a->lo)
        a->lo -= 1, a->hi += 1;
    double pad = (a->hi - a->lo) * 0.05;
    a->lo -= pad, a->hi += pad;
}

// Tick positions in axis units: every decade (thinned to about 8) or nice
// linear ones, at most fit of them (fit: as many labels as the axis has
// room for, at least 1) but for one a nice step may add.
static int axis_ticks(const Axis *a, int fit, double *out, int max)
{
    fit = fit < 1 ? 1 : fit;
    int n = 0;
    if (!a->log) {
        n = plot_ticks(a->lo, a->hi, fit < 5 ? fit : 5, out, max);
        while (n > fit + 1 && n > 2) { // nice steps may give more: every other one
            int kept = 0;
            for (int i = 0; i < n; i += 2)
                out[kept++] = out[i];
            n = kept;
        }
        return n;
    }
    int step = (int)ceil((a->hi - a->lo) / (fit < 8 ? fit : 8));
    step = step < 1 ? 1 : step;
    for (double d = a->lo; d <= a->hi + 1e-9 && n < max; d += step)
        out[n++] = d;
    return n;
}

static void tick_text(char *buf, size_t n, const Axis *a, double u)
{
    if (a->log)
        snprintf(buf, n, "1e%d", (int)lround(u));
    else
        snprintf(buf, n, "%.6g", fabs(u) < 1e-12 ? 0.0 : u);
}

void scatter_build(Scene *s, const ScatterParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit, fs = 13 * u;
    char id[96], num[32];
    const char *pre = p->id ? p->id : "scatter";
    Axis ax = {.log = p->log_x, .lo = INFINITY, .hi = -INFINITY, .p0 = p->x + 64 * u, .p1 = p->x + p->w - 12 * u};
    Axis ay = {.log = p->log_y, .lo = INFINITY, .hi = -INFINITY};
    ay.p0 = p->y + p->h - (p->xlabel ? 46 * u : 28 * u);
    ay.p1 = p->y + (p->title ? 30 * u : 10 * u);
    scene_rect(s, p->x, p->y, p->w, p->h, 8 * u, t->panel);
    float legend_w = 0;
    for (int k = 0; k < p->nsets; k++)
        if (p->sets[k].name)
            legend_w += scene_text_width(s, FONT_REGULAR, fs, p->sets[k].name) + 28 * u;
    if (p->title) // left of the legend
        scene_text_fit(s, p->x + 12 * u, p->y + 6 * u, FONT_BOLD, 15 * u, ALIGN_LEFT, t->text, p->title,
                       fmaxf(p->w - legend_w - 36 * u, p->w * 0.3f));

    for (int k = 0; k < p->nsets; k++)
        for (int i = 0; i < p->sets[k].n; i++) {
            const double *v = p->sets[k].xyz + (size_t)i * p->sets[k].stride;
            double a, b;
            if (axis_value(&ax, v[0], &a) && axis_value(&ay, v[1], &b)) {
                ax.lo = fmin(ax.lo, a), ax.hi = fmax(ax.hi, a);
                ay.lo = fmin(ay.lo, b), ay.hi = fmax(ay.hi, b);
            }
        }
    double blo, bhi;
    bool band = p->band && axis_value(&ay, p->band_lo, &blo) && axis_value(&ay, p->band_hi, &bhi);
    if (band)
        ay.lo = fmin(ay.lo, fmin(blo, bhi)), ay.hi = fmax(ay.hi, fmax(blo, bhi));
    axis_finish(&ax);
    axis_finish(&ay);

    double ticks[64];
    // As many y labels as the height has room for, a line and a bit each.
    int nt = axis_ticks(&ay, (int)fmaxf(fabsf(ay.p0 - ay.p1) / (scene_line_height(fs) * 1.3f), 1), ticks, 64);
    snprintf(id, sizeof(id), "%s:ytick", pre);
    for (int i = 0; i < nt; i++) {
        float y = axis_map(&ay, ticks[i]);
        scene_line(s, ax.p0, y, ax.p1, y, 1, color_alpha(t->panel_edge, 160));
        tick_text(num, sizeof(num), &ay, ticks[i]);
        scene_tag(s, scene_text(s, ax.p0 - 6 * u, y - scene_line_height(fs) / 2, FONT_REGULAR, fs, ALIGN_RIGHT,
                                t->muted, num), id);
    }
    nt = axis_ticks(&ax, 8, ticks, 64);
    snprintf(id, sizeof(id), "%s:xtick", pre);
    for (int i = 0; i < nt; i++) {
        float x = axis_map(&ax, ticks[i]);
        scene_line(s, x, ay.p1, x, ay.p0, 1, color_alpha(t->panel_edge, 110));
        tick_text(num, sizeof(num), &ax, ticks[i]);
        scene_tag(s, scene_text(s, x, ay.p0 + 5 * u, FONT_REGULAR, fs, ALIGN_CENTER, t->muted, num), id);
    }
    scene_line(s, ax.p0, ay.p1, ax.p0, ay.p0, 1.5f * u, t->muted);
    scene_line(s, ax.p0, ay.p0, ax.p1, ay.p0, 1.5f * u, t->muted);
    if (p->xlabel)
        scene_text(s, (ax.p0 + ax.p1) / 2, ay.p0 + 22 * u, FONT_REGULAR, fs, ALIGN_CENTER, t->text, p->xlabel);

    if (band) {
        float y0 = axis_map(&ay, fmax(blo, bhi)), y1 = axis_map(&ay, fmin(blo, bhi));
        if (y1 - y0 < 2 * u)
            y0 -= u, y1 += u;
        snprintf(id, sizeof(id), "%s:band", pre);
        scene_tag(s, scene_rect(s, ax.p0, y0, ax.p1 - ax.p0, y1 - y0, 0, color_alpha(t->accent, 48)), id);
        if (p->band_label)
            scene_tag(s, scene_text_fit(s, ax.p1 - 6 * u, y0 - scene_line_height(fs), FONT_REGULAR, fs,
                                        ALIGN_RIGHT, t->accent, p->band_label, (ax.p1 - ax.p0) * 0.7f), id);
    }

    snprintf(id, sizeof(id), "%s:point", pre);
    for (int k = 0; k < p->nsets; k++) {
        const ScatterSet *set = &p->sets[k];
        Color col = t->series[k % 8];
        float *pts = p->lines ? arena_alloc(&s->arena, (size_t)(set->n > 0 ? set->n : 1) * 2 * sizeof(float)) : NULL;
        int run = 0;
        float lx = 0, ly = 0;
        bool any = false;
        for (int i = 0; i <= set->n; i++) {
            double a, b;
            const double *v = i < set->n ? set->xyz + (size_t)i * set->stride : NULL;
            bool ok = v && axis_value(&ax, v[0], &a) && axis_value(&ay, v[1], &b);
            if (p->lines && pts && (!ok || i == set->n)) { // a break or the end: draw the run so far
                if (run > 1)
                    scene_polyline(s, pts, run, 2 * u, col);
                run = 0;
            }
            if (!ok)
                continue;
            float px = axis_map(&ax, a), py = axis_map(&ay, b);
            if (p->lines && pts) {
                pts[2 * run] = px, pts[2 * run + 1] = py;
                run++;
            } else {
                float size = set->stride > 2 && isfinite(v[2]) ? (float)fmin(fmax(v[2], 0), 1) : 1;
                scene_tag(s, scene_circle(s, px, py, (2.5f + 3.5f * size) * u, color_alpha(col, 200)), id);
            }
            lx = px, ly = py, any = true;
        }
        if (any) // the newest point
            scene_ring(s, lx, ly, 9 * u, 2 * u, col);
    }

    // Legend: right-aligned in the top band.
    snprintf(id, sizeof(id), "%s:legend", pre);
    float lx = ax.p1, ly = p->y + 8 * u;
    for (int k = p->nsets; k-- > 0;) {
        if (!p->sets[k].name)
            continue;
        lx -= scene_text_width(s, FONT_REGULAR, fs, p->sets[k].name);
        scene_tag(s, scene_text(s, lx, ly, FONT_REGULAR, fs, ALIGN_LEFT, t->text, p->sets[k].name), id);
        lx -= 14 * u;
        scene_circle(s, lx + 5 * u, ly + scene_line_height(fs) / 2, 5 * u, t->series[k % 8]);
        lx -= 14 * u;
    }
}
