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
