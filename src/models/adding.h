// adding.h: the adding problem (Hochreiter and Schmidhuber 1997; the setup
// of Le, Jaitly and Hinton 2015) and a trainer for it.
//
// Each sequence has T steps of 2 inputs: a value drawn from U[0, 1] and a
// marker that is 1 at exactly two steps (one in each half) and 0 elsewhere.
// The target is the sum of the two marked values. Predicting 1 always gives
// an MSE of 1/6, the baseline; a model that learned the task goes far below.
//
// The model is an LSTM, a tanh RNN, or an IRNN (relu RNN with W_hh = I),
// followed by a linear read-out y = w . h_T + b, trained on the MSE with Adam
// and gradient clipping by global norm.
//
//     AddingConfig c = adding_defaults(ADDING_LSTM);
//     c.T = 100;
//     AddingTrainer *tr = adding_create(&c);
//     for (int s = 0; s < c.steps; s++) adding_step(tr);
//     double mse = adding_test_mse(tr);
//     adding_destroy(tr);
#ifndef GRADLAB_MODELS_ADDING_H
#define GRADLAB_MODELS_ADDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/optim/optim.h"
#include "models/lstm.h"
#include "models/rng.h"
#include "models/rnn.h"

typedef enum AddingModel { ADDING_LSTM, ADDING_RNN, ADDING_IRNN, ADDING_MODEL_COUNT } AddingModel;

// "lstm", "rnn", "irnn", indexed by AddingModel.
extern const char *const adding_model_names[ADDING_MODEL_COUNT];

#define ADDING_BASELINE_MSE (1.0 / 6.0)

typedef struct AddingConfig {
    AddingModel model;
    int T;            // sequence length
    int steps;        // training steps (one batch each)
    int batch;        // sequences per step
    int hidden;       // hidden units
    float lr;         // Adam's learning rate
    float clip;       // global-norm clipping threshold (0 = none)
    uint64_t seed;    // weights, training data and test data all follow from it
    int test_size;    // sequences in the fixed test set
} AddingConfig;

// Good settings for each model (see adding.c for where they come from).
AddingConfig adding_defaults(AddingModel model);

// Limits on a run from the command line (adding_check).
#define ADDING_MAX_STEPS 1000000
#define ADDING_MAX_BATCH 4096
// The most multiply-adds one run may take: 2^39, about 5.5e11. The default
// LSTM run (T 100, batch 32, hidden 64, 2500 steps) counts 4.1e11, which is
// 14 s on a quiet 2-core AVX-512 machine and 20 to 40 s of CPU time on a
// shared AVX2 one.
#define ADDING_MAX_WORK 549755813888.0
// What one pass over one time step costs besides its multiply-adds (calls,
// pointwise loops), counted as multiply-adds: about 0.3 us, which dominates
// at batch 1 and small hidden sizes.
#define ADDING_PASS_COST 4096.0

// The multiply-adds of a whole run of c, training and test set, G = 4 for
// the LSTM and 1 for the RNNs (3 for forward, backward to h and backward to
// the weights; the test set is forward only, in passes of batch rows):
//   T x (G H (H + 2) x (3 batch steps + test_size)
//        + ADDING_PASS_COST x (3 steps + ceil(test_size / batch)))
double adding_work(const AddingConfig *c);

// Check c before creating a trainer: recurrent_check_size (memory
// included), steps and batch within the limits above, and ADDING_MAX_WORK.
// Returns true when it may run; otherwise false with a sentence in err that
// names the limit and says how far --steps and --T may go at the other sizes.
bool adding_check(const AddingConfig *c, char *err, size_t errlen);

// Fill x (B, T, 2) and target (B) with B random sequences.
void adding_batch(Pcg *rng, int B, int T, float *x, float *target);

typedef struct AddingTrainer {
    AddingConfig cfg;
    Lstm *lstm;             // exactly one of lstm and rnn is set
    Rnn *rnn;
    float *head;            // (H + 1) read-out weights w then bias b
    float *head_grad;       // (H + 1)
    Optim *opt_model, *opt_head;
    Pcg rng;                // training data
    float *x, *target;      // (B, T, 2), (B): the current batch
    float *y, *dh;          // (B), (B, H)
    long step;              // steps taken
    double last_mse;        // training MSE of the last step (before its update)
    double last_norm;       // gradient norm of the last step (before clipping)
} AddingTrainer;

// A trainer with freshly initialised weights. NULL when out of memory or
// when the sizes fail recurrent_check_size (callers check first).
AddingTrainer *adding_create(const AddingConfig *cfg);

// Free a trainer. NULL is a no-op.
void adding_destroy(AddingTrainer *tr);

// One training step on a new batch; returns its MSE (before the update).
double adding_step(AddingTrainer *tr);

// The MSE on cfg.test_size fixed test sequences (the same for a given seed).
double adding_test_mse(AddingTrainer *tr);

#endif
