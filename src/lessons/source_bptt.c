// source_bptt.c: the `bptt` source kind, how the gradient of a loss at the
// last step travels back through time (the vanishing and exploding gradient
// lesson). A thin adapter over src/models: one sequence of T random inputs
// through an RNN or an LSTM, L = sum(h_T), and ||dL/dh_t|| for every t.
//
//     source: grad bptt T {T} hidden 32 scale {scale} activation {act} model {model} init {init} seed 1
//
// Options (numbers, words, or {param}):
//   T           sequence length, 1 to 200 (default 50)
//   hidden      hidden units, 1 to 128 (default 32)
//   scale       the size of W_hh (default 1): orthogonal gives every singular
//               value exactly scale, identity is scale * I, normal and
//               uniform have spectral radius about scale (models/bptt.h)
//   activation  tanh, sigmoid, relu or linear (default tanh); the LSTM's
//               nonlinearities are fixed, so it ignores this
//   model       rnn or lstm (default rnn)
//   init        orthogonal, normal, uniform or identity (default orthogonal)
//   forget      added to the LSTM's forget-gate bias, -10 to 10 (default 0)
//   seed        weights and inputs follow from it (default 1)
//
// The weights and inputs are drawn in the same order as models/bptt.c, so
// for every init but identity, and forget 0, `norm` is exactly what
// `gradlab bptt` prints with the same options (tests/unit/test_source_bptt.c).
// Everything is computed when the instance is made: it takes no steps.
//
// Publishes, with k = T - t the steps back from the loss:
//   norm      (T)  ||dL/dh_t|| for t = 1..T (norm[T-1] = sqrt(hidden))
//   back      (T)  the same numbers by k = 0..T-1 (back[k] = norm[T-1-k])
//   first, last    ||dL/dh_1|| and ||dL/dh_T||
//   slope          least-squares slope of ln back[k] against k over the
//                  finite, positive numbers: the log of the factor the norm
//                  gains per step back (NaN with fewer than two)
//   factor         e^slope, that factor
//   lambda1        the largest singular value of the RNN's W_hh
//   gamma          the largest slope of the RNN's activation: 1 for tanh,
//                  relu and linear, 1/4 for sigmoid
//   lg             lambda1 * gamma: Pascanu, Mikolov and Bengio (2013) show
//                  that lg < 1 is sufficient for the norm to vanish and
//                  lg > 1 necessary for it to explode
//                  (these three are NaN for the LSTM, where the bound does
//                  not apply: its cell path is scaled by the forget gate)
//   forget_gate    the LSTM's mean forget gate over every step and unit (NaN
//                  for the RNN)
// and, for the linear RNN with an orthogonal or identity W_hh (every
// singular value s = scale), where ||dL/dh_t|| = s^(T-t) ||dL/dh_T|| exactly:
//   law, law_back  that law, by t and by k
//   log_s          ln s, the law's slope
//   law_error      the largest |norm / law - 1| over the finite numbers
//   slope_gap      |slope - ln s|
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/source_kinds.h"
#include "models/bptt.h"
#include "models/init.h"
#include "models/lstm.h"
#include "models/rnn.h"

#define BPTT_SOURCE_MAX_T 200
#define BPTT_SOURCE_MAX_HIDDEN 128

enum { INIT_IDENTITY = BPTT_INIT_COUNT }; // the inits after models/bptt.h's own

static const char *const init_words[] = {"orthogonal", "normal", "uniform", "identity"};
static const char *const model_words[] = {"rnn", "lstm"};

typedef struct BpttSource {
    int T, H;
    bool lstm, law; // law: linear RNN, every singular value of W_hh equal to s
    double s;       // the scale as the model used it (a float)
    double *norm;   // (T)
    double *lawv;   // (T) when law
    double slope, lambda1, gamma, forget_gate;
} BpttSource;

static const char *const bptt_options[] = {"T",    "hidden", "scale", "activation", "model",
                                           "init", "forget", "seed",  NULL};

// Option key as one of words[0..nw): its index in *out. False with a reason in err.
static bool option_choice(const SourceParams *p, const LessonSource *decl, const char *key,
                          const char *const *words, int nw, int dflt, int *out, char *err, size_t n)
{
    const char *w = source_option_word(p, decl, key, words[dflt], err, n);
    if (!w)
        return false;
    for (int i = 0; i < nw; i++)
        if (strcmp(w, words[i]) == 0) {
            *out = i;
            return true;
        }
    int len = snprintf(err, n, "'%s %s': give one of", key, w);
    for (int i = 0; i < nw && len > 0 && (size_t)len < n; i++)
        len += snprintf(err + len, n - (size_t)len, "%s %s", i ? "," : "", words[i]);
    return false;
}

// Draw the (H, H) block w as models/bptt.c does, or scale * I.
static bool draw(float *w, int H, int init, float scale, Pcg *rng)
{
    size_t n = (size_t)H * H;
    float sd = scale / sqrtf((float)H);
    switch (init) {
    case BPTT_ORTHOGONAL: return init_orthogonal(w, H, H, scale, rng);
    case BPTT_NORMAL: init_normal(w, n, sd, rng); return true;
    case BPTT_UNIFORM: init_uniform(w, n, sd * sqrtf(3.0f), rng); return true;
    default: init_identity(w, H, H, scale); return true;
    }
}

// The largest singular value of w (rows, cols), by power iteration on
// w^T w in double from a fixed start, so the same weights give the same number.
static double largest_singular(const float *w, int rows, int cols)
{
    double *v = malloc((size_t)cols * sizeof(double)), *u = malloc((size_t)rows * sizeof(double));
    double sigma = NAN;
    if (!v || !u)
        goto done;
    for (int j = 0; j < cols; j++)
        v[j] = 1.0 + 0.5 * sin(1.0 + j);
    sigma = 0;
    for (int it = 0; it < 2000; it++) {
        double vn = 0;
        for (int j = 0; j < cols; j++)
            vn += v[j] * v[j];
        vn = sqrt(vn);
        if (vn == 0)
            break;
        for (int i = 0; i < rows; i++) {
            double acc = 0;
            for (int j = 0; j < cols; j++)
                acc += (double)w[(size_t)i * cols + j] * v[j] / vn;
            u[i] = acc;
        }
        for (int j = 0; j < cols; j++) {
            double acc = 0;
            for (int i = 0; i < rows; i++)
                acc += (double)w[(size_t)i * cols + j] * u[i];
            v[j] = acc;
        }
        double un = 0; // ||w v|| for the unit v: the estimate, rising to sigma
        for (int i = 0; i < rows; i++)
            un += u[i] * u[i];
        double next = sqrt(un);
        bool settled = fabs(next - sigma) <= 1e-13 * next;
        sigma = next;
        if (settled)
            break;
    }
done:
    free(v);
    free(u);
    return sigma;
}

// Least-squares slope of ln y[k] against k over the finite positive y.
static double log_slope(const double *y, int n)
{
    double sk = 0, sy = 0, skk = 0, sky = 0;
    int m = 0;
    for (int k = 0; k < n; k++) {
        if (!(y[k] > 0) || !isfinite(y[k]))
            continue;
        double l = log(y[k]);
        sk += k, sy += l, skk += (double)k * k, sky += k * l;
        m++;
    }
    double den = m * skk - sk * sk;
    return m >= 2 && den > 0 ? (m * sky - sk * sy) / den : NAN;
}

static void bptt_destroy(void *inst)
{
    BpttSource *b = inst;
    if (!b)
        return;
    free(b->norm);
    free(b->lawv);
    free(b);
}

// Run the sequence and fill b's numbers. False when out of memory.
static bool bptt_compute(BpttSource *b, int act, int init, float scale, double forget, uint64_t seed)
{
    const int H = b->H, T = b->T, I = BPTT_INPUTS;
    Pcg rng;
    pcg_seed(&rng, seed);
    float *x = malloc((size_t)T * I * sizeof(float));
    float *ones = malloc((size_t)H * sizeof(float));
    Lstm *lstm = NULL;
    Rnn *rnn = NULL;
    bool ok = false;
    if (!x || !ones)
        goto done;
    for (int j = 0; j < H; j++)
        ones[j] = 1.0f;
    if (b->lstm) {
        if (!(lstm = lstm_create(I, H)))
            goto done;
        lstm_init_uniform(lstm, &rng);
        for (int g = 0; g < 4; g++)
            if (!draw(lstm->p.w_hh + (size_t)g * H * H, H, init, scale, &rng))
                goto done;
        for (int j = H; j < 2 * H; j++) // gate order i, f, g, o
            lstm->p.b_ih[j] += (float)forget;
    } else {
        if (!(rnn = rnn_create(I, H, (RnnAct)act)))
            goto done;
        rnn_init_uniform(rnn, &rng);
        if (!draw(rnn->p.w_hh, H, init, scale, &rng))
            goto done;
    }
    for (size_t i = 0; i < (size_t)T * I; i++)
        x[i] = (float)pcg_normal(&rng);
    const float *dh;
    if (lstm) {
        if (!lstm_forward(lstm, x, NULL, NULL, 1, T))
            goto done;
        lstm->skip_dx = true;
        lstm_backward(lstm, NULL, ones, NULL);
        dh = lstm->dh;
        b->lambda1 = NAN;
        double f = 0;
        for (int t = 0; t < T; t++) {
            RecurrentStep st = lstm_step(lstm, t);
            for (int j = 0; j < H; j++)
                f += st.gates[H + j];
        }
        b->forget_gate = f / ((double)T * H);
        b->gamma = NAN;
    } else {
        if (!rnn_forward(rnn, x, NULL, 1, T))
            goto done;
        rnn->skip_dx = true;
        rnn_backward(rnn, NULL, ones);
        dh = rnn->dh;
        b->lambda1 = largest_singular(rnn->p.w_hh, H, H);
        b->forget_gate = NAN;
        b->gamma = act == RNN_SIGMOID ? 0.25 : 1.0;
    }
    for (int t = 0; t < T; t++) {
        double s = 0.0;
        for (int j = 0; j < H; j++)
            s += (double)dh[(size_t)t * H + j] * dh[(size_t)t * H + j];
        b->norm[t] = sqrt(s);
    }
    ok = true;
done:
    free(x);
    free(ones);
    lstm_destroy(lstm);
    rnn_destroy(rnn);
    return ok;
}

static void *bptt_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    BpttSource *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    double T, hidden, scale, forget, seed;
    int act = RNN_TANH, model = 0, init = BPTT_ORTHOGONAL;
    if (!source_option_number(p, decl, "T", 50, 1, BPTT_SOURCE_MAX_T, &T, err, n) ||
        !source_option_number(p, decl, "hidden", 32, 1, BPTT_SOURCE_MAX_HIDDEN, &hidden, err, n) ||
        !source_option_number(p, decl, "scale", 1, 0, 100, &scale, err, n) ||
        !source_option_number(p, decl, "forget", 0, -10, 10, &forget, err, n) ||
        !source_option_number(p, decl, "seed", 1, 0, 2147483647.0, &seed, err, n) ||
        !option_choice(p, decl, "activation", rnn_act_names, RNN_ACT_COUNT, RNN_TANH, &act, err, n) ||
        !option_choice(p, decl, "model", model_words, 2, 0, &model, err, n) ||
        !option_choice(p, decl, "init", init_words, 4, BPTT_ORTHOGONAL, &init, err, n))
        goto fail;
    if (T != floor(T) || hidden != floor(hidden) || seed != floor(seed)) {
        snprintf(err, n, "'T', 'hidden' and 'seed' are whole numbers");
        goto fail;
    }
    b->T = (int)T;
    b->H = (int)hidden;
    b->lstm = model == 1;
    b->s = (float)scale;
    b->law = !b->lstm && act == RNN_LINEAR && (init == BPTT_ORTHOGONAL || init == INIT_IDENTITY);
    b->norm = malloc((size_t)b->T * sizeof(double));
    b->lawv = b->law ? malloc((size_t)b->T * sizeof(double)) : NULL;
    if (!b->norm || (b->law && !b->lawv) ||
        !bptt_compute(b, act, init, (float)scale, forget, (uint64_t)seed)) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    double *back = malloc((size_t)b->T * sizeof(double));
    if (!back) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    for (int k = 0; k < b->T; k++)
        back[k] = b->norm[b->T - 1 - k];
    b->slope = log_slope(back, b->T);
    free(back);
    for (int t = 0; b->law && t < b->T; t++)
        b->lawv[t] = pow(b->s, b->T - 1 - t) * b->norm[b->T - 1];
    return b;
fail:
    bptt_destroy(b);
    return NULL;
}

static int bptt_advance(void *inst, int max)
{
    (void)inst, (void)max;
    return 0; // computed when created
}

static int bptt_steps(const void *inst)
{
    (void)inst;
    return 0;
}

static const char *bptt_finished(const void *inst)
{
    (void)inst;
    return "computed";
}

// Add the array name of n numbers, in order or reversed.
static void publish_array(RunArrays *out, const char *prefix, const char *name, const double *v, int n,
                          bool reversed)
{
    double *x = run_arrays_add(out, prefix, name, 1, &n);
    for (int i = 0; x && i < n; i++)
        x[i] = v[reversed ? n - 1 - i : i];
}

static void bptt_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const BpttSource *b = inst;
    const int T = b->T;
    publish_array(out, prefix, "norm", b->norm, T, false);
    publish_array(out, prefix, "back", b->norm, T, true);
    run_arrays_number(out, prefix, "first", b->norm[0]);
    run_arrays_number(out, prefix, "last", b->norm[T - 1]);
    run_arrays_number(out, prefix, "slope", b->slope);
    run_arrays_number(out, prefix, "factor", exp(b->slope));
    run_arrays_number(out, prefix, "lambda1", b->lambda1);
    run_arrays_number(out, prefix, "gamma", b->gamma);
    run_arrays_number(out, prefix, "lg", b->lambda1 * b->gamma);
    run_arrays_number(out, prefix, "forget_gate", b->forget_gate);
    if (!b->law)
        return;
    publish_array(out, prefix, "law", b->lawv, T, false);
    publish_array(out, prefix, "law_back", b->lawv, T, true);
    double worst = 0;
    for (int t = 0; t < T; t++)
        if (isfinite(b->norm[t]) && isfinite(b->lawv[t]) && b->lawv[t] > 0)
            worst = fmax(worst, fabs(b->norm[t] / b->lawv[t] - 1));
    run_arrays_number(out, prefix, "law_error", worst);
    run_arrays_number(out, prefix, "log_s", log(b->s));
    run_arrays_number(out, prefix, "slope_gap", fabs(b->slope - log(b->s)));
}

const SourceKind source_bptt_kind = {
    .name = "bptt",
    .summary = "the norm of dL/dh_t at every step of one sequence through an RNN or an LSTM",
    .options = bptt_options,
    .default_limit = 0,
    .create = bptt_create,
    .destroy = bptt_destroy,
    .advance = bptt_advance,
    .steps = bptt_steps,
    .finished = bptt_finished,
    .publish = bptt_publish,
};
