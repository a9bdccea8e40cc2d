// lesson_test.h: what the unit tests that build lessons from text share: a
// lesson parsed from a string, the test failing with the diagnostics when it
// does not parse. Header-only (static functions); include it after
// <cmocka.h> from a test in this folder.
#ifndef GRADLAB_TEST_LESSON_TEST_H
#define GRADLAB_TEST_LESSON_TEST_H

#include <string.h>

#include "lessons/lesson.h"

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

#endif
