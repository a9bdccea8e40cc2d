// chars.c: code points as a grid of text with per-character candidates;
// see chars.h.
#include "views/widgets/chars.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/chartext.h"

// Code point cp as UTF-8 in buf (at least 5 bytes); what is not a
// printable code point becomes U+FFFD.
static void utf8(double v, char *buf)
{
    uint32_t cp = v >= 0 && v <= 0x10FFFF && v == floor(v) ? (uint32_t)v : 0xFFFD;
    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 0xFFFD;
    chartext_utf8(cp, buf);
}

// How a character reads on its own: a glyph, or a visible stand-in for
// space, newline, tab and other controls. Returns true for a stand-in.
static bool shown(double cp, char *buf)
{
    const char *sub = cp == ' ' ? "\u2423" : cp == '\n' ? "\u21b5" : cp == '\t' ? "\u21e5"
                      : (cp < 32 || cp == 127) ? "\u00b7" : NULL;
    if (sub) {
        snprintf(buf, 8, "%s", sub);
        return true;
    }
    utf8(cp, buf);
    return false;
}

// Lay the characters out at font size fs in a box tw wide: the rows they
// take. When cells is given, cell i's column and row go there.
static int layout(const CharsParams *p, int cols, int (*cells)[2])
{
    int col = 0, row = 0;
    for (int i = 0; i < p->n; i++) {
        if (col >= cols)
            col = 0, row++;
        if (cells)
            cells[i][0] = col, cells[i][1] = row;
        col++;
        if (p->cps[i] == '\n')
            col = 0, row++;
    }
    return p->n ? row + 1 : 0;
}

int chars_build(Scene *s, const CharsParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit, x = p->x + 8 * u, y = p->y + 4 * u, w = p->w - 16 * u, h = p->h - 8 * u;
    if (p->title) {
        scene_text_fit(s, x, y, FONT_BOLD, 15 * u, ALIGN_LEFT, t->muted, p->title, w);
        y += 26 * u, h -= 26 * u;
    }
    if (p->n <= 0 || w <= 0 || h <= 0) {
        scene_text(s, p->x + p->w / 2, p->y + p->h / 2, FONT_REGULAR, 16 * u, ALIGN_CENTER, t->muted,
                   "nothing computed yet");
        return -1;
    }
    // The candidates go to the right when the panel is wide, else below.
    bool cand = p->top && p->prob && p->k > 0;
    bool side = w >= 400 * u;
    float cw = cand ? (side ? fmaxf(170 * u, fminf(300 * u, 0.42f * w)) : w) : 0;
    float rowh = 26 * u, ch = cand ? (side ? h : (float)(p->k + 2) * rowh + 8 * u) : 0;
    float tw = cand && side ? w - cw - 20 * u : w, th = cand && !side ? h - ch - 8 * u : h;
    // The largest font, from 20 units down to 8 px in whole pixels (each
    // size the renderer opens keeps a glyph cache), at which the text fits.
    float fs = fmaxf(floorf(20 * u), 8), cellw = 0, lh = 0;
    int cols = 1;
    for (;;) {
        cellw = scene_text_width(s, FONT_MONO, fs, "M");
        lh = scene_line_height(fs) * 1.15f;
        cols = cellw > 0 ? (int)(tw / cellw) : 1;
        cols = cols < 1 ? 1 : cols;
        if ((float)layout(p, cols, NULL) * lh <= th || fs <= 8)
            break;
        fs = fmaxf(fs - fmaxf(1, floorf(fs * 0.08f)), 8);
    }
    int (*cells)[2] = malloc((size_t)p->n * sizeof(*cells));
    if (!cells)
        return -1;
    layout(p, cols, cells);
    int sel = p->pick < p->n ? p->pick : p->n - 1;
    if (p->mouse)
        for (int i = 0; i < p->n; i++) {
            float cx = x + cellw * (float)cells[i][0], cy = y + lh * (float)cells[i][1];
            if (p->mouse_x >= cx && p->mouse_x < cx + cellw && p->mouse_y >= cy && p->mouse_y < cy + lh)
                sel = i;
        }
    char buf[8], id[96];
    for (int i = 0; i < p->n; i++) {
        float cx = x + cellw * (float)cells[i][0], cy = y + lh * (float)cells[i][1];
        if (cy + lh > y + th + 1)
            break; // at 8 px it still does not fit: cut at the box
        snprintf(id, sizeof(id), "%s:char:%d", p->id ? p->id : "chars", i);
        Color bg = i == sel && cand ? color_alpha(t->accent, 110) : color_alpha(t->background, 0);
        scene_tag(s, scene_rect(s, cx, cy, cellw, lh, 2 * u, bg), id);
        bool stand_in = p->cps[i] == '\n' || (p->cps[i] < 32 && p->cps[i] != ' ');
        if (p->cps[i] == ' ')
            continue;
        shown(p->cps[i], buf);
        scene_text(s, cx, cy + (lh - scene_line_height(fs)) / 2, FONT_MONO, fs, ALIGN_LEFT,
                   stand_in ? t->muted : t->text, buf);
    }
    if (cand && sel >= 0) {
        float bx = cand && side ? x + w - cw : x, by = cand && side ? y : y + h - ch;
        scene_panel(s, bx, by, cw, ch, 6 * u, t->panel, t->panel_edge, 1 * u);
        // Everything in the box shrinks alike (to half size at most) when
        // the box is too short for its rows; rows that still do not fit go.
        float need = rowh * (1.85f + (float)p->k) + 16 * u;
        float f = need > ch ? fmaxf(floorf(ch / need * 10) / 10, 0.5f) : 1; // in tenths: few font sizes
        u *= f, rowh *= f;
        bx += 10 * u, by += 8 * u;
        float bw = cw - 20 * u;
        char head[160], pct[32];
        shown(p->cps[sel], buf);
        snprintf(head, sizeof(head), "character %d: %s", sel + 1, buf);
        scene_text_fit(s, bx, by, FONT_BOLD, 15 * u, ALIGN_LEFT, t->text, head, bw);
        by += rowh;
        // What came before it: up to 10 characters, newlines as stand-ins.
        char ctx[96] = "", one[8];
        for (int i = sel - 10 < 0 ? 0 : sel - 10; i < sel; i++) {
            shown(p->cps[i], one);
            if (p->cps[i] == ' ')
                snprintf(one, sizeof(one), " ");
            strncat(ctx, one, sizeof(ctx) - strlen(ctx) - 1);
        }
        char after[160];
        snprintf(after, sizeof(after), sel > 0 ? "after \u201c%s\u201d, the top candidates:" : "%sthe top candidates:",
                 ctx);
        scene_text_fit(s, bx, by, FONT_REGULAR, 13 * u, ALIGN_LEFT, t->muted, after, bw);
        by += rowh * 0.85f;
        float labw = 34 * u, pctw = scene_text_width(s, FONT_MONO, 14 * u, "100.0%") + 8 * u;
        float barw = bw - labw - pctw;
        float rh = side ? fmaxf(rowh, fminf(rowh * 1.2f, (p->y + p->h - by - 8 * u) / (float)p->k)) : rowh;
        for (int j = 0; j < p->k; j++) {
            double cp = p->top[(size_t)sel * p->k + j], pr = p->prob[(size_t)sel * p->k + j];
            float ry = by + rh * (float)j;
            if (ry + rh > p->y + p->h + 1)
                break;
            bool drawn = cp == p->cps[sel];
            bool stand_in = shown(cp, buf);
            scene_text(s, bx, ry, FONT_MONO, 16 * u, ALIGN_LEFT, stand_in ? t->muted : t->text, buf);
            float fill = barw * (float)fmax(0, fmin(1, pr));
            scene_rect(s, bx + labw, ry + rh * 0.15f, barw, rh * 0.6f, 2 * u, color_alpha(t->muted, 40));
            scene_rect(s, bx + labw, ry + rh * 0.15f, fill, rh * 0.6f, 2 * u,
                       drawn ? t->accent : t->series[1]);
            snprintf(pct, sizeof(pct), "%.1f%%", 100 * pr);
            snprintf(id, sizeof(id), "%s:cand:%d", p->id ? p->id : "chars", j);
            scene_tag(s, scene_text(s, bx + bw, ry, FONT_MONO, 14 * u, ALIGN_RIGHT, drawn ? t->accent : t->text,
                                    pct), id);
        }
    }
    free(cells);
    return sel;
}
