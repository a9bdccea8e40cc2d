// lstm_fused.h: the two implementations behind lstm_forward and
// lstm_backward (internal to src/models and its tests).
//
// Contract, the same for both pairs:
//   forward: from m->x, m->h0, m->c0 (already in place, time-major) fill
//     m->gates (i, f, g, o after their nonlinearities), m->c and m->h for
//     all T steps of B rows;
//   backward: given dout (B, T, H) batch-first or NULL and dL/dh_n, dL/dc_n
//     already in m->dh0, m->dc0, fill m->dh, m->dc (totals per step),
//     m->dx (unless m->skip_dx), m->dh0, m->dc0, and add the parameter
//     gradients into m->grads.
// The generic pair (lstm.c) runs anywhere: gemm for the products, one
// pointwise pass per step. The fused pair (lstm_avx2.c, AVX2 + FMA) does the
// gate nonlinearities and the cell update in the epilogue of each step's
// product while the pre-activations are in registers, and the same in
// backward. They agree to a few 1e-7 (sums in another order, and the fused
// gates use a rational tanh within 3e-7 of fastmath.h's);
// tests/models/test_recurrent_fused.c compares them wherever both run.
#ifndef GRADLAB_MODELS_LSTM_FUSED_H
#define GRADLAB_MODELS_LSTM_FUSED_H

#include <stdbool.h>

#include "models/lstm.h"

void lstm_forward_generic(Lstm *m);
void lstm_backward_generic(Lstm *m, const float *dout);

// Whether the fused pair can run here for H hidden units: an x86-64 CPU
// with AVX2 and FMA, H a multiple of 8, a build without -Dsimd=portable.
bool lstm_fused_available(int H);

// The fused pair. Call only where lstm_fused_available(m->H) holds (they do
// nothing elsewhere); lstm_backward_fused needs the activations of
// lstm_forward_fused (it reads m->tc).
void lstm_forward_fused(Lstm *m);
void lstm_backward_fused(Lstm *m, const float *dout);

#endif
