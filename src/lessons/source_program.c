// source_program.c: the `program` source kind. The lesson's program, built
// on its own copy (so it may run on the worker thread) with the run's
// parameter values as inputs, forward and backward once. Publishes each
// name's value as "NAME" and its gradient as "grad.NAME" (shape ()), the
// output's as "output", and each list as a whole: `h[0] .. h[10]` is also
// "h" (11,) and "grad.h" (11,), `W[i][j]` is "W" (rows, cols), so a plot,
// bars or a heatmap can show a hidden state over time or a weight matrix.
// Elements a list lacks are NaN.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/source_kinds.h"

typedef struct ProgramSource {
    Program *program;      // owned copy
    Graph *graph;
    Value *out;
} ProgramSource;

static const char *const program_options[] = {NULL};

// A copy of the lesson's program with the run's values of its inputs.
Program *source_program_copy(const SourceParams *p, char *err, size_t n);

Program *source_program_copy(const SourceParams *p, char *err, size_t n)
{
    const Lesson *l = p->lesson;
    Diag d;
    diag_init(&d, l->path, l->src, strlen(l->src));
    Program *prog = program_parse_span(l->src, l->program_start, l->program_end, &d);
    diag_free(&d);
    if (!prog) {
        snprintf(err, n, "out of memory copying the program");
        return NULL;
    }
    for (int i = 0; i < l->f2.nparams; i++)
        if (l->f2.params[i].input)
            program_set_input(prog, l->f2.params[i].name, p->values[i]);
    return prog;
}

static void *program_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    (void)decl;
    ProgramSource *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    s->program = source_program_copy(p, err, n);
    s->graph = s->program ? graph_create(PROGRAM_MAX_NODES + 1) : NULL;
    s->out = s->graph ? program_build(s->program, s->graph) : NULL;
    if (!s->out) {
        if (s->program)
            snprintf(err, n, "out of memory building the program");
        program_destroy(s->program);
        graph_destroy(s->graph);
        free(s);
        return NULL;
    }
    graph_zero_grad(s->graph);
    graph_backward(s->graph, s->out);
    return s;
}

static void program_destroy_source(void *inst)
{
    ProgramSource *s = inst;
    if (!s)
        return;
    program_destroy(s->program);
    graph_destroy(s->graph);
    free(s);
}

static int program_advance(void *inst, int max)
{
    (void)inst, (void)max;
    return 0; // evaluated once, when created
}

static int program_steps(const void *inst)
{
    (void)inst;
    return 0;
}

static const char *program_finished(const void *inst)
{
    (void)inst;
    return "evaluated";
}

// Parse "base[i]" or "base[i][j]": the length of base and the indices
// (j = -1 for one index). False for any other name.
static bool list_element(const char *name, size_t *blen, long *i, long *j)
{
    const char *open = strchr(name, '[');
    if (!open || open == name)
        return false;
    char *end;
    *blen = (size_t)(open - name);
    *i = strtol(open + 1, &end, 10);
    if (*end != ']' || *i < 0)
        return false;
    *j = -1;
    if (end[1] == '\0')
        return true;
    if (end[1] != '[')
        return false;
    *j = strtol(end + 2, &end, 10);
    return *end == ']' && end[1] == '\0' && *j >= 0;
}

// Whether other is an element of the list named by name[0..blen) with as
// many indices as two says; its indices in *i, *j.
static bool same_list(const char *other, const char *name, size_t blen, bool two, long *i, long *j)
{
    size_t bl2;
    return list_element(other, &bl2, i, j) && bl2 == blen && memcmp(other, name, blen) == 0 && (*j >= 0) == two;
}

// Publish every list of one or two indices as whole arrays.
static void publish_lists(const ProgramSource *s, const char *prefix, RunArrays *out)
{
    size_t nn = program_name_count(s->program);
    for (size_t k = 0; k < nn; k++) {
        size_t blen;
        long i, j;
        const char *name = program_name(s->program, k);
        if (!list_element(name, &blen, &i, &j))
            continue;
        // Only the first element met stands for its list.
        bool seen = false, two = j >= 0;
        long i2, j2;
        for (size_t q = 0; q < k && !seen; q++)
            seen = same_list(program_name(s->program, q), name, blen, two, &i2, &j2);
        if (seen || blen >= RUN_ARRAY_NAME - 8)
            continue;
        long rows = 0, cols = 0;
        for (size_t q = k; q < nn; q++) {
            if (!same_list(program_name(s->program, q), name, blen, two, &i2, &j2))
                continue;
            rows = i2 + 1 > rows ? i2 + 1 : rows;
            cols = j2 + 1 > cols ? j2 + 1 : cols;
        }
        if (rows > 100001 || cols > 100001 || (two && rows * cols > 1000000))
            continue;
        char base[RUN_ARRAY_NAME], gname[RUN_ARRAY_NAME];
        snprintf(base, sizeof(base), "%.*s", (int)blen, name);
        snprintf(gname, sizeof(gname), "grad.%s", base);
        // Add both arrays, then take their addresses: an add may move the pool.
        int shape[2] = {(int)rows, (int)cols};
        if (!run_arrays_add(out, prefix, base, two ? 2 : 1, shape) ||
            !run_arrays_add(out, prefix, gname, two ? 2 : 1, shape))
            return;
        size_t cells = (size_t)rows * (size_t)(two ? cols : 1);
        double *vals = out->pool + out->arrays[out->n - 2].offset, *g = out->pool + out->arrays[out->n - 1].offset;
        for (size_t c = 0; c < cells; c++)
            vals[c] = NAN, g[c] = NAN;
        for (size_t q = k; q < nn; q++) {
            const char *other = program_name(s->program, q);
            if (!same_list(other, name, blen, two, &i2, &j2))
                continue;
            const Value *val = program_lookup(s->program, s->graph, other);
            size_t at = (size_t)i2 * (size_t)(two ? cols : 1) + (size_t)(two ? j2 : 0);
            if (val)
                vals[at] = val->data, g[at] = val->grad;
        }
    }
}

static void program_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const ProgramSource *s = inst;
    double *x = run_arrays_add(out, prefix, "output", 0, NULL);
    if (x)
        *x = s->out->data;
    for (size_t i = 0; i < program_name_count(s->program); i++) {
        const char *name = program_name(s->program, i);
        const Value *v = program_lookup(s->program, s->graph, name);
        if (!v)
            continue;
        char gname[RUN_ARRAY_NAME];
        snprintf(gname, sizeof(gname), "grad.%s", name);
        if ((x = run_arrays_add(out, prefix, name, 0, NULL)))
            *x = v->data;
        if ((x = run_arrays_add(out, prefix, gname, 0, NULL)))
            *x = v->grad;
    }
    publish_lists(s, prefix, out);
}

const SourceKind source_program_kind = {
    .name = "program",
    .summary = "the lesson's program, forward and backward once: each name's value and gradient",
    .options = program_options,
    .reads_program = true,
    .create = program_create,
    .destroy = program_destroy_source,
    .advance = program_advance,
    .steps = program_steps,
    .finished = program_finished,
    .publish = program_publish,
};
