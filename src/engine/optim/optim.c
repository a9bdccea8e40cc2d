// optim.c: optimizers and clipping; see optim.h for the formulas.
//
// Each update is written in the same order of float32 operations as
// torch.optim's single-tensor implementation, so results agree to rounding.
#include "engine/optim/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// The update loops are the whole cost of a step for small models (Adagrad on
// min-char-rnn's 24k parameters). GCC vectorises their selects and square
// roots only at -O3 without trapping math, which the engine's build does not
// pass, so ask for it here; Clang vectorises them as they are. On x86-64
// they are also compiled for AVX-512 and AVX2, picked at load time; the
// clones compute the same bits.
#if defined(__GNUC__) && !defined(__clang__)
#define OPTIM_VECTORISE __attribute__((optimize("O3", "no-trapping-math")))
#else
#define OPTIM_VECTORISE
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && defined(__linux__) && \
    !defined(GRADLAB_SIMD_PORTABLE)
#define OPTIM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define OPTIM_CLONES
#endif

const char *const optim_names[OPTIM_COUNT] = {
    [OPTIM_SGD] = "sgd",
    [OPTIM_MOMENTUM] = "momentum",
    [OPTIM_ADAGRAD] = "adagrad",
    [OPTIM_RMSPROP] = "rmsprop",
    [OPTIM_ADAM] = "adam",
    [OPTIM_ADAMW] = "adamw",
};

OptimConfig optim_defaults(OptimKind kind)
{
    OptimConfig c = {
        .kind = kind,
        .lr = 0.01f,
        .momentum = 0.9f,
        .nesterov = false,
        .alpha = 0.99f,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
        .weight_decay = 0.0f,
    };
    if (kind == OPTIM_ADAGRAD)
        c.eps = 1e-10f;
    if (kind == OPTIM_ADAM || kind == OPTIM_ADAMW)
        c.lr = 1e-3f;
    if (kind == OPTIM_ADAMW)
        c.weight_decay = 1e-2f;
    return c;
}

Optim *optim_create(const OptimConfig *cfg, size_t n)
{
    Optim *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->cfg = *cfg;
    o->n = n;
    size_t bytes = (n > 0 ? n : 1) * sizeof(float);
    bool need_m = cfg->kind != OPTIM_SGD && cfg->kind != OPTIM_RMSPROP;
    bool need_v = cfg->kind == OPTIM_RMSPROP || cfg->kind == OPTIM_ADAM || cfg->kind == OPTIM_ADAMW;
    if ((need_m && !(o->m = calloc(1, bytes))) || (need_v && !(o->v = calloc(1, bytes)))) {
        optim_destroy(o);
        return NULL;
    }
    return o;
}

void optim_destroy(Optim *opt)
{
    if (!opt)
        return;
    free(opt->m);
    free(opt->v);
    free(opt);
}

void optim_reset(Optim *opt)
{
    opt->t = 0;
    if (opt->m)
        memset(opt->m, 0, opt->n * sizeof(float));
    if (opt->v)
        memset(opt->v, 0, opt->n * sizeof(float));
}

// The public functions call static clones: Clang 14 emits the resolver of a
// target_clones function only in a translation unit that calls it.
OPTIM_VECTORISE OPTIM_CLONES
static void step_impl(Optim *opt, float *params, const float *grads)
{
    const OptimConfig *c = &opt->cfg;
    const size_t n = opt->n;
    float *restrict p = params;
    const float *restrict g = grads;
    float *restrict m = opt->m;
    float *restrict v = opt->v;
    const float lr = c->lr, wd = c->weight_decay;
    opt->t++;
    switch (c->kind) {
    case OPTIM_SGD:
        for (size_t i = 0; i < n; i++) {
            float gi = wd != 0.0f ? g[i] + wd * p[i] : g[i];
            p[i] -= lr * gi;
        }
        break;
    case OPTIM_MOMENTUM: {
        // torch: buf = g on the first step, else mu * buf + g (dampening 0);
        // with buf starting at zero the first step gives the same.
        const float mu = c->momentum;
        for (size_t i = 0; i < n; i++) {
            float gi = wd != 0.0f ? g[i] + wd * p[i] : g[i];
            m[i] = mu * m[i] + gi;
            float d = c->nesterov ? gi + mu * m[i] : m[i];
            p[i] -= lr * d;
        }
        break;
    }
    case OPTIM_ADAGRAD:
        for (size_t i = 0; i < n; i++) {
            float gi = wd != 0.0f ? g[i] + wd * p[i] : g[i];
            m[i] += gi * gi;
            p[i] -= lr * (gi / (sqrtf(m[i]) + c->eps));
        }
        break;
    case OPTIM_RMSPROP: {
        const float a = c->alpha;
        for (size_t i = 0; i < n; i++) {
            float gi = wd != 0.0f ? g[i] + wd * p[i] : g[i];
            v[i] = a * v[i] + (1.0f - a) * (gi * gi);
            p[i] -= lr * (gi / (sqrtf(v[i]) + c->eps));
        }
        break;
    }
    case OPTIM_ADAM:
    case OPTIM_ADAMW: {
        const bool decoupled = c->kind == OPTIM_ADAMW;
        const float b1 = c->beta1, b2 = c->beta2;
        // The bias corrections are Python floats (double) in torch.
        double bc1 = 1.0 - pow((double)b1, (double)opt->t);
        double bc2 = 1.0 - pow((double)b2, (double)opt->t);
        const float step_size = (float)((double)lr / bc1);
        const float bc2_sqrt = (float)sqrt(bc2);
        const float shrink = 1.0f - lr * wd;
        for (size_t i = 0; i < n; i++) {
            float gi = g[i];
            if (decoupled)
                p[i] *= shrink;
            else if (wd != 0.0f)
                gi += wd * p[i];
            m[i] = m[i] * b1 + gi * (1.0f - b1);
            v[i] = v[i] * b2 + (1.0f - b2) * (gi * gi);
            float denom = sqrtf(v[i]) / bc2_sqrt + c->eps;
            p[i] += -step_size * (m[i] / denom);
        }
        break;
    }
    case OPTIM_COUNT:
        break;
    }
}

void optim_step(Optim *opt, float *params, const float *grads)
{
    step_impl(opt, params, grads);
}

OPTIM_VECTORISE OPTIM_CLONES
static double norm_impl(const float *g, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * (double)g[i];
    return sqrt(s);
}

double grad_norm(const float *g, size_t n)
{
    return norm_impl(g, n);
}

double clip_grad_norm(float *g, size_t n, float max_norm)
{
    double norm = grad_norm(g, n);
    if (norm >= (double)max_norm && norm > 0.0) {
        float scale = (float)((double)max_norm / norm);
        for (size_t i = 0; i < n; i++)
            g[i] *= scale;
    }
    return norm;
}

OPTIM_VECTORISE OPTIM_CLONES
static void clip_value_impl(float *g, size_t n, float limit)
{
    for (size_t i = 0; i < n; i++)
        g[i] = g[i] > limit ? limit : g[i] < -limit ? -limit : g[i];
}

void clip_grad_value(float *g, size_t n, float limit)
{
    clip_value_impl(g, n, limit);
}
