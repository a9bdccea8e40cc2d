// diag.h: error messages that point into a source text.
//
// A parser reports problems here and keeps going; the caller prints them all
// at the end. Each message looks like a compiler's:
//
//     lesson.lesson:3:7: error: unknown name 'w'; did you mean 'x'?
//         f = w * 2
//             ^
//
// Messages are kept in one growing buffer so tests can compare them exactly.
#ifndef GRADLAB_DIAG_H
#define GRADLAB_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#define DIAG_MAX_ERRORS 20

typedef struct Diag {
    const char *file;   // name shown before the position ("-e" for command lines)
    const char *src;    // the text offsets refer to (not owned; may be NULL)
    size_t src_len;
    int nerrors;        // errors reported so far, including ones not kept
    char *text;         // all messages, NUL-terminated, owned (malloc)
    size_t len, cap;
} Diag;

// Start a diagnostics buffer for the text src[0..src_len) read from file.
// Neither string is copied: both must outlive the Diag.
void diag_init(Diag *d, const char *file, const char *src, size_t src_len);

// Free the message buffer. NULL is a no-op.
void diag_free(Diag *d);

// Report an error at byte offset in the source: "FILE:LINE:COL: error: MSG",
// the source line and a caret under the column. Columns count UTF-8 code
// points from 1 (see diag_position for lines). After DIAG_MAX_ERRORS errors,
// further ones are only counted.
void diag_error(Diag *d, size_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

// Report an error that has no position in the text: "FILE: error: MSG".
void diag_error_file(Diag *d, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

// Line and column (both from 1) of a byte offset. Lines end with "\n",
// "\r\n" or a lone "\r" (old Mac files); a UTF-8 byte-order mark at the start
// of the text takes no column.
void diag_position(const Diag *d, size_t offset, int *line, int *col);

// 3 when src[0..len) starts with a UTF-8 byte-order mark (EF BB BF), else 0:
// the number of bytes a parser skips before the first line.
size_t diag_bom_length(const char *src, size_t len);

// The messages so far ("" when there are none). Owned by d.
const char *diag_text(const Diag *d);

// The name among candidates[0..n) closest to name by edit distance, or NULL
// when none is within 2 edits (or a third of the name's length).
const char *diag_suggest(const char *name, const char *const *candidates, size_t n);

#endif
