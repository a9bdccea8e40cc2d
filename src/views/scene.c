// scene.c: the draw list; see scene.h.
#include "views/scene.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Estimated advance per code point, as a fraction of the pixel size; close
// to DejaVu Sans so headless layouts match the real ones to a few percent.
static float estimate_width(void *ctx, SceneFont font, float size, const char *text)
{
    (void)ctx;
    float per = font == FONT_MONO ? 0.602f : font == FONT_BOLD ? 0.64f : 0.58f;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return per * size * (float)n;
}

Scene *scene_create(void)
{
    Scene *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    arena_init(&s->arena, 64 * 1024, SCENE_ARENA_LIMIT);
    s->measure = estimate_width;
    return s;
}

void scene_destroy(Scene *s)
{
    if (!s)
        return;
    arena_destroy(&s->arena);
    free(s->items);
    free(s);
}

void scene_begin(Scene *s, float w, float h, Color background)
{
    s->n = 0;
    arena_reset(&s->arena);
    s->width = w;
    s->height = h;
    s->background = background;
    s->failed = false;
}

void scene_set_measure(Scene *s, SceneMeasure measure, void *ctx)
{
    s->measure = measure ? measure : estimate_width;
    s->measure_ctx = measure ? ctx : NULL;
}

float scene_text_width(const Scene *s, SceneFont font, float size, const char *text)
{
    return s->measure(s->measure_ctx, font, size, text);
}

float scene_line_height(float size)
{
    return size * 1.25f;
}

// How the item array grows. Built with GRADLAB_MOVE_ON_GROW (the fuzzers
// and the sanitizer suite), the first 256 appends each move the array, so
// a pointer to an item held across an append is freed memory at once and
// ASan reports it, instead of only when an append happens to hit a doubling.
#ifdef GRADLAB_MOVE_ON_GROW
#define SCENE_GROW(cap) ((cap) < 256 ? (cap) + 1 : (cap) * 2)
#else
#define SCENE_GROW(cap) ((cap) ? (cap) * 2 : 256)
#endif

// Append a zeroed item of kind and colour; its index, or -1 when the item
// cap is reached or memory runs out (the frame is then marked failed).
static int32_t push(Scene *s, SceneKind kind, Color c)
{
    if (s->n >= SCENE_MAX_ITEMS) {
        s->failed = true;
        return -1;
    }
    if (s->n == s->cap) {
        size_t cap = SCENE_GROW(s->cap);
        SceneItem *items = realloc(s->items, cap * sizeof(*items));
        if (!items) {
            s->failed = true;
            return -1;
        }
        s->items = items;
        s->cap = cap;
    }
    SceneItem *it = &s->items[s->n];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->color = c;
    return (int32_t)s->n++;
}

bool scene_ok(SceneRef ref)
{
    return ref.index >= 0;
}

// The item ref names, for the appenders below to fill before they return;
// NULL when ref is not ok.
static SceneItem *at(Scene *s, SceneRef ref)
{
    return ref.index >= 0 && (size_t)ref.index < s->n ? &s->items[ref.index] : NULL;
}

#define APPEND(kind, c) SceneRef ref = {push(s, kind, c)}; SceneItem *it = at(s, ref)

SceneRef scene_rect(Scene *s, float x, float y, float w, float h, float radius, Color c)
{
    APPEND(SCENE_RECT, c);
    if (it) {
        it->x = x, it->y = y, it->w = w, it->h = h;
        it->radius = radius;
    }
    return ref;
}

SceneRef scene_panel(Scene *s, float x, float y, float w, float h, float radius, Color fill, Color border,
                     float width)
{
    scene_rect(s, x, y, w, h, radius, border);
    float r = radius > width ? radius - width : 0;
    return scene_rect(s, x + width, y + width, w - 2 * width, h - 2 * width, r, fill);
}

SceneRef scene_frame(Scene *s, float x, float y, float w, float h, float width, Color c)
{
    APPEND(SCENE_FRAME, c);
    if (it) {
        it->x = x, it->y = y, it->w = w, it->h = h;
        it->width = width;
    }
    return ref;
}

SceneRef scene_line(Scene *s, float x1, float y1, float x2, float y2, float width, Color c)
{
    APPEND(SCENE_LINE, c);
    if (it) {
        it->x = x1, it->y = y1, it->x2 = x2, it->y2 = y2;
        it->width = width;
        // The bounding box, for hit-testing.
        it->w = x2 - x1;
        it->h = y2 - y1;
    }
    return ref;
}

SceneRef scene_circle(Scene *s, float x, float y, float radius, Color c)
{
    APPEND(SCENE_CIRCLE, c);
    if (it) {
        it->x = x, it->y = y;
        it->radius = radius;
    }
    return ref;
}

SceneRef scene_ring(Scene *s, float x, float y, float radius, float width, Color c)
{
    APPEND(SCENE_RING, c);
    if (it) {
        it->x = x, it->y = y;
        it->radius = radius;
        it->width = width;
    }
    return ref;
}

SceneRef scene_triangle(Scene *s, float x1, float y1, float x2, float y2, float x3, float y3, Color c)
{
    APPEND(SCENE_TRIANGLE, c);
    if (it) {
        it->x = x1, it->y = y1, it->x2 = x2, it->y2 = y2, it->x3 = x3, it->y3 = y3;
    }
    return ref;
}

SceneRef scene_polyline(Scene *s, const float *pts, int npts, float width, Color c)
{
    float *copy = npts > 0 ? arena_alloc(&s->arena, (size_t)npts * 2 * sizeof(float)) : NULL;
    if (!copy) {
        s->failed = true;
        return (SceneRef){-1};
    }
    memcpy(copy, pts, (size_t)npts * 2 * sizeof(float));
    APPEND(SCENE_POLYLINE, c);
    if (it) {
        it->pts = copy;
        it->npts = npts;
        it->width = width;
    }
    return ref;
}

// The length of the longest prefix of text[0..n) that ends on a whole UTF-8
// sequence and is at most max bytes.
static size_t utf8_cut(const char *text, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)text[k] & 0xC0) == 0x80)
        k--;
    return k;
}

// Copy text into the arena, cut so that it is at most SCENE_TEXT_MAX_BYTES
// long and at most max_w pixels wide; a cut line ends in an ellipsis.
// Measures O(log n) prefixes, never the whole of a long text.
static char *cut_copy(Scene *s, SceneFont font, float size, const char *text, float max_w)
{
    static const char ellipsis[] = "\u2026";
    size_t n = strnlen(text, SCENE_TEXT_MAX_BYTES + 1);
    char buf[SCENE_TEXT_MAX_BYTES + sizeof(ellipsis)];
    size_t keep = utf8_cut(text, n, SCENE_TEXT_MAX_BYTES - (sizeof(ellipsis) - 1));
    bool cut = keep < n;
    memcpy(buf, text, keep);
    strcpy(buf + keep, cut ? ellipsis : "");
    if (scene_text_width(s, font, size, buf) > max_w) {
        // Binary search over the character boundaries for the longest
        // prefix that fits with the ellipsis (the empty prefix always does).
        unsigned short starts[SCENE_TEXT_MAX_BYTES + 1];
        size_t nb = 0;
        for (size_t i = 0; i <= keep; i++)
            if (i == keep || ((unsigned char)text[i] & 0xC0) != 0x80)
                starts[nb++] = (unsigned short)i;
        size_t lo = 0, hi = nb - 1; // starts[lo] fits; nothing past starts[hi] does
        while (lo < hi) {
            size_t mid = lo + (hi - lo + 1) / 2;
            memcpy(buf, text, starts[mid]);
            strcpy(buf + starts[mid], ellipsis);
            if (scene_text_width(s, font, size, buf) <= max_w)
                lo = mid;
            else
                hi = mid - 1;
        }
        keep = starts[lo];
        memcpy(buf, text, keep);
        strcpy(buf + keep, ellipsis);
    }
    return arena_strndup(&s->arena, buf, strlen(buf));
}

SceneRef scene_text(Scene *s, float x, float y, SceneFont font, float size, SceneAlign align,
                    Color c, const char *text)
{
    return scene_text_fit(s, x, y, font, size, align, c, text, INFINITY);
}

SceneRef scene_text_fit(Scene *s, float x, float y, SceneFont font, float size, SceneAlign align, Color c,
                        const char *text, float max_w)
{
    float frame_max = SCENE_TEXT_MAX_WIDTH_FACTOR * (s->width > 0 ? s->width : 1024);
    char *copy = cut_copy(s, font, size, text, fmaxf(0, fminf(max_w, frame_max)));
    if (!copy) {
        s->failed = true;
        return (SceneRef){-1};
    }
    APPEND(SCENE_TEXT, c);
    if (it) {
        it->x = x, it->y = y;
        it->font = font;
        it->size = size;
        it->align = align;
        it->text = copy;
        it->w = scene_text_width(s, font, size, copy);
        it->h = scene_line_height(size);
    }
    return ref;
}

SceneRef scene_image(Scene *s, float x, float y, float w, float h, int pw, int ph)
{
    if (pw <= 0 || ph <= 0 || (int64_t)pw * ph > SCENE_IMAGE_MAX_PIXELS)
        return (SceneRef){-1};
    Color *px = arena_alloc(&s->arena, (size_t)pw * (size_t)ph * sizeof(Color));
    if (!px) {
        s->failed = true;
        return (SceneRef){-1};
    }
    APPEND(SCENE_IMAGE, ((Color){255, 255, 255, 255}));
    if (it) {
        it->x = x, it->y = y, it->w = w, it->h = h;
        it->pixels = px;
        it->pw = pw, it->ph = ph;
    }
    return ref;
}

SceneRef scene_tag(Scene *s, SceneRef ref, const char *id)
{
    SceneItem *it = at(s, ref);
    if (!it)
        return ref;
    char *copy = arena_strndup(&s->arena, id, strnlen(id, SCENE_TEXT_MAX_BYTES));
    if (!copy)
        s->failed = true;
    it->id = copy;
    return ref;
}

SceneItem scene_item(const Scene *s, SceneRef ref)
{
    if (ref.index < 0 || (size_t)ref.index >= s->n)
        return (SceneItem){0};
    return s->items[ref.index];
}

Color *scene_image_pixels(const Scene *s, SceneRef ref)
{
    if (ref.index < 0 || (size_t)ref.index >= s->n || s->items[ref.index].kind != SCENE_IMAGE)
        return NULL;
    return s->items[ref.index].pixels;
}

const SceneItem *scene_find(const Scene *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].id && strcmp(s->items[i].id, id) == 0)
            return &s->items[i];
    return NULL;
}

const SceneItem *scene_find_text(const Scene *s, const char *id, const char *text)
{
    for (size_t i = 0; i < s->n; i++) {
        const SceneItem *it = &s->items[i];
        if (it->kind == SCENE_TEXT && it->id && strcmp(it->id, id) == 0 && strcmp(it->text, text) == 0)
            return it;
    }
    return NULL;
}

// The item's box in absolute coordinates.
static void item_box(const SceneItem *it, float *x0, float *y0, float *x1, float *y1)
{
    switch (it->kind) {
    case SCENE_CIRCLE:
    case SCENE_RING:
        *x0 = it->x - it->radius, *y0 = it->y - it->radius;
        *x1 = it->x + it->radius, *y1 = it->y + it->radius;
        return;
    case SCENE_TEXT: {
        float left = it->align == ALIGN_LEFT ? it->x : it->align == ALIGN_CENTER ? it->x - it->w / 2
                                                                                : it->x - it->w;
        *x0 = left, *y0 = it->y, *x1 = left + it->w, *y1 = it->y + it->h;
        return;
    }
    default:
        *x0 = it->w < 0 ? it->x + it->w : it->x;
        *y0 = it->h < 0 ? it->y + it->h : it->y;
        *x1 = *x0 + (it->w < 0 ? -it->w : it->w);
        *y1 = *y0 + (it->h < 0 ? -it->h : it->h);
        return;
    }
}

const SceneItem *scene_hit(const Scene *s, float x, float y, const char *prefix)
{
    size_t plen = strlen(prefix);
    for (size_t i = s->n; i-- > 0;) {
        const SceneItem *it = &s->items[i];
        if (!it->id || strncmp(it->id, prefix, plen) != 0)
            continue;
        float x0, y0, x1, y1;
        item_box(it, &x0, &y0, &x1, &y1);
        if (x >= x0 && x <= x1 && y >= y0 && y <= y1)
            return it;
    }
    return NULL;
}

Color color_rgb(uint32_t hex)
{
    return (Color){(uint8_t)(hex >> 16), (uint8_t)(hex >> 8), (uint8_t)hex, 255};
}

Color color_alpha(Color c, uint8_t a)
{
    c.a = a;
    return c;
}

Color color_mix(Color a, Color b, float t)
{
    if (t < 0)
        t = 0;
    if (t > 1)
        t = 1;
    return (Color){(uint8_t)(a.r + (b.r - a.r) * t + 0.5f), (uint8_t)(a.g + (b.g - a.g) * t + 0.5f),
                   (uint8_t)(a.b + (b.b - a.b) * t + 0.5f), (uint8_t)(a.a + (b.a - a.a) * t + 0.5f)};
}
