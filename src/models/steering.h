// steering.h: "steering through time", a seeded driving world and two
// models that steer in it (lesson 11, `gradlab train steering`).
//
// The world. A road whose curvature changes smoothly along its length (a
// sum of a few slow sinusoids per sequence). A car drives along it, a little
// off the centre line, and each time step a camera renders what lies ahead:
// a small first-person grayscale frame (STEER_H, STEER_W) with sky, grass,
// asphalt, two solid edge lines and a dashed centre line. The target at each
// step is the steering angle: the road's curvature under the car plus a
// small correction back towards the centre, scaled so its spread is about 1.
// Some frames are degraded, each on its own with a fixed chance: a tree's
// shadow darkens part of the road, sensor noise drowns it, or the frame is
// dropped (black). One frame alone then says little, but the road's bend
// changes slowly, so the frames before it still do.
//
// The models, on the tensor engine (engine/tensor/tensor.h) and lstm.h:
//   (a) a single-frame CNN, in the spirit of Nvidia's end-to-end network:
//         frame (N, 1, 32, 64) -> conv 5x5 stride 2, 8 maps, relu -> max-pool 2
//         -> conv 3x3, 16 maps, relu -> max-pool 2 -> (N, 512)
//         -> linear 512 -> 32, relu = the frame's features (N, 32) -> linear -> angle
//   (b) CNN + LSTM: the trained CNN's features for every frame of a sequence
//       (B, T, 32) go into an LSTM (32 hidden units) whose output at each
//       step is read by a linear layer -> the angle sequence (B, T). The CNN
//       stays as it was trained; only the LSTM and its read-out learn.
// Both are trained with Adam on the MSE, on fresh seeded batches each step,
// and tested on one fixed held-out set with degraded frames.
//
//     SteerConfig c = steer_defaults();
//     SteerTrainer *tr = steer_create(&c);
//     while (steer_phase(tr) != STEER_DONE) steer_step(tr);   // CNN, then LSTM
//     printf("%g %g\n", tr->test_cnn.mse, tr->test_lstm.mse);
//     steer_destroy(tr);
#ifndef GRADLAB_MODELS_STEERING_H
#define GRADLAB_MODELS_STEERING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/optim/optim.h"
#include "engine/tensor/tensor.h"
#include "models/lstm.h"
#include "models/rng.h"

#define STEER_W 64                       // frame width, pixels
#define STEER_H 32                       // frame height
#define STEER_PIX (STEER_W * STEER_H)
#define STEER_C1 8                       // first conv's maps
#define STEER_C2 16                      // second conv's maps
#define STEER_M1H (STEER_H / 2)          // first conv's output (16, 32)
#define STEER_M1W (STEER_W / 2)
#define STEER_M2H (STEER_H / 4)          // second conv's output (8, 16)
#define STEER_M2W (STEER_W / 4)
#define STEER_FLAT (STEER_C2 * STEER_H / 8 * STEER_W / 8)   // 512 after the second pool
#define STEER_FEAT 32                    // the CNN's features per frame
#define STEER_MAX_T 64                   // longest sequence
#define STEER_MAX_BATCH 256              // most sequences in a batch or test set

// What happened to a frame.
typedef enum SteerKind { STEER_CLEAN, STEER_SHADOW, STEER_NOISE, STEER_DROPPED, STEER_KIND_COUNT } SteerKind;

// "clean", "shadow", "noise", "dropped", indexed by SteerKind.
extern const char *const steer_kind_names[STEER_KIND_COUNT];

// Fill B sequences of T frames: frames (B, T, STEER_H, STEER_W) in [0, 1],
// angles (B, T) and kinds (B, T) (SteerKind). Each frame is degraded with
// chance p_degrade (split evenly over shadow, noise and dropped), or as
// force (B, T) says when it is not NULL. The buffers belong to the caller.
// Draws from rng only (the same number of draws either way), so a seed
// fixes them.
void steer_world_batch(Pcg *rng, int B, int T, float p_degrade, const unsigned char *force,
                       float *frames, float *angles, unsigned char *kinds);

typedef struct SteerConfig {
    int T;              // frames per sequence, 2..STEER_MAX_T (default 16)
    int batch;          // sequences per training step, 1..STEER_MAX_BATCH (default 8)
    int cnn_steps;      // steps of the CNN, then
    int lstm_steps;     // steps of the LSTM on the CNN's features
    float cnn_lr, lstm_lr;   // Adam's rates
    float p_degrade;    // chance a frame is degraded, 0..1 (default 0.45)
    int test_size;      // held-out sequences, 1..STEER_MAX_BATCH (default 64)
    uint64_t seed;      // weights, batches and the test set all follow from it
} SteerConfig;

// The settings lesson 11 and `gradlab train steering` use.
SteerConfig steer_defaults(void);

// Check c's sizes: true, or false with a sentence in err.
bool steer_check(const SteerConfig *c, char *err, size_t n);

typedef enum SteerPhase { STEER_TRAIN_CNN, STEER_TRAIN_LSTM, STEER_DONE } SteerPhase;

// Test MSE over the held-out set: all frames, and the clean and degraded ones.
typedef struct SteerScore {
    double mse, clean, degraded;
} SteerScore;

// The CNN's parameters, one TensorBlock (order of steer_param_names):
//   c1w (8, 1, 5, 5) c1b (8) c2w (16, 8, 3, 3) c2b (16) fcw (512, 32) fcb (32) hw (32, 1) hb (1)
enum { STEER_C1W, STEER_C1B, STEER_C2W, STEER_C2B, STEER_FCW, STEER_FCB, STEER_HW, STEER_HB, STEER_NPARAMS };
extern const char *const steer_param_names[STEER_NPARAMS];

// What one CNN forward leaves in its graph (nodes of g, valid until reset).
typedef struct SteerCnnOut {
    Tensor *a1;         // (N, 8, 16, 32) first conv after relu
    Tensor *a2;         // (N, 16, 8, 16) second conv after relu
    Tensor *feat;       // (N, 32) the features
    Tensor *angle;      // (N, 1) the prediction
} SteerCnnOut;

typedef struct SteerTrainer {
    SteerConfig c;
    Pcg rng;                // training batches
    TensorBlock *cnn;       // the CNN's parameters
    TensorGraph *g;
    Optim *cnn_opt, *lstm_opt, *head_opt;
    Lstm *lstm;             // 32 -> 32
    float head[STEER_FEAT + 1];    // the LSTM's read-out: w (32), b
    float dhead[STEER_FEAT + 1];
    int steps;              // taken so far, both phases
    double *cnn_loss;       // (cnn_steps) training MSE per step
    double *lstm_loss;      // (lstm_steps)
    // Scratch for one batch: (batch, T, ...).
    float *frames, *angles, *feats, *h, *dout, *pred;
    unsigned char *kinds;
    // The held-out set (test_size, T, ...), fixed by the seed.
    float *test_frames, *test_angles;
    unsigned char *test_kinds;
    SteerScore test_cnn, test_lstm;   // NaN until the phase has finished
} SteerTrainer;

// A trainer for c (checked with steer_check first), with its test set made.
// NULL when out of memory or c is not valid.
SteerTrainer *steer_create(const SteerConfig *c);

// Free everything. NULL is a no-op.
void steer_destroy(SteerTrainer *tr);

// Where the trainer is: training the CNN, the LSTM, or done.
SteerPhase steer_phase(const SteerTrainer *tr);

// Give back the activations tr->g holds (some 20 MB after a CNN step on a
// batch; they grow back on the next step), for a caller that keeps many
// trainers and steps one at a time.
void steer_release(SteerTrainer *tr);

// One training step of the current phase; returns the batch's MSE (NaN when
// done or on failure). When a phase's last step is taken its test score is
// computed.
double steer_step(SteerTrainer *tr);

// The CNN on frames (N, STEER_H, STEER_W) in g (reset first by the caller).
// NULL members when an op failed (out of memory), with the reason in g.
SteerCnnOut steer_cnn_forward(TensorGraph *g, TensorBlock *cnn, const float *frames, int N);

// Predict n sequences of T frames (n, T, H, W) with the CNN alone (cnn_pred)
// and with the CNN + LSTM (lstm_pred), each (n, T); either may be NULL.
// False when out of memory.
bool steer_predict(SteerTrainer *tr, const float *frames, int n, float *cnn_pred, float *lstm_pred);

// Score the predictions pred (n, T) against the angles and kinds.
SteerScore steer_score(const float *pred, const float *angles, const unsigned char *kinds, size_t count);

#endif
