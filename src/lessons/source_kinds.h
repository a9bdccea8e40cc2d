// source_kinds.h: the rows of the sources table (sources.c), one per kind,
// each defined in its own file. A new kind adds its file, a row macro here
// and the row in sources.c.
#ifndef GRADLAB_SOURCE_KINDS_H
#define GRADLAB_SOURCE_KINDS_H

#include "lessons/sources.h"

// source_program.c: the lesson's program evaluated with the run's params:
// every name's value and gradient ("program.f", "program.grad.x").
extern const SourceKind source_program_kind;
#define SOURCE_PROGRAM source_program_kind

// source_train.c: seeded gradient descent that lowers the program's output:
// "NAME.loss" (steps + 1) and each trained param's value.
extern const SourceKind source_train_kind;
#define SOURCE_TRAIN source_train_kind

extern const SourceKind source_optim_kind;  // source_optim.c: five optimizers side by side on a surface

extern const SourceKind source_bptt_kind;    // source_bptt.c: ||dL/dh_t|| at every step of one sequence
extern const SourceKind source_explode_kind; // source_explode.c: an RNN's training run, clipped or not
extern const SourceKind source_curve_kind;   // source_curve.c: an activation, its derivative by backprop, saturation
extern const SourceKind source_stack_kind;   // source_stack.c: the gradient at each input of a chain of N layers
extern const SourceKind source_adding_kind;  // source_adding.c: an LSTM, tanh RNN or IRNN learning the adding problem
extern const SourceKind source_lstmmem_kind; // source_lstmmem.c: an LSTM learns to remember; its gates on a probe; gate surgery
extern const SourceKind source_mlp2d_kind;   // source_mlp2d.c: an MLP learning a 2-D data set (the playground)
extern const SourceKind source_charrnn_kind; // source_charrnn.c: a character-level RNN training on a text, with samples
extern const SourceKind source_steering_kind; // source_steering.c: a CNN, then CNN+LSTM, steering a seeded road

extern const SourceKind source_tuning_kind; // source_tuning.c: seeds side by side, a rate range test, searches on one budget

extern const SourceKind source_transfer_kind; // source_transfer.c: a pretrained CNN reused: scratch, frozen, fine-tuned

#endif
