// rnn_fused.h: the two implementations behind rnn_forward and the
// recurrence of rnn_backward (internal to src/models and its tests).
//
// Contract, the same for both:
//   forward: from m->x (or m->tokens when m->onehot) and m->h0, already in
//     place and time-major, fill m->h for all T steps of B rows;
//   backward recurrence: given dout (B, T, H) batch-first or NULL and
//     dL/dh_n already in m->dh0, fill m->dh (totals per step), m->dpre
//     (dL/d pre-activation) and leave dL/dh0 in m->dh0.
// rnn_backward_weights (rnn.c) then turns dpre into the weight gradients
// and dx for both. The generic pair (rnn.c) runs anywhere: gemm for the
// products, a pointwise pass per step. The fused pair (rnn_avx2.c, AVX2 +
// FMA) applies the activation (forward) and its derivative (backward) in
// the epilogue of each step's product, while the tile is in registers. The
// activations are fastmath.h's on 8 lanes, the same bits; only the
// products' sums differ in order. tests/models/test_recurrent_fused.c
// compares the pairs wherever both run.
#ifndef GRADLAB_MODELS_RNN_FUSED_H
#define GRADLAB_MODELS_RNN_FUSED_H

#include <stdbool.h>

#include "models/rnn.h"

void rnn_backward_steps_generic(Rnn *m, const float *dout);
void rnn_backward_weights(Rnn *m);

// Whether the fused pair can run here for H hidden units: an x86-64 CPU
// with AVX2 and FMA, H a multiple of 8, a build without -Dsimd=portable.
bool rnn_fused_available(int H);

// The fused pair. Call only where rnn_fused_available(m->H) holds (they do
// nothing elsewhere).
void rnn_forward_fused(Rnn *m);
void rnn_backward_fused(Rnn *m, const float *dout);

#endif
