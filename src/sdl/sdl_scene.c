// sdl_scene.c: scene replay with SDL_RenderGeometry and cached SDL2_ttf text
// textures; see sdl_scene.h.
#include "sdl/sdl_scene.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_image.h>
#include <SDL_ttf.h>

#include "engine/fileio.h"

const char *const scene_font_files[FONT_COUNT] = {
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf",
};

#define MAX_FONTS 24            // font sizes kept open (each holds its glyph cache)
#define MAX_IMAGES 64           // images drawn per frame (a strip of camera frames holds 16 on its own)
#define TEXT_CACHE_SIZE 2048   // slots in the open-addressed text texture table
#define TEXT_CACHE_MAX 1500    // entries kept before stale ones are dropped
#define TEXT_CACHE_MAX_BYTES ((size_t)16 << 20) // texture bytes kept before stale ones are dropped
#define TEXT_MAX_AGE 120        // frames a text texture is kept unused (swept every TEXT_SWEEP_EVERY frames)
#define TEXT_SWEEP_EVERY 60

typedef struct FontEntry {
    SceneFont font;
    int px;
    TTF_Font *ttf;
} FontEntry;

typedef struct TextEntry {
    uint64_t hash;          // 0 = empty slot
    char *text;
    SceneFont font;
    int px;
    Color color;
    SDL_Texture *tex;
    int w, h;
    uint32_t last_frame;
} TextEntry;

// Measured widths of short strings, so building a frame does not shape the
// same words with FreeType again and again.
#define WIDTH_CACHE_SIZE 4096
#define WIDTH_CACHE_TEXT 40

typedef struct WidthEntry {
    uint64_t hash;          // 0 = empty
    int px;
    SceneFont font;
    float width;
    char text[WIDTH_CACHE_TEXT];
} WidthEntry;

struct SceneRenderer {
    SDL_Renderer *r;
    WidthEntry *widths;
    char *font_path[FONT_COUNT];
    FontEntry fonts[MAX_FONTS];
    int nfonts;
    TextEntry *cache;
    int ncached;
    size_t cached_bytes;     // w * h * 4 summed over the cached textures
    uint32_t frame;
    SDL_FRect *spans;        // scratch rows for discs, rings and round corners
    int nspans_cap;
    SDL_Vertex *verts;       // triangles batched until text or an image needs drawing
    int nverts, nverts_cap;
    struct {
        SDL_Texture *tex;
        int w, h;
    } images[MAX_IMAGES];    // streaming textures for SCENE_IMAGE, by order in the frame
};

SceneRenderer *scene_renderer_create(SDL_Renderer *r, const char *font_dir, char *err, size_t errn)
{
    if (!TTF_WasInit() && TTF_Init() != 0) {
        snprintf(err, errn, "cannot start SDL2_ttf: %s", TTF_GetError());
        return NULL;
    }
    SceneRenderer *sr = calloc(1, sizeof(*sr));
    if (!sr || !(sr->cache = calloc(TEXT_CACHE_SIZE, sizeof(TextEntry))) ||
        !(sr->widths = calloc(WIDTH_CACHE_SIZE, sizeof(WidthEntry)))) {
        if (sr)
            free(sr->cache);
        free(sr);
        snprintf(err, errn, "out of memory");
        return NULL;
    }
    sr->r = r;
    for (int i = 0; i < FONT_COUNT; i++) {
        size_t n = strlen(font_dir) + strlen(scene_font_files[i]) + 2;
        sr->font_path[i] = malloc(n);
        if (!sr->font_path[i]) {
            snprintf(err, errn, "out of memory");
            scene_renderer_destroy(sr);
            return NULL;
        }
        snprintf(sr->font_path[i], n, "%s/%s", font_dir, scene_font_files[i]);
        // Open once now so a missing font is reported up front.
        TTF_Font *f = TTF_OpenFont(sr->font_path[i], 16);
        if (!f) {
            snprintf(err, errn, "cannot load the font '%s': %s (set GRADLAB_DATA_DIR to the folder "
                     "that holds assets/)", sr->font_path[i], TTF_GetError());
            scene_renderer_destroy(sr);
            return NULL;
        }
        sr->fonts[sr->nfonts++] = (FontEntry){(SceneFont)i, 16, f};
    }
    return sr;
}

static void drop_text(TextEntry *e)
{
    if (e->tex)
        SDL_DestroyTexture(e->tex);
    free(e->text);
    memset(e, 0, sizeof(*e));
}

void scene_renderer_destroy(SceneRenderer *sr)
{
    if (!sr)
        return;
    if (sr->cache)
        for (int i = 0; i < TEXT_CACHE_SIZE; i++)
            if (sr->cache[i].hash)
                drop_text(&sr->cache[i]);
    free(sr->cache);
    free(sr->widths);
    for (int i = 0; i < sr->nfonts; i++)
        TTF_CloseFont(sr->fonts[i].ttf);
    for (int i = 0; i < MAX_IMAGES; i++)
        if (sr->images[i].tex)
            SDL_DestroyTexture(sr->images[i].tex);
    for (int i = 0; i < FONT_COUNT; i++)
        free(sr->font_path[i]);
    free(sr->verts);
    free(sr->spans);
    free(sr);
}

static TTF_Font *get_font(SceneRenderer *sr, SceneFont font, float size)
{
    int px = (int)lroundf(size);
    if (px < 4)
        px = 4;
    if (px > 400)
        px = 400;
    for (int i = 0; i < sr->nfonts; i++)
        if (sr->fonts[i].font == font && sr->fonts[i].px == px)
            return sr->fonts[i].ttf;
    if (sr->nfonts == MAX_FONTS) { // forget the oldest sizes, keeping the first three
        for (int i = FONT_COUNT; i < sr->nfonts; i++)
            TTF_CloseFont(sr->fonts[i].ttf);
        sr->nfonts = FONT_COUNT;
        for (int i = 0; i < TEXT_CACHE_SIZE; i++)
            if (sr->cache[i].hash)
                drop_text(&sr->cache[i]);
        sr->ncached = 0;
        sr->cached_bytes = 0;
    }
    TTF_Font *f = TTF_OpenFont(sr->font_path[font], px);
    if (!f)
        return sr->fonts[font].ttf; // fall back to the size opened at start
    sr->fonts[sr->nfonts++] = (FontEntry){font, px, f};
    return f;
}

static uint64_t text_hash(const char *text, SceneFont font, int px, Color c);

static float measure(void *ctx, SceneFont font, float size, const char *text)
{
    SceneRenderer *sr = ctx;
    if (!text[0])
        return 0;
    int px = (int)lroundf(size);
    size_t len = strlen(text);
    WidthEntry *e = NULL;
    uint64_t h = 0;
    if (len < WIDTH_CACHE_TEXT) {
        h = text_hash(text, font, px, (Color){0, 0, 0, 0});
        e = &sr->widths[h % WIDTH_CACHE_SIZE]; // direct-mapped: a collision just re-measures
        if (e->hash == h && e->px == px && e->font == font && strcmp(e->text, text) == 0)
            return e->width;
    }
    int w = 0, hh = 0;
    TTF_SizeUTF8(get_font(sr, font, size), text, &w, &hh);
    if (e) {
        e->hash = h;
        e->px = px;
        e->font = font;
        e->width = (float)w;
        memcpy(e->text, text, len + 1);
    }
    return (float)w;
}

void scene_renderer_attach(SceneRenderer *sr, Scene *s)
{
    scene_set_measure(s, measure, sr);
}

static uint64_t text_hash(const char *text, SceneFont font, int px, Color c)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    h = (h ^ (uint64_t)font) * 1099511628211ull;
    h = (h ^ (uint64_t)px) * 1099511628211ull;
    h = (h ^ ((uint64_t)c.r << 24 | (uint64_t)c.g << 16 | (uint64_t)c.b << 8 | c.a)) * 1099511628211ull;
    return h ? h : 1;
}

// Drop every entry not used in the last max_age frames, then rehash the rest.
static void evict_stale(SceneRenderer *sr, uint32_t max_age)
{
    bool any = false;
    for (int i = 0; i < TEXT_CACHE_SIZE && !any; i++)
        any = sr->cache[i].hash && sr->frame - sr->cache[i].last_frame > max_age;
    if (!any)
        return;
    TextEntry *old = sr->cache;
    TextEntry *fresh = calloc(TEXT_CACHE_SIZE, sizeof(TextEntry));
    if (!fresh)
        return;
    sr->cache = fresh;
    sr->ncached = 0;
    sr->cached_bytes = 0;
    for (int i = 0; i < TEXT_CACHE_SIZE; i++) {
        if (!old[i].hash)
            continue;
        if (sr->frame - old[i].last_frame > max_age) {
            drop_text(&old[i]);
            continue;
        }
        int j = (int)(old[i].hash % TEXT_CACHE_SIZE);
        while (fresh[j].hash)
            j = (j + 1) % TEXT_CACHE_SIZE;
        fresh[j] = old[i];
        sr->ncached++;
        sr->cached_bytes += (size_t)old[i].w * (size_t)old[i].h * 4;
    }
    free(old);
}

static TextEntry *get_text(SceneRenderer *sr, const SceneItem *it)
{
    int px = (int)lroundf(it->size);
    uint64_t h = text_hash(it->text, it->font, px, it->color);
    int j = (int)(h % TEXT_CACHE_SIZE);
    while (sr->cache[j].hash) {
        TextEntry *e = &sr->cache[j];
        if (e->hash == h && e->font == it->font && e->px == px && strcmp(e->text, it->text) == 0 &&
            memcmp(&e->color, &it->color, sizeof(Color)) == 0) {
            e->last_frame = sr->frame;
            return e;
        }
        j = (j + 1) % TEXT_CACHE_SIZE;
    }
    if (sr->ncached >= TEXT_CACHE_MAX || sr->cached_bytes > TEXT_CACHE_MAX_BYTES) {
        evict_stale(sr, 2);
        if (sr->ncached >= TEXT_CACHE_MAX || sr->cached_bytes > TEXT_CACHE_MAX_BYTES)
            return NULL; // the cache is full of this frame's text: the caller draws uncached
        return get_text(sr, it);
    }
    SDL_Color c = {it->color.r, it->color.g, it->color.b, it->color.a};
    SDL_Surface *surf = TTF_RenderUTF8_Blended(get_font(sr, it->font, it->size), it->text, c);
    if (!surf)
        return NULL;
    SDL_Texture *tex = SDL_CreateTextureFromSurface(sr->r, surf);
    TextEntry e = {h, strdup(it->text), it->font, px, it->color, tex, surf->w, surf->h, sr->frame};
    SDL_FreeSurface(surf);
    if (!tex || !e.text) {
        drop_text(&e);
        return NULL;
    }
    sr->cache[j] = e;
    sr->ncached++;
    sr->cached_bytes += (size_t)e.w * (size_t)e.h * 4;
    return &sr->cache[j];
}

// Reserve n vertices at the end of the batch; the caller fills all of them.
static SDL_Vertex *verts(SceneRenderer *sr, int n)
{
    if (sr->nverts + n > sr->nverts_cap) {
        int cap = sr->nverts_cap ? sr->nverts_cap : 4096;
        while (cap < sr->nverts + n)
            cap *= 2;
        SDL_Vertex *v = realloc(sr->verts, (size_t)cap * sizeof(SDL_Vertex));
        if (!v)
            return NULL;
        sr->verts = v;
        sr->nverts_cap = cap;
    }
    SDL_Vertex *v = sr->verts + sr->nverts;
    sr->nverts += n;
    return v;
}

// Draw every batched triangle in one call.
// Opaque colours are drawn without blending: the software renderer's
// blended fills and triangles cost several times more per pixel.
static void set_blend(SceneRenderer *sr, bool opaque)
{
    SDL_SetRenderDrawBlendMode(sr->r, opaque ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
}

static void flush(SceneRenderer *sr)
{
    if (!sr->nverts)
        return;
    bool opaque = true;
    for (int i = 0; i < sr->nverts && opaque; i++)
        opaque = sr->verts[i].color.a == 255;
    set_blend(sr, opaque);
    SDL_RenderGeometry(sr->r, NULL, sr->verts, sr->nverts, NULL, 0);
    sr->nverts = 0;
}

static SDL_Vertex vtx(float x, float y, Color c)
{
    SDL_Vertex v = {{x, y}, {c.r, c.g, c.b, c.a}, {0, 0}};
    return v;
}

// A thick line as quads. Long lines are cut into short pieces: SDL's
// software renderer scans the bounding box of every triangle, so one long
// diagonal quad would cost as much as filling its whole bounding box.
static void draw_quad_line(SceneRenderer *sr, float x1, float y1, float x2, float y2, float w, Color c)
{
    float dx = x2 - x1, dy = y2 - y1, len = sqrtf(dx * dx + dy * dy);
    if (len < 1e-6f)
        return;
    if (w <= 3.5f) {
        // Thin lines: parallel one-pixel lines, which the software renderer
        // draws far faster than triangles.
        flush(sr);
        set_blend(sr, c.a == 255);
        SDL_SetRenderDrawColor(sr->r, c.r, c.g, c.b, c.a);
        // Copies are offset by whole pixels across the line's minor axis
        // (y for flat lines, x for steep ones), so they touch: no ladder.
        int n = w < 1.5f ? 1 : (int)lroundf(w);
        bool flat = fabsf(dx) >= fabsf(dy);
        for (int k = 0; k < n; k++) {
            float o = (float)k - (float)(n / 2);
            float ox = flat ? 0 : o, oy = flat ? o : 0;
            SDL_RenderDrawLineF(sr->r, x1 + ox, y1 + oy, x2 + ox, y2 + oy);
        }
        return;
    }
    float nx = -dy / len * w / 2, ny = dx / len * w / 2;
    int pieces = (fabsf(dx) < 1 || fabsf(dy) < 1) ? 1 : (int)ceilf(len / 24);
    if (pieces > 512)
        pieces = 512;
    SDL_Vertex *v = verts(sr, 6 * pieces);
    if (!v)
        return;
    for (int k = 0; k < pieces; k++) {
        float a = (float)k / (float)pieces, b = (float)(k + 1) / (float)pieces;
        float ax = x1 + dx * a, ay = y1 + dy * a, bx = x1 + dx * b, by = y1 + dy * b;
        SDL_Vertex *q = v + 6 * k;
        q[0] = vtx(ax + nx, ay + ny, c);
        q[1] = vtx(bx + nx, by + ny, c);
        q[2] = vtx(bx - nx, by - ny, c);
        q[3] = q[0];
        q[4] = q[2];
        q[5] = vtx(ax - nx, ay - ny, c);
    }
}

// Axis-aligned rectangles go through SDL's rect fill, which the software
// renderer does far faster than two triangles; the triangle batch is drawn
// first to keep the order of the scene.
static void fill_rect(SceneRenderer *sr, float x, float y, float w, float h, Color c)
{
    if (w <= 0 || h <= 0)
        return;
    flush(sr);
    set_blend(sr, c.a == 255);
    SDL_SetRenderDrawColor(sr->r, c.r, c.g, c.b, c.a);
    SDL_FRect rc = {x, y, w, h};
    SDL_RenderFillRectF(sr->r, &rc);
}

// Room for n span rectangles, or NULL.
static SDL_FRect *spans(SceneRenderer *sr, int n)
{
    if (n > sr->nspans_cap) {
        SDL_FRect *r = realloc(sr->spans, (size_t)n * sizeof(SDL_FRect));
        if (!r)
            return NULL;
        sr->spans = r;
        sr->nspans_cap = n;
    }
    return sr->spans;
}

static void fill_spans(SceneRenderer *sr, const SDL_FRect *r, int n, Color c)
{
    flush(sr);
    set_blend(sr, c.a == 255);
    SDL_SetRenderDrawColor(sr->r, c.r, c.g, c.b, c.a);
    SDL_RenderFillRectsF(sr->r, r, n);
}

// A disc, or a ring between radii ri and ro, as one-pixel rows: the
// software renderer fills rows much faster than it rasterises triangles.
static void draw_disc(SceneRenderer *sr, float cx, float cy, float ri, float ro, Color c)
{
    if (!(ro > 0 && ro < 2048) || !isfinite(cx) || !isfinite(cy))
        return;
    int rows = (int)ceilf(2 * ro) + 1;
    SDL_FRect *r = spans(sr, 2 * rows);
    if (!r)
        return;
    int n = 0;
    for (int k = 0; k < rows; k++) {
        float y = floorf(cy - ro) + (float)k + 0.5f, dy = y - cy;
        if (fabsf(dy) > ro)
            continue;
        float ho = sqrtf(ro * ro - dy * dy);
        float hi = ri > 0 && fabsf(dy) < ri ? sqrtf(ri * ri - dy * dy) : -1;
        if (hi < 0) {
            r[n++] = (SDL_FRect){roundf(cx - ho), y - 0.5f, roundf(cx + ho) - roundf(cx - ho), 1};
        } else {
            r[n++] = (SDL_FRect){roundf(cx - ho), y - 0.5f, roundf(cx - hi) - roundf(cx - ho), 1};
            r[n++] = (SDL_FRect){roundf(cx + hi), y - 0.5f, roundf(cx + ho) - roundf(cx + hi), 1};
        }
    }
    fill_spans(sr, r, n, c);
}

static void draw_rect(SceneRenderer *sr, const SceneItem *it)
{
    float r = fminf(it->radius, fminf(it->w, it->h) / 2);
    if (!(r >= 1 && r < 2048)) { // also square corners for NaN or absurd radii
        fill_rect(sr, it->x, it->y, it->w, it->h, it->color);
        return;
    }
    // The middle as one rect; the top and bottom r rows as spans inset by
    // the corner circles.
    float x = it->x, y = it->y, w = it->w, h = it->h;
    fill_rect(sr, x, y + r, w, h - 2 * r, it->color);
    int rows = (int)ceilf(r);
    SDL_FRect *sp = spans(sr, 2 * rows);
    if (!sp)
        return;
    for (int k = 0; k < rows; k++) {
        float dy = r - ((float)k + 0.5f);
        float inset = roundf(r - sqrtf(fmaxf(r * r - dy * dy, 0)));
        sp[2 * k] = (SDL_FRect){x + inset, y + (float)k, w - 2 * inset, 1};
        sp[2 * k + 1] = (SDL_FRect){x + inset, y + h - (float)k - 1, w - 2 * inset, 1};
    }
    fill_spans(sr, sp, 2 * rows, it->color);
}

static void draw_image(SceneRenderer *sr, const SceneItem *it, int k)
{
    if (k >= MAX_IMAGES)
        return;
    if (!sr->images[k].tex || sr->images[k].w != it->pw || sr->images[k].h != it->ph) {
        if (sr->images[k].tex)
            SDL_DestroyTexture(sr->images[k].tex);
        sr->images[k].tex = SDL_CreateTexture(sr->r, SDL_PIXELFORMAT_RGBA32, SDL_TEXTUREACCESS_STREAMING,
                                              it->pw, it->ph);
        sr->images[k].w = it->pw;
        sr->images[k].h = it->ph;
        if (!sr->images[k].tex)
            return;
        SDL_SetTextureScaleMode(sr->images[k].tex, SDL_ScaleModeNearest);
        SDL_SetTextureBlendMode(sr->images[k].tex, SDL_BLENDMODE_NONE); // cells are opaque
    }
    SDL_UpdateTexture(sr->images[k].tex, NULL, it->pixels, it->pw * 4);
    SDL_FRect dst = {it->x, it->y, it->w, it->h};
    SDL_RenderCopyF(sr->r, sr->images[k].tex, NULL, &dst);
}

static void draw_text(SceneRenderer *sr, const SceneItem *it)
{
    if (!it->text[0])
        return;
    TextEntry *e = get_text(sr, it);
    TextEntry once = {0};
    if (!e) { // more distinct text in one frame than the cache holds: draw it uncached
        SDL_Color c = {it->color.r, it->color.g, it->color.b, it->color.a};
        SDL_Surface *surf = TTF_RenderUTF8_Blended(get_font(sr, it->font, it->size), it->text, c);
        if (!surf)
            return;
        once.tex = SDL_CreateTextureFromSurface(sr->r, surf);
        once.w = surf->w;
        once.h = surf->h;
        SDL_FreeSurface(surf);
        if (!once.tex)
            return;
        e = &once;
    }
    float x = it->x;
    if (it->align == ALIGN_CENTER)
        x -= (float)e->w / 2;
    else if (it->align == ALIGN_RIGHT)
        x -= (float)e->w;
    // Centre the glyph box in the scene's line box.
    float y = it->y + (scene_line_height(it->size) - (float)e->h) / 2;
    SDL_FRect dst = {roundf(x), roundf(y), (float)e->w, (float)e->h};
    SDL_RenderCopyF(sr->r, e->tex, NULL, &dst);
    if (e == &once)
        SDL_DestroyTexture(once.tex);
}

void scene_renderer_draw(SceneRenderer *sr, const Scene *s)
{
    sr->frame++;
    // Text seen once (a loss that changes every step, a size the zoom
    // passed through) goes after TEXT_MAX_AGE frames, so the cache holds
    // the text of the last few screens, not whatever filled it up to its
    // caps.
    if (sr->frame % TEXT_SWEEP_EVERY == 0)
        evict_stale(sr, TEXT_MAX_AGE);
    SDL_SetRenderDrawBlendMode(sr->r, SDL_BLENDMODE_BLEND);
    Color bg = s->background;
    SDL_SetRenderDrawColor(sr->r, bg.r, bg.g, bg.b, 255);
    SDL_RenderClear(sr->r);
    int nimages = 0;
    for (size_t i = 0; i < s->n; i++) {
        const SceneItem *it = &s->items[i];
        if (it->kind == SCENE_TEXT || it->kind == SCENE_IMAGE)
            flush(sr); // keep the drawing order
        switch (it->kind) {
        case SCENE_IMAGE:
            draw_image(sr, it, nimages++);
            break;
        case SCENE_RECT:
            draw_rect(sr, it);
            break;
        case SCENE_FRAME: {
            float w = it->width;
            fill_rect(sr, it->x, it->y, it->w, w, it->color);
            fill_rect(sr, it->x, it->y + it->h - w, it->w, w, it->color);
            fill_rect(sr, it->x, it->y + w, w, it->h - 2 * w, it->color);
            fill_rect(sr, it->x + it->w - w, it->y + w, w, it->h - 2 * w, it->color);
            break;
        }
        case SCENE_LINE:
            draw_quad_line(sr, it->x, it->y, it->x2, it->y2, it->width, it->color);
            break;
        case SCENE_CIRCLE:
            draw_disc(sr, it->x, it->y, 0, it->radius, it->color);
            break;
        case SCENE_RING:
            draw_disc(sr, it->x, it->y, it->radius - it->width / 2, it->radius + it->width / 2, it->color);
            break;
        case SCENE_TRIANGLE: {
            SDL_Vertex *v = verts(sr, 3);
            if (!v)
                break;
            v[0] = vtx(it->x, it->y, it->color);
            v[1] = vtx(it->x2, it->y2, it->color);
            v[2] = vtx(it->x3, it->y3, it->color);
            break;
        }
        case SCENE_POLYLINE:
            for (int k = 0; k + 1 < it->npts; k++) {
                const float *p = it->pts + 2 * k;
                if (isfinite(p[0]) && isfinite(p[1]) && isfinite(p[2]) && isfinite(p[3]))
                    draw_quad_line(sr, p[0], p[1], p[2], p[3], it->width, it->color);
            }
            break;
        case SCENE_TEXT:
            draw_text(sr, it);
            break;
        }
    }
    flush(sr);
}

struct Offscreen {
    SDL_Surface *surface;
    SDL_Renderer *renderer;
    SceneRenderer *sr;
};

Offscreen *offscreen_create(int w, int h, const char *font_dir, char *err, size_t errn)
{
    Offscreen *o = calloc(1, sizeof(*o));
    if (!o) {
        snprintf(err, errn, "out of memory");
        return NULL;
    }
    o->surface = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
    o->renderer = o->surface ? SDL_CreateSoftwareRenderer(o->surface) : NULL;
    if (!o->renderer) {
        snprintf(err, errn, "cannot create a %dx%d software renderer: %s", w, h, SDL_GetError());
        offscreen_destroy(o);
        return NULL;
    }
    o->sr = scene_renderer_create(o->renderer, font_dir, err, errn);
    if (!o->sr) {
        offscreen_destroy(o);
        return NULL;
    }
    return o;
}

void offscreen_destroy(Offscreen *o)
{
    if (!o)
        return;
    scene_renderer_destroy(o->sr);
    if (o->renderer)
        SDL_DestroyRenderer(o->renderer);
    SDL_FreeSurface(o->surface);
    free(o);
}

SceneRenderer *offscreen_scene_renderer(Offscreen *o)
{
    return o->sr;
}

SDL_Surface *offscreen_draw(Offscreen *o, const Scene *s)
{
    scene_renderer_draw(o->sr, s);
    SDL_RenderPresent(o->renderer);
    return o->surface;
}

bool offscreen_save_png(Offscreen *o, const Scene *s, const char *path, char *err, size_t errn)
{
    return surface_save_png(offscreen_draw(o, s), path, err, errn);
}

bool surface_save_png(SDL_Surface *s, const char *path, char *err, size_t errn)
{
    char tmp[4800], why[256];
    FILE *f = file_out_open(path, tmp, sizeof(tmp), why, sizeof(why));
    if (!f) {
        snprintf(err, errn, "cannot write '%s': %s", path, why);
        return false;
    }
    SDL_RWops *rw = SDL_RWFromFP(f, SDL_FALSE);
    if (!s && rw)
        SDL_RWclose(rw); // leaves f open (SDL_FALSE)
    if (!s || !rw || IMG_SavePNG_RW(s, rw, 1) != 0) { // frees rw, leaves f open
        snprintf(err, errn, "cannot write '%s': %s", path, s ? IMG_GetError() : "nothing was drawn");
        file_out_discard(f, tmp);
        return false;
    }
    if (!file_out_close(f, tmp, path, why, sizeof(why))) {
        snprintf(err, errn, "cannot write '%s': %s", path, why);
        return false;
    }
    return true;
}
