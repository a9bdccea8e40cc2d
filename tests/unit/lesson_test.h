// lesson_test.h: what the unit tests that build lessons from text share: a
// lesson parsed from a string, the test failing with the diagnostics when it
// does not parse; and one instance of a source kind made from a lesson line,
// driven by hand (no run). Header-only (static functions); include it after
// <cmocka.h> from a test in this folder.
#ifndef GRADLAB_TEST_LESSON_TEST_H
#define GRADLAB_TEST_LESSON_TEST_H

#include <stdio.h>
#include <string.h>

#include "lessons/lesson.h"
#include "lessons/sources.h"

// The lesson in text, named file in messages. Fails the test (with the
// messages) when it does not parse; free the lesson with lesson_destroy.
static inline Lesson *lesson_test_parse_named(const char *text, const char *file)
{
    size_t n = strlen(text);
    Diag d;
    diag_init(&d, file, text, n);
    Lesson *l = lesson_parse(text, n, file, &d);
    if (!l)
        fail_msg("the lesson does not parse:\n%s", diag_text(&d));
    diag_free(&d);
    return l;
}

// The same, named t.lesson.
static inline Lesson *lesson_test_parse(const char *text)
{
    return lesson_test_parse_named(text, "t.lesson");
}

// One instance of a source kind, made from the line `source: s KIND OPTIONS`
// of a one-step lesson, with the arrays it last published.
typedef struct SourceInst {
    const SourceKind *kind;
    Lesson *l;        // owns the declaration the instance was made from
    void *s;          // the instance; NULL when create refused the options
    RunArrays out;    // what source_inst_get had it publish
} SourceInst;

// The instance of kind with these options, in a lesson named file in
// messages; it.s is NULL with the reason in err when create refuses them.
// Fails the test when the lesson does not parse. Free with source_inst_drop.
static inline SourceInst source_inst_make(const SourceKind *kind, const char *file, const char *options,
                                          char *err, size_t n)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "gradlab-lesson: 2\ntitle: T\nsource: s %s %s\nprogram:\n    a = 1\n    f = a\n\nstep: intro\n",
             kind->name, options);
    SourceInst it = {.kind = kind, .l = lesson_test_parse_named(text, file)};
    SourceParams p = {it.l, NULL};
    it.s = kind->create(&p, &it.l->f2.sources[0], err, n);
    return it;
}

// Free the instance, its arrays and its lesson.
static inline void source_inst_drop(SourceInst *it)
{
    it->kind->destroy(it->s);
    run_arrays_free(&it->out);
    lesson_destroy(it->l);
}

// Have the instance publish (no prefix) and return array name's numbers,
// its RunArray in *a when a is not NULL. Fails the test when there is none.
static inline const double *source_inst_get(SourceInst *it, const char *name, const RunArray **a)
{
    run_arrays_clear(&it->out);
    it->kind->publish(it->s, "", &it->out);
    const double *data = NULL;
    const RunArray *r = run_arrays_find(&it->out, name, &data);
    if (!r)
        fail_msg("no array '%s'", name);
    if (a)
        *a = r;
    return data;
}

#endif
