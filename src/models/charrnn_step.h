// charrnn_step.h: the two implementations of one min-char-rnn iteration
// behind charrnn_step (internal to src/models and its tests).
//
// Contract, the same for both: one iteration on the T characters already in
// m->inputs and m->targets, starting from the hidden state m->hprev:
//   forward through the tanh RNN and the read-out, softmax cross-entropy
//   summed over the T steps (returned);
//   backward into m->rnn->grads and m->head_grad (b_hh's gradient zero:
//   min-char-rnn has one hidden bias, b_ih plays it);
//   gradients clipped element-wise to [-m->clip, m->clip], in place;
//   Adagrad on m->rnn->params and m->head with m->opt_rnn and m->opt_head
//   (their sums and step counts advance);
//   h_T left in m->hprev.
// m->pos is not touched (charrnn_step advances it). The two agree to float
// rounding, sums being taken in another order; tests/models/test_charrnn_fused.c
// compares them step by step wherever both can run.
#ifndef GRADLAB_MODELS_CHARRNN_STEP_H
#define GRADLAB_MODELS_CHARRNN_STEP_H

#include <stdbool.h>

#include "models/charrnn.h"

// Any machine, any size: rnn.c, gemm and optim.c (charrnn.c).
double charrnn_step_generic(CharRnn *m);

// Whether charrnn_step_avx512 can run here for H hidden units: an x86-64
// CPU with AVX-512F/VL and FMA, H <= 128, and a build without
// -Dsimd=portable. False on every other machine.
bool charrnn_avx512_available(int H);

// The fused AVX-512 loop (charrnn_avx512.c). Needs m->work (allocated by
// charrnn_create when charrnn_avx512_available(m->H)). Call it only where
// charrnn_avx512_available(m->H) holds; elsewhere it returns NaN and
// changes nothing.
double charrnn_step_avx512(CharRnn *m);

// Whether charrnn_step_avx2 can run here for H hidden units: an x86-64 CPU
// with AVX2 and FMA, H <= 128, and a build without -Dsimd=portable. False on
// every other machine.
bool charrnn_avx2_available(int H);

// The fused AVX2 + FMA loop (charrnn_avx2.c), the twin of the AVX-512 one
// for CPUs without AVX-512. Needs m->work (allocated by charrnn_create when
// either fused loop is available). Call it only where
// charrnn_avx2_available(m->H) holds; elsewhere it returns NaN and changes
// nothing.
double charrnn_step_avx2(CharRnn *m);

#endif
