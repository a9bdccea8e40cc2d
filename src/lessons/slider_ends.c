// slider_ends.c: every source of a lesson made at the ends of the sliders
// that reach it; see slider_ends.h.
#include "lessons/slider_ends.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lessons/sources.h"

// A parameter's ends: a number's min and max, a choice's words, a toggle's
// two states. Returns how many (at least 1, at most cap).
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
    if (!n)
        out[n++] = p->value;
    return n;
}

// Make every source that reads a parameter marked in moved, with values.
// Returns how many could not be made.
static int try_sources(const Lesson *l, const double *values, const bool *moved, const char *what,
                       SliderEndsReport report, void *ctx, int *made)
{
    int failed = 0;
    SourceParams sp = {.lesson = l, .values = values};
    for (int s = 0; s < l->f2.nsources; s++) {
        const LessonSource *src = &l->f2.sources[s];
        bool touched = false;
        for (int i = 0; i < l->f2.nparams && !touched; i++)
            touched = moved[i] && source_reads_param(l, src, i);
        if (!touched)
            continue;
        const SourceKind *k = source_kinds[src->kind];
        char why[256] = "";
        void *inst = k->create(&sp, src, why, sizeof(why));
        ++*made;
        if (inst) {
            k->destroy(inst);
            continue;
        }
        failed++;
        report(ctx, src, what, why[0] ? why : "it could not be made");
    }
    return failed;
}

int lesson_slider_ends(const Lesson *l, SliderEndsReport report, void *ctx, int *made)
{
    enum { CAP = LESSON_MAX_CHOICES + 2 };
    const int np = l->f2.nparams;
    double values[LESSON_MAX_PARAMS2], low[LESSON_MAX_PARAMS2], high[LESSON_MAX_PARAMS2], e[CAP];
    bool moved[LESSON_MAX_PARAMS2], all[LESSON_MAX_PARAMS2];
    int failed = 0, tried = 0;
    for (int i = 0; i < np; i++) {
        int ne = ends(&l->f2.params[i], e, CAP);
        low[i] = e[0], high[i] = e[ne - 1], all[i] = true;
    }
    for (int i = 0; i < np; i++) {
        const LessonParam *p = &l->f2.params[i];
        int ne = ends(p, e, CAP);
        for (int k = 0; k < ne; k++) {
            for (int j = 0; j < np; j++)
                values[j] = l->f2.params[j].value, moved[j] = j == i;
            values[i] = e[k];
            char what[160];
            if (p->kind == PARAM_CHOICE)
                snprintf(what, sizeof(what), "%s = %s", p->name, p->choices[(int)e[k]]);
            else if (p->kind == PARAM_TOGGLE)
                snprintf(what, sizeof(what), "%s %s", p->name, e[k] ? "on" : "off");
            else
                snprintf(what, sizeof(what), "%s = %g", p->name, e[k]);
            failed += try_sources(l, values, moved, what, report, ctx, &tried);
        }
    }
    if (np) {
        failed += try_sources(l, low, all, "every parameter at its lower end", report, ctx, &tried);
        failed += try_sources(l, high, all, "every parameter at its upper end", report, ctx, &tried);
    }
    if (made)
        *made = tried;
    return failed;
}
