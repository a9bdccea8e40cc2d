// source_train.c: the `train` source kind, a seeded training run. Gradient
// descent (optionally with momentum) on some of the program's inputs, to
// lower the program's output, which the lesson writes as a loss:
//
//     source: fit train lr {lr} params w b seed 3 init 0.5 limit 2000
//
// Options: lr (default 0.1), momentum (0), params (default: every input),
// seed and init (when init is given, the params start from a normal sample
// of that standard deviation drawn with the seed; otherwise from the run's
// values), limit (most steps, default 2000), patience (stop when the loss
// has not fallen by a millionth of itself for that many steps, default 100;
// 0 never stops early). It also stops when the loss is NaN or Inf.
//
// Publishes "loss" (steps + 1: before any step, then after each), "steps"
// (shape ()) and each trained param's current value under its own name.
// The state after N steps depends on the options and N only.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/source_kinds.h"
#include "models/rng.h"

#define TRAIN_MAX_LIMIT 100000

typedef struct TrainSource {
    Program *program;            // owned copy
    Graph *graph;
    const char *names[LESSON_MAX_PARAMS2];
    double value[LESSON_MAX_PARAMS2], velocity[LESSON_MAX_PARAMS2];
    int nparams;
    double lr, momentum;
    int limit, patience;
    double *loss;                // (limit + 1)
    int steps;
    double best;                 // lowest loss so far, and the step it was reached
    int best_step;
    const char *finished;        // why it stopped, or NULL
} TrainSource;

static const char *const train_options[] = {"lr", "momentum", "params", "seed", "init", "limit", "patience", NULL};

Program *source_program_copy(const SourceParams *p, char *err, size_t n); // source_program.c

// Forward and backward with the current values; the loss, NaN when the graph ran out of room.
static double train_eval(TrainSource *t)
{
    for (int i = 0; i < t->nparams; i++)
        program_set_input(t->program, t->names[i], t->value[i]);
    Value *out = program_build(t->program, t->graph);
    if (!out)
        return NAN;
    graph_zero_grad(t->graph);
    graph_backward(t->graph, out);
    return out->data;
}

static void train_destroy(void *inst)
{
    TrainSource *t = inst;
    if (!t)
        return;
    program_destroy(t->program);
    graph_destroy(t->graph);
    free(t->loss);
    free(t);
}

// Fill t->names from the `params` option (words separated by spaces), or every input.
static bool train_params(TrainSource *t, const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    const char *list = source_option(decl, "params");
    if (!list) {
        for (size_t i = 0; i < program_input_count(t->program) && t->nparams < LESSON_MAX_PARAMS2; i++)
            t->names[t->nparams++] = program_input_name(t->program, i);
        return true;
    }
    for (const char *s = list; *s;) {
        while (*s == ' ')
            s++;
        const char *e = s;
        while (*e && *e != ' ')
            e++;
        if (e == s)
            break;
        const char *found = NULL;
        for (size_t i = 0; i < program_input_count(t->program); i++) {
            const char *name = program_input_name(t->program, i);
            if (strlen(name) == (size_t)(e - s) && memcmp(name, s, (size_t)(e - s)) == 0)
                found = name;
        }
        if (!found) {
            snprintf(err, n, "'params': '%.*s' is not an input of the program", (int)(e - s), s);
            return false;
        }
        if (t->nparams == LESSON_MAX_PARAMS2) {
            snprintf(err, n, "'params': at most %d", LESSON_MAX_PARAMS2);
            return false;
        }
        t->names[t->nparams++] = found;
        s = e;
    }
    (void)p;
    return true;
}

static void *train_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    TrainSource *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    double limit, patience, seed, init;
    if (!source_option_number(p, decl, "lr", 0.1, 0, 1e6, &t->lr, err, n) ||
        !source_option_number(p, decl, "momentum", 0, 0, 0.9999, &t->momentum, err, n) ||
        !source_option_number(p, decl, "limit", 2000, 1, TRAIN_MAX_LIMIT, &limit, err, n) ||
        !source_option_number(p, decl, "patience", 100, 0, TRAIN_MAX_LIMIT, &patience, err, n) ||
        !source_option_number(p, decl, "seed", 0, 0, 4294967295.0, &seed, err, n) ||
        !source_option_number(p, decl, "init", 0, 0, 1e6, &init, err, n))
        goto fail;
    t->limit = (int)limit;
    t->patience = (int)patience;
    t->program = source_program_copy(p, err, n);
    if (!t->program || !train_params(t, p, decl, err, n))
        goto fail;
    t->graph = graph_create(PROGRAM_MAX_NODES + 1);
    t->loss = malloc(((size_t)t->limit + 1) * sizeof(double));
    if (!t->graph || !t->loss) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    Pcg rng;
    pcg_seed(&rng, (uint64_t)seed);
    for (int i = 0; i < t->nparams; i++) {
        double v = NAN;
        for (size_t k = 0; k < program_input_count(t->program); k++)
            if (program_input_name(t->program, k) == t->names[i])
                v = program_input_value(t->program, k);
        t->value[i] = source_option(decl, "init") ? init * pcg_normal(&rng) : v;
    }
    t->loss[0] = t->best = train_eval(t);
    if (!isfinite(t->loss[0]))
        t->finished = "the loss is NaN or Inf before training";
    return t;
fail:
    train_destroy(t);
    return NULL;
}

static int train_advance(void *inst, int max)
{
    TrainSource *t = inst;
    int taken = 0;
    while (taken < max && !t->finished) {
        // The gradients are those of the last evaluation, at the current values.
        for (int i = 0; i < t->nparams; i++) {
            const Value *v = program_lookup(t->program, t->graph, t->names[i]);
            double g = v ? v->grad : 0;
            t->velocity[i] = t->momentum * t->velocity[i] + g;
            t->value[i] -= t->lr * t->velocity[i];
        }
        double loss = train_eval(t);
        t->loss[++t->steps] = loss;
        taken++;
        if (!isfinite(loss))
            t->finished = "the loss became NaN or Inf: the rate is too high";
        else if (loss < t->best - 1e-6 * fabs(t->best))
            t->best = loss, t->best_step = t->steps;
        else if (t->patience && t->steps - t->best_step >= t->patience)
            t->finished = "the loss stopped falling";
        if (!t->finished && t->steps >= t->limit)
            t->finished = "the step limit was reached";
    }
    return taken;
}

static int train_steps(const void *inst)
{
    return ((const TrainSource *)inst)->steps;
}

static const char *train_finished(const void *inst)
{
    return ((const TrainSource *)inst)->finished;
}

static void train_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const TrainSource *t = inst;
    int shape[1] = {t->steps + 1};
    double *x = run_arrays_add(out, prefix, "loss", 1, shape);
    if (x)
        memcpy(x, t->loss, (size_t)shape[0] * sizeof(double));
    if ((x = run_arrays_add(out, prefix, "steps", 0, NULL)))
        *x = t->steps;
    for (int i = 0; i < t->nparams; i++)
        if ((x = run_arrays_add(out, prefix, t->names[i], 0, NULL)))
            *x = t->value[i];
}

const SourceKind source_train_kind = {
    .name = "train",
    .summary = "seeded gradient descent on program inputs that lowers the program's output (a loss)",
    .options = train_options,
    .reads_program = true,
    .default_limit = 0,
    .create = train_create,
    .destroy = train_destroy,
    .advance = train_advance,
    .steps = train_steps,
    .finished = train_finished,
    .publish = train_publish,
};
