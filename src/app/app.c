// app.c: the interactive window. Turns SDL events into actions, keeps the
// app state (lesson, step, theme, scale, overlays), rebuilds the scene when
// something changed and hands it to the SDL layer. Waits for events when
// idle, so an open window uses no CPU.
#include "app/app.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_image.h>

#include "app/catalog.h"
#include "app/platform.h"
#include "lessons/lesson.h"
#include "sdl/sdl_scene.h"
#include "views/lesson_view.h"

typedef enum Action {
    ACT_NONE,
    ACT_NEXT,
    ACT_PREV,
    ACT_FIRST,
    ACT_LAST,
    ACT_FULLSCREEN,
    ACT_QUIT,
    ACT_HELP,
    ACT_BLANK,
    ACT_ZOOM_IN,
    ACT_ZOOM_OUT,
    ACT_ZOOM_RESET,
    ACT_SAVE,
    ACT_THEME,
} Action;

// The key map: what presentation clickers send (PageUp/PageDown, sometimes
// Space/Backspace, B or '.' to blank) and the usual arrows.
static Action action_for_key(SDL_Keycode key, Uint16 mod)
{
    bool ctrl = mod & (KMOD_CTRL | KMOD_GUI);
    if (ctrl) {
        switch (key) {
        case SDLK_EQUALS: case SDLK_PLUS: case SDLK_KP_PLUS: return ACT_ZOOM_IN;
        case SDLK_MINUS: case SDLK_KP_MINUS: return ACT_ZOOM_OUT;
        case SDLK_0: case SDLK_KP_0: return ACT_ZOOM_RESET;
        case SDLK_s: return ACT_SAVE;
        case SDLK_q: return ACT_QUIT;
        default: return ACT_NONE;
        }
    }
    switch (key) {
    case SDLK_RIGHT: case SDLK_SPACE: case SDLK_PAGEDOWN: case SDLK_DOWN: return ACT_NEXT;
    case SDLK_LEFT: case SDLK_PAGEUP: case SDLK_BACKSPACE: case SDLK_UP: return ACT_PREV;
    case SDLK_HOME: return ACT_FIRST;
    case SDLK_END: return ACT_LAST;
    case SDLK_f: case SDLK_F11: return ACT_FULLSCREEN;
    case SDLK_ESCAPE: case SDLK_q: return ACT_QUIT;
    case SDLK_h: case SDLK_QUESTION: case SDLK_F1: return ACT_HELP;
    case SDLK_SLASH: return (mod & KMOD_SHIFT) ? ACT_HELP : ACT_NONE;
    case SDLK_b: case SDLK_PERIOD: return ACT_BLANK;
    case SDLK_s: return ACT_SAVE;
    case SDLK_t: return ACT_THEME;
    default: return ACT_NONE;
    }
}

typedef struct App {
    SDL_Window *win;
    SDL_Renderer *ren;
    SceneRenderer *sr;
    Scene *scene;
    Graph *graph;
    Catalog cat;
    Lesson *lesson;
    size_t lesson_idx;
    size_t step;
    ThemeId theme;
    float scale;
    bool help, blank, fullscreen;
    bool dirty;
    char status[512];
    // Dragging an input's number.
    char drag_name[80];
    float drag_x0;
    double drag_v0;
    SDL_Cursor *drag_cursor;
} App;

static bool load_lesson(App *a, size_t idx)
{
    Diag d;
    Lesson *l = lesson_load(a->cat.paths[idx], &d);
    if (!l) {
        fputs(diag_text(&d), stderr);
        diag_free(&d);
        return false;
    }
    diag_free(&d);
    lesson_destroy(a->lesson);
    a->lesson = l;
    a->lesson_idx = idx;
    a->step = 0;
    char title[256];
    snprintf(title, sizeof(title), "gradlab \u2014 %s", l->title);
    SDL_SetWindowTitle(a->win, title);
    return true;
}

static void pixel_size(App *a, int *w, int *h)
{
    SDL_GetRendererOutputSize(a->ren, w, h);
}

static void rebuild(App *a)
{
    int w, h;
    pixel_size(a, &w, &h);
    LessonViewParams vp = {.lesson = a->lesson, .step = a->step, .theme = theme_get(a->theme),
                           .scale = a->scale, .help = a->help, .blank = a->blank,
                           .status = a->status[0] ? a->status : NULL};
    lesson_view_build(a->scene, a->graph, &vp, (float)w, (float)h);
}

static void save_png(App *a)
{
    int w, h;
    pixel_size(a, &w, &h);
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
    char stem[128], path[300];
    catalog_stem(a->cat.paths[a->lesson_idx], stem, sizeof(stem));
    snprintf(path, sizeof(path), "gradlab-%s-step%02zu.png", stem, a->step + 1);
    if (s && SDL_RenderReadPixels(a->ren, NULL, SDL_PIXELFORMAT_RGB888, s->pixels, s->pitch) == 0 &&
        IMG_SavePNG(s, path) == 0) {
        fprintf(stderr, "gradlab: saved %s\n", path);
        snprintf(a->status, sizeof(a->status), "saved %s", path);
    } else {
        fprintf(stderr, "gradlab: error: cannot save %s: %s\n", path, SDL_GetError());
        snprintf(a->status, sizeof(a->status), "could not save %s", path);
    }
    SDL_FreeSurface(s);
}

// Returns false when the app should quit.
static bool apply(App *a, Action act)
{
    size_t last = a->lesson->nsteps - 1;
    a->status[0] = '\0';
    switch (act) {
    case ACT_NONE:
        return true;
    case ACT_NEXT:
        if (a->step < last)
            a->step++;
        else if (a->lesson_idx + 1 < a->cat.n)
            load_lesson(a, a->lesson_idx + 1);
        break;
    case ACT_PREV:
        if (a->step > 0)
            a->step--;
        else if (a->lesson_idx > 0 && load_lesson(a, a->lesson_idx - 1))
            a->step = a->lesson->nsteps - 1;
        break;
    case ACT_FIRST: a->step = 0; break;
    case ACT_LAST: a->step = last; break;
    case ACT_FULLSCREEN:
        a->fullscreen = !a->fullscreen;
        SDL_SetWindowFullscreen(a->win, a->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
        break;
    case ACT_QUIT:
        if (a->help) { // Esc first closes the help
            a->help = false;
            break;
        }
        return false;
    case ACT_HELP: a->help = !a->help; break;
    case ACT_BLANK: a->blank = !a->blank; break;
    case ACT_ZOOM_IN: a->scale = fminf(a->scale * 1.1f, 3.0f); break;
    case ACT_ZOOM_OUT: a->scale = fmaxf(a->scale / 1.1f, 0.5f); break;
    case ACT_ZOOM_RESET: a->scale = 1; break;
    case ACT_SAVE: save_png(a); break;
    case ACT_THEME: a->theme = (ThemeId)((a->theme + 1) % THEME_COUNT); break;
    }
    a->dirty = true;
    return true;
}

// Window points to renderer pixels (they differ on HiDPI displays).
static void to_pixels(App *a, int x, int y, float *px, float *py)
{
    int ww, wh, pw, ph;
    SDL_GetWindowSize(a->win, &ww, &wh);
    pixel_size(a, &pw, &ph);
    *px = (float)x * (float)pw / (float)(ww ? ww : 1);
    *py = (float)y * (float)ph / (float)(wh ? wh : 1);
}

static void mouse_down(App *a, int x, int y)
{
    float px, py;
    to_pixels(a, x, y, &px, &py);
    const SceneItem *it = scene_hit(a->scene, px, py, "value:");
    if (!it)
        return;
    const char *name = it->id + strlen("value:");
    Program *p = a->lesson->program;
    for (size_t i = 0; i < program_input_count(p); i++) {
        if (strcmp(program_input_name(p, i), name) == 0) {
            snprintf(a->drag_name, sizeof(a->drag_name), "%s", name);
            a->drag_x0 = px;
            a->drag_v0 = program_input_value(p, i);
            if (!a->drag_cursor)
                a->drag_cursor = SDL_CreateSystemCursor(SDL_SYSTEM_CURSOR_SIZEWE);
            if (a->drag_cursor)
                SDL_SetCursor(a->drag_cursor);
            return;
        }
    }
}

static void mouse_drag(App *a, int x, int y, bool fine)
{
    if (!a->drag_name[0])
        return;
    float px, py;
    to_pixels(a, x, y, &px, &py);
    int w, h;
    pixel_size(a, &w, &h);
    float u = lesson_view_unit((float)w, (float)h, a->scale);
    double per_px = (fine ? 0.01 : 0.1) / (u * 4); // 0.1 per 4 unit-pixels
    double v = a->drag_v0 + (px - a->drag_x0) * per_px;
    v = round(v * (fine ? 100 : 10)) / (fine ? 100 : 10);
    program_set_input(a->lesson->program, a->drag_name, v);
    a->dirty = true;
}

static void app_destroy(App *a)
{
    lesson_destroy(a->lesson);
    if (a->drag_cursor)
        SDL_FreeCursor(a->drag_cursor);
    scene_renderer_destroy(a->sr);
    scene_destroy(a->scene);
    graph_destroy(a->graph);
    if (a->ren)
        SDL_DestroyRenderer(a->ren);
    if (a->win)
        SDL_DestroyWindow(a->win);
    catalog_free(&a->cat);
}

static int no_display(const char *why)
{
    fprintf(stderr,
            "gradlab: error: cannot open a window: %s\n"
            "  No display? For headless use run 'gradlab check' (lesson checks, TAP) or\n"
            "  'gradlab render --out DIR' (one PNG per step).\n", why);
    return 2;
}

int app_main(int argc, char **argv)
{
    App a = {.scale = 1, .theme = THEME_DARK};
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "gradlab: error: unknown option '%s'; see 'gradlab --help'\n", argv[i]);
            return 2;
        }
    }
    int rc = catalog_resolve(&a.cat, argc, argv);
    if (rc)
        return rc;
    if (a.cat.n == 0) {
        fprintf(stderr, "gradlab: error: no lessons to open\n");
        catalog_free(&a.cat);
        return 2;
    }
    // Check the lessons and the fonts before touching the display.
    char data[4096], fonts[4200], err[4400];
    if (!platform_data_dir(data, sizeof(data))) {
        fprintf(stderr, "gradlab: error: cannot find gradlab's data folder; looked in %s\n", data);
        catalog_free(&a.cat);
        return 2;
    }
    snprintf(fonts, sizeof(fonts), "%s/assets/fonts", data);

    SDL_SetHint(SDL_HINT_VIDEO_HIGHDPI_DISABLED, "0");
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        catalog_free(&a.cat);
        return no_display(SDL_GetError());
    }
    const char *driver = SDL_GetCurrentVideoDriver();
    if (driver && (strcmp(driver, "dummy") == 0 || strcmp(driver, "offscreen") == 0)) {
        SDL_Quit();
        catalog_free(&a.cat);
        return no_display("the video driver is 'dummy', which shows nothing");
    }
    a.win = SDL_CreateWindow("gradlab", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, 1280, 720,
                             SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (a.win)
        a.ren = SDL_CreateRenderer(a.win, -1, SDL_RENDERER_PRESENTVSYNC);
    if (a.win && !a.ren) // no GPU: fall back to the software renderer
        a.ren = SDL_CreateRenderer(a.win, -1, SDL_RENDERER_SOFTWARE);
    if (!a.win || !a.ren) {
        rc = no_display(SDL_GetError());
        app_destroy(&a);
        SDL_Quit();
        return rc;
    }
    SDL_SetWindowMinimumSize(a.win, 640, 360);
    a.sr = scene_renderer_create(a.ren, fonts, err, sizeof(err));
    a.scene = scene_create();
    a.graph = graph_create(PROGRAM_MAX_NODES + 1);
    if (!a.sr || !a.scene || !a.graph || !load_lesson(&a, 0)) {
        fprintf(stderr, "gradlab: error: %s\n", !a.sr ? err : a.lesson ? "out of memory" : "the lesson does not load");
        app_destroy(&a);
        SDL_Quit();
        return 2;
    }
    scene_renderer_attach(a.sr, a.scene);
    a.dirty = true;
    bool running = true;
    while (running) {
        if (a.dirty) {
            rebuild(&a);
            scene_renderer_draw(a.sr, a.scene);
            SDL_RenderPresent(a.ren);
            a.dirty = false;
        }
        SDL_Event ev;
        if (!SDL_WaitEvent(&ev))
            break;
        do {
            switch (ev.type) {
            case SDL_QUIT:
                running = false;
                break;
            case SDL_KEYDOWN:
                running = apply(&a, action_for_key(ev.key.keysym.sym, ev.key.keysym.mod)) && running;
                break;
            case SDL_WINDOWEVENT:
                if (ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
                    ev.window.event == SDL_WINDOWEVENT_EXPOSED)
                    a.dirty = true;
                break;
            case SDL_MOUSEBUTTONDOWN:
                if (ev.button.button == SDL_BUTTON_LEFT)
                    mouse_down(&a, ev.button.x, ev.button.y);
                break;
            case SDL_MOUSEMOTION:
                if (ev.motion.state & SDL_BUTTON_LMASK)
                    mouse_drag(&a, ev.motion.x, ev.motion.y, SDL_GetModState() & KMOD_SHIFT);
                break;
            case SDL_MOUSEBUTTONUP:
                if (a.drag_name[0]) {
                    a.drag_name[0] = '\0';
                    SDL_SetCursor(SDL_GetDefaultCursor());
                }
                break;
            default:
                break;
            }
        } while (running && SDL_PollEvent(&ev));
    }
    app_destroy(&a);
    SDL_Quit();
    return 0;
}
