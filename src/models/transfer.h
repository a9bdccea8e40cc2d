// transfer.h: transfer learning with the steering CNN (lesson 12, `gradlab
// train transfer`). The CNN of steering.h, trained to steer on the day-time
// roads of the driving world, is reused for a new task with few labelled
// examples: from one frame, say whether the car must steer left, keep
// straight or steer right (three classes, a third of the frames each), on
// roads that may look different (at night: dark, low contrast, grainy).
//
// Three ways to learn the new task, each a CNN whose features (32) feed a
// new linear head (32 -> 3), trained with Adam on the cross-entropy:
//   scratch   every weight random, every layer trained;
//   frozen    the pretrained conv1, conv2 and fc kept as they are, only the
//             head trained: the pretrained layers are a fixed feature extractor;
//   finetune  the pretrained weights as the start, the first `frozen`
//             layers (0 to 3 of conv1, conv2, fc) kept, the rest trained.
//
//     TransferConfig c = transfer_defaults();
//     TensorBlock *pre = transfer_load("assets/pretrained/steering-cnn", err, sizeof err);
//     TransferRun *r = transfer_create(&c, TRANSFER_FINETUNE, pre);
//     for (int s = 0; s < c.steps; s++) transfer_step(r);
//     printf("%.3f\n", transfer_accuracy(r));
//     transfer_destroy(r); tensor_block_destroy(pre);
#ifndef GRADLAB_MODELS_TRANSFER_H
#define GRADLAB_MODELS_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/optim/optim.h"
#include "engine/tensor/tensor.h"
#include "models/rng.h"
#include "models/steering.h"

#define TRANSFER_CLASSES 3          // steer left, keep straight, steer right
#define TRANSFER_LAYERS 3           // conv1, conv2, fc: the layers that can be frozen
#define TRANSFER_MAX_EXAMPLES 4096
#define TRANSFER_MAX_TEST 2048
#define TRANSFER_MOSAIC_H 11        // conv1's 8 filters (5 x 5) in 2 rows of 4, 1 apart
#define TRANSFER_MOSAIC_W 23

typedef enum TransferMethod { TRANSFER_SCRATCH, TRANSFER_FROZEN, TRANSFER_FINETUNE, TRANSFER_METHOD_COUNT } TransferMethod;

// "scratch", "frozen", "finetune", indexed by TransferMethod.
extern const char *const transfer_method_names[TRANSFER_METHOD_COUNT];

// "conv1", "conv2", "fc", "head": the layers, input first.
extern const char *const transfer_layer_names[TRANSFER_LAYERS + 1];

typedef struct TransferConfig {
    int examples;       // labelled frames of the new task, 1..TRANSFER_MAX_EXAMPLES (default 40)
    int steps;          // training steps (default 150)
    int batch;          // frames per step, drawn from the examples (default 16)
    int frozen;         // finetune: how many of conv1, conv2, fc stay as pretrained, 0..3 (default 0)
    float lr;           // Adam's rate (default 2e-3)
    bool night;         // the new task's roads are at night
    int test_size;      // held-out frames (default 300)
    uint64_t seed;      // the examples, the test set, the head and scratch's weights
} TransferConfig;

// The settings lesson 12 and `gradlab train transfer` use.
TransferConfig transfer_defaults(void);

// Check c: true, or false with a sentence in err.
bool transfer_check(const TransferConfig *c, char *err, size_t n);

// Train the steering CNN of steering.h alone (no LSTM) for steps steps from
// seed, as `gradlab train transfer --pretrain` does. Returns its parameter
// block (steer_param_names order; the caller owns it) or NULL when out of memory.
TensorBlock *transfer_pretrain(uint64_t seed, int steps);

// Save the CNN's feature layers (c1w c1b c2w c2b fcw fcb) as NAME.npy in
// dir, which must exist. False with "PATH: error: ..." in err.
bool transfer_save(const TensorBlock *cnn, const char *dir, char *err, size_t n);

// Load what transfer_save wrote from dir into a new block (the steering
// head hw, hb zero). Every file is checked for its exact shape. NULL with
// "PATH: error: ..." in err.
TensorBlock *transfer_load(const char *dir, char *err, size_t n);

// Fill frames (count, STEER_H, STEER_W) and labels (count) with frames of
// the new task, drawn from rng (day or night roads, no degraded frames).
void transfer_data(Pcg *rng, int count, bool night, float *frames, int *labels);

typedef struct TransferRun {
    TransferConfig c;
    TransferMethod method;
    int frozen;                 // layers kept: scratch 0, frozen 3, finetune c.frozen
    TensorBlock *cnn;           // conv1, conv2, fc (steer_param_names order; the steering head unused)
    Tensor *head_w, *head_b;    // (32, 3), (3)
    TensorGraph *g;
    Optim *opt, *head_opt;
    Pcg rng;                    // which examples each step takes
    float *frames, *test_frames;    // (examples | test_size, H, W)
    int *labels, *test_labels;
    float *batch_frames;        // (batch, H, W)
    int *batch_labels;
    int steps;
    double last_loss;
} TransferRun;

// A run of method for c, starting from pretrained (NULL for scratch; the
// block is copied, the caller keeps it). NULL when out of memory, when c
// fails transfer_check, or when a pretrained method has no weights.
TransferRun *transfer_create(const TransferConfig *c, TransferMethod method, const TensorBlock *pretrained);

// Free a run. NULL is a no-op.
void transfer_destroy(TransferRun *r);

// Give back the activations r->g holds (they grow back on the next step or
// test), for a caller that keeps many runs and steps one at a time. NULL
// is a no-op.
void transfer_release(TransferRun *r);

// One training step on a batch of the examples; returns its loss (NaN on failure).
double transfer_step(TransferRun *r);

// The fraction of the test frames classified right.
double transfer_accuracy(TransferRun *r);

// conv1's filters as one (TRANSFER_MOSAIC_H, TRANSFER_MOSAIC_W) picture:
// 2 rows of 4 filters of 5 x 5 with zeros between them (white on a
// diverging palette).
void transfer_filters(const TensorBlock *cnn, double *mosaic);

#endif
