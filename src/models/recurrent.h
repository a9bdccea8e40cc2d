// recurrent.h: what the RNN and the LSTM share: the per-time-step view that
// lessons and views draw, and the size limits every caller checks before
// building a model from user input.
//
// Legend for shapes in src/models: B = batch, T = time steps, I = input
// features, H = hidden units, G = gates (4 for the LSTM, 1 for the RNN).
// Activations are stored time-major, (T, B, ...), so one time step is one
// contiguous (B, ...) block; inputs and outputs at the API are batch-first
// (B, T, ...) as in PyTorch's batch_first=True.
#ifndef GRADLAB_MODELS_RECURRENT_H
#define GRADLAB_MODELS_RECURRENT_H

#include <stdbool.h>
#include <stddef.h>

// Limits on sizes that come from the command line or from files.
#define MODEL_MAX_HIDDEN 4096
#define MODEL_MAX_INPUT 65536
#define MODEL_MAX_BATCH 65536
#define MODEL_MAX_STEPS 100000
#define MODEL_MAX_FLOATS ((size_t)1 << 27)   // all buffers of one model: 512 MB

// One time step of the last forward (and backward) pass. Pointers point into
// the model and stay valid until its next forward or its destruction.
typedef struct RecurrentStep {
    int B, H;             // rows and hidden units
    int ngates;           // 4 for the LSTM (i, f, g, o), 0 for the RNN
    const float *gates;   // (B, 4H) i, f, g, o after their nonlinearities; NULL for the RNN
    const float *c;       // (B, H) cell state; NULL for the RNN
    const float *h;       // (B, H) hidden state h_t
    const float *dh;      // (B, H) total dL/dh_t from the last backward; NULL before one
    const float *dc;      // (B, H) total dL/dc_t (LSTM) from the last backward; NULL otherwise
} RecurrentStep;

// Check a model of B rows, T steps, I inputs, H hidden units and G gate
// blocks against the limits above, including the memory all its buffers
// would need. Returns true when it fits; otherwise false with a sentence in
// err ("hidden size 100000 is too large (at most 4096)").
bool recurrent_check_size(long B, long T, long I, long H, int G, char *err, size_t errlen);

// The four PyTorch tensors of a recurrent layer with G gate rows per unit
// (G = 1 for an RNN, 4 for an LSTM), as pointers into one block:
// w_ih (G*H, I), w_hh (G*H, H), b_ih (G*H), b_hh (G*H).
typedef struct RecurrentParams {
    float *w_ih;
    float *w_hh;
    float *b_ih;
    float *b_hh;
} RecurrentParams;

// Allocate the zeroed parameter and gradient blocks of such a layer (one
// allocation each) and aim p and g into them. Returns false when out of
// memory (nothing is left allocated). The caller frees *params and *grads.
bool recurrent_params_alloc(int I, int H, int G, float **params, float **grads, size_t *nparams,
                            RecurrentParams *p, RecurrentParams *g);

// dst (cols, rows) = src (rows, cols)^T, or dst += src^T when add; in
// cache-sized tiles.
void mat_transpose(float *dst, const float *src, int rows, int cols, bool add);

// dst (T, B, C) = src (B, T, C) transposed in its first two axes.
void seq_to_time_major(float *dst, const float *src, int B, int T, int C);

// dst (B, T, C) = src (T, B, C) transposed in its first two axes.
void seq_to_batch_first(float *dst, const float *src, int B, int T, int C);

#endif
