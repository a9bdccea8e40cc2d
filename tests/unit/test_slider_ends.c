// test_slider_ends.c: every bundled lesson's sources can be made at the ends
// of every slider that reaches them (lesson_slider_ends, which `gradlab
// check` also runs; here without training anything, so it is quick).
//
// usage: test_slider_ends LESSON...   (TAP on stdout; exit 1 on a failure)
#include <stdio.h>

#include "engine/diag.h"
#include "lessons/slider_ends.h"

typedef struct Ctx {
    const char *file;
    int *n;
} Ctx;

static void report(void *ctx, const LessonSource *src, const char *what, const char *why)
{
    Ctx *c = ctx;
    printf("not ok %d - %s:%d: %s: source '%s' cannot be made: %s\n", ++*c->n, c->file, src->line, what,
           src->name, why);
}

int main(int argc, char **argv)
{
    int n = 0, failed = 0;
    printf("TAP version 13\n");
    for (int a = 1; a < argc; a++) {
        Diag d;
        diag_init(&d, argv[a], NULL, 0);
        Lesson *l = lesson_load(argv[a], &d);
        if (!l) {
            printf("not ok %d - %s does not load\n# %s\n", ++n, argv[a], diag_text(&d));
            diag_free(&d);
            failed++;
            continue;
        }
        diag_free(&d);
        Ctx c = {argv[a], &n};
        int made = 0, bad = lesson_slider_ends(l, report, &c, &made);
        if (!bad)
            printf("ok %d - %s: %d sources made at the ends of %d parameters\n", ++n, argv[a], made,
                   l->f2.nparams);
        failed += bad;
        lesson_destroy(l);
    }
    printf("1..%d\n", n);
    return failed ? 1 : 0;
}
