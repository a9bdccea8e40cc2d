// lesson.h: lesson files parsed into a program, narrative steps and checks.
//
// A lesson is a small text file (format documented in lessons/README.md):
//
//     gradlab-lesson: 1
//     title: Backprop through a circuit
//     view: circuit
//     program:
//         x = -2
//         f = x * 3
//     step: intro
//         Narrative text, **bold**, `code`, {f} for a value, {grad x} for a gradient.
//     step: forward f
//     step: backward f
//     check: f == -6
//     check: grad x == 3 tol 1e-9
//
// Each step fixes how far the forward pass and the backward pass have gone,
// and which gate is current. A LessonState turns a step into the numbers a
// view draws.
#ifndef GRADLAB_LESSON_H
#define GRADLAB_LESSON_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/arena.h"
#include "engine/diag.h"
#include "engine/expr.h"
#include "lessons/format2.h"

#define LESSON_MAX_BYTES (1u << 20)   // a lesson file is at most 1 MiB
#define LESSON_MAX_STEPS 500
#define LESSON_MAX_CHECKS 500

typedef enum StepKind {
    STEP_INTRO,     // inputs known, nothing computed
    STEP_FORWARD,   // forward pass has computed gates up to and including `gate`
    STEP_BACKWARD,  // forward done; `gate` and the gates before it in its pass have pushed (LessonState)
    STEP_DONE,      // everything computed
} StepKind;

typedef struct LessonStep {
    StepKind kind;
    size_t gate;        // graph index of the current gate (FORWARD, BACKWARD)
    const char *text;   // narrative with markup and placeholders; "" = generated
    const char *notes;  // presenter notes, or ""
} LessonStep;

typedef struct LessonCheck {
    bool grad;          // check d(output)/d(name) rather than the value
    const char *name;
    double expected;    // ±inf passes when got equals it; NaN passes when got is NaN
    double tol;         // passes when |got - expected| <= tol * max(1, |expected|)
    int line;           // for messages
} LessonCheck;

#define LESSON_MAX_PARAMS 16

// `train: lr 0.1 params w b`: the window can run gradient descent on these
// inputs to lower the output, one step per frame, with a live plot.
typedef struct LessonTrain {
    bool enabled;
    double lr;
    const char *params[LESSON_MAX_PARAMS];  // input names
    int nparams;
} LessonTrain;

typedef struct Lesson {
    Arena arena;        // every string and array below
    char *path;         // as given
    char *src;          // file text, owned; lone CR line ends are '\n' here
    const char *title;
    const char *view;   // "circuit" (CS231n style, steps reveal numbers) or "graph" (zoomable)
    Program *program;   // owned
    LessonStep *steps;
    size_t nsteps;
    LessonCheck *checks;
    size_t nchecks;
    LessonTrain train;
    size_t program_start, program_end; // the program block in src, for copies of the program
    LessonFormat2 f2;   // params, sources, panels, layout, step directives (every lesson has them)
} Lesson;

// Read and parse the lesson at path. Returns NULL with the reasons in d
// (which this function initialises; the caller frees it with diag_free).
Lesson *lesson_load(const char *path, Diag *d);

// Parse lesson text src[0..len) (copied). file names it in messages. d must
// be initialised on src by the caller. Lines may end in "\n", "\r\n" or an
// old Mac's lone "\r"; a UTF-8 byte-order mark at the start is skipped.
// Returns NULL on any error.
Lesson *lesson_parse(const char *src, size_t len, const char *file, Diag *d);

// Free a lesson. NULL is a no-op.
void lesson_destroy(Lesson *l);

// Bits lesson_eval sets in Value.mark: the node is an ancestor of the
// output (1), its value is on screen at this step, its gradient is, and (for
// a gate) it has pushed its gradient to its inputs.
#define LESSON_SHOWN_VALUE 2
#define LESSON_SHOWN_GRAD 4
#define LESSON_PUSHED 8

// Build the lesson's program into g and bring it to step i. Each node's
// gradient is the sum of what the gates that have pushed so far sent it
// (see LessonState), so a value feeding several gates shows a partial sum
// until all of them have pushed, and 0 before any has. Sets the
// LESSON_SHOWN_* and LESSON_PUSHED bits on every node. Returns the output
// node, or NULL when the graph ran out of room.
Value *lesson_eval(const Lesson *l, Graph *g, size_t step);

// What a view needs to know about which numbers are on screen at a step.
//
// Backward steps run in the order the file gives them. A run of consecutive
// backward steps is one backward pass (an intro, forward or done step ends
// it). At a backward step, the gates that have pushed their gradient are the
// ones named by the steps of its pass so far, pass_first..step, and every
// gate computed from one of them (whose gradient had to be complete first);
// at a done step, every gate. The parser refuses an order in which a step
// names a gate that an earlier step of the pass had to push without naming it.
typedef struct LessonState {
    StepKind kind;
    size_t gate;            // current gate's graph index, or SIZE_MAX
    size_t forward_upto;    // gates with index <= this have values shown
    size_t pass_first;      // BACKWARD: the first step of this step's backward pass; else SIZE_MAX
    bool backward_started;  // gradients are on screen (BACKWARD and DONE)
} LessonState;

// Which numbers step `step` shows: how far the forward and backward passes
// have got and which gate is current. Steps past the end count as done.
LessonState lesson_state(const Lesson *l, size_t step);

// Build the program into g and run the whole backward pass, whatever the
// steps say: the state checks are made against. Every LESSON_SHOWN_* bit
// is set, and LESSON_PUSHED on every gate the output depends on.
// Returns the output node, or NULL when the graph ran out of room.
Value *lesson_eval_full(const Lesson *l, Graph *g);

// Expand a step's text: placeholders {name} and {grad name} become numbers
// from g; an empty text becomes a generated description of the step.
// Writes at most n bytes (NUL-terminated) to buf. Returns buf.
char *lesson_step_text(const Lesson *l, const Graph *g, size_t step, char *buf, size_t n);

// When a number on screen at this step is NaN or ±Inf, describe where it
// first went wrong and why, in narrative markup ("`log(0)` is **-Inf**: the
// logarithm needs a positive input ..."), and return true. g must have been
// evaluated with lesson_eval. Returns false (buf = "") when all is finite.
bool lesson_explain_faults(const Graph *g, char *buf, size_t n);

// One step of gradient descent on the lesson's train params: evaluate the
// program with the whole backward pass, then move each param against its
// gradient (x -= lr * d(out)/dx) and store it as the input's new value.
// Returns the output's value before the step (NaN when the graph ran out of
// room). Does nothing but evaluate when the lesson has no `train:` line.
double lesson_train_step(Lesson *l, Graph *g);

// Run check i against a graph evaluated with lesson_eval_full. Stores the value
// found in *got. Returns true when it passes.
bool lesson_check_run(const Lesson *l, const Graph *g, size_t i, double *got);

// A one-line description of check i ("grad x == -4").
char *lesson_check_describe(const Lesson *l, size_t i, char *buf, size_t n);

#endif
