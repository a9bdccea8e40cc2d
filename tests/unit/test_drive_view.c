// test_drive_view.c: the frame strip (src/views/widgets/drive.h) by
// scene-level assertions: each image captioned "t = k" with its kind under
// it, or, with labels, with the word for its kind; words a lesson's labels
// do not have show as "?", and every caption stays inside the panel.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "views/scene.h"
#include "views/theme.h"
#include "views/widgets/drive.h"

static int count_text(const Scene *s, const char *text)
{
    int n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->items[i].kind == SCENE_TEXT && s->items[i].text && strcmp(s->items[i].text, text) == 0;
    return n;
}

static void build(Scene *s, const double *kinds, const char *labels, float w)
{
    static double pixels[4 * 6 * 8];
    for (size_t i = 0; i < sizeof(pixels) / sizeof(pixels[0]); i++)
        pixels[i] = (double)(i % 7) / 6.0;
    FrameStripParams p = {.x = 10, .y = 20, .w = w, .h = 200, .unit = 1, .theme = theme_get(THEME_DARK),
                          .pixels = pixels, .n = 4, .ih = 6, .iw = 8, .kinds = kinds, .labels = labels,
                          .selected = -1, .title = "frames", .id = "f"};
    scene_begin(s, 1400, 800, theme_get(THEME_DARK)->background);
    frame_strip_build(s, &p);
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].kind == SCENE_TEXT) {
            const SceneItem *it = &s->items[i];
            float left = it->align == ALIGN_CENTER ? it->x - it->w / 2 : it->x;
            assert_true(left >= p.x - 1 && left + it->w <= p.x + p.w + 1);
        }
}

static void test_steps_and_kinds(void **state)
{
    (void)state;
    Scene *s = scene_create();
    const double kinds[4] = {0, 1, 0, 3};
    build(s, kinds, NULL, 600);
    assert_int_equal(count_text(s, "t = 0"), 1);
    assert_int_equal(count_text(s, "t = 3"), 1);
    assert_int_equal(count_text(s, "shadow"), 1);
    assert_int_equal(count_text(s, "dropped"), 1);
    scene_destroy(s);
}

static void test_labels(void **state)
{
    (void)state;
    Scene *s = scene_create();
    const double labels[4] = {2, 0, 1, 7};   // 7: no such word
    build(s, labels, "steer left,straight,steer right", 600);
    assert_int_equal(count_text(s, "steer right"), 1);
    assert_int_equal(count_text(s, "steer left"), 1);
    assert_int_equal(count_text(s, "straight"), 1);
    assert_int_equal(count_text(s, "?"), 1);
    assert_int_equal(count_text(s, "t = 0"), 0);   // no step numbers, no kinds
    assert_int_equal(count_text(s, "noise"), 0);
    // Narrow: the captions still stay inside (build checks it).
    build(s, labels, "steer left,straight,steer right", 90);
    scene_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_and_kinds),
        cmocka_unit_test(test_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
