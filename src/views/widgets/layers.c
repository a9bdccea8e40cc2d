// layers.c: the row of layer boxes; see layers.h.
#include "views/widgets/layers.h"

#include <math.h>
#include <stdio.h>

void layers_build(Scene *s, const LayersParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit, fs = 15 * u, small = 13 * u;
    scene_rect(s, p->x, p->y, p->w, p->h, 8 * u, t->panel);
    float top = p->y + 8 * u, title_h = 0;
    if (p->title) {
        scene_text_fit(s, p->x + 12 * u, top, FONT_BOLD, fs, ALIGN_LEFT, t->text, p->title, p->w - 24 * u);
        title_h = scene_line_height(fs);
    }
    int n = p->n < 0 ? 0 : p->n > LAYERS_MAX ? LAYERS_MAX : p->n;
    int frozen = p->frozen < 0 ? 0 : p->frozen > n ? n : p->frozen;
    if (n == 0)
        return;
    float gap = 26 * u, margin = 12 * u;
    float bw = (p->w - 2 * margin - gap * (float)(n - 1)) / (float)n;
    // A box too short for them keeps the boxes: the space around them goes
    // and the words under them get smaller (never under 9 px).
    float spacing = 6 * u, pad = 10 * u, label = scene_line_height(small) + 4 * u;
    float bh = fminf(p->h - (8 * u + title_h + spacing) - label - pad, 56 * u);
    if (bh < fmaxf(12 * u, 14)) {
        spacing = 2 * u, pad = 2 * u;
        small = fmaxf(fminf(small, 10 * u), 9), label = scene_line_height(small) + 2 * u;
        bh = fminf(p->h - (8 * u + title_h + spacing) - label - pad, 24 * u);
    }
    top += title_h + (p->title ? spacing : 0);
    if (bw < 10 * u || bh < fmaxf(12 * u, 14)) { // too small to draw boxes: say what is frozen in words
        char line[160];
        snprintf(line, sizeof(line), "%d of %d layers frozen (too small at this size to draw them)", frozen, n);
        scene_text_fit(s, p->x + 12 * u, top, FONT_REGULAR, small, ALIGN_LEFT, t->muted, line, p->w - 24 * u);
        return;
    }
    fs = fmaxf(fminf(fs, bh * 0.6f), 9);
    float by = fmaxf(top, top + (p->h - (top - p->y) - label - bh) / 2 - 4 * u);
    for (int i = 0; i < n; i++) {
        float bx = p->x + margin + (bw + gap) * (float)i;
        bool kept = i < frozen;
        Color fill = kept ? color_mix(t->panel, t->muted, 0.35f) : color_mix(t->panel, t->accent, 0.25f);
        Color edge = kept ? t->muted : t->accent;
        char id[96];
        snprintf(id, sizeof(id), "%s:%s", p->id ? p->id : "layers", p->names[i]);
        scene_tag(s, scene_panel(s, bx, by, bw, bh, 6 * u, fill, edge, kept ? 1.5f * u : 2.5f * u), id);
        scene_text_fit(s, bx + bw / 2, by + bh / 2 - scene_line_height(fs) / 2, FONT_BOLD, fs, ALIGN_CENTER,
                       t->text, p->names[i], bw - 8 * u);
        scene_text_fit(s, bx + bw / 2, by + bh + label - scene_line_height(small), FONT_REGULAR, small, ALIGN_CENTER, kept ? t->muted : t->accent,
                       kept ? "frozen" : "trains", bw + gap - 4 * u);
        if (i + 1 < n) { // an arrow to the next layer
            float ax = bx + bw + 4 * u, ay = by + bh / 2, bx2 = bx + bw + gap - 4 * u;
            scene_line(s, ax, ay, bx2 - 5 * u, ay, 2 * u, t->muted);
            scene_triangle(s, bx2, ay, bx2 - 7 * u, ay - 5 * u, bx2 - 7 * u, ay + 5 * u, t->muted);
        }
    }
}
