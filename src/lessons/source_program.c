// source_program.c: the `program` source kind. The lesson's program, built
// on its own copy (so it may run on the worker thread) with the run's
// parameter values as inputs, forward and backward once. Publishes each
// name's value as "NAME" and its gradient as "grad.NAME" (shape ()), and
// the output's as "output".
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
}

const SourceKind source_program_kind = {
    .name = "program",
    .summary = "the lesson's program, forward and backward once: each name's value and gradient",
    .options = program_options,
    .create = program_create,
    .destroy = program_destroy_source,
    .advance = program_advance,
    .steps = program_steps,
    .finished = program_finished,
    .publish = program_publish,
};
