// editor_view.c: the program editor's buffer, its compile step and its
// overlay; see editor_view.h.
#include "views/editor_view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/expr.h"
#include "views/lesson_view.h"

// ---------------------------------------------------------------- the buffer

static bool is_cont(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80; // a UTF-8 continuation byte
}

static bool reserve(Editor *e, size_t need)
{
    if (need + 1 <= e->cap)
        return true;
    size_t cap = e->cap ? e->cap : 256;
    while (cap < need + 1)
        cap *= 2;
    char *t = realloc(e->text, cap);
    if (!t)
        return false;
    e->text = t;
    e->cap = cap;
    return true;
}

bool editor_init(Editor *e, const char *text)
{
    memset(e, 0, sizeof(*e));
    if (!reserve(e, 0))
        return false;
    e->text[0] = '\0';
    return editor_set_text(e, text ? text : "");
}

void editor_free(Editor *e)
{
    free(e->text);
    e->text = NULL;
    e->len = e->cap = e->caret = 0;
}

bool editor_set_text(Editor *e, const char *text)
{
    size_t n = strlen(text);
    if (n > EDITOR_MAX_BYTES || !reserve(e, n))
        return false;
    memcpy(e->text, text, n + 1);
    e->len = n;
    e->caret = n;
    e->top = 0;
    e->error[0] = '\0';
    e->error_line = e->error_col = 0;
    return true;
}

// The bytes s becomes once filtered (tabs to spaces, no CR or other controls).
static size_t filtered_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\t' ? 4 : (*s == '\n' || ((unsigned char)*s >= 0x20 && *s != 0x7f)) ? 1 : 0;
    return n;
}

bool editor_insert(Editor *e, const char *s)
{
    size_t add = filtered_length(s);
    if (add == 0)
        return true;
    if (e->len + add > EDITOR_MAX_BYTES || !reserve(e, e->len + add))
        return false;
    memmove(e->text + e->caret + add, e->text + e->caret, e->len - e->caret + 1);
    char *d = e->text + e->caret;
    for (; *s; s++) {
        if (*s == '\t') {
            memcpy(d, "    ", 4);
            d += 4;
        } else if (*s == '\n' || ((unsigned char)*s >= 0x20 && *s != 0x7f)) {
            *d++ = *s;
        }
    }
    e->len += add;
    e->caret += add;
    return true;
}

static size_t line_start(const Editor *e, size_t pos)
{
    while (pos > 0 && e->text[pos - 1] != '\n')
        pos--;
    return pos;
}

static size_t line_end(const Editor *e, size_t pos)
{
    while (pos < e->len && e->text[pos] != '\n')
        pos++;
    return pos;
}

// Code points in text[from, to).
static int count_cp(const char *text, size_t from, size_t to)
{
    int n = 0;
    for (size_t i = from; i < to; i++)
        n += !is_cont(text[i]);
    return n;
}

// The byte offset col code points (from 0) into the line starting at start,
// or the line's end when it is shorter.
static size_t advance_cp(const Editor *e, size_t start, int col)
{
    size_t end = line_end(e, start), p = start;
    while (p < end && col > 0) {
        p++;
        while (p < end && is_cont(e->text[p]))
            p++;
        col--;
    }
    return p;
}

bool editor_newline(Editor *e)
{
    size_t ls = line_start(e, e->caret), ind = ls;
    while (ind < e->caret && (e->text[ind] == ' ' || e->text[ind] == '\t'))
        ind++;
    char buf[1 + 64 + 4 + 1] = "\n";
    size_t n = ind - ls < 64 ? ind - ls : 64;
    memcpy(buf + 1, e->text + ls, n);
    buf[1 + n] = '\0';
    // A loop's first line opens a body: indent it one more level.
    if (e->caret >= ind + 4 && strncmp(e->text + ind, "for ", 4) == 0)
        strcat(buf, "    ");
    return editor_insert(e, buf);
}

void editor_backspace(Editor *e)
{
    if (e->caret == 0)
        return;
    size_t p = e->caret - 1;
    while (p > 0 && is_cont(e->text[p]))
        p--;
    memmove(e->text + p, e->text + e->caret, e->len - e->caret + 1);
    e->len -= e->caret - p;
    e->caret = p;
}

void editor_delete(Editor *e)
{
    if (e->caret >= e->len)
        return;
    size_t p = e->caret + 1;
    while (p < e->len && is_cont(e->text[p]))
        p++;
    memmove(e->text + e->caret, e->text + p, e->len - p + 1);
    e->len -= p - e->caret;
}

void editor_move(Editor *e, EditorMove m)
{
    size_t ls = line_start(e, e->caret);
    int col = count_cp(e->text, ls, e->caret);
    switch (m) {
    case EDITOR_LEFT:
        if (e->caret > 0)
            for (e->caret--; e->caret > 0 && is_cont(e->text[e->caret]); e->caret--) {}
        break;
    case EDITOR_RIGHT:
        if (e->caret < e->len)
            for (e->caret++; e->caret < e->len && is_cont(e->text[e->caret]); e->caret++) {}
        break;
    case EDITOR_UP:
        e->caret = ls == 0 ? 0 : advance_cp(e, line_start(e, ls - 1), col);
        break;
    case EDITOR_DOWN: {
        size_t le = line_end(e, e->caret);
        e->caret = le == e->len ? e->len : advance_cp(e, le + 1, col);
        break;
    }
    case EDITOR_LINE_START: {
        size_t ind = ls;
        while (ind < e->len && (e->text[ind] == ' ' || e->text[ind] == '\t'))
            ind++;
        e->caret = e->caret == ind ? ls : ind;
        break;
    }
    case EDITOR_LINE_END: e->caret = line_end(e, e->caret); break;
    case EDITOR_TEXT_START: e->caret = 0; break;
    case EDITOR_TEXT_END: e->caret = e->len; break;
    }
}

void editor_caret_position(const Editor *e, int *line, int *col)
{
    int l = 1;
    for (size_t i = 0; i < e->caret; i++)
        l += e->text[i] == '\n';
    *line = l;
    *col = count_cp(e->text, line_start(e, e->caret), e->caret) + 1;
}

void editor_set_caret(Editor *e, int line, int col)
{
    size_t p = 0;
    for (int l = 1; l < line && p < e->len; l++)
        p = line_end(e, p) + (line_end(e, p) < e->len);
    e->caret = advance_cp(e, p, col > 1 ? col - 1 : 0);
}

// ---------------------------------------------------------------- to a lesson

char *editor_lesson_text(const char *program)
{
    static const char head[] = "gradlab-lesson: 1\ntitle: " EDITOR_TITLE "\nview: circuit\nprogram:\n";
    static const char tail[] = "step: auto\n";
    size_t lines = 1;
    for (const char *p = program; *p; p++)
        lines += *p == '\n';
    size_t n = strlen(program);
    char *out = malloc(sizeof(head) + n + 4 * lines + 1 + sizeof(tail));
    if (!out)
        return NULL;
    char *d = out;
    memcpy(d, head, sizeof(head) - 1);
    d += sizeof(head) - 1;
    for (const char *p = program; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        size_t k = 0;
        while (k < len && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r'))
            k++;
        if (k < len) { // a blank line stays blank: it must not look indented
            memcpy(d, "    ", 4);
            memcpy(d + 4, p, len);
            d += 4 + len;
        }
        *d++ = '\n';
        p += len + (e != NULL);
    }
    memcpy(d, tail, sizeof(tail));
    return out;
}

char *editor_program_of(const char *src)
{
    const char *p = src, *block = NULL;
    while (*p && !block) { // find the line "program:" at column 0
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= 8 && strncmp(p, "program:", 8) == 0 && strspn(p + 8, " \t\r") >= len - 8)
            block = e ? e + 1 : p + len;
        p = e ? e + 1 : p + len;
    }
    if (!block)
        return calloc(1, 1);
    // The block: the blank and indented lines after it.
    const char *last = block;
    size_t indent = SIZE_MAX;
    for (p = block; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        size_t k = strspn(p, " \t");
        bool blank = k >= len || strspn(p + k, "\r") >= len - k;
        if (!blank && k == 0)
            break;
        if (!blank) {
            indent = k < indent ? k : indent;
            last = p + len;
        }
        p = e ? e + 1 : p + len;
    }
    if (indent == SIZE_MAX)
        return calloc(1, 1);
    char *out = malloc((size_t)(last - block) + 2);
    if (!out)
        return NULL;
    char *d = out;
    for (p = block; p < last;) {
        const char *e = memchr(p, '\n', (size_t)(last - p));
        size_t len = e ? (size_t)(e - p) : (size_t)(last - p);
        size_t k = strspn(p, " \t");
        size_t skip = k < indent ? k : indent;
        if (skip > len)
            skip = len;
        size_t n = len - skip;
        while (n && p[skip + n - 1] == '\r')
            n--;
        memcpy(d, p + skip, n);
        d += n;
        *d++ = '\n';
        p += len + (e != NULL);
    }
    *d = '\0';
    return out;
}

// The position in the first "<editor>:LINE:COL:" of a message text.
static void first_position(const char *msg, int *line, int *col)
{
    size_t n = strlen(EDITOR_FILE);
    *line = *col = 0;
    if (strncmp(msg, EDITOR_FILE ":", n + 1) != 0 || sscanf(msg + n + 1, "%d:%d:", line, col) != 2)
        *line = *col = 0;
}

Lesson *editor_compile_text(const char *program, char *err, size_t errn, int *line, int *col)
{
    size_t len = strlen(program);
    *line = *col = 0;
    if (errn)
        err[0] = '\0';
    // The program alone first, so that messages count lines and columns in
    // the editor's text and quote its lines, exactly as for a file.
    Diag d;
    diag_init(&d, EDITOR_FILE, program, len);
    Program *p = program_parse(program, len, &d);
    if (!p) {
        snprintf(err, errn, "%s", diag_text(&d));
        first_position(err, line, col);
        diag_free(&d);
        return NULL;
    }
    program_destroy(p);
    diag_free(&d);
    char *src = editor_lesson_text(program);
    if (!src) {
        snprintf(err, errn, "%s: error: out of memory\n", EDITOR_FILE);
        return NULL;
    }
    diag_init(&d, EDITOR_FILE, src, strlen(src));
    Lesson *l = lesson_parse(src, strlen(src), EDITOR_FILE, &d);
    if (!l) {
        // The program parsed, so what failed is the lesson made around it,
        // whose positions mean nothing in the editor: give the message alone.
        const char *m = strstr(diag_text(&d), "error: ");
        const char *nl = m ? strchr(m, '\n') : NULL;
        int n = m ? (int)(nl ? nl - m : (ptrdiff_t)strlen(m)) : 0;
        snprintf(err, errn, "%s: %.*s\n", EDITOR_FILE, n,
                 m ? m : "error: the program does not make a lesson");
    }
    diag_free(&d);
    free(src);
    return l;
}

Lesson *editor_compile(Editor *e)
{
    Lesson *l = editor_compile_text(e->text, e->error, sizeof(e->error), &e->error_line, &e->error_col);
    if (!l && e->error_line)
        editor_set_caret(e, e->error_line, e->error_col);
    return l;
}

// ---------------------------------------------------------------- the overlay

#define MAX_ERROR_LINES 12

// One line of the messages as drawn: msg[0..len), a message's first line
// (the "error:" one) or a quoted source line or caret.
typedef struct MsgLine {
    const char *text;
    size_t len;
    bool head;
} MsgLine;

// Does the line msg[0..n) say "error: " (a message's first line)?
static bool has_error_word(const char *msg, size_t n)
{
    for (size_t i = 0; i + 7 <= n; i++)
        if (memcmp(msg + i, "error: ", 7) == 0)
            return true;
    return false;
}

// Split the messages into lines that fit width w at size: a message's
// first line wraps at spaces (a message is never cut), the quoted source
// lines and carets stay whole so that carets keep their columns (they are
// cut with an ellipsis if they must be). Returns the number of lines.
static int layout_messages(const Scene *s, const char *error, float size, float w, MsgLine *out, int max)
{
    char buf[SCENE_TEXT_MAX_BYTES];
    int n = 0;
    for (const char *q = error; *q && n < max;) {
        const char *nl = strchr(q, '\n');
        size_t len = nl ? (size_t)(nl - q) : strlen(q);
        bool head = has_error_word(q, len);
        while (head && n < max - 1 && len > 0) {
            size_t k = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
            memcpy(buf, q, k);
            buf[k] = '\0';
            if (scene_text_width(s, FONT_MONO, size, buf) <= w)
                break;
            size_t cut = 0; // the longest prefix ending before a space that fits
            for (size_t i = 1; i < k; i++) {
                if (q[i] != ' ')
                    continue;
                buf[i] = '\0';
                bool fits = scene_text_width(s, FONT_MONO, size, buf) <= w;
                buf[i] = q[i];
                if (!fits)
                    break;
                cut = i;
            }
            if (cut == 0)
                break; // one word wider than the box: cut with an ellipsis below
            out[n++] = (MsgLine){q, cut, true};
            q += cut + 1;
            len -= cut + 1;
        }
        out[n++] = (MsgLine){q, len, head};
        q += len + (nl != NULL);
    }
    return n;
}

// Copy text[from, to) into buf (cut to fit) and return buf.
static const char *span(char *buf, size_t n, const char *text, size_t from, size_t to)
{
    size_t k = to - from < n - 1 ? to - from : n - 1;
    memcpy(buf, text + from, k);
    buf[k] = '\0';
    return buf;
}

size_t editor_view_build(Scene *s, const EditorParams *p, float w, float h)
{
    const Editor *e = p->editor;
    const Theme *t = p->theme;
    float u = lesson_view_unit(w, h, p->scale);
    scene_rect(s, 0, 0, w, h, 0, color_alpha(t->background, 225));
    float m = 40 * u;
    float bx = m, by = 32 * u, bw = w - 2 * m, bh = h - 64 * u;
    scene_tag(s, scene_panel(s, bx, by, bw, bh, 12 * u, t->panel, t->accent, 2 * u), "editor");
    scene_tag(s, scene_text(s, bx + 24 * u, by + 16 * u, FONT_BOLD, 24 * u, ALIGN_LEFT, t->text,
                            EDITOR_TITLE), "editor-title");
    // The keys beside the title when they fit there, else on the next line
    // instead of the explanation (the keys matter more).
    static const char hint[] = "Enter: new line    Ctrl+Enter or F5: apply    Esc: cancel";
    float title_w = scene_text_width(s, FONT_BOLD, 24 * u, EDITOR_TITLE);
    float hint_w = scene_text_width(s, FONT_REGULAR, 16 * u, hint);
    if (title_w + 32 * u + hint_w <= bw - 48 * u) {
        scene_tag(s, scene_text(s, bx + bw - 24 * u, by + 22 * u, FONT_REGULAR, 16 * u, ALIGN_RIGHT,
                                t->accent, hint), "editor-hint");
        scene_text_fit(s, bx + 24 * u, by + 54 * u, FONT_REGULAR, 15 * u, ALIGN_LEFT, t->muted,
                       "One statement per line, name = expression. A plain number makes an input; "
                       "the last statement is the output.", bw - 48 * u);
    } else {
        scene_tag(s, scene_text_fit(s, bx + 24 * u, by + 54 * u, FONT_REGULAR, 16 * u, ALIGN_LEFT, t->accent,
                                    hint, bw - 48 * u), "editor-hint");
    }

    // The messages of a failed apply, under the text box.
    MsgLine msg[MAX_ERROR_LINES];
    float esize = 16 * u, elh = scene_line_height(esize);
    int nmsg = layout_messages(s, e->error, esize, bw - 48 * u, msg, MAX_ERROR_LINES);
    float err_h = nmsg ? elh * (float)nmsg + 16 * u : 0;

    // The text box.
    float tx = bx + 24 * u, ty = by + 86 * u, tw = bw - 48 * u, th = by + bh - 20 * u - ty - err_h;
    float size = 20 * u, lh = scene_line_height(size);
    if (th < lh + 16 * u)
        th = lh + 16 * u;
    scene_rect(s, tx, ty, tw, th, 6 * u, t->background);
    scene_frame(s, tx, ty, tw, th, 1 * u, t->panel_edge);
    size_t nlines = 1, caret_line = 0;
    for (size_t i = 0; i < e->len; i++) {
        if (e->text[i] == '\n') {
            nlines++;
            if (i < e->caret)
                caret_line++;
        }
    }
    size_t visible = (size_t)fmaxf(1, floorf((th - 16 * u) / lh));
    size_t top = e->top < nlines ? e->top : nlines - 1;
    if (caret_line < top)
        top = caret_line;
    if (caret_line >= top + visible)
        top = caret_line - visible + 1;
    char num[24], buf[SCENE_TEXT_MAX_BYTES];
    snprintf(num, sizeof(num), "%zu", nlines > 99 ? nlines : 99);
    float gutter = scene_text_width(s, FONT_MONO, size * 0.8f, num) + 20 * u;
    float textx = tx + gutter, text_w = tw - gutter - 12 * u;
    float gx = tx + gutter - 8 * u;
    scene_line(s, gx, ty + 4 * u, gx, ty + th - 4 * u, 1 * u, t->panel_edge);
    if (e->len == 0)
        scene_text(s, textx, ty + 8 * u, FONT_MONO, size, ALIGN_LEFT, t->muted,
                   "for example: x = -2; y = 5; z = -4; f = (x + y) * z");
    size_t pos = 0;
    for (size_t ln = 0; ln < nlines && ln < top + visible; ln++) {
        size_t end = pos;
        while (end < e->len && e->text[end] != '\n')
            end++;
        if (ln >= top) {
            float y = ty + 8 * u + (float)(ln - top) * lh;
            bool bad = e->error_line == (int)ln + 1;
            if (bad)
                scene_rect(s, tx + 2 * u, y, tw - 4 * u, lh, 0, color_alpha(t->warn, 48));
            snprintf(num, sizeof(num), "%zu", ln + 1);
            scene_text(s, tx + gutter - 16 * u, y + size * 0.1f, FONT_MONO, size * 0.8f, ALIGN_RIGHT,
                       bad ? t->warn : t->muted, num);
            if (end > pos) {
                char id[40];
                snprintf(id, sizeof(id), "editor-line:%zu", ln + 1);
                scene_tag(s, scene_text_fit(s, textx, y, FONT_MONO, size, ALIGN_LEFT, t->text,
                                            span(buf, sizeof(buf), e->text, pos, end), text_w), id);
            }
            if (bad) { // underline the character the message points at
                size_t at = pos;
                for (int c = 1; c < e->error_col && at < end; c++)
                    for (at++; at < end && is_cont(e->text[at]); at++) {}
                size_t next = at;
                if (next < end)
                    for (next++; next < end && is_cont(e->text[next]); next++) {}
                const char *ch = next > at ? span(buf, sizeof(buf), e->text, at, next) : "m";
                float cw = scene_text_width(s, FONT_MONO, size, ch);
                const char *lead = span(buf, sizeof(buf), e->text, pos, at);
                float x0 = textx + scene_text_width(s, FONT_MONO, size, lead);
                x0 = fminf(x0, textx + text_w - cw);
                scene_tag(s, scene_rect(s, x0, y + lh - 3 * u, cw, 3 * u, 0, t->warn), "editor-error-mark");
                scene_triangle(s, x0 + cw / 2, y + lh - 4 * u, x0 + cw / 2 - 5 * u, y + lh + 4 * u,
                               x0 + cw / 2 + 5 * u, y + lh + 4 * u, t->warn);
            }
            if (ln == caret_line) {
                size_t ls = pos;
                const char *before = span(buf, sizeof(buf), e->text, ls, e->caret);
                float cx = textx + scene_text_width(s, FONT_MONO, size, before);
                cx = fminf(cx, textx + text_w);
                scene_tag(s, scene_rect(s, cx - 1 * u, y + 2 * u, 2.5f * u, lh - 4 * u, 0, t->accent),
                          "editor-caret");
            }
        }
        pos = end + 1;
    }
    // Lines above or below the box: a mark on its frame, like a legend.
    for (int k = 0; k < 2; k++) {
        if (k == 0 ? top == 0 : top + visible >= nlines)
            continue;
        const char *more = k == 0 ? "\u25b2 more above" : "\u25bc more below";
        float mw = scene_text_width(s, FONT_REGULAR, 13 * u, more), my = k == 0 ? ty : ty + th;
        scene_rect(s, tx + tw - 16 * u - mw - 6 * u, my - 9 * u, mw + 12 * u, 18 * u, 4 * u, t->panel);
        scene_tag(s, scene_text(s, tx + tw - 16 * u, my - 9 * u, FONT_REGULAR, 13 * u, ALIGN_RIGHT, t->muted,
                                more), "editor-more");
    }

    // The messages: the "error:" lines in the warning colour, the quoted
    // source lines and carets in the text colour, monospaced so carets align.
    for (int i = 0; i < nmsg; i++) {
        float y = ty + th + 12 * u + elh * (float)i;
        scene_tag(s, scene_text_fit(s, tx, y, FONT_MONO, esize, ALIGN_LEFT, msg[i].head ? t->warn : t->text,
                                    span(buf, sizeof(buf), msg[i].text, 0, msg[i].len), tw),
                  "editor-error");
    }
    return top;
}
