// format2_parse.h: the hooks lesson.c calls to read lesson format 2's lines
// (format2.c). Internal to src/lessons.
#ifndef GRADLAB_FORMAT2_PARSE_H
#define GRADLAB_FORMAT2_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "lessons/lesson.h"

// Read the line 'key: value' at byte at, whose value is l->src[vs, ve), when
// key is one that format 2 adds (param, source, panel, layout, set, run,
// show, hide, highlight). Errors go to d. Returns false when key is not one
// of them (the caller reports an unknown key).
bool format2_parse_line(Lesson *l, Diag *d, const char *key, size_t at, size_t vs, size_t ve);

// Read 'check: after SOURCE N: FIGURE < BOUND' or 'check: gradcheck [tol T]'
// (format 2's checks). Returns false when the check is another kind.
bool format2_parse_check(Lesson *l, Diag *d, size_t at, size_t vs, size_t ve);

// After the whole file: program inputs become parameters, a lesson without
// panels gets its view as one, names in panels and directives are resolved.
void format2_finish(Lesson *l, Diag *d);

#endif
