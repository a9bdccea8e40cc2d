// test_textflow.c: narrative text is never cut silently. It is drawn at its
// size when it fits, shrinks down to the floor when not, and then pages with
// a visible mark ("1/3 ▸", "◂ 2/3 ▸", "◂ 3/3"); every word of the text is on
// exactly one page, in order, and nothing is drawn outside the box. Also the
// page count and fits-check that `gradlab check` and the app use.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views/textflow.h"
#include "views/theme.h"

static const char para[] =
    "The backward pass starts at the output with **df/df = 1**. A multiply gate's local gradient for one "
    "input is the `other` input, multiplied by the upstream gradient.";

// A long narrative: n paragraphs and a bullet list.
static char *long_text(int n)
{
    size_t cap = (size_t)n * (sizeof(para) + 40) + 400, len = 0;
    char *t = malloc(cap);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap - len, "%sParagraph %d. %s", i ? "\n\n" : "", i + 1, para);
    snprintf(t + len, cap - len, "\n\n- first point\n- second point, `code` too\n- the last word");
    return t;
}

static TextStyle style(float size, int page)
{
    const Theme *t = theme_get(THEME_DARK);
    return (TextStyle){.size = size, .text = t->text, .code = t->accent, .id = "narrative", .page = page};
}

// The characters of the text items tagged id, in drawing order, without
// spaces (runs split and join at spaces and at markup).
static void chars_of(const Scene *s, const char *id, char *buf, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].kind == SCENE_TEXT && s->items[i].id && strcmp(s->items[i].id, id) == 0)
            for (const char *q = s->items[i].text; *q && len + 1 < n; q++)
                if (*q != ' ')
                    buf[len++] = *q;
    buf[len] = 0;
}

static void assert_inside(const Scene *s, float x, float y, float w, float h)
{
    for (size_t i = 0; i < s->n; i++) {
        const SceneItem *it = &s->items[i];
        float x0 = it->align == ALIGN_LEFT ? it->x : it->align == ALIGN_CENTER ? it->x - it->w / 2 : it->x - it->w;
        assert_true(x0 >= x - 0.5f && it->y >= y - 0.5f);
        assert_true(x0 + it->w <= x + w + 0.5f && it->y + it->h <= y + h + 0.5f);
    }
}

// The characters the flow should draw: markup and white space dropped, a
// bullet for each "- " item.
static void plain(const char *src, char *out, size_t n)
{
    size_t len = 0;
    for (const char *p = src; *p && len + 4 < n; p++) {
        if (*p == '*' || *p == '`' || *p == ' ' || *p == '\n' || *p == '\t')
            continue;
        if (p[0] == '-' && p[1] == ' ' && (p == src || p[-1] == '\n')) {
            memcpy(out + len, "\u2022", 3); // the bullet the flow draws
            len += 3;
            continue;
        }
        out[len++] = *p;
    }
    out[len] = 0;
}

static void test_fits_at_size(void **state)
{
    (void)state;
    Scene *s = scene_create();
    scene_begin(s, 1280, 720, color_rgb(0));
    TextStyle st = style(20, 0);
    TextFlowInfo fi = textflow_draw(s, 60, 500, 1160, 160, &st, para);
    assert_int_equal(fi.npages, 1);
    assert_true(fi.size == 20);
    assert_null(scene_find(s, "narrative:page"));
    assert_true(fi.height > 0 && fi.height <= 160);
    assert_true(textflow_fits(s, 1160, 160, 20, para));
    assert_true(textflow_fits(NULL, 1160, 160, 20, para)); // the estimate, for check
    assert_int_equal(textflow_pages(NULL, 1160, 160, &st, para), 1);
    scene_destroy(s);
}

static void test_shrinks_before_paging(void **state)
{
    (void)state;
    Scene *s = scene_create();
    char *t = long_text(2);
    TextStyle st = style(20, 0);
    // A box in which the text does not fit at 20 px, but does at 16.
    float h = 0;
    for (h = 40; h < 1000 && !textflow_fits(s, 700, h, 16, t); h += 5)
        ;
    assert_false(textflow_fits(s, 700, h, 20, t));
    scene_begin(s, 1280, 720, color_rgb(0));
    TextFlowInfo fi = textflow_draw(s, 10, 10, 700, h, &st, t);
    assert_int_equal(fi.npages, 1);
    assert_true(fi.size < 20 && fi.size >= 15);
    assert_inside(s, 10, 10, 700, h);
    free(t);
    scene_destroy(s);
}

// A text far too long: pages at the floor, every word once, marks on each.
static void test_pages(void **state)
{
    (void)state;
    Scene *s = scene_create();
    char *t = long_text(12);
    size_t cap = strlen(t) * 4 + 1000;
    char *want = malloc(cap), *got = malloc(cap), *page = malloc(cap);
    plain(t, want, cap);
    TextStyle st = style(20, 0);
    int n = textflow_pages(s, 900, 150, &st, t);
    assert_true(n >= 3);
    got[0] = 0;
    size_t len = 0;
    for (int k = 0; k < n; k++) {
        st.page = k;
        scene_begin(s, 1280, 720, color_rgb(0));
        TextFlowInfo fi = textflow_draw(s, 40, 30, 900, 150, &st, t);
        assert_int_equal(fi.npages, n);
        assert_int_equal(fi.page, k);
        assert_true(fi.size == 20 * TEXTFLOW_MIN_FRACTION);
        assert_inside(s, 40, 30, 900, 150);
        const SceneItem *mark = scene_find(s, "narrative:page");
        assert_non_null(mark);
        char expect[64];
        snprintf(expect, sizeof(expect), "%s%d/%d%s", k ? "\u25c2 " : "", k + 1, n, k + 1 < n ? " \u25b8" : "");
        assert_string_equal(mark->text, expect);
        // The mark is under the text, not on it.
        for (size_t i = 0; i < s->n; i++)
            if (s->items[i].id && strcmp(s->items[i].id, "narrative") == 0)
                assert_true(s->items[i].y + s->items[i].h <= mark->y + 0.5f);
        chars_of(s, "narrative", page, cap);
        len += (size_t)snprintf(got + len, cap - len, "%s", page);
    }
    assert_string_equal(got, want);
    // Past the last page: the last page.
    st.page = n + 5;
    scene_begin(s, 1280, 720, color_rgb(0));
    TextFlowInfo fi = textflow_draw(s, 40, 30, 900, 150, &st, t);
    assert_int_equal(fi.page, n - 1);
    assert_non_null(scene_find(s, "narrative"));
    free(t);
    free(want);
    free(got);
    free(page);
    scene_destroy(s);
}

// A word wider than the box is broken, not left to run out of it; a word
// longer than any buffer is drawn whole.
static void test_long_word(void **state)
{
    (void)state;
    Scene *s = scene_create();
    char word[3001];
    for (int i = 0; i < 3000; i++)
        word[i] = (char)('a' + i % 26);
    word[3000] = 0;
    char text[3100];
    snprintf(text, sizeof(text), "start %s end", word);
    TextStyle st = style(16, 0);
    st.min_size = 16;
    int n = textflow_pages(s, 300, 2000, &st, text);
    size_t total = 0;
    for (int k = 0; k < n; k++) {
        st.page = k;
        scene_begin(s, 1280, 720, color_rgb(0));
        textflow_draw(s, 0, 0, 300, 2000, &st, text);
        assert_inside(s, 0, 0, 300, 2000);
        for (size_t i = 0; i < s->n; i++)
            if (s->items[i].id && strcmp(s->items[i].id, "narrative") == 0)
                for (const char *q = s->items[i].text; *q; q++)
                    total += *q != ' ';
    }
    assert_int_equal(total, strlen("start") + 3000 + strlen("end"));
    scene_destroy(s);
}

// Empty text, no room, UTF-8 split points.
static void test_edges(void **state)
{
    (void)state;
    Scene *s = scene_create();
    TextStyle st = style(20, 0);
    scene_begin(s, 1280, 720, color_rgb(0));
    TextFlowInfo fi = textflow_draw(s, 0, 0, 500, 100, &st, "");
    assert_int_equal(fi.npages, 1);
    assert_int_equal(s->n, 0);
    assert_int_equal(textflow_pages(s, 500, 100, &st, "text\n\n\n\n"), 1); // trailing breaks make no page
    scene_begin(s, 1280, 720, color_rgb(0));
    fi = textflow_draw(s, 0, 0, 40, 200, &st, "\u2202\u2202\u2202\u2202\u2202\u2202\u2202\u2202\u2202\u2202\u2202\u2202");
    for (size_t i = 0; i < s->n; i++) // every piece is whole characters
        if (s->items[i].kind == SCENE_TEXT)
            for (const unsigned char *q = (const unsigned char *)s->items[i].text; *q; q += 3)
                assert_true(q[0] == 0xE2 && q[1] == 0x88 && q[2] == 0x82);
    scene_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fits_at_size),
        cmocka_unit_test(test_shrinks_before_paging),
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_long_word),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
