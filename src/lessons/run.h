// run.h: a lesson being run. The run owns everything that changes while a
// lesson is shown: the parameter values, the source instances and the
// worker thread that advances them, the published arrays (a snapshot the
// views read), and the program's graph evaluated at the current step.
// Views never evaluate or change lesson state; they read a run.
//
//     Run *r = run_create(lesson, true, err, sizeof(err));   // the window
//     run_goto(r, step);            // apply the step's set:/run:/show: directives
//     run_poll(r);                  // each frame: take the worker's latest snapshot
//     ... draw from run_graph(r), run_arrays(r) ...
//     run_destroy(r);
//
// Headless (check, render), create it with threaded = false and call
// run_settle after run_goto: the sources advance in the caller's thread to
// the counts the step asks for. Either way, a source's state after N steps
// depends on its options and N only, so the numbers are the same.
#ifndef GRADLAB_RUN_H
#define GRADLAB_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "lessons/lesson.h"
#include "lessons/sources.h"

typedef struct Run Run;
typedef struct RunCache RunCache; // run_cache.h

// Create the run of l (not owned; it must outlive the run, and the run sets
// the inputs of l's program) at step 0 with every parameter at its default.
// threaded: advance sources on a worker thread. NULL with a reason in err
// when out of memory or a source's options are wrong.
Run *run_create(Lesson *l, bool threaded, char *err, size_t n);

// run_create headless (threaded = false), sharing results with the other
// runs of l made with cache (run_cache.h: not owned; it must outlive the
// run): a source another run has already taken to the same configuration
// and count is not trained again. The numbers are the same as without.
Run *run_create_shared(Lesson *l, RunCache *cache, char *err, size_t n);

// Stop the worker and free everything; the program's inputs get the
// lesson's own values back. NULL is a no-op.
void run_destroy(Run *r);

// Go to step: parameters, source targets and panel visibility become what
// the directives of the steps up to it say (a step forward from the current
// one applies only its own directives on top of the current values, so
// what a student set stays), and the program is evaluated at that step.
void run_goto(Run *r, size_t step);

// The current step.
size_t run_step(const Run *r);

// Parameters: lesson->f2.params in order. run_set_param clamps to the
// declared range, restarts the sources (their options may read it) and
// re-evaluates the program. Returns the value stored.
int run_param_find(const Run *r, const char *name);
double run_param(const Run *r, int i);
double run_set_param(Run *r, int i, double value);

// Headless: advance every source to its target in this thread.
void run_settle(Run *r);

// Window, each frame: take the worker's latest snapshot (and re-evaluate the
// program when trained values changed). Returns true when something changed.
bool run_poll(Run *r);

// True while a source has not reached its target (the window keeps drawing).
bool run_busy(const Run *r);

// The latest published arrays (names "SOURCE.ARRAY"), read-only.
const RunArrays *run_arrays(const Run *r);

// A published number or array by name: "fit.loss", "program.grad.x", a
// parameter's name, or a program name (its value). A parameter that is a
// program input gives the value the program ran with: a source's trained
// value once it has stepped (as {NAME} in a narrative shows it). False when
// unknown; *data gets the numbers, *count how many.
bool run_lookup(const Run *r, const char *name, const double **data, int *count);

// The program graph at the current step (values and gradients as far as
// the step has got; see lesson_eval) and its output.
const Graph *run_graph(const Run *r);
const Value *run_output(const Run *r);

// Source i (lesson->f2.sources; the implicit "program" source is last):
// its target and steps so far, and why it stopped (NULL while running or
// not finished). run_extend raises the target by steps (the window's P key).
int run_source_count(const Run *r);
int run_source_find(const Run *r, const char *name); // -1 when no source has that name
int run_source_target(const Run *r, int i);
int run_source_steps(const Run *r, int i);
const char *run_source_status(const Run *r, int i);   // a copy, valid until the next call for i
// How many times source i has started (made, or with a cache taken from
// it) or been tried and failed to: a parameter it reads changed (unless its
// kind could retune), or a step went back past its count. 1 after the
// first. A source that failed is not tried again until its options change.
int run_source_made(const Run *r, int i);
void run_extend(Run *r, int i, int steps);
// Whether source i failed: it could not be made (an option is wrong) or its
// arrays did not fit (RUN_MAX_ARRAYS across the lesson's sources); then it
// has no arrays and run_source_status says why. Its name ("fit"; "program"
// for the implicit one).
bool run_source_failed(const Run *r, int i);
const char *run_source_name(const Run *r, int i);

// A nudge panel's figures: the input x nudged by h moves the output from f
// to f_plus; grad is the analytic df/dx, numeric the slope (f_plus - f) / h.
typedef struct RunNudge {
    double x, h, f, f_plus, grad, numeric;
} RunNudge;

// The figures of nudge panel i at the current parameter values. False when
// i is not a nudge panel or the program could not be built.
bool run_nudge(const Run *r, int panel, RunNudge *out);

// Copy text to buf (at most n bytes, NUL-terminated) with each {NAME} or
// {NAME:FORMAT} whose NAME is a parameter (a choice gives its word) or a
// published array (its last number) replaced by the number, printed with
// the printf FORMAT (one of e f g with flags, width and precision; default:
// the shortest form that reads back). Other braces are left as they are,
// for lesson_step_text. r may be NULL (nothing is replaced).
char *run_format(const Run *r, const char *text, char *buf, size_t n);

// Run format-2 check i (lesson->f2.checks) on a fresh headless run of l at
// its defaults: for 'after', the source's figure after its steps against the
// bound; for 'gradcheck', the largest disagreement between the central
// difference and backprop over the program's inputs against tol. Stores the
// figure found (or the disagreement) in *got. False with a reason in why
// when it fails (why may hold a note when it passes too).
bool run_check2(Lesson *l, int i, double *got, char *why, size_t n);

// run_check2 on a run made with run_create_shared(l, cache): what earlier
// runs with cache computed (the step screens, other checks) is reused.
bool run_check2_shared(Lesson *l, int i, RunCache *cache, double *got, char *why, size_t n);

// Whether panel i shows at the current step, and whether a panel or a
// program name is highlighted by the step.
bool run_panel_visible(const Run *r, int panel);
bool run_highlighted(const Run *r, const char *name);

#endif
