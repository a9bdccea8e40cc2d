// test_wide_render.c: a property test of the lesson screens on programs
// nobody wrote by hand. Seeded recipes go through the fuzzers' generator
// (tests/fuzz/program_gen.h) to make wide, deep, fanned-out, tree and DAG
// programs of 1 to 2,000 inputs; every one must parse, and every step of it
// must build its screen at three sizes and scales without touching freed or
// foreign memory (the sanitizer build runs this test under ASan and UBSan,
// and Valgrind runs it too), within the scene's caps, and with text that was
// cut to the documented bound.
//
// The bug it guards against: a pointer to a scene item held across an append
// that moved the item array (31 inputs were enough in the circuit view).
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fuzz/program_gen.h"
#include "engine/diag.h"
#include "lessons/lesson.h"
#include "views/lesson_view.h"
#include "views/scene.h"
#include "views/theme.h"

// The input counts every shape is tried with: the edges of the item array's
// growth (256, 512, ...) and of the format's limits, and a few in between.
static const unsigned sizes[] = {1, 2, 3, 7, 31, 32, 33, 64, 127, 255, 256, 257, 500, 1000, 1999, 2000};
// GRADLAB_QUICK=1 (Valgrind's run): fewer sizes, one screen per step.
static const unsigned quick_sizes[] = {1, 31, 300};

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

// Build every step of the lesson at the sizes a lecture hall meets, each
// into a new scene (a young scene moves its items on every append when built
// with GRADLAB_MOVE_ON_GROW, as the sanitizer suite is).
static void build_all_steps(const Lesson *l, Graph *g)
{
    static const struct { float w, h, scale; } screens[] = {{1280, 720, 1}, {1024, 768, 2}, {64, 64, 4}};
    size_t nscreens = getenv("GRADLAB_QUICK") ? 1 : sizeof(screens) / sizeof(screens[0]);
    for (size_t st = 0; st < l->nsteps; st++) {
        for (size_t k = 0; k < nscreens; k++) {
            Scene *scene = scene_create();
            assert_non_null(scene);
            LessonViewParams vp = {.lesson = l, .step = st, .theme = theme_get((ThemeId)(st % THEME_COUNT)),
                                   .scale = screens[k].scale, .help = st + 1 == l->nsteps, .status = "test"};
            lesson_view_build(scene, g, &vp, screens[k].w, screens[k].h);
            assert_false(scene->failed);
            for (size_t i = 0; i < scene->n; i++)
                if (scene->items[i].kind == SCENE_TEXT)
                    assert_true(strlen(scene->items[i].text) <= SCENE_TEXT_MAX_BYTES + 3);
            scene_destroy(scene);
        }
    }
}

static void test_generated_programs_render(void **state)
{
    (void)state;
    Graph *g = graph_create(PROGRAM_MAX_NODES + 1);
    char *text = malloc(GEN_MAX_TEXT);
    assert_non_null(g);
    assert_non_null(text);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    unsigned tried = 0;
    bool quick = getenv("GRADLAB_QUICK") != NULL;
    const unsigned *want_sizes = quick ? quick_sizes : sizes;
    size_t nsizes = quick ? sizeof(quick_sizes) / sizeof(quick_sizes[0]) : sizeof(sizes) / sizeof(sizes[0]);
    for (unsigned shape = 0; shape < GEN_SHAPES; shape++) {
        for (size_t si = 0; si < nsizes; si++) {
            uint8_t recipe[4096];
            for (size_t i = 0; i < sizeof(recipe); i++)
                recipe[i] = (uint8_t)rng_next(&seed);
            recipe[0] = (uint8_t)shape;
            gen_set_inputs(recipe, sizeof(recipe), want_sizes[si]);
            size_t len = gen_lesson(recipe, sizeof(recipe), text, GEN_MAX_TEXT);
            assert_true(len > 0);
            char want[64];
            snprintf(want, sizeof(want), "Generated %u-input program (shape %u)", want_sizes[si], shape);
            assert_non_null(strstr(text, want)); // the recipe asked for what it meant to
            Diag d;
            diag_init(&d, "generated.lesson", text, len);
            Lesson *l = lesson_parse(text, len, "generated.lesson", &d);
            if (!l)
                print_message("%s\n--- the generated lesson:\n%.2000s\n", diag_text(&d), text);
            assert_non_null(l);
            build_all_steps(l, g);
            lesson_destroy(l);
            diag_free(&d);
            tried++;
        }
    }
    print_message("built every step of %u generated lessons (%s)\n", tried,
                  quick ? "quick: 1, 31 and 300 inputs" : "1 to 2000 inputs");
    free(text);
    graph_destroy(g);
}

// The lesson of the report: f = a0 + ... + a30, in the circuit view.
static void test_sum_of_31_inputs(void **state)
{
    (void)state;
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof(text), "gradlab-lesson: 1\ntitle: Sum\nview: circuit\nprogram:\n");
    for (int i = 0; i < 31; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "    a%d = %d\n", i, i % 5 - 2);
    n += (size_t)snprintf(text + n, sizeof(text) - n, "    f = a0");
    for (int i = 1; i < 31; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, " + a%d", i);
    n += (size_t)snprintf(text + n, sizeof(text) - n, "\nstep: auto\n");
    Diag d;
    diag_init(&d, "sum.lesson", text, n);
    Lesson *l = lesson_parse(text, n, "sum.lesson", &d);
    assert_non_null(l);
    Graph *g = graph_create(PROGRAM_MAX_NODES + 1);
    Scene *scene = scene_create();
    build_all_steps(l, g);
    // Every input's value is on screen at some step: the chain is too wide
    // to read whole, so the circuit is a window that follows the steps
    // (circuit.h, min_unit), the left end when no gate is current.
    LessonViewParams vp = {.lesson = l, .step = l->nsteps - 1, .theme = theme_get(THEME_DARK), .scale = 1};
    lesson_view_build(scene, g, &vp, 1920, 1080);
    assert_non_null(scene_find(scene, "value:a0"));
    bool seen = false;
    for (size_t st = 0; st < l->nsteps && !seen; st++) {
        vp.step = st;
        lesson_view_build(scene, g, &vp, 1920, 1080);
        seen = scene_find(scene, "value:a30") != NULL;
    }
    assert_true(seen);
    scene_destroy(scene);
    graph_destroy(g);
    lesson_destroy(l);
    diag_free(&d);
}

// A legal lesson of almost 1 MiB whose title is one line: every text item
// on screen is cut before it is stored (at most 4 KiB, two frames wide), and
// the title is fitted to its slot beside the step counter, with an ellipsis.
// Before the cut, the whole title went to the renderer (seconds, and
// gigabytes on some SDL_ttf builds).
static void test_huge_title_is_cut(void **state)
{
    (void)state;
    size_t cap = LESSON_MAX_BYTES;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n = (size_t)snprintf(text, cap, "gradlab-lesson: 1\ntitle: ");
    while (n < cap - 200)
        n += (size_t)snprintf(text + n, cap - n, "a very long title ");
    n += (size_t)snprintf(text + n, cap - n, "\nprogram:\n    x = 1\n    f = x * 2\nstep: intro\n    %s\n", "word");
    Diag d;
    diag_init(&d, "huge.lesson", text, n);
    Lesson *l = lesson_parse(text, n, "huge.lesson", &d);
    assert_non_null(l);
    Graph *g = graph_create(PROGRAM_MAX_NODES + 1);
    Scene *s = scene_create();
    LessonViewParams vp = {.lesson = l, .step = 0, .theme = theme_get(THEME_DARK), .scale = 1};
    lesson_view_build(s, g, &vp, 1280, 720);
    for (size_t i = 0; i < s->n; i++) {
        if (s->items[i].kind != SCENE_TEXT)
            continue;
        assert_true(strlen(s->items[i].text) <= SCENE_TEXT_MAX_BYTES + 3);
        assert_true(s->items[i].w <= SCENE_TEXT_MAX_WIDTH_FACTOR * 1280);
    }
    const SceneItem *title = scene_find(s, "title"), *counter = scene_find(s, "step-counter");
    assert_non_null(title);
    assert_non_null(counter);
    assert_true(title->x + title->w < counter->x - counter->w); // left of the right-aligned counter
    assert_non_null(strstr(title->text, "\u2026"));
    scene_destroy(s);
    graph_destroy(g);
    lesson_destroy(l);
    diag_free(&d);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_title_is_cut),
        cmocka_unit_test(test_sum_of_31_inputs),
        cmocka_unit_test(test_generated_programs_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
