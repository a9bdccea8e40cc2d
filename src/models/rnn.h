// rnn.h: a one-layer vanilla (Elman) RNN in PyTorch's convention.
//
// Parameters named as in nn.RNN's state_dict:
//     weight_ih_l0 (H, I)   weight_hh_l0 (H, H)   bias_ih_l0 (H)   bias_hh_l0 (H)
// For each step t, with x_t (B, I) and the previous hidden state h (B, H):
//     h' = act(x_t W_ih^T + b_ih + h W_hh^T + b_hh)
// where act is tanh, relu (nn.RNN's two choices), sigmoid or linear.
//
//     Rnn *m = rnn_create(I, H, RNN_TANH);
//     rnn_init_uniform(m, &rng);
//     rnn_forward(m, x, NULL, B, T);     // x (B, T, I)
//     rnn_zero_grad(m);
//     rnn_backward(m, dout, NULL);       // dout (B, T, H)
//     rnn_destroy(m);
#ifndef GRADLAB_MODELS_RNN_H
#define GRADLAB_MODELS_RNN_H

#include <stdbool.h>
#include <stddef.h>

#include "models/recurrent.h"
#include "models/rng.h"

typedef enum RnnAct { RNN_TANH, RNN_RELU, RNN_SIGMOID, RNN_LINEAR, RNN_ACT_COUNT } RnnAct;

// "tanh", "relu", "sigmoid", "linear", indexed by RnnAct.
extern const char *const rnn_act_names[RNN_ACT_COUNT];

// w_ih (H, I), w_hh (H, H), b_ih (H), b_hh (H): the shared recurrent block with G = 1.
typedef RecurrentParams RnnParams;

#define RNN_NUM_PARAMS 4
// PyTorch state_dict names, in the order of RnnParams' fields.
extern const char *const rnn_param_names[RNN_NUM_PARAMS];

typedef struct Rnn {
    int I, H;
    RnnAct act;
    size_t nparams;      // total floats in params (and in grads)
    float *params;       // one block; p's pointers aim into it
    float *grads;        // one block with the same layout
    RnnParams p, g;
    float *w_hh_t;       // (H, H) W_hh transposed, refreshed by each forward
    bool skip_dx;        // rnn_backward leaves dx alone (training needs no dL/dx)

    // The fused kernels (rnn_fused.h), taken when the CPU has AVX2 and FMA
    // and H is a multiple of 8; a test may clear `fused` to take the generic
    // path. Both compute the same outputs from the same parameters.
    bool fused;
    bool fused_fwd;      // the last forward was the fused one (so is its backward)
    float *packed;       // one 32-byte aligned block for the fused kernels' weights:
    float *wp;           //   (ceil(H/32), I + H, <=32) [W_ih^T; W_hh^T] in panels of 32 units
    float *wb;           //   (ceil(H/32), H, <=32) W_hh in panels of 32 units
    float *bias;         //   (H) b_ih + b_hh

    // Activations of the last forward pass (time-major), grown on demand.
    int B, T;
    bool have_grad;
    size_t act_cap;
    float *acts;         // one block; the pointers below aim into it
    float *x;            // (T, B, I) input
    float *h0;           // (B, H) initial state
    float *h;            // (T, B, H) hidden states
    float *dpre;         // (T, B, H) dL/d(pre-activation)
    float *dh;           // (T, B, H) total dL/dh_t
    float *dx;           // (T, B, I)
    float *dh0;          // (B, H)
    bool onehot;         // the last forward took tokens instead of x
    int *tokens;         // (T, B) token ids of the last rnn_forward_tokens
    size_t tok_cap;
} Rnn;

// A model with I inputs, H hidden units and activation act, parameters
// zero. NULL when out of memory or outside recurrent.h's limits.
Rnn *rnn_create(int I, int H, RnnAct act);

// Free a model. NULL is a no-op.
void rnn_destroy(Rnn *m);

// Parameter k (0..RNN_NUM_PARAMS) of params or grads, with its size and shape.
float *rnn_param(Rnn *m, int k, bool grad, size_t *n, int *rows, int *cols);

// PyTorch's default: every parameter U(-1/sqrt(H), 1/sqrt(H)).
void rnn_init_uniform(Rnn *m, Pcg *rng);

// Run T steps on x (B, T, I) from h0 (B, H) (NULL = zeros). Returns false
// only when the activation buffers cannot be allocated.
bool rnn_forward(Rnn *m, const float *x, const float *h0, int B, int T);

// The same on one-hot inputs: tokens (B, T), each in [0, I), stand for rows
// of the identity. The input projection becomes a lookup of W_ih's columns
// and its gradient a scatter (a character model's inputs). rnn_backward then
// leaves dx alone.
bool rnn_forward_tokens(Rnn *m, const int *tokens, const float *h0, int B, int T);

// Backward through the last forward given dout (B, T, H) and dh_n (B, H),
// either NULL for zero. Adds into m->grads; fills dh, dx and dh0.
void rnn_backward(Rnn *m, const float *dout, const float *dh_n);

// Set every gradient to zero.
void rnn_zero_grad(Rnn *m);

// Time step t of the last forward/backward (gates and c are NULL).
RecurrentStep rnn_step(const Rnn *m, int t);

// Copy h_1..h_T into out (B, T, H), batch-first.
void rnn_output(const Rnn *m, float *out);

// Copy dL/dx into dx (B, T, I), batch-first. Valid after rnn_backward
// unless m->skip_dx is set.
void rnn_grad_input(const Rnn *m, float *dx);

#endif
