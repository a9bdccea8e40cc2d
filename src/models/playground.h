// playground.h: the training playground's model. Seeded 2-D data sets of two
// classes (moons, circles, XOR, a spiral) and a small MLP that learns them on
// the tensor engine, full batch, with one of the engine's optimizers:
//
//     x (N, 2) -> [ act(h @ W_l + b_l) ]  for l = 1..L  (units U each)
//              -> z = h @ w_out + b_out   (N, 1), p = sigmoid(z)
//     loss = mean over points of -(y log p + (1 - y) log(1 - p))
//
// computed as the cross-entropy of the two logits (0, z), which is the same
// number without log(0). L = 0 is logistic regression (a linear model).
//
//     float xy[2 * 200]; int label[200];
//     pg_dataset(PG_SPIRAL, 200, 0.1, 1, xy, label);
//     PgConfig cfg = {.layers = 2, .units = 16, .act = PG_TANH, .seed = 1,
//                     .opt = optim_defaults(OPTIM_ADAM)};
//     Playground *pg = playground_create(&cfg, xy, label, 200);
//     for (int i = 0; i < 500; i++) playground_step(pg);
//     double acc = playground_accuracy(pg);
//     playground_destroy(pg);
//
// Everything is a function of the config, the data and the step count: no
// clock, no threads, so a class sees the same run.
#ifndef GRADLAB_MODELS_PLAYGROUND_H
#define GRADLAB_MODELS_PLAYGROUND_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/optim/optim.h"
#include "engine/tensor/tensor.h"

#define PG_MAX_LAYERS 6 // hidden layers
#define PG_MAX_UNITS 32 // units per hidden layer
#define PG_MAX_POINTS 2000
#define PG_RANGE 1.5 // the data lie in about [-PG_RANGE, PG_RANGE] on both axes

typedef enum PgDataset { PG_MOONS, PG_CIRCLES, PG_XOR, PG_SPIRAL, PG_DATASET_COUNT } PgDataset;
extern const char *const pg_dataset_names[PG_DATASET_COUNT]; // "moons", "circles", "xor", "spiral"

typedef enum PgActivation { PG_TANH, PG_RELU, PG_SIGMOID, PG_LINEAR, PG_ACT_COUNT } PgActivation;
extern const char *const pg_activation_names[PG_ACT_COUNT]; // "tanh", "relu", "sigmoid", "linear"

// Fill xy (n, 2) and label (n, each 0 or 1; classes alternate, so they are
// balanced) with n points of data set d, drawn from seed, each coordinate
// moved by a normal sample of std noise (in the data's units: the sets span
// about -1.2..1.2). n in [1, PG_MAX_POINTS].
void pg_dataset(PgDataset d, int n, double noise, uint64_t seed, float *xy, int *label);

typedef struct PgConfig {
    int layers; // hidden layers, 0..PG_MAX_LAYERS (0: a linear model)
    int units;  // units per hidden layer, 1..PG_MAX_UNITS
    PgActivation act;
    OptimConfig opt; // the engine's optimizer and its rate
    uint64_t seed;   // the weights' init: normal, std sqrt(1/fan_in) (relu: sqrt(2/fan_in)); biases 0
} PgConfig;

typedef struct Playground {
    PgConfig cfg;
    int n;      // points
    float *xy;  // (n, 2) a copy
    int *label; // (n)
    // Parameters in one block, in this order: W_1 (2, U), b_1 (U), ...,
    // W_L (U, U), b_L (U), w_out (U or 2 when L = 0, 1), b_out (1).
    TensorBlock *params;
    Optim *opt;
    TensorGraph *g;    // the training step's graph
    TensorGraph *eval; // forward passes over grids
    long steps;        // optimizer steps taken
} Playground;

// A network for cfg on the n points xy (n, 2) with labels (n), both copied.
// NULL when out of memory or cfg is out of range.
Playground *playground_create(const PgConfig *cfg, const float *xy, const int *label, int n);

// Free it. NULL is a no-op.
void playground_destroy(Playground *pg);

// The mean loss over the points at the current weights, with every
// parameter's gradient of it in pg->params->grad (one forward and backward
// pass on the tensor engine; no update). NaN when a pass failed.
float playground_loss_grad(Playground *pg);

// One full-batch step: playground_loss_grad, then the optimizer's update.
// Returns the loss before the update.
float playground_step(Playground *pg);

// The fraction of points classified right (p > 0.5 means class 1) at the current weights.
double playground_accuracy(Playground *pg);

// The forward pass over m points xy (m, 2), for pictures and the accuracy:
// p (m) gets sigmoid(z), and when hidden is not NULL, hidden (m, layers *
// units) every hidden unit's output (layer by layer). Plain C with
// fastmath.h's tanh and sigmoid on the same weights: within about 1e-6 of
// the tensor engine's pass, many times faster (a 100 x 100 grid each
// publication). Returns true (false is kept for a pass that can fail).
bool playground_forward(Playground *pg, const float *xy, int m, float *p, float *hidden);

// One point's loss and its gradient of every parameter, grad (params->size)
// in block order, by the tensor engine; pg->params->grad is left zeroed.
// NaN when a pass failed.
float playground_point_grad(Playground *pg, int i, float *grad);

// Number of parameters of the layer lists: the block's size.
size_t playground_param_count(const Playground *pg);

#endif
