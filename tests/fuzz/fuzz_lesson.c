// fuzz_lesson.c: libFuzzer target for the lesson-file parser (lessons/lesson.h).
// Parses the input as a lesson; when it parses, evaluates every step, expands
// every step's narrative, and runs and describes every check.
//
// An input whose first byte has its top bit set is a recipe for the
// structure-aware generator (program_gen.h) instead of lesson text.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/diag.h"
#include "program_gen.h"
#include "lessons/lesson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Graph *graph;
static char *generated;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!graph)
        graph = graph_create(PROGRAM_MAX_NODES + 1);
    const char *src = (const char *)data;
    if (size > 0 && data[0] & 0x80) {
        if (!generated && !(generated = malloc(GEN_MAX_TEXT)))
            return 0;
        size = gen_lesson(data + 1, size - 1, generated, GEN_MAX_TEXT);
        src = generated;
    }
    Diag d;
    diag_init(&d, "fuzz.lesson", src, size);
    Lesson *l = lesson_parse(src, size, "fuzz.lesson", &d);
    (void)diag_text(&d);
    if (l) {
        char buf[4096];
        for (size_t st = 0; st < l->nsteps; st++) {
            (void)lesson_eval(l, graph, st);
            (void)lesson_state(l, st);
            lesson_step_text(l, graph, st, buf, sizeof(buf));
            lesson_step_text(l, graph, st, buf, 7);   // tiny buffers truncate cleanly
        }
        if (l->nsteps)
            (void)lesson_eval(l, graph, l->nsteps - 1);
        for (size_t ci = 0; ci < l->nchecks; ci++) {
            double got;
            (void)lesson_check_run(l, graph, ci, &got);
            lesson_check_describe(l, ci, buf, sizeof(buf));
            lesson_check_describe(l, ci, buf, 5);
        }
        lesson_destroy(l);
    }
    diag_free(&d);
    return 0;
}
