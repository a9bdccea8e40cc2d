// charlstm.h: min-char-rnn's character-level language model with an LSTM
// (models/lstm.h, PyTorch's gate order i, f, g, o) in place of the tanh RNN:
// one-hot characters in, a linear read-out of h_t to next-character logits,
// softmax cross-entropy summed over each sequence, gradients clipped
// element-wise to [-clip, clip], Adagrad. The state (h, c) is carried from
// one sequence to the next and reset when the text wraps around, as
// charrnn.h does. tests/models/test_charlstm_torch.py trains the same model
// in PyTorch from the same weights and compares every loss and the weights.
//
//     CharLstm *m = charlstm_create(ids, len, 64, 25, 0.1f, 5.0f, seed);
//     for (...) loss = charlstm_step(m);    // one sequence of 25 characters
//     charlstm_destroy(m);
#ifndef GRADLAB_MODELS_CHARLSTM_H
#define GRADLAB_MODELS_CHARLSTM_H

#include <stddef.h>
#include <stdint.h>

#include "engine/optim/optim.h"
#include "models/lstm.h"
#include "models/rng.h"

typedef struct CharLstm {
    int V, H, T;              // vocabulary (ids 0..V-1), hidden units, sequence length
    const unsigned char *text; // (len) character ids; not owned
    size_t len;
    size_t pos;               // where the next sequence starts
    float clip;
    Lstm *lstm;               // I = V one-hot inputs
    float *head;              // why (V, H) then by (V), one block
    float *head_grad;         // same layout
    Optim *opt_lstm, *opt_head;
    float *x;                 // (T, V) one-hot inputs (B = 1)
    int *targets;             // (T)
    float *logits;            // (T, V), dL/dlogits after a step
    float *dout;              // (T, H) dL/dh_t from the read-out
    float *h, *c;             // (H) state carried across sequences
} CharLstm;

// A model over the character ids text[0..len) (each below V, the largest id
// + 1; len >= T + 2; the text must outlive the model): the LSTM's weights
// from lstm_init_uniform, then the read-out's N(0, 0.01^2) and a zero bias,
// all drawn from seed in that order; Adagrad (eps 1e-8) with rate lr,
// element-wise clipping at clip. NULL when out of memory or when the sizes
// are unreasonable.
CharLstm *charlstm_create(const unsigned char *text, size_t len, int H, int T, float lr, float clip,
                          uint64_t seed);

// Free a model. NULL is a no-op.
void charlstm_destroy(CharLstm *m);

// One training iteration on the next T characters (wrapping around and
// resetting the state at the end of the text, as charrnn_step does).
// Returns the summed cross-entropy of the sequence before the update.
double charlstm_step(CharLstm *m);

// Generate n characters as charrnn_sample does (chartext.h), through the
// LSTM: from a zero state and the id first; out (n), top and prob (n, k)
// when k > 0, chosen (n) or NULL. False when out of memory.
bool charlstm_sample(const CharLstm *m, int first, int n, double temperature, Pcg *rng, int *out, int k,
                     int *top, float *prob, float *chosen);

#endif
