// source_transfer.c: the `transfer` source kind, lesson 12's transfer
// learning trained on the worker thread. A thin adapter over
// models/transfer.h: the pretrained steering CNN (shipped as .npy) reused
// for a new task with few examples, learned from scratch, on frozen
// features with a new head, and by fine-tuning.
//
//     source: race transfer examples {n} frozen {depth} world {world}
//     source: sizes transfer mode sizes
//
// Options (numbers, words or {param}):
//   mode      curves: the three runs side by side, one step each per step;
//             sizes: for each number of examples (10, 30, 100, 300) the three
//             runs one after another, `steps` steps each (default curves)
//   examples  curves: labelled frames, 1 to 4096 (default 40)
//   frozen    finetune keeps the first N of conv1, conv2, fc, 0 to 3 (default 0)
//   world     day or night (default night)
//   steps     steps per run, 1 to 2000 (default 150; sizes 100)
//   every     curves: test accuracy every this many steps (default 10)
//   test      held-out frames, 10 to 2048 (default 300)
//             A source holds at most 1536 frames: curves keeps its examples and
//             test frames in each of three runs (examples + test at most 512),
//             sizes the largest size's 300 examples and the test frames
//   weights   the pretrained CNN's folder, relative to the lesson's folder or to
//             the assets folder beside it, in quotes; no absolute paths, no
//             '..' (default "pretrained/steering-cnn")
//   seed      examples, test frames and new weights (default 1)
//
// Publishes:
//   curves:  scratch, frozen, finetune  (k, 2) step and test accuracy, every `every` steps
//            acc_scratch, acc_frozen, acc_finetune   the latest accuracies
//            loss_scratch, loss_frozen, loss_finetune  (steps) training loss per step
//            before   (11, 23) conv1's 8 filters as pretrained (2 rows of 4, 5 x 5)
//            after    (11, 23) the same filters in the fine-tuned run now
//            scratch_filters  (11, 23) and in the run from scratch
//            kept     how many layers finetune keeps frozen
//            samples  (k*32, 64) the first k <= 6 examples' frames, stacked; sample_kinds
//                     (k) zeros (for a frames panel), sample_labels (k) 0 left, 1 straight, 2 right
//   sizes:   scratch, frozen, finetune  (k, 2) examples and final test accuracy
//   both:    steps, chance (1/3: guessing)
// The state after N steps depends on the options and N only.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/npy/npy.h"
#include "lessons/source_kinds.h"
#include "models/transfer.h"

#define TRANSFER_SAMPLES 6 // examples published as pictures
#define N_SIZES 4
static const int sizes[N_SIZES] = {10, 30, 100, 300};
// Frames one source may hold (12 MB): each run keeps its examples and its
// test frames, and curves keeps three runs. Eight transfer sources in one
// lesson then stay within the README's 256 MB (at 4096 examples and 2048
// test frames eight held 1278 MB).
#define TRANSFER_SOURCE_MAX_FRAMES 1536

typedef struct TransferSource {
    bool sweep;                      // mode sizes
    TransferConfig c;
    TensorBlock *pre;
    TransferRun *run[TRANSFER_METHOD_COUNT];  // curves: all three; sizes: the one training now
    int limit, steps, every;
    double (*acc)[TRANSFER_METHOD_COUNT][2];  // curves: (limit / every + 1) rows; sizes: (N_SIZES)
    int nacc[TRANSFER_METHOD_COUNT];
    double *loss[TRANSFER_METHOD_COUNT];      // curves: (limit)
    double before[TRANSFER_MOSAIC_H * TRANSFER_MOSAIC_W];
    int at;                          // sizes: which (size, method) run trains now
    const char *finished;
} TransferSource;

static const char *const transfer_options[] = {"mode",  "examples", "frozen", "world",   "steps",
                                               "every", "test",     "seed",   "weights", NULL};

static void transfer_source_destroy(void *inst)
{
    TransferSource *s = inst;
    if (!s)
        return;
    for (int m = 0; m < TRANSFER_METHOD_COUNT; m++) {
        transfer_destroy(s->run[m]);
        free(s->loss[m]);
    }
    tensor_block_destroy(s->pre);
    free(s->acc);
    free(s);
}

// Load the pretrained CNN named by rel: from the lesson's folder, then from
// the assets folder beside it (lessons/ and assets/ are siblings).
static TensorBlock *load_weights(const Lesson *l, const char *rel, char *err, size_t n)
{
    if (rel[0] == '/' || strstr(rel, "..")) {
        snprintf(err, n, "'weights %s': give a folder inside the lesson's folder or the assets folder, "
                         "without '..' or a leading '/'", rel);
        return NULL;
    }
    char dir[4096];
    const char *path = l && l->path ? l->path : "";
    const char *slash = strrchr(path, '/');
    int len = slash ? (int)(slash - path) : 0;
    const char *base = slash ? path : ".";
    if (!slash)
        len = 1;
    snprintf(dir, sizeof(dir), "%.*s/%s", len, base, rel);
    char first[NPY_ERR_MAX];
    TensorBlock *b = transfer_load(dir, first, sizeof(first));
    if (b)
        return b;
    snprintf(dir, sizeof(dir), "%.*s/../assets/%s", len, base, rel);
    if ((b = transfer_load(dir, err, n)))
        return b;
    snprintf(err, n, "no pretrained CNN: %s", first);
    return NULL;
}

static void *transfer_source_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    TransferSource *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    const char *mode, *world, *weights;
    double examples, frozen, steps, every, test, seed;
    if (!(mode = source_option_word(p, decl, "mode", "curves", err, n)) ||
        !(world = source_option_word(p, decl, "world", "night", err, n)) ||
        !(weights = source_option_word(p, decl, "weights", "pretrained/steering-cnn", err, n)))
        goto fail;
    if (strcmp(mode, "curves") && strcmp(mode, "sizes")) {
        snprintf(err, n, "'mode %s': give curves or sizes", mode);
        goto fail;
    }
    if (strcmp(world, "day") && strcmp(world, "night")) {
        snprintf(err, n, "'world %s': give day or night", world);
        goto fail;
    }
    s->sweep = strcmp(mode, "sizes") == 0;
    if (!source_option_number(p, decl, "examples", 40, 1, TRANSFER_MAX_EXAMPLES, &examples, err, n) ||
        !source_option_number(p, decl, "frozen", 0, 0, TRANSFER_LAYERS, &frozen, err, n) ||
        !source_option_number(p, decl, "steps", s->sweep ? 100 : 150, 1, 2000, &steps, err, n) ||
        !source_option_number(p, decl, "every", 10, 1, 2000, &every, err, n) ||
        !source_option_number(p, decl, "test", 300, 10, TRANSFER_MAX_TEST, &test, err, n) ||
        !source_option_number(p, decl, "seed", 1, 0, 4294967295.0, &seed, err, n))
        goto fail;
    if (examples != floor(examples) || frozen != floor(frozen) || steps != floor(steps) || every != floor(every) ||
        test != floor(test) || seed != floor(seed)) {
        snprintf(err, n, "'examples', 'frozen', 'steps', 'every', 'test' and 'seed' are whole numbers");
        goto fail;
    }
    double frames = s->sweep ? sizes[N_SIZES - 1] + test : TRANSFER_METHOD_COUNT * (examples + test);
    if (frames > TRANSFER_SOURCE_MAX_FRAMES) {
        if (s->sweep)
            snprintf(err, n, "'test %.0f' with the largest size's 300 examples holds %.0f frames, more than %d; "
                     "give test %d or less", test, frames, TRANSFER_SOURCE_MAX_FRAMES,
                     TRANSFER_SOURCE_MAX_FRAMES - sizes[N_SIZES - 1]);
        else
            snprintf(err, n, "'examples %.0f' and 'test %.0f', held by each of the three runs, are %.0f frames, "
                     "more than %d; give examples + test of %d or less", examples, test, frames,
                     TRANSFER_SOURCE_MAX_FRAMES, TRANSFER_SOURCE_MAX_FRAMES / TRANSFER_METHOD_COUNT);
        goto fail;
    }
    s->c = transfer_defaults();
    s->c.examples = (int)examples;
    s->c.frozen = (int)frozen;
    s->c.steps = (int)steps;
    s->c.test_size = (int)test;
    s->c.night = strcmp(world, "night") == 0;
    s->c.seed = (uint64_t)seed;
    s->every = (int)every;
    if (!(s->pre = load_weights(p->lesson, weights, err, n)))
        goto fail;
    transfer_filters(s->pre, s->before);
    if (s->sweep) {
        s->limit = N_SIZES * TRANSFER_METHOD_COUNT * s->c.steps;
        s->acc = calloc(N_SIZES, sizeof(*s->acc));
    } else {
        s->limit = s->c.steps;
        s->acc = calloc((size_t)(s->limit / s->every + 2), sizeof(*s->acc));
        for (int m = 0; m < TRANSFER_METHOD_COUNT; m++) {
            s->run[m] = transfer_create(&s->c, (TransferMethod)m, s->pre);
            s->loss[m] = malloc((size_t)s->limit * sizeof(double));
            if (!s->run[m] || !s->loss[m])
                goto oom;
            double a = transfer_accuracy(s->run[m]);
            s->acc[0][m][0] = 0, s->acc[0][m][1] = a;
            s->nacc[m] = 1;
            transfer_release(s->run[m]);
        }
    }
    if (!s->acc)
        goto oom;
    return s;
oom:
    snprintf(err, n, "out of memory");
fail:
    transfer_source_destroy(s);
    return NULL;
}

// One step of the sweep: the run for (size, method) at s->at trains on; when
// it has taken its steps, its accuracy is recorded and the next one starts.
static bool sweep_step(TransferSource *s)
{
    int size = s->at / TRANSFER_METHOD_COUNT, m = s->at % TRANSFER_METHOD_COUNT;
    if (!s->run[0]) {
        TransferConfig c = s->c;
        c.examples = sizes[size];
        if (!(s->run[0] = transfer_create(&c, (TransferMethod)m, s->pre)))
            return false;
    }
    if (isnan(transfer_step(s->run[0])))
        return false;
    if (s->run[0]->steps == s->c.steps) {
        s->acc[size][m][0] = sizes[size];
        s->acc[size][m][1] = transfer_accuracy(s->run[0]);
        s->nacc[m] = size + 1;
        transfer_destroy(s->run[0]);
        s->run[0] = NULL;
        s->at++;
    }
    return true;
}

static int transfer_source_advance(void *inst, int max)
{
    TransferSource *s = inst;
    int taken = 0;
    while (taken < max && !s->finished && s->steps < s->limit) {
        if (s->sweep) {
            if (!sweep_step(s)) {
                s->finished = "a training step failed (out of memory)";
                break;
            }
        } else {
            bool failed = false;
            for (int m = 0; m < TRANSFER_METHOD_COUNT; m++)
                failed |= isnan(s->loss[m][s->steps] = transfer_step(s->run[m]));
            if (failed) {
                s->finished = "a training step failed (out of memory)";
                break;
            }
            if ((s->steps + 1) % s->every == 0 || s->steps + 1 == s->limit)
                for (int m = 0; m < TRANSFER_METHOD_COUNT; m++) {
                    double *row = s->acc[s->nacc[m]++][m];
                    row[0] = s->steps + 1, row[1] = transfer_accuracy(s->run[m]);
                }
        }
        s->steps++;
        taken++;
    }
    if (!s->finished && s->steps >= s->limit)
        s->finished = s->sweep ? "every size has run" : "every run has taken its steps";
    // The graphs' activations go back between chunks: a lesson's sources
    // step one at a time, so they need one set, not one per run.
    for (int m = 0; m < TRANSFER_METHOD_COUNT; m++)
        transfer_release(s->run[m]);
    return taken;
}

static int transfer_source_steps(const void *inst)
{
    return ((const TransferSource *)inst)->steps;
}

static const char *transfer_source_finished(const void *inst)
{
    return ((const TransferSource *)inst)->finished;
}

static void mosaic(RunArrays *out, const char *prefix, const char *name, const double *m)
{
    int shape[2] = {TRANSFER_MOSAIC_H, TRANSFER_MOSAIC_W};
    double *x = run_arrays_add(out, prefix, name, 2, shape);
    if (x)
        memcpy(x, m, sizeof(double) * TRANSFER_MOSAIC_H * TRANSFER_MOSAIC_W);
}

static void transfer_source_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const TransferSource *s = inst;
    for (int m = 0; m < TRANSFER_METHOD_COUNT; m++) {
        int shape[2] = {s->nacc[m], 2};
        double *x = run_arrays_add(out, prefix, transfer_method_names[m], 2, shape);
        for (int i = 0; x && i < s->nacc[m]; i++)
            x[2 * i] = s->acc[i][m][0], x[2 * i + 1] = s->acc[i][m][1];
        if (s->sweep)
            continue;
        char name[32];
        snprintf(name, sizeof(name), "acc_%s", transfer_method_names[m]);
        run_arrays_number(out, prefix, name, s->nacc[m] ? s->acc[s->nacc[m] - 1][m][1] : NAN);
        snprintf(name, sizeof(name), "loss_%s", transfer_method_names[m]);
        int n = s->steps;
        double *l = run_arrays_add(out, prefix, name, 1, &n);
        if (l && n)
            memcpy(l, s->loss[m], (size_t)n * sizeof(double));
    }
    if (!s->sweep) {
        double m[TRANSFER_MOSAIC_H * TRANSFER_MOSAIC_W];
        mosaic(out, prefix, "before", s->before);
        transfer_filters(s->run[TRANSFER_FINETUNE]->cnn, m);
        mosaic(out, prefix, "after", m);
        transfer_filters(s->run[TRANSFER_SCRATCH]->cnn, m);
        mosaic(out, prefix, "scratch_filters", m);
        run_arrays_number(out, prefix, "kept", s->c.frozen);
        // The first examples of the new task, for a frame strip: (k*H, W) and k kinds (all 0).
        const TransferRun *r = s->run[TRANSFER_SCRATCH];
        int k = r->c.examples < TRANSFER_SAMPLES ? r->c.examples : TRANSFER_SAMPLES;
        int shape[2] = {k * STEER_H, STEER_W};
        double *img = run_arrays_add(out, prefix, "samples", 2, shape);
        for (int i = 0; img && i < k * STEER_PIX; i++)
            img[i] = r->frames[i];
        double *x = run_arrays_add(out, prefix, "sample_kinds", 1, &k);
        for (int i = 0; x && i < k; i++)
            x[i] = 0;
        x = run_arrays_add(out, prefix, "sample_labels", 1, &k); // filled before the next add
        for (int i = 0; x && i < k; i++)
            x[i] = r->labels[i];
    }
    run_arrays_number(out, prefix, "steps", s->steps);
    run_arrays_number(out, prefix, "chance", 1.0 / TRANSFER_CLASSES);
}

// About what s holds between chunks: each run's examples and test frames
// (the graphs' activations are given back), and the histories.
static size_t transfer_source_bytes(const void *inst)
{
    const TransferSource *s = inst;
    size_t runs = s->sweep ? 1 : TRANSFER_METHOD_COUNT;
    size_t examples = s->sweep ? (size_t)sizes[N_SIZES - 1] : (size_t)s->c.examples;
    return runs * ((examples + (size_t)s->c.test_size) * STEER_PIX * sizeof(float) + ((size_t)1 << 20)) +
           (size_t)s->limit * runs * 3 * sizeof(double);
}

const SourceKind source_transfer_kind = {
    .name = "transfer",
    .summary = "the pretrained steering CNN reused for a new task with few examples: from scratch, frozen "
               "features, fine-tuning",
    .options = transfer_options,
    .default_limit = 0,
    .create = transfer_source_create,
    .destroy = transfer_source_destroy,
    .advance = transfer_source_advance,
    .steps = transfer_source_steps,
    .finished = transfer_source_finished,
    .publish = transfer_source_publish,
    .bytes = transfer_source_bytes,
};
