// memtask.h: the memory task of lesson 8 ("Inside an LSTM"), a trainer for
// it, and a probe that reruns one sequence through the trained LSTM with
// gates clamped ("gate surgery").
//
// Each sequence has T steps of 2 inputs: a value drawn from U[-1, 1] at
// every step (all but one are distractors) and a marker that is 1 at exactly
// one step m, drawn uniformly from all T, and 0 elsewhere. The target is the
// value at the marked step, read out after the last step: the network must
// store it and hold it across the T - 1 - m distractors after it. Predicting
// 0 always gives an MSE of 1/3, the baseline. (With the mark only in the
// first quarter, training stalls at the baseline for T >= 30: the gradient
// back to an early mark vanishes before the gates learn. Late marks teach
// the input gate first; the forget gate then learns to hold for longer.)
//
// The model is an LSTM (lstm.h, PyTorch's convention) followed by a linear
// read-out y = w . h_T + b, trained on the MSE with Adam and clipping.
//
//     MemConfig c = mem_defaults();
//     MemTrainer *tr = mem_create(&c);
//     for (int s = 0; s < 600; s++) mem_step(tr);
//     MemProbe *p = mem_probe_create(c.T, 2, c.hidden);
//     mem_probe_run(tr->lstm, tr->head, x, target, clamps, p);  // x (T, 2)
//     ... p->gates[t * 4H + H + j] (f), p->dc[t * H + j] ...
//     mem_probe_destroy(p);
//     mem_destroy(tr);
//
// The probe is a reference forward and backward in double for one sequence
// (batch 1), written out step by step so that a clamped gate can be held at
// a value: a clamped gate is a constant, so its local derivative with
// respect to its pre-activation is 0 (no gradient reaches its weights
// through it), while the products it takes part in still use its clamped
// value (c_t = f c_{t-1} + i g with f clamped to 0 passes no gradient from
// c_t to c_{t-1}). Without clamps it computes what lstm_forward and
// lstm_backward compute (tests/unit/test_source_lstmmem.c).
#ifndef GRADLAB_MODELS_MEMTASK_H
#define GRADLAB_MODELS_MEMTASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/optim/optim.h"
#include "models/lstm.h"
#include "models/rng.h"

#define MEM_BASELINE_MSE (1.0 / 3.0)
#define MEM_MAX_T 200
#define MEM_MAX_HIDDEN 64
#define MEM_MAX_BATCH 256

typedef struct MemConfig {
    int T;            // sequence length
    int hidden;       // hidden units
    int batch;        // sequences per training step
    float lr;         // Adam's learning rate
    float clip;       // global-norm clipping threshold (0 = none)
    uint64_t seed;    // weights, training data and test data all follow from it
    int test_size;    // sequences in the fixed test set
} MemConfig;

// T 40, hidden 8, batch 32, lr 1e-2, clip 1, seed 1, test_size 256.
MemConfig mem_defaults(void);

// Fill x (B, T, 2), target (B) and, when mark is not NULL, mark (B) (the
// marked step, 0-based) with B random sequences.
void mem_batch(Pcg *rng, int B, int T, float *x, float *target, int *mark);

typedef struct MemTrainer {
    MemConfig cfg;
    Lstm *lstm;
    float *head;          // (H + 1) read-out weights, then its bias
    float *head_grad;     // (H + 1)
    Optim *opt_model, *opt_head;
    Pcg rng;              // training batches
    float *x;             // (batch, T, 2)
    float *target, *y;    // (batch)
    float *dh;            // (batch, H) dL/dh_T
    long step;            // training steps taken
    double last_mse;      // the MSE of the last step's batch
} MemTrainer;

// A trainer at step 0 for c (sizes within the MEM_MAX_ limits), or NULL
// when out of memory or a size is out of range. Free with mem_destroy.
MemTrainer *mem_create(const MemConfig *c);

// Free a trainer. NULL is a no-op.
void mem_destroy(MemTrainer *tr);

// One Adam step on a fresh batch. Returns the batch's MSE.
double mem_step(MemTrainer *tr);

// The MSE on the fixed test set (seeded by cfg.seed, the same every call).
double mem_test_mse(MemTrainer *tr);

// Everything that decides a trainer's future: parameters, read-out,
// optimizer moments and step counts, the data generator, the step. A
// trainer loaded with the state another saved continues exactly as that one
// would (the lesson source keeps these to skip training it has done before).
typedef struct MemState {
    long step;
    double last_mse;
    Pcg rng;
    long t_model, t_head;   // the optimizers' step counts
    float *blob;            // (mem_state_floats) owned by whoever made it
} MemState;

// The floats a MemState's blob holds for tr: 3 (nparams + H + 1).
size_t mem_state_floats(const MemTrainer *tr);

// Save tr into s (s->blob of mem_state_floats(tr) floats, the caller's).
void mem_state_save(const MemTrainer *tr, MemState *s);

// Load s, saved from a trainer of the same config, into tr.
void mem_state_load(MemTrainer *tr, const MemState *s);

// Gate indices for clamps, in lstm.h's gate order (the candidate g is not a gate).
enum { MEM_GATE_I = 0, MEM_GATE_F = 1, MEM_GATE_O = 3 };

// Clamp of one gate: when on, at step `at` (1-based; 0 = every step) the
// gate's output is `value` instead of sigmoid of its pre-activation.
typedef struct MemClamp {
    bool on;
    double value;
    int at;
} MemClamp;

// True when clamp k holds at 0-based step t.
bool mem_clamp_at(const MemClamp *k, int t);

// One sequence through the LSTM, forward and backward, in double.
typedef struct MemProbe {
    int T, H, I;
    double *x;            // (T, I) the input
    double *gates;        // (T, 4H) i, f, g, o after their nonlinearities (or clamps)
    double *c, *h;        // (T, H)
    double *dc, *dh;      // (T, H) total dL/dc_t and dL/dh_t
    double *dparams;      // (nparams) dL/d each LSTM parameter, in Lstm.params' layout
    double *dhead;        // (H + 1) dL/d the read-out
    double y, target, loss;   // the read-out, the target, (y - target)^2
} MemProbe;

// A probe for sequences of T steps through an LSTM of I inputs and H units.
// NULL when out of memory. Free with mem_probe_destroy.
MemProbe *mem_probe_create(int T, int I, int H);

// Free a probe. NULL is a no-op.
void mem_probe_destroy(MemProbe *p);

// Run x (T, I) (p->T steps) through m (p->I inputs, p->H units) from zero
// state with the read-out head (H + 1), with clamps[4] indexed by gate
// (entries for g are ignored; NULL = none), score (y - target)^2 and
// backprop it. Fills every field of p.
void mem_probe_run(const Lstm *m, const float *head, const float *x, float target, const MemClamp *clamps,
                   MemProbe *p);

#endif
