// scene.h: a frame as data. Views append shapes and text with coordinates
// to a Scene; the SDL layer replays it, and tests read it back without any
// pixels (for example: after the forward step, the wire of f says "-12").
//
// Coordinates are pixels of the target, origin top-left, y down. Text is
// placed by its anchor: (x, y) is the top-left, top-centre or top-right of
// the line box depending on align. Text width is measured through the
// scene's measure hook, which the SDL layer points at the real font and
// which defaults to an estimate so scenes build identically headless.
//
// Memory: items and their strings live in the scene and are dropped by
// scene_begin(); capacity is kept, so a steady frame allocates nothing.
#ifndef GRADLAB_SCENE_H
#define GRADLAB_SCENE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/arena.h"

typedef struct Color {
    uint8_t r, g, b, a;
} Color;

typedef enum SceneKind {
    SCENE_RECT,      // filled rectangle x, y, w, h; radius rounds the corners
    SCENE_FRAME,     // rectangle outline of width `width`
    SCENE_LINE,      // from (x, y) to (x2, y2), `width` thick
    SCENE_CIRCLE,    // centre (x, y), radius; filled
    SCENE_RING,      // circle outline of width `width`
    SCENE_TEXT,      // one line of UTF-8 text
    SCENE_POLYLINE,  // npts points in pts, `width` thick
    SCENE_TRIANGLE,  // filled: (x, y), (x2, y2), (x3, y3)
    SCENE_IMAGE,     // pw x ph RGBA pixels stretched over x, y, w, h (nearest)
} SceneKind;

typedef enum SceneFont {
    FONT_REGULAR,
    FONT_BOLD,
    FONT_MONO,
    FONT_COUNT
} SceneFont;

typedef enum SceneAlign { ALIGN_LEFT, ALIGN_CENTER, ALIGN_RIGHT } SceneAlign;

typedef struct SceneItem {
    SceneKind kind;
    Color color;
    float x, y, w, h;       // RECT/FRAME box; TEXT anchor with w = measured width
    float x2, y2, x3, y3;   // LINE end, TRIANGLE corners
    float radius;           // CIRCLE/RING radius; RECT corner radius
    float width;            // stroke width
    float size;             // TEXT pixel size
    SceneFont font;
    SceneAlign align;
    const char *text;       // TEXT
    const char *id;         // optional tag tests and hit-testing look for, or NULL
    const float *pts;       // POLYLINE (x0, y0, x1, y1, ...)
    int npts;
    Color *pixels;          // IMAGE, row-major (ph, pw)
    int pw, ph;
} SceneItem;

// Width in pixels of text drawn with font at size.
typedef float (*SceneMeasure)(void *ctx, SceneFont font, float size, const char *text);

typedef struct Scene {
    SceneItem *items;
    size_t n, cap;
    Arena arena;            // strings and point arrays of the current frame
    float width, height;
    Color background;
    SceneMeasure measure;
    void *measure_ctx;
    bool failed;            // an allocation failed; the frame is incomplete
} Scene;

// Create an empty scene with the built-in width estimate. NULL when out of
// memory. Free with scene_destroy.
Scene *scene_create(void);

// Free the scene. NULL is a no-op.
void scene_destroy(Scene *s);

// Start a new frame of size w x h: drops every item, keeps the memory.
void scene_begin(Scene *s, float w, float h, Color background);

// Use a real font measure (ctx is passed back). NULL restores the estimate.
void scene_set_measure(Scene *s, SceneMeasure measure, void *ctx);

// Width of text at size in font, through the measure hook.
float scene_text_width(const Scene *s, SceneFont font, float size, const char *text);

// The height of a line of text at size (the line box).
float scene_line_height(float size);

// A handle on an item of the current frame: its position in the draw list.
// Appends hand out handles, never pointers, because the item array grows
// (and moves) as items are appended; a handle stays valid until the next
// scene_begin(). A failed append returns a handle that is not ok, and every
// function taking a handle accepts such a handle and does nothing with it.
typedef struct SceneRef {
    int32_t index;          // -1: nothing was appended
} SceneRef;

// True when ref names an item (the append that made it succeeded).
bool scene_ok(SceneRef ref);

// Append items. Strings are copied. Each returns the new item's handle; it is
// not ok when out of memory (and the scene is marked failed).
SceneRef scene_rect(Scene *s, float x, float y, float w, float h, float radius, Color c);
SceneRef scene_frame(Scene *s, float x, float y, float w, float h, float width, Color c);
SceneRef scene_line(Scene *s, float x1, float y1, float x2, float y2, float width, Color c);
SceneRef scene_circle(Scene *s, float x, float y, float radius, Color c);
// A rounded panel with a border of the given width: the border colour as a
// rounded rect, the fill inset inside it. Returns the fill item.
SceneRef scene_panel(Scene *s, float x, float y, float w, float h, float radius, Color fill, Color border,
                     float width);
SceneRef scene_ring(Scene *s, float x, float y, float radius, float width, Color c);
SceneRef scene_triangle(Scene *s, float x1, float y1, float x2, float y2, float x3, float y3, Color c);
SceneRef scene_polyline(Scene *s, const float *pts, int npts, float width, Color c);
// One line of text. The text is cut before it is stored: a line wider than
// SCENE_TEXT_MAX_WIDTH_FACTOR times the frame's width, or longer than
// SCENE_TEXT_MAX_BYTES bytes, ends in an ellipsis, so what a view appends
// never costs more to measure or rasterise than a screenful.
SceneRef scene_text(Scene *s, float x, float y, SceneFont font, float size, SceneAlign align,
                    Color c, const char *text);
// Like scene_text, but the line is also cut, with an ellipsis, to at most
// max_w pixels: for a title or a label in a slot of known width.
SceneRef scene_text_fit(Scene *s, float x, float y, SceneFont font, float size, SceneAlign align, Color c,
                        const char *text, float max_w);
// An image of pw x ph pixels over the box x, y, w, h. Its pixel array (owned
// by the scene, uninitialised) is reached through scene_image_pixels.
// Images larger than SCENE_IMAGE_MAX_PIXELS are refused (not ok).
SceneRef scene_image(Scene *s, float x, float y, float w, float h, int pw, int ph);

// Tag an item with id (copied). Returns ref.
SceneRef scene_tag(Scene *s, SceneRef ref, const char *id);

// A copy of the item ref names; a zeroed item when ref is not ok.
SceneItem scene_item(const Scene *s, SceneRef ref);

// The pixels, row-major (ph, pw), of the image ref names, or NULL. They live
// in the scene's arena, which never moves, until the next scene_begin().
Color *scene_image_pixels(const Scene *s, SceneRef ref);

// The caps that keep any frame in bounded memory whatever a lesson holds:
// text per item, the total of a frame's strings, points and pixels, and the
// number of items. Past a cap the append fails and the frame is marked failed.
#define SCENE_TEXT_MAX_BYTES 4096
#define SCENE_TEXT_MAX_WIDTH_FACTOR 2.0f
#define SCENE_IMAGE_MAX_PIXELS (4096 * 4096)
#define SCENE_ARENA_LIMIT ((size_t)96 << 20)
#define SCENE_MAX_ITEMS 1000000

// Lookups below return pointers into the item array: read them at once;
// they are invalid after the next append or scene_begin().
// The first item whose id equals id, or NULL.
const SceneItem *scene_find(const Scene *s, const char *id);

// The first TEXT item whose id equals id and whose text equals text; NULL if none.
const SceneItem *scene_find_text(const Scene *s, const char *id, const char *text);

// The topmost item with an id that starts with prefix and whose box
// contains (x, y), or NULL. For hit-testing clicks and hovers.
const SceneItem *scene_hit(const Scene *s, float x, float y, const char *prefix);

// Colour helpers.
Color color_rgb(uint32_t hex);             // 0xRRGGBB, opaque
Color color_alpha(Color c, uint8_t a);
Color color_mix(Color a, Color b, float t); // t = 0 gives a, 1 gives b

#endif
