// sources.h: what computes a lesson's state. One table of kinds; each kind
// is a thin adapter over the engine or src/models that publishes named
// arrays with shapes (a loss history, a trained weight, a norm per time
// step). A lesson declares instances (`source: fit train lr {lr}`) and the
// run (run.h) advances them, on a worker thread in the window and in the
// caller's thread for `check` and `render`. An instance's state is a
// function of its options and its step count only (seeds included, frame
// timing never), so the window, check and render agree.
//
// Adding a kind: write one file with its functions and add a row to the
// table in sources.c. Nothing else changes: the parser looks kinds up by
// name, the run and the views only see arrays.
#ifndef GRADLAB_SOURCES_H
#define GRADLAB_SOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include "lessons/lesson.h"

#define RUN_ARRAY_NAME 64
#define RUN_MAX_ARRAYS 256

// One published array: name ("fit.loss"), shape and where its numbers are.
typedef struct RunArray {
    char name[RUN_ARRAY_NAME];
    int ndim;                 // 0 (a number), 1 or 2
    int shape[2];
    size_t offset;            // into RunArrays.pool
} RunArray;

// A set of published arrays. Zero-initialised is empty; free with run_arrays_free.
typedef struct RunArrays {
    RunArray arrays[RUN_MAX_ARRAYS];
    int n;
    int refused;              // adds refused since the last clear: all RUN_MAX_ARRAYS slots taken
    double *pool;
    size_t used, cap;
} RunArrays;

// Drop every array, keep the memory.
void run_arrays_clear(RunArrays *a);

// Free the pool. NULL is a no-op.
void run_arrays_free(RunArrays *a);

// Add an array called prefix + name of the given shape (ndim 0..2); returns
// its numbers (owned by a, uninitialised, valid until the next add or clear)
// for the caller to fill, or NULL when out of memory or slots (counted in
// a->refused: the run fails the source that published it, see run.c).
double *run_arrays_add(RunArrays *a, const char *prefix, const char *name, int ndim, const int *shape);

// Add the number v called prefix + name (an array of no dimensions), as
// run_arrays_add does; when that fails nothing is written.
void run_arrays_number(RunArrays *a, const char *prefix, const char *name, double v);

// The array called name, or NULL; *data gets its numbers.
const RunArray *run_arrays_find(const RunArrays *a, const char *name, const double **data);

// Make dst a copy of src. False when out of memory (dst is then empty).
bool run_arrays_copy(RunArrays *dst, const RunArrays *src);

// The values the run's parameters have, for an instance to read its {param} options.
typedef struct SourceParams {
    const Lesson *lesson;
    const double *values;     // (lesson->f2.nparams)
} SourceParams;

typedef struct SourceKind {
    const char *name;
    const char *summary;                 // one line, for lessons/README.md and errors
    const char *const *options;          // the option keys it accepts, NULL-terminated
    int default_limit;                   // steps it runs to when no step says how many (0: none)
    bool reads_program;                  // reads the lesson's program, with every program input
                                         // (so a change to any of them remakes it)
    // Make an instance of decl. NULL with a reason in err when an option is wrong.
    void *(*create)(const SourceParams *p, const LessonSource *decl, char *err, size_t n);
    void (*destroy)(void *inst);
    // Take at most max steps; returns how many it took (fewer when it has
    // finished: converged, hit its limit or diverged).
    int (*advance)(void *inst, int max);
    // Steps taken so far, and whether it has finished (with why, or NULL).
    int (*steps)(const void *inst);
    const char *(*finished)(const void *inst);
    // Publish the instance's arrays into out, each named prefix + its name.
    void (*publish)(const void *inst, const char *prefix, RunArrays *out);
    // Optional. Take new parameter values (decl's options read with p)
    // without starting again: true when inst now has exactly the state an
    // instance made with p would have after the same steps (a sampling
    // temperature, say, that training never reads); false when the kind
    // cannot: the run then lets inst go (its state may be half changed) and
    // makes a new instance.
    bool (*retune)(void *inst, const SourceParams *p, const LessonSource *decl);
    // Optional. About how many bytes inst holds (models, data, buffers,
    // histories): the run cache keeps parked instances within a budget
    // (run_cache.c). NULL for a kind whose instances are small.
    size_t (*bytes)(const void *inst);
} SourceKind;

extern const SourceKind *const source_kinds[];
extern const int source_kind_count;

// The index of the kind called name, or -1.
int source_kind_find(const char *name);

// The names of every kind, for "did you mean" (source_kind_count of them).
const char *const *source_kind_names(void);

// Whether decl reads parameter i of l: an option written {NAME}, or, for a
// kind that reads the lesson's program (reads_program), a program input.
// Only then can changing the parameter change what decl makes.
bool source_reads_param(const Lesson *l, const LessonSource *decl, int i);

// Helpers for kinds: the value of option key in decl, or NULL.
const char *source_option(const LessonSource *decl, const char *key);

// Read option key as a number in [lo, hi] (a literal or {param}); dflt when
// absent. False with a reason in err otherwise.
bool source_option_number(const SourceParams *p, const LessonSource *decl, const char *key, double dflt,
                          double lo, double hi, double *out, char *err, size_t n);

// Read option key as a word: a literal word, or {param} naming a choice
// parameter (its current word) or a toggle ("on" or "off"). dflt when
// absent. NULL with a reason in err when {param} names no such parameter.
const char *source_option_word(const SourceParams *p, const LessonSource *decl, const char *key,
                               const char *dflt, char *err, size_t n);

#endif
