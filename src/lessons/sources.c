// sources.c: the table of source kinds, published arrays, and option
// helpers; see sources.h. Each kind lives in its own file (source_*.c).
#include "lessons/sources.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/source_kinds.h"

const SourceKind *const source_kinds[] = {
    &SOURCE_PROGRAM,
    &SOURCE_TRAIN,
    &source_optim_kind,
    &source_bptt_kind,
    &source_explode_kind,
    &source_curve_kind,
    &source_stack_kind,
    &source_adding_kind,
    &source_lstmmem_kind,
    &source_mlp2d_kind,
    &source_charrnn_kind,
    &source_steering_kind,
    &source_tuning_kind,
    &source_transfer_kind,
};
const int source_kind_count = (int)(sizeof(source_kinds) / sizeof(source_kinds[0]));

int source_kind_find(const char *name)
{
    for (int i = 0; i < source_kind_count; i++)
        if (strcmp(source_kinds[i]->name, name) == 0)
            return i;
    return -1;
}

const char *const *source_kind_names(void)
{
    static const char *names[sizeof(source_kinds) / sizeof(source_kinds[0])];
    for (int i = 0; i < source_kind_count; i++)
        names[i] = source_kinds[i]->name;
    return names;
}

// ---------------------------------------------------------------------------
// Published arrays

void run_arrays_clear(RunArrays *a)
{
    a->n = 0;
    a->refused = 0;
    a->used = 0;
}

void run_arrays_free(RunArrays *a)
{
    if (!a)
        return;
    free(a->pool);
    a->pool = NULL;
    a->n = a->refused = 0;
    a->used = a->cap = 0;
}

double *run_arrays_add(RunArrays *a, const char *prefix, const char *name, int ndim, const int *shape)
{
    if (ndim < 0 || ndim > 2)
        return NULL;
    if (a->n >= RUN_MAX_ARRAYS) {
        a->refused++;
        return NULL;
    }
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || (shape[d] > 0 && count > ((size_t)1 << 28) / (size_t)shape[d]))
            return NULL;
        count *= (size_t)shape[d];
    }
    if (a->used + count > a->cap) {
        size_t cap = a->cap ? a->cap : 1024;
        while (cap < a->used + count)
            cap *= 2;
        double *pool = realloc(a->pool, cap * sizeof(double));
        if (!pool)
            return NULL;
        a->pool = pool;
        a->cap = cap;
    }
    RunArray *r = &a->arrays[a->n++];
    snprintf(r->name, sizeof(r->name), "%s%s", prefix, name);
    r->ndim = ndim;
    r->shape[0] = ndim > 0 ? shape[0] : 1;
    r->shape[1] = ndim > 1 ? shape[1] : 1;
    r->offset = a->used;
    a->used += count;
    return a->pool + r->offset;
}

void run_arrays_number(RunArrays *a, const char *prefix, const char *name, double v)
{
    double *x = run_arrays_add(a, prefix, name, 0, NULL);
    if (x)
        *x = v;
}

const RunArray *run_arrays_find(const RunArrays *a, const char *name, const double **data)
{
    for (int i = 0; i < a->n; i++) {
        if (strcmp(a->arrays[i].name, name) == 0) {
            if (data)
                *data = a->pool + a->arrays[i].offset;
            return &a->arrays[i];
        }
    }
    return NULL;
}

bool run_arrays_copy(RunArrays *dst, const RunArrays *src)
{
    run_arrays_clear(dst);
    if (src->used > dst->cap) {
        double *pool = realloc(dst->pool, src->used * sizeof(double));
        if (!pool)
            return false;
        dst->pool = pool;
        dst->cap = src->used;
    }
    if (src->used)
        memcpy(dst->pool, src->pool, src->used * sizeof(double));
    memcpy(dst->arrays, src->arrays, (size_t)src->n * sizeof(RunArray));
    dst->n = src->n;
    dst->refused = src->refused;
    dst->used = src->used;
    return true;
}

// ---------------------------------------------------------------------------
// Options

const char *source_option(const LessonSource *decl, const char *key)
{
    for (int i = 0; i < decl->nopts; i++)
        if (strcmp(decl->keys[i], key) == 0)
            return decl->values[i];
    return NULL;
}

bool source_option_number(const SourceParams *p, const LessonSource *decl, const char *key, double dflt,
                          double lo, double hi, double *out, char *err, size_t n)
{
    const char *v = source_option(decl, key);
    if (!v) {
        *out = dflt;
        return true;
    }
    double x;
    size_t len = strlen(v);
    if (len > 2 && v[0] == '{' && v[len - 1] == '}') {
        int found = -1;
        for (int i = 0; i < p->lesson->f2.nparams; i++)
            if (strlen(p->lesson->f2.params[i].name) == len - 2 &&
                memcmp(p->lesson->f2.params[i].name, v + 1, len - 2) == 0)
                found = i;
        if (found < 0) {
            snprintf(err, n, "'%s %s': no parameter '%.*s'; declare it with 'param:'", key, v, (int)(len - 2),
                     v + 1);
            return false;
        }
        x = p->values[found];
    } else {
        char *end;
        x = strtod(v, &end);
        if (end == v || *end) {
            snprintf(err, n, "'%s %s': give a number or {param}", key, v);
            return false;
        }
    }
    if (!(x >= lo && x <= hi)) {
        snprintf(err, n, "'%s %s' is %g; it must be from %g to %g", key, v, x, lo, hi);
        return false;
    }
    *out = x;
    return true;
}

bool source_reads_param(const Lesson *l, const LessonSource *decl, int i)
{
    const char *name = l->f2.params[i].name;
    size_t len = strlen(name);
    if (l->f2.params[i].input && source_kinds[decl->kind]->reads_program)
        return true;
    for (int k = 0; k < decl->nopts; k++) {
        const char *v = decl->values[k];
        if (v[0] == '{' && strncmp(v + 1, name, len) == 0 && v[len + 1] == '}' && v[len + 2] == '\0')
            return true;
    }
    return false;
}

const char *source_option_word(const SourceParams *p, const LessonSource *decl, const char *key,
                               const char *dflt, char *err, size_t n)
{
    const char *v = source_option(decl, key);
    if (!v)
        return dflt;
    size_t len = strlen(v);
    if (len <= 2 || v[0] != '{' || v[len - 1] != '}')
        return v;
    for (int i = 0; i < p->lesson->f2.nparams; i++) {
        const LessonParam *lp = &p->lesson->f2.params[i];
        if (strlen(lp->name) != len - 2 || memcmp(lp->name, v + 1, len - 2) != 0)
            continue;
        int k = (int)p->values[i];
        if (lp->kind == PARAM_CHOICE && k >= 0 && k < lp->nchoices)
            return lp->choices[k];
        if (lp->kind == PARAM_TOGGLE)
            return p->values[i] != 0 ? "on" : "off";
        snprintf(err, n, "'%s %s': '%s' is a number; give a choice or toggle parameter, or a word", key, v,
                 lp->name);
        return NULL;
    }
    snprintf(err, n, "'%s %s': no parameter '%.*s'; declare it with 'param:'", key, v, (int)(len - 2), v + 1);
    return NULL;
}
