// diag.c: compiler-style error messages with a caret; see diag.h.
#include "engine/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_init(Diag *d, const char *file, const char *src, size_t src_len)
{
    memset(d, 0, sizeof(*d));
    d->file = file ? file : "<input>";
    d->src = src;
    d->src_len = src ? src_len : 0;
}

void diag_free(Diag *d)
{
    if (!d)
        return;
    free(d->text);
    d->text = NULL;
    d->len = d->cap = 0;
}

static void diag_append(Diag *d, const char *s, size_t n)
{
    if (d->len + n + 1 > d->cap) {
        size_t cap = d->cap ? d->cap : 256;
        while (cap < d->len + n + 1)
            cap *= 2;
        char *text = realloc(d->text, cap);
        if (!text)
            return; // Keep what we have; the count still records the error.
        d->text = text;
        d->cap = cap;
    }
    memcpy(d->text + d->len, s, n);
    d->len += n;
    d->text[d->len] = '\0';
}

static void diag_vappendf(Diag *d, const char *fmt, va_list ap)
{
    char buf[1024];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < 0)
        return;
    diag_append(d, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void diag_appendf(Diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vappendf(d, fmt, ap);
    va_end(ap);
}

static bool is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t diag_bom_length(const char *src, size_t len)
{
    return len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

// An offset on the '\n' of a "\r\n" is moved to the '\r': the same place on
// screen, and inside the line rather than at the start of the next one.
static size_t clamp_offset(const Diag *d, size_t offset)
{
    if (offset > d->src_len)
        offset = d->src_len;
    if (offset > 0 && offset < d->src_len && d->src[offset] == '\n' && d->src[offset - 1] == '\r')
        offset--;
    return offset;
}

// Whether the byte at i ends a line: '\n', or a '\r' not followed by '\n'
// (old Mac files end lines with a lone CR). The '\r' of "\r\n" does not.
static bool ends_line(const Diag *d, size_t i)
{
    if (d->src[i] == '\n')
        return true;
    return d->src[i] == '\r' && !(i + 1 < d->src_len && d->src[i + 1] == '\n');
}

void diag_position(const Diag *d, size_t offset, int *line, int *col)
{
    offset = clamp_offset(d, offset);
    int l = 1, c = 1;
    for (size_t i = diag_bom_length(d->src, d->src_len); i < offset; i++) {
        unsigned char ch = (unsigned char)d->src[i];
        if (ends_line(d, i)) {
            l++;
            c = 1;
        } else if (!is_continuation(ch) && ch != '\r') {
            c++;
        }
    }
    *line = l;
    *col = c;
}

void diag_error(Diag *d, size_t offset, const char *fmt, ...)
{
    d->nerrors++;
    if (d->nerrors > DIAG_MAX_ERRORS)
        return;
    int line, col;
    diag_position(d, offset, &line, &col);
    diag_appendf(d, "%s:%d:%d: error: ", d->file, line, col);
    va_list ap;
    va_start(ap, fmt);
    diag_vappendf(d, fmt, ap);
    va_end(ap);
    diag_append(d, "\n", 1);
    if (!d->src)
        return;

    // The source line, then a caret under the column. Tabs are kept so the
    // caret lines up in a terminal; other characters become one space each.
    offset = clamp_offset(d, offset);
    size_t start = offset, end = offset;
    while (start > 0 && !ends_line(d, start - 1))
        start--;
    if (start < diag_bom_length(d->src, d->src_len))
        start = diag_bom_length(d->src, d->src_len);
    while (end < d->src_len && d->src[end] != '\n' && d->src[end] != '\r')
        end++;
    size_t shown = end - start > 200 ? 200 : end - start;
    diag_append(d, "    ", 4);
    for (size_t i = start; i < start + shown; i++) {
        char ch = d->src[i] == '\0' ? ' ' : d->src[i];
        diag_append(d, &ch, 1);
    }
    diag_append(d, "\n    ", 5);
    for (size_t i = start; i < offset && i < start + shown; i++) {
        unsigned char ch = (unsigned char)d->src[i];
        if (ch == '\t')
            diag_append(d, "\t", 1);
        else if (!is_continuation(ch))
            diag_append(d, " ", 1);
    }
    diag_append(d, "^\n", 2);
}

void diag_error_file(Diag *d, const char *fmt, ...)
{
    d->nerrors++;
    if (d->nerrors > DIAG_MAX_ERRORS)
        return;
    diag_appendf(d, "%s: error: ", d->file);
    va_list ap;
    va_start(ap, fmt);
    diag_vappendf(d, fmt, ap);
    va_end(ap);
    diag_append(d, "\n", 1);
}

const char *diag_text(const Diag *d)
{
    return d->text ? d->text : "";
}

// Edit distance counting an insertion, a deletion, a substitution or a swap
// of two neighbouring letters ("tahn" for "tanh") as one edit.
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return (size_t)-1;
    size_t d[33][33];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *diag_suggest(const char *name, const char *const *candidates, size_t n)
{
    size_t limit = strlen(name) / 3;
    if (limit < 1)
        limit = 1;
    if (limit > 2)
        limit = 2;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(name, candidates[i]);
        if (dist < best_d) {
            best_d = dist;
            best = candidates[i];
        }
    }
    return best;
}
