// test_scale_fit.c: a presenter's larger text (Ctrl +, --scale 2) or a
// small projector must not make a panel's content vanish. Lesson 12's
// panels (a strip of frames, a layer diagram, an accuracy plot, controls)
// are built at the sizes of the bar (1280x720, 1920x1080, 1024x768, scales
// 1, 1.5 and 2); each must show its pictures or say that it is too small,
// and no text on screen may be under 9 px. The lesson is the bundled one
// with its training shortened (the layout is what is tested, not the
// numbers).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesson_test.h"
#include "lessons/run.h"
#include "views/lesson_view.h"
#include "views/scene.h"
#include "views/theme.h"

// Replace every "from" in text (a buffer of n bytes) with "to".
static void replace_all(char *text, size_t n, const char *from, const char *to)
{
    char *p = text;
    size_t lf = strlen(from), lt = strlen(to);
    while ((p = strstr(p, from)) != NULL) {
        assert_true(strlen(text) - lf + lt < n);
        memmove(p + lt, p + lf, strlen(p + lf) + 1);
        memcpy(p, to, lt);
        p += lt;
    }
}

// Lesson 12 as bundled, with short training runs; NULL (the test skipped)
// when the source folder is not known.
static Lesson *lesson12(void)
{
    const char *root = getenv("GRADLAB_SOURCE_DIR");
    if (!root)
        return NULL;
    char path[1024];
    snprintf(path, sizeof(path), "%s/lessons/12-transfer.lesson", root);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    replace_all(text, sizeof(text), "steps 150", "steps 2");
    replace_all(text, sizeof(text), "steps 60", "steps 1");
    replace_all(text, sizeof(text), "every 15", "every 1");
    replace_all(text, sizeof(text), "test 150", "test 12");
    return lesson_test_parse_named(text, path);
}

static bool has_prefix(const Scene *s, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].id && strncmp(s->items[i].id, prefix, n) == 0)
            return true;
    return false;
}

static void test_lesson12_panels_at_every_size(void **state)
{
    (void)state;
    Lesson *l = lesson12();
    if (!l) {
        print_message("skipped: GRADLAB_SOURCE_DIR is not set\n");
        skip();
    }
    char err[512];
    Run *r = run_create(l, false, err, sizeof(err));
    if (!r)
        fail_msg("%s", err);
    run_goto(r, 2); // step 3: the frames, the layers, the accuracy plot and the controls
    run_settle(r);
    static const struct { float w, h, scale; } sizes[] = {
        {1280, 720, 1}, {1920, 1080, 1}, {1024, 768, 1}, {1024, 768, 1.5f}, {1280, 720, 1.5f}, {1280, 720, 2},
        {1920, 1080, 2}, {1024, 768, 2},
    };
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    assert_non_null(s);
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        LessonViewParams vp = {.lesson = l, .theme = theme_get(THEME_DARK), .scale = sizes[k].scale, .run = r};
        lesson_view_build(s, g, &vp, sizes[k].w, sizes[k].h);
        assert_false(s->failed);
        bool frames = scene_find(s, "panel:samples:frames:frame") != NULL;
        bool notice = scene_find(s, "panel:samples:frames:too-small") != NULL;
        if (!frames && !notice)
            fail_msg("%gx%g scale %g: the frames panel shows neither its frames nor that it is too small", sizes[k].w,
                     sizes[k].h, sizes[k].scale);
        // Where the bar says it must fit, the pictures themselves are there.
        if (!frames)
            fail_msg("%gx%g scale %g: the frames panel has no room for its frames", sizes[k].w, sizes[k].h,
                     sizes[k].scale);
        if (!scene_find(s, "panel:net:layer:conv1") || !scene_find(s, "panel:net:layer:head"))
            fail_msg("%gx%g scale %g: the layer diagram's boxes are missing", sizes[k].w, sizes[k].h,
                     sizes[k].scale);
        assert_true(has_prefix(s, "panel:acc:xy"));
        // The accuracy plot's y labels (drawn top to bottom or bottom to
        // top) never run into each other, however short the plot is.
        float prev = -1e9f;
        int nlabels = 0;
        for (size_t i = 0; i < s->n; i++) {
            const SceneItem *it = &s->items[i];
            if (!it->id || strcmp(it->id, "panel:acc:xy:ytick") != 0 || it->kind != SCENE_TEXT)
                continue;
            if (nlabels++ > 0 && fabsf(it->y - prev) < scene_line_height(it->size) * 0.95f)
                fail_msg("%gx%g scale %g: y labels '%s' overlap", sizes[k].w, sizes[k].h, sizes[k].scale, it->text);
            prev = it->y;
        }
        assert_true(nlabels >= 2);
        for (size_t i = 0; i < s->n; i++)
            if (s->items[i].kind == SCENE_TEXT && s->items[i].size < 9 - 1e-3f)
                fail_msg("%gx%g scale %g: '%s' is %.1f px", sizes[k].w, sizes[k].h, sizes[k].scale,
                         s->items[i].text, s->items[i].size);
    }
    scene_destroy(s);
    graph_destroy(g);
    run_destroy(r);
    lesson_destroy(l);
}

// Where a strip truly cannot fit, it says so (and draws no images).
static void test_too_small_says_so(void **state)
{
    (void)state;
    Lesson *l = lesson12();
    if (!l)
        skip();
    char err[512];
    Run *r = run_create(l, false, err, sizeof(err));
    if (!r)
        fail_msg("%s", err);
    run_goto(r, 2);
    run_settle(r);
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    LessonViewParams vp = {.lesson = l, .theme = theme_get(THEME_LIGHT), .scale = 4, .run = r};
    lesson_view_build(s, g, &vp, 800, 450);
    assert_false(s->failed);
    assert_true(scene_find(s, "panel:samples:frames:frame") || scene_find(s, "panel:samples:frames:too-small"));
    scene_destroy(s);
    graph_destroy(g);
    run_destroy(r);
    lesson_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lesson12_panels_at_every_size),
        cmocka_unit_test(test_too_small_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
