// surface.c: a loss surface with contour lines, optimizer paths, a legend
// and the selected optimizer's step as arrows; see surface.h.
#include "views/widgets/surface.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/numfmt.h"
#include "views/widgets/palette.h"
#include "views/widgets/plot.h"

#define LEVELS 64    // colour breakpoints: the map is coloured by rank, so every surface shows its shape
#define CONTOURS 12  // contour lines at equal shares of the map's area
#define SAMPLE 2048  // values sorted to find the breakpoints
#define MAX_ZOOM 100 // arrows are drawn at most this many times their length
#define MAX_DOTS 60  // a path of at most this many steps marks each point

// The arrows of a step, widest first so that ones pointing the same way
// all show: -lr x gradient, -lr x velocity, the step taken (units).
static const float widths[3] = {5.5f, 3.5f, 1.8f};

// Where the map is on screen and which part of the plane it shows.
typedef struct Frame {
    float x0, y0, w, h;
    double xlo, xhi, ylo, yhi;
} Frame;

static float fx(const Frame *f, double x)
{
    return f->x0 + (float)((x - f->xlo) / (f->xhi - f->xlo)) * f->w;
}

static float fy(const Frame *f, double y)
{
    return f->y0 + (float)((f->yhi - y) / (f->yhi - f->ylo)) * f->h;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// Breakpoints q[0..LEVELS] at equal ranks of the finite values of the grid
// (a sample of them). False when no value is finite.
static bool breakpoints(const SurfaceParams *p, double q[LEVELS + 1])
{
    size_t cells = (size_t)p->rows * (size_t)p->cols, stride = cells / SAMPLE + 1, m = 0;
    double sample[SAMPLE + 1];
    for (size_t i = 0; i < cells && m < SAMPLE + 1; i += stride)
        if (isfinite(p->grid[i]))
            sample[m++] = p->grid[i];
    if (m == 0)
        return false;
    qsort(sample, m, sizeof(double), cmp_double);
    for (int k = 0; k <= LEVELS; k++)
        q[k] = sample[(m - 1) * (size_t)k / LEVELS];
    // The sample may miss the extremes: stretch the ends over every value.
    for (size_t i = 0; i < cells; i++)
        if (isfinite(p->grid[i])) {
            q[0] = fmin(q[0], p->grid[i]);
            q[LEVELS] = fmax(q[LEVELS], p->grid[i]);
        }
    return true;
}

// The rank of v among the breakpoints, 0..1.
static float rank(const double q[LEVELS + 1], double v)
{
    if (v <= q[0])
        return 0;
    if (v >= q[LEVELS])
        return 1;
    int lo = 0, hi = LEVELS;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (q[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    double span = q[hi] - q[lo];
    return (float)((lo + (span > 0 ? (v - q[lo]) / span : 0)) / LEVELS);
}

// The cells as one image, coloured by rank (dark purple low, green high:
// viridis without its yellow, which a path has) and softened towards the
// background so the paths stand out.
static SceneRef draw_cells(Scene *s, const SurfaceParams *p, const Frame *f, const double q[LEVELS + 1])
{
    const Theme *t = p->theme;
    SceneRef ref = scene_image(s, f->x0, f->y0, f->w, f->h, p->cols, p->rows);
    Color *px = scene_image_pixels(s, ref);
    if (!px)
        return ref;
    for (size_t i = 0; i < (size_t)p->rows * (size_t)p->cols; i++)
        px[i] = isfinite(p->grid[i])
                    ? color_mix(palette_viridis(0.78f * rank(q, p->grid[i])), t->background, 0.35f)
                    : t->warn;
    return ref;
}

// Where the level crosses the edge from a to b, as a fraction of the edge.
static float cross(double a, double b, double level)
{
    return (float)((level - a) / (b - a));
}

// Contour lines by marching squares over the cell centres.
static void draw_contours(Scene *s, const SurfaceParams *p, const Frame *f, const double q[LEVELS + 1])
{
    Color c = color_alpha(p->theme->text, 64);
    float cw = f->w / (float)p->cols, ch = f->h / (float)p->rows, width = fmaxf(1, p->unit);
    for (int k = 1; k < CONTOURS; k++) {
        double level = q[LEVELS * k / CONTOURS];
        for (int r = 0; r + 1 < p->rows; r++) {
            for (int col = 0; col + 1 < p->cols; col++) {
                const double *g = p->grid;
                size_t i = (size_t)r * (size_t)p->cols + (size_t)col;
                double a = g[i], b = g[i + 1], cc = g[i + (size_t)p->cols + 1], d = g[i + (size_t)p->cols];
                if (!isfinite(a) || !isfinite(b) || !isfinite(cc) || !isfinite(d))
                    continue;
                int mask = (a >= level) | (b >= level) << 1 | (cc >= level) << 2 | (d >= level) << 3;
                if (mask == 0 || mask == 15)
                    continue;
                float x0 = f->x0 + cw * ((float)col + 0.5f), y0 = f->y0 + ch * ((float)r + 0.5f);
                float pts[8];
                int n = 0;
                if ((a >= level) != (b >= level)) // top
                    pts[n++] = x0 + cw * cross(a, b, level), pts[n++] = y0;
                if ((b >= level) != (cc >= level)) // right
                    pts[n++] = x0 + cw, pts[n++] = y0 + ch * cross(b, cc, level);
                if ((d >= level) != (cc >= level)) // bottom
                    pts[n++] = x0 + cw * cross(d, cc, level), pts[n++] = y0 + ch;
                if ((a >= level) != (d >= level)) // left
                    pts[n++] = x0, pts[n++] = y0 + ch * cross(a, d, level);
                if (n == 4) {
                    scene_line(s, pts[0], pts[1], pts[2], pts[3], width, c);
                } else if (n == 8) { // a saddle square: pair the crossings by the centre's side
                    bool centre = (a + b + cc + d) / 4 >= level;
                    if (centre == (a >= level)) {
                        scene_line(s, pts[0], pts[1], pts[2], pts[3], width, c);
                        scene_line(s, pts[4], pts[5], pts[6], pts[7], width, c);
                    } else {
                        scene_line(s, pts[0], pts[1], pts[6], pts[7], width, c);
                        scene_line(s, pts[2], pts[3], pts[4], pts[5], width, c);
                    }
                }
            }
        }
    }
}

// Clip the segment (x0, y0)-(x1, y1) to the frame (Liang-Barsky). False
// when nothing of it is inside; else the parameters t0 <= t1 of the part inside.
static bool clip(const Frame *f, float x0, float y0, float x1, float y1, float *t0, float *t1)
{
    float dx = x1 - x0, dy = y1 - y0;
    float pv[4] = {-dx, dx, -dy, dy};
    float qv[4] = {x0 - f->x0, f->x0 + f->w - x0, y0 - f->y0, f->y0 + f->h - y0};
    *t0 = 0;
    *t1 = 1;
    for (int i = 0; i < 4; i++) {
        if (pv[i] == 0) {
            if (qv[i] < 0)
                return false;
            continue;
        }
        float r = qv[i] / pv[i];
        if (pv[i] < 0)
            *t0 = fmaxf(*t0, r);
        else
            *t1 = fminf(*t1, r);
    }
    return *t0 <= *t1;
}

static bool inside(const Frame *f, float x, float y)
{
    return x >= f->x0 && x <= f->x0 + f->w && y >= f->y0 && y <= f->y0 + f->h;
}

// A path as polylines of its runs inside the map, width w, colour c.
static void draw_path(Scene *s, const Frame *f, const SurfacePath *pa, float w, Color c, float *buf)
{
    int m = 0;
    for (int i = 0; i + 1 < pa->n; i++) {
        float x0 = fx(f, pa->xy[2 * i]), y0 = fy(f, pa->xy[2 * i + 1]);
        float x1 = fx(f, pa->xy[2 * i + 2]), y1 = fy(f, pa->xy[2 * i + 3]), t0, t1;
        if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1) ||
            !clip(f, x0, y0, x1, y1, &t0, &t1)) {
            if (m >= 4)
                scene_polyline(s, buf, m / 2, w, c);
            m = 0;
            continue;
        }
        if (m == 0 || t0 > 0) {
            if (m >= 4)
                scene_polyline(s, buf, m / 2, w, c);
            m = 0;
            buf[m++] = x0 + (x1 - x0) * t0;
            buf[m++] = y0 + (y1 - y0) * t0;
        }
        buf[m++] = x0 + (x1 - x0) * t1;
        buf[m++] = y0 + (y1 - y0) * t1;
        if (t1 < 1) {
            scene_polyline(s, buf, m / 2, w, c);
            m = 0;
        }
    }
    if (m >= 4)
        scene_polyline(s, buf, m / 2, w, c);
}

// An arrow from (x, y) by (dx, dy) pixels, width wide, with a triangular
// head: its dark outline (under true) or the arrow itself in c. Outlines go
// first, so arrows along one line stay visible one over the other.
static void arrow(Scene *s, float x, float y, float dx, float dy, float u, float width, Color c, bool under)
{
    float len = sqrtf(dx * dx + dy * dy);
    if (!(len > 0.5f))
        return;
    float ux = dx / len, uy = dy / len, head = fminf(fmaxf(2.5f * width, 9 * u), 0.5f * len);
    float half = 0.45f * head, o = under ? 1.2f * u : 0;
    float bx = x + dx - ux * head, by = y + dy - uy * head;
    scene_line(s, x, y, bx + ux * u, by + uy * u, width + 2 * o, c);
    scene_triangle(s, x + dx + ux * o, y + dy + uy * o, bx - uy * (half + o), by + ux * (half + o),
                   bx + uy * (half + o), by - ux * (half + o), c);
}

// A point as "(a, b)": two decimals, or three significant digits when large.
static const char *pair(char *buf, size_t n, double a, double b)
{
    char x[32], y[32];
    snprintf(x, sizeof(x), fabs(a) < 1000 ? "%.2f" : "%.3g", a);
    snprintf(y, sizeof(y), fabs(b) < 1000 ? "%.2f" : "%.3g", b);
    snprintf(buf, n, "(%s, %s)", strcmp(x, "-0.00") ? x : "0.00", strcmp(y, "-0.00") ? y : "0.00");
    return buf;
}

// Ticks along the bottom and the left of the map.
static void draw_ticks(Scene *s, const SurfaceParams *p, const Frame *f)
{
    const Theme *t = p->theme;
    float u = p->unit, fs = 12 * u;
    double ticks[16];
    char num[32];
    int n = plot_ticks(f->xlo, f->xhi, f->w > 200 * u ? 4 : 2, ticks, 16);
    for (int i = 0; i < n; i++) {
        float x = fx(f, ticks[i]);
        scene_line(s, x, f->y0 + f->h, x, f->y0 + f->h + 4 * u, fmaxf(1, u), t->muted);
        scene_text(s, x, f->y0 + f->h + 5 * u, FONT_REGULAR, fs, ALIGN_CENTER, t->muted,
                   numfmt_short(num, sizeof(num), ticks[i], 3));
    }
    n = plot_ticks(f->ylo, f->yhi, f->h > 200 * u ? 4 : 2, ticks, 16);
    for (int i = 0; i < n; i++) {
        float y = fy(f, ticks[i]);
        scene_line(s, f->x0 - 4 * u, y, f->x0, y, fmaxf(1, u), t->muted);
        scene_text(s, f->x0 - 6 * u, y - scene_line_height(fs) / 2, FONT_REGULAR, fs, ALIGN_RIGHT, t->muted,
                   numfmt_short(num, sizeof(num), ticks[i], 3));
    }
    // The axes' names: x under the middle of its labels, y left of the middle of its own.
    scene_text(s, f->x0 + f->w / 2, f->y0 + f->h + 5 * u + scene_line_height(fs), FONT_BOLD, fs, ALIGN_CENTER,
               t->muted, "x");
    scene_text(s, f->x0 - 38 * u, f->y0 + f->h / 2 - scene_line_height(fs) / 2, FONT_BOLD, fs, ALIGN_RIGHT,
               t->muted, "y");
}

// The legend: a row per path, then the selected optimizer's arrows.
static void draw_legend(Scene *s, const SurfaceParams *p, const Frame *f, float x, float y, float w,
                        float bottom, float scale)
{
    const Theme *t = p->theme;
    float u = p->unit, fs = 14 * u, lh = scene_line_height(fs) + 6 * u;
    char buf[96], num[32], id[96];
    if (p->steps >= 0 && y + lh <= bottom) {
        snprintf(buf, sizeof(buf), "after %d step%s, rate %s", p->steps, p->steps == 1 ? "" : "s",
                 numfmt_short(num, sizeof(num), p->lr, 3));
        scene_text_fit(s, x, y, FONT_REGULAR, fs, ALIGN_LEFT, t->muted, buf, w);
        y += lh;
    }
    for (int k = 0; k < p->npaths && y + lh <= bottom; k++) {
        const SurfacePath *pa = &p->paths[k];
        Color c = t->series[pa->color % 8];
        float mid = y + scene_line_height(fs) / 2;
        scene_line(s, x, mid, x + 20 * u, mid, 3 * u, c);
        scene_circle(s, x + 20 * u, mid, 3.5f * u, c);
        snprintf(id, sizeof(id), "%s:legend:%d", p->id ? p->id : "surface", k);
        scene_tag(s,
                  scene_text(s, x + 30 * u, y, k == p->selected ? FONT_BOLD : FONT_REGULAR, fs, ALIGN_LEFT,
                             k == p->selected ? t->text : t->muted, pa->name),
                  id);
        Color sc = t->text;
        if (pa->status == 2)
            snprintf(buf, sizeof(buf), "diverged at step %d", pa->n - 1), sc = t->warn;
        else if (pa->status == 1)
            snprintf(buf, sizeof(buf), "off map at step %d", pa->n - 1), sc = t->muted;
        else if (pa->loss && pa->n > 0)
            snprintf(buf, sizeof(buf), "f = %s", numfmt_short(num, sizeof(num), pa->loss[pa->n - 1], 3));
        else
            buf[0] = '\0';
        float name_w = scene_text_width(s, FONT_BOLD, fs, pa->name) + 12 * u;
        scene_text_fit(s, x + w, y, FONT_REGULAR, fs, ALIGN_RIGHT, sc, buf, w - 30 * u - name_w);
        y += lh;
    }
    if (p->selected < 0 || !p->point || !p->step || y + 2 * lh > bottom)
        return;
    const SurfacePath *sel = &p->paths[p->selected];
    y += 6 * u;
    snprintf(buf, sizeof(buf), "%s's next step", sel->name);
    scene_text_fit(s, x, y, FONT_BOLD, fs, ALIGN_LEFT, t->text, buf, w);
    float title_w = scene_text_width(s, FONT_BOLD, fs, buf) + 8 * u;
    snprintf(buf, sizeof(buf), "from %s", pair(num, sizeof(num), p->point[0], p->point[1]));
    if (title_w + scene_text_width(s, FONT_REGULAR, fs, buf) > w) // its own line when it does not fit
        y += lh, title_w = 30 * u;
    if (y + lh <= bottom)
        scene_text_fit(s, x + w, y, FONT_REGULAR, fs, ALIGN_RIGHT, t->muted, buf, w - title_w);
    y += lh;
    struct {
        const double *v;
        double k;
        Color c;
        const char *label;
    } rows[3] = {
        {p->grad, -p->lr, t->grad, "\u2212lr \u00d7 gradient"},
        {p->velocity, -p->lr, t->accent, "\u2212lr \u00d7 velocity"},
        {p->step, 1, t->text, "the step taken"},
    };
    for (int i = 0; i < 3 && y + lh <= bottom; i++) {
        if (!rows[i].v)
            continue;
        float mid = y + scene_line_height(fs) / 2;
        arrow(s, x, mid, 22 * u, 0, u, widths[i] * u, t->background, true);
        arrow(s, x, mid, 22 * u, 0, u, widths[i] * u, rows[i].c, false);
        scene_text(s, x + 30 * u, y, FONT_REGULAR, fs, ALIGN_LEFT, t->text, rows[i].label);
        double dx = rows[i].k * rows[i].v[0], dy = rows[i].k * rows[i].v[1];
        snprintf(buf, sizeof(buf), "(%.2g, %.2g)", dx == 0 ? 0 : dx, dy == 0 ? 0 : dy);
        scene_text_fit(s, x + w, y, FONT_REGULAR, fs * 0.93f, ALIGN_RIGHT, t->muted, buf,
                       w - 30 * u - scene_text_width(s, FONT_REGULAR, fs, rows[i].label) - 8 * u);
        y += lh;
    }
    if (y + lh <= bottom) {
        if (scale < 0)
            snprintf(buf, sizeof(buf), "its point is off the map");
        else if (scale == 0)
            snprintf(buf, sizeof(buf), "(x, y) parts; too short to draw here");
        else if (fabsf(scale - 1) > 0.01f)
            snprintf(buf, sizeof(buf),
                     scale >= 9.5f ? "(x, y) parts; arrows drawn %.0f\u00d7"
                                   : "(x, y) parts; arrows drawn %.2g\u00d7",
                     (double)scale);
        else
            snprintf(buf, sizeof(buf), "(x, y) parts; arrows to scale");
        scene_text_fit(s, x, y, FONT_REGULAR, 13 * u, ALIGN_LEFT, t->muted, buf, w);
    }
    (void)f;
}

void surface_build(Scene *s, const SurfaceParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit;
    float top = p->y, bottom = p->y + p->h;
    if (p->title) {
        scene_text_fit(s, p->x, top, FONT_BOLD, 16 * u, ALIGN_LEFT, t->text, p->title, p->w);
        top += scene_line_height(16 * u) + 10 * u;
    }
    double rx = p->range[1] - p->range[0], ry = p->range[3] - p->range[2];
    if (!p->grid || p->rows < 2 || p->cols < 2 || p->rows > 4096 || p->cols > 4096 || !(rx > 0) ||
        !(ry > 0) || !isfinite(rx) || !isfinite(ry))
        return;
    // The legend takes the right; the map keeps the plane's proportions.
    float tick_w = 50 * u, tick_h = 36 * u;
    float ah = bottom - top - tick_h,
          tall_w = ah * (float)(rx / ry); // the map's width when it fills the height
    float legend_w = fminf(fmaxf(p->w - tick_w - 16 * u - tall_w, 250 * u), 360 * u);
    if (p->w - legend_w - tick_w < 120 * u)
        legend_w = fmaxf(0, p->w - tick_w - 120 * u);
    float aw = p->w - legend_w - tick_w - 16 * u;
    if (!(aw > 20 * u) || !(ah > 20 * u))
        return;
    float sc = fminf(aw / (float)rx, ah / (float)ry);
    Frame f = {.x0 = p->x + tick_w,
               .y0 = top,
               .w = (float)rx * sc,
               .h = (float)ry * sc,
               .xlo = p->range[0],
               .xhi = p->range[1],
               .ylo = p->range[2],
               .yhi = p->range[3]};
    double q[LEVELS + 1];
    bool any = breakpoints(p, q);
    // The map, tagged for clicks, then its contours and frame.
    SceneRef map = any ? draw_cells(s, p, &f, q) : scene_rect(s, f.x0, f.y0, f.w, f.h, 0, t->warn);
    scene_tag(s, map, p->id ? p->id : "surface");
    if (any)
        draw_contours(s, p, &f, q);
    scene_frame(s, f.x0, f.y0, f.w, f.h, fmaxf(1, u), t->panel_edge);
    draw_ticks(s, p, &f);

    // Paths, the selected one last (on top).
    size_t most = 0;
    for (int k = 0; k < p->npaths; k++)
        most = (size_t)p->paths[k].n > most ? (size_t)p->paths[k].n : most;
    float *buf = malloc((most * 2 + 4) * sizeof(float));
    for (int pass = 0; buf && pass < p->npaths; pass++) {
        int k = pass;
        if (p->selected >= 0 && p->selected < p->npaths)
            k = pass == p->npaths - 1 ? p->selected : pass >= p->selected ? pass + 1 : pass;
        const SurfacePath *pa = &p->paths[k];
        Color c = t->series[pa->color % 8];
        draw_path(s, &f, pa, 5 * u, color_alpha(t->background, 200), buf);
        draw_path(s, &f, pa, 2.5f * u, c, buf);
        if (pa->n <= MAX_DOTS + 1)
            for (int i = 1; i < pa->n; i++) {
                float x = fx(&f, pa->xy[2 * i]), y = fy(&f, pa->xy[2 * i + 1]);
                if (inside(&f, x, y))
                    scene_circle(s, x, y, 2.2f * u, c);
            }
        if (pa->n > 0) {
            float x = fx(&f, pa->xy[2 * (pa->n - 1)]), y = fy(&f, pa->xy[2 * (pa->n - 1) + 1]);
            if (inside(&f, x, y)) {
                scene_circle(s, x, y, 6 * u, t->background);
                scene_circle(s, x, y, 4.5f * u, c);
            }
        }
    }
    free(buf);
    // The start, where every path begins.
    if (p->npaths > 0 && p->paths[0].n > 0) {
        float x = fx(&f, p->paths[0].xy[0]), y = fy(&f, p->paths[0].xy[1]);
        if (inside(&f, x, y)) {
            scene_ring(s, x, y, 7 * u, 4 * u, t->background);
            scene_ring(s, x, y, 7 * u, 2 * u, t->text);
        }
    }
    // The selected optimizer's next step as arrows, all drawn at one scale:
    // true length when that is readable, else scaled so the longest is.
    float scale = 1;
    if (p->selected >= 0 && p->selected < p->npaths && p->point && p->step) {
        float x = fx(&f, p->point[0]), y = fy(&f, p->point[1]);
        const double *vecs[3] = {p->grad, p->velocity, p->step};
        double ks[3] = {-p->lr, -p->lr, 1};
        Color cols[3] = {t->grad, t->accent, t->text};
        float longest = 0;
        for (int i = 0; i < 3; i++)
            if (vecs[i]) {
                float dx = (float)(ks[i] * vecs[i][0] / rx) * f.w,
                      dy = (float)(ks[i] * vecs[i][1] / ry) * f.h;
                if (isfinite(dx) && isfinite(dy))
                    longest = fmaxf(longest, sqrtf(dx * dx + dy * dy));
            }
        scale = !inside(&f, x, y) ? -1 : 0; // nothing drawn: off the map, or too small
        if (longest * MAX_ZOOM >= 12 * u && scale == 0) {
            scale = 1;
            if (longest < 40 * u)
                scale = fminf(40 * u / longest, MAX_ZOOM);
            else if (longest > 120 * u)
                scale = 120 * u / longest;
            for (int pass = 0; pass < 2; pass++) // outlines, then the arrows
                for (int i = 0; i < 3; i++)
                    if (vecs[i]) {
                        float dx = (float)(ks[i] * vecs[i][0] / rx) * f.w * scale;
                        float dy = -(float)(ks[i] * vecs[i][1] / ry) * f.h * scale;
                        if (isfinite(dx) && isfinite(dy))
                            arrow(s, x, y, dx, dy, u, widths[i] * u, pass ? cols[i] : t->background, !pass);
                    }
        }
    }
    if (legend_w > 0)
        draw_legend(s, p, &f, f.x0 + f.w + 20 * u, top, legend_w - 4 * u, bottom, scale);
}

bool surface_from_arrays(SurfaceParams *p, const RunArrays *a, const char *source, const char *const *only,
                         int nonly, SurfacePath *paths, int max)
{
    char name[RUN_ARRAY_NAME + 16];
    size_t plen = strlen(source);
    const double *data;
    const RunArray *r;
    p->npaths = 0;
    p->paths = paths;
    p->selected = -1;
    p->grid = NULL;
    if (!a)
        return false;
    snprintf(name, sizeof(name), "%s.surface", source);
    if ((r = run_arrays_find(a, name, &data)) && r->ndim == 2) {
        p->grid = data;
        p->rows = r->shape[0];
        p->cols = r->shape[1];
    }
    snprintf(name, sizeof(name), "%s.range", source);
    if (!(r = run_arrays_find(a, name, &data)) || r->shape[0] * r->shape[1] != 4 || !p->grid)
        return false;
    memcpy(p->range, data, sizeof(p->range));
    snprintf(name, sizeof(name), "%s.selected", source);
    int selected = (r = run_arrays_find(a, name, &data)) ? (int)data[0] : -1;
    // Every (n, 2) array of the source is a path; its colour is its place among them.
    int order = 0;
    for (int i = 0; i < a->n; i++) {
        const RunArray *ar = &a->arrays[i];
        if (ar->ndim != 2 || ar->shape[1] != 2 || strncmp(ar->name, source, plen) != 0 ||
            ar->name[plen] != '.')
            continue;
        const char *pname = ar->name + plen + 1;
        bool wanted = nonly == 0;
        for (int k = 0; k < nonly; k++)
            wanted |= strcmp(only[k], pname) == 0;
        if (order == selected && wanted && p->npaths < max)
            p->selected = p->npaths;
        if (wanted && p->npaths < max) {
            SurfacePath *pa = &paths[p->npaths++];
            *pa = (SurfacePath){.name = pname, .xy = a->pool + ar->offset, .n = ar->shape[0], .color = order};
            snprintf(name, sizeof(name), "%s.loss.%s", source, pname);
            if ((r = run_arrays_find(a, name, &data)) && r->shape[0] * r->shape[1] == pa->n)
                pa->loss = data;
            snprintf(name, sizeof(name), "%s.status.%s", source, pname);
            if ((r = run_arrays_find(a, name, &data)))
                pa->status = (int)data[0];
        }
        order++;
    }
    static const char *const terms[4] = {"point", "grad", "velocity", "step"};
    const double **slots[4] = {&p->point, &p->grad, &p->velocity, &p->step};
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof(name), "%s.%s", source, terms[k]);
        r = run_arrays_find(a, name, &data);
        *slots[k] = r && r->shape[0] * r->shape[1] == 2 ? data : NULL;
    }
    snprintf(name, sizeof(name), "%s.lr", source);
    p->lr = (r = run_arrays_find(a, name, &data)) ? data[0] : 0;
    snprintf(name, sizeof(name), "%s.steps", source);
    p->steps = (r = run_arrays_find(a, name, &data)) ? (int)data[0] : -1;
    return true;
}

bool surface_point_at(const SceneItem *map, const double range[4], float mx, float my, double *x, double *y)
{
    if (!map || !(map->w > 0) || !(map->h > 0) || mx < map->x || mx > map->x + map->w || my < map->y ||
        my > map->y + map->h)
        return false;
    *x = range[0] + (double)(mx - map->x) / map->w * (range[1] - range[0]);
    *y = range[3] - (double)(my - map->y) / map->h * (range[3] - range[2]);
    return true;
}
