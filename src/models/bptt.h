// bptt.h: how gradients flow back through time, the data behind the
// vanishing/exploding gradient lessons.
//
// One sequence of T random inputs goes through an RNN or an LSTM; the loss
// is L = sum of the last hidden state h_T; backward gives dL/dh_t for every
// step, and its norm shows whether the signal dies out (vanishing) or blows
// up (exploding) as it travels back from T to 1.
//
// The recurrent matrix W_hh is drawn with a scale S that is (about) its
// spectral radius for every init:
//   orthogonal  every singular value is exactly S
//   normal      N(0, S^2 / H)                (circular law: radius ~ S)
//   uniform     U(-a, a), a = S * sqrt(3 / H) (same variance as normal)
// For the LSTM each of the four H x H gate blocks is drawn that way. W_ih and
// the biases keep PyTorch's default U(-1/sqrt(H), 1/sqrt(H)).
#ifndef GRADLAB_MODELS_BPTT_H
#define GRADLAB_MODELS_BPTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/rnn.h"

typedef enum BpttInit { BPTT_ORTHOGONAL, BPTT_NORMAL, BPTT_UNIFORM, BPTT_INIT_COUNT } BpttInit;

// "orthogonal", "normal", "uniform", indexed by BpttInit.
extern const char *const bptt_init_names[BPTT_INIT_COUNT];

#define BPTT_INPUTS 4   // input features per step, drawn from N(0, 1)

typedef struct BpttConfig {
    bool lstm;        // LSTM (act must be RNN_TANH) or vanilla RNN
    RnnAct act;       // the RNN's activation
    BpttInit init;    // how W_hh is drawn
    float scale;      // S above
    int T, H;         // sequence length, hidden units
    uint64_t seed;    // weights and inputs follow from it
} BpttConfig;

// The most multiply-adds one run may take (bptt_check): 2^32, about 4.3e9.
// A sequence costs about 3 T G H (H + BPTT_INPUTS) multiply-adds (forward,
// backward to h and to the weights), G = 4 for the LSTM and 1 for the RNN,
// done one row at a time: a few seconds at the limit on a 2-core machine.
#define BPTT_MAX_WORK 4294967296.0

// The multiply-adds of one run of c, as above (the orthogonal init's
// (4/3) G H^3 flops in double are not counted: H is at most 4096).
double bptt_work(const BpttConfig *c);

// Check c's sizes before running it: recurrent.h's limits (memory included)
// and BPTT_MAX_WORK. Returns true when it may run; otherwise false with a
// sentence in err that names the limit and the longest T that fits
// ("length 100000 x hidden 4096 (rnn) is about ...; use --T 85 or less").
bool bptt_check(const BpttConfig *c, char *err, size_t errlen);

// Fill norms[0..T) with ||dL/dh_t|| for t = 1..T (norms[T-1] is the last
// step, where dL/dh_T is all ones). Returns false when out of memory or when
// the sizes are outside recurrent.h's limits.
bool bptt_grad_norms(const BpttConfig *c, double *norms);

#endif
