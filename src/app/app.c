// app.c: the interactive window. Turns SDL events into actions, keeps the
// app state (lesson, step, theme, scale, overlays, the program editor),
// rebuilds the scene when something changed and hands it to the SDL layer.
// Waits for events when idle, so an open window uses no CPU.
//
// The rules for presenters: Esc closes what is open (the editor, the blank,
// the help, the menu), then leaves fullscreen, and quits only a windowed
// app with nothing open; Q quits. Nothing changes under a blanked screen or
// the help: a step key while blanked shows the screen again at the same
// step, and keys that would change the lesson wait. Auto-advance (P) holds
// while anything covers the lesson.
//
// GRADLAB_TRACE=1 prints a line on stdout whenever the state on screen
// changes ("gradlab-trace: lesson=01-circuit step=3/12 blank=0 ..."): the
// real-window test (tests/window/xvfb_keys.sh) asserts on it.
#include "app/app.h"

#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "app/catalog.h"
#include "app/platform.h"
#include "app/settings.h"
#include "engine/fileio.h"
#include "engine/numfmt.h"
#include "lessons/lesson.h"
#include "lessons/run.h"
#include "lessons/sources.h"
#include "views/widgets/controls.h"
#include "views/widgets/surface.h"
#include "sdl/sdl_scene.h"
#include "views/editor_view.h"
#include "views/lesson_view.h"
#include "views/menu_view.h"

#define PLAY_INTERVAL_MS 4000   // auto-advance period when playing
#define TRAIN_INTERVAL_MS 33    // a gradient step per frame while training plays
#define TRAIN_MAX_HISTORY 100000
#define TRAIN_PATIENCE 100      // playing training stops when the output has not fallen in this many steps
#define TRAIN_MAX_STEPS 20000   // or after this many

// The presenter-notes window: the current step's notes, a preview of the
// next step and a clock. A second SDL window with its own renderer.
typedef struct NotesWindow {
    SDL_Window *win;
    SDL_Renderer *ren;
    SceneRenderer *sr;
    Scene *scene, *preview_scene;
    SDL_Texture *preview;
    int preview_w, preview_h;
    // What the preview texture shows; redrawn only when one of these changes.
    const Lesson *preview_lesson;
    size_t preview_step;
    ThemeId preview_theme;
    char preview_inputs[256]; // a fingerprint of the input values (dragging changes the preview)
} NotesWindow;

typedef enum Action {
    ACT_NONE,
    ACT_NEXT,
    ACT_PREV,
    ACT_FIRST,
    ACT_LAST,
    ACT_FULLSCREEN,
    ACT_QUIT,       // Q, Ctrl+Q: always quits
    ACT_ESCAPE,     // Esc: closes, leaves fullscreen, or quits (see escape())
    ACT_HELP,
    ACT_BLANK,
    ACT_ZOOM_IN,
    ACT_ZOOM_OUT,
    ACT_ZOOM_RESET,
    ACT_SAVE,
    ACT_THEME,
    ACT_MENU,
    ACT_PLAY,
    ACT_NOTES,
    ACT_OPEN,
    ACT_CSV,
    ACT_RESET,
    ACT_TRAIN_STEP,
    ACT_EDIT,
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
    case SDLK_ESCAPE: return ACT_ESCAPE;
    case SDLK_q: return ACT_QUIT;
    case SDLK_e: return ACT_EDIT;
    case SDLK_h: case SDLK_QUESTION: case SDLK_F1: return ACT_HELP;
    case SDLK_SLASH: return (mod & KMOD_SHIFT) ? ACT_HELP : ACT_NONE;
    case SDLK_b: case SDLK_PERIOD: return ACT_BLANK;
    case SDLK_s: return ACT_SAVE;
    case SDLK_t: return ACT_THEME;
    case SDLK_m: case SDLK_TAB: return ACT_MENU;
    case SDLK_p: return ACT_PLAY;
    case SDLK_c: return ACT_CSV;
    case SDLK_r: return ACT_RESET;
    case SDLK_g: return ACT_TRAIN_STEP;
    case SDLK_n: return ACT_NOTES;
    case SDLK_RETURN: case SDLK_KP_ENTER: return ACT_OPEN;
    default: return ACT_NONE;
    }
}

// The soak's memory samples and its limits (see soak_judge).
#define SOAK_SAMPLE_MS 500
#define SOAK_MAX_SAMPLES 7300          // an hour at one sample per SOAK_SAMPLE_MS
#define SOAK_WARMUP_S 20.0           // the shortest warm-up, whatever the run's length
#define SOAK_MAX_SLOPE 1.0             // MB per minute
#define SOAK_MAX_GROWTH 2.0            // MB
#define SOAK_MAX_LESSONS 256           // lessons the first pass waits for (later ones in a catalog do not count)

typedef struct App {
    SDL_Window *win;
    SDL_Renderer *ren;
    SceneRenderer *sr;
    Scene *scene;
    Graph *graph;
    Run *run;               // the open lesson's run (params, sources on a worker), or NULL for a
                            // format-1 lesson that trains with G/P (it changes its program itself)
    char param_drag[80];    // the control being dragged ("param:NAME"), or ""
    int page, npages;       // the narrative's page at this step, and how many it has
    size_t page_step;       // the step page belongs to (another step starts at page 0)
    unsigned page_lesson;   // lesson_gen of that step
    Catalog cat;
    Lesson *lesson;
    size_t lesson_idx;
    size_t step;
    ThemeId theme;
    float scale;
    bool help, blank;
    bool dirty;
    char status[512];
    // The program editor (E). Its lesson replaces the catalog's lesson
    // lesson_idx until another lesson is opened.
    Editor editor;
    bool editing;               // the editor overlay is open
    bool own_lesson;            // a->lesson came from the editor
    char *applied;              // the editor text a->lesson was made from (for R)
    size_t resume_step;         // the catalog lesson's step when the editor's replaced it
    unsigned lesson_gen;        // counts lesson changes
    bool source_told[LESSON_MAX_SOURCES + 1]; // a failed source has been reported
    unsigned draft_gen;         // the lesson_gen the editor's text belongs to
    // GRADLAB_TRACE: the last state line printed.
    bool trace;
    char traced[1024];
    // Dragging an input's number.
    char drag_name[80];
    float drag_x0;
    double drag_v0;
    SDL_Cursor *drag_cursor;
    // Menu.
    bool in_menu;
    size_t menu_sel;
    MenuEntry *entries;
    char **entry_text;      // owned strings behind entries
    // Auto-advance and presenting.
    bool playing;
    Uint32 next_advance;
    NotesWindow notes;
    Uint32 present_start;
    char fonts[4200];
    Settings settings;
    LessonGraphState gstate;    // zoom, pan and hover of `view: graph` lessons
    bool panning;
    int hovered;                // graph node under the mouse, -1 = none
    char neuron_hovered[96];    // a boundary panel's neuron map under the mouse (its id), "" = none
    char hover_char[96];        // the `chars` panel cell last under the mouse ("panel:NAME:char:I"), or ""
    bool save_pending;          // S was pressed: save the next frame as PNG
    // Training lessons (`train:`): the output after each gradient step.
    double *history;
    int nhistory;
    // The soak test (GRADLAB_SOAK=SECONDS): scripted events instead of a user.
    double soak_seconds;
    Uint32 soak_start;
    unsigned long soak_events;
    float soak_rss_mb[SOAK_MAX_SAMPLES];   // resident memory, one sample per SOAK_SAMPLE_MS
    float soak_rss_at[SOAK_MAX_SAMPLES];   // seconds since the start, per sample
    int soak_nsamples;
    bool soak_seen[SOAK_MAX_LESSONS];    // lessons opened so far
    size_t soak_nseen;
    double soak_pass_at;                 // seconds since the start when every lesson had been open, or 0
} App;

// Make l (owned from now on) the open lesson, at its first step.
static void set_lesson(App *a, Lesson *l, bool own)
{
    run_destroy(a->run); // before the lesson it runs
    a->run = NULL;
    a->param_drag[0] = '\0';
    lesson_destroy(a->lesson);
#ifdef __GLIBC__
    // The old lesson's sources freed their models and data; glibc keeps
    // the freed heap pages resident until the heap's top is free. Give
    // them back (a few milliseconds, once per lesson change).
    malloc_trim(0);
#endif
    a->lesson = l;
    if (!l->train.enabled) {
        char err[256];
        a->run = run_create(l, true, err, sizeof(err));
        if (!a->run)
            fprintf(stderr, "gradlab: %s: %s; drawing the lesson without its sources\n", l->path, err);
    }
    a->own_lesson = own;
    a->lesson_gen++;
    memset(a->source_told, 0, sizeof(a->source_told));
    a->notes.preview_lesson = NULL; // the old lesson's address may be reused
    a->step = 0;
    a->gstate.view.scale = 0; // fit the new graph
    a->hover_char[0] = '\0';
    a->gstate.hover = false; // a chars panel shows its pick until the mouse moves over it
    a->nhistory = 0;
    char title[256];
    snprintf(title, sizeof(title), "gradlab \u2014 %s", l->title);
    SDL_SetWindowTitle(a->win, title);
}

static bool load_lesson(App *a, size_t idx)
{
    Diag d;
    Lesson *l = lesson_load(a->cat.paths[idx], &d);
    if (a->soak_seconds && idx < SOAK_MAX_LESSONS && !a->soak_seen[idx]) { // the soak's first pass
        a->soak_seen[idx] = true;
        if (++a->soak_nseen == (a->cat.n < SOAK_MAX_LESSONS ? a->cat.n : SOAK_MAX_LESSONS))
            a->soak_pass_at = fmax((SDL_GetTicks() - a->soak_start) / 1000.0, 1e-3);
    }
    if (!l) {
        fputs(diag_text(&d), stderr);
        diag_free(&d);
        return false;
    }
    diag_free(&d);
    set_lesson(a, l, false);
    a->lesson_idx = idx;
    return true;
}

static void pixel_size(const App *a, int *w, int *h)
{
    SDL_GetRendererOutputSize(a->ren, w, h);
}

static bool is_fullscreen(const App *a)
{
    return (SDL_GetWindowFlags(a->win) & SDL_WINDOW_FULLSCREEN) != 0; // _DESKTOP includes this bit
}

// The footer's line: a transient status, or at the last step the end of the
// lesson and where to go from there; NULL for the key hints.
static const char *footer_text(const App *a)
{
    if (a->status[0])
        return a->status;
    if (a->step + 1 < a->lesson->nsteps)
        return NULL;
    if (a->own_lesson)
        return "End of your program \u2014 E edits it, M for the menu";
    if (a->lesson_idx + 1 < a->cat.n)
        return "End of lesson \u2014 \u2192 for the next lesson, M for the menu";
    return "End of lesson \u2014 M for the menu";
}

// A source that failed (an option is wrong, its arrays do not fit) is said
// on stderr and on the status line, once each time it fails.
static void report_source_failures(App *a)
{
    for (int k = 0; k < run_source_count(a->run) && k <= LESSON_MAX_SOURCES; k++) {
        bool failed = run_source_failed(a->run, k);
        if (failed && !a->source_told[k]) {
            const char *why = run_source_status(a->run, k); // NULL if the worker republished meanwhile
            snprintf(a->status, sizeof(a->status), "source '%s' failed: %s", run_source_name(a->run, k),
                     why ? why : "no reason given");
            fprintf(stderr, "gradlab: %s: %s\n", a->lesson->path, a->status);
        }
        a->source_told[k] = failed;
    }
}

static void rebuild(App *a)
{
    int w, h;
    pixel_size(a, &w, &h);
    if (a->in_menu) {
        MenuParams mp = {.entries = a->entries, .n = a->cat.n, .selected = a->menu_sel,
                         .current = a->lesson_idx, .theme = theme_get(a->theme), .scale = a->scale};
        menu_view_build(a->scene, &mp, (float)w, (float)h);
        return;
    }
    if (a->blank) { // black whatever the theme: a projector shows nothing
        scene_begin(a->scene, (float)w, (float)h, color_rgb(0x000000));
        return;
    }
    if (a->run) {
        if (run_step(a->run) != a->step)
            run_goto(a->run, a->step);
        run_poll(a->run);
        report_source_failures(a);
    }
    if (a->step != a->page_step || a->lesson_gen != a->page_lesson) {
        a->page = 0;
        a->page_step = a->step;
        a->page_lesson = a->lesson_gen;
    }
    LessonViewParams vp = {.lesson = a->lesson, .step = a->step, .theme = theme_get(a->theme),
                           .scale = a->scale, .help = a->help, .status = footer_text(a),
                           .graph = &a->gstate, .history = a->history, .nhistory = a->nhistory,
                           .run = a->run, .drag = a->param_drag[0] ? a->param_drag : NULL, .page = a->page};
    a->npages = lesson_view_build(a->scene, a->graph, &vp, (float)w, (float)h);
    if (a->editing) {
        EditorParams ep = {.editor = &a->editor, .theme = theme_get(a->theme), .scale = a->scale};
        a->editor.top = editor_view_build(a->scene, &ep, (float)w, (float)h);
    }
}

// Where the first draggable input's number is drawn, in window points,
// as "NAME@X,Y" (for tests that drag it), or "-".
static void trace_drag_point(const App *a, char *buf, size_t n)
{
    snprintf(buf, n, "-");
    if (a->in_menu || a->blank || a->help || a->editing)
        return;
    const Program *p = a->lesson->program;
    for (size_t i = 0; i < a->scene->n; i++) {
        const SceneItem *it = &a->scene->items[i];
        if (!it->id || strncmp(it->id, "value:", 6) != 0 || it->kind != SCENE_TEXT)
            continue;
        for (size_t k = 0; k < program_input_count(p); k++) {
            if (strcmp(program_input_name(p, k), it->id + 6) != 0)
                continue;
            float cx = it->align == ALIGN_LEFT ? it->x + it->w / 2
                       : it->align == ALIGN_CENTER ? it->x : it->x - it->w / 2;
            float cy = it->y + it->h / 2;
            int ww, wh, pw, ph;
            SDL_GetWindowSize(a->win, &ww, &wh);
            pixel_size(a, &pw, &ph);
            snprintf(buf, n, "%s@%d,%d", it->id + 6, (int)(cx * (float)ww / (float)(pw ? pw : 1)),
                     (int)(cy * (float)wh / (float)(ph ? ph : 1)));
            return;
        }
    }
}

// GRADLAB_TRACE: one line on stdout each time what is on screen changes.
static void trace_state(App *a)
{
    if (!a->trace)
        return;
    char stem[128], line[sizeof(a->traced)], err[200] = "", drag[120];
    if (a->own_lesson)
        snprintf(stem, sizeof(stem), "editor");
    else
        catalog_stem(a->cat.paths[a->lesson_idx], stem, sizeof(stem));
    const char *footer = footer_text(a);
    trace_drag_point(a, drag, sizeof(drag));
    if (a->editing && a->editor.error[0])
        snprintf(err, sizeof(err), "%.*s", (int)strcspn(a->editor.error, "\n"), a->editor.error);
    snprintf(line, sizeof(line),
             "gradlab-trace: lesson=%s step=%zu/%zu blank=%d help=%d menu=%d fullscreen=%d editor=%d "
             "notes=%d playing=%d drag=%s footer=%s error=%s\n",
             stem, a->step + 1, a->lesson->nsteps, a->blank, a->help, a->in_menu, is_fullscreen(a),
             a->editing, a->notes.win != NULL, a->playing, drag, footer ? footer : "-", err[0] ? err : "-");
    if (strcmp(line, a->traced) != 0) {
        snprintf(a->traced, sizeof(a->traced), "%s", line);
        fputs(line, stdout);
        fflush(stdout);
    }
}

static void notes_close(NotesWindow *n)
{
    if (n->preview)
        SDL_DestroyTexture(n->preview);
    scene_renderer_destroy(n->sr);
    scene_destroy(n->scene);
    scene_destroy(n->preview_scene);
    if (n->ren)
        SDL_DestroyRenderer(n->ren);
    if (n->win)
        SDL_DestroyWindow(n->win);
    memset(n, 0, sizeof(*n));
}

static bool notes_open(App *a)
{
    NotesWindow *n = &a->notes;
    char err[4400];
    n->win = SDL_CreateWindow("gradlab \u2014 presenter notes", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
                              960, 600, SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    n->ren = n->win ? SDL_CreateRenderer(n->win, -1, 0) : NULL;
    n->sr = n->ren ? scene_renderer_create(n->ren, a->fonts, err, sizeof(err)) : NULL;
    n->scene = scene_create();
    n->preview_scene = scene_create();
    if (!n->sr || !n->scene || !n->preview_scene) {
        fprintf(stderr, "gradlab: error: cannot open the notes window: %s\n", n->sr ? "out of memory" : SDL_GetError());
        notes_close(n);
        return false;
    }
    scene_renderer_attach(n->sr, n->scene);
    scene_renderer_attach(n->sr, n->preview_scene);
    a->present_start = SDL_GetTicks();
    return true;
}

// Draw the notes window: notes and clock, and the next step rendered into a
// texture and copied into the preview box.
static void notes_draw(App *a)
{
    NotesWindow *n = &a->notes;
    if (!n->win)
        return;
    int w, h;
    SDL_GetRendererOutputSize(n->ren, &w, &h);
    const Lesson *l = a->lesson;
    bool has_next = a->step + 1 < l->nsteps;
    char next_text[2048];
    if (has_next && lesson_eval(l, a->graph, a->step + 1))
        lesson_step_text(l, a->graph, a->step + 1, next_text, sizeof(next_text));
    NotesParams np = {.lesson_title = l->title, .step = a->step, .nsteps = l->nsteps,
                      .notes = l->steps[a->step].notes, .next_text = has_next ? next_text : NULL,
                      .elapsed_s = (SDL_GetTicks() - a->present_start) / 1000.0,
                      .blanked = a->blank, .theme = theme_get(a->theme), .scale = 1};
    float box[4];
    notes_view_build(n->scene, &np, (float)w, (float)h, box);
    char inputs[256] = "";
    for (size_t i = 0, len = 0; i < program_input_count(l->program) && len < sizeof(inputs) - 24; i++)
        len += (size_t)snprintf(inputs + len, sizeof(inputs) - len, "%.17g;", program_input_value(l->program, i));
    bool stale = !n->preview || n->preview_lesson != l || n->preview_step != a->step ||
                 n->preview_theme != a->theme || strcmp(n->preview_inputs, inputs) != 0;
    if (has_next) {
        int pw = (int)box[2], ph = (int)box[3];
        if (!n->preview || n->preview_w != pw || n->preview_h != ph) {
            if (n->preview)
                SDL_DestroyTexture(n->preview);
            n->preview = SDL_CreateTexture(n->ren, SDL_PIXELFORMAT_RGBA8888, SDL_TEXTUREACCESS_TARGET,
                                           pw > 16 ? pw : 16, ph > 9 ? ph : 9);
            n->preview_w = pw, n->preview_h = ph;
            stale = true;
        }
    }
    if (has_next && stale) {
        int pw = (int)box[2], ph = (int)box[3];
        n->preview_lesson = l;
        n->preview_step = a->step;
        n->preview_theme = a->theme;
        snprintf(n->preview_inputs, sizeof(n->preview_inputs), "%s", inputs);
        // The preview is the next step's whole screen laid out at the size of
        // the box, so it shows what the projector will.
        LessonViewParams vp = {.lesson = l, .step = a->step + 1, .theme = theme_get(a->theme), .scale = 1};
        lesson_view_build(n->preview_scene, a->graph, &vp, (float)pw, (float)ph);
        if (n->preview && SDL_SetRenderTarget(n->ren, n->preview) == 0) {
            scene_renderer_draw(n->sr, n->preview_scene);
            SDL_SetRenderTarget(n->ren, NULL);
        }
    }
    scene_renderer_draw(n->sr, n->scene);
    if (has_next && n->preview) {
        SDL_Rect dst = {(int)box[0], (int)box[1], (int)box[2], (int)box[3]};
        SDL_RenderCopy(n->ren, n->preview, NULL, &dst);
    }
    SDL_RenderPresent(n->ren);
    // lesson_view_build above evaluated the next step; bring the graph back.
    lesson_eval(l, a->graph, a->step);
}

// Titles for the menu: every lesson in the catalog is parsed once.
static bool load_entries(App *a)
{
    a->entries = calloc(a->cat.n, sizeof(MenuEntry));
    a->entry_text = calloc(a->cat.n * 2, sizeof(char *));
    if (!a->entries || !a->entry_text)
        return false;
    for (size_t i = 0; i < a->cat.n; i++) {
        Diag d;
        Lesson *l = lesson_load(a->cat.paths[i], &d);
        diag_free(&d);
        char stem[256];
        catalog_stem(a->cat.paths[i], stem, sizeof(stem));
        a->entry_text[2 * i] = strdup(l ? l->title : stem);
        a->entry_text[2 * i + 1] = strdup(stem);
        a->entries[i] = (MenuEntry){a->entry_text[2 * i] ? a->entry_text[2 * i] : "",
                                    a->entry_text[2 * i + 1] ? a->entry_text[2 * i + 1] : "",
                                    l ? l->nsteps : 0};
        lesson_destroy(l);
    }
    return true;
}

// The name saved files start from: the lesson file's stem, or "editor".
static char *lesson_stem(const App *a, char *buf, size_t n)
{
    if (a->own_lesson) {
        snprintf(buf, n, "editor");
        return buf;
    }
    return catalog_stem(a->cat.paths[a->lesson_idx], buf, n);
}

// Files are written into the working folder through a temporary file
// renamed over the name (engine/fileio.h): a symlink standing there (to a
// ~/.bashrc, say) is replaced, never followed. Each outcome goes to stderr
// and to the status line.
static void report_saved(App *a, const char *path, bool ok, const char *err)
{
    if (ok) {
        fprintf(stderr, "gradlab: saved %s\n", path);
        snprintf(a->status, sizeof(a->status), "saved %s", path);
    } else {
        fprintf(stderr, "gradlab: error: %s\n", err);
        snprintf(a->status, sizeof(a->status), "%s", err);
    }
}

static void save_png(App *a)
{
    int w, h;
    pixel_size(a, &w, &h);
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
    char stem[128], path[300], err[600];
    lesson_stem(a, stem, sizeof(stem));
    snprintf(path, sizeof(path), "gradlab-%s-step%02zu.png", stem, a->step + 1);
    bool ok = s && SDL_RenderReadPixels(a->ren, NULL, SDL_PIXELFORMAT_RGB888, s->pixels, s->pitch) == 0;
    if (!ok)
        snprintf(err, sizeof(err), "cannot save %s: %s", path, SDL_GetError());
    else
        ok = surface_save_png(s, path, err, sizeof(err));
    report_saved(a, path, ok, err);
    SDL_FreeSurface(s);
}

// Write the CSV path with write(ctx, f); a failed write shows in ferror(f),
// which file_out_close checks. false with "cannot write 'PATH': REASON" in err.
static bool write_csv(const char *path, void (*write)(void *ctx, FILE *f), void *ctx, char *err, size_t errn)
{
    char tmp[400], why[256];
    FILE *f = file_out_open(path, tmp, sizeof(tmp), why, sizeof(why));
    if (f) {
        write(ctx, f);
        if (file_out_close(f, tmp, path, why, sizeof(why)))
            return true;
    }
    snprintf(err, errn, "cannot write '%s': %s", path, why);
    return false;
}

// Every named value of the lesson's program with its value and its
// gradient at the current step.
static void write_values(void *ctx, FILE *f)
{
    App *a = ctx;
    char v[32], g[32];
    const Program *p = a->lesson->program;
    lesson_eval(a->lesson, a->graph, a->step);
    fprintf(f, "name,value,grad\n");
    for (size_t i = 0; i < program_name_count(p); i++) {
        const Value *val = program_lookup(p, a->graph, program_name(p, i));
        fprintf(f, "%s,%s,%s\n", program_name(p, i), numfmt_exact(v, sizeof(v), val->data),
                (val->mark & LESSON_SHOWN_GRAD) ? numfmt_exact(g, sizeof(g), val->grad) : "");
    }
}

// The training plot's data.
static void write_history(void *ctx, FILE *f)
{
    App *a = ctx;
    LessonViewParams vp = {.lesson = a->lesson, .history = a->history, .nhistory = a->nhistory};
    PlotSeries ser = lesson_view_history_series(&vp);
    plot_write_csv(f, &ser, 1);
}

// Save the numbers on screen as CSV, and the training plot's when there is one.
static void save_csv(App *a)
{
    char stem[128], path[300], plot_path[320], err[600];
    lesson_stem(a, stem, sizeof(stem));
    snprintf(path, sizeof(path), "gradlab-%s-step%02zu.csv", stem, a->step + 1);
    bool ok = write_csv(path, write_values, a, err, sizeof(err));
    report_saved(a, path, ok, err);
    if (ok && a->nhistory) {
        snprintf(plot_path, sizeof(plot_path), "gradlab-%s-training.csv", stem);
        if (write_csv(plot_path, write_history, a, err, sizeof(err)))
            fprintf(stderr, "gradlab: saved %s\n", plot_path);
        else
            report_saved(a, plot_path, false, err);
    }
}

// One gradient-descent step of a `train:` lesson, recorded for the plot.
static void train_step(App *a)
{
    if (!a->lesson->train.enabled) {
        snprintf(a->status, sizeof(a->status), "this lesson has no 'train:' line");
        return;
    }
    if (!a->history && !(a->history = malloc(TRAIN_MAX_HISTORY * sizeof(double))))
        return;
    double f = lesson_train_step(a->lesson, a->graph);
    if (a->nhistory == TRAIN_MAX_HISTORY) { // keep the newest half
        memmove(a->history, a->history + TRAIN_MAX_HISTORY / 2, TRAIN_MAX_HISTORY / 2 * sizeof(double));
        a->nhistory = TRAIN_MAX_HISTORY / 2;
    }
    a->history[a->nhistory++] = f;
    a->dirty = true;
}

// Whether training that plays (P) should stop, with why in a->status: the
// loss is NaN or Inf, it has not fallen by a millionth of itself over the
// last TRAIN_PATIENCE steps, or TRAIN_MAX_STEPS were taken.
static bool train_should_stop(App *a)
{
    int n = a->nhistory;
    if (n == 0)
        return false;
    double last = a->history[n - 1];
    if (!isfinite(last)) {
        snprintf(a->status, sizeof(a->status), "training stopped: the output is %s (R resets)",
                 isnan(last) ? "NaN" : "infinite");
        return true;
    }
    if (n >= TRAIN_PATIENCE) {
        double best_before = INFINITY;
        for (int i = 0; i < n - TRAIN_PATIENCE + 1; i++)
            best_before = fmin(best_before, a->history[i]);
        double best_recent = INFINITY;
        for (int i = n - TRAIN_PATIENCE + 1; i < n; i++)
            best_recent = fmin(best_recent, a->history[i]);
        if (!(best_recent < best_before - 1e-6 * fabs(best_before))) {
            snprintf(a->status, sizeof(a->status), "training stopped after %d steps: the output stopped falling", n);
            return true;
        }
    }
    if (n >= TRAIN_MAX_STEPS) {
        snprintf(a->status, sizeof(a->status), "training stopped at the step limit (%d)", TRAIN_MAX_STEPS);
        return true;
    }
    return false;
}

// Auto-advance (P) holds while something covers the lesson.
static bool held(const App *a)
{
    return a->blank || a->help || a->editing || a->in_menu;
}

// The lesson shows again: a playing lesson waits a whole period before its
// next step rather than jumping at once.
static void resume_play(App *a)
{
    if (a->playing)
        a->next_advance = SDL_GetTicks() + (a->lesson->train.enabled ? TRAIN_INTERVAL_MS : PLAY_INTERVAL_MS);
}

static void set_fullscreen(App *a, bool on)
{
    SDL_SetWindowFullscreen(a->win, on ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
}

// Esc closes what is on top (the blank, the help, the menu), else leaves
// fullscreen, so a presenter's Esc never ends a talk; only in a window with
// nothing open does it quit. Returns false to quit. (The editor handles its
// own Esc.)
static bool escape(App *a)
{
    if (a->blank) {
        a->blank = false;
        resume_play(a);
    } else if (a->help) {
        a->help = false;
        resume_play(a);
    } else if (a->in_menu) {
        a->in_menu = false;
        resume_play(a);
    } else if (is_fullscreen(a)) {
        set_fullscreen(a, false);
    } else {
        return false;
    }
    a->dirty = true;
    return true;
}

static bool moves_step(Action act)
{
    return act == ACT_NEXT || act == ACT_PREV || act == ACT_FIRST || act == ACT_LAST || act == ACT_OPEN;
}

// Keys that change nothing under an overlay: the look, the window, the notes.
static bool harmless(Action act)
{
    return act == ACT_FULLSCREEN || act == ACT_THEME || act == ACT_ZOOM_IN || act == ACT_ZOOM_OUT ||
           act == ACT_ZOOM_RESET || act == ACT_NOTES;
}

// Open the editor on the draft kept for this lesson, or on the lesson's own
// program.
static void editor_open(App *a)
{
    if (!a->editor.text) {
        snprintf(a->status, sizeof(a->status), "the editor could not start: out of memory");
        return;
    }
    if (a->draft_gen != a->lesson_gen) {
        char *prog = a->own_lesson && a->applied ? strdup(a->applied) : editor_program_of(a->lesson->src);
        bool ok = prog && editor_set_text(&a->editor, prog);
        free(prog);
        if (!ok) {
            snprintf(a->status, sizeof(a->status), "the editor could not start: the program is too long");
            return;
        }
        a->draft_gen = a->lesson_gen;
    }
    a->editing = true;
    a->help = false;
    SDL_StartTextInput();
}

// Esc in the editor: close it, keeping the text as the draft for this lesson.
static void editor_cancel(App *a)
{
    a->editing = false;
    a->editor.error[0] = '\0';
    a->editor.error_line = a->editor.error_col = 0;
    SDL_StopTextInput();
    resume_play(a);
}

// Ctrl+Enter or F5: the program becomes the open lesson, or its errors
// show in the editor (and on stderr, as for files).
static void editor_apply(App *a)
{
    Lesson *l = editor_compile(&a->editor);
    if (!l) {
        fputs(a->editor.error, stderr);
        return;
    }
    char *copy = strdup(a->editor.text);
    if (!copy) {
        lesson_destroy(l);
        snprintf(a->editor.error, sizeof(a->editor.error), "%s: error: out of memory\n", EDITOR_FILE);
        return;
    }
    if (!a->own_lesson)
        a->resume_step = a->step;
    free(a->applied);
    a->applied = copy;
    set_lesson(a, l, true);
    a->draft_gen = a->lesson_gen;
    a->playing = false;
    a->editing = false;
    SDL_StopTextInput();
    snprintf(a->status, sizeof(a->status), "your program, %zu steps: \u2192 steps through it, E edits it",
             l->nsteps);
}

// A key while the editor is open.
static void editor_key(App *a, SDL_Keycode key, Uint16 mod)
{
    bool ctrl = mod & (KMOD_CTRL | KMOD_GUI);
    Editor *e = &a->editor;
    switch (key) {
    case SDLK_ESCAPE: editor_cancel(a); break;
    case SDLK_F5: editor_apply(a); break;
    case SDLK_RETURN: case SDLK_KP_ENTER:
        if (ctrl)
            editor_apply(a);
        else
            editor_newline(e);
        break;
    case SDLK_BACKSPACE: editor_backspace(e); break;
    case SDLK_DELETE: editor_delete(e); break;
    case SDLK_LEFT: editor_move(e, EDITOR_LEFT); break;
    case SDLK_RIGHT: editor_move(e, EDITOR_RIGHT); break;
    case SDLK_UP: editor_move(e, EDITOR_UP); break;
    case SDLK_DOWN: editor_move(e, EDITOR_DOWN); break;
    case SDLK_PAGEUP: for (int i = 0; i < 10; i++) editor_move(e, EDITOR_UP); break;
    case SDLK_PAGEDOWN: for (int i = 0; i < 10; i++) editor_move(e, EDITOR_DOWN); break;
    case SDLK_HOME: editor_move(e, ctrl ? EDITOR_TEXT_START : EDITOR_LINE_START); break;
    case SDLK_END: editor_move(e, ctrl ? EDITOR_TEXT_END : EDITOR_LINE_END); break;
    case SDLK_TAB: editor_insert(e, "\t"); break;
    case SDLK_v:
        if (ctrl && SDL_HasClipboardText()) {
            char *clip = SDL_GetClipboardText();
            if (clip)
                editor_insert(e, clip);
            SDL_free(clip);
        }
        break;
    default: return; // typed characters arrive as SDL_TEXTINPUT
    }
    a->dirty = true;
}

// Returns false when the app should quit.
static bool apply(App *a, Action act, SDL_Keycode key)
{
    if (act == ACT_NONE)
        return true;
    size_t last = a->lesson->nsteps - 1;
    a->status[0] = '\0';
    a->dirty = true;
    if (act == ACT_QUIT)
        return false;
    if (act == ACT_ESCAPE)
        return escape(a);
    if (a->blank) { // nothing changes under a blanked screen
        if (moves_step(act)) { // a step key shows the screen again, at the same step
            a->blank = false;
            resume_play(a);
            return true;
        }
        if (act != ACT_BLANK && !harmless(act))
            return true;
    }
    // The help covers the lesson: keys that would change it underneath wait.
    if (a->help && act != ACT_HELP && act != ACT_BLANK && act != ACT_SAVE && !harmless(act))
        return true;
    if (a->in_menu) { // arrows move between cards; Enter opens
        int w, h;
        pixel_size(a, &w, &h);
        size_t cols = menu_view_columns((float)w, (float)h, a->scale), n = a->cat.n;
        switch (key) {
        case SDLK_RIGHT: a->menu_sel = (a->menu_sel + 1) % n; break;
        case SDLK_LEFT: a->menu_sel = (a->menu_sel + n - 1) % n; break;
        case SDLK_DOWN: if (a->menu_sel + cols < n) a->menu_sel += cols; break;
        case SDLK_UP: if (a->menu_sel >= cols) a->menu_sel -= cols; break;
        case SDLK_SPACE: act = ACT_OPEN; break;
        default: break;
        }
        if (act == ACT_OPEN) {
            if (load_lesson(a, a->menu_sel))
                a->in_menu = false;
            return true;
        }
        if (act != ACT_MENU && !harmless(act))
            return true;
    }
    switch (act) {
    case ACT_NONE: case ACT_QUIT: case ACT_ESCAPE: case ACT_OPEN:
        break;
    case ACT_NEXT:
        if (a->page + 1 < a->npages) // a narrative that pages: its next page first
            a->page++;
        else if (a->step < last)
            a->step++;
        else if (!a->own_lesson && a->lesson_idx + 1 < a->cat.n)
            load_lesson(a, a->lesson_idx + 1);
        break;
    case ACT_PREV:
        if (a->page > 0)
            a->page--;
        else if (a->step > 0)
            a->step--;
        else if (!a->own_lesson && a->lesson_idx > 0 && load_lesson(a, a->lesson_idx - 1))
            a->step = a->lesson->nsteps - 1;
        break;
    case ACT_FIRST: a->step = 0; break;
    case ACT_LAST: a->step = last; break;
    case ACT_FULLSCREEN: set_fullscreen(a, !is_fullscreen(a)); break;
    case ACT_HELP:
        a->help = !a->help;
        if (!a->help)
            resume_play(a);
        break;
    case ACT_BLANK:
        a->blank = !a->blank;
        if (!a->blank)
            resume_play(a);
        break;
    case ACT_ZOOM_IN: a->scale = fminf(a->scale * 1.1f, 3.0f); break;
    case ACT_ZOOM_OUT: a->scale = fmaxf(a->scale / 1.1f, 0.5f); break;
    case ACT_ZOOM_RESET: a->scale = 1; break;
    case ACT_SAVE: a->save_pending = true; break; // read back after the next draw, before present
    case ACT_THEME: a->theme = (ThemeId)((a->theme + 1) % THEME_COUNT); break;
    case ACT_MENU:
        a->in_menu = !a->in_menu;
        a->menu_sel = a->lesson_idx;
        if (!a->in_menu)
            resume_play(a);
        break;
    case ACT_PLAY:
        a->playing = !a->playing;
        a->next_advance = SDL_GetTicks() + (a->lesson->train.enabled ? TRAIN_INTERVAL_MS : PLAY_INTERVAL_MS);
        if (a->lesson->train.enabled)
            snprintf(a->status, sizeof(a->status), a->playing ? "\u25b6 training: a gradient step per frame (P pauses)"
                                                              : "paused");
        else
            snprintf(a->status, sizeof(a->status), a->playing ? "\u25b6 playing: a step every 4 s (P pauses)"
                                                              : "paused");
        break;
    case ACT_TRAIN_STEP:
        train_step(a);
        break;
    case ACT_NOTES:
        if (a->notes.win)
            notes_close(&a->notes);
        else
            notes_open(a);
        break;
    case ACT_CSV:
        save_csv(a);
        break;
    case ACT_RESET: { // back to the lesson's own inputs, same step
        size_t step = a->step;
        bool ok;
        if (a->own_lesson) {
            char err[EDITOR_ERROR_BYTES];
            int line, col;
            Lesson *l = editor_compile_text(a->applied, err, sizeof(err), &line, &col);
            if ((ok = l != NULL)) {
                set_lesson(a, l, true);
                a->draft_gen = a->lesson_gen;
            }
        } else {
            ok = load_lesson(a, a->lesson_idx);
        }
        if (ok) {
            a->step = step < a->lesson->nsteps ? step : 0;
            snprintf(a->status, sizeof(a->status), "inputs reset");
        }
        break;
    }
    case ACT_EDIT:
        editor_open(a);
        break;
    }
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

// Is the open lesson drawn with the zoomable graph widget?
static bool graph_view(const App *a)
{
    return !a->in_menu && a->lesson && strcmp(a->lesson->view, "graph") == 0;
}

// Nothing under the blank, the help or the editor reacts to the mouse.
static bool covered(const App *a)
{
    return a->blank || a->help || a->editing;
}

static bool control_down(App *a, float px, float py);

static void mouse_down(App *a, int x, int y)
{
    if (covered(a))
        return;
    float px, py;
    to_pixels(a, x, y, &px, &py);
    if (a->in_menu) {
        const SceneItem *card = scene_hit(a->scene, px, py, "card:");
        if (card) {
            a->menu_sel = (size_t)strtoul(card->id + 5, NULL, 10);
            apply(a, ACT_OPEN, SDLK_UNKNOWN);
        }
        return;
    }
    if (control_down(a, px, py))
        return;
    const SceneItem *it = scene_hit(a->scene, px, py, "value:");
    if (!it) {
        a->panning = graph_view(a);
        return;
    }
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

// Wheel over a graph view: zoom about the mouse.
static void mouse_wheel(App *a, int dy)
{
    // Scale 0 means "fit on the next build": nothing to zoom about yet.
    if (covered(a) || !graph_view(a) || dy == 0 || a->gstate.view.scale == 0)
        return;
    int mx, my;
    SDL_GetMouseState(&mx, &my);
    float px, py;
    to_pixels(a, mx, my, &px, &py);
    graph_view_zoom(&a->gstate.view, &a->gstate.last, dy > 0 ? 1.15f : 1 / 1.15f, px, py);
    a->dirty = true;
}

// Motion over a boundary panel's small neuron maps ("panel:NAME:neuron:K"):
// the view gets the mouse and draws the neuron under it large. Rebuilds
// only when the neuron under the mouse changes. True when it took the motion.
static bool neuron_hover(App *a, float px, float py)
{
    const SceneItem *it = a->run ? scene_hit(a->scene, px, py, "panel:") : NULL;
    const char *id = it && strstr(it->id, ":neuron:") ? it->id : "";
    if (!id[0] && !a->neuron_hovered[0])
        return false;
    if (strcmp(id, a->neuron_hovered) != 0) {
        snprintf(a->neuron_hovered, sizeof(a->neuron_hovered), "%s", id);
        a->gstate.hover = id[0] != '\0';
        a->gstate.mouse_x = px;
        a->gstate.mouse_y = py;
        a->dirty = true;
    }
    return id[0] != '\0';
}

// Motion over a `chars` panel (not a graph view): the character under the
// mouse becomes the selected one, and stays so when the mouse leaves.
static void chars_hover(App *a, int x, int y)
{
    float px, py;
    to_pixels(a, x, y, &px, &py);
    const SceneItem *it = a->in_menu || !a->scene ? NULL : scene_hit(a->scene, px, py, "panel:");
    if (!it || !strstr(it->id, ":char:") || strcmp(it->id, a->hover_char) == 0)
        return;
    snprintf(a->hover_char, sizeof(a->hover_char), "%s", it->id);
    a->gstate.hover = true;
    a->gstate.mouse_x = px;
    a->gstate.mouse_y = py;
    a->dirty = true;
}

// Motion: hover tooltips in a graph view, panning when dragging its background.
static void mouse_move(App *a, int x, int y, int dx, int dy)
{
    if (covered(a))
        return;
    float px, py, pdx, pdy;
    to_pixels(a, x, y, &px, &py);
    if (!graph_view(a))
        chars_hover(a, x, y);
    if (neuron_hover(a, px, py) || !graph_view(a))
        return;
    to_pixels(a, dx, dy, &pdx, &pdy);
    if (a->panning && a->gstate.view.scale != 0) {
        graph_view_pan(&a->gstate.view, pdx, pdy);
        a->gstate.hover = false;
        a->dirty = true;
        return;
    }
    // Rebuild only when the node under the mouse changes.
    int hit = graph_hit_node(a->scene, px, py, NULL);
    if (hit == a->hovered && a->gstate.hover)
        return;
    a->hovered = hit;
    a->gstate.hover = true;
    a->gstate.mouse_x = px;
    a->gstate.mouse_y = py;
    a->dirty = true;
}

static void mouse_drag(App *a, int x, int y, bool fine)
{
    if (!a->drag_name[0] || covered(a))
        return;
    float px, py;
    to_pixels(a, x, y, &px, &py);
    int w, h;
    pixel_size(a, &w, &h);
    float u = lesson_view_unit((float)w, (float)h, a->scale);
    double per_px = (fine ? 0.01 : 0.1) / (u * 4); // 0.1 per 4 unit-pixels
    double v = a->drag_v0 + (px - a->drag_x0) * per_px;
    v = round(v * (fine ? 100 : 10)) / (fine ? 100 : 10);
    if (a->run)
        run_set_param(a->run, run_param_find(a->run, a->drag_name), v);
    else
        program_set_input(a->lesson->program, a->drag_name, v);
    a->dirty = true;
}

// The value of the control "param:NAME" under pixel px: a slider's position.
static void param_drag(App *a, float px)
{
    char name[80];
    snprintf(name, sizeof(name), "%s", a->param_drag + strlen("param:"));
    name[strcspn(name, ":")] = '\0'; // "param:t:scrub": a strip that scrubs t (lstm_cell_view.h)
    int i = run_param_find(a->run, name);
    const SceneItem *track = scene_find(a->scene, a->param_drag);
    if (i < 0 || !track)
        return;
    const LessonParam *p = &a->lesson->f2.params[i];
    SliderParams sp = {.x = track->x, .w = track->w, .lo = p->min, .hi = p->max, .log_scale = p->log};
    run_set_param(a->run, i, slider_value_at(&sp, px));
    a->dirty = true;
}

// A click on a surface map ("panel:NAME:surface"): the point under the mouse
// becomes the start of the panel's source, through the params its x0 and y0
// options name ({param}). False when the click is elsewhere.
static bool surface_down(App *a, float px, float py)
{
    const SceneItem *it = a->run ? scene_hit(a->scene, px, py, "panel:") : NULL;
    if (!it || !strstr(it->id, ":surface"))
        return false;
    char name[96];
    snprintf(name, sizeof(name), "%.*s", (int)(strstr(it->id, ":surface") - it->id - 6), it->id + 6);
    const LessonFormat2 *f2 = &a->lesson->f2;
    const LessonPanel *panel = NULL;
    for (int i = 0; i < f2->npanels; i++)
        if (strcmp(f2->panels[i].name, name) == 0)
            panel = &f2->panels[i];
    if (!panel || panel->nrefs == 0)
        return false;
    const LessonSource *src = NULL;
    for (int i = 0; i < f2->nsources; i++)
        if (strcmp(f2->sources[i].name, panel->refs[0]) == 0)
            src = &f2->sources[i];
    char range_name[RUN_ARRAY_NAME];
    snprintf(range_name, sizeof(range_name), "%s.range", panel->refs[0]);
    const double *range = NULL;
    int n = 0;
    double x, y;
    if (!src || !run_lookup(a->run, range_name, &range, &n) || n != 4 ||
        !surface_point_at(it, range, px, py, &x, &y))
        return false;
    const char *opts[2] = {source_option(src, "x0"), source_option(src, "y0")};
    double v[2] = {x, y};
    for (int k = 0; k < 2; k++) {
        size_t len = opts[k] ? strlen(opts[k]) : 0;
        if (len < 3 || opts[k][0] != '{' || opts[k][len - 1] != '}')
            continue; // a start written as a number stays where the lesson put it
        char param[80];
        snprintf(param, sizeof(param), "%.*s", (int)(len - 2), opts[k] + 1);
        run_set_param(a->run, run_param_find(a->run, param), v[k]);
    }
    a->dirty = true;
    return true;
}

// The last place needle occurs in s, or NULL (panel names may hold the same words).
static const char *last_of(const char *s, const char *needle)
{
    const char *last = NULL;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        last = p;
    return last;
}

// A click on a training point of a boundary panel ("panel:NAME:point:I"):
// the point becomes the one its source follows, through the param its
// `point` option names ({param}). False when the click is elsewhere.
static bool boundary_point_down(App *a, float px, float py)
{
    const SceneItem *it = a->run ? scene_hit(a->scene, px, py, "panel:") : NULL;
    const char *at = it ? last_of(it->id, ":point:") : NULL;
    if (at && (at[7] < '0' || at[7] > '9')) // "panel:point:map": a panel called point
        at = NULL;
    const char *map = it ? last_of(it->id, ":map") : NULL;
    if (!at && (!map || map[4] != '\0'))
        return false;
    if (!at) { // on the map: the nearest point within a few radii, points are small
        char prefix[128];
        snprintf(prefix, sizeof(prefix), "%.*s:point:", (int)(map - it->id), it->id);
        const SceneItem *best = NULL;
        float best_d = INFINITY;
        for (size_t i = 0; i < a->scene->n; i++) {
            const SceneItem *q = &a->scene->items[i];
            if (!q->id || q->kind != SCENE_CIRCLE || strncmp(q->id, prefix, strlen(prefix)) != 0)
                continue;
            float d = hypotf(q->x - px, q->y - py);
            if (d < best_d && d <= 4 * q->radius)
                best = q, best_d = d;
        }
        if (!best)
            return false;
        it = best;
        at = last_of(it->id, ":point:");
    }
    char name[96];
    snprintf(name, sizeof(name), "%.*s", (int)(at - it->id - 6), it->id + 6);
    int index = atoi(at + strlen(":point:"));
    const LessonFormat2 *f2 = &a->lesson->f2;
    const LessonPanel *panel = NULL;
    for (int i = 0; i < f2->npanels; i++)
        if (strcmp(f2->panels[i].name, name) == 0)
            panel = &f2->panels[i];
    const LessonSource *src = NULL;
    for (int i = 0; panel && panel->nrefs > 0 && i < f2->nsources; i++)
        if (strcmp(f2->sources[i].name, panel->refs[0]) == 0)
            src = &f2->sources[i];
    const char *opt = src ? source_option(src, "point") : NULL;
    size_t len = opt ? strlen(opt) : 0;
    if (len < 3 || opt[0] != '{' || opt[len - 1] != '}')
        return false; // a point written as a number stays where the lesson put it
    char param[80];
    snprintf(param, sizeof(param), "%.*s", (int)(len - 2), opt + 1);
    int k = run_param_find(a->run, param);
    if (k < 0)
        return false;
    run_set_param(a->run, k, index);
    a->dirty = true;
    return true;
}

// A click on a control: a slider starts a drag, a toggle flips, a choice is taken.
static bool control_down(App *a, float px, float py)
{
    if (surface_down(a, px, py) || boundary_point_down(a, px, py))
        return true;
    const SceneItem *it = a->run ? scene_hit(a->scene, px, py, "param:") : NULL;
    if (!it)
        return false;
    char id[160];
    snprintf(id, sizeof(id), "%s", it->id);
    char *knob = strstr(id, ":knob");
    if (knob) // the slider's knob: the same as its track
        *knob = '\0';
    char *choice = strchr(id + strlen("param:"), '=');
    if (choice) { // "param:NAME=WORD"
        *choice++ = '\0';
        int i = run_param_find(a->run, id + strlen("param:"));
        const LessonParam *p = i >= 0 ? &a->lesson->f2.params[i] : NULL;
        for (int k = 0; p && k < p->nchoices; k++)
            if (strcmp(p->choices[k], choice) == 0)
                run_set_param(a->run, i, k);
        a->dirty = true;
        return true;
    }
    if (strstr(id, ":scrub")) { // a strip dragged like a slider's track (lstm_cell_view.h)
        snprintf(a->param_drag, sizeof(a->param_drag), "%s", id);
        param_drag(a, px);
        return true;
    }
    int i = run_param_find(a->run, id + strlen("param:"));
    if (i < 0)
        return true;
    if (a->lesson->f2.params[i].kind == PARAM_TOGGLE) {
        run_set_param(a->run, i, run_param(a->run, i) != 0 ? 0 : 1);
        a->dirty = true;
        return true;
    }
    snprintf(a->param_drag, sizeof(a->param_drag), "%s", id);
    param_drag(a, px);
    return true;
}

static void app_destroy(App *a)
{
    notes_close(&a->notes);
    graph_layout_destroy(a->gstate.layout);
    if (a->entry_text)
        for (size_t i = 0; i < a->cat.n * 2; i++)
            free(a->entry_text[i]);
    free(a->entry_text);
    free(a->entries);
    free(a->history);
    free(a->applied);
    editor_free(&a->editor);
    run_destroy(a->run);
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

// The app's lessons: those named on the command line first, then every
// bundled lesson not already named.
static int build_catalog(App *a, int argc, char **argv)
{
    int rc = catalog_resolve(&a->cat, argc, argv);
    if (rc || argc == 0)
        return rc;
    Catalog bundled;
    if (catalog_resolve(&bundled, 0, NULL) != 0)
        return 0; // no bundled lessons: the named ones are enough
    for (size_t i = 0; i < bundled.n; i++) {
        bool dup = false;
        for (size_t k = 0; k < a->cat.n && !dup; k++)
            dup = catalog_same_file(a->cat.paths[k], bundled.paths[i]);
        if (dup)
            continue;
        char **p = realloc(a->cat.paths, (a->cat.n + 1) * sizeof(char *));
        if (!p)
            break;
        a->cat.paths = p;
        a->cat.paths[a->cat.n++] = bundled.paths[i];
        bundled.paths[i] = NULL;
    }
    catalog_free(&bundled);
    return 0;
}

// Milliseconds until the next timed event (auto-advance, the notes clock),
// or -1 to wait for input only.
static int next_timeout(const App *a)
{
    Uint32 now = SDL_GetTicks();
    int t = -1;
    if (a->playing && !held(a))
        t = a->next_advance > now ? (int)(a->next_advance - now) : 0;
    if (a->notes.win) {
        int clock = 1000 - (int)((now - a->present_start) % 1000);
        t = t < 0 || clock < t ? clock : t;
    }
    if (a->run && run_busy(a->run)) // a source is working: draw its progress about 60 times a second
        t = t < 0 || t > 16 ? 16 : t;
    return t;
}


// One scripted event for the soak test: keys a student and a presenter
// press, lesson changes, input drags to extreme values (NaN and Inf
// included), graph zooms and hovers. Everything goes through handle_event,
// the same path as real input. Keys that write files (S, C) are left out,
// and so are Esc and Q (they quit) and so is typing into the editor: F5
// applies its unchanged program, so the editor never stays open for good.
static void soak_push(App *a)
{
    static const SDL_Keycode keys[] = {
        SDLK_RIGHT, SDLK_RIGHT, SDLK_RIGHT, SDLK_LEFT, SDLK_END, SDLK_HOME, SDLK_PAGEDOWN, SDLK_SPACE,
        SDLK_t, SDLK_h, SDLK_h, SDLK_b, SDLK_b, SDLK_m, SDLK_RIGHT, SDLK_RETURN, SDLK_p, SDLK_p,
        SDLK_n, SDLK_RIGHT, SDLK_n, SDLK_r, SDLK_f, SDLK_f, SDLK_g, SDLK_g,
        SDLK_e, SDLK_END, SDLK_F5, SDLK_RIGHT, SDLK_r, // the editor: open, apply, step, reset
    };
    static const double extremes[] = {0, -1, 1e308, -1e308, 1e-300, 3.5, -2, 710};
    unsigned long k = a->soak_events++;
    SDL_Event ev;
    memset(&ev, 0, sizeof(ev));
    if (k % 7 == 3 && a->lesson && program_input_count(a->lesson->program)) {
        // A drag, as mouse_drag would do it: set an input, redraw.
        Program *p = a->lesson->program;
        size_t i = (k / 7) % program_input_count(p);
        if (a->run)
            run_set_param(a->run, run_param_find(a->run, program_input_name(p, i)), extremes[(k / 3) % 8]);
        else
            program_set_input(p, program_input_name(p, i), extremes[(k / 3) % 8]);
        a->dirty = true;
        return;
    }
    if (k % 11 == 5) {
        ev.type = SDL_MOUSEWHEEL;
        ev.wheel.windowID = SDL_GetWindowID(a->win);
        ev.wheel.y = (k / 11) % 2 ? 1 : -1;
    } else if (k % 13 == 6) {
        ev.type = SDL_MOUSEMOTION;
        ev.motion.windowID = SDL_GetWindowID(a->win);
        ev.motion.x = (int)(k * 37 % 1280);
        ev.motion.y = (int)(k * 53 % 720);
    } else {
        ev.type = SDL_KEYDOWN;
        ev.key.windowID = SDL_GetWindowID(a->win);
        ev.key.keysym.sym = keys[k % (sizeof(keys) / sizeof(keys[0]))];
    }
    SDL_PushEvent(&ev);
}

// The median of the samples v[lo..hi).
static float soak_median(const float *v, int lo, int hi)
{
    float tmp[SOAK_MAX_SAMPLES];
    int n = 0;
    for (int i = lo; i < hi; i++) {
        int j = n++;
        for (; j > 0 && tmp[j - 1] > v[i]; j--) // insertion sort
            tmp[j] = tmp[j - 1];
        tmp[j] = v[i];
    }
    return n ? tmp[n / 2] : 0;
}

// Judge the resident-memory samples of a soak. Memory grows while caches,
// fonts and allocator pools warm up, then stays flat; a leak keeps growing.
// Each lesson holds a different amount while it is open (a lesson that
// trains CNNs holds 15 MB more than a circuit), so samples taken while
// lessons are still opened for the first time would rise with no leak: the
// warm-up lasts until every lesson has been open once, and at least the
// first half of the run and SOAK_WARMUP_S seconds. Only the samples after
// it count (a run too short or too slow for that is not judged, and says
// so, and exits 77: meson's "skipped", never a pass), and the run fails only
// when both
//   - the least-squares slope over them exceeds SOAK_MAX_SLOPE MB a minute, and
//   - the median of their last quarter exceeds that of their first quarter
//     by more than SOAK_MAX_GROWTH MB (a single late step of the allocator
//     is not a trend).
// Prints the figures; returns the exit status: 0 when memory stayed flat,
// 1 when it kept growing, 77 when the run could not be judged.
static int soak_judge(const App *a)
{
    int n = a->soak_nsamples, first = 0;
    double warm = fmax(a->soak_seconds * 0.5, SOAK_WARMUP_S);
    size_t want = a->cat.n < SOAK_MAX_LESSONS ? a->cat.n : SOAK_MAX_LESSONS;
    if (!a->soak_pass_at) {
        printf("soak: only %zu of %zu lessons were opened in %.0f s; run longer to judge memory\n", a->soak_nseen,
               want, a->soak_seconds);
        return 77;
    }
    printf("soak: every lesson had been open once after %.0f s\n", a->soak_pass_at);
    warm = fmax(warm, a->soak_pass_at);
    while (first < n && a->soak_rss_at[first] < warm)
        first++;
    int m = n - first;
    if (m < 8) {
        printf("soak: only %d samples after the warm-up; run longer to judge memory\n", m);
        return 77;
    }
    double st = 0, sm = 0, stt = 0, stm = 0;
    for (int i = first; i < n; i++) {
        double t = a->soak_rss_at[i] / 60.0, v = a->soak_rss_mb[i];
        st += t, sm += v, stt += t * t, stm += t * v;
    }
    double slope = (m * stm - st * sm) / (m * stt - st * st); // MB per minute
    float early = soak_median(a->soak_rss_mb, first, first + m / 4);
    float late = soak_median(a->soak_rss_mb, n - m / 4, n);
    printf("soak_rss_start %.1f MB\nsoak_rss_after_warmup %.1f MB (after %.0f s)\nsoak_rss_end %.1f MB\n",
           a->soak_rss_mb[0], early, warm, late);
    printf("soak_rss_growth_after_warmup %+.1f MB (limit +%.1f MB)\n", late - early, SOAK_MAX_GROWTH);
    printf("soak_rss_slope %+.2f MB/min (limit +%.1f MB/min)\n", slope, SOAK_MAX_SLOPE);
    bool leak = slope > SOAK_MAX_SLOPE && late - early > SOAK_MAX_GROWTH;
    if (leak)
        printf("soak: resident memory keeps growing after the warm-up: a leak\n");
    return leak ? 1 : 0;
}

// Returns false when the soak is over; prints the memory figures.
static bool soak_tick(App *a, int *status)
{
    Uint32 ms = SDL_GetTicks() - a->soak_start;
    double elapsed = ms / 1000.0;
    if (a->soak_nsamples < SOAK_MAX_SAMPLES && ms >= (Uint32)a->soak_nsamples * SOAK_SAMPLE_MS) {
        a->soak_rss_mb[a->soak_nsamples] = (float)(platform_rss_bytes() / 1048576.0);
        a->soak_rss_at[a->soak_nsamples++] = (float)elapsed;
    }
    if (elapsed < a->soak_seconds) {
        soak_push(a);
        return true;
    }
    printf("soak: %.0f s, %lu scripted events over %zu lessons\n", elapsed, a->soak_events, a->cat.n);
    *status = soak_judge(a);
    return false;
}

static bool handle_event(App *a, const SDL_Event *ev)
{
    Uint32 main_id = SDL_GetWindowID(a->win);
    if (a->editing) { // the editor takes the keyboard and shields the lesson from the mouse
        switch (ev->type) {
        case SDL_TEXTINPUT:
            editor_insert(&a->editor, ev->text.text);
            a->dirty = true;
            return true;
        case SDL_KEYDOWN:
            editor_key(a, ev->key.keysym.sym, ev->key.keysym.mod);
            return true;
        case SDL_MOUSEBUTTONDOWN: case SDL_MOUSEMOTION: case SDL_MOUSEWHEEL:
            return true;
        default:
            break;
        }
    }
    switch (ev->type) {
    case SDL_QUIT:
        return false;
    case SDL_KEYDOWN:
        return apply(a, action_for_key(ev->key.keysym.sym, ev->key.keysym.mod), ev->key.keysym.sym);
    case SDL_WINDOWEVENT:
        if (ev->window.event == SDL_WINDOWEVENT_CLOSE) {
            if (ev->window.windowID == main_id)
                return false;
            notes_close(&a->notes);
        }
        if (ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED || ev->window.event == SDL_WINDOWEVENT_EXPOSED)
            a->dirty = true;
        return true;
    case SDL_MOUSEBUTTONDOWN:
        if (ev->button.button == SDL_BUTTON_LEFT && ev->button.windowID == main_id)
            mouse_down(a, ev->button.x, ev->button.y);
        return true;
    case SDL_MOUSEMOTION:
        if (ev->motion.windowID != main_id)
            return true;
        if ((ev->motion.state & SDL_BUTTON_LMASK) && a->param_drag[0] && a->run) {
            float px, py;
            to_pixels(a, ev->motion.x, ev->motion.y, &px, &py);
            param_drag(a, px);
        } else if ((ev->motion.state & SDL_BUTTON_LMASK) && a->drag_name[0])
            mouse_drag(a, ev->motion.x, ev->motion.y, SDL_GetModState() & KMOD_SHIFT);
        else
            mouse_move(a, ev->motion.x, ev->motion.y, ev->motion.xrel, ev->motion.yrel);
        return true;
    case SDL_MOUSEWHEEL:
        if (ev->wheel.windowID == main_id)
            mouse_wheel(a, ev->wheel.y);
        return true;
    case SDL_MOUSEBUTTONUP:
        a->panning = false;
        a->param_drag[0] = '\0';
        if (a->drag_name[0]) {
            a->drag_name[0] = '\0';
            SDL_SetCursor(SDL_GetDefaultCursor());
        }
        return true;
    default:
        return true;
    }
}

int app_main(int argc, char **argv)
{
#ifdef __GLIBC__
    // Each lesson's run starts a worker thread, and glibc would give every
    // such thread a malloc arena of its own that keeps what it freed: the
    // resident size would creep up as lessons come and go. Two arenas suffice.
    mallopt(M_ARENA_MAX, 2);
    // (main sets the mmap threshold, for every command.)
#endif
    App a = {.scale = 1, .theme = THEME_DARK, .hovered = -1};
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "gradlab: error: unknown option '%s'; see 'gradlab --help'\n", argv[i]);
            return 2;
        }
    }
    int rc = build_catalog(&a, argc, argv);
    if (rc)
        return rc;
    if (a.cat.n == 0) {
        fprintf(stderr, "gradlab: error: no lessons to open\n");
        catalog_free(&a.cat);
        return 2;
    }
    // Check the data folder and fonts before touching the display.
    char data[4096];
    if (!platform_data_dir(data, sizeof(data))) {
        fprintf(stderr, "gradlab: error: cannot find gradlab's data folder; looked in %s\n", data);
        catalog_free(&a.cat);
        return 2;
    }
    snprintf(a.fonts, sizeof(a.fonts), "%s/assets/fonts", data);
    char settings_file[1100] = "";
    if (settings_path(settings_file, sizeof(settings_file)))
        settings_load(&a.settings, settings_file);
    else
        settings_default(&a.settings);
    a.theme = a.settings.theme;
    a.scale = a.settings.scale;
    // Continue where the last session stopped when its lesson is one of
    // those asked for: any bundled one when none is named, else one of the
    // named ones (the first named lesson otherwise, at its first step).
    size_t first = 0, first_step = 0;
    size_t named = argc == 0 || (size_t)argc > a.cat.n ? a.cat.n : (size_t)argc;
    if (a.settings.last_lesson[0]) {
        for (size_t i = 0; i < named; i++) {
            if (catalog_same_file(a.cat.paths[i], a.settings.last_lesson)) {
                first = i;
                first_step = (size_t)a.settings.last_step;
                break;
            }
        }
    }

    SDL_SetHint(SDL_HINT_VIDEO_HIGHDPI_DISABLED, "0");
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        catalog_free(&a.cat);
        return no_display(SDL_GetError());
    }
    const char *soak = getenv("GRADLAB_SOAK");
    if (soak && *soak) {
        a.soak_seconds = strtod(soak, NULL);
        if (!(a.soak_seconds >= 1 && a.soak_seconds <= 3600)) {
            fprintf(stderr, "gradlab: error: GRADLAB_SOAK=%s: give the soak time in seconds, 1 to 3600\n", soak);
            SDL_Quit();
            catalog_free(&a.cat);
            return 2;
        }
    }
    const char *driver = SDL_GetCurrentVideoDriver();
    if (!a.soak_seconds && driver && (strcmp(driver, "dummy") == 0 || strcmp(driver, "offscreen") == 0)) {
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
    char err[4400];
    a.sr = scene_renderer_create(a.ren, a.fonts, err, sizeof(err));
    a.gstate.layout = graph_layout_create();
    a.scene = scene_create();
    a.graph = graph_create(PROGRAM_MAX_NODES + 1);
    if (!a.sr || !a.scene || !a.graph || !load_entries(&a) ||
        !(load_lesson(&a, first) || (first != 0 && load_lesson(&a, 0)))) {
        fprintf(stderr, "gradlab: error: %s\n",
                !a.sr ? err : a.lesson || !a.graph ? "out of memory" : "the lesson does not load (errors above)");
        app_destroy(&a);
        SDL_Quit();
        return 2;
    }
    if (a.lesson_idx == first) // a lesson shorter than it was stops at its last step
        a.step = first_step < a.lesson->nsteps ? first_step : a.lesson->nsteps - 1;
    // Text input (SDL_TEXTINPUT) only while the editor is open; SDL starts
    // it by default, and E must not type an 'e' into the editor it opens.
    SDL_StopTextInput();
    editor_init(&a.editor, NULL); // a.editor.text stays NULL when out of memory: E then says so
    const char *trace = getenv("GRADLAB_TRACE");
    a.trace = trace && *trace && strcmp(trace, "0") != 0;
    scene_renderer_attach(a.sr, a.scene);
    a.dirty = true;
    a.soak_start = SDL_GetTicks();
    int exit_status = 0;
    bool running = true;
    while (running) {
        if (a.dirty) {
            rebuild(&a);
            scene_renderer_draw(a.sr, a.scene);
            bool saved = a.save_pending;
            if (saved) { // pixels are only valid between drawing and presenting
                a.save_pending = false;
                save_png(&a);
            }
            SDL_RenderPresent(a.ren);
            trace_state(&a);
            if (!a.in_menu)
                notes_draw(&a);
            a.dirty = saved; // after a save, draw once more to show the status line
            continue;
        }
        SDL_Event ev;
        if (a.soak_seconds && !soak_tick(&a, &exit_status))
            break;
        int timeout = a.soak_seconds ? 0 : next_timeout(&a);
        bool got = timeout < 0 ? SDL_WaitEvent(&ev) : SDL_WaitEventTimeout(&ev, timeout);
        if (!got && a.run && run_poll(a.run)) { // the worker published
            a.dirty = true;
            continue;
        }
        if (!got) { // a timer ran out
            if (a.playing && !held(&a) && SDL_GetTicks() >= a.next_advance) {
                if (a.lesson->train.enabled) {
                    train_step(&a);
                    a.next_advance = SDL_GetTicks() + TRAIN_INTERVAL_MS;
                    if (train_should_stop(&a))
                        a.playing = false;
                } else {
                    if (a.step + 1 < a.lesson->nsteps)
                        a.step++;
                    else
                        a.playing = false;
                    a.next_advance = SDL_GetTicks() + PLAY_INTERVAL_MS;
                }
                a.dirty = true;
            } else if (a.notes.win && !a.in_menu) {
                notes_draw(&a); // the clock
            }
            continue;
        }
        do {
            running = handle_event(&a, &ev) && running;
        } while (running && SDL_PollEvent(&ev));
    }
    a.settings.theme = a.theme;
    a.settings.scale = a.scale;
    char absolute[4096];
    catalog_absolute(a.cat.paths[a.lesson_idx], absolute, sizeof(absolute));
    snprintf(a.settings.last_lesson, sizeof(a.settings.last_lesson), "%s", absolute);
    a.settings.last_step = (long)(a.own_lesson ? a.resume_step : a.step);
    if (!a.soak_seconds && settings_file[0] && !settings_save(&a.settings, settings_file))
        fprintf(stderr, "gradlab: warning: cannot save settings to %s\n", settings_file);
    app_destroy(&a);
    SDL_Quit();
    return exit_status;
}
