// test_golden.c: a few golden-image tests. Renders lesson 1 headless exactly
// as `gradlab render` does and compares the pixels with PNGs kept in this
// folder, with a tolerance: a pixel counts as different when a channel is
// off by more than 48, and the test fails when more than 20 pixels differ:
// enough slack for a rasteriser's rounding, too little for a changed digit
// (one digit is 40 to 70 pixels at this size). To accept a deliberate change of look, re-render with
//   gradlab render 1 --out DIR --size 640x360 [--theme contrast]
// and copy the step named below over the golden file.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <SDL_image.h>

#include "lessons/lesson.h"
#include "lessons/run.h"
#include "sdl/sdl_scene.h"
#include "views/lesson_view.h"

static const char *data_dir(void)
{
    const char *d = getenv("GRADLAB_DATA_DIR");
    return d ? d : ".";
}

static void compare_golden(const char *golden, size_t step, ThemeId theme)
{
    char path[1024], fonts[1024], err[1200], lesson_path[1024];
    snprintf(fonts, sizeof(fonts), "%s/assets/fonts", data_dir());
    snprintf(lesson_path, sizeof(lesson_path), "%s/lessons/01-circuit.lesson", data_dir());
    snprintf(path, sizeof(path), "%s/tests/golden/%s", data_dir(), golden);
    Diag d;
    Lesson *l = lesson_load(lesson_path, &d);
    diag_free(&d);
    assert_non_null(l);
    Offscreen *o = offscreen_create(640, 360, fonts, err, sizeof(err));
    assert_non_null(o);
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    scene_renderer_attach(offscreen_scene_renderer(o), s);
    // As render does: the step's state through a run (params, sources).
    Run *run = run_create(l, false, err, sizeof(err));
    if (!run)
        fail_msg("run_create: %s", err);
    run_goto(run, step);
    run_settle(run);
    LessonViewParams vp = {.lesson = l, .step = step, .theme = theme_get(theme), .scale = 1, .run = run};
    lesson_view_build(s, g, &vp, 640, 360);
    SDL_Surface *got = SDL_ConvertSurfaceFormat(offscreen_draw(o, s), SDL_PIXELFORMAT_RGBA32, 0);
    SDL_Surface *png = IMG_Load(path);
    if (!png)
        fail_msg("cannot load golden image %s: %s", path, IMG_GetError());
    SDL_Surface *want = SDL_ConvertSurfaceFormat(png, SDL_PIXELFORMAT_RGBA32, 0);
    assert_int_equal(want->w, got->w);
    assert_int_equal(want->h, got->h);
    long differ = 0;
    for (int y = 0; y < got->h; y++) {
        const unsigned char *a = (const unsigned char *)got->pixels + y * got->pitch;
        const unsigned char *b = (const unsigned char *)want->pixels + y * want->pitch;
        for (int x = 0; x < got->w * 4; x += 4) {
            int dmax = 0;
            for (int c = 0; c < 3; c++) {
                int dd = abs(a[x + c] - b[x + c]);
                dmax = dd > dmax ? dd : dmax;
            }
            differ += dmax > 48;
        }
    }
    long limit = 20;
    if (differ > limit) {
        char out[1100];
        snprintf(out, sizeof(out), "%s.actual.png", golden);
        IMG_SavePNG(got, out);
        fail_msg("%s: %ld pixels differ (limit %ld); the new render is in %s", golden, differ, limit, out);
    }
    printf("# %s: %ld of %d pixels differ (limit %ld)\n", golden, differ, got->w * got->h, limit);
    SDL_FreeSurface(png);
    SDL_FreeSurface(want);
    SDL_FreeSurface(got);
    run_destroy(run);
    graph_destroy(g);
    scene_destroy(s);
    offscreen_destroy(o);
    lesson_destroy(l);
}

static void test_backward_step_dark(void **state)
{
    (void)state;
    compare_golden("01-circuit-step04-640x360.png", 3, THEME_DARK);
}

static void test_last_step_contrast(void **state)
{
    (void)state;
    compare_golden("01-circuit-step06-640x360-contrast.png", 5, THEME_CONTRAST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backward_step_dark),
        cmocka_unit_test(test_last_step_contrast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
