// charrnn.h: a character-level language model in the manner of Karpathy's
// min-char-rnn: a tanh RNN over one-hot characters, a linear read-out to
// next-character logits, softmax cross-entropy summed over the sequence,
// gradients clipped element-wise to [-clip, clip], Adagrad.
//
//     CharRnn *m = charrnn_create(text, len, 100, 25, 0.1f, 5.0f, seed);
//     for (...) loss = charrnn_step(m);     // one sequence of 25 characters
//     charrnn_destroy(m);
#ifndef GRADLAB_MODELS_CHARRNN_H
#define GRADLAB_MODELS_CHARRNN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/optim/optim.h"
#include "models/rnn.h"

typedef struct CharRnn {
    int V, H, T;              // vocabulary, hidden units, sequence length
    unsigned char chars[256]; // chars[i] = the i-th distinct byte of the text (sorted)
    int index[256];           // index[byte] = its position in chars, -1 if absent
    const unsigned char *text;  // not owned
    size_t len;
    size_t pos;               // where the next sequence starts
    float clip;
    Rnn *rnn;                 // I = V one-hot inputs, tanh
    float *head;              // why (V, H) then by (V), one block
    float *head_grad;         // same layout
    Optim *opt_rnn, *opt_head;
    int *inputs;              // (T) input characters (one-hot, as ids)
    float *logits;            // (T, V), softmax probabilities after a step
    float *dout;              // (T, H) dL/dh_t from the read-out
    float *hprev;             // (H) hidden state carried across sequences
    int *targets;             // (T)

    // A fused loop, taken when H <= 128: charrnn_avx512.c when the CPU has
    // AVX-512 (fused_avx512 set), else charrnn_avx2.c when it has AVX2 and
    // FMA; otherwise, or when a test clears `fused`, each step goes
    // through rnn.c, gemm and optim.c (charrnn_step_generic). All follow
    // charrnn_step.h's contract: they read and write the same weights,
    // gradients and Adagrad sums; the fused loops leave rnn's activation
    // buffers alone, and none trains b_hh (min-char-rnn has one bias,
    // b_ih plays it).
    bool fused;
    bool fused_avx512;        // which fused loop: AVX-512 if set, else AVX2
    float *work;              // one 64-byte aligned block for the fused loop's buffers
                              // (sized for AVX-512's padding to 16; the AVX2
                              // loop uses them with rows padded to 8):
    float *whh_t;             //   (H, HP) W_hh transposed, refreshed each step
    float *whh_p;             //   (H, HP) W_hh, rows padded with zeros
    float *why_t;             //   (H, VP) W_hy transposed; VP = V rounded up to 16
    float *why_p;             //   (V, HP) W_hy, rows padded with zeros
    float *bias;              //   (HP) b_ih + b_hh; HP = H rounded up to 16
    float *hs;                //   (T + 1, HP) hprev, then h_1..h_T
    float *dhraw;             //   (T, HP) dL/d(pre-activation)
    float *dh_out;            //   (T, HP) dL/dh_t from the read-out
} CharRnn;

// A model over the distinct bytes of text[0..len) (len >= T + 2; the text
// must outlive the model) with weights N(0, 0.01^2), biases 0, Adagrad with
// learning rate lr, element-wise clipping at clip. NULL when out of memory or
// when the sizes are unreasonable.
CharRnn *charrnn_create(const unsigned char *text, size_t len, int H, int T, float lr, float clip,
                        uint64_t seed);

// Free a model. NULL is a no-op.
void charrnn_destroy(CharRnn *m);

// One training iteration on the next T characters (wrapping around and
// resetting the hidden state at the end of the text). Returns the summed
// cross-entropy loss of the sequence before the update.
double charrnn_step(CharRnn *m);

#endif
