// readout.h: what the adding task (adding.c) and the memory task
// (memtask.c) share: a linear read-out y = w . h_T + b of a recurrent
// model's last hidden state, scored by the MSE against one target per
// sequence, with the model and the read-out clipped together by their
// global norm and trained by one Adam each; and the LSTM both set up alike.
//
// A trainer keeps the parts as its own fields and hands them here:
//
//     readout_alloc(B, T, H, lr, nparams, &init, &tr->head, ..., &tr->opt_head);
//     mse = readout_mse(tr->head, last.h, tr->target, tr->y, B, H);   // after the forward
//     readout_backward(tr->head, last.h, tr->y, tr->target, B, H, tr->head_grad, tr->dh);
//     ... the model's backward from tr->dh ...
//     readout_clip_step(tr->opt_model, params, grads, n, tr->opt_head, tr->head, tr->head_grad, H, clip);
//     readout_free(tr->head, ..., tr->opt_head);
#ifndef GRADLAB_MODELS_READOUT_H
#define GRADLAB_MODELS_READOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/optim/optim.h"
#include "models/lstm.h"
#include "models/rng.h"

// The LSTM both tasks read out: 2 inputs, H units, PyTorch's uniform init
// drawn from init, then a forget-gate bias of 1 (Jozefowicz et al. 2015),
// which helps long memories; skip_dx set (no gradient to the inputs). NULL
// when out of memory. Free with lstm_destroy.
Lstm *readout_lstm_create(int H, Pcg *init);

// Allocate a read-out trainer's parts for batches of B sequences of T steps
// of 2 inputs into H units: *head and *head_grad (H + 1), zeroed, then the
// first H of *head uniform in +-1/sqrt(H) drawn from init; *x (B, T, 2)
// zeroed; *target, *y (B); *dh (B, H); *opt_model (nparams) and *opt_head
// (H + 1), Adam at lr. Returns false when out of memory; whatever was
// allocated is stored all the same, for the caller's readout_free.
bool readout_alloc(int B, int T, int H, float lr, size_t nparams, Pcg *init, float **head,
                   float **head_grad, float **x, float **target, float **y, float **dh,
                   Optim **opt_model, Optim **opt_head);

// Free what readout_alloc made. NULLs are no-ops.
void readout_free(float *head, float *head_grad, float *x, float *target, float *y, float *dh,
                  Optim *opt_model, Optim *opt_head);

// y (B) = head[0..H) . h[b] + head[H] for each row of h (B, H); returns the
// MSE of y against target (B), accumulated in double.
double readout_mse(const float *head, const float *h, const float *target, float *y, int B, int H);

// Backward of readout_mse: dL/dy = 2 (y - target) / B; head_grad (H + 1) =
// dL/d the read-out (overwritten), dh (B, H) = dL/dh_T.
void readout_backward(const float *head, const float *h, const float *y, const float *target, int B,
                      int H, float *head_grad, float *dh);

// Clip the model's grads (n) and head_grad (H + 1) together by their global
// norm when it is >= clip (clip 0: never), then one step of opt_model on
// params and of opt_head on head. Returns the norm before clipping.
double readout_clip_step(Optim *opt_model, float *params, float *grads, size_t n, Optim *opt_head,
                         float *head, float *head_grad, int H, float clip);

#endif
