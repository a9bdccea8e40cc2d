// controls.c: bar charts, sliders, toggles, buttons, scrubbable numbers and
// tooltips as scene items; see controls.h.
#include "views/widgets/controls.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/numfmt.h"
#include "views/textflow.h"

static const char *sub_id(char *buf, size_t n, const char *id, const char *what, int k)
{
    if (k >= 0)
        snprintf(buf, n, "%s:%s:%d", id, what, k);
    else
        snprintf(buf, n, "%s:%s", id, what);
    return buf;
}

void barchart_build(Scene *s, const BarChartParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit, fs = 13 * u;
    char id[96], num[32];
    const char *base = p->id ? p->id : "bars";
    if (p->n <= 0)
        return;
    double lo = 0, hi = 0;
    for (int i = 0; i < p->n; i++)
        if (isfinite(p->values[i])) {
            lo = fmin(lo, p->values[i]);
            hi = fmax(hi, p->values[i]);
        }
    if (hi == lo)
        hi = lo + 1;
    // Room above for values, and below for the labels and for the values
    // written under negative bars.
    float top = p->y + scene_line_height(fs);
    float bottom = p->y + p->h - scene_line_height(fs) * (lo < 0 ? 2.3f : 1.2f);
    float zero = bottom - (float)((0 - lo) / (hi - lo)) * (bottom - top);
    float slot = p->w / (float)p->n, bw = slot * 0.7f;
    scene_line(s, p->x, zero, p->x + p->w, zero, fmaxf(1, u), t->muted);
    // Many narrow bars: labels a little smaller (down to 3/4) when the
    // widest would not fit its slot; then a label, and a value, only where
    // it clears the one written before it, so no two texts overlap.
    // Values above the bars and values under negative ones are two rows.
    float lw = 0, gap = 4 * u, value_right[2] = {-INFINITY, -INFINITY}, label_right = -INFINITY;
    for (int i = 0; p->labels && i < p->n; i++)
        lw = fmaxf(lw, scene_text_width(s, FONT_REGULAR, fs, p->labels[i]));
    float ls = lw + gap > slot ? fmaxf(0.75f * fs, fs * slot / (lw + gap)) : fs;
    for (int i = 0; i < p->n; i++) {
        double v = p->values[i];
        float cx = p->x + slot * ((float)i + 0.5f);
        float ty; // where the value is written: above a bar, below a negative one
        if (!isfinite(v)) {
            float r = 6 * u;
            scene_tag(s, scene_line(s, cx - r, zero - r, cx + r, zero + r, 2 * u, t->warn),
                      sub_id(id, sizeof(id), base, "nan", -1));
            scene_line(s, cx + r, zero - r, cx - r, zero + r, 2 * u, t->warn);
            ty = zero - r - scene_line_height(fs);
        } else {
            float yv = bottom - (float)((v - lo) / (hi - lo)) * (bottom - top);
            float y0 = fminf(yv, zero), hgt = fabsf(zero - yv);
            scene_tag(s, scene_rect(s, cx - bw / 2, y0, bw, fmaxf(hgt, 1), 2 * u, t->series[i % 8]),
                      sub_id(id, sizeof(id), base, "bar", i));
            ty = v < 0 ? yv + 2 * u : yv - scene_line_height(fs);
        }
        numfmt_short(num, sizeof(num), v, 3);
        float vw = scene_text_width(s, FONT_REGULAR, fs, num);
        float tx = fminf(fmaxf(cx, p->x + vw / 2), p->x + p->w - vw / 2); // inside the chart
        int row = v < 0;
        if (tx - vw / 2 >= value_right[row] + gap) {
            scene_tag(s, scene_text(s, tx, ty, FONT_REGULAR, fs, ALIGN_CENTER, isfinite(v) ? t->text : t->warn, num),
                      sub_id(id, sizeof(id), base, "value", i));
            value_right[row] = tx + vw / 2;
        }
        float w = p->labels ? scene_text_width(s, FONT_REGULAR, ls, p->labels[i]) : 0;
        float lx = fminf(fmaxf(cx, p->x + w / 2), p->x + p->w - w / 2); // inside the chart
        if (p->labels && lx - w / 2 >= label_right + gap) {
            scene_tag(s, scene_text(s, lx, p->y + p->h - scene_line_height(fs), FONT_REGULAR, ls, ALIGN_CENTER,
                                    t->muted, p->labels[i]), sub_id(id, sizeof(id), base, "label", i));
            label_right = lx + w / 2;
        }
    }
}

static double slider_frac(const SliderParams *p, double v)
{
    if (p->log_scale && p->lo > 0 && p->hi > p->lo && v > 0)
        return (log(v) - log(p->lo)) / (log(p->hi) - log(p->lo));
    return p->hi > p->lo ? (v - p->lo) / (p->hi - p->lo) : 0;
}

double slider_value_at(const SliderParams *p, float mouse_x)
{
    double f = (mouse_x - p->x) / p->w;
    if (f <= 0)
        return p->lo;
    if (f >= 1)
        return p->hi;
    if (p->log_scale && p->lo > 0 && p->hi > p->lo)
        return exp(log(p->lo) + f * (log(p->hi) - log(p->lo)));
    return p->lo + f * (p->hi - p->lo);
}

void slider_build(Scene *s, const SliderParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit, fs = 14 * u;
    char id[96], num[32], text[160];
    const char *base = p->id ? p->id : "slider";
    float ty = p->y + (p->label ? scene_line_height(fs) + 6 * u : 0) + 8 * u;
    if (p->label) {
        snprintf(text, sizeof(text), "%s", p->label);
        scene_text(s, p->x, p->y, FONT_REGULAR, fs, ALIGN_LEFT, t->text, text);
        scene_text(s, p->x + p->w, p->y, FONT_MONO, fs, ALIGN_RIGHT, t->accent,
                   numfmt_short(num, sizeof(num), p->value, 4));
    }
    double f = slider_frac(p, p->value);
    f = isfinite(f) ? (f < 0 ? 0 : f > 1 ? 1 : f) : 0;
    // The hit box covers the track and some room around it.
    scene_tag(s, scene_rect(s, p->x, ty - 10 * u, p->w, 20 * u, 0, color_alpha(t->background, 0)), base);
    scene_rect(s, p->x, ty - 3 * u, p->w, 6 * u, 3 * u, t->panel_edge);
    scene_rect(s, p->x, ty - 3 * u, p->w * (float)f, 6 * u, 3 * u, t->accent);
    scene_tag(s, scene_circle(s, p->x + p->w * (float)f, ty, 9 * u, t->text), sub_id(id, sizeof(id), base, "knob", -1));
}

void toggle_build(Scene *s, float x, float y, float unit, const Theme *t, const char *label, bool on,
                  const char *id)
{
    float u = unit, fs = 15 * u, w = 40 * u, h = 22 * u;
    float lw = scene_text_width(s, FONT_REGULAR, fs, label);
    scene_tag(s, scene_rect(s, x, y, w + 10 * u + lw, h, 0, color_alpha(t->background, 0)), id);
    scene_rect(s, x, y, w, h, h / 2, on ? t->accent : t->panel_edge);
    scene_circle(s, on ? x + w - h / 2 : x + h / 2, y + h / 2, h / 2 - 3 * u, on ? t->background : t->muted);
    scene_text(s, x + w + 10 * u, y + (h - scene_line_height(fs)) / 2, FONT_REGULAR, fs, ALIGN_LEFT, t->text,
               label);
}

void button_build(Scene *s, float x, float y, float unit, const Theme *t, const char *label, bool pressed,
                  const char *id)
{
    float u = unit, fs = 15 * u;
    float w = scene_text_width(s, FONT_BOLD, fs, label) + 28 * u, h = scene_line_height(fs) + 14 * u;
    float dy = pressed ? 2 * u : 0;
    scene_tag(s, scene_panel(s, x, y + dy, w, h, 6 * u, pressed ? t->panel_edge : t->gate, t->accent,
                             fmaxf(1, u)), id);
    scene_text(s, x + w / 2, y + dy + 7 * u, FONT_BOLD, fs, ALIGN_CENTER, t->text, label);
}

void scrub_build(Scene *s, float x, float y, float unit, const Theme *t, const char *label, double value,
                 bool active, const char *id)
{
    float u = unit, fs = 17 * u;
    char text[96], num[32];
    snprintf(text, sizeof(text), "%s = ", label);
    float lw = scene_text_width(s, FONT_REGULAR, fs, text);
    scene_text(s, x, y, FONT_REGULAR, fs, ALIGN_LEFT, t->text, text);
    numfmt_short(num, sizeof(num), value, 4);
    SceneRef ref = scene_tag(s, scene_text(s, x + lw, y, FONT_BOLD, fs, ALIGN_LEFT,
                                           isfinite(value) ? t->value : t->warn, num), id);
    if (!scene_ok(ref))
        return;
    float nw = scene_item(s, ref).w, uy = y + scene_line_height(fs) - 1 * u;
    if (!(u > 0.05f) || !(nw < 4096))
        return;
    for (float dx = 0; dx < nw; dx += 5 * u) // dotted underline: "drag me"
        scene_rect(s, x + lw + dx, uy, fminf(2.5f * u, nw - dx), fmaxf(1, 1.5f * u), 0,
                   active ? t->accent : t->muted);
}

double scrub_value(double start, float dx, float unit, double step, bool fine)
{
    double st = fine ? step / 10 : step;
    double v = start + (double)dx / (4.0 * (unit > 0 ? unit : 1)) * st;
    return round(v / st) * st;
}

void tooltip_build(Scene *s, float x, float y, float unit, const Theme *t, const char *markup)
{
    float u = unit, pad = 8 * u, w = 320 * u;
    TextStyle ts = {.size = 14 * u, .text = t->text, .code = t->accent, .id = "tooltip"};
    // Lay out once to learn the height, then place the box and lay out again
    // on top of it (the first pass is dropped by truncating the item list).
    size_t mark = s->n;
    float h = textflow(s, 0, 0, w - 2 * pad, 400 * u, &ts, markup) + 2 * pad;
    s->n = mark;
    float bx = x + 14 * u, by = y + 14 * u;
    if (bx + w > s->width)
        bx = x - 14 * u - w;
    if (by + h > s->height)
        by = y - 14 * u - h;
    bx = fmaxf(bx, 0);
    by = fmaxf(by, 0);
    scene_tag(s, scene_panel(s, bx, by, w, h, 6 * u, t->panel, t->accent, fmaxf(1, 1.5f * u)), "tooltip");
    textflow(s, bx + pad, by + pad, w - 2 * pad, h, &ts, markup);
}
