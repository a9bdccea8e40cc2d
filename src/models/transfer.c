// transfer.c: the new task's data, the three ways to learn it, and the
// pretrained CNN's files; see transfer.h.
#include "models/transfer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/npy/npy.h"
#include "models/init.h"

const char *const transfer_method_names[TRANSFER_METHOD_COUNT] = {"scratch", "frozen", "finetune"};
const char *const transfer_layer_names[TRANSFER_LAYERS + 1] = {"conv1", "conv2", "fc", "head"};

#define FEATURE_PARAMS 6   // c1w c1b c2w c2b fcw fcb: what is saved and loaded
#define CHUNK 16           // frames per forward pass when testing: the graph's arena keeps the size of
                           // its largest pass, about 100 KB a frame, for as long as the run lives
#define TRANSFER_HEAD_LR 5 // the new head learns this many times faster than the layers under it

// The shapes of steering.h's CNN, in steer_param_names order.
static const int param_ndim[STEER_NPARAMS] = {4, 1, 4, 1, 2, 1, 2, 1};
static const int param_shape[STEER_NPARAMS][TENSOR_MAX_DIMS] = {
    {STEER_C1, 1, 5, 5}, {STEER_C1}, {STEER_C2, STEER_C1, 3, 3}, {STEER_C2},
    {STEER_FLAT, STEER_FEAT}, {STEER_FEAT}, {STEER_FEAT, 1}, {1},
};

TransferConfig transfer_defaults(void)
{
    return (TransferConfig){
        .examples = 40, .steps = 150, .batch = 16, .frozen = 0, .lr = 2e-3f, .night = true,
        .test_size = 300, .seed = 1,
    };
}

bool transfer_check(const TransferConfig *c, char *err, size_t n)
{
    if (c->examples < 1 || c->examples > TRANSFER_MAX_EXAMPLES)
        return snprintf(err, n, "examples %d: give 1 to %d", c->examples, TRANSFER_MAX_EXAMPLES), false;
    if (c->steps < 0 || c->steps > 100000)
        return snprintf(err, n, "steps %d: give 0 to 100000", c->steps), false;
    if (c->batch < 1 || c->batch > 256)
        return snprintf(err, n, "batch %d: give 1 to 256 frames", c->batch), false;
    if (c->frozen < 0 || c->frozen > TRANSFER_LAYERS)
        return snprintf(err, n, "frozen %d: give 0 to %d layers", c->frozen, TRANSFER_LAYERS), false;
    if (c->test_size < 1 || c->test_size > TRANSFER_MAX_TEST)
        return snprintf(err, n, "test size %d: give 1 to %d frames", c->test_size, TRANSFER_MAX_TEST), false;
    if (!(c->lr > 0 && c->lr <= 1))
        return snprintf(err, n, "lr %g: give a rate above 0, at most 1", (double)c->lr), false;
    return true;
}

static TensorBlock *cnn_block(void)
{
    return tensor_block_create(STEER_NPARAMS, param_ndim, param_shape, true);
}

TensorBlock *transfer_pretrain(uint64_t seed, int steps)
{
    SteerConfig c = steer_defaults();
    c.seed = seed;
    c.cnn_steps = steps;
    c.lstm_steps = 0;
    SteerTrainer *tr = steer_create(&c);
    if (!tr)
        return NULL;
    while (steer_phase(tr) == STEER_TRAIN_CNN)
        steer_step(tr);
    TensorBlock *b = cnn_block();
    if (b)
        memcpy(b->data, tr->cnn->data, b->size * sizeof(float));
    steer_destroy(tr);
    return b;
}

bool transfer_save(const TensorBlock *cnn, const char *dir, char *err, size_t n)
{
    for (int k = 0; k < FEATURE_PARAMS; k++) {
        char path[4096];
        int64_t shape[TENSOR_MAX_DIMS];
        for (int d = 0; d < param_ndim[k]; d++)
            shape[d] = param_shape[k][d];
        snprintf(path, sizeof(path), "%s/%s.npy", dir, steer_param_names[k]);
        if (!npy_save(path, cnn->t[k]->data, param_ndim[k], shape, err, n))
            return false;
    }
    return true;
}

TensorBlock *transfer_load(const char *dir, char *err, size_t n)
{
    TensorBlock *b = cnn_block();
    if (!b) {
        snprintf(err, n, "%s: error: out of memory", dir);
        return NULL;
    }
    for (int k = 0; k < FEATURE_PARAMS; k++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.npy", dir, steer_param_names[k]);
        Npy a;
        if (!npy_load(path, &a, err, n)) {
            tensor_block_destroy(b);
            return NULL;
        }
        bool same = a.ndim == param_ndim[k];
        for (int d = 0; same && d < a.ndim; d++)
            same = a.shape[d] == param_shape[k][d];
        if (!same) {
            char want[64] = "", *w = want;
            for (int d = 0; d < param_ndim[k]; d++)
                w += snprintf(w, (size_t)(want + sizeof(want) - w), "%s%d", d ? ", " : "", param_shape[k][d]);
            snprintf(err, n, "%s: error: the shape must be (%s), the steering CNN's %s", path, want,
                     steer_param_names[k]);
            npy_free(&a);
            tensor_block_destroy(b);
            return NULL;
        }
        for (int64_t i = 0; i < a.count; i++)
            if (!isfinite(a.data[i])) {
                snprintf(err, n, "%s: error: element %lld is not a finite number", path, (long long)i);
                npy_free(&a);
                tensor_block_destroy(b);
                return NULL;
            }
        memcpy(b->t[k]->data, a.data, (size_t)a.count * sizeof(float));
        npy_free(&a);
    }
    return b;
}

// The angles that split the day-time world's frames into thirds: steer left
// below lo, right above hi. Measured on a fixed sample, so every run agrees.
static void thirds(float *lo, float *hi)
{
    enum { SAMPLE = 1500 };
    float *frames = malloc((size_t)SAMPLE * STEER_PIX * sizeof(float)), angles[SAMPLE];
    unsigned char kinds[SAMPLE];
    if (!frames) { // a fallback close to the measured values
        *lo = -0.45f, *hi = 0.45f;
        return;
    }
    Pcg rng;
    pcg_seed(&rng, 0x7e57ab1eULL);
    steer_world_batch(&rng, SAMPLE, 1, 0, NULL, frames, angles, kinds);
    free(frames);
    // A partial selection sort would do; SAMPLE is small, so sort all.
    for (int i = 1; i < SAMPLE; i++)
        for (int j = i; j > 0 && angles[j] < angles[j - 1]; j--) {
            float t = angles[j];
            angles[j] = angles[j - 1];
            angles[j - 1] = t;
        }
    *lo = angles[SAMPLE / 3];
    *hi = angles[2 * SAMPLE / 3];
}

void transfer_data(Pcg *rng, int count, bool night, float *frames, int *labels)
{
    float lo, hi;
    thirds(&lo, &hi);
    float angle;
    unsigned char kind;
    for (int i = 0; i < count; i++) {
        float *f = frames + (size_t)i * STEER_PIX;
        steer_world_batch(rng, 1, 1, 0, NULL, f, &angle, &kind);
        labels[i] = angle < lo ? 0 : angle > hi ? 2 : 1;
        if (!night)
            continue;
        // Night: dark, low contrast, grainy.
        for (int p = 0; p < STEER_PIX; p++) {
            float v = 0.04f + 0.5f * f[p] * f[p] + 0.05f * (float)pcg_normal(rng);
            f[p] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
    }
}

void transfer_destroy(TransferRun *r)
{
    if (!r)
        return;
    tensor_block_destroy(r->cnn);
    tensor_destroy(r->head_w);
    tensor_destroy(r->head_b);
    tensor_graph_destroy(r->g);
    optim_destroy(r->opt);
    optim_destroy(r->head_opt);
    free(r->frames);
    free(r->test_frames);
    free(r->labels);
    free(r->test_labels);
    free(r->batch_frames);
    free(r->batch_labels);
    free(r);
}

void transfer_release(TransferRun *r)
{
    if (r)
        tensor_graph_release(r->g);
}

TransferRun *transfer_create(const TransferConfig *c, TransferMethod method, const TensorBlock *pretrained)
{
    char err[200];
    if (!transfer_check(c, err, sizeof(err)) || (method != TRANSFER_SCRATCH && !pretrained))
        return NULL;
    TransferRun *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->c = *c;
    r->method = method;
    r->frozen = method == TRANSFER_SCRATCH ? 0 : method == TRANSFER_FROZEN ? TRANSFER_LAYERS : c->frozen;
    r->cnn = cnn_block();
    r->head_w = tensor_create(2, (int[]){STEER_FEAT, TRANSFER_CLASSES}, true);
    r->head_b = tensor_create(1, (int[]){TRANSFER_CLASSES}, true);
    r->g = tensor_graph_create(0);
    r->frames = malloc((size_t)c->examples * STEER_PIX * sizeof(float));
    r->labels = malloc((size_t)c->examples * sizeof(int));
    r->test_frames = malloc((size_t)c->test_size * STEER_PIX * sizeof(float));
    r->test_labels = malloc((size_t)c->test_size * sizeof(int));
    r->batch_frames = malloc((size_t)c->batch * STEER_PIX * sizeof(float));
    r->batch_labels = malloc((size_t)c->batch * sizeof(int));
    OptimConfig oc = optim_defaults(OPTIM_ADAM);
    oc.lr = c->lr;
    if (r->cnn)
        r->opt = optim_create(&oc, r->cnn->size);
    oc.lr = c->lr * TRANSFER_HEAD_LR;
    r->head_opt = optim_create(&oc, STEER_FEAT * TRANSFER_CLASSES + TRANSFER_CLASSES);
    if (!r->cnn || !r->head_w || !r->head_b || !r->g || !r->frames || !r->labels || !r->test_frames ||
        !r->test_labels || !r->batch_frames || !r->batch_labels || !r->opt || !r->head_opt) {
        transfer_destroy(r);
        return NULL;
    }
    // The same examples, test set and head for every method of one seed.
    Pcg data, init;
    pcg_seed(&data, c->seed * 0x9e3779b97f4a7c15ULL + 5);
    transfer_data(&data, c->examples, c->night, r->frames, r->labels);
    Pcg test;
    pcg_seed(&test, c->seed * 0x9e3779b97f4a7c15ULL + 77);
    transfer_data(&test, c->test_size, c->night, r->test_frames, r->test_labels);
    pcg_seed(&init, c->seed * 2654435761u + 3);
    init_uniform(r->head_w->data, r->head_w->size, 1.0f / sqrtf((float)STEER_FEAT), &init);
    if (pretrained) {
        memcpy(r->cnn->data, pretrained->data, r->cnn->size * sizeof(float));
    }
    if (method == TRANSFER_SCRATCH) { // He-uniform, as steering.c starts its CNN
        const int fan_in[STEER_NPARAMS] = {25, 0, STEER_C1 * 9, 0, STEER_FLAT, 0, 0, 0};
        memset(r->cnn->data, 0, r->cnn->size * sizeof(float));
        for (int k = 0; k < STEER_NPARAMS; k++)
            if (fan_in[k])
                init_uniform(r->cnn->t[k]->data, r->cnn->t[k]->size, sqrtf(6.0f / (float)fan_in[k]), &init);
    }
    pcg_seed(&r->rng, c->seed * 31 + 7);
    return r;
}

// logits (N, 3) of the frames through the CNN and the head. When every
// layer is frozen the features enter the head as a fresh input, so the
// backward pass stops there.
static Tensor *logits_of(TransferRun *r, const float *frames, int N, bool train)
{
    SteerCnnOut o = steer_cnn_forward(r->g, r->cnn, frames, N);
    Tensor *feat = o.feat;
    if (feat && train && r->frozen == TRANSFER_LAYERS)
        feat = tensor_input2(r->g, N, STEER_FEAT, feat->data);
    return tensor_bias_add(r->g, tensor_matmul(r->g, feat, r->head_w), r->head_b);
}

double transfer_step(TransferRun *r)
{
    const int B = r->c.batch;
    for (int i = 0; i < B; i++) {
        int k = (int)pcg_below(&r->rng, (uint32_t)r->c.examples);
        memcpy(r->batch_frames + (size_t)i * STEER_PIX, r->frames + (size_t)k * STEER_PIX,
               STEER_PIX * sizeof(float));
        r->batch_labels[i] = r->labels[k];
    }
    tensor_graph_reset(r->g);
    Tensor *loss = tensor_cross_entropy(r->g, logits_of(r, r->batch_frames, B, true), r->batch_labels);
    tensor_block_zero_grad(r->cnn);
    tensor_zero_grad(r->head_w);
    tensor_zero_grad(r->head_b);
    if (!loss || !tensor_backward(r->g, loss))
        return NAN;
    // A frozen layer keeps its weights: its gradient is dropped (always, so
    // Adam's moments for it stay zero and it never moves).
    for (int k = 0; k < STEER_NPARAMS; k++)
        if (k / 2 < r->frozen || k >= STEER_HW)
            memset(r->cnn->t[k]->grad, 0, r->cnn->t[k]->size * sizeof(float));
    if (r->frozen < TRANSFER_LAYERS)
        optim_step(r->opt, r->cnn->data, r->cnn->grad);
    float head[STEER_FEAT * TRANSFER_CLASSES + TRANSFER_CLASSES], grad[STEER_FEAT * TRANSFER_CLASSES + TRANSFER_CLASSES];
    const size_t nw = (size_t)STEER_FEAT * TRANSFER_CLASSES;
    memcpy(head, r->head_w->data, nw * sizeof(float));
    memcpy(head + nw, r->head_b->data, TRANSFER_CLASSES * sizeof(float));
    memcpy(grad, r->head_w->grad, nw * sizeof(float));
    memcpy(grad + nw, r->head_b->grad, TRANSFER_CLASSES * sizeof(float));
    optim_step(r->head_opt, head, grad);
    memcpy(r->head_w->data, head, nw * sizeof(float));
    memcpy(r->head_b->data, head + nw, TRANSFER_CLASSES * sizeof(float));
    r->steps++;
    r->last_loss = loss->data[0];
    return r->last_loss;
}

double transfer_accuracy(TransferRun *r)
{
    int right = 0;
    for (int at = 0; at < r->c.test_size; at += CHUNK) {
        int N = r->c.test_size - at < CHUNK ? r->c.test_size - at : CHUNK;
        tensor_graph_reset(r->g);
        Tensor *z = logits_of(r, r->test_frames + (size_t)at * STEER_PIX, N, false);
        if (!z)
            return NAN;
        for (int i = 0; i < N; i++) {
            const float *zi = z->data + (size_t)i * TRANSFER_CLASSES;
            int best = 0;
            for (int k = 1; k < TRANSFER_CLASSES; k++)
                if (zi[k] > zi[best])
                    best = k;
            right += best == r->test_labels[at + i];
        }
    }
    return (double)right / r->c.test_size;
}

void transfer_filters(const TensorBlock *cnn, double *mosaic)
{
    for (int i = 0; i < TRANSFER_MOSAIC_H * TRANSFER_MOSAIC_W; i++)
        mosaic[i] = 0;
    const float *w = cnn->t[STEER_C1W]->data; // (8, 1, 5, 5)
    for (int f = 0; f < STEER_C1; f++) {
        int r0 = (f / 4) * 6, c0 = (f % 4) * 6;
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++)
                mosaic[(r0 + y) * TRANSFER_MOSAIC_W + c0 + x] = w[f * 25 + y * 5 + x];
    }
}
