// plot.c: axes, ticks, series polylines, markers, legend and read-out;
// see plot.h.
#include "views/widgets/plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/numfmt.h"

int plot_ticks(double lo, double hi, int target, double *out, int max)
{
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi) || target < 1)
        return 0;
    double raw = (hi - lo) / target;
    double mag = pow(10, floor(log10(raw)));
    double step = mag * (raw / mag < 1.5 ? 1 : raw / mag < 3.5 ? 2 : raw / mag < 7.5 ? 5 : 10);
    int n = 0;
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9 && n < max; v += step)
        out[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    return n;
}

// CSV fields are quoted when they hold a comma, a quote or a newline.
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

bool plot_write_csv(FILE *f, const PlotSeries *series, int nseries)
{
    char xs[32], ys[32];
    fputs("series,x,y\n", f);
    for (int k = 0; k < nseries; k++) {
        const PlotSeries *s = &series[k];
        for (int i = 0; i < s->n; i++) {
            csv_field(f, s->name ? s->name : "");
            fprintf(f, ",%s,%s\n", numfmt_exact(xs, sizeof(xs), s->x ? s->x[i] : i),
                    numfmt_exact(ys, sizeof(ys), s->y[i]));
        }
    }
    return !ferror(f);
}

// A tick label with as many decimals as the tick step needs, so ticks
// 3.2399, 3.2400, 3.2401 do not all read "3.24".
static void tick_label(char *buf, size_t n, double v, double step)
{
    double a = fabs(v) > fabs(step) ? fabs(v) : fabs(step);
    if (a >= 1e6 || (a > 0 && a < 1e-4)) {
        int digits = (int)ceil(log10(a / fabs(step))) + 1;
        snprintf(buf, n, "%.*e", digits < 1 ? 1 : digits > 10 ? 10 : digits - 1, v);
        return;
    }
    int decimals = step > 0 && step < 1 ? (int)ceil(-log10(step) - 1e-9) : 0;
    snprintf(buf, n, "%.*f", decimals > 12 ? 12 : decimals, fabs(v) < step * 1e-9 ? 0.0 : v);
}

typedef struct Frame {
    float x0, y0, x1, y1;   // plot area in pixels
    double xlo, xhi, ylo, yhi; // data range (log10 units for log_y)
    bool log_y;
} Frame;

static float map_x(const Frame *f, double x)
{
    return f->x0 + (float)((x - f->xlo) / (f->xhi - f->xlo)) * (f->x1 - f->x0);
}

static float map_y(const Frame *f, double y)
{
    return f->y1 - (float)((y - f->ylo) / (f->yhi - f->ylo)) * (f->y1 - f->y0);
}

static double xval(const PlotSeries *s, int i)
{
    return s->x ? s->x[i] : (double)i;
}

// A plottable y: finite, and positive on a log axis. Returns it in axis units.
static bool yval(const Frame *f, double y, double *out)
{
    if (!isfinite(y) || (f->log_y && y <= 0))
        return false;
    *out = f->log_y ? log10(y) : y;
    return true;
}

static void make_id(char *buf, size_t n, const PlotParams *p, const char *what)
{
    snprintf(buf, n, "%s:%s", p->id ? p->id : "plot", what);
}

// Append a pixel column's lowest, highest and last points (x, lo), (x, hi),
// (x, last) to the polyline pts of run points; returns the new count.
static int column_extent(float *pts, int run, float x, float lo, float hi, float last)
{
    const float ys[3] = {lo, hi, last};
    for (int k = 0; k < 3; k++, run++)
        pts[2 * run] = x, pts[2 * run + 1] = ys[k];
    return run;
}

// The legend's width at text size fs: a swatch and a name per named series,
// and the shading's entry.
static float legend_width(Scene *s, const PlotParams *p, float u, float fs)
{
    float w = 0;
    for (int k = 0; k < p->nseries; k++)
        if (p->series[k].name)
            w += scene_text_width(s, FONT_REGULAR, fs, p->series[k].name) + 40 * u;
    if (p->shade && p->nshade > 0 && p->shade_label)
        w += scene_text_width(s, FONT_REGULAR, fs, p->shade_label) + 40 * u;
    return w;
}

// The y of series ser at x (linear between its samples), in axis units;
// false when x is outside it or the samples there do not plot.
static bool series_at(const Frame *f, const PlotSeries *ser, double x, double *out)
{
    for (int i = 0; i + 1 < ser->n; i++) {
        double xa = xval(ser, i), xb = xval(ser, i + 1), ya, yb;
        if (!((xa <= x && x <= xb) || (xb <= x && x <= xa)))
            continue;
        if (!yval(f, ser->y[i], &ya) || !yval(f, ser->y[i + 1], &yb))
            return false;
        double t = xb != xa ? (x - xa) / (xb - xa) : 0;
        *out = ya + (yb - ya) * t;
        return true;
    }
    if (ser->n == 1 && xval(ser, 0) == x)
        return yval(f, ser->y[0], out);
    return false;
}

void plot_build(Scene *s, const PlotParams *p)
{
    const Theme *t = p->theme;
    // The frame's text shrinks in a short widget: its margins take at most
    // about half the height (at unit 1 they are 76 px with a title and an
    // x label).
    float u = fminf(p->unit, fmaxf(p->h, 1) * 0.5f / ((p->title ? 30 : 10) + (p->xlabel ? 46 : 28) + 8));
    u = fmaxf(u, fminf(p->unit, 0.85f));
    float fs = 13 * u;
    char id[96], num[32];
    Frame f = {.log_y = p->log_y};
    f.x0 = p->x + 64 * u;
    f.x1 = p->x + p->w - 12 * u;
    f.y0 = p->y + (p->title ? 30 * u : 10 * u) + (p->ylabel ? 20 * u : 0);
    f.y1 = p->y + p->h - (p->xlabel ? 46 * u : 28 * u);
    scene_rect(s, p->x, p->y, p->w, p->h, 8 * u, t->panel);
    float title_w = 0;
    if (p->title)
        title_w = scene_item(s, scene_text_fit(s, p->x + 12 * u, p->y + 6 * u, FONT_BOLD, 15 * u, ALIGN_LEFT,
                                               t->text, p->title, p->w - 24 * u)).w;
    // The legend: on the title's row, right-aligned, when both fit; else a
    // row of its own under the title (its text smaller if it is still too wide).
    float lfs = fs, lwidth = legend_width(s, p, u, fs), ly = p->y + 8 * u;
    if (lwidth > 0 && p->title && title_w + 24 * u + lwidth > p->w - 24 * u) {
        ly = p->y + 6 * u + scene_line_height(15 * u) + 2 * u;
        f.y0 += scene_line_height(fs) + 4 * u;
        if (lwidth > p->w - 24 * u)
            lfs = fs * (p->w - 24 * u) / lwidth;
    }

    // Data range over plottable points.
    f.xlo = INFINITY, f.xhi = -INFINITY, f.ylo = INFINITY, f.yhi = -INFINITY;
    for (int k = 0; k < p->nseries; k++) {
        const PlotSeries *ser = &p->series[k];
        for (int i = 0; i < ser->n; i++) {
            double y, x = xval(ser, i);
            if (isfinite(x)) {
                f.xlo = fmin(f.xlo, x);
                f.xhi = fmax(f.xhi, x);
            }
            if (yval(&f, ser->y[i], &y)) {
                f.ylo = fmin(f.ylo, y);
                f.yhi = fmax(f.yhi, y);
            }
        }
    }
    // Series drawn against their index (steps) get an axis from 0 with
    // whole-number ticks, however few points there are.
    bool index_x = true;
    for (int k = 0; k < p->nseries; k++)
        index_x &= p->series[k].x == NULL;
    if (index_x)
        f.xlo = 0, f.xhi = isfinite(f.xhi) && f.xhi > 1 ? f.xhi : 1;
    if (!(f.xlo < f.xhi))
        f.xlo = isfinite(f.xlo) ? f.xlo - 1 : 0, f.xhi = f.xlo + 2;
    if (!(f.ylo < f.yhi))
        f.ylo = isfinite(f.ylo) ? f.ylo - 1 : 0, f.yhi = f.ylo + 2;
    if (p->log_y) { // whole decades
        f.ylo = floor(f.ylo);
        f.yhi = ceil(f.yhi);
        if (f.yhi == f.ylo)
            f.yhi += 1;
    } else {
        double pad = (f.yhi - f.ylo) * 0.05;
        f.ylo -= pad;
        f.yhi += pad;
    }

    // Grid and ticks.
    double ticks[64];
    int nt;
    make_id(id, sizeof(id), p, "ytick");
    // As many tick labels as fit the height with a line's room each.
    int fit = (int)fmaxf((f.y1 - f.y0) / (scene_line_height(fs) * 1.3f), 1);
    if (p->log_y) {
        int most = fit < 8 ? fit : 8; // at most ~8 decade labels
        int step = (int)ceil((f.yhi - f.ylo) / most);
        nt = 0;
        for (double d = f.ylo; d <= f.yhi + 1e-9 && nt < 64; d += step)
            ticks[nt++] = d;
    } else {
        nt = plot_ticks(f.ylo, f.yhi, fit < 5 ? fit : 5, ticks, 64);
        while (nt > fit + 1 && nt > 2) { // nice steps may give more: every other one
            int kept = 0;
            for (int i = 0; i < nt; i += 2)
                ticks[kept++] = ticks[i];
            nt = kept;
        }
    }
    for (int i = 0; i < nt; i++) {
        float y = map_y(&f, ticks[i]);
        scene_line(s, f.x0, y, f.x1, y, 1, color_alpha(t->panel_edge, 160));
        if (p->log_y)
            snprintf(num, sizeof(num), "1e%d", (int)lround(ticks[i]));
        else
            tick_label(num, sizeof(num), ticks[i], nt > 1 ? ticks[1] - ticks[0] : 1);
        scene_tag(s, scene_text(s, f.x0 - 6 * u, y - scene_line_height(fs) / 2, FONT_REGULAR, fs,
                                ALIGN_RIGHT, t->muted, num), id);
    }
    nt = plot_ticks(f.xlo, f.xhi, 6, ticks, 64);
    if (index_x) { // steps are whole numbers
        int kept = 0;
        for (int i = 0; i < nt; i++)
            if (ticks[i] == floor(ticks[i]))
                ticks[kept++] = ticks[i];
        nt = kept;
    }
    // A narrow plot: every other label until they have room (a label and a
    // bit each; the widest is the last or the first).
    for (;;) {
        char a[32], b[32];
        double step = nt > 1 ? ticks[1] - ticks[0] : 1;
        if (nt <= 2)
            break;
        tick_label(a, sizeof(a), ticks[0], step);
        tick_label(b, sizeof(b), ticks[nt - 1], step);
        float widest = fmaxf(scene_text_width(s, FONT_REGULAR, fs, a), scene_text_width(s, FONT_REGULAR, fs, b));
        if (fabsf(map_x(&f, ticks[1]) - map_x(&f, ticks[0])) >= widest + 6 * u)
            break;
        int kept = 0;
        for (int i = 0; i < nt; i += 2)
            ticks[kept++] = ticks[i];
        nt = kept;
    }
    make_id(id, sizeof(id), p, "xtick");
    for (int i = 0; i < nt; i++) {
        float x = map_x(&f, ticks[i]);
        scene_line(s, x, f.y1, x, f.y1 + 4 * u, 1, t->muted);
        tick_label(num, sizeof(num), ticks[i], nt > 1 ? ticks[1] - ticks[0] : 1);
        scene_tag(s, scene_text(s, x, f.y1 + 5 * u, FONT_REGULAR, fs, ALIGN_CENTER, t->muted, num), id);
    }
    scene_line(s, f.x0, f.y0, f.x0, f.y1, 1.5f * u, t->muted);
    scene_line(s, f.x0, f.y1, f.x1, f.y1, 1.5f * u, t->muted);
    if (p->xlabel)
        scene_text(s, (f.x0 + f.x1) / 2, f.y1 + 22 * u, FONT_REGULAR, fs, ALIGN_CENTER, t->text, p->xlabel);
    if (p->ylabel)
        scene_text(s, p->x + 12 * u, f.y0 - 22 * u, FONT_REGULAR, fs, ALIGN_LEFT, t->muted, p->ylabel);

    // Shaded intervals behind the series.
    make_id(id, sizeof(id), p, "shade");
    for (int i = 0; p->shade && i < p->nshade; i++) {
        double lo = p->shade[2 * i], hi = p->shade[2 * i + 1];
        if (!isfinite(lo) || !isfinite(hi) || hi < f.xlo || lo > f.xhi)
            continue;
        float a = map_x(&f, fmax(lo, f.xlo)), b = map_x(&f, fmin(hi, f.xhi));
        scene_tag(s, scene_rect(s, a, f.y0, fmaxf(b - a, 1), f.y1 - f.y0, 0, color_alpha(t->warn, 38)), id);
    }

    // Series: polylines broken at unplottable points, which become markers.
    make_id(id, sizeof(id), p, "nan");
    for (int k = 0; k < p->nseries; k++) {
        const PlotSeries *ser = &p->series[k];
        Color col = t->series[k % 8];
        float *pts = arena_alloc(&s->arena, ((size_t)(ser->n > 0 ? ser->n : 1) * 2 + 2) * 2 * sizeof(float));
        if (!pts) {
            s->failed = true;
            return;
        }
        // Points that fall in the same pixel column become the column's
        // first, lowest, highest and last points: a curve of 100,000 steps
        // costs what one of the plot's width does, and looks the same.
        int run = 0, pcol = 0, incol = 0;
        float col_x = 0, lo = 0, hi = 0, last = 0;
        for (int i = 0; i <= ser->n; i++) {
            double y;
            bool ok = i < ser->n && isfinite(xval(ser, i)) && yval(&f, ser->y[i], &y);
            if (ok) {
                float px = map_x(&f, xval(ser, i)), py = map_y(&f, y);
                if (incol && (int)floorf(px) == pcol) {
                    lo = fminf(lo, py), hi = fmaxf(hi, py), last = py;
                    incol++;
                    continue;
                }
                if (incol > 1)
                    run = column_extent(pts, run, col_x, lo, hi, last);
                pts[2 * run] = px;
                pts[2 * run + 1] = py;
                run++;
                pcol = (int)floorf(px), col_x = px, lo = hi = last = py, incol = 1;
                continue;
            }
            if (incol > 1)
                run = column_extent(pts, run, col_x, lo, hi, last);
            incol = 0;
            if (run > 1)
                scene_polyline(s, pts, run, 2 * u, col);
            else if (run == 1)
                scene_circle(s, pts[0], pts[1], 2.5f * u, col);
            run = 0;
            if (i < ser->n && isfinite(xval(ser, i))) { // a NaN, Inf or (log axis) non-positive value
                double v = ser->y[i];
                float x = map_x(&f, xval(ser, i));
                float my = (v > 0 || isnan(v)) ? f.y0 + 6 * u : f.y1 - 6 * u;
                float r = 5 * u;
                scene_tag(s, scene_line(s, x - r, my - r, x + r, my + r, 2 * u, t->warn), id);
                scene_line(s, x + r, my - r, x - r, my + r, 2 * u, t->warn);
            }
        }
    }

    // The marked x: a dashed line, a dot on each series, the x at the top.
    if (p->mark && isfinite(p->mark_x) && p->mark_x >= f.xlo && p->mark_x <= f.xhi) {
        float mx = map_x(&f, p->mark_x);
        for (float y = f.y0; y < f.y1; y += 8 * u)
            scene_line(s, mx, y, mx, fminf(y + 4 * u, f.y1), 1.5f * u, color_alpha(t->text, 150));
        make_id(id, sizeof(id), p, "mark");
        for (int k = 0; k < p->nseries; k++) {
            double y;
            if (series_at(&f, &p->series[k], p->mark_x, &y) && y >= f.ylo && y <= f.yhi) {
                scene_circle(s, mx, map_y(&f, y), 5.5f * u, t->text);
                scene_tag(s, scene_circle(s, mx, map_y(&f, y), 4 * u, t->series[k % 8]), id);
            }
        }
        make_id(id, sizeof(id), p, "mark-label");
        numfmt_short(num, sizeof(num), p->mark_x, 3);
        float nw = scene_text_width(s, FONT_BOLD, fs, num);
        float lxm = fminf(fmaxf(mx + 4 * u, f.x0 + 2 * u), f.x1 - nw - 2 * u);
        scene_rect(s, lxm - 2 * u, f.y0, nw + 4 * u, scene_line_height(fs), 2 * u, t->panel);
        scene_tag(s, scene_text(s, lxm, f.y0, FONT_BOLD, fs, ALIGN_LEFT, t->text, num), id);
    }

    // Legend: one row in the top band (see above), right-aligned, clear of the data.
    make_id(id, sizeof(id), p, "legend");
    float lx = f.x1, lu = u * lfs / fs;
    if (p->shade && p->nshade > 0 && p->shade_label) {
        lx -= scene_text_width(s, FONT_REGULAR, lfs, p->shade_label);
        scene_tag(s, scene_text(s, lx, ly, FONT_REGULAR, lfs, ALIGN_LEFT, t->text, p->shade_label), id);
        lx -= 24 * lu;
        scene_rect(s, lx, ly + 2 * lu, 18 * lu, scene_line_height(lfs) - 4 * lu, 2 * lu, color_alpha(t->warn, 90));
        lx -= 16 * lu;
    }
    for (int k = p->nseries; k-- > 0;) {
        if (!p->series[k].name)
            continue;
        float tw = scene_text_width(s, FONT_REGULAR, lfs, p->series[k].name);
        lx -= tw;
        scene_tag(s, scene_text(s, lx, ly, FONT_REGULAR, lfs, ALIGN_LEFT, t->text, p->series[k].name), id);
        lx -= 24 * lu;
        scene_line(s, lx, ly + scene_line_height(lfs) / 2, lx + 18 * lu, ly + scene_line_height(lfs) / 2,
                   3 * lu, t->series[k % 8]);
        lx -= 16 * lu;
    }

    // Read-out: the nearest point of each series under the mouse.
    if (p->hover && p->mouse_x >= f.x0 && p->mouse_x <= f.x1) {
        double xm = f.xlo + (p->mouse_x - f.x0) / (f.x1 - f.x0) * (f.xhi - f.xlo);
        scene_line(s, p->mouse_x, f.y0, p->mouse_x, f.y1, 1, t->muted);
        make_id(id, sizeof(id), p, "readout");
        float ry = f.y1 - 10 * u - scene_line_height(fs) * (float)p->nseries;
        scene_panel(s, f.x0 + 4 * u, ry - 4 * u, (f.x1 - f.x0) * 0.5f,
                    scene_line_height(fs) * (float)p->nseries + 8 * u, 4 * u, t->panel, t->panel_edge, 1);
        for (int k = 0; k < p->nseries; k++) {
            const PlotSeries *ser = &p->series[k];
            int best = -1;
            double bd = INFINITY;
            for (int i = 0; i < ser->n; i++) {
                double d = fabs(xval(ser, i) - xm);
                if (d < bd)
                    bd = d, best = i;
            }
            if (best < 0)
                continue;
            char line[160], xs[32], ys[32];
            snprintf(line, sizeof(line), "%s  x=%s  y=%s", ser->name ? ser->name : "",
                     numfmt_short(xs, sizeof(xs), xval(ser, best), 4),
                     numfmt_short(ys, sizeof(ys), ser->y[best], 4));
            scene_tag(s, scene_text(s, f.x0 + 8 * u, ry, FONT_MONO, fs, ALIGN_LEFT, t->series[k % 8], line),
                      id);
            ry += scene_line_height(fs);
        }
    }
}
