// source_charrnn.c: the `charrnn` source kind, a character-level language
// model training live on a text (many-to-many: every input character has a
// target, the next one). A thin adapter over models/charrnn.h (min-char-rnn:
// a tanh RNN, softmax read-out, Adagrad, the fused fast path where the CPU
// has it) and models/chartext.h (UTF-8 text to ids, sampling):
//
//     source: c charrnn text "text/gradlab-corpus.txt" temperature {temp} limit 6000
//
// Options (numbers, words, or {param}):
//   text         the UTF-8 text file, in quotes: inside the lesson's folder, or
//                else the assets folder beside it; no absolute path, no '..'
//                (default "text/gradlab-corpus.txt", the bundled one)
//   model        rnn (min-char-rnn's tanh RNN, default) or lstm (the same loop
//                with an LSTM: models/charlstm.h)
//   hidden       hidden units, 1 to 256 (default 100)
//   T            characters per training sequence, 1 to 200 (default 25)
//   lr           Adagrad's rate (default 0.1)
//   clip         gradients clipped element-wise to [-clip, clip] (default 5)
//   seed         weights and samples follow from it (default 1)
//   limit        most steps, 1 to 200000 (default 5000)
//   every        a sample is taken every this many steps, and at step 0
//                (default 250); all the samples kept hold at most 1000000
//                characters, and the work (training and sampling) is at most
//                2^36 multiply-adds
//   record       the smoothed loss is recorded every this many steps (default 10)
//   smooth       the loss's smoothing, 0 to 0.9999 (default 0.99: each step
//                moves it 1% of the way to the new loss; min-char-rnn: 0.999)
//   sample       characters per sample, 1 to 2000 (default 200)
//   temperature  the logits are divided by it before the softmax when
//                sampling, 0.05 to 5 (default 1)
//   topk         candidates kept for each sampled character, 1 to 10 (default 5)
//
// Publishes (each code point as a number; a panel of kind `chars` draws them
// as text):
//   loss        (steps / record + 1) the smoothed loss per character; loss[0]
//               is ln V = -ln(1/V), where min-char-rnn starts it
//   first       the loss per character of the first step, before any update
//               (about ln V: the weights start tiny, so every character is
//               about equally likely)
//   first_gap   |first - ln V| (NaN before the first step)
//   last        the loss per character of the latest step
//   lnV, V      ln V and the number of distinct characters
//   steps       steps taken
//   sample      (n) the latest sample's code points, taken at sample_step
//   sample_step the step that sample was taken at
//   chosen      (n) the probability the model gave each sampled character
//   top, top_p  (n, topk) for each sampled character the topk most probable
//               candidates (code points) and their probabilities
//   samples     (k, n) the latest samples (at most 32), one row each, oldest
//               first; sample_steps (k) the steps they were taken at
//   text        (up to 400) the training text's first characters
// The state after N steps depends on the options and N only.
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lessons/source_kinds.h"
#include "models/charlstm.h"
#include "models/charrnn.h"
#include "models/chartext.h"

#define CHARRNN_MAX_LIMIT 200000
#define CHARRNN_MAX_SAMPLE 2000
#define CHARRNN_MAX_TOPK 10
#define CHARRNN_TEXT_SHOWN 400
#define CHARRNN_MAX_KEPT 1000000 // sampled characters kept, all samples together
#define CHARRNN_PUBLISHED 32     // the latest samples published in `samples`
#define CHARRNN_MAX_SNAPS ((size_t)64 << 20) // bytes of weights kept for retuning, all instances together
#define CHARRNN_DEFAULT_TEXT "text/gradlab-corpus.txt"

// The options as read, everything an instance follows from (the text's
// option as written, not its file's contents).
typedef struct CharRnnOpts {
    char text[256], model[8];
    double hidden, T, lr, clip, seed, limit, every, record, smooth, sample, temperature, topk;
} CharRnnOpts;

typedef struct CharRnnSource {
    CharRnnOpts o;
    CharText text;
    CharRnn *m;             // model rnn
    CharLstm *lm;           // model lstm
    int T;
    int limit, every, record, n, k, steps, nsamples, maxsamples;
    double smooth, temperature, smoothed, first, last;
    uint64_t seed;
    double *loss;           // (limit / record + 1)
    int *ids, *top;         // (n), (n, k): the latest sample
    float *prob, *chosen;   // (n, k), (n)
    double *samples;        // (maxsamples, n) code points
    int *sample_steps;      // (maxsamples)
    float *snaps;           // (maxsamples, nweights) the weights each sample was taken with,
                            // for a new temperature (NULL past CHARRNN_MAX_SNAPS: snaps_reserve)
    size_t snaps_bytes;     // reserved for snaps
    size_t nweights;        // the recurrent block's floats, then the read-out's
    const char *finished;
} CharRnnSource;

static const char *const charrnn_options[] = {"text",  "model",  "hidden", "T",      "lr",
                                              "clip",  "seed",   "limit",  "every",  "record",
                                              "smooth", "sample", "temperature", "topk", NULL};

// The bytes of retuning weights all instances hold (the window's, and the
// ones `check` keeps parked), at most CHARRNN_MAX_SNAPS: a lesson of eight
// sources holds no more than one could (it held 555 MB).
static atomic_size_t snaps_held;

// Reserve bytes of the budget; false when they do not fit.
static bool snaps_reserve(size_t bytes)
{
    size_t held = atomic_load(&snaps_held);
    do {
        if (bytes > CHARRNN_MAX_SNAPS - held)
            return false;
    } while (!atomic_compare_exchange_weak(&snaps_held, &held, held + bytes));
    return true;
}

static void charrnn_src_destroy(void *inst)
{
    CharRnnSource *c = inst;
    if (!c)
        return;
    if (c->snaps)
        atomic_fetch_sub(&snaps_held, c->snaps_bytes);
    charrnn_destroy(c->m);
    charlstm_destroy(c->lm);
    chartext_free(&c->text);
    free(c->loss);
    free(c->ids);
    free(c->top);
    free(c->prob);
    free(c->chosen);
    free(c->samples);
    free(c->sample_steps);
    free(c->snaps);
    free(c);
}

// The model's weights to (save) or from dst (nweights floats): the
// recurrent block, then the read-out.
static void weights_copy(CharRnnSource *c, float *dst, bool save)
{
    float *block = c->lm ? c->lm->lstm->params : c->m->rnn->params;
    float *head = c->lm ? c->lm->head : c->m->head;
    size_t nb = c->lm ? c->lm->lstm->nparams : c->m->rnn->nparams, nh = c->nweights - nb;
    if (save) {
        memcpy(dst, block, nb * sizeof(float));
        memcpy(dst + nb, head, nh * sizeof(float));
    } else {
        memcpy(block, dst, nb * sizeof(float));
        memcpy(head, dst + nb, nh * sizeof(float));
    }
}

// Sample row k of the history from the model's weights as they are: from a
// zero state and the text's first character, at the temperature, with a
// stream that depends on the seed and the step only. Also the latest
// sample (ids, top, prob, chosen).
static bool sample_row(CharRnnSource *c, int k, int step)
{
    Pcg rng;
    pcg_seed(&rng, c->seed * 1000003u + (uint64_t)step);
    bool ok = c->lm ? charlstm_sample(c->lm, c->text.ids[0], c->n, c->temperature, &rng, c->ids, c->k, c->top,
                                      c->prob, c->chosen)
                    : charrnn_sample(c->m, NULL, c->text.ids[0], c->n, c->temperature, &rng, c->ids, c->k, c->top,
                                     c->prob, c->chosen);
    if (!ok)
        return false;
    double *row = c->samples + (size_t)k * c->n;
    for (int i = 0; i < c->n; i++)
        row[i] = c->text.cps[c->ids[i]];
    c->sample_steps[k] = step;
    return true;
}

// Take a sample from the model as it is now, kept as the latest and added
// to the history with the weights it was taken with.
static bool take_sample(CharRnnSource *c)
{
    if (c->nsamples >= c->maxsamples)
        return true;
    if (c->snaps)
        weights_copy(c, c->snaps + (size_t)c->nsamples * c->nweights, true);
    if (!sample_row(c, c->nsamples, c->steps))
        return false;
    c->nsamples++;
    return true;
}

// The text option resolved into buf: a path inside the lesson's folder, or
// else inside the assets folder beside it (lessons/ and assets/ are
// siblings). No absolute path and no '..': a lesson is untrusted and must
// not read (and then draw) any file it likes. False with a reason in err.
static bool text_path(const SourceParams *p, const char *text, char *buf, size_t n, char *err, size_t en)
{
    if (text[0] == '/' || strstr(text, "..")) {
        snprintf(err, en, "'text %s': give a file inside the lesson's folder or the assets folder, without '..' "
                          "or a leading '/' (gradlab train charrnn --text reads any file)", text);
        return false;
    }
    const char *lp = p->lesson ? p->lesson->path : NULL;
    const char *slash = lp ? strrchr(lp, '/') : NULL;
    int len = slash ? (int)(slash - lp) : 1;
    const char *dir = slash ? lp : ".";
    snprintf(buf, n, "%.*s/%s", len, dir, text);
    if (access(buf, F_OK) != 0)
        snprintf(buf, n, "%.*s/../assets/%s", len, dir, text);
    return true;
}

// Read decl's options with p into o (zeroed first, so that two reads
// compare with memcmp). False with a reason in err.
static bool read_opts(const SourceParams *p, const LessonSource *decl, CharRnnOpts *o, char *err, size_t n)
{
    memset(o, 0, sizeof(*o));
    const char *text = source_option_word(p, decl, "text", CHARRNN_DEFAULT_TEXT, err, n);
    const char *model = text ? source_option_word(p, decl, "model", "rnn", err, n) : NULL;
    if (!text || !model || !source_option_number(p, decl, "hidden", 100, 1, 256, &o->hidden, err, n) ||
        !source_option_number(p, decl, "T", 25, 1, 200, &o->T, err, n) ||
        !source_option_number(p, decl, "lr", 0.1, 1e-6, 10, &o->lr, err, n) ||
        !source_option_number(p, decl, "clip", 5, 1e-6, 1e6, &o->clip, err, n) ||
        !source_option_number(p, decl, "seed", 1, 0, 2147483647.0, &o->seed, err, n) ||
        !source_option_number(p, decl, "limit", 5000, 1, CHARRNN_MAX_LIMIT, &o->limit, err, n) ||
        !source_option_number(p, decl, "every", 250, 1, CHARRNN_MAX_LIMIT, &o->every, err, n) ||
        !source_option_number(p, decl, "record", 10, 1, CHARRNN_MAX_LIMIT, &o->record, err, n) ||
        !source_option_number(p, decl, "smooth", 0.99, 0, 0.9999, &o->smooth, err, n) ||
        !source_option_number(p, decl, "sample", 200, 1, CHARRNN_MAX_SAMPLE, &o->sample, err, n) ||
        !source_option_number(p, decl, "temperature", 1, 0.05, 5, &o->temperature, err, n) ||
        !source_option_number(p, decl, "topk", 5, 1, CHARRNN_MAX_TOPK, &o->topk, err, n))
        return false;
    if (strlen(text) >= sizeof(o->text)) {
        snprintf(err, n, "'text': a name of at most %zu bytes", sizeof(o->text) - 1);
        return false;
    }
    if (strcmp(model, "lstm") != 0 && strcmp(model, "rnn") != 0) {
        snprintf(err, n, "'model %s': give rnn or lstm", model);
        return false;
    }
    memcpy(o->text, text, strlen(text));
    memcpy(o->model, model, strlen(model));
    return true;
}

static void *charrnn_src_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    CharRnnSource *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    if (!read_opts(p, decl, &c->o, err, n))
        goto fail;
    const char *text = c->o.text;
    double hidden = c->o.hidden, T = c->o.T, lr = c->o.lr, clip = c->o.clip, seed = c->o.seed;
    double limit = c->o.limit, every = c->o.every, record = c->o.record, sample = c->o.sample;
    double topk = c->o.topk;
    c->smooth = c->o.smooth;
    c->temperature = c->o.temperature;
    if (hidden != floor(hidden) || T != floor(T) || seed != floor(seed) || limit != floor(limit) ||
        every != floor(every) || record != floor(record) || sample != floor(sample) || topk != floor(topk)) {
        snprintf(err, n, "'hidden', 'T', 'seed', 'limit', 'every', 'record', 'sample' and 'topk' are whole numbers");
        goto fail;
    }
    bool lstm = strcmp(c->o.model, "lstm") == 0;
    char path[4096];
    if (!text_path(p, text, path, sizeof(path), err, n) || !chartext_load(path, &c->text, err, n))
        goto fail;
    if (c->text.len < (size_t)T + 2) {
        snprintf(err, n, "%s: the text has %zu characters, too few for sequences of T = %d", path, c->text.len,
                 (int)T);
        goto fail;
    }
    // The samples kept: at most CHARRNN_MAX_KEPT characters in all.
    double kept = (floor(limit / every) + 1) * sample;
    if (kept > CHARRNN_MAX_KEPT) {
        snprintf(err, n, "'limit %d', 'every %d' and 'sample %d' keep %.0f sampled characters, more than %d, the "
                 "limit; raise 'every' or lower 'sample'", (int)limit, (int)every, (int)sample, kept,
                 CHARRNN_MAX_KEPT);
        goto fail;
    }
    // The work, as `gradlab train charrnn` counts it, samples included: a
    // lesson may not ask for more than 2^36 multiply-adds.
    double work = (lstm ? 4 : 1) * hidden * (hidden + c->text.V) * (limit * T + kept);
    if (work > 68719476736.0) {
        snprintf(err, n, "'limit %d' with 'hidden %d' counts %.2g multiply-adds, more than 2^36, the limit; use "
                 "at most limit %d", (int)limit, (int)hidden, work,
                 (int)(68719476736.0 / ((lstm ? 4 : 1) * T * hidden * (hidden + c->text.V))));
        goto fail;
    }
    c->limit = (int)limit, c->every = (int)every, c->record = (int)record;
    c->n = (int)sample;
    c->k = (int)topk < c->text.V ? (int)topk : c->text.V;
    c->seed = (uint64_t)seed;
    c->maxsamples = c->limit / c->every + 1;
    c->T = (int)T;
    if (lstm)
        c->lm = charlstm_create(c->text.ids, c->text.len, (int)hidden, (int)T, (float)lr, (float)clip, c->seed);
    else
        c->m = charrnn_create(c->text.ids, c->text.len, (int)hidden, (int)T, (float)lr, (float)clip, c->seed);
    c->loss = malloc(((size_t)c->limit / c->record + 1) * sizeof(double));
    c->ids = malloc((size_t)c->n * sizeof(int));
    c->top = malloc((size_t)c->n * c->k * sizeof(int));
    c->prob = malloc((size_t)c->n * c->k * sizeof(float));
    c->chosen = malloc((size_t)c->n * sizeof(float));
    c->samples = malloc((size_t)c->maxsamples * c->n * sizeof(double));
    c->sample_steps = malloc((size_t)c->maxsamples * sizeof(int));
    if ((!c->m && !c->lm) || !c->loss || !c->ids || !c->top || !c->prob || !c->chosen || !c->samples || !c->sample_steps) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    // The weights of every sample, so that a new temperature can sample
    // them again (charrnn_src_retune); none when they would take too much.
    c->nweights = (lstm ? c->lm->lstm->nparams : c->m->rnn->nparams) + (size_t)c->text.V * ((size_t)hidden + 1);
    size_t snaps_bytes = (size_t)c->maxsamples * c->nweights * sizeof(float);
    if (snaps_reserve(snaps_bytes)) {
        c->snaps = malloc(snaps_bytes);
        if (c->snaps)
            c->snaps_bytes = snaps_bytes;
        else
            atomic_fetch_sub(&snaps_held, snaps_bytes);
    }
    // min-char-rnn starts its smoothed loss at -ln(1/V) per character: what
    // a model that gives every character the same probability scores.
    c->smoothed = c->loss[0] = log((double)c->text.V);
    c->first = c->last = NAN;
    if (!take_sample(c)) { // only when out of memory: publish needs a first sample
        snprintf(err, n, "out of memory");
        goto fail;
    }
    return c;
fail:
    charrnn_src_destroy(c);
    return NULL;
}

static int charrnn_src_advance(void *inst, int max)
{
    CharRnnSource *c = inst;
    int taken = 0;
    while (taken < max && !c->finished) {
        double loss = (c->lm ? charlstm_step(c->lm) : charrnn_step(c->m)) / c->T; // per character
        c->steps++, taken++;
        if (c->steps == 1)
            c->first = loss;
        c->last = loss;
        c->smoothed = c->smooth * c->smoothed + (1 - c->smooth) * loss;
        if (c->steps % c->record == 0)
            c->loss[c->steps / c->record] = c->smoothed;
        if (c->steps % c->every == 0)
            take_sample(c);
        if (!isfinite(loss))
            c->finished = "the loss is NaN or Inf; lower the rate";
        else if (c->steps >= c->limit)
            c->finished = "the step limit was reached";
    }
    return taken;
}

static int charrnn_src_steps(const void *inst)
{
    return ((const CharRnnSource *)inst)->steps;
}

static const char *charrnn_src_finished(const void *inst)
{
    return ((const CharRnnSource *)inst)->finished;
}

static void charrnn_src_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const CharRnnSource *c = inst;
    const CharText *t = &c->text;
    int npts = c->steps / c->record + 1;
    double *x = run_arrays_add(out, prefix, "loss", 1, &npts);
    if (x)
        memcpy(x, c->loss, (size_t)npts * sizeof(double));
    run_arrays_number(out, prefix, "first", c->first);
    run_arrays_number(out, prefix, "first_gap", fabs(c->first - log((double)t->V)));
    run_arrays_number(out, prefix, "last", c->last);
    run_arrays_number(out, prefix, "lnV", log((double)t->V));
    run_arrays_number(out, prefix, "V", t->V);
    run_arrays_number(out, prefix, "steps", c->steps);
    run_arrays_number(out, prefix, "temperature", c->temperature);
    run_arrays_number(out, prefix, "sample_step", c->sample_steps[c->nsamples - 1]);
    int n = c->n, shape[2] = {c->n, c->k};
    if ((x = run_arrays_add(out, prefix, "sample", 1, &n)))
        for (int i = 0; i < n; i++)
            x[i] = t->cps[c->ids[i]];
    if ((x = run_arrays_add(out, prefix, "chosen", 1, &n)))
        for (int i = 0; i < n; i++)
            x[i] = c->chosen[i];
    if ((x = run_arrays_add(out, prefix, "top", 2, shape)))
        for (int i = 0; i < n * c->k; i++)
            x[i] = t->cps[c->top[i]];
    if ((x = run_arrays_add(out, prefix, "top_p", 2, shape)))
        for (int i = 0; i < n * c->k; i++)
            x[i] = c->prob[i];
    int from = c->nsamples > CHARRNN_PUBLISHED ? c->nsamples - CHARRNN_PUBLISHED : 0;
    int rows[2] = {c->nsamples - from, c->n};
    if ((x = run_arrays_add(out, prefix, "samples", 2, rows)))
        memcpy(x, c->samples + (size_t)from * c->n, (size_t)rows[0] * rows[1] * sizeof(double));
    if ((x = run_arrays_add(out, prefix, "sample_steps", 1, &rows[0])))
        for (int i = 0; i < rows[0]; i++)
            x[i] = c->sample_steps[from + i];
    int shown = t->len < CHARRNN_TEXT_SHOWN ? (int)t->len : CHARRNN_TEXT_SHOWN;
    if ((x = run_arrays_add(out, prefix, "text", 1, &shown)))
        for (int i = 0; i < shown; i++)
            x[i] = t->cps[t->ids[i]];
}

// A new temperature (every other option the same): the weights of each
// sample taken so far sampled again, with the same streams, so the state is
// the one a source made with that temperature has after as many steps
// (training never reads it). Anything else starts again.
static bool charrnn_src_retune(void *inst, const SourceParams *p, const LessonSource *decl)
{
    CharRnnSource *c = inst;
    CharRnnOpts o;
    char err[200];
    if (!c->snaps || !read_opts(p, decl, &o, err, sizeof(err)))
        return false;
    double temperature = o.temperature;
    o.temperature = c->o.temperature;
    if (memcmp(&o, &c->o, sizeof(o)) != 0)
        return false;
    float *now = malloc(c->nweights * sizeof(float));
    if (!now)
        return false;
    weights_copy(c, now, true);
    c->o.temperature = c->temperature = temperature;
    bool ok = true;
    for (int k = 0; k < c->nsamples && ok; k++) {
        weights_copy(c, c->snaps + (size_t)k * c->nweights, false);
        ok = sample_row(c, k, c->sample_steps[k]);
    }
    weights_copy(c, now, false);
    free(now);
    return ok;
}

const SourceKind source_charrnn_kind = {
    .name = "charrnn",
    .summary = "a character-level RNN or LSTM (min-char-rnn) training on a UTF-8 text, with samples as it goes",
    .options = charrnn_options,
    .default_limit = 0,
    .create = charrnn_src_create,
    .destroy = charrnn_src_destroy,
    .advance = charrnn_src_advance,
    .steps = charrnn_src_steps,
    .finished = charrnn_src_finished,
    .publish = charrnn_src_publish,
    .retune = charrnn_src_retune,
};
