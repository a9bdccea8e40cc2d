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

const char *const scene_font_files[FONT_COUNT] = {
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf",
};

#define MAX_FONTS 64
#define PI_F 3.14159265358979f
#define TEXT_CACHE_SIZE 2048   // slots in the open-addressed text texture table
#define TEXT_CACHE_MAX 1500    // entries kept before stale ones are dropped

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

struct SceneRenderer {
    SDL_Renderer *r;
    char *font_path[FONT_COUNT];
    FontEntry fonts[MAX_FONTS];
    int nfonts;
    TextEntry *cache;
    int ncached;
    uint32_t frame;
    SDL_Vertex *verts;       // scratch for geometry, grown as needed
    int nverts_cap;
};

SceneRenderer *scene_renderer_create(SDL_Renderer *r, const char *font_dir, char *err, size_t errn)
{
    if (!TTF_WasInit() && TTF_Init() != 0) {
        snprintf(err, errn, "cannot start SDL2_ttf: %s", TTF_GetError());
        return NULL;
    }
    SceneRenderer *sr = calloc(1, sizeof(*sr));
    if (!sr || !(sr->cache = calloc(TEXT_CACHE_SIZE, sizeof(TextEntry)))) {
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
    for (int i = 0; i < sr->nfonts; i++)
        TTF_CloseFont(sr->fonts[i].ttf);
    for (int i = 0; i < FONT_COUNT; i++)
        free(sr->font_path[i]);
    free(sr->verts);
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
    }
    TTF_Font *f = TTF_OpenFont(sr->font_path[font], px);
    if (!f)
        return sr->fonts[font].ttf; // fall back to the size opened at start
    sr->fonts[sr->nfonts++] = (FontEntry){font, px, f};
    return f;
}

static float measure(void *ctx, SceneFont font, float size, const char *text)
{
    SceneRenderer *sr = ctx;
    int w = 0, h = 0;
    if (!text[0])
        return 0;
    TTF_SizeUTF8(get_font(sr, font, size), text, &w, &h);
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

// Drop every entry not used in the last few frames, then rehash the rest.
static void evict_stale(SceneRenderer *sr)
{
    TextEntry *old = sr->cache;
    TextEntry *fresh = calloc(TEXT_CACHE_SIZE, sizeof(TextEntry));
    if (!fresh)
        return;
    sr->cache = fresh;
    sr->ncached = 0;
    for (int i = 0; i < TEXT_CACHE_SIZE; i++) {
        if (!old[i].hash)
            continue;
        if (sr->frame - old[i].last_frame > 2) {
            drop_text(&old[i]);
            continue;
        }
        int j = (int)(old[i].hash % TEXT_CACHE_SIZE);
        while (fresh[j].hash)
            j = (j + 1) % TEXT_CACHE_SIZE;
        fresh[j] = old[i];
        sr->ncached++;
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
    if (sr->ncached >= TEXT_CACHE_MAX) {
        evict_stale(sr);
        if (sr->ncached >= TEXT_CACHE_MAX)
            return NULL; // one frame with this much distinct text: draw the rest next time
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
    return &sr->cache[j];
}

static SDL_Vertex *verts(SceneRenderer *sr, int n)
{
    if (n > sr->nverts_cap) {
        SDL_Vertex *v = realloc(sr->verts, (size_t)n * sizeof(SDL_Vertex));
        if (!v)
            return NULL;
        sr->verts = v;
        sr->nverts_cap = n;
    }
    return sr->verts;
}

static SDL_Vertex vtx(float x, float y, Color c)
{
    SDL_Vertex v = {{x, y}, {c.r, c.g, c.b, c.a}, {0, 0}};
    return v;
}

static void draw_quad_line(SceneRenderer *sr, float x1, float y1, float x2, float y2, float w, Color c)
{
    float dx = x2 - x1, dy = y2 - y1, len = sqrtf(dx * dx + dy * dy);
    if (len < 1e-6f)
        return;
    float nx = -dy / len * w / 2, ny = dx / len * w / 2;
    SDL_Vertex *v = verts(sr, 6);
    if (!v)
        return;
    v[0] = vtx(x1 + nx, y1 + ny, c);
    v[1] = vtx(x2 + nx, y2 + ny, c);
    v[2] = vtx(x2 - nx, y2 - ny, c);
    v[3] = v[0];
    v[4] = v[2];
    v[5] = vtx(x1 - nx, y1 - ny, c);
    SDL_RenderGeometry(sr->r, NULL, v, 6, NULL, 0);
}

static int circle_segments(float r)
{
    int n = (int)(r * 0.8f);
    return n < 16 ? 16 : n > 96 ? 96 : n;
}

// A filled pie of radius r around (cx, cy) from angle a0 to a1.
static void draw_fan(SceneRenderer *sr, float cx, float cy, float r, float a0, float a1, int segs, Color c)
{
    SDL_Vertex *v = verts(sr, segs * 3);
    if (!v)
        return;
    for (int i = 0; i < segs; i++) {
        float t0 = a0 + (a1 - a0) * (float)i / (float)segs;
        float t1 = a0 + (a1 - a0) * (float)(i + 1) / (float)segs;
        v[i * 3] = vtx(cx, cy, c);
        v[i * 3 + 1] = vtx(cx + r * cosf(t0), cy + r * sinf(t0), c);
        v[i * 3 + 2] = vtx(cx + r * cosf(t1), cy + r * sinf(t1), c);
    }
    SDL_RenderGeometry(sr->r, NULL, v, segs * 3, NULL, 0);
}

static void draw_ring(SceneRenderer *sr, float cx, float cy, float r, float w, Color c)
{
    int segs = circle_segments(r + w);
    SDL_Vertex *v = verts(sr, segs * 6);
    if (!v)
        return;
    float ri = r - w / 2, ro = r + w / 2;
    for (int i = 0; i < segs; i++) {
        float t0 = 2 * PI_F * (float)i / (float)segs;
        float t1 = 2 * PI_F * (float)(i + 1) / (float)segs;
        SDL_Vertex a = vtx(cx + ri * cosf(t0), cy + ri * sinf(t0), c);
        SDL_Vertex b = vtx(cx + ro * cosf(t0), cy + ro * sinf(t0), c);
        SDL_Vertex d = vtx(cx + ri * cosf(t1), cy + ri * sinf(t1), c);
        SDL_Vertex e = vtx(cx + ro * cosf(t1), cy + ro * sinf(t1), c);
        v[i * 6] = a, v[i * 6 + 1] = b, v[i * 6 + 2] = e;
        v[i * 6 + 3] = a, v[i * 6 + 4] = e, v[i * 6 + 5] = d;
    }
    SDL_RenderGeometry(sr->r, NULL, v, segs * 6, NULL, 0);
}

static void fill_rect(SceneRenderer *sr, float x, float y, float w, float h, Color c)
{
    SDL_SetRenderDrawColor(sr->r, c.r, c.g, c.b, c.a);
    SDL_FRect rc = {x, y, w, h};
    SDL_RenderFillRectF(sr->r, &rc);
}

static void draw_rect(SceneRenderer *sr, const SceneItem *it)
{
    float r = fminf(it->radius, fminf(it->w, it->h) / 2);
    if (r < 1) {
        fill_rect(sr, it->x, it->y, it->w, it->h, it->color);
        return;
    }
    float x = it->x, y = it->y, w = it->w, h = it->h;
    fill_rect(sr, x + r, y, w - 2 * r, h, it->color);
    fill_rect(sr, x, y + r, r, h - 2 * r, it->color);
    fill_rect(sr, x + w - r, y + r, r, h - 2 * r, it->color);
    int segs = circle_segments(r) / 4 + 2;
    const float pi = PI_F;
    draw_fan(sr, x + r, y + r, r, pi, 1.5f * pi, segs, it->color);
    draw_fan(sr, x + w - r, y + r, r, 1.5f * pi, 2 * pi, segs, it->color);
    draw_fan(sr, x + w - r, y + h - r, r, 0, 0.5f * pi, segs, it->color);
    draw_fan(sr, x + r, y + h - r, r, 0.5f * pi, pi, segs, it->color);
}

static void draw_text(SceneRenderer *sr, const SceneItem *it)
{
    if (!it->text[0])
        return;
    TextEntry *e = get_text(sr, it);
    if (!e)
        return;
    float x = it->x;
    if (it->align == ALIGN_CENTER)
        x -= (float)e->w / 2;
    else if (it->align == ALIGN_RIGHT)
        x -= (float)e->w;
    // Centre the glyph box in the scene's line box.
    float y = it->y + (scene_line_height(it->size) - (float)e->h) / 2;
    SDL_FRect dst = {roundf(x), roundf(y), (float)e->w, (float)e->h};
    SDL_RenderCopyF(sr->r, e->tex, NULL, &dst);
}

void scene_renderer_draw(SceneRenderer *sr, const Scene *s)
{
    sr->frame++;
    SDL_SetRenderDrawBlendMode(sr->r, SDL_BLENDMODE_BLEND);
    Color bg = s->background;
    SDL_SetRenderDrawColor(sr->r, bg.r, bg.g, bg.b, 255);
    SDL_RenderClear(sr->r);
    for (size_t i = 0; i < s->n; i++) {
        const SceneItem *it = &s->items[i];
        switch (it->kind) {
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
            draw_fan(sr, it->x, it->y, it->radius, 0, 2 * PI_F, circle_segments(it->radius),
                     it->color);
            break;
        case SCENE_RING:
            draw_ring(sr, it->x, it->y, it->radius, it->width, it->color);
            break;
        case SCENE_TRIANGLE: {
            SDL_Vertex *v = verts(sr, 3);
            if (!v)
                break;
            v[0] = vtx(it->x, it->y, it->color);
            v[1] = vtx(it->x2, it->y2, it->color);
            v[2] = vtx(it->x3, it->y3, it->color);
            SDL_RenderGeometry(sr->r, NULL, v, 3, NULL, 0);
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
    offscreen_draw(o, s);
    if (IMG_SavePNG(o->surface, path) != 0) {
        snprintf(err, errn, "cannot write '%s': %s", path, IMG_GetError());
        return false;
    }
    return true;
}
