// steering.c: the driving world, the single-frame CNN and the CNN + LSTM of
// steering.h, and their trainer.
#include "models/steering.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/init.h"

const char *const steer_kind_names[STEER_KIND_COUNT] = {"clean", "shadow", "noise", "dropped"};
const char *const steer_param_names[STEER_NPARAMS] = {"c1w", "c1b", "c2w", "c2b", "fcw", "fcb", "hw", "hb"};

// ===========================================================================
// The world

#define CAM_HEIGHT 1.2f     // metres above the road
#define FOCAL 30.0f         // pixels, across
#define FOCAL_V 80.0f       // pixels, down: a squashed lens, so the bends far ahead get rows
#define HORIZON 9           // the horizon lies at the top of this row
#define ROAD_HALF 2.2f      // metres from the centre line to the edge
#define LOOK_STEP 1.0f      // metres between samples of the road ahead
#define LOOK_N 128          // samples of the road ahead (to 127 m)
#define KAPPA_SCALE 25.0f   // angle = KAPPA_SCALE * curvature (1/m) - OFFSET_GAIN * offset (m)
#define OFFSET_GAIN 0.3f
#define SPEED 2.0f          // metres per frame

// A sequence's road and drive: the curvature is a sum of three sinusoids
// along the road, the car's offset from the centre a slow wobble in time.
typedef struct Road {
    float amp[3], freq[3], phase[3];   // curvature (1/m), rad/m, rad
    float s0;                          // where the sequence starts (m)
    float off_amp, off_freq, off_phase; // offset (m), rad/frame, rad
} Road;

static float road_kappa(const Road *r, float s)
{
    float k = 0;
    for (int i = 0; i < 3; i++)
        k += r->amp[i] * sinf(r->freq[i] * s + r->phase[i]);
    return k;
}

static float road_offset(const Road *r, int t)
{
    return r->off_amp * sinf(r->off_freq * (float)t + r->off_phase);
}

// A deterministic texture value in [-1, 1] for a patch of grass at (a, b).
static float hash_noise(int a, int b)
{
    uint32_t h = (uint32_t)a * 73856093u ^ (uint32_t)b * 19349663u;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    return (float)(h & 0xffff) / 32767.5f - 1.0f;
}

// The overlap of [lo, hi] with [a, b], as a fraction of hi - lo.
static float coverage(float lo, float hi, float a, float b)
{
    float l = lo > a ? lo : a, h = hi < b ? hi : b;
    return h > l ? (h - l) / (hi - lo) : 0.0f;
}

// Render the view from arc length s with the car off the centre by d (m,
// positive = right of it) into f (STEER_H, STEER_W).
static void render(const Road *r, float s, float d, float *f)
{
    // Lateral position of the centre line u metres ahead, relative to the
    // camera, for small heading angles: x(u) = int int kappa.
    float x[LOOK_N];
    float theta = 0, xc = -d;
    for (int i = 0; i < LOOK_N; i++) {
        x[i] = xc;
        float k = road_kappa(r, s + (float)i * LOOK_STEP);
        theta += k * LOOK_STEP;
        xc += theta * LOOK_STEP;
    }
    for (int row = 0; row < STEER_H; row++) {
        float *line = f + row * STEER_W;
        if (row < HORIZON) {   // sky, lighter towards the horizon
            for (int c = 0; c < STEER_W; c++)
                line[c] = 0.62f + 0.2f * (float)row / HORIZON;
            continue;
        }
        float v = (float)row + 0.5f - HORIZON;
        float z = CAM_HEIGHT * FOCAL_V / v;    // depth of this row on the road
        float pos = z / LOOK_STEP;
        int i0 = (int)pos;
        float centre = i0 >= LOOK_N - 1 ? x[LOOK_N - 1] : x[i0] + (pos - (float)i0) * (x[i0 + 1] - x[i0]);
        float pw = z / FOCAL;                // the width a pixel covers (m)
        bool dash = fmodf(s + z, 6.0f) < 3.0f;
        for (int c = 0; c < STEER_W; c++) {
            float xp = ((float)c + 0.5f - 0.5f * STEER_W) * pw;
            float q = xp - centre, lo = q - 0.5f * pw, hi = q + 0.5f * pw;
            float grass = 0.24f + 0.05f * hash_noise((int)floorf((xp + 0.0f) * 0.7f), (int)floorf((s + z) * 0.7f));
            float road = coverage(lo, hi, -ROAD_HALF, ROAD_HALF);
            float px = grass + road * (0.42f - grass);
            float edge = coverage(lo, hi, -ROAD_HALF, -ROAD_HALF + 0.2f) +
                         coverage(lo, hi, ROAD_HALF - 0.2f, ROAD_HALF);
            px += edge * (0.95f - px);
            if (dash)
                px += coverage(lo, hi, -0.1f, 0.1f) * (0.85f - px);
            line[c] = px;
        }
    }
}

static float clamp01(float v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

// Degrade frame f as kind says, drawing what it needs from rng (always the
// same number of draws, so the stream does not depend on the kind).
static void degrade(float *f, SteerKind kind, Pcg *rng)
{
    // A shadow: one side of a random line across the image, darkened.
    float a = (pcg_uniform(rng) - 0.5f) * 2.0f, cx = pcg_uniform(rng) * STEER_W;
    float dark = 0.15f + 0.15f * pcg_uniform(rng);
    bool left = pcg_uniform(rng) < 0.5f;
    uint64_t noise_seed = pcg_u32(rng);
    switch (kind) {
    case STEER_SHADOW:
        for (int r = 0; r < STEER_H; r++)
            for (int c = 0; c < STEER_W; c++) {
                float side = (float)c - cx - a * (float)(r - STEER_H / 2);
                if ((side < 0) == left)
                    f[r * STEER_W + c] *= dark;
            }
        break;
    case STEER_NOISE: {
        Pcg nr;
        pcg_seed(&nr, noise_seed);
        for (int i = 0; i < STEER_PIX; i++)
            f[i] = clamp01(0.5f + 0.4f * (f[i] - 0.5f) + 0.35f * (float)pcg_normal(&nr));
        break;
    }
    case STEER_DROPPED:
        memset(f, 0, STEER_PIX * sizeof(float));
        break;
    default:
        break;
    }
}

void steer_world_batch(Pcg *rng, int B, int T, float p_degrade, const unsigned char *force,
                       float *frames, float *angles, unsigned char *kinds)
{
    for (int b = 0; b < B; b++) {
        Road r;
        for (int i = 0; i < 3; i++) {
            r.amp[i] = 0.018f * (float)pcg_normal(rng);
            r.freq[i] = 6.2831853f / (50.0f + 150.0f * pcg_uniform(rng));
            r.phase[i] = 6.2831853f * pcg_uniform(rng);
        }
        r.s0 = 1000.0f * pcg_uniform(rng);
        r.off_amp = 0.8f * pcg_uniform(rng);
        r.off_freq = 6.2831853f / (10.0f + 20.0f * pcg_uniform(rng));
        r.off_phase = 6.2831853f * pcg_uniform(rng);
        for (int t = 0; t < T; t++) {
            size_t at = (size_t)b * T + t;
            float s = r.s0 + SPEED * (float)t, d = road_offset(&r, t);
            float u = pcg_uniform(rng), which = pcg_uniform(rng);
            SteerKind k = u >= p_degrade ? STEER_CLEAN
                          : which < 1.0f / 3 ? STEER_SHADOW : which < 2.0f / 3 ? STEER_NOISE : STEER_DROPPED;
            if (force)
                k = (SteerKind)force[at];
            float *f = frames + at * STEER_PIX;
            render(&r, s, d, f);
            degrade(f, k, rng);
            angles[at] = KAPPA_SCALE * road_kappa(&r, s) - OFFSET_GAIN * d;
            kinds[at] = (unsigned char)k;
        }
    }
}

// ===========================================================================
// The models

SteerConfig steer_defaults(void)
{
    return (SteerConfig){
        .T = 16, .batch = 8, .cnn_steps = 200, .lstm_steps = 200,
        .cnn_lr = 2e-3f, .lstm_lr = 1e-2f, .p_degrade = 0.45f, .test_size = 64, .seed = 1,
    };
}

bool steer_check(const SteerConfig *c, char *err, size_t n)
{
    if (c->T < 2 || c->T > STEER_MAX_T)
        return snprintf(err, n, "T %d: give 2 to %d frames per sequence", c->T, STEER_MAX_T), false;
    if (c->batch < 1 || c->batch > STEER_MAX_BATCH)
        return snprintf(err, n, "batch %d: give 1 to %d sequences", c->batch, STEER_MAX_BATCH), false;
    if (c->test_size < 1 || c->test_size > STEER_MAX_BATCH)
        return snprintf(err, n, "test size %d: give 1 to %d sequences", c->test_size, STEER_MAX_BATCH), false;
    if (c->cnn_steps < 1 || c->cnn_steps > 1000000 || c->lstm_steps < 0 || c->lstm_steps > 1000000)
        return snprintf(err, n, "steps %d + %d: give 1 to 1000000 CNN steps and 0 to 1000000 LSTM steps",
                        c->cnn_steps, c->lstm_steps), false;
    if (!(c->p_degrade >= 0 && c->p_degrade <= 1))
        return snprintf(err, n, "degrade %g: give a chance from 0 to 1", (double)c->p_degrade), false;
    if (!(c->cnn_lr > 0 && c->lstm_lr > 0))
        return snprintf(err, n, "the learning rates must be positive"), false;
    return true;
}

SteerCnnOut steer_cnn_forward(TensorGraph *g, TensorBlock *cnn, const float *frames, int N)
{
    SteerCnnOut o = {0};
    Tensor *const *p = cnn->t;
    Tensor *x = tensor_input4(g, N, 1, STEER_H, STEER_W, NULL);   // (N, 1, H, W), centred
    if (!x)
        return o;
    for (size_t i = 0; i < x->size; i++)
        x->data[i] = frames[i] - 0.5f;
    o.a1 = tensor_relu(g, tensor_conv2d(g, x, p[STEER_C1W], p[STEER_C1B], 2, 2));   // (N, 8, 16, 32)
    Tensor *p1 = tensor_maxpool2d(g, o.a1, 2, 2);                                  // (N, 8, 8, 16)
    o.a2 = tensor_relu(g, tensor_conv2d(g, p1, p[STEER_C2W], p[STEER_C2B], 1, 1));  // (N, 16, 8, 16)
    Tensor *p2 = tensor_maxpool2d(g, o.a2, 2, 2);                                  // (N, 16, 4, 8)
    Tensor *flat = tensor_reshape(g, p2, 2, (int[]){N, STEER_FLAT});              // (N, 512)
    o.feat = tensor_relu(g, tensor_bias_add(g, tensor_matmul(g, flat, p[STEER_FCW]), p[STEER_FCB]));  // (N, 32)
    o.angle = tensor_bias_add(g, tensor_matmul(g, o.feat, p[STEER_HW]), p[STEER_HB]);                // (N, 1)
    return o;
}

SteerScore steer_score(const float *pred, const float *angles, const unsigned char *kinds, size_t count)
{
    double all = 0, clean = 0, deg = 0;
    size_t nc = 0;
    for (size_t i = 0; i < count; i++) {
        double e = (double)pred[i] - angles[i];
        all += e * e;
        if (kinds[i] == STEER_CLEAN)
            clean += e * e, nc++;
        else
            deg += e * e;
    }
    return (SteerScore){
        .mse = count ? all / (double)count : NAN,
        .clean = nc ? clean / (double)nc : NAN,
        .degraded = count > nc ? deg / (double)(count - nc) : NAN,
    };
}

void steer_destroy(SteerTrainer *tr)
{
    if (!tr)
        return;
    tensor_block_destroy(tr->cnn);
    tensor_graph_destroy(tr->g);
    optim_destroy(tr->cnn_opt);
    optim_destroy(tr->lstm_opt);
    optim_destroy(tr->head_opt);
    lstm_destroy(tr->lstm);
    free(tr->cnn_loss);
    free(tr->lstm_loss);
    free(tr->frames);
    free(tr->angles);
    free(tr->feats);
    free(tr->h);
    free(tr->dout);
    free(tr->pred);
    free(tr->kinds);
    free(tr->test_frames);
    free(tr->test_angles);
    free(tr->test_kinds);
    free(tr);
}

// The most frames one graph holds: batches and test chunks are cut to it.
#define STEER_CHUNK 64

SteerTrainer *steer_create(const SteerConfig *c)
{
    char err[200];
    if (!steer_check(c, err, sizeof(err)))
        return NULL;
    SteerTrainer *tr = calloc(1, sizeof(*tr));
    if (!tr)
        return NULL;
    tr->c = *c;
    const int T = c->T, B = c->batch, NT = c->test_size;
    const int ndims[STEER_NPARAMS] = {4, 1, 4, 1, 2, 1, 2, 1};
    const int shapes[STEER_NPARAMS][TENSOR_MAX_DIMS] = {
        {STEER_C1, 1, 5, 5}, {STEER_C1}, {STEER_C2, STEER_C1, 3, 3}, {STEER_C2},
        {STEER_FLAT, STEER_FEAT}, {STEER_FEAT}, {STEER_FEAT, 1}, {1},
    };
    size_t n = (size_t)B * T, nt = (size_t)NT * T;
    tr->cnn = tensor_block_create(STEER_NPARAMS, ndims, shapes, true);
    tr->g = tensor_graph_create(0);
    tr->lstm = lstm_create(STEER_FEAT, STEER_FEAT);
    tr->cnn_loss = calloc((size_t)c->cnn_steps, sizeof(double));
    tr->lstm_loss = calloc((size_t)c->lstm_steps + 1, sizeof(double));
    tr->frames = malloc(n * STEER_PIX * sizeof(float));
    tr->angles = malloc(n * sizeof(float));
    tr->feats = malloc(n * STEER_FEAT * sizeof(float));
    tr->h = malloc(n * STEER_FEAT * sizeof(float));
    tr->dout = malloc(n * STEER_FEAT * sizeof(float));
    tr->pred = malloc(n * sizeof(float));
    tr->kinds = malloc(n);
    tr->test_frames = malloc(nt * STEER_PIX * sizeof(float));
    tr->test_angles = malloc(nt * sizeof(float));
    tr->test_kinds = malloc(nt);
    if (!tr->cnn || !tr->g || !tr->lstm || !tr->cnn_loss || !tr->lstm_loss || !tr->frames || !tr->angles ||
        !tr->feats || !tr->h || !tr->dout || !tr->pred || !tr->kinds || !tr->test_frames || !tr->test_angles ||
        !tr->test_kinds)
        goto fail;
    OptimConfig oc = optim_defaults(OPTIM_ADAM);
    oc.lr = c->cnn_lr;
    tr->cnn_opt = optim_create(&oc, tr->cnn->size);
    oc.lr = c->lstm_lr;
    tr->lstm_opt = optim_create(&oc, tr->lstm->nparams);
    tr->head_opt = optim_create(&oc, STEER_FEAT + 1);
    if (!tr->cnn_opt || !tr->lstm_opt || !tr->head_opt)
        goto fail;
    // Weights: He-uniform for the relu layers, PyTorch's default for the
    // LSTM; biases zero. The test set comes from its own stream.
    Pcg init;
    pcg_seed(&init, c->seed * 2654435761u + 17);
    const int fan_in[STEER_NPARAMS] = {25, 0, STEER_C1 * 9, 0, STEER_FLAT, 0, STEER_FEAT, 0};
    for (int k = 0; k < STEER_NPARAMS; k++)
        if (fan_in[k])
            init_uniform(tr->cnn->t[k]->data, tr->cnn->t[k]->size,
                         sqrtf((k == STEER_HW ? 3.0f : 6.0f) / (float)fan_in[k]), &init);
    lstm_init_uniform(tr->lstm, &init);
    init_uniform(tr->head, STEER_FEAT, 1.0f / sqrtf((float)STEER_FEAT), &init);
    tr->head[STEER_FEAT] = 0;
    tr->lstm->skip_dx = true;
    Pcg test;
    pcg_seed(&test, c->seed * 2654435761u + 99991);
    steer_world_batch(&test, NT, T, c->p_degrade, NULL, tr->test_frames, tr->test_angles, tr->test_kinds);
    pcg_seed(&tr->rng, c->seed);
    tr->test_cnn = tr->test_lstm = (SteerScore){NAN, NAN, NAN};
    return tr;
fail:
    steer_destroy(tr);
    return NULL;
}

void steer_release(SteerTrainer *tr)
{
    tensor_graph_release(tr->g);
}

SteerPhase steer_phase(const SteerTrainer *tr)
{
    return tr->steps < tr->c.cnn_steps                       ? STEER_TRAIN_CNN
           : tr->steps < tr->c.cnn_steps + tr->c.lstm_steps ? STEER_TRAIN_LSTM
                                                             : STEER_DONE;
}

// The CNN's features (n, 32) and predictions (n) for n frames, in chunks.
static bool cnn_features(SteerTrainer *tr, const float *frames, size_t n, float *feats, float *pred)
{
    for (size_t at = 0; at < n; at += STEER_CHUNK) {
        int m = (int)(n - at < STEER_CHUNK ? n - at : STEER_CHUNK);
        tensor_graph_reset(tr->g);
        SteerCnnOut o = steer_cnn_forward(tr->g, tr->cnn, frames + at * STEER_PIX, m);
        if (!o.angle)
            return false;
        if (feats)
            memcpy(feats + at * STEER_FEAT, o.feat->data, (size_t)m * STEER_FEAT * sizeof(float));
        if (pred)
            memcpy(pred + at, o.angle->data, (size_t)m * sizeof(float));
    }
    return true;
}

// The LSTM and its read-out on features (B, T, 32): h (B, T, 32) and pred (B, T).
static bool lstm_head_forward(SteerTrainer *tr, const float *feats, int B, float *h, float *pred)
{
    const int T = tr->c.T, H = STEER_FEAT;
    if (!lstm_forward(tr->lstm, feats, NULL, NULL, B, T))
        return false;
    lstm_output(tr->lstm, h);
    for (size_t i = 0; i < (size_t)B * T; i++) {
        float y = tr->head[H];
        for (int j = 0; j < H; j++)
            y += tr->head[j] * h[i * H + j];
        pred[i] = y;
    }
    return true;
}

bool steer_predict(SteerTrainer *tr, const float *frames, int n, float *cnn_pred, float *lstm_pred)
{
    const int T = tr->c.T;
    for (int at = 0; at < n; at += tr->c.batch) {
        int m = n - at < tr->c.batch ? n - at : tr->c.batch;
        size_t count = (size_t)m * T;
        if (!cnn_features(tr, frames + (size_t)at * T * STEER_PIX, count, tr->feats,
                          cnn_pred ? cnn_pred + (size_t)at * T : NULL))
            return false;
        if (lstm_pred && !lstm_head_forward(tr, tr->feats, m, tr->h, lstm_pred + (size_t)at * T))
            return false;
    }
    return true;
}

// The score of one model on the held-out set.
static SteerScore test_score(SteerTrainer *tr, bool lstm)
{
    size_t nt = (size_t)tr->c.test_size * tr->c.T;
    float *pred = malloc(nt * sizeof(float));
    SteerScore s = {NAN, NAN, NAN};
    if (pred && steer_predict(tr, tr->test_frames, tr->c.test_size, lstm ? NULL : pred, lstm ? pred : NULL))
        s = steer_score(pred, tr->test_angles, tr->test_kinds, nt);
    free(pred);
    return s;
}

// One CNN step on a fresh batch: the batch MSE.
static double cnn_step(SteerTrainer *tr)
{
    const int N = tr->c.batch * tr->c.T;
    steer_world_batch(&tr->rng, tr->c.batch, tr->c.T, tr->c.p_degrade, NULL, tr->frames, tr->angles, tr->kinds);
    tensor_graph_reset(tr->g);
    SteerCnnOut o = steer_cnn_forward(tr->g, tr->cnn, tr->frames, N);
    Tensor *y = tensor_input2(tr->g, N, 1, tr->angles);
    Tensor *loss = tensor_mse(tr->g, o.angle, y);
    tensor_block_zero_grad(tr->cnn);
    if (!loss || !tensor_backward(tr->g, loss))
        return NAN;
    clip_grad_norm(tr->cnn->grad, tr->cnn->size, 5.0f);
    optim_step(tr->cnn_opt, tr->cnn->data, tr->cnn->grad);
    return loss->data[0];
}

// One LSTM step on a fresh batch through the fixed CNN: the batch MSE.
static double lstm_step_train(SteerTrainer *tr)
{
    const int B = tr->c.batch, T = tr->c.T, H = STEER_FEAT;
    const size_t N = (size_t)B * T;
    steer_world_batch(&tr->rng, B, T, tr->c.p_degrade, NULL, tr->frames, tr->angles, tr->kinds);
    if (!cnn_features(tr, tr->frames, N, tr->feats, NULL) || !lstm_head_forward(tr, tr->feats, B, tr->h, tr->pred))
        return NAN;
    double loss = 0;
    memset(tr->dhead, 0, sizeof(tr->dhead));
    for (size_t i = 0; i < N; i++) {
        float e = tr->pred[i] - tr->angles[i];
        loss += (double)e * e;
        float dy = 2.0f * e / (float)N;   // dL/dpred
        for (int j = 0; j < H; j++) {
            tr->dhead[j] += dy * tr->h[i * H + j];
            tr->dout[i * H + j] = dy * tr->head[j];
        }
        tr->dhead[H] += dy;
    }
    lstm_zero_grad(tr->lstm);
    lstm_backward(tr->lstm, tr->dout, NULL, NULL);
    // Clip the LSTM's and the read-out's gradient together.
    double norm = sqrt(pow(grad_norm(tr->lstm->grads, tr->lstm->nparams), 2) + pow(grad_norm(tr->dhead, H + 1), 2));
    if (norm > 1.0) {
        float s = (float)(1.0 / norm);
        for (size_t i = 0; i < tr->lstm->nparams; i++)
            tr->lstm->grads[i] *= s;
        for (int j = 0; j <= H; j++)
            tr->dhead[j] *= s;
    }
    optim_step(tr->lstm_opt, tr->lstm->params, tr->lstm->grads);
    optim_step(tr->head_opt, tr->head, tr->dhead);
    return loss / (double)N;
}

double steer_step(SteerTrainer *tr)
{
    SteerPhase ph = steer_phase(tr);
    if (ph == STEER_DONE)
        return NAN;
    double mse;
    if (ph == STEER_TRAIN_CNN) {
        mse = cnn_step(tr);
        tr->cnn_loss[tr->steps] = mse;
    } else {
        mse = lstm_step_train(tr);
        tr->lstm_loss[tr->steps - tr->c.cnn_steps] = mse;
    }
    tr->steps++;
    if (ph == STEER_TRAIN_CNN && steer_phase(tr) != STEER_TRAIN_CNN)
        tr->test_cnn = test_score(tr, false);
    if (ph == STEER_TRAIN_LSTM && steer_phase(tr) == STEER_DONE)
        tr->test_lstm = test_score(tr, true);
    return mse;
}
