// playground.c: seeded 2-D data sets and the playground's MLP on the tensor
// engine; see playground.h.
#include "models/playground.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/fastmath.h"
#include "models/rng.h"

const char *const pg_dataset_names[PG_DATASET_COUNT] = {"moons", "circles", "xor", "spiral"};
const char *const pg_activation_names[PG_ACT_COUNT] = {"tanh", "relu", "sigmoid", "linear"};

// ---------------------------------------------------------------------------
// Data sets

void pg_dataset(PgDataset d, int n, double noise, uint64_t seed, float *xy, int *label)
{
    const double pi = 3.14159265358979323846;
    Pcg r;
    pcg_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int c = i % 2;
        double x = 0, y = 0;
        switch (d) {
        case PG_MOONS: { // two interleaved half circles, centred
            double t = pi * pcg_uniform(&r);
            if (c == 0)
                x = cos(t), y = sin(t);
            else
                x = 1 - cos(t), y = 0.5 - sin(t);
            x = (x - 0.5) * 0.8, y = (y - 0.25) * 1.1;
            break;
        }
        case PG_CIRCLES: { // a disc inside a ring
            double a = 2 * pi * pcg_uniform(&r);
            double rad = c == 0 ? 0.5 * sqrt(pcg_uniform(&r)) : 0.8 + 0.3 * pcg_uniform(&r);
            x = rad * cos(a), y = rad * sin(a);
            break;
        }
        case PG_XOR: { // four squares, kept 0.1 off the axes; class 1 where x y > 0
            double u = 0.1 + 1.0 * pcg_uniform(&r), v = 0.1 + 1.0 * pcg_uniform(&r);
            int q = (int)pcg_below(&r, 2);
            x = q ? u : -u;
            y = (c == 1) == (q == 1) ? v : -v;
            break;
        }
        case PG_SPIRAL: { // two arms, each turning 1.25 times
            double s = (double)(i / 2) / (double)((n + 1) / 2);
            double rad = 0.1 + 1.1 * s, t = 1.25 * 2 * pi * s + c * pi;
            x = rad * sin(t), y = rad * cos(t);
            break;
        }
        case PG_DATASET_COUNT: break;
        }
        xy[2 * i] = (float)(x + noise * pcg_normal(&r));
        xy[2 * i + 1] = (float)(y + noise * pcg_normal(&r));
        label[i] = c;
    }
}

// ---------------------------------------------------------------------------
// The network

size_t playground_param_count(const Playground *pg)
{
    return pg->params->size;
}

Playground *playground_create(const PgConfig *cfg, const float *xy, const int *label, int n)
{
    if (cfg->layers < 0 || cfg->layers > PG_MAX_LAYERS || cfg->units < 1 || cfg->units > PG_MAX_UNITS ||
        cfg->act < 0 || cfg->act >= PG_ACT_COUNT || n < 1 || n > PG_MAX_POINTS)
        return NULL;
    Playground *pg = calloc(1, sizeof(*pg));
    if (!pg)
        return NULL;
    pg->cfg = *cfg;
    pg->n = n;
    pg->xy = malloc((size_t)n * 2 * sizeof(float));
    pg->label = malloc((size_t)n * sizeof(int));
    int L = cfg->layers, U = cfg->units, nt = 2 * L + 2;
    int ndims[2 * PG_MAX_LAYERS + 2], shapes[2 * PG_MAX_LAYERS + 2][TENSOR_MAX_DIMS];
    for (int l = 0; l < L; l++) {
        ndims[2 * l] = 2, shapes[2 * l][0] = l == 0 ? 2 : U, shapes[2 * l][1] = U;
        ndims[2 * l + 1] = 1, shapes[2 * l + 1][0] = U;
    }
    ndims[2 * L] = 2, shapes[2 * L][0] = L ? U : 2, shapes[2 * L][1] = 1;
    ndims[2 * L + 1] = 1, shapes[2 * L + 1][0] = 1;
    pg->params = tensor_block_create(nt, ndims, (const int(*)[TENSOR_MAX_DIMS])shapes, true);
    pg->opt = pg->params ? optim_create(&cfg->opt, pg->params->size) : NULL;
    pg->g = tensor_graph_create(0);
    pg->eval = tensor_graph_create(0);
    if (!pg->xy || !pg->label || !pg->params || !pg->opt || !pg->g || !pg->eval) {
        playground_destroy(pg);
        return NULL;
    }
    memcpy(pg->xy, xy, (size_t)n * 2 * sizeof(float));
    memcpy(pg->label, label, (size_t)n * sizeof(int));
    Pcg r;
    pcg_seed(&r, cfg->seed);
    for (int k = 0; k < nt; k += 2) { // weights; biases stay 0
        Tensor *w = pg->params->t[k];
        double fan_in = w->shape[0];
        bool relu = cfg->act == PG_RELU && k < 2 * L;
        double std = sqrt((relu ? 2.0 : 1.0) / fan_in);
        for (size_t i = 0; i < w->size; i++)
            w->data[i] = (float)(std * pcg_normal(&r));
    }
    return pg;
}

void playground_destroy(Playground *pg)
{
    if (!pg)
        return;
    free(pg->xy);
    free(pg->label);
    tensor_block_destroy(pg->params);
    optim_destroy(pg->opt);
    tensor_graph_destroy(pg->g);
    tensor_graph_destroy(pg->eval);
    free(pg);
}

static Tensor *activate(TensorGraph *g, PgActivation act, Tensor *x)
{
    switch (act) {
    case PG_TANH: return tensor_tanh(g, x);
    case PG_RELU: return tensor_relu(g, x);
    case PG_SIGMOID: return tensor_sigmoid(g, x);
    default: return x;
    }
}

// The forward pass of m points into g: the logits (m, 2) = (0, z), and each
// hidden layer's output in hid[l] (m, U) when hid is not NULL. NULL when an
// op failed (the reason is in g).
static Tensor *forward(Playground *pg, TensorGraph *g, const float *xy, int m, Tensor **hid)
{
    int L = pg->cfg.layers;
    Tensor **t = pg->params->t;
    Tensor *h = tensor_input2(g, m, 2, xy); // (m, 2)
    for (int l = 0; l < L; l++) {
        h = activate(g, pg->cfg.act,
                     tensor_bias_add(g, tensor_matmul(g, h, t[2 * l]), t[2 * l + 1])); // (m, U)
        if (hid)
            hid[l] = h;
    }
    Tensor *z = tensor_bias_add(g, tensor_matmul(g, h, t[2 * L]), t[2 * L + 1]); // (m, 1)
    Tensor *both[2] = {tensor_input2(g, m, 1, NULL), z};
    return tensor_concat(g, 2, both, 1); // (m, 2): softmax of (0, z) is (1 - p, p)
}

float playground_loss_grad(Playground *pg)
{
    tensor_graph_reset(pg->g);
    Tensor *loss = tensor_cross_entropy(pg->g, forward(pg, pg->g, pg->xy, pg->n, NULL), pg->label); // ()
    tensor_block_zero_grad(pg->params);
    if (!loss || !tensor_backward(pg->g, loss))
        return NAN;
    return loss->data[0];
}

float playground_step(Playground *pg)
{
    float loss = playground_loss_grad(pg);
    if (!isfinite(loss)) // no step from a broken loss
        return loss;
    optim_step(pg->opt, pg->params->data, pg->params->grad);
    pg->steps++;
    return loss;
}

// One layer over m points in plain C: out (m, nout) = act(in (m, nin) @ W (nin, nout) + b (nout)).
// The inner loops run over the units, so the compiler vectorises them.
FASTMATH_CLONES
static void fast_layer(const float *in, int m, int nin, const float *W, const float *b, int nout,
                       PgActivation act, float *out)
{
    for (int i = 0; i < m; i++) {
        float *o = out + (size_t)i * nout;
        for (int j = 0; j < nout; j++)
            o[j] = b[j];
        for (int k = 0; k < nin; k++) {
            float a = in[(size_t)i * nin + k];
            const float *w = W + (size_t)k * nout;
            for (int j = 0; j < nout; j++)
                o[j] += a * w[j];
        }
        switch (act) {
        case PG_TANH:
            for (int j = 0; j < nout; j++)
                o[j] = fast_tanhf(o[j]);
            break;
        case PG_RELU:
            for (int j = 0; j < nout; j++)
                o[j] = o[j] > 0 ? o[j] : 0;
            break;
        case PG_SIGMOID:
            for (int j = 0; j < nout; j++)
                o[j] = fast_sigmoidf(o[j]);
            break;
        default: break;
        }
    }
}

#define PG_BLOCK 256 // points per block of the plain-C forward pass

bool playground_forward(Playground *pg, const float *xy, int m, float *p, float *hidden)
{
    int L = pg->cfg.layers, U = pg->cfg.units;
    Tensor **t = pg->params->t;
    float a[PG_BLOCK * PG_MAX_UNITS], b[PG_BLOCK * PG_MAX_UNITS];
    for (int i0 = 0; i0 < m; i0 += PG_BLOCK) {
        int n = m - i0 < PG_BLOCK ? m - i0 : PG_BLOCK, nin = 2;
        const float *in = xy + (size_t)i0 * 2;
        float *cur = a, *other = b;
        for (int l = 0; l < L; l++) {
            fast_layer(in, n, nin, t[2 * l]->data, t[2 * l + 1]->data, U, pg->cfg.act, cur);
            if (hidden)
                for (int i = 0; i < n; i++)
                    memcpy(hidden + ((size_t)(i0 + i) * L + l) * U, cur + (size_t)i * U,
                           (size_t)U * sizeof(float));
            in = cur, nin = U;
            float *tmp = cur;
            cur = other, other = tmp;
        }
        fast_layer(in, n, nin, t[2 * L]->data, t[2 * L + 1]->data, 1, PG_LINEAR, cur); // z (n, 1)
        for (int i = 0; i < n; i++)
            p[i0 + i] = fast_sigmoidf(cur[i]);
    }
    return true;
}

double playground_accuracy(Playground *pg)
{
    float *p = malloc((size_t)pg->n * sizeof(float));
    if (!p || !playground_forward(pg, pg->xy, pg->n, p, NULL)) {
        free(p);
        return NAN;
    }
    int right = 0;
    for (int i = 0; i < pg->n; i++)
        right += (p[i] > 0.5f) == (pg->label[i] == 1);
    free(p);
    return (double)right / pg->n;
}

float playground_point_grad(Playground *pg, int i, float *grad)
{
    if (i < 0 || i >= pg->n)
        return NAN;
    TensorGraph *g = pg->eval;
    tensor_graph_reset(g);
    Tensor *loss = tensor_cross_entropy(g, forward(pg, g, pg->xy + 2 * i, 1, NULL), pg->label + i);
    tensor_block_zero_grad(pg->params);
    if (!loss || !tensor_backward(g, loss))
        return NAN;
    memcpy(grad, pg->params->grad, pg->params->size * sizeof(float));
    tensor_block_zero_grad(pg->params);
    return loss->data[0];
}
