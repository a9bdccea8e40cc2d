// source_tuning.c: the `tuning` source kind, the art of tuning on the adding
// problem (models/adding.h): several seeds of one setting side by side, a
// learning-rate range test, and three ways to search the same budget of
// training steps (grid, random, successive halving). A thin adapter over
// the adding trainer; the optimizer and the initial weights' scale are set
// on the trainer after it is made.
//
//     source: band tuning mode seeds lr {lr} optimizer {opt} batch {batch} init {init} clip {clip}
//     source: sweep tuning mode range lo 1e-4 hi 1
//     source: grid tuning mode grid trials 9 budget 5400
//
// Options (numbers, words or {param}):
//   mode       seeds, range, grid, random or halving (default seeds)
//   model      lstm, rnn or irnn (default lstm)
//   T          sequence length, 2 to 100 (default 20)
//   hidden     hidden units, 1 to 64 (default 16)
//              The live trainers' activations may take at most 16 MB:
//              (14 hidden + 4) x T x batch floats per trainer, for every seed
//              (seeds) or trial (halving) side by side
//   batch      sequences per step, 1 to 64 (default 32)
//   optimizer  sgd, momentum, rmsprop or adam (default adam)
//   lr         the rate (seeds; default 0.01)
//   init       the initial weights are multiplied by this, 0.01 to 10 (default 1)
//   clip       clip the gradient's global norm at this, 0 for none (seeds; default 1)
//   seeds      seeds: how many seeds run side by side, 1 to 8 (default 5)
//   steps      seeds: steps per seed; range: steps of the sweep (default 600, 300)
//   lo, hi     range and searches: the rates looked at, log-uniformly (default 1e-4, 1)
//   clo, chi   searches: the clipping thresholds looked at, log-uniformly (default 0.1, 10)
//   trials     searches: how many settings (grid: rounded down to a square;
//              halving: to a power of two) (default 9; halving 16)
//   budget     searches: training steps shared by all trials, 100 to 100000 (default 5400)
//   test       sequences in each test set, 16 to 1024 (default 256)
//   seed       weights, data and the random search follow from it (default 1)
//
// A search looks at two hyperparameters: the learning rate, which matters,
// and the clipping threshold, which hardly does here (Bergstra and Bengio
// 2012: a grid then tries few distinct rates; random search tries as many
// rates as trials). Grid and random give each trial budget / trials steps.
// Successive halving (Jamieson and Talwalkar 2016) starts every trial with a
// small share, keeps the better half after each rung and gives the
// survivors more steps, each rung spending budget / rungs.
//
// Publishes:
//   seeds:   seed1 .. seedS (steps)  each seed's training MSE, smoothed
//            mean, lo, hi (steps)    their mean, lowest and highest
//            test (S)                each seed's test MSE, every 50 steps and at the end
//            band (2)                the lowest and highest test MSE; tlo, thi, spread (thi / tlo)
//   range:   curve (k, 2)            rate and smoothed training MSE at each step
//            suggest                 the rate at the lowest smoothed loss, divided by 10; lrmin
//   searches: points (n, 3)          each finished trial (or rung): rate, test MSE, steps / most steps
//            best (k, 2)             the best test MSE found so far against the training steps
//                                    spent: a staircase, from the first trial to now
//            best_lr, best_mse (NaN and Inf before the first trial), done (evaluations so far), distinct (distinct rates tried)
//   all:     steps                   training steps taken (all seeds / trials together for searches)
// The state after N steps depends on the options and N only.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/optim/optim.h"
#include "lessons/source_kinds.h"
#include "models/adding.h"
#include "models/rng.h"

#define TUNING_MAX_SEEDS 8
#define TUNING_MAX_TRIALS 64
#define TUNING_EVERY 50      // seeds: test MSE every this many steps
#define TUNING_SMOOTH 0.95   // the training MSE's moving average (bias corrected)
#define TUNING_MAX_WORK 2e11 // multiply-adds one source may spend (adding_work's count): a minute or two
// Bytes of activations its live trainers may hold: eight tuning sources in
// one lesson stay within the README's 256 MB (at 128 MB, eight held 685 MB).
#define TUNING_MAX_MEMORY (16.0 * 1048576)

typedef enum TuningMode { MODE_SEEDS, MODE_RANGE, MODE_GRID, MODE_RANDOM, MODE_HALVING, MODE_COUNT } TuningMode;
static const char *const mode_names[MODE_COUNT] = {"seeds", "range", "grid", "random", "halving"};

static const char *const optimizer_words[] = {"sgd", "momentum", "rmsprop", "adam"};
static const OptimKind optimizer_kinds[] = {OPTIM_SGD, OPTIM_MOMENTUM, OPTIM_RMSPROP, OPTIM_ADAM};
#define N_OPTIMIZERS 4

typedef struct Trial {
    double lr, clip;
    AddingTrainer *tr;   // while it trains
    int trained;         // steps taken
    double mse;          // test MSE at its last evaluation
    bool alive;          // halving: still in the race
} Trial;

typedef struct TuningSource {
    TuningMode mode;
    AddingConfig cfg;    // the common setting; lr and clip per trial
    OptimKind optimizer;
    double init_scale;
    int limit;           // steps this source takes in all
    int steps;
    const char *finished;
    char why[160];
    // seeds
    int nseeds;
    AddingTrainer *seed_tr[TUNING_MAX_SEEDS];
    double ema[TUNING_MAX_SEEDS];
    double *curve[TUNING_MAX_SEEDS]; // (limit)
    double test[TUNING_MAX_SEEDS];
    // range
    double lo, hi;
    AddingTrainer *range_tr;
    double *range_lr, *range_loss;   // (limit)
    double range_ema, range_min;
    // searches
    Trial trials[TUNING_MAX_TRIALS];
    int ntrials;
    int cur;             // grid, random: the trial training now
    int rung, rungs;     // halving
    int rung_end[8];     // halving: the steps a survivor has taken when rung k ends
    int order[TUNING_MAX_TRIALS], nalive, at; // halving: the survivors in order, and which one trains
    double (*points)[3]; // (ntrials * rungs)
    int npoints, maxpoints;
    double (*best)[2];   // (2 * maxpoints + 1): steps spent, best test MSE so far, a staircase
    int nbest;
    double best_mse, best_lr;
    size_t bytes;        // about what it holds (SourceKind.bytes)
} TuningSource;

static const char *const tuning_options[] = {"mode", "model", "T", "hidden", "batch", "optimizer", "lr", "init",
                                             "clip", "seeds", "steps", "lo", "hi", "clo", "chi", "trials",
                                             "budget", "test", "seed", NULL};

static void tuning_destroy(void *inst)
{
    TuningSource *s = inst;
    if (!s)
        return;
    for (int i = 0; i < TUNING_MAX_SEEDS; i++) {
        adding_destroy(s->seed_tr[i]);
        free(s->curve[i]);
    }
    adding_destroy(s->range_tr);
    free(s->range_lr);
    free(s->range_loss);
    for (int i = 0; i < s->ntrials; i++)
        adding_destroy(s->trials[i].tr);
    free(s->points);
    free(s->best);
    free(s);
}

// A trainer for the common setting with this rate, clipping threshold and
// seed: the optimizer replaced by s->optimizer and every weight scaled by
// s->init_scale. NULL when out of memory.
static AddingTrainer *make_trainer(const TuningSource *s, double lr, double clip, uint64_t seed)
{
    AddingConfig c = s->cfg;
    c.lr = (float)lr;
    c.clip = (float)clip;
    c.seed = seed;
    AddingTrainer *tr = adding_create(&c);
    if (!tr)
        return NULL;
    if (s->optimizer != OPTIM_ADAM) {
        OptimConfig oc = optim_defaults(s->optimizer);
        oc.lr = (float)lr;
        Optim *a = optim_create(&oc, tr->opt_model->n), *b = optim_create(&oc, tr->opt_head->n);
        if (!a || !b) {
            optim_destroy(a);
            optim_destroy(b);
            adding_destroy(tr);
            return NULL;
        }
        optim_destroy(tr->opt_model);
        optim_destroy(tr->opt_head);
        tr->opt_model = a;
        tr->opt_head = b;
    }
    if (s->init_scale != 1.0) {
        float *p = tr->lstm ? tr->lstm->params : tr->rnn->params;
        size_t n = tr->lstm ? tr->lstm->nparams : tr->rnn->nparams;
        for (size_t i = 0; i < n; i++)
            p[i] *= (float)s->init_scale;
        for (int j = 0; j < c.hidden; j++)
            tr->head[j] *= (float)s->init_scale;
    }
    return tr;
}

static void set_lr(AddingTrainer *tr, double lr)
{
    tr->opt_model->cfg.lr = (float)lr;
    tr->opt_head->cfg.lr = (float)lr;
}

// A number from option key, whole when whole is set.
static bool option(const SourceParams *p, const LessonSource *decl, const char *key, double dflt, double lo,
                   double hi, bool whole, double *out, char *err, size_t n)
{
    if (!source_option_number(p, decl, key, dflt, lo, hi, out, err, n))
        return false;
    if (whole && *out != floor(*out)) {
        snprintf(err, n, "'%s' is a whole number", key);
        return false;
    }
    return true;
}

// The index of word in names (count of them), or -1 with a reason in err.
static int pick(const char *key, const char *word, const char *const *names, int count, char *err, size_t n)
{
    for (int i = 0; i < count; i++)
        if (strcmp(word, names[i]) == 0)
            return i;
    int used = snprintf(err, n, "'%s %s': give one of", key, word);
    for (int i = 0; i < count && used > 0 && (size_t)used < n; i++)
        used += snprintf(err + used, n - (size_t)used, "%s %s", i ? "," : "", names[i]);
    return -1;
}

// Where trial i of a search looks: a grid over (log lr, log clip), or
// points drawn log-uniformly from the seeded generator.
static void place_trials(TuningSource *s, double clo, double chi, uint64_t seed)
{
    double llo = log(s->lo), lhi = log(s->hi), clo_l = log(clo), chi_l = log(chi);
    if (s->mode == MODE_GRID) {
        int g = (int)floor(sqrt((double)s->ntrials) + 1e-9);
        s->ntrials = g * g;
        for (int i = 0; i < s->ntrials; i++) {
            double a = g > 1 ? (double)(i % g) / (g - 1) : 0.5, b = g > 1 ? (double)(i / g) / (g - 1) : 0.5;
            s->trials[i].lr = exp(llo + a * (lhi - llo));
            s->trials[i].clip = exp(clo_l + b * (chi_l - clo_l));
        }
        return;
    }
    Pcg rng;
    pcg_seed(&rng, seed * 7919 + 17);
    for (int i = 0; i < s->ntrials; i++) {
        s->trials[i].lr = exp(llo + pcg_uniform(&rng) * (lhi - llo));
        s->trials[i].clip = exp(clo_l + pcg_uniform(&rng) * (chi_l - clo_l));
    }
}

static void *tuning_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    TuningSource *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    const char *mode = NULL, *model = NULL, *opt = NULL;
    double T, hidden, batch, lr, init, clip, seeds, steps, lo, hi, clo, chi, trials, budget, test, seed;
    if (!(mode = source_option_word(p, decl, "mode", "seeds", err, n)) ||
        !(model = source_option_word(p, decl, "model", "lstm", err, n)) ||
        !(opt = source_option_word(p, decl, "optimizer", "adam", err, n)))
        goto fail;
    int m = pick("mode", mode, mode_names, MODE_COUNT, err, n);
    int mk = pick("model", model, adding_model_names, ADDING_MODEL_COUNT, err, n);
    int ok = pick("optimizer", opt, optimizer_words, N_OPTIMIZERS, err, n);
    if (m < 0 || mk < 0 || ok < 0)
        goto fail;
    s->mode = (TuningMode)m;
    bool search = s->mode >= MODE_GRID;
    if (!option(p, decl, "T", 20, 2, 100, true, &T, err, n) ||
        !option(p, decl, "hidden", 16, 1, 64, true, &hidden, err, n) ||
        !option(p, decl, "batch", 32, 1, 64, true, &batch, err, n) ||
        !option(p, decl, "lr", 0.01, 1e-6, 10, false, &lr, err, n) ||
        !option(p, decl, "init", 1, 0.01, 10, false, &init, err, n) ||
        !option(p, decl, "clip", 1, 0, 100, false, &clip, err, n) ||
        !option(p, decl, "seeds", 5, 1, TUNING_MAX_SEEDS, true, &seeds, err, n) ||
        !option(p, decl, "steps", s->mode == MODE_RANGE ? 300 : 600, 10, 20000, true, &steps, err, n) ||
        !option(p, decl, "lo", 1e-4, 1e-6, 10, false, &lo, err, n) ||
        !option(p, decl, "hi", 1, 1e-6, 10, false, &hi, err, n) ||
        !option(p, decl, "clo", 0.1, 1e-3, 100, false, &clo, err, n) ||
        !option(p, decl, "chi", 10, 1e-3, 100, false, &chi, err, n) ||
        !option(p, decl, "trials", s->mode == MODE_HALVING ? 16 : 9, 1, TUNING_MAX_TRIALS, true, &trials, err, n) ||
        !option(p, decl, "budget", 5400, 100, 100000, true, &budget, err, n) ||
        !option(p, decl, "test", 256, 16, 1024, true, &test, err, n) ||
        !option(p, decl, "seed", 1, 0, 4294967295.0, true, &seed, err, n))
        goto fail;
    if (!(lo < hi) || !(clo <= chi)) {
        snprintf(err, n, "give 'lo' below 'hi' and 'clo' at most 'chi'");
        goto fail;
    }
    s->cfg = adding_defaults((AddingModel)mk);
    s->cfg.T = (int)T;
    s->cfg.hidden = (int)hidden;
    s->cfg.batch = (int)batch;
    s->cfg.test_size = (int)test;
    s->cfg.seed = (uint64_t)seed;
    s->optimizer = optimizer_kinds[ok];
    s->init_scale = init;
    s->lo = lo, s->hi = hi;
    s->limit = search ? (int)budget : (int)steps;
    s->cfg.steps = s->limit;
    if (!adding_check(&s->cfg, err, n))
        goto fail;
    // The whole source, not one trainer: seeds run side by side (their
    // memory adds up), and every mode spends at most TUNING_MAX_WORK.
    int live = s->mode == MODE_SEEDS ? (int)seeds : s->mode == MODE_HALVING ? (int)trials : 1;
    double work = adding_work(&s->cfg) * (s->mode == MODE_SEEDS ? seeds : 1);
    double mem = (double)live * s->cfg.batch * s->cfg.T * (14.0 * s->cfg.hidden + 4) * sizeof(float);
    if (work > TUNING_MAX_WORK || mem > TUNING_MAX_MEMORY) {
        snprintf(err, n, "too large: %.2g multiply-adds and %.0f MB at once (at most %.2g and %.0f MB); "
                 "give fewer steps, seeds or trials, or smaller T, hidden or batch",
                 work, mem / 1048576, TUNING_MAX_WORK, TUNING_MAX_MEMORY / 1048576);
        goto fail;
    }

    s->bytes = (size_t)mem + (size_t)s->limit * (s->mode == MODE_SEEDS ? (size_t)seeds : 2) * sizeof(double) +
               (size_t)TUNING_MAX_TRIALS * 8 * 5 * sizeof(double);
    if (s->mode == MODE_SEEDS) {
        s->nseeds = (int)seeds;
        for (int i = 0; i < s->nseeds; i++) {
            s->seed_tr[i] = make_trainer(s, lr, clip, s->cfg.seed + (uint64_t)i);
            s->curve[i] = malloc((size_t)s->limit * sizeof(double));
            if (!s->seed_tr[i] || !s->curve[i])
                goto oom;
            s->test[i] = adding_test_mse(s->seed_tr[i]);
        }
    } else if (s->mode == MODE_RANGE) {
        s->range_tr = make_trainer(s, lo, clip, s->cfg.seed);
        s->range_lr = malloc((size_t)s->limit * sizeof(double));
        s->range_loss = malloc((size_t)s->limit * sizeof(double));
        if (!s->range_tr || !s->range_lr || !s->range_loss)
            goto oom;
        s->range_min = INFINITY;
    } else {
        int t = (int)trials;
        if (s->mode == MODE_HALVING) {
            int pow2 = 2;
            while (pow2 * 2 <= t)
                pow2 *= 2;
            t = pow2;
        }
        s->ntrials = t;
        place_trials(s, clo, chi, s->cfg.seed);
        s->rungs = 1;
        if (s->mode == MODE_HALVING) {
            s->rungs = 0;
            for (int k = s->ntrials; k > 1; k /= 2)
                s->rungs++;
            s->nalive = s->ntrials;
            for (int i = 0; i < s->ntrials; i++)
                s->order[i] = i, s->trials[i].alive = true;
            for (int k = 0, alive = s->ntrials, total = 0; k < s->rungs; k++, alive /= 2) {
                total += s->limit / (s->rungs * alive);
                s->rung_end[k] = total;
            }
            if (s->rung_end[0] < 1) {
                snprintf(err, n, "'budget %d' is too small for %d trials: give at least %d", s->limit,
                         s->ntrials, s->rungs * s->ntrials);
                goto fail;
            }
        } else if (s->limit / s->ntrials < 1) {
            snprintf(err, n, "'budget %d' is too small for %d trials", s->limit, s->ntrials);
            goto fail;
        }
        s->maxpoints = s->ntrials * s->rungs;
        s->points = malloc((size_t)s->maxpoints * sizeof(*s->points));
        s->best = malloc((size_t)(2 * s->maxpoints + 1) * sizeof(*s->best));
        if (!s->points || !s->best)
            goto oom;
        s->best_mse = INFINITY;
        s->best_lr = NAN;
    }
    return s;
oom:
    snprintf(err, n, "out of memory");
fail:
    tuning_destroy(s);
    return NULL;
}

// One step of every seed, side by side.
static void seeds_step(TuningSource *s)
{
    double c = 1 - pow(TUNING_SMOOTH, s->steps + 1); // bias correction of the average
    for (int i = 0; i < s->nseeds; i++) {
        double mse = adding_step(s->seed_tr[i]);
        s->ema[i] = TUNING_SMOOTH * s->ema[i] + (1 - TUNING_SMOOTH) * mse;
        s->curve[i][s->steps] = s->ema[i] / c;
    }
    s->steps++;
    if (s->steps % TUNING_EVERY == 0 || s->steps == s->limit)
        for (int i = 0; i < s->nseeds; i++)
            s->test[i] = adding_test_mse(s->seed_tr[i]);
}

// One step of the range test: the rate grows log-uniformly from lo to hi.
static void range_step(TuningSource *s)
{
    int k = s->steps;
    double lr = s->lo * pow(s->hi / s->lo, s->limit > 1 ? (double)k / (s->limit - 1) : 0);
    set_lr(s->range_tr, lr);
    double mse = adding_step(s->range_tr);
    s->range_ema = TUNING_SMOOTH * s->range_ema + (1 - TUNING_SMOOTH) * (isfinite(mse) ? mse : 1e30);
    double smooth = s->range_ema / (1 - pow(TUNING_SMOOTH, k + 1));
    s->range_lr[k] = lr;
    s->range_loss[k] = smooth;
    s->steps++;
    if (smooth < s->range_min)
        s->range_min = smooth;
    // Stop once the loss has clearly blown up: nothing to the right is useful.
    if (k > 10 && !(smooth < 4 * s->range_min)) {
        snprintf(s->why, sizeof(s->why), "the loss blew up at lr = %.3g", lr);
        s->finished = s->why;
    }
}

// A trial finished a stretch of training: test it and record the point.
static void evaluate(TuningSource *s, Trial *t, int most)
{
    t->mse = adding_test_mse(t->tr);
    if (!isfinite(t->mse))
        t->mse = 1e30;
    if (s->npoints < s->maxpoints) {
        double *pt = s->points[s->npoints++];
        pt[0] = t->lr, pt[1] = t->mse, pt[2] = (double)t->trained / most;
    }
    if (t->mse < s->best_mse) {
        if (s->nbest > 0) // the step down of the staircase
            s->best[s->nbest][0] = s->steps, s->best[s->nbest++][1] = s->best_mse;
        s->best_mse = t->mse, s->best_lr = t->lr;
        s->best[s->nbest][0] = s->steps, s->best[s->nbest++][1] = s->best_mse;
    }
}

// Make trial t's trainer when it first trains. False when out of memory.
static bool start(TuningSource *s, Trial *t)
{
    if (!t->tr && !(t->tr = make_trainer(s, t->lr, t->clip, s->cfg.seed)))
        return false;
    return true;
}

// Sort the survivors by their test MSE (a stable insertion sort: few trials).
static void sort_alive(TuningSource *s)
{
    for (int i = 1; i < s->nalive; i++)
        for (int j = i; j > 0 && s->trials[s->order[j]].mse < s->trials[s->order[j - 1]].mse; j--) {
            int tmp = s->order[j];
            s->order[j] = s->order[j - 1];
            s->order[j - 1] = tmp;
        }
}

// One training step of a search's current trial.
static void search_step(TuningSource *s)
{
    Trial *t = &s->trials[s->mode == MODE_HALVING ? s->order[s->at] : s->cur];
    if (!start(s, t)) {
        s->finished = "out of memory";
        return;
    }
    adding_step(t->tr);
    t->trained++;
    s->steps++;
    if (s->mode != MODE_HALVING) {
        int per = s->limit / s->ntrials;
        if (t->trained == per) {
            evaluate(s, t, per);
            adding_destroy(t->tr);
            t->tr = NULL;
            if (++s->cur == s->ntrials)
                s->finished = "every trial has run";
        }
        return;
    }
    if (t->trained < s->rung_end[s->rung])
        return;
    evaluate(s, t, s->rung_end[s->rungs - 1]);
    if (++s->at < s->nalive)
        return;
    // The rung is over: keep the better half.
    sort_alive(s);
    s->at = 0;
    if (++s->rung == s->rungs || s->nalive == 1) {
        s->finished = "every rung has run";
        return;
    }
    for (int i = s->nalive / 2; i < s->nalive; i++) {
        Trial *out = &s->trials[s->order[i]];
        out->alive = false;
        adding_destroy(out->tr);
        out->tr = NULL;
    }
    s->nalive /= 2;
}

static int tuning_advance(void *inst, int max)
{
    TuningSource *s = inst;
    int taken = 0;
    while (taken < max && !s->finished && s->steps < s->limit) {
        if (s->mode == MODE_SEEDS)
            seeds_step(s);
        else if (s->mode == MODE_RANGE)
            range_step(s);
        else
            search_step(s);
        taken++;
    }
    if (!s->finished && s->steps >= s->limit)
        s->finished = s->mode == MODE_SEEDS ? "every seed has run its steps" : "the sweep is done";
    return taken;
}

static int tuning_steps(const void *inst)
{
    return ((const TuningSource *)inst)->steps;
}

static const char *tuning_finished(const void *inst)
{
    return ((const TuningSource *)inst)->finished;
}

static void vector(RunArrays *out, const char *prefix, const char *name, const double *v, int count)
{
    double *x = run_arrays_add(out, prefix, name, 1, &count);
    if (x && count > 0)
        memcpy(x, v, (size_t)count * sizeof(double));
}

static void publish_seeds(const TuningSource *s, const char *prefix, RunArrays *out)
{
    int n = s->steps, S = s->nseeds;
    for (int i = 0; i < S; i++) {
        char name[16];
        snprintf(name, sizeof(name), "seed%d", i + 1);
        vector(out, prefix, name, s->curve[i], n);
    }
    // The mean, lowest and highest seed at each step; each array is filled
    // before the next add (an add may move the ones before it).
    static const char *const names[3] = {"mean", "lo", "hi"};
    for (int which = 0; which < 3; which++) {
        double *x = run_arrays_add(out, prefix, names[which], 1, &n);
        for (int k = 0; x && k < n; k++) {
            double sum = 0, a = INFINITY, b = -INFINITY;
            for (int i = 0; i < S; i++) {
                sum += s->curve[i][k];
                a = fmin(a, s->curve[i][k]);
                b = fmax(b, s->curve[i][k]);
            }
            x[k] = which == 0 ? sum / S : which == 1 ? a : b;
        }
    }
    vector(out, prefix, "test", s->test, S);
    double tlo = INFINITY, thi = -INFINITY;
    for (int i = 0; i < S; i++)
        tlo = fmin(tlo, s->test[i]), thi = fmax(thi, s->test[i]);
    double band[2] = {tlo, thi};
    vector(out, prefix, "band", band, 2);
    run_arrays_number(out, prefix, "tlo", tlo);
    run_arrays_number(out, prefix, "thi", thi);
    run_arrays_number(out, prefix, "spread", thi / tlo);
}

static void publish_range(const TuningSource *s, const char *prefix, RunArrays *out)
{
    int shape[2] = {s->steps, 2};
    double *c = run_arrays_add(out, prefix, "curve", 2, shape);
    int at = -1;
    for (int k = 0; k < s->steps; k++) {
        if (c)
            c[2 * k] = s->range_lr[k], c[2 * k + 1] = s->range_loss[k];
        if (at < 0 || s->range_loss[k] < s->range_loss[at])
            at = k;
    }
    run_arrays_number(out, prefix, "lrmin", at >= 0 ? s->range_lr[at] : NAN);
    run_arrays_number(out, prefix, "suggest", at >= 0 ? s->range_lr[at] / 10 : NAN);
}

static void publish_search(const TuningSource *s, const char *prefix, RunArrays *out)
{
    int shape[2] = {s->npoints, 3};
    double *pts = run_arrays_add(out, prefix, "points", 2, shape);
    if (pts && s->npoints)
        memcpy(pts, s->points, (size_t)s->npoints * 3 * sizeof(double));
    // The staircase, drawn on to the steps spent now.
    int bshape[2] = {s->nbest + (s->nbest > 0), 2};
    double *best = run_arrays_add(out, prefix, "best", 2, bshape);
    if (best && s->nbest) {
        memcpy(best, s->best, (size_t)s->nbest * 2 * sizeof(double));
        best[2 * s->nbest] = s->steps, best[2 * s->nbest + 1] = s->best_mse;
    }
    run_arrays_number(out, prefix, "best_mse", s->best_mse);
    run_arrays_number(out, prefix, "best_lr", s->best_lr);
    int distinct = 0;
    for (int i = 0; i < s->ntrials; i++) {
        if (s->trials[i].trained == 0)
            continue;
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen |= s->trials[j].trained > 0 && s->trials[j].lr == s->trials[i].lr;
        distinct += !seen;
    }
    run_arrays_number(out, prefix, "done", s->npoints);
    run_arrays_number(out, prefix, "distinct", distinct);
}

static void tuning_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const TuningSource *s = inst;
    if (s->mode == MODE_SEEDS)
        publish_seeds(s, prefix, out);
    else if (s->mode == MODE_RANGE)
        publish_range(s, prefix, out);
    else
        publish_search(s, prefix, out);
    run_arrays_number(out, prefix, "steps", s->steps);
}

static size_t tuning_bytes(const void *inst)
{
    return ((const TuningSource *)inst)->bytes;
}

const SourceKind source_tuning_kind = {
    .name = "tuning",
    .summary = "the adding problem tuned: seeds side by side, a learning-rate range test, grid, random "
               "and successive-halving search on one budget",
    .options = tuning_options,
    .default_limit = 0,
    .create = tuning_create,
    .destroy = tuning_destroy,
    .advance = tuning_advance,
    .steps = tuning_steps,
    .finished = tuning_finished,
    .publish = tuning_publish,
    .bytes = tuning_bytes,
};
