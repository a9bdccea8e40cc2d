// source_adding.c: the `adding` source kind, a recurrent net learning the
// adding problem (Hochreiter and Schmidhuber 1997; Le, Jaitly and Hinton
// 2015) live. A thin adapter over the trainer in models/adding.h (the one
// `gradlab train adding` runs, checked against PyTorch): an LSTM, a tanh RNN
// or an IRNN with a linear read-out of h_T, Adam, clipping by global norm.
//
//     source: lstm adding model lstm T {T} hidden 64 seed 1 limit 2000
//
// Options (numbers or {param}; `model` a word or {param} of a choice):
//   model   lstm, rnn (tanh, PyTorch's init) or irnn (relu, W_hh = I) (lstm)
//   T       sequence length, 2 to 200 (100)
//   hidden  hidden units, 1 to 64 (64)
//   batch   sequences per training step, 1 to 64 (32)
//   lr      Adam's rate, 1e-6 to 1 (the model's default in adding.c:
//           lstm 1e-2, rnn 1e-3, irnn 1e-4)
//   clip    the gradient's global norm is clipped to this; 0 for none (1)
//   seed    weights, training batches and the test set follow from it (1)
//   limit   most training steps, 1 to 10000 (2000)
//   every   the test set is scored every this many steps, 1 to 1000 (50)
//   test    sequences in the fixed test set, 1 to 4096 (256)
// The size limits allow an LSTM at T 200, batch 64, 64 units (46 MB of
// activations), but one source may hold at most ADDING_SOURCE_MAX_MEMORY of
// them (batch x T x hidden together), so that the eight sources a lesson may
// declare stay within the README's 256 MB.
//
// Publishes, for a run that has taken `steps` training steps:
//   loss      (steps)   each step's training MSE (its batch, before the update)
//   smooth    (steps)   the same, averaged over the last `every` steps
//   baseline  (steps)   1/6 at every step: the MSE of always predicting 1
//   test      (k + 1)   the test MSE before training and after every `every`
//                       steps (and at the limit)
//   last                the latest test MSE; `ratio` = (1/6) / last, how many
//                       times better than the baseline; `best` the lowest
//   reached             the first step whose test MSE was below 1/60 (ten
//                       times better than the baseline), 0 for none yet
//   steps, T, hidden, lr
// It stops at its limit, or when the training loss is NaN or Inf. The state
// after N steps depends on the options and N only.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/source_kinds.h"
#include "models/adding.h"

#define ADDING_SOURCE_MAX_LIMIT 10000
#define ADDING_SOURCE_MAX_MEMORY (16.0 * 1048576) // bytes of activations one source may hold (see below)

typedef struct AddingSource {
    AddingTrainer *tr;
    int limit, every;
    double *loss, *smooth; // (limit) each
    double *test;          // (limit / every + 2)
    int ntest, steps, reached;
    double sum;            // the last `every` losses added up, for smooth
    double best;
    const char *finished;  // why it stopped, or NULL
    size_t bytes;          // about what it holds (SourceKind.bytes)
} AddingSource;

static const char *const adding_options[] = {"model", "T",     "hidden", "batch", "lr",   "clip",
                                             "seed",  "limit", "every",  "test",  NULL};

static void adding_source_destroy(void *inst)
{
    AddingSource *a = inst;
    if (!a)
        return;
    adding_destroy(a->tr);
    free(a->loss);
    free(a->smooth);
    free(a->test);
    free(a);
}

// Score the test set and record it.
static void score(AddingSource *a)
{
    double mse = adding_test_mse(a->tr);
    a->test[a->ntest++] = mse;
    if (mse < a->best)
        a->best = mse;
    if (!a->reached && a->steps > 0 && mse < ADDING_BASELINE_MSE / 10)
        a->reached = a->steps;
}

static void *adding_source_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    AddingSource *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    const char *word = source_option_word(p, decl, "model", "lstm", err, n);
    if (!word)
        goto fail;
    int model = -1;
    for (int i = 0; i < ADDING_MODEL_COUNT; i++)
        if (strcmp(word, adding_model_names[i]) == 0)
            model = i;
    if (model < 0) {
        snprintf(err, n, "'model %s': give one of lstm, rnn, irnn", word);
        goto fail;
    }
    AddingConfig c = adding_defaults((AddingModel)model);
    double T, hidden, batch, lr, clip, seed, limit, every, test;
    if (!source_option_number(p, decl, "T", 100, 2, 200, &T, err, n) ||
        !source_option_number(p, decl, "hidden", 64, 1, 64, &hidden, err, n) ||
        !source_option_number(p, decl, "batch", 32, 1, 64, &batch, err, n) ||
        !source_option_number(p, decl, "lr", c.lr, 1e-6, 1, &lr, err, n) ||
        !source_option_number(p, decl, "clip", 1, 0, 1e6, &clip, err, n) ||
        !source_option_number(p, decl, "seed", 1, 0, 2147483647.0, &seed, err, n) ||
        !source_option_number(p, decl, "limit", 2000, 1, ADDING_SOURCE_MAX_LIMIT, &limit, err, n) ||
        !source_option_number(p, decl, "every", 50, 1, 1000, &every, err, n) ||
        !source_option_number(p, decl, "test", 256, 1, 4096, &test, err, n))
        goto fail;
    if (T != floor(T) || hidden != floor(hidden) || batch != floor(batch) || seed != floor(seed) ||
        limit != floor(limit) || every != floor(every) || test != floor(test)) {
        snprintf(err, n, "'T', 'hidden', 'batch', 'seed', 'limit', 'every' and 'test' are whole numbers");
        goto fail;
    }
    c.T = (int)T, c.hidden = (int)hidden, c.batch = (int)batch, c.lr = (float)lr, c.clip = (float)clip;
    c.seed = (uint64_t)seed, c.steps = (int)limit, c.test_size = (int)test;
    // The activations recurrent_check_size counts: (2 I + 2 G H + 6 H)
    // floats per sequence and time step, I = 2 inputs, G = 4 gates (LSTM) or 1.
    int G = c.model == ADDING_LSTM ? 4 : 1;
    double mem = batch * T * (4 + 2 * G * hidden + 6 * hidden) * sizeof(float);
    if (mem > ADDING_SOURCE_MAX_MEMORY) {
        snprintf(err, n, "batch %d x T %d x hidden %d (%s) holds %.0f MB of activations, more than %.0f MB; "
                 "give a smaller batch, T or hidden", c.batch, c.T, c.hidden, word, mem / 1048576,
                 ADDING_SOURCE_MAX_MEMORY / 1048576);
        goto fail;
    }
    a->limit = (int)limit, a->every = (int)every;
    a->bytes = (size_t)mem + (2 * (size_t)a->limit + (size_t)a->limit / (size_t)a->every + 2) * sizeof(double);
    a->tr = adding_create(&c);
    a->loss = malloc((size_t)a->limit * sizeof(double));
    a->smooth = malloc((size_t)a->limit * sizeof(double));
    a->test = malloc(((size_t)a->limit / (size_t)a->every + 2) * sizeof(double));
    if (!a->tr || !a->loss || !a->smooth || !a->test) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    a->best = INFINITY;
    score(a);
    return a;
fail:
    adding_source_destroy(a);
    return NULL;
}

static int adding_source_advance(void *inst, int max)
{
    AddingSource *a = inst;
    int taken = 0;
    while (taken < max && !a->finished) {
        double mse = adding_step(a->tr);
        const int s = a->steps++;
        a->loss[s] = mse;
        a->sum += mse;
        if (s >= a->every)
            a->sum -= a->loss[s - a->every];
        a->smooth[s] = a->sum / (s + 1 < a->every ? s + 1 : a->every);
        taken++;
        if (!isfinite(mse)) {
            a->finished = "the training loss became NaN or Inf (lower the rate)";
            break;
        }
        if (a->steps % a->every == 0 || a->steps == a->limit)
            score(a);
        if (a->steps >= a->limit)
            a->finished = "the step limit was reached";
    }
    return taken;
}

static int adding_source_steps(const void *inst)
{
    return ((const AddingSource *)inst)->steps;
}

static const char *adding_source_finished(const void *inst)
{
    return ((const AddingSource *)inst)->finished;
}

static void adding_source_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const AddingSource *a = inst;
    int n = a->steps;
    double *x;
    if (n > 0) { // an empty array would read as a missing figure
        if ((x = run_arrays_add(out, prefix, "loss", 1, &n)))
            memcpy(x, a->loss, (size_t)n * sizeof(double));
        if ((x = run_arrays_add(out, prefix, "smooth", 1, &n)))
            memcpy(x, a->smooth, (size_t)n * sizeof(double));
        if ((x = run_arrays_add(out, prefix, "baseline", 1, &n)))
            for (int i = 0; i < n; i++)
                x[i] = ADDING_BASELINE_MSE;
    }
    n = a->ntest;
    if ((x = run_arrays_add(out, prefix, "test", 1, &n)))
        memcpy(x, a->test, (size_t)n * sizeof(double));
    const double last = a->test[a->ntest - 1];
    const char *names[] = {"last", "ratio", "best", "reached", "steps", "T", "hidden", "lr"};
    double values[] = {last,     ADDING_BASELINE_MSE / last, a->best, a->reached, a->steps, a->tr->cfg.T,
                       a->tr->cfg.hidden, a->tr->cfg.lr};
    for (int i = 0; i < 8; i++)
        if ((x = run_arrays_add(out, prefix, names[i], 0, NULL)))
            *x = values[i];
}

static size_t adding_source_bytes(const void *inst)
{
    return ((const AddingSource *)inst)->bytes;
}

const SourceKind source_adding_kind = {
    .name = "adding",
    .summary = "an LSTM, tanh RNN or IRNN learning the adding problem (Adam, clipped): training and test MSE",
    .options = adding_options,
    .default_limit = 0,
    .create = adding_source_create,
    .destroy = adding_source_destroy,
    .advance = adding_source_advance,
    .steps = adding_source_steps,
    .finished = adding_source_finished,
    .publish = adding_source_publish,
    .bytes = adding_source_bytes,
};
