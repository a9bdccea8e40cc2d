// sdl_scene.h: the thin SDL layer. Replays a Scene on an SDL_Renderer and
// measures text with SDL2_ttf; knows nothing about lessons.
#ifndef GRADLAB_SDL_SCENE_H
#define GRADLAB_SDL_SCENE_H

#include <stdbool.h>
#include <stddef.h>

#include <SDL.h>

#include "views/scene.h"

typedef struct SceneRenderer SceneRenderer;

// The font files, relative to the data directory's assets/fonts/.
extern const char *const scene_font_files[FONT_COUNT];

// Create a replayer for renderer r with fonts from font_dir (a directory
// holding scene_font_files). On failure returns NULL and writes the path
// that was tried and the reason into err. Calls TTF_Init if needed.
// The renderer is borrowed and must outlive the replayer.
SceneRenderer *scene_renderer_create(SDL_Renderer *r, const char *font_dir, char *err, size_t errn);

// Free fonts and cached text textures. NULL is a no-op.
void scene_renderer_destroy(SceneRenderer *sr);

// Point s's text measure at the real fonts.
void scene_renderer_attach(SceneRenderer *sr, Scene *s);

// Clear to the scene's background and draw every item in order. Does not
// present. Cached text textures not used for a while are freed here.
void scene_renderer_draw(SceneRenderer *sr, const Scene *s);

// Headless rendering into a w x h surface with SDL's software renderer:
// needs no window and no video driver (SDL_VIDEODRIVER=dummy works).
typedef struct Offscreen Offscreen;

// Create the surface, renderer and replayer. NULL with a reason in err.
Offscreen *offscreen_create(int w, int h, const char *font_dir, char *err, size_t errn);

// Free everything. NULL is a no-op.
void offscreen_destroy(Offscreen *o);

// The replayer, to attach scenes to before building them.
SceneRenderer *offscreen_scene_renderer(Offscreen *o);

// Draw s and return the surface holding the pixels (owned by o).
SDL_Surface *offscreen_draw(Offscreen *o, const Scene *s);

// Draw s and save the pixels as a PNG at path (as surface_save_png).
// false with "cannot write 'PATH': REASON" in err.
bool offscreen_save_png(Offscreen *o, const Scene *s, const char *path, char *err, size_t errn);

// Save surface s (borrowed) as a PNG at path, through a new temporary file
// in the same folder renamed over path once complete (engine/fileio.h): a
// symlink at path is replaced, never followed, and no half-written file is
// left. false with "cannot write 'PATH': REASON" in err ("it is a folder",
// "Permission denied", SDL_image's reason). Used by the window's screenshot
// key and by `gradlab render`.
bool surface_save_png(SDL_Surface *s, const char *path, char *err, size_t errn);

#endif
