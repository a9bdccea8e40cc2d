// heatmap.c: cells, NaN markers and a colour bar; see heatmap.h.
#include "views/widgets/heatmap.h"

#include <math.h>
#include <stdio.h>

#include "engine/numfmt.h"
#include "views/widgets/palette.h"

void heatmap_build(Scene *s, const HeatmapParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit;
    char id[96];
    float top = p->y;
    if (p->title) {
        scene_text_fit(s, p->x, top, FONT_BOLD, 16 * u, ALIGN_LEFT, t->text, p->title, p->w); // never into the next panel
        top += scene_line_height(16 * u) + 4 * u;
    }
    float bar_w = 14 * u, label_w = 56 * u;
    float gw = p->w - bar_w - label_w - 12 * u, gh = p->y + p->h - top;
    // Sizes come from models and files: refuse what cannot be drawn instead
    // of overflowing (one pixel per cell; 4096 x 4096 is already more cells
    // than a screen has pixels).
    if (p->rows <= 0 || p->cols <= 0 || p->rows > 4096 || p->cols > 4096 || !(gw > 0) || !(gh > 0))
        return;
    size_t ncells = (size_t)p->rows * (size_t)p->cols;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < ncells; i++) {
        float v = p->data[i];
        if (isfinite(v)) {
            lo = fminf(lo, v);
            hi = fmaxf(hi, v);
        }
    }
    if (!(lo <= hi))
        lo = hi = 0;
    if (p->diverging) {
        float m = fmaxf(fabsf(lo), fabsf(hi));
        lo = -m;
        hi = m;
    }
    // The cells are one image, a pixel per cell, stretched over the grid.
    float cw = gw / (float)p->cols, ch = gh / (float)p->rows;
    snprintf(id, sizeof(id), "%s:cell", p->id ? p->id : "heatmap");
    char nan_id[96];
    snprintf(nan_id, sizeof(nan_id), "%s:nan", p->id ? p->id : "heatmap");
    Color *px = scene_image_pixels(s, scene_tag(s, scene_image(s, p->x, top, gw, gh, p->cols, p->rows), id));
    if (!px)
        return;
    for (size_t i = 0; i < ncells; i++) {
        float v = p->data[i];
        if (!isfinite(v))
            px[i] = t->warn;
        else
            px[i] = p->diverging ? palette_diverging(hi > 0 ? v / hi : 0)
                                 : palette_viridis(hi > lo ? (v - lo) / (hi - lo) : 0.5f);
    }
    // NaN and Inf cells also get a cross, so they stand out at any size.
    for (int r = 0; r < p->rows; r++) {
        for (int c = 0; c < p->cols; c++) {
            if (isfinite(p->data[(size_t)r * (size_t)p->cols + (size_t)c]))
                continue;
            float x = p->x + cw * (float)c, y = top + ch * (float)r;
            scene_tag(s, scene_line(s, x, y, x + cw, y + ch, fmaxf(1, u), t->background), nan_id);
            scene_line(s, x + cw, y, x, y + ch, fmaxf(1, u), t->background);
        }
    }
    // Colour bar: 32 bands from low (bottom) to high (top), with end labels.
    float bx = p->x + gw + 12 * u;
    for (int k = 0; k < 32; k++) {
        float f = (float)k / 31;
        Color col = p->diverging ? palette_diverging(2 * f - 1) : palette_viridis(f);
        scene_rect(s, bx, top + gh * (1 - (float)(k + 1) / 32), bar_w, gh / 32 + 0.5f, 0, col);
    }
    char num[32];
    snprintf(id, sizeof(id), "%s:bar-max", p->id ? p->id : "heatmap");
    scene_tag(s, scene_text(s, bx + bar_w + 4 * u, top - 2 * u, FONT_REGULAR, 13 * u, ALIGN_LEFT, t->muted,
                            numfmt_short(num, sizeof(num), hi, 3)), id);
    if (p->diverging) // the white middle of the bar is zero
        scene_text(s, bx + bar_w + 4 * u, top + gh / 2 - scene_line_height(13 * u) / 2, FONT_REGULAR, 13 * u,
                   ALIGN_LEFT, t->muted, "0");
    snprintf(id, sizeof(id), "%s:bar-min", p->id ? p->id : "heatmap");
    scene_tag(s, scene_text(s, bx + bar_w + 4 * u, top + gh - scene_line_height(13 * u), FONT_REGULAR,
                            13 * u, ALIGN_LEFT, t->muted, numfmt_short(num, sizeof(num), lo, 3)), id);
}
