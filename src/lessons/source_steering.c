// source_steering.c: the `steering` source kind, lesson 11's two steering
// models trained on the worker thread. A thin adapter over
// models/steering.h: the single-frame CNN for `cnn` steps, then an LSTM on
// that CNN's features for `lstm` steps, tested on held-out sequences with
// degraded frames (the same run as `gradlab train steering --model
// cnn-lstm` with the same steps and seed).
//
//     source: drive steering cnn 200 lstm 200 seed 1
//
// Options (numbers or {param}):
//   cnn      CNN training steps, 1 to 100000 (default 200)
//   lstm     LSTM training steps after them, 0 to 100000 (default 200)
//   degrade  the chance that a frame is degraded, 0 to 1 (default 0.45)
//   seed     weights, batches, test set and probe follow from it (default 1)
//
// Besides the test set, one probe sequence of 16 frames is kept for the
// view: a road with a clear bend that turns no faster than a car can follow
// (the angle moves at most 0.1 a frame), degraded at fixed frames (a drop at 3, a
// shadow at 6, noise at 8 and 9, two drops at 12 and 13, a shadow at 15).
//
// Publishes (T = 16 frames of the probe; H, W = 32, 64):
//   frames      (T*H, W) the probe's frames, stacked, pixels 0..1
//   kind        (T) what happened to each: 0 clean, 1 shadow, 2 noise, 3 dropped
//   true        (T) the true steering angle at each frame
//   cnn         (T) the CNN's angle at each frame, as trained so far
//   lstm        (T) the CNN+LSTM's, once its phase has started
//   cnn_err, lstm_err   (T) |predicted - true|
//   maps1       (T*33, 131) for each frame the first conv's 8 maps (16, 32)
//               after relu, tiled 2 x 4 with a NaN gap between maps
//   maps2       (T*35, 67) the second conv's 16 maps (8, 16), tiled 4 x 4
//   cnn_loss, lstm_loss   the training MSE per step of each phase
//   phase       0 training the CNN, 1 the LSTM, 2 done
//   cnn_mse, cnn_clean, cnn_degraded      test MSE of the CNN (NaN until its
//   lstm_mse, lstm_clean, lstm_degraded   phase is done): all frames, clean, degraded
//   ratio       lstm_mse / cnn_mse (lesson 11 checks it below 0.7)
//   baseline    the test MSE of always answering 0 (the angle's spread)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/source_kinds.h"
#include "models/steering.h"

#define PROBE_T 16
#define PROBE_CANDIDATES 16
#define M1_ROWS (2 * STEER_M1H + 1)        // a frame's tile of first-conv maps: 2 x 4 maps
#define M1_COLS (4 * STEER_M1W + 3)
#define M2_ROWS (4 * STEER_M2H + 3)        // second-conv maps: 4 x 4
#define M2_COLS (4 * STEER_M2W + 3)

static const unsigned char probe_kinds[PROBE_T] = {
    STEER_CLEAN, STEER_CLEAN, STEER_CLEAN, STEER_DROPPED, STEER_CLEAN, STEER_CLEAN, STEER_SHADOW, STEER_CLEAN,
    STEER_NOISE, STEER_NOISE, STEER_CLEAN, STEER_CLEAN, STEER_DROPPED, STEER_DROPPED, STEER_CLEAN, STEER_SHADOW,
};

typedef struct SteerSource {
    SteerTrainer *tr;
    float frames[PROBE_T * STEER_PIX];   // (T, H, W) the probe
    float angles[PROBE_T];
    unsigned char kinds[PROBE_T];
    float cnn[PROBE_T], lstm[PROBE_T];    // predictions after the last advance
    float *maps1, *maps2;                 // (T*M1_ROWS, M1_COLS), (T*M2_ROWS, M2_COLS)
    double baseline;
} SteerSource;

static const char *const steering_options[] = {"cnn", "lstm", "degrade", "seed", NULL};

static void steering_destroy(void *inst)
{
    SteerSource *s = inst;
    if (!s)
        return;
    steer_destroy(s->tr);
    free(s->maps1);
    free(s->maps2);
    free(s);
}

// Copy maps (n maps of (h, w)) into a tile of rows x cols maps with a NaN
// gap between them, at out (tile_rows, tile_cols).
static void tile_maps(const float *maps, int n, int h, int w, int cols, float *out, int tile_cols)
{
    int rows = (n + cols - 1) / cols;
    int tile_rows = rows * h + rows - 1;
    for (int i = 0; i < tile_rows * tile_cols; i++)
        out[i] = NAN;
    for (int m = 0; m < n; m++) {
        int r0 = (m / cols) * (h + 1), c0 = (m % cols) * (w + 1);
        for (int y = 0; y < h; y++)
            memcpy(out + (size_t)(r0 + y) * tile_cols + c0, maps + ((size_t)m * h + y) * w, (size_t)w * sizeof(float));
    }
}

// The probe's predictions and feature maps with the models as they are now.
static void probe(SteerSource *s)
{
    SteerTrainer *tr = s->tr;
    tensor_graph_reset(tr->g);
    SteerCnnOut o = steer_cnn_forward(tr->g, tr->cnn, s->frames, PROBE_T);
    if (!o.angle)
        return;
    for (int t = 0; t < PROBE_T; t++) {
        s->cnn[t] = o.angle->data[t];
        tile_maps(o.a1->data + (size_t)t * STEER_C1 * STEER_M1H * STEER_M1W, STEER_C1, STEER_M1H, STEER_M1W, 4,
                  s->maps1 + (size_t)t * M1_ROWS * M1_COLS, M1_COLS);
        tile_maps(o.a2->data + (size_t)t * STEER_C2 * STEER_M2H * STEER_M2W, STEER_C2, STEER_M2H, STEER_M2W, 4,
                  s->maps2 + (size_t)t * M2_ROWS * M2_COLS, M2_COLS);
    }
    if (steer_phase(tr) != STEER_TRAIN_CNN)
        steer_predict(tr, s->frames, 1, NULL, s->lstm);
}

static void *steering_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    double cnn, lstm, degrade, seed;
    if (!source_option_number(p, decl, "cnn", 200, 1, 100000, &cnn, err, n) ||
        !source_option_number(p, decl, "lstm", 200, 0, 100000, &lstm, err, n) ||
        !source_option_number(p, decl, "degrade", 0.45, 0, 1, &degrade, err, n) ||
        !source_option_number(p, decl, "seed", 1, 0, 2147483647.0, &seed, err, n))
        return NULL;
    if (cnn != floor(cnn) || lstm != floor(lstm) || seed != floor(seed)) {
        snprintf(err, n, "'cnn', 'lstm' and 'seed' are whole numbers");
        return NULL;
    }
    SteerSource *s = calloc(1, sizeof(*s));
    // A candidate probe's frames: 128 KB, on the heap (this runs on the
    // worker thread, whose stack is 128 KB with musl).
    float *frames = malloc((size_t)PROBE_T * STEER_PIX * sizeof(float));
    SteerConfig c = steer_defaults();
    c.cnn_steps = (int)cnn;
    c.lstm_steps = (int)lstm;
    c.p_degrade = (float)degrade;
    c.seed = (uint64_t)seed;
    c.T = PROBE_T;
    if (!s || !frames || !(s->tr = steer_create(&c)) ||
        !(s->maps1 = malloc((size_t)PROBE_T * M1_ROWS * M1_COLS * sizeof(float))) ||
        !(s->maps2 = malloc((size_t)PROBE_T * M2_ROWS * M2_COLS * sizeof(float)))) {
        snprintf(err, n, "out of memory");
        free(frames);
        steering_destroy(s);
        return NULL;
    }
    // The probe: of a few seeded roads, the one whose angle moves the most
    // without jumping by more than 0.1 from one frame to the next.
    Pcg rng;
    pcg_seed(&rng, c.seed * 2654435761u + 4242);
    float angles[PROBE_T];
    unsigned char kinds[PROBE_T];
    double best = -1;
    for (int k = 0; k < PROBE_CANDIDATES; k++) {
        steer_world_batch(&rng, 1, PROBE_T, 0, probe_kinds, frames, angles, kinds);
        float lo = angles[0], hi = angles[0], jump = 0;
        for (int t = 1; t < PROBE_T; t++)
            lo = fminf(lo, angles[t]), hi = fmaxf(hi, angles[t]), jump = fmaxf(jump, fabsf(angles[t] - angles[t - 1]));
        if (hi - lo > best && (jump <= 0.1f || best < 0)) {
            best = hi - lo;
            memcpy(s->frames, frames, sizeof(s->frames));
            memcpy(s->angles, angles, sizeof(angles));
            memcpy(s->kinds, kinds, sizeof(kinds));
        }
    }
    size_t nt = (size_t)c.test_size * c.T;
    for (size_t i = 0; i < nt; i++)
        s->baseline += (double)s->tr->test_angles[i] * s->tr->test_angles[i];
    s->baseline /= (double)nt;
    free(frames);
    probe(s);
    steer_release(s->tr);
    return s;
}

static int steering_advance(void *inst, int max)
{
    SteerSource *s = inst;
    int taken = 0;
    while (taken < max && steer_phase(s->tr) != STEER_DONE) {
        steer_step(s->tr);
        taken++;
    }
    if (taken)
        probe(s);
    // The graph's activations go back between chunks: a lesson's eight
    // trainers step one at a time, so they need one set, not eight (eight
    // trained through both phases held 253 MB, now 118 MB).
    steer_release(s->tr);
    return taken;
}

static int steering_steps(const void *inst)
{
    return ((const SteerSource *)inst)->tr->steps;
}

static const char *steering_finished(const void *inst)
{
    return steer_phase(((const SteerSource *)inst)->tr) == STEER_DONE ? "both models trained and tested" : NULL;
}

// Add an array of n floats, or of (rows, cols) when rows > 0.
static void publish_floats(RunArrays *out, const char *prefix, const char *name, const float *v, int rows,
                           int cols)
{
    int shape[2] = {rows > 0 ? rows : cols, cols};
    double *x = run_arrays_add(out, prefix, name, rows > 0 ? 2 : 1, shape);
    for (size_t i = 0; x && i < (size_t)(rows > 0 ? rows : 1) * cols; i++)
        x[i] = v[i];
}

static void publish_doubles(RunArrays *out, const char *prefix, const char *name, const double *v, int n)
{
    double *x = run_arrays_add(out, prefix, name, 1, &n);
    for (int i = 0; x && i < n; i++)
        x[i] = v[i];
}

static void steering_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const SteerSource *s = inst;
    const SteerTrainer *tr = s->tr;
    SteerPhase ph = steer_phase(tr);
    float kind[PROBE_T], err[PROBE_T];
    for (int t = 0; t < PROBE_T; t++)
        kind[t] = s->kinds[t];
    publish_floats(out, prefix, "frames", s->frames, PROBE_T * STEER_H, STEER_W);
    publish_floats(out, prefix, "kind", kind, 0, PROBE_T);
    publish_floats(out, prefix, "true", s->angles, 0, PROBE_T);
    publish_floats(out, prefix, "cnn", s->cnn, 0, PROBE_T);
    for (int t = 0; t < PROBE_T; t++)
        err[t] = fabsf(s->cnn[t] - s->angles[t]);
    publish_floats(out, prefix, "cnn_err", err, 0, PROBE_T);
    if (ph != STEER_TRAIN_CNN && tr->steps > tr->c.cnn_steps) {
        publish_floats(out, prefix, "lstm", s->lstm, 0, PROBE_T);
        for (int t = 0; t < PROBE_T; t++)
            err[t] = fabsf(s->lstm[t] - s->angles[t]);
        publish_floats(out, prefix, "lstm_err", err, 0, PROBE_T);
    }
    publish_floats(out, prefix, "maps1", s->maps1, PROBE_T * M1_ROWS, M1_COLS);
    publish_floats(out, prefix, "maps2", s->maps2, PROBE_T * M2_ROWS, M2_COLS);
    int nc = tr->steps < tr->c.cnn_steps ? tr->steps : tr->c.cnn_steps;
    publish_doubles(out, prefix, "cnn_loss", tr->cnn_loss, nc);
    if (tr->steps > tr->c.cnn_steps)
        publish_doubles(out, prefix, "lstm_loss", tr->lstm_loss, tr->steps - tr->c.cnn_steps);
    run_arrays_number(out, prefix, "phase", ph);
    run_arrays_number(out, prefix, "cnn_mse", tr->test_cnn.mse);
    run_arrays_number(out, prefix, "cnn_clean", tr->test_cnn.clean);
    run_arrays_number(out, prefix, "cnn_degraded", tr->test_cnn.degraded);
    run_arrays_number(out, prefix, "lstm_mse", tr->test_lstm.mse);
    run_arrays_number(out, prefix, "lstm_clean", tr->test_lstm.clean);
    run_arrays_number(out, prefix, "lstm_degraded", tr->test_lstm.degraded);
    run_arrays_number(out, prefix, "ratio", tr->test_lstm.mse / tr->test_cnn.mse);
    run_arrays_number(out, prefix, "baseline", s->baseline);
}

// About what s holds between chunks: the test set, the training buffers,
// the loss histories and the maps (the graph's activations are given back).
static size_t steering_bytes(const void *inst)
{
    const SteerTrainer *tr = ((const SteerSource *)inst)->tr;
    size_t frames = ((size_t)tr->c.test_size + (size_t)tr->c.batch) * (size_t)tr->c.T;
    return frames * STEER_PIX * sizeof(float) + ((size_t)tr->c.cnn_steps + (size_t)tr->c.lstm_steps) * sizeof(double) +
           (size_t)PROBE_T * (M1_ROWS * M1_COLS + M2_ROWS * M2_COLS) * sizeof(float) + ((size_t)1 << 20);
}

const SourceKind source_steering_kind = {
    .name = "steering",
    .summary = "a single-frame CNN, then an LSTM on its features, steering on a seeded road with degraded frames",
    .options = steering_options,
    .default_limit = 0,
    .create = steering_create,
    .destroy = steering_destroy,
    .advance = steering_advance,
    .steps = steering_steps,
    .finished = steering_finished,
    .publish = steering_publish,
    .bytes = steering_bytes,
};
