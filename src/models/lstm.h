// lstm.h: a one-layer LSTM in PyTorch's convention, forward and backward.
//
// Gate order i, f, g, o; parameters named as in nn.LSTM's state_dict:
//     weight_ih_l0 (4H, I)   weight_hh_l0 (4H, H)   bias_ih_l0 (4H)   bias_hh_l0 (4H)
// For each step t, with x_t (B, I) and the previous state h, c (B, H):
//     a = x_t W_ih^T + b_ih + h W_hh^T + b_hh          (B, 4H)
//     i = sigmoid(a[0:H])  f = sigmoid(a[H:2H])  g = tanh(a[2H:3H])  o = sigmoid(a[3H:4H])
//     c' = f * c + i * g     h' = o * tanh(c')
//
//     Lstm *m = lstm_create(I, H);
//     lstm_init_uniform(m, &rng);                // PyTorch's default init
//     lstm_forward(m, x, NULL, NULL, B, T);     // x (B, T, I)
//     lstm_zero_grad(m);
//     lstm_backward(m, dout, NULL, NULL);       // dout (B, T, H) = dL/doutput
//     ... m->grads, lstm_step(m, t).dh ...
//     lstm_destroy(m);
#ifndef GRADLAB_MODELS_LSTM_H
#define GRADLAB_MODELS_LSTM_H

#include <stdbool.h>
#include <stddef.h>

#include "models/recurrent.h"
#include "models/rng.h"

// w_ih (4H, I), w_hh (4H, H), b_ih (4H), b_hh (4H): the shared recurrent block with G = 4.
typedef RecurrentParams LstmParams;

#define LSTM_NUM_PARAMS 4
#define LSTM_CHUNK 8   // backward gathers weight gradients over this many steps
// PyTorch state_dict names, in the order of LstmParams' fields.
extern const char *const lstm_param_names[LSTM_NUM_PARAMS];

typedef struct Lstm {
    int I, H;
    size_t nparams;      // total floats in params (and in grads)
    float *params;       // one block; p's pointers aim into it
    float *grads;        // one block with the same layout; g's pointers aim into it
    LstmParams p, g;
    float *w_hh_t;       // (H, 4H) W_hh transposed, refreshed by each forward
    bool skip_dx;        // lstm_backward leaves dx alone (training needs no dL/dx)

    // The fused kernels (lstm_fused.h), taken when the CPU has AVX2 and FMA
    // and H is a multiple of 8; a test may clear `fused` to take the generic
    // path. Both compute the same outputs from the same parameters.
    bool fused;
    bool fused_fwd;      // the last forward was the fused one (so is its backward)
    float *packed;       // one 32-byte aligned block for the fused kernels' weights:
    float *wp;           //   (H/8, I + H, 32) [W_ih^T; W_hh^T], each 8 units' 4 gates side by side
    float *bp;           //   (H/8, 32) b_ih + b_hh in the same order
    float *wb;           //   (ceil(H/32), 4H, <=32) W_hh in panels of 32 units
    float *tc;           // (T, B, H) tanh(c) from the fused forward (in acts)
    float *xt;           // (I + H, LSTM_CHUNK * B) scratch: a chunk's inputs transposed (in acts)

    // Activations of the last forward pass (time-major), grown on demand.
    int B, T;            // shape of the last forward; 0 before one
    bool have_grad;      // a backward ran after the last forward
    size_t act_cap;      // floats allocated in acts
    float *acts;         // one block; the pointers below aim into it
    float *x;            // (T, B, I) input
    float *h0, *c0;      // (B, H) initial state
    float *gates;        // (T, B, 4H) i, f, g, o after their nonlinearities
    float *c;            // (T, B, H) cell state
    float *h;            // (T, B, H) hidden state
    float *dh;           // (T, B, H) total dL/dh_t
    float *dc;           // (T, B, H) total dL/dc_t
    float *dx;           // (T, B, I) dL/dx
    float *dh0, *dc0;    // (B, H) dL/dh0, dL/dc0
    float *dpre;         // (LSTM_CHUNK, B, 4H) scratch: dL/da, the gate pre-activations,
                         // for the steps of one chunk (see lstm_backward); the fused
                         // backward keeps it as (4H/32, LSTM_CHUNK * B, 32) panels
    float *dbias;        // (4H) scratch: column sums of dpre over all steps
    float *dw_hh_t;      // (H, 4H) scratch: dW_hh transposed
    float *dw_ih_t;      // (I, 4H) scratch: dW_ih transposed
} Lstm;

// A model with I inputs and H hidden units, parameters zero. Returns NULL
// when out of memory or when the sizes are outside recurrent.h's limits.
Lstm *lstm_create(int I, int H);

// Free a model and everything it points to. NULL is a no-op.
void lstm_destroy(Lstm *m);

// The parameter tensor k (0..LSTM_NUM_PARAMS) of m's params or grads block,
// with its size in *n and its shape in rows/cols (cols 1 for a bias).
float *lstm_param(Lstm *m, int k, bool grad, size_t *n, int *rows, int *cols);

// PyTorch's default: every parameter U(-1/sqrt(H), 1/sqrt(H)).
void lstm_init_uniform(Lstm *m, Pcg *rng);

// Run T steps on x (B, T, I), batch-first, from h0, c0 (B, H) (NULL = zeros).
// Keeps every activation for lstm_backward and lstm_step. Returns false only
// when the activation buffers cannot be allocated (check sizes first with
// recurrent_check_size).
bool lstm_forward(Lstm *m, const float *x, const float *h0, const float *c0, int B, int T);

// Backward through the last forward, given dL/doutput dout (B, T, H)
// batch-first and dL/dh_n, dL/dc_n (B, H) for the final state; any may be
// NULL for zero. Adds the parameter gradients into m->grads (call
// lstm_zero_grad first) and fills dh, dc, dx, dh0 and dc0.
void lstm_backward(Lstm *m, const float *dout, const float *dh_n, const float *dc_n);

// Set every gradient in m->grads to zero.
void lstm_zero_grad(Lstm *m);

// Time step t (0 <= t < T) of the last forward/backward.
RecurrentStep lstm_step(const Lstm *m, int t);

// Copy the outputs h_1..h_T into out (B, T, H), batch-first.
void lstm_output(const Lstm *m, float *out);

// Copy dL/dx into dx (B, T, I), batch-first. Valid after lstm_backward
// unless m->skip_dx is set.
void lstm_grad_input(const Lstm *m, float *dx);

#endif
