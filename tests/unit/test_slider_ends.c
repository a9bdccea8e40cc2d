// test_slider_ends.c: every source of a lesson can be made at every end of
// every slider that reaches it. A student drags a slider to its end; if a
// source's option refuses that value (lesson 13's batch slider went to 128
// while the tuning source takes at most 64), the panel that shows it goes
// blank with an error, in front of the class. For each lesson file given:
// each parameter at its range's ends (a choice at each word, a toggle at
// both), the others at their defaults, then all at their lower ends and all
// at their upper ends together; each source whose options read a parameter
// that moved is made (not trained) with those values, then let go.
//
// usage: test_slider_ends LESSON...   (TAP on stdout; exit 1 on a failure)
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/diag.h"
#include "lessons/lesson.h"
#include "lessons/sources.h"

// Whether source s's options read parameter name ({name} or {name:FORMAT}).
static bool reads(const LessonSource *s, const char *name)
{
    size_t n = strlen(name);
    for (int k = 0; k < s->nopts; k++)
        for (const char *v = strchr(s->values[k], '{'); v; v = strchr(v + 1, '{'))
            if (strncmp(v + 1, name, n) == 0 && (v[1 + n] == '}' || v[1 + n] == ':'))
                return true;
    return false;
}

// A parameter's ends: a number's min and max, a choice's words, a toggle's
// two states. Returns how many (at most cap).
static int ends(const LessonParam *p, double *out, int cap)
{
    int n = 0;
    switch (p->kind) {
    case PARAM_NUMBER:
        out[n++] = p->min;
        out[n++] = p->max;
        break;
    case PARAM_CHOICE:
        for (int c = 0; c < p->nchoices && n < cap; c++)
            out[n++] = c;
        break;
    case PARAM_TOGGLE:
        out[n++] = 0;
        out[n++] = 1;
        break;
    }
    return n;
}

// Make every source that reads a parameter marked in moved, with values;
// print a TAP line per failure (numbered from *n) and count the sources
// made in *made. Returns the failures.
static int try_sources(const Lesson *l, const char *file, const double *values, const bool *moved,
                       const char *what, int *n, int *made)
{
    int failed = 0;
    SourceParams sp = {.lesson = l, .values = values};
    for (int s = 0; s < l->f2.nsources; s++) {
        const LessonSource *src = &l->f2.sources[s];
        bool touched = false;
        for (int i = 0; i < l->f2.nparams && !touched; i++)
            touched = moved[i] && reads(src, l->f2.params[i].name);
        if (!touched)
            continue;
        const SourceKind *k = source_kinds[src->kind];
        char err[256] = "";
        void *inst = k->create(&sp, src, err, sizeof(err));
        ++*made;
        if (inst) {
            k->destroy(inst);
            continue;
        }
        failed++;
        printf("not ok %d - %s:%d: %s: source '%s' cannot be made: %s\n", ++*n, file, src->line, what,
               src->name, err);
    }
    return failed;
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
        const int np = l->f2.nparams;
        double values[LESSON_MAX_PARAMS2], low[LESSON_MAX_PARAMS2], high[LESSON_MAX_PARAMS2];
        bool moved[LESSON_MAX_PARAMS2], all[LESSON_MAX_PARAMS2];
        int before = failed, made = 0;
        for (int i = 0; i < np; i++) {
            double e[LESSON_MAX_CHOICES + 2] = {0};
            int ne = ends(&l->f2.params[i], e, LESSON_MAX_CHOICES + 2);
            low[i] = e[0], high[i] = ne ? e[ne - 1] : e[0];
            all[i] = true;
        }
        for (int i = 0; i < np; i++) {
            const LessonParam *p = &l->f2.params[i];
            double e[LESSON_MAX_CHOICES + 2] = {0};
            int ne = ends(p, e, LESSON_MAX_CHOICES + 2);
            for (int k = 0; k < ne; k++) {
                for (int j = 0; j < np; j++)
                    values[j] = l->f2.params[j].value, moved[j] = j == i;
                values[i] = e[k];
                char what[128];
                snprintf(what, sizeof(what), "%s = %g", p->name, e[k]);
                failed += try_sources(l, argv[a], values, moved, what, &n, &made);
            }
        }
        if (np) {
            failed += try_sources(l, argv[a], low, all, "every parameter at its lower end", &n, &made);
            failed += try_sources(l, argv[a], high, all, "every parameter at its upper end", &n, &made);
        }
        if (failed == before)
            printf("ok %d - %s: %d sources made at the ends of %d parameters\n", ++n, argv[a], made, np);
        lesson_destroy(l);
    }
    printf("1..%d\n", n);
    return failed ? 1 : 0;
}
