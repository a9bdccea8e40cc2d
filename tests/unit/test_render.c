// test_render.c: headless rendering of lesson 1 (sdl/sdl_scene.h): every
// step drawn by SDL's software renderer into a surface and written as a
// PNG into a temporary folder, then read back with SDL2_image: each file
// exists, has the right size and is not blank, and a number appears on
// screen exactly when the scene says it does. Needs no display
// (SDL_VIDEODRIVER=dummy comes from the test environment).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_image.h>

#include "app/platform.h"
#include "lessons/lesson.h"
#include "sdl/sdl_scene.h"
#include "views/lesson_view.h"
#include "views/scene.h"
#include "views/theme.h"

#define W 1280
#define H 720

typedef struct Fixture {
    char data[4096];
    char fonts[4200];
    char dir[256];          // the temporary output folder
    Lesson *lesson;
    Offscreen *off;
    Scene *scene;
    Graph *graph;
} Fixture;

static int setup(void **state)
{
    Fixture *f = calloc(1, sizeof(*f));
    *state = f;
    if (!platform_data_dir(f->data, sizeof(f->data))) {
        fprintf(stderr, "no data folder; looked in %s\n", f->data);
        return -1;
    }
    snprintf(f->fonts, sizeof(f->fonts), "%s/assets/fonts", f->data);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/gradlab-render-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        perror("mkdtemp");
        return -1;
    }
    char path[4200], err[512];
    snprintf(path, sizeof(path), "%s/lessons/01-circuit.lesson", f->data);
    Diag d;
    f->lesson = lesson_load(path, &d);
    if (!f->lesson)
        fprintf(stderr, "%s", diag_text(&d));
    diag_free(&d);
    f->off = offscreen_create(W, H, f->fonts, err, sizeof(err));
    if (!f->off)
        fprintf(stderr, "offscreen_create: %s\n", err);
    f->scene = scene_create();
    f->graph = graph_create(0);
    if (!f->lesson || !f->off || !f->scene || !f->graph)
        return -1;
    scene_renderer_attach(offscreen_scene_renderer(f->off), f->scene);
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    if (f->dir[0]) {
        char path[512];
        for (size_t st = 0; st < 100; st++) {
            snprintf(path, sizeof(path), "%s/01-circuit-step%02zu.png", f->dir, st + 1);
            remove(path);
        }
        const char *extra[] = {"victim.txt", "link.png"};
        for (size_t i = 0; i < 2; i++) {
            snprintf(path, sizeof(path), "%s/%s", f->dir, extra[i]);
            remove(path);
        }
        rmdir(f->dir);
    }
    lesson_destroy(f->lesson);
    offscreen_destroy(f->off);
    scene_destroy(f->scene);
    graph_destroy(f->graph);
    free(f);
    return 0;
}

static void build(Fixture *f, size_t step, ThemeId theme)
{
    LessonViewParams p = {.lesson = f->lesson, .step = step, .theme = theme_get(theme), .scale = 1};
    lesson_view_build(f->scene, f->graph, &p, W, H);
    assert_false(f->scene->failed);
}

// The pixel at (x, y) as 0xRRGGBB, from a surface in any 32-bit format.
static uint32_t pixel(const SDL_Surface *s, int x, int y)
{
    const uint8_t *row = (const uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch;
    uint32_t v;
    memcpy(&v, row + (size_t)x * 4, 4);
    uint8_t r, g, b;
    SDL_GetRGB(v, s->format, &r, &g, &b);
    return (uint32_t)r << 16 | (uint32_t)g << 8 | b;
}

static uint32_t rgb(Color c)
{
    return (uint32_t)c.r << 16 | (uint32_t)c.g << 8 | c.b;
}

// Distinct colours (counted up to a cap) and pixels unlike the background.
static void survey(const SDL_Surface *s, uint32_t background, size_t *ncolors, size_t *nforeground)
{
    enum { CAP = 4096 };
    static uint32_t seen[CAP];
    size_t n = 0, fg = 0;
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++) {
            uint32_t p = pixel(s, x, y);
            fg += p != background;
            if (n < CAP) {
                size_t i = 0;
                while (i < n && seen[i] != p)
                    i++;
                if (i == n)
                    seen[n++] = p;
            }
        }
    *ncolors = n;
    *nforeground = fg;
}

// Pixels unlike the background inside an item's text box, shrunk by inset.
static size_t ink_in_box(const SDL_Surface *s, const SceneItem *it, uint32_t background, float inset)
{
    float x0 = it->align == ALIGN_LEFT ? it->x : it->align == ALIGN_CENTER ? it->x - it->w / 2 : it->x - it->w;
    int xa = (int)ceilf(x0 + inset), xb = (int)floorf(x0 + it->w - inset);
    int ya = (int)ceilf(it->y + inset), yb = (int)floorf(it->y + it->h - inset);
    size_t n = 0;
    for (int y = ya < 0 ? 0 : ya; y < yb && y < s->h; y++)
        for (int x = xa < 0 ? 0 : xa; x < xb && x < s->w; x++)
            n += pixel(s, x, y) != background;
    return n;
}

// Every step of lesson 1 to a PNG; read each back; none is blank.
static void test_render_pngs(void **state)
{
    Fixture *f = *state;
    uint32_t bg = rgb(theme_get(THEME_DARK)->background);
    char path[512], err[512];
    for (size_t st = 0; st < f->lesson->nsteps; st++) {
        build(f, st, THEME_DARK);
        snprintf(path, sizeof(path), "%s/01-circuit-step%02zu.png", f->dir, st + 1);
        if (!offscreen_save_png(f->off, f->scene, path, err, sizeof(err)))
            fail_msg("step %zu: %s", st + 1, err);
    }
    for (size_t st = 0; st < f->lesson->nsteps; st++) {
        snprintf(path, sizeof(path), "%s/01-circuit-step%02zu.png", f->dir, st + 1);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_true(sb.st_size > 1000);
        SDL_Surface *img = IMG_Load(path);
        if (!img)
            fail_msg("IMG_Load %s: %s", path, IMG_GetError());
        SDL_Surface *rgbs = SDL_ConvertSurfaceFormat(img, SDL_PIXELFORMAT_RGB888, 0);
        SDL_FreeSurface(img);
        assert_non_null(rgbs);
        assert_int_equal(rgbs->w, W);
        assert_int_equal(rgbs->h, H);
        assert_int_equal(pixel(rgbs, 0, 0), bg); // the corner is background
        size_t ncolors, fg;
        survey(rgbs, bg, &ncolors, &fg);
        print_message("  step %zu: %zu colours, %zu foreground pixels\n", st + 1, ncolors, fg);
        // Antialiased text and shapes: many colours, and a good share of ink.
        assert_true(ncolors > 50);
        assert_true(fg > (size_t)(W * H) / 20);
        assert_true(fg < (size_t)(W * H)); // and not one flat colour either
        SDL_FreeSurface(rgbs);
    }
}

// A number is drawn where the scene puts it, exactly when it is shown.
static void test_pixels_follow_scene(void **state)
{
    Fixture *f = *state;
    uint32_t bg = rgb(theme_get(THEME_DARK)->background);
    build(f, 2, THEME_DARK); // forward f: the wire of f says -12
    const SceneItem *it = scene_find_text(f->scene, "value:f", "-12");
    assert_non_null(it);
    SceneItem box = *it;
    SDL_Surface *s = offscreen_draw(f->off, f->scene);
    assert_non_null(s);
    assert_int_equal(s->w, W);
    size_t ink = ink_in_box(s, &box, bg, 2);
    print_message("  ink in value:f at step 3: %zu\n", ink);
    assert_true(ink > 30);
    build(f, 0, THEME_DARK); // intro: f has no value yet
    assert_null(scene_find(f->scene, "value:f"));
    s = offscreen_draw(f->off, f->scene);
    ink = ink_in_box(s, &box, bg, 2);
    print_message("  ink in the same box at step 1: %zu\n", ink);
    assert_true(ink == 0);
}

// Themes change the pixels: the corner is each theme's background.
static void test_themes(void **state)
{
    Fixture *f = *state;
    uint32_t corner[THEME_COUNT];
    for (int t = 0; t < THEME_COUNT; t++) {
        build(f, 5, (ThemeId)t);
        SDL_Surface *s = offscreen_draw(f->off, f->scene);
        corner[t] = pixel(s, 0, 0);
        assert_int_equal(corner[t], rgb(theme_get((ThemeId)t)->background));
    }
    assert_true(corner[THEME_DARK] != corner[THEME_LIGHT]);
}

// Failures are messages naming what was tried.
static void test_errors(void **state)
{
    Fixture *f = *state;
    char err[1024] = "";
    Offscreen *o = offscreen_create(64, 64, "/nonexistent/fonts", err, sizeof(err));
    assert_null(o);
    print_message("  bad font folder: %s\n", err);
    assert_non_null(strstr(err, "/nonexistent/fonts"));
    build(f, 0, THEME_DARK);
    err[0] = '\0';
    assert_false(offscreen_save_png(f->off, f->scene, "/nonexistent/dir/x.png", err, sizeof(err)));
    print_message("  bad output path: %s\n", err);
    assert_non_null(strstr(err, "/nonexistent/dir/x.png"));
    offscreen_destroy(NULL);
}

// A PNG written where a symlink stands replaces the link itself: the file
// it points to (a ~/.bashrc, say) is left alone.
static void test_symlink_not_followed(void **state)
{
    Fixture *f = *state;
    char victim[512], link[512], err[1024] = "";
    snprintf(victim, sizeof(victim), "%s/victim.txt", f->dir);
    snprintf(link, sizeof(link), "%s/link.png", f->dir);
    FILE *v = fopen(victim, "w");
    assert_non_null(v);
    fputs("keep me\n", v);
    fclose(v);
    assert_int_equal(symlink(victim, link), 0);
    build(f, 0, THEME_DARK);
    assert_true(offscreen_save_png(f->off, f->scene, link, err, sizeof(err)));
    char buf[64] = "";
    v = fopen(victim, "r");
    assert_non_null(v);
    assert_non_null(fgets(buf, sizeof(buf), v));
    fclose(v);
    assert_string_equal(buf, "keep me\n");
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISREG(st.st_mode));   // the link itself was replaced by the PNG
    SDL_Surface *png = IMG_Load(link);
    assert_non_null(png);
    assert_int_equal(png->w, W);
    SDL_FreeSurface(png);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_pngs),
        cmocka_unit_test(test_pixels_follow_scene),
        cmocka_unit_test(test_themes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_symlink_not_followed),
    };
    return cmocka_run_group_tests_name("render", tests, setup, teardown);
}
