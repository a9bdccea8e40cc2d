// drive.c: frame strips, one image of a stack, and steering wheels; see drive.h.
#include "views/widgets/drive.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "views/widgets/notice.h"

const char *const drive_kind_names[DRIVE_KIND_COUNT] = {"clean", "shadow", "noise", "dropped"};

static Color gray(double v)
{
    int g = (int)lround(255.0 * (v < 0 ? 0 : v > 1 ? 1 : v));
    return (Color){(uint8_t)g, (uint8_t)g, (uint8_t)g, 255};
}

// The title, if any; returns the y under it.
static float title_line(Scene *s, const Theme *t, float u, float x, float y, float w, const char *title)
{
    if (!title)
        return y;
    scene_text_fit(s, x, y, FONT_BOLD, 15 * u, ALIGN_LEFT, t->muted, title, w);
    return y + scene_line_height(15 * u) + 4 * u;
}

// The word for kind value v in labels ("w0,w1,..."), or "?" when v names none.
static void label_word(const char *labels, double v, char *out, size_t n)
{
    snprintf(out, n, "?");
    if (!(v >= 0 && v < 64) || v != (int)v)
        return;
    const char *w = labels;
    for (int i = 0; i < (int)v && w; i++)
        w = (w = strchr(w, ',')) ? w + 1 : NULL;
    if (w) {
        size_t len = strcspn(w, ",");
        snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1), w);
    }
}

// The columns that make n images of aspect iw/ih largest in a box w x gh,
// each cell with extra height for its lines; returns the image width (0
// when none fits) and the columns in *cols.
static float strip_fit(int n, float aspect, float w, float gh, float gap, float extra, int *cols)
{
    float best_w = 0;
    *cols = 1;
    for (int c = 1; c <= n; c++) {
        int rows = (n + c - 1) / c;
        float cw = (w - gap * (float)(c - 1)) / (float)c;
        float ch = (gh - gap * (float)(rows - 1)) / (float)rows - extra;
        float iw = fminf(cw, ch * aspect);
        if (iw > best_w)
            best_w = iw, *cols = c;
    }
    return best_w;
}

void frame_strip_build(Scene *s, const FrameStripParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit;
    float top = title_line(s, t, u, p->x, p->y, p->w, p->title);
    float gh = p->y + p->h - top;
    if (p->n <= 0 || p->ih <= 0 || p->iw <= 0 || p->n > 1024 || !(p->w > 0))
        return;
    float aspect = (float)p->iw / (float)p->ih;
    // Each image has a line above it (t = k, or its word) and, for the
    // kinds, one under it (what happened). A short box first draws those
    // lines smaller (down to NOTICE_MIN_PX), then closer; where an image
    // would still be under FRAME_MIN_PX, it says so instead of nothing.
    bool under = p->kinds && !p->labels;
    float fs = 0, lh = 0, gap = 0, extra = 0, iw = 0;
    int best_cols = 1;
    const float sizes[] = {12 * u, fmaxf(NOTICE_MIN_PX, fminf(12 * u, 10 * u)), NOTICE_MIN_PX};
    for (int k = 0; k < 3; k++) {
        fs = fmaxf(sizes[k], NOTICE_MIN_PX), lh = scene_line_height(fs), gap = (k < 2 ? 6 : 3) * u;
        extra = lh * (under ? 2 : 1) + (under ? 3 * u : 0);
        iw = gh > 0 ? strip_fit(p->n, aspect, p->w, gh, gap, extra, &best_cols) : 0;
        if (fminf(iw, iw / aspect) >= FRAME_MIN_PX)
            break;
    }
    if (!(fminf(iw, iw / aspect) >= FRAME_MIN_PX)) {
        char nid[96];
        snprintf(nid, sizeof(nid), "%s", p->id ? p->id : "frames");
        notice_too_small(s, t, p->x, top, p->w, fmaxf(gh, 0), 12 * u, nid);
        return;
    }
    float ih = iw / aspect;
    int rows = (p->n + best_cols - 1) / best_cols;
    float used_w = iw * (float)best_cols + gap * (float)(best_cols - 1);
    float x0 = p->x + (p->w - used_w) / 2;
    float cell_h = ih + extra;
    float y0 = top + fmaxf(0, (gh - (cell_h * (float)rows + gap * (float)(rows - 1))) / 2);
    char id[96], sel_id[96], text[48];
    snprintf(id, sizeof(id), "%s:frame", p->id ? p->id : "frames");
    snprintf(sel_id, sizeof(sel_id), "%s:selected", p->id ? p->id : "frames");
    size_t per = (size_t)p->ih * (size_t)p->iw;
    for (int k = 0; k < p->n; k++) {
        float x = x0 + (float)(k % best_cols) * (iw + gap), y = y0 + (float)(k / best_cols) * (cell_h + gap);
        double kv = p->kinds ? p->kinds[k] : 0;   // from a lesson: any number, NaN included
        int kind = kv >= 0 && kv < DRIVE_KIND_COUNT ? (int)kv : 0;
        SceneFont font = k == p->selected ? FONT_BOLD : FONT_REGULAR;
        if (p->labels)
            label_word(p->labels, kv, text, sizeof(text));
        else
            snprintf(text, sizeof(text), "t = %d", k);
        if (!p->labels && scene_text_width(s, font, fs, text) > iw)   // narrow: the number alone
            snprintf(text, sizeof(text), "%d", k);
        scene_text_fit(s, x + iw / 2, y, font, fs, ALIGN_CENTER, k == p->selected ? t->accent : t->muted, text,
                       iw + gap);
        y += lh;
        Color *px = scene_image_pixels(s, scene_tag(s, scene_image(s, x, y, iw, ih, p->iw, p->ih), id));
        for (size_t i = 0; px && i < per; i++)
            px[i] = gray(p->pixels[(size_t)k * per + i]);
        if (k == p->selected)
            scene_tag(s, scene_frame(s, x - 2 * u, y - 2 * u, iw + 4 * u, ih + 4 * u, 2.5f * u, t->accent), sel_id);
        // A degraded frame: a bar under it, and its kind when the word fits.
        if (under && kind > 0 && kind < DRIVE_KIND_COUNT) {
            scene_rect(s, x, y + ih + 1 * u, iw, 2 * u, 0, t->warn);
            const char *word = drive_kind_names[kind];
            float ks = scene_text_width(s, FONT_BOLD, fs, word) <= iw + gap ? fs : fmaxf(0.8f * fs, NOTICE_MIN_PX);
            if (scene_text_width(s, FONT_BOLD, ks, word) <= iw + gap)
                scene_text(s, x + iw / 2, y + ih + 3 * u, FONT_BOLD, ks, ALIGN_CENTER, t->warn, word);
        }
    }
}

void stack_image_build(Scene *s, const StackImageParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit;
    float top = title_line(s, t, u, p->x, p->y, p->w, p->title);
    float gh = p->y + p->h - top;
    if (p->ih <= 0 || p->iw <= 0 || p->ih > 4096 || p->iw > 4096 || !(p->w > 0))
        return;
    gh = fmaxf(gh, 0);
    size_t n = (size_t)p->ih * (size_t)p->iw;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(p->pixels[i]))
            lo = fmin(lo, p->pixels[i]), hi = fmax(hi, p->pixels[i]);
    float cell = fminf(p->w / (float)p->iw, gh / (float)p->ih);
    float w = cell * (float)p->iw, h = cell * (float)p->ih;
    char id[96];
    if (!(fminf(w, h) >= FRAME_MIN_PX)) {
        notice_too_small(s, t, p->x, top, p->w, gh, 12 * u, p->id ? p->id : "stack");
        return;
    }
    snprintf(id, sizeof(id), "%s:image", p->id ? p->id : "stack");
    Color *px = scene_image_pixels(
        s, scene_tag(s, scene_image(s, p->x + (p->w - w) / 2, top, w, h, p->iw, p->ih), id));
    for (size_t i = 0; px && i < n; i++)
        px[i] = !isfinite(p->pixels[i]) ? t->background
                : hi > lo              ? gray((p->pixels[i] - lo) / (hi - lo))
                                       : gray(0);
}

// The point at distance r from (cx, cy) in the direction deg degrees
// clockwise from straight up.
static void polar(float cx, float cy, float r, double deg, float *x, float *y)
{
    double a = deg * 3.14159265358979 / 180.0;
    *x = cx + r * (float)sin(a);
    *y = cy - r * (float)cos(a);
}

void wheel_build(Scene *s, const WheelParams *p)
{
    const Theme *t = p->theme;
    float u = p->unit;
    float top = title_line(s, t, u, p->x, p->y, p->w, p->title);
    if (p->n < 1 || p->n > WHEEL_MAX)
        return;
    float fs = 14 * u, lh = scene_line_height(fs);
    float slot = p->w / (float)p->n, gh = p->y + p->h - top - 2 * lh - 4 * u;
    float r = fminf(slot * 0.5f - 14 * u, gh * 0.5f - 12 * u) / 1.3f;   // room for the truth mark
    bool numbers = r > 12 * u;   // when short, the wheels and their names only
    if (!numbers)
        r = fminf(slot * 0.5f - 6 * u, (gh + lh) * 0.5f - 6 * u) / 1.3f;
    if (!(r > 4 * u)) {
        notice_too_small(s, t, p->x, top, p->w, p->y + p->h - top, 12 * u, p->id ? p->id : "wheel");
        return;
    }
    char id[96], tid[96], text[96];
    snprintf(id, sizeof(id), "%s:wheel", p->id ? p->id : "wheel");
    snprintf(tid, sizeof(tid), "%s:truth", p->id ? p->id : "wheel");
    for (int k = 0; k < p->n; k++) {
        float cx = p->x + slot * ((float)k + 0.5f), cy = top + 0.3f * r + (numbers ? 12 : 4) * u + r;
        double a = p->angle[k];
        bool have = isfinite(a);
        double deg = have ? a * WHEEL_DEGREES_PER_UNIT : 0;
        Color rim = have ? p->color[k] : t->muted;
        // The true angle: a triangle outside the rim, pointing at it.
        if (isfinite(p->truth)) {
            double td = p->truth * WHEEL_DEGREES_PER_UNIT;
            float ax, ay, bx, by, cx2, cy2;
            float tip = r + 0.07f * r + 1 * u, base = tip + fmaxf(10 * u, 0.22f * r);
            polar(cx, cy, tip, td, &ax, &ay);
            polar(cx, cy, base, td - 9, &bx, &by);
            polar(cx, cy, base, td + 9, &cx2, &cy2);
            scene_tag(s, scene_triangle(s, ax, ay, bx, by, cx2, cy2, p->truth_color), tid);
        }
        scene_tag(s, scene_ring(s, cx, cy, r, fmaxf(2, 0.14f * r), rim), id);
        // Three spokes (left, right, down) and the hub, turned with the wheel.
        for (int sp = 0; sp < 3; sp++) {
            float ex, ey;
            polar(cx, cy, r * 0.93f, deg + 90.0 + 90.0 * sp, &ex, &ey);
            scene_line(s, cx, cy, ex, ey, fmaxf(2, 0.08f * r), color_mix(rim, t->panel, 0.35f));
        }
        scene_circle(s, cx, cy, 0.22f * r, color_mix(rim, t->panel, 0.2f));
        // The top of the wheel: a bright notch on the rim.
        float nx0, ny0, nx1, ny1;
        polar(cx, cy, r * 0.78f, deg, &nx0, &ny0);
        polar(cx, cy, r * 1.06f, deg, &nx1, &ny1);
        scene_line(s, nx0, ny0, nx1, ny1, fmaxf(3, 0.1f * r), t->text);
        float ly = cy + r + (numbers ? 10 : 3) * u;
        scene_text_fit(s, cx, ly, FONT_BOLD, fs, ALIGN_CENTER, rim, p->label[k] ? p->label[k] : "", slot - 4 * u);
        if (!numbers)
            continue;
        if (have)
            snprintf(text, sizeof(text), "%+.2f (true %+.2f)", a, p->truth);
        else
            snprintf(text, sizeof(text), "not trained yet");
        scene_text_fit(s, cx, ly + lh, FONT_REGULAR, fs, ALIGN_CENTER, t->muted, text, slot - 4 * u);
    }
}
