// scene.c: the draw list; see scene.h.
#include "views/scene.h"

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
    arena_init(&s->arena, 64 * 1024, 0);
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

static SceneItem *push(Scene *s, SceneKind kind, Color c)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        SceneItem *items = realloc(s->items, cap * sizeof(*items));
        if (!items) {
            s->failed = true;
            return NULL;
        }
        s->items = items;
        s->cap = cap;
    }
    SceneItem *it = &s->items[s->n++];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->color = c;
    return it;
}

SceneItem *scene_rect(Scene *s, float x, float y, float w, float h, float radius, Color c)
{
    SceneItem *it = push(s, SCENE_RECT, c);
    if (it) {
        it->x = x, it->y = y, it->w = w, it->h = h;
        it->radius = radius;
    }
    return it;
}

SceneItem *scene_panel(Scene *s, float x, float y, float w, float h, float radius, Color fill, Color border,
                       float width)
{
    scene_rect(s, x, y, w, h, radius, border);
    float r = radius > width ? radius - width : 0;
    return scene_rect(s, x + width, y + width, w - 2 * width, h - 2 * width, r, fill);
}

SceneItem *scene_frame(Scene *s, float x, float y, float w, float h, float width, Color c)
{
    SceneItem *it = push(s, SCENE_FRAME, c);
    if (it) {
        it->x = x, it->y = y, it->w = w, it->h = h;
        it->width = width;
    }
    return it;
}

SceneItem *scene_line(Scene *s, float x1, float y1, float x2, float y2, float width, Color c)
{
    SceneItem *it = push(s, SCENE_LINE, c);
    if (it) {
        it->x = x1, it->y = y1, it->x2 = x2, it->y2 = y2;
        it->width = width;
        // The bounding box, for hit-testing.
        it->w = x2 - x1;
        it->h = y2 - y1;
    }
    return it;
}

SceneItem *scene_circle(Scene *s, float x, float y, float radius, Color c)
{
    SceneItem *it = push(s, SCENE_CIRCLE, c);
    if (it) {
        it->x = x, it->y = y;
        it->radius = radius;
    }
    return it;
}

SceneItem *scene_ring(Scene *s, float x, float y, float radius, float width, Color c)
{
    SceneItem *it = push(s, SCENE_RING, c);
    if (it) {
        it->x = x, it->y = y;
        it->radius = radius;
        it->width = width;
    }
    return it;
}

SceneItem *scene_triangle(Scene *s, float x1, float y1, float x2, float y2, float x3, float y3, Color c)
{
    SceneItem *it = push(s, SCENE_TRIANGLE, c);
    if (it) {
        it->x = x1, it->y = y1, it->x2 = x2, it->y2 = y2, it->x3 = x3, it->y3 = y3;
    }
    return it;
}

SceneItem *scene_polyline(Scene *s, const float *pts, int npts, float width, Color c)
{
    float *copy = arena_alloc(&s->arena, (size_t)npts * 2 * sizeof(float));
    if (!copy) {
        s->failed = true;
        return NULL;
    }
    memcpy(copy, pts, (size_t)npts * 2 * sizeof(float));
    SceneItem *it = push(s, SCENE_POLYLINE, c);
    if (it) {
        it->pts = copy;
        it->npts = npts;
        it->width = width;
    }
    return it;
}

SceneItem *scene_text(Scene *s, float x, float y, SceneFont font, float size, SceneAlign align,
                      Color c, const char *text)
{
    char *copy = arena_strndup(&s->arena, text, strlen(text));
    if (!copy) {
        s->failed = true;
        return NULL;
    }
    SceneItem *it = push(s, SCENE_TEXT, c);
    if (it) {
        it->x = x, it->y = y;
        it->font = font;
        it->size = size;
        it->align = align;
        it->text = copy;
        it->w = scene_text_width(s, font, size, copy);
        it->h = scene_line_height(size);
    }
    return it;
}

SceneItem *scene_image(Scene *s, float x, float y, float w, float h, int pw, int ph)
{
    if (pw <= 0 || ph <= 0)
        return NULL;
    Color *px = arena_alloc(&s->arena, (size_t)pw * (size_t)ph * sizeof(Color));
    if (!px) {
        s->failed = true;
        return NULL;
    }
    SceneItem *it = push(s, SCENE_IMAGE, (Color){255, 255, 255, 255});
    if (it) {
        it->x = x, it->y = y, it->w = w, it->h = h;
        it->pixels = px;
        it->pw = pw, it->ph = ph;
    }
    return it;
}

SceneItem *scene_tag(Scene *s, SceneItem *item, const char *id)
{
    if (!item)
        return NULL;
    char *copy = arena_strndup(&s->arena, id, strlen(id));
    if (!copy)
        s->failed = true;
    item->id = copy;
    return item;
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
