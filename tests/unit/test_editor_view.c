// test_editor_view.c: the program editor of the app (views/editor_view.h):
// its buffer (typing, UTF-8, indentation, caret moves), turning a program
// into a lesson with the file parser's messages counted in the editor's
// text, and the overlay read back from the scene. Also the presenter-notes
// screen's blank banner (views/menu_view.h), which the app's blank key
// drives.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lessons/lesson.h"
#include "views/editor_view.h"
#include "views/menu_view.h"
#include "views/scene.h"
#include "views/theme.h"

#define W 1280
#define H 720

static void caret_at(const Editor *e, int line, int col)
{
    int l, c;
    editor_caret_position(e, &l, &c);
    assert_int_equal(l, line);
    assert_int_equal(c, col);
}

static void test_typing(void **state)
{
    Editor e;
    assert_true(editor_init(&e, NULL));
    assert_string_equal(e.text, "");
    assert_true(editor_insert(&e, "x = 1\r\n\ty = x\x01"));
    assert_string_equal(e.text, "x = 1\n    y = x");  // CR and controls dropped, tab = 4 spaces
    caret_at(&e, 2, 10);
    // A new line keeps the indentation.
    assert_true(editor_newline(&e));
    assert_string_equal(e.text, "x = 1\n    y = x\n    ");
    caret_at(&e, 3, 5);
    editor_backspace(&e);
    editor_backspace(&e);
    editor_backspace(&e);
    editor_backspace(&e);
    editor_backspace(&e);
    assert_string_equal(e.text, "x = 1\n    y = x");
    // A loop's first line indents its body one more level.
    editor_move(&e, EDITOR_TEXT_END);
    assert_true(editor_insert(&e, "\nfor t in 1..3"));
    assert_true(editor_newline(&e));
    assert_string_equal(e.text + strlen("x = 1\n    y = x\n"), "for t in 1..3\n    ");
    // UTF-8: one backspace removes a whole code point, columns count code points.
    assert_true(editor_set_text(&e, "f = 2 \xc3\x97 x"));  // ×
    caret_at(&e, 1, 10);
    editor_move(&e, EDITOR_LEFT);
    editor_move(&e, EDITOR_LEFT);
    caret_at(&e, 1, 8);
    editor_move(&e, EDITOR_LEFT);
    caret_at(&e, 1, 7);
    assert_int_equal(e.caret, 6);
    editor_delete(&e);
    assert_string_equal(e.text, "f = 2  x");
    editor_insert(&e, "*");
    assert_string_equal(e.text, "f = 2 * x");
    editor_free(&e);
}

static void test_moves(void **state)
{
    Editor e;
    assert_true(editor_init(&e, "abcdef\nxy\n    long line"));
    editor_set_caret(&e, 1, 5);
    caret_at(&e, 1, 5);
    editor_move(&e, EDITOR_DOWN);   // a shorter line: its end
    caret_at(&e, 2, 3);
    editor_move(&e, EDITOR_DOWN);
    caret_at(&e, 3, 3);
    editor_move(&e, EDITOR_DOWN);   // past the last line: the end of the text
    assert_int_equal(e.caret, e.len);
    editor_move(&e, EDITOR_LINE_START); // first non-blank, then column 1
    caret_at(&e, 3, 5);
    editor_move(&e, EDITOR_LINE_START);
    caret_at(&e, 3, 1);
    editor_move(&e, EDITOR_LINE_END);
    caret_at(&e, 3, 14);
    editor_move(&e, EDITOR_UP);
    caret_at(&e, 2, 3);
    editor_move(&e, EDITOR_TEXT_START);
    caret_at(&e, 1, 1);
    editor_move(&e, EDITOR_UP);
    caret_at(&e, 1, 1);
    editor_move(&e, EDITOR_LEFT);
    assert_int_equal(e.caret, 0);
    editor_set_caret(&e, 99, 99);   // clamped
    assert_int_equal(e.caret, e.len);
    editor_free(&e);
}

static void test_limits(void **state)
{
    Editor e;
    assert_true(editor_init(&e, NULL));
    char *big = malloc(EDITOR_MAX_BYTES + 2);
    memset(big, 'a', EDITOR_MAX_BYTES + 1);
    big[EDITOR_MAX_BYTES + 1] = '\0';
    assert_false(editor_set_text(&e, big));
    assert_false(editor_insert(&e, big));
    assert_string_equal(e.text, "");
    big[EDITOR_MAX_BYTES] = '\0';
    assert_true(editor_insert(&e, big));
    assert_false(editor_insert(&e, "b"));
    assert_int_equal(e.len, EDITOR_MAX_BYTES);
    free(big);
    editor_free(&e);
}

static void test_program_of(void **state)
{
    // The program block of a lesson, dedented, stopping at the next key.
    char *p = editor_program_of("title: t\nprogram:\n    x = 1\n\n    for t in 1..2\r\n        x = x * 2\n"
                                "    end\nstep: auto\n    narrative\n");
    assert_non_null(p);
    assert_string_equal(p, "x = 1\n\nfor t in 1..2\n    x = x * 2\nend\n");
    free(p);
    p = editor_program_of("title: t\n");
    assert_string_equal(p, "");
    free(p);
    // And it round-trips through the generated lesson.
    char *src = editor_lesson_text("x = 1\n\n  # two\nf = x * 2");
    assert_string_equal(src, "gradlab-lesson: 1\ntitle: " EDITOR_TITLE "\nview: circuit\nprogram:\n"
                             "    x = 1\n\n      # two\n    f = x * 2\nstep: auto\n");
    p = editor_program_of(src);
    assert_string_equal(p, "x = 1\n\n  # two\nf = x * 2\n");
    free(p);
    free(src);
}

static void test_compile(void **state)
{
    Editor e;
    assert_true(editor_init(&e, "x = -2\ny = 5\nz = -4\nf = (x + y) * z\n"));
    Lesson *l = editor_compile(&e);
    assert_non_null(l);
    assert_string_equal(e.error, "");
    assert_string_equal(l->title, EDITOR_TITLE);
    assert_string_equal(l->view, "circuit");
    // step: auto: intro, forward + and *, backward * and +, done.
    assert_int_equal(l->nsteps, 6);
    assert_int_equal(l->steps[0].kind, STEP_INTRO);
    assert_int_equal(l->steps[1].kind, STEP_FORWARD);
    assert_int_equal(l->steps[3].kind, STEP_BACKWARD);
    assert_int_equal(l->steps[5].kind, STEP_DONE);
    Graph *g = graph_create(0);
    Value *out = lesson_eval(l, g, l->nsteps - 1);
    assert_non_null(out);
    assert_true(out->data == -12);
    assert_true(program_lookup(l->program, g, "x")->grad == -4);
    graph_destroy(g);
    lesson_destroy(l);

    // An error: the file's message, positions in the editor's text, the
    // caret moved there.
    assert_true(editor_set_text(&e, "x = 1\nf = w * 2\n"));
    assert_null(editor_compile(&e));
    assert_string_equal(e.error, "<editor>:2:5: error: unknown name 'w'; did you mean 'x'?\n"
                                 "    f = w * 2\n"
                                 "        ^\n");
    assert_int_equal(e.error_line, 2);
    assert_int_equal(e.error_col, 5);
    caret_at(&e, 2, 5);
    // An empty program.
    assert_true(editor_set_text(&e, "\n  # nothing\n"));
    assert_null(editor_compile(&e));
    assert_non_null(strstr(e.error, "<editor>:1:1: error: the program is empty"));
    // A loop works as in a file.
    assert_true(editor_set_text(&e, "w = 0.5\nh[0] = 1\nfor t in 1..3\n    h[t] = w * h[t-1]\nend\n"
                                    "f = h[3]\n"));
    l = editor_compile(&e);
    assert_non_null(l);
    assert_string_equal(e.error, "");
    lesson_destroy(l);
    // Non-ASCII in a name is named, with its line and column.
    assert_true(editor_set_text(&e, "x = 1\ny = 2 \xc3\x97 x\n"));
    assert_null(editor_compile(&e));
    assert_int_equal(strncmp(e.error, "<editor>:2:7: error:", 20), 0);
    editor_free(&e);
}

static int count_id_prefix(const Scene *s, const char *prefix)
{
    int n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->items[i].id && strncmp(s->items[i].id, prefix, strlen(prefix)) == 0;
    return n;
}

static void test_overlay(void **state)
{
    Scene *s = scene_create();
    Editor e;
    assert_true(editor_init(&e, "x = 1\nf = w * 2\n"));
    assert_null(editor_compile(&e));    // caret now at 2:5
    EditorParams p = {.editor = &e, .theme = theme_get(THEME_DARK), .scale = 1};
    scene_begin(s, W, H, theme_get(THEME_DARK)->background);
    size_t top = editor_view_build(s, &p, W, H);
    assert_false(s->failed);
    assert_int_equal(top, 0);
    assert_non_null(scene_find(s, "editor"));
    assert_non_null(scene_find_text(s, "editor-title", EDITOR_TITLE));
    assert_non_null(scene_find_text(s, "editor-line:1", "x = 1"));
    assert_non_null(scene_find_text(s, "editor-line:2", "f = w * 2"));
    assert_null(scene_find(s, "editor-line:3"));   // the empty last line has no text item
    assert_non_null(
        scene_find_text(s, "editor-error", "<editor>:2:5: error: unknown name 'w'; did you mean 'x'?"));
    assert_non_null(scene_find_text(s, "editor-error", "    f = w * 2"));
    // The caret and the error mark sit on line 2 under 'w' (4 characters in).
    const SceneItem *line2 = scene_find(s, "editor-line:2");
    float x2 = line2->x, y2 = line2->y;
    float before = scene_text_width(s, FONT_MONO, line2->size, "f = ");
    const SceneItem *caret = scene_find(s, "editor-caret");
    assert_non_null(caret);
    assert_true(caret->x + caret->w / 2 > x2 + before - 2 && caret->x + caret->w / 2 < x2 + before + 2);
    assert_true(caret->y >= y2 && caret->y < y2 + scene_line_height(line2->size));
    const SceneItem *mark = scene_find(s, "editor-error-mark");
    assert_non_null(mark);
    assert_true(mark->x > x2 + before - 1 && mark->x < x2 + before + 1);
    assert_true(mark->y > y2 && mark->y < y2 + 2 * scene_line_height(line2->size));
    // Everything inside the frame, and no message text over the text box.
    const SceneItem *panel = scene_find(s, "editor");
    for (size_t i = 0; i < s->n; i++) {
        const SceneItem *it = &s->items[i];
        if (it->kind != SCENE_TEXT)
            continue;
        assert_true(it->x >= 0 && it->x + (it->align == ALIGN_LEFT ? it->w : 0) <= W);
        assert_true(it->y >= panel->y && it->y + scene_line_height(it->size) <= panel->y + panel->h);
    }

    // A long program scrolls to keep the caret in view.
    char prog[4000] = "";
    for (int i = 1; i <= 100; i++)
        snprintf(prog + strlen(prog), sizeof(prog) - strlen(prog), "x%d = %d\n", i, i);
    assert_true(editor_set_text(&e, prog));
    scene_begin(s, W, H, theme_get(THEME_DARK)->background);
    top = editor_view_build(s, &p, W, H);
    assert_true(top > 50);
    assert_null(scene_find(s, "editor-line:1"));
    assert_non_null(scene_find_text(s, "editor-line:100", "x100 = 100"));
    assert_non_null(scene_find(s, "editor-caret"));
    int shown = count_id_prefix(s, "editor-line:");
    assert_true(shown > 10 && shown < 40);
    // Back to the top: the view follows the caret, from the top it was given.
    e.top = top;
    editor_move(&e, EDITOR_TEXT_START);
    scene_begin(s, W, H, theme_get(THEME_DARK)->background);
    assert_int_equal(editor_view_build(s, &p, W, H), 0);
    assert_non_null(scene_find_text(s, "editor-line:1", "x1 = 1"));
    // At twice the scale and in every theme it still builds.
    for (int t = 0; t < THEME_COUNT; t++) {
        EditorParams q = {.editor = &e, .theme = theme_get((ThemeId)t), .scale = 2};
        scene_begin(s, 1024, 768, theme_get((ThemeId)t)->background);
        editor_view_build(s, &q, 1024, 768);
        assert_false(s->failed);
        assert_non_null(scene_find(s, "editor-caret"));
    }
    editor_free(&e);
    scene_destroy(s);
}

static bool boxes_overlap(const SceneItem *a, const SceneItem *b)
{
    float ax = a->align == ALIGN_LEFT ? a->x : a->align == ALIGN_CENTER ? a->x - a->w / 2 : a->x - a->w;
    float bx = b->align == ALIGN_LEFT ? b->x : b->align == ALIGN_CENTER ? b->x - b->w / 2 : b->x - b->w;
    float ah = scene_line_height(a->size), bh = scene_line_height(b->size);
    return ax < bx + b->w && bx < ax + a->w && a->y < b->y + bh && b->y < a->y + ah;
}

// Large text: the keys never run into the title, and a long message wraps
// onto more lines instead of being cut.
static void test_overlay_scaled(void **state)
{
    Scene *s = scene_create();
    Editor e;
    assert_true(editor_init(&e, "x = -2\ny = 5\nz = -4\nq = x + y\nf = q * z\nfor t in 1..3\n"));
    assert_null(editor_compile(&e));
    const char *nl = strchr(e.error, '\n');
    assert_non_null(nl);
    char first[512];
    snprintf(first, sizeof(first), "%.*s", (int)(nl - e.error), e.error);
    assert_true(strlen(first) > 60);    // "<editor>:6:1: error: this 'for' has no 'end'; ..."
    const float sizes[][3] = {{1280, 720, 1}, {1280, 720, 2.2f}, {1024, 768, 2}, {1024, 768, 3}};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        float w = sizes[k][0], h = sizes[k][1];
        EditorParams p = {.editor = &e, .theme = theme_get(THEME_LIGHT), .scale = sizes[k][2]};
        scene_begin(s, w, h, theme_get(THEME_LIGHT)->background);
        editor_view_build(s, &p, w, h);
        assert_false(s->failed);
        const SceneItem *title = scene_find(s, "editor-title"), *hint = scene_find(s, "editor-hint");
        assert_non_null(title);
        assert_non_null(hint);
        assert_false(boxes_overlap(title, hint));
        // The message's lines put back together give the whole first line.
        char joined[1024] = "";
        for (size_t i = 0; i < s->n; i++) {
            const SceneItem *it = &s->items[i];
            if (!it->id || strcmp(it->id, "editor-error") != 0 || strncmp(it->text, "    ", 4) == 0)
                continue;
            assert_null(strstr(it->text, "\u2026"));  // no ellipsis
            assert_true(it->x + it->w <= w);
            snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s", joined[0] ? " " : "",
                     it->text);
        }
        assert_string_equal(joined, first);
    }
    editor_free(&e);
    scene_destroy(s);
}

static void test_notes_blank(void **state)
{
    Scene *s = scene_create();
    float box[4], box_blank[4];
    NotesParams np = {.lesson_title = "Backprop through a circuit", .step = 2, .nsteps = 6, .notes = "Ask.",
                      .next_text = "Next.", .theme = theme_get(THEME_DARK), .scale = 1};
    notes_view_build(s, &np, 960, 600, box);
    assert_null(scene_find(s, "notes-blank"));
    np.blanked = true;
    notes_view_build(s, &np, 960, 600, box_blank);
    const SceneItem *b = scene_find(s, "notes-blank");
    assert_non_null(b);
    assert_non_null(strstr(b->text, "BLANKED"));
    // The banner sits under the header, and the columns make room for it.
    const SceneItem *step = scene_find(s, "notes-step");
    assert_true(b->y > step->y + scene_line_height(step->size));
    assert_true(box_blank[1] > b->y + scene_line_height(b->size));
    assert_true(box_blank[1] > box[1]);
    scene_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typing),
        cmocka_unit_test(test_moves),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_program_of),
        cmocka_unit_test(test_compile),
        cmocka_unit_test(test_overlay),
        cmocka_unit_test(test_overlay_scaled),
        cmocka_unit_test(test_notes_blank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
