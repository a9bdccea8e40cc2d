// boundary_view.c: the playground's decision-boundary map with its points,
// and the hidden neurons' small maps; see boundary_view.h.
#include "views/boundary_view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views/widgets/palette.h"

// The two classes' colours (Okabe-Ito blue and orange, told apart by the
// common forms of colour blindness).
static Color class_color(int c)
{
    return c ? color_rgb(0xE69F00) : color_rgb(0x0072B2);
}

// Where the small maps go: cols per row, each side `size`, a label row per layer.
typedef struct Thumbs {
    int cols, rows_per_layer;
    float size, label_h, gap;
} Thumbs;

// The largest thumbnails that fit n = layers * units of them into aw x ah.
static Thumbs thumbs_fit(int layers, int units, float aw, float ah, float u)
{
    Thumbs best = {1, units, 0, 21 * u, 4 * u};
    for (int cols = 1; cols <= units; cols++) {
        int rows = (units + cols - 1) / cols;
        float sw = (aw - best.gap * (float)(cols - 1)) / (float)cols;
        float sh =
            (ah - best.label_h * (float)layers - best.gap * (float)(rows * layers)) / (float)(rows * layers);
        float size = fminf(sw, sh);
        if (size > best.size)
            best.cols = cols, best.rows_per_layer = rows, best.size = size;
    }
    best.size = fminf(best.size, 120 * u);
    return best;
}

// The grid (grid x grid, row 0 at the top) at fractions fx, fy of its box,
// interpolated between the cell centres (bilinear), so the map is smooth.
static double sample(const double *v, int grid, float fx, float fy)
{
    float gx = fx * (float)grid - 0.5f, gy = fy * (float)grid - 0.5f;
    gx = fminf(fmaxf(gx, 0), (float)grid - 1), gy = fminf(fmaxf(gy, 0), (float)grid - 1);
    int x0 = (int)gx, y0 = (int)gy, x1 = x0 + 1 < grid ? x0 + 1 : x0, y1 = y0 + 1 < grid ? y0 + 1 : y0;
    double ax = gx - (float)x0, ay = gy - (float)y0;
    double top = v[y0 * grid + x0] * (1 - ax) + v[y0 * grid + x1] * ax;
    double bot = v[y1 * grid + x0] * (1 - ax) + v[y1 * grid + x1] * ax;
    return top * (1 - ay) + bot * ay;
}

#define LUT 256 // colours per palette: a pixel's colour is a table lookup

// The colours of one palette at LUT steps: by class probability (q in
// [0, 1]) or, signed, by a diverging palette over [-m, m]; warn for NaN.
typedef struct Palette {
    Color c[LUT];
    Color warn;
    bool probability;
    double m;
} Palette;

static void palette_make(Palette *pal, const Theme *t, bool probability, double m)
{
    pal->warn = t->warn;
    pal->probability = probability;
    pal->m = m;
    for (int i = 0; i < LUT; i++) {
        double f = (i + 0.5) / LUT; // [0, 1]
        if (probability)            // the class it leans to, stronger the surer it is
            pal->c[i] =
                color_mix(t->background, class_color(f > 0.5), (float)(0.10 + 0.45 * fabs(2 * f - 1)));
        else
            pal->c[i] = color_mix(t->background, palette_diverging((float)(2 * f - 1)), 0.85f);
    }
}

static Color palette_at(const Palette *pal, double q)
{
    if (!isfinite(q))
        return pal->warn;
    double f = pal->probability ? q : pal->m > 0 ? (q / pal->m + 1) / 2 : 0.5;
    int i = (int)(f * LUT);
    return pal->c[i < 0 ? 0 : i >= LUT ? LUT - 1 : i];
}

// Fill the pixels [px0, px0 + pw) x [py0, py0 + ph) of an image `stride`
// pixels wide with the grid v, smoothly.
static void paint(Color *px, int stride, int px0, int py0, int pw, int ph, const Palette *pal,
                  const double *v, int grid)
{
    for (int y = 0; y < ph; y++)
        for (int x = 0; x < pw; x++)
            px[(size_t)(py0 + y) * stride + px0 + x] = palette_at(
                pal, sample(v, grid, ((float)x + 0.5f) / (float)pw, ((float)y + 0.5f) / (float)ph));
}

// One map over a square box side wide, as an image of at most 256 pixels a side.
static void draw_map(Scene *s, float x, float y, float side, const double *v, int grid, const Palette *pal,
                     const char *id)
{
    int n = (int)fminf(ceilf(side), 256);
    SceneRef ref = scene_image(s, x, y, side, side, n, n);
    if (id)
        scene_tag(s, ref, id);
    Color *px = scene_image_pixels(s, ref);
    if (px)
        paint(px, n, 0, 0, n, n, pal, v, grid);
}

int boundary_neuron_at(const Scene *s, const char *id, float x, float y)
{
    char prefix[96];
    snprintf(prefix, sizeof(prefix), "%s:neuron:", id);
    const SceneItem *it = scene_hit(s, x, y, prefix);
    return it ? atoi(it->id + strlen(prefix)) : 0;
}

void boundary_build(Scene *s, const BoundaryParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit, gap = 16 * u;
    char id[128];
    float title_h = scene_line_height(16 * u) + 4 * u,
          cap_h = p->caption ? scene_line_height(14 * u) + 2 * u : 0;
    float top = p->y + title_h + cap_h;
    int K = p->neurons ? p->layers * p->units : 0;
    if (p->layers < 1 || p->units < 1 || K > BOUNDARY_MAX_NEURONS || p->layers > BOUNDARY_MAX_LAYERS ||
        p->ngrid < 1 || p->ngrid > 1024)
        K = 0;
    // The map is square; the thumbnails take what is left of the width (at least a third when there are any).
    float side = fminf(p->h - (top - p->y) - 4 * u, K ? p->w * 0.62f : p->w);
    if (p->grid < 1 || p->grid > 1024 || !(side > 20 * u))
        return;
    float tx = p->x + side + gap, tw = p->w - side - gap;
    Thumbs th = K ? thumbs_fit(p->layers, p->units, tw, p->y + p->h - top, u) : (Thumbs){0};
    // The neuron drawn large: the one under the mouse, else the focus.
    int focus = p->focus >= 0 && p->focus <= K ? p->focus : 0;
    float thumb_x[BOUNDARY_MAX_NEURONS], thumb_y[BOUNDARY_MAX_NEURONS];
    for (int k = 0; k < K; k++) {
        int l = k / p->units, j = k % p->units, row = j / th.cols, col = j % th.cols;
        thumb_x[k] = tx + (th.size + th.gap) * (float)col;
        thumb_y[k] =
            top + (float)(l + 1) * th.label_h + (th.size + th.gap) * (float)(l * th.rows_per_layer + row);
        if (p->hover && p->mouse_x >= thumb_x[k] && p->mouse_x < thumb_x[k] + th.size &&
            p->mouse_y >= thumb_y[k] && p->mouse_y < thumb_y[k] + th.size)
            focus = k + 1;
    }
    // Title and caption.
    if (focus) {
        snprintf(id, sizeof(id), "layer %d, neuron %d over the plane (blue < 0 < red)",
                 (focus - 1) / p->units + 1, (focus - 1) % p->units + 1);
        scene_text_fit(s, p->x, p->y, FONT_BOLD, 16 * u, ALIGN_LEFT, t->accent, id, p->w);
    } else {
        scene_text_fit(s, p->x, p->y, FONT_BOLD, 16 * u, ALIGN_LEFT, t->text,
                       p->title ? p->title : "the network's p(orange) over the plane", p->w);
    }
    if (p->caption)
        scene_text_fit(s, p->x, p->y + title_h, FONT_REGULAR, 14 * u, ALIGN_LEFT, t->muted, p->caption, p->w);
    // The map: the boundary, or the focused neuron stretched over it.
    snprintf(id, sizeof(id), "%s:map", p->id);
    int ng = p->ngrid;
    const double *nv = focus ? p->neurons + (size_t)(focus - 1) * (size_t)ng * (size_t)ng : NULL;
    double layer_max[BOUNDARY_MAX_LAYERS] = {0};
    for (int k = 0; k < K; k++)
        for (int i = 0; i < ng * ng; i++) {
            double v = fabs(p->neurons[(size_t)k * ng * ng + i]);
            if (isfinite(v) && v > layer_max[k / p->units])
                layer_max[k / p->units] = v;
        }
    Palette pal, layer_pal[BOUNDARY_MAX_LAYERS];
    for (int l = 0; K && l < p->layers && l < BOUNDARY_MAX_LAYERS; l++)
        palette_make(&layer_pal[l], t, false, layer_max[l]);
    if (nv) {
        draw_map(s, p->x, top, side, nv, ng, &layer_pal[(focus - 1) / p->units], id);
    } else {
        palette_make(&pal, t, true, 1);
        draw_map(s, p->x, top, side, p->boundary, p->grid, &pal, id);
    }
    scene_frame(s, p->x, top, side, side, fmaxf(1, u), t->panel_edge);
    // The points, coloured by class with a ring in the background colour so they show on either side.
    double xlo = p->range[0], xhi = p->range[1], ylo = p->range[2], yhi = p->range[3];
    float r = fmaxf(2.5f, fminf(5 * u, side / 90));
    for (int i = 0; p->points && i < p->npoints; i++) {
        double px = p->points[3 * i], py = p->points[3 * i + 1];
        if (!isfinite(px) || !isfinite(py) || px < xlo || px > xhi || py < ylo || py > yhi)
            continue;
        float cx = p->x + (float)((px - xlo) / (xhi - xlo)) * side,
              cy = top + (float)((yhi - py) / (yhi - ylo)) * side;
        scene_circle(s, cx, cy, r + fmaxf(1, 0.8f * u), t->background);
        snprintf(id, sizeof(id), "%s:point:%d", p->id, i);
        scene_tag(s, scene_circle(s, cx, cy, r, class_color(p->points[3 * i + 2] > 0.5)), id);
    }
    if (p->chosen >= 0 && p->chosen < p->npoints && p->points) {
        const double *q = p->points + 3 * p->chosen;
        float cx = p->x + (float)((q[0] - xlo) / (xhi - xlo)) * side,
              cy = top + (float)((yhi - q[1]) / (yhi - ylo)) * side;
        snprintf(id, sizeof(id), "%s:chosen", p->id);
        scene_tag(s, scene_ring(s, cx, cy, r + 5 * u, 2.5f * u, t->text), id);
    }
    // All the small maps are one image (a frame draws only so many images),
    // at about a pixel per grid cell (f image pixels per screen pixel); each
    // map's box is an invisible rect for hovering.
    float ax = tx, ay = top, aw = tw, ah = K ? thumb_y[K - 1] + th.size - top : 0;
    float f = th.size > 0 ? fminf(1, (float)ng / th.size) : 1;
    int apw = (int)ceilf(aw * f), aph = (int)ceilf(ah * f);
    Color *atlas = NULL;
    if (K && th.size >= 2 && apw > 0 && aph > 0 && (size_t)apw * aph <= (size_t)2048 * 2048) {
        atlas = scene_image_pixels(s, scene_image(s, ax, ay, (float)apw / f, (float)aph / f, apw, aph));
        for (size_t i = 0; atlas && i < (size_t)apw * aph; i++)
            atlas[i] = t->background;
    }
    for (int k = 0; k < K; k++) {
        int x0 = (int)((thumb_x[k] - ax) * f), y0 = (int)((thumb_y[k] - ay) * f), n = (int)(th.size * f);
        if (atlas && x0 >= 0 && y0 >= 0 && x0 + n <= apw && y0 + n <= aph)
            paint(atlas, apw, x0, y0, n, n, &layer_pal[k / p->units], p->neurons + (size_t)k * ng * ng, ng);
        snprintf(id, sizeof(id), "%s:neuron:%d", p->id, k + 1);
        scene_tag(
            s, scene_rect(s, thumb_x[k], thumb_y[k], th.size, th.size, 0, color_alpha(t->background, 0)), id);
        scene_frame(s, thumb_x[k], thumb_y[k], th.size, th.size,
                    k + 1 == focus ? 2.5f * u : fmaxf(1, 0.6f * u),
                    k + 1 == focus ? t->accent : t->panel_edge);
    }
    // The hidden neurons, a block of small maps per layer.
    for (int l = 0; K && l < p->layers; l++) {
        float ly = top + (float)l * th.label_h + (th.size + th.gap) * (float)(l * th.rows_per_layer);
        snprintf(id, sizeof(id), "hidden layer %d", l + 1);
        scene_text_fit(s, tx, ly + 1 * u, FONT_REGULAR, 13 * u, ALIGN_LEFT, t->muted, id, tw);
    }
    if (K && th.size < 8 * u)
        scene_text_fit(s, tx, top, FONT_REGULAR, 13 * u, ALIGN_LEFT, t->muted,
                       "(too many neurons to draw here)", tw);
}
