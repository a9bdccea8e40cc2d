// source_explode.c: the `explode` source kind, a training run whose
// gradient can explode, with and without clipping by global norm (Pascanu,
// Mikolov and Bengio 2013). A thin adapter over src/models and the engine's
// optimizers: a tanh RNN (models/rnn.h) with a linear read-out learns the
// adding problem (models/adding.h) by plain SGD (engine/optim):
//
//     source: boom explode lr {lr} clip {clip} threshold {threshold} T 40 scale 1.5 seed 1
//
// Options (numbers or {param}):
//   lr         SGD's rate (default 0.1)
//   clip       0 or 1 (a toggle): clip the gradient by its global norm (default 0)
//   threshold  the norm it is clipped to (default 1)
//   T          sequence length, 2 to 200 (default 40)
//   hidden     hidden units, 1 to 64 (default 16)
//   batch      sequences per step, 1 to 256 (default 16)
//              The activations of max(batch, 128) sequences of T steps of
//              hidden units may take at most 16 MB: (4 + 8 hidden) x T x
//              max(batch, 128) floats (T 200 allows hidden 20; hidden 64, T 63)
//   scale      W_hh starts orthogonal with every singular value equal to
//              this, 0 to 10 (default 1); the other weights are PyTorch's
//   seed       weights and data follow from it (default 1)
//   limit      most steps, 1 to 5000 (default 300)
//   spike      the loss has spiked when it is more than this many times its
//              lowest value so far, or NaN or Inf (default 10)
//
// The loss is the mean squared error on a fixed set of 128 sequences. When
// it spikes, the run stops and says at which step, and which parameter's
// gradient norm blew up (the one that grew most against its own median) in
// the update that caused it. It also stops at its limit.
//
// Publishes, for a run that has taken `steps` updates:
//   loss      (steps + 1)  the loss before training, then after each update
//   norm      (steps)      the gradient's global norm before clipping, at
//                          the weights after 0, 1, ... updates
//   W_hh, W_ih, bias, readout
//             (steps)      the same for W_hh, W_ih, the RNN's two biases
//                          together, and the read-out (weights and bias)
//   steps, spike           updates taken; the step the loss spiked (0: none)
//   clipped                how many updates were clipped
//   peak                   the largest global norm so far
// The state after N steps depends on the options and N only.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/optim/optim.h"
#include "lessons/source_kinds.h"
#include "models/adding.h"
#include "models/init.h"
#include "models/rnn.h"

#define EXPLODE_MAX_LIMIT 5000
// Bytes of activations one source may hold: eight explode sources in one
// lesson stay within the README's 256 MB (at T 200, 64 units and batch 256
// eight held 332 MB).
#define EXPLODE_MAX_MEMORY (16.0 * 1048576)
#define EXPLODE_EVAL 128 // sequences in the fixed evaluation set
#define EXPLODE_GROUPS 4 // W_hh, W_ih, biases, read-out

static const char *const group_names[EXPLODE_GROUPS] = {"W_hh", "W_ih", "the RNN's biases", "the read-out"};
static const char *const group_arrays[EXPLODE_GROUPS] = {"W_hh", "W_ih", "bias", "readout"};

typedef struct ExplodeSource {
    int T, H, B, limit;
    double lr, threshold, spike;
    bool clip;
    Rnn *rnn;
    float *head, *head_grad; // (H + 1) read-out weights then bias
    Optim *opt_model, *opt_head;
    Pcg data;                      // training batches
    float *x, *target, *y, *dh;    // (B, T, 2), (B), (max(B, EVAL)), (B, H)
    float *ex, *etarget;           // (EVAL, T, 2), (EVAL): the fixed evaluation set
    double *loss;                  // (limit + 1)
    double *norm;                  // (limit)
    double *group[EXPLODE_GROUPS]; // (limit) each
    int steps, spike_step, clipped;
    double best, peak;
    const char *finished; // why it stopped, or NULL
    char why[240];
    size_t bytes;                  // about what it holds (SourceKind.bytes)
} ExplodeSource;

static const char *const explode_options[] = {"lr",    "clip", "threshold", "T",     "hidden", "batch",
                                              "scale", "seed", "limit",     "spike", NULL};

static void explode_destroy(void *inst)
{
    ExplodeSource *e = inst;
    if (!e)
        return;
    rnn_destroy(e->rnn);
    optim_destroy(e->opt_model);
    optim_destroy(e->opt_head);
    free(e->head);
    free(e->head_grad);
    free(e->x);
    free(e->target);
    free(e->y);
    free(e->dh);
    free(e->ex);
    free(e->etarget);
    free(e->loss);
    free(e->norm);
    for (int g = 0; g < EXPLODE_GROUPS; g++)
        free(e->group[g]);
    free(e);
}

// Forward on x (B sequences) into e->y; the mean squared error against target.
static double forward(ExplodeSource *e, const float *x, const float *target, int B)
{
    const int H = e->H;
    (void)rnn_forward(e->rnn, x, NULL, B, e->T); // cannot fail: the largest batch was allocated in create
    RecurrentStep last = rnn_step(e->rnn, e->T - 1);
    double mse = 0;
    for (int b = 0; b < B; b++) {
        float y = e->head[H];
        for (int j = 0; j < H; j++)
            y += e->head[j] * last.h[(size_t)b * H + j];
        e->y[b] = y;
        double d = (double)y - target[b];
        mse += d * d;
    }
    return mse / B;
}

// The loss on the evaluation set (NaN and Inf stay as they are).
static double evaluate(ExplodeSource *e)
{
    return forward(e, e->ex, e->etarget, EXPLODE_EVAL);
}

static void *explode_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    ExplodeSource *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    double clip, T, hidden, batch, scale, seed, limit;
    if (!source_option_number(p, decl, "lr", 0.1, 0, 100, &e->lr, err, n) ||
        !source_option_number(p, decl, "clip", 0, 0, 1, &clip, err, n) ||
        !source_option_number(p, decl, "threshold", 1, 1e-6, 1e6, &e->threshold, err, n) ||
        !source_option_number(p, decl, "T", 40, 2, 200, &T, err, n) ||
        !source_option_number(p, decl, "hidden", 16, 1, 64, &hidden, err, n) ||
        !source_option_number(p, decl, "batch", 16, 1, 256, &batch, err, n) ||
        !source_option_number(p, decl, "scale", 1, 0, 10, &scale, err, n) ||
        !source_option_number(p, decl, "seed", 1, 0, 2147483647.0, &seed, err, n) ||
        !source_option_number(p, decl, "limit", 300, 1, EXPLODE_MAX_LIMIT, &limit, err, n) ||
        !source_option_number(p, decl, "spike", 10, 1.5, 1e6, &e->spike, err, n))
        goto fail;
    if (T != floor(T) || hidden != floor(hidden) || batch != floor(batch) || seed != floor(seed) ||
        limit != floor(limit)) {
        snprintf(err, n, "'T', 'hidden', 'batch', 'seed' and 'limit' are whole numbers");
        goto fail;
    }
    // The activations recurrent_check_size counts for a tanh RNN of 2
    // inputs: 4 + 8 H floats per sequence and time step, for the larger of
    // the training batch and the EXPLODE_EVAL loss sequences.
    double mem = fmax(batch, EXPLODE_EVAL) * T * (4 + 8 * hidden) * sizeof(float);
    if (mem > EXPLODE_MAX_MEMORY) {
        snprintf(err, n, "batch %.0f (at least %d for the loss) x T %.0f x hidden %.0f holds %.0f MB of "
                 "activations, more than %.0f MB; give a smaller T, hidden or batch", batch, EXPLODE_EVAL, T,
                 hidden, mem / 1048576, EXPLODE_MAX_MEMORY / 1048576);
        goto fail;
    }
    e->clip = clip != 0;
    e->T = (int)T, e->H = (int)hidden, e->B = (int)batch, e->limit = (int)limit;
    e->bytes = (size_t)mem + (size_t)(limit + 1) * (2 + EXPLODE_GROUPS) * sizeof(double) +
               (size_t)(EXPLODE_EVAL + batch) * (size_t)T * 2 * sizeof(float);
    const int H = e->H, B = e->B;
    Pcg init, eval;
    pcg_seed(&init, (uint64_t)seed * 3 + 1);
    pcg_seed(&e->data, (uint64_t)seed * 3 + 2);
    pcg_seed(&eval, (uint64_t)seed * 3 + 3);
    e->rnn = rnn_create(2, H, RNN_TANH);
    e->head = calloc((size_t)H + 1, sizeof(float));
    e->head_grad = calloc((size_t)H + 1, sizeof(float));
    e->x = malloc((size_t)B * e->T * 2 * sizeof(float));
    e->target = malloc((size_t)B * sizeof(float));
    e->y = malloc((size_t)(B > EXPLODE_EVAL ? B : EXPLODE_EVAL) * sizeof(float));
    e->dh = malloc((size_t)B * H * sizeof(float));
    e->ex = malloc((size_t)EXPLODE_EVAL * e->T * 2 * sizeof(float));
    e->etarget = malloc(EXPLODE_EVAL * sizeof(float));
    e->loss = malloc(((size_t)e->limit + 1) * sizeof(double));
    e->norm = malloc((size_t)e->limit * sizeof(double));
    bool ok = e->rnn && e->head && e->head_grad && e->x && e->target && e->y && e->dh && e->ex &&
              e->etarget && e->loss && e->norm;
    for (int g = 0; g < EXPLODE_GROUPS; g++)
        ok = ok && (e->group[g] = malloc((size_t)e->limit * sizeof(double)));
    if (ok) {
        OptimConfig oc = optim_defaults(OPTIM_SGD);
        oc.lr = (float)e->lr;
        e->opt_model = optim_create(&oc, e->rnn->nparams);
        e->opt_head = optim_create(&oc, (size_t)H + 1);
    }
    if (!ok || !e->opt_model || !e->opt_head) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    rnn_init_uniform(e->rnn, &init);
    e->rnn->skip_dx = true;
    if (!init_orthogonal(e->rnn->p.w_hh, H, H, (float)scale, &init)) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    init_uniform(e->head, (size_t)H, 1.0f / sqrtf((float)H), &init);
    e->head[H] = 1.0f; // the read-out starts at the targets' mean, so the first steps need not find it
    adding_batch(&eval, EXPLODE_EVAL, e->T, e->ex, e->etarget);
    // Allocate the activations for the larger of the two batches now, so
    // that no later forward can fail.
    int rows = B > EXPLODE_EVAL ? B : EXPLODE_EVAL;
    float *zeros = calloc((size_t)rows * e->T * 2, sizeof(float));
    bool fits = zeros && rnn_forward(e->rnn, zeros, NULL, rows, e->T);
    free(zeros);
    if (!fits) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    e->loss[0] = e->best = evaluate(e);
    if (!isfinite(e->loss[0]))
        e->finished = "the loss is NaN or Inf before training";
    return e;
fail:
    explode_destroy(e);
    return NULL;
}

// The median of v[0..n) (n > 0), without changing v.
static double median(const double *v, int n)
{
    double *c = malloc((size_t)n * sizeof(double));
    if (!c)
        return NAN;
    memcpy(c, v, (size_t)n * sizeof(double));
    for (int i = 1; i < n; i++) // insertion sort: n is at most EXPLODE_MAX_LIMIT, and this runs once
        for (int j = i; j > 0 && c[j - 1] > c[j]; j--) {
            double t = c[j];
            c[j] = c[j - 1];
            c[j - 1] = t;
        }
    double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
    free(c);
    return m;
}

// The loss spiked after update k: say where, and whose gradient blew up.
static void explain_spike(ExplodeSource *e, int k)
{
    const int i = k - 1; // the gradient of update k
    int worst = 0;
    double ratio = -1;
    for (int g = 0; g < EXPLODE_GROUPS; g++) {
        double m = i > 0 ? median(e->group[g], i) : NAN;
        double r = m > 0 ? e->group[g][i] / m : e->group[g][i];
        if (!(r <= ratio)) { // NaN counts as the worst
            ratio = r;
            worst = g;
        }
    }
    int len = snprintf(e->why, sizeof(e->why),
                       "the loss spiked at step %d (%.3g to %.3g): the gradient of %s had "
                       "norm %.3g",
                       k, e->best, e->loss[k], group_names[worst], e->group[worst][i]);
    if (i > 0 && isfinite(ratio) && len > 0 && (size_t)len < sizeof(e->why))
        len += snprintf(e->why + len, sizeof(e->why) - (size_t)len, ", %.3g times its median", ratio);
    if (len > 0 && (size_t)len < sizeof(e->why))
        snprintf(e->why + len, sizeof(e->why) - (size_t)len, "; clip the gradient or lower the rate");
    e->finished = e->why;
}

// One update: a new batch, forward, backward, the norms, clipping, SGD.
static void update(ExplodeSource *e)
{
    const int H = e->H, B = e->B, T = e->T;
    adding_batch(&e->data, B, T, e->x, e->target);
    forward(e, e->x, e->target, B);
    // dL/dy = 2 (y - target) / B; dL/dh_T = dL/dy * w.
    RecurrentStep last = rnn_step(e->rnn, T - 1);
    memset(e->head_grad, 0, ((size_t)H + 1) * sizeof(float));
    for (int b = 0; b < B; b++) {
        float dy = 2.0f * (e->y[b] - e->target[b]) / (float)B;
        for (int j = 0; j < H; j++) {
            e->head_grad[j] += dy * last.h[(size_t)b * H + j];
            e->dh[(size_t)b * H + j] = dy * e->head[j];
        }
        e->head_grad[H] += dy;
    }
    rnn_zero_grad(e->rnn);
    rnn_backward(e->rnn, NULL, e->dh);
    const RnnParams *g = &e->rnn->g;
    double whh = grad_norm(g->w_hh, (size_t)H * H), wih = grad_norm(g->w_ih, (size_t)H * 2);
    double bih = grad_norm(g->b_ih, (size_t)H), bhh = grad_norm(g->b_hh, (size_t)H);
    double out = grad_norm(e->head_grad, (size_t)H + 1);
    double norm = sqrt(whh * whh + wih * wih + bih * bih + bhh * bhh + out * out);
    const int s = e->steps;
    e->norm[s] = norm;
    e->group[0][s] = whh;
    e->group[1][s] = wih;
    e->group[2][s] = sqrt(bih * bih + bhh * bhh);
    e->group[3][s] = out;
    e->peak = fmax(e->peak, norm);
    if (e->clip && norm >= e->threshold) { // Pascanu et al.'s Algorithm 1, over every parameter at once
        float f = (float)(e->threshold / norm);
        for (size_t i = 0; i < e->rnn->nparams; i++)
            e->rnn->grads[i] *= f;
        for (int j = 0; j <= H; j++)
            e->head_grad[j] *= f;
        e->clipped++;
    }
    optim_step(e->opt_model, e->rnn->params, e->rnn->grads);
    optim_step(e->opt_head, e->head, e->head_grad);
}

static int explode_advance(void *inst, int max)
{
    ExplodeSource *e = inst;
    int taken = 0;
    while (taken < max && !e->finished) {
        update(e);
        double loss = evaluate(e);
        e->loss[++e->steps] = loss;
        taken++;
        if (!isfinite(loss) || loss > e->spike * e->best) {
            e->spike_step = e->steps;
            explain_spike(e, e->steps);
        } else if (loss < e->best) {
            e->best = loss;
        }
        if (!e->finished && e->steps >= e->limit)
            e->finished = "the step limit was reached";
    }
    return taken;
}

static int explode_steps(const void *inst)
{
    return ((const ExplodeSource *)inst)->steps;
}

static const char *explode_finished(const void *inst)
{
    return ((const ExplodeSource *)inst)->finished;
}

static void explode_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const ExplodeSource *e = inst;
    int n = e->steps + 1;
    double *x = run_arrays_add(out, prefix, "loss", 1, &n);
    if (x)
        memcpy(x, e->loss, (size_t)n * sizeof(double));
    n = e->steps;
    if (n > 0) { // an empty array would read as a missing figure
        if ((x = run_arrays_add(out, prefix, "norm", 1, &n)))
            memcpy(x, e->norm, (size_t)n * sizeof(double));
        for (int g = 0; g < EXPLODE_GROUPS; g++)
            if ((x = run_arrays_add(out, prefix, group_arrays[g], 1, &n)))
                memcpy(x, e->group[g], (size_t)n * sizeof(double));
    }
    const char *names[] = {"steps", "spike", "clipped", "peak"};
    double values[] = {e->steps, e->spike_step, e->clipped, e->peak};
    for (int i = 0; i < 4; i++)
        if ((x = run_arrays_add(out, prefix, names[i], 0, NULL)))
            *x = values[i];
}

static size_t explode_bytes(const void *inst)
{
    return ((const ExplodeSource *)inst)->bytes;
}

const SourceKind source_explode_kind = {
    .name = "explode",
    .summary = "an RNN trained by SGD whose gradient can explode, with optional clipping by global norm",
    .options = explode_options,
    .default_limit = 0,
    .create = explode_create,
    .destroy = explode_destroy,
    .advance = explode_advance,
    .steps = explode_steps,
    .finished = explode_finished,
    .publish = explode_publish,
    .bytes = explode_bytes,
};
