// run_cache.h: what headless runs of one lesson share so that no source is
// trained twice. A source's state after N steps is a function of its kind,
// its options (with the parameter values they read) and N only (sources.h),
// so `gradlab check` and `gradlab render`, which make several runs of one
// lesson (the step screens, then a fresh run per `check: after`), keep what
// each run computed here:
//
//   - a snapshot of a source's published arrays each time it comes to rest
//     (reached its step's count, or finished), keyed by its configuration
//     and step count: a later run that wants the same configuration at the
//     same count takes the arrays and trains nothing;
//   - the instances a run lets go (its parameters changed, or the run
//     ended), "parked": a later run that wants that configuration at a
//     higher count takes one and trains only the missing steps.
//
//     RunCache *c = run_cache_create();
//     Run *r = run_create_shared(l, c, err, n);   // run.h; headless
//     ... run_goto, run_settle ...
//     run_destroy(r);                             // its instances park in c
//     run_check2_shared(l, i, c, &got, why, n);   // reuses them
//     run_cache_destroy(c);                       // after every run that used it
//
// One cache serves one lesson (its sources read files next to it) in one
// thread; it must outlive every run made with it.
#ifndef GRADLAB_RUN_CACHE_H
#define GRADLAB_RUN_CACHE_H

#include <stdbool.h>

#include "lessons/sources.h"

typedef struct RunCache RunCache;

// What the runs sharing a cache did, for tests and for `check` to report.
typedef struct RunCacheStats {
    int created;   // instances made by a kind's create (each one trains from step 0)
    int served;    // sources given a stored snapshot instead of an instance
    int resumed;   // parked instances taken up again
    long steps;    // steps taken by every instance, summed
} RunCacheStats;

// An empty cache, or NULL when out of memory. Free with run_cache_destroy.
RunCache *run_cache_create(void);

// Free the snapshots and destroy the parked instances. NULL is a no-op.
void run_cache_destroy(RunCache *c);

// The counts so far.
RunCacheStats run_cache_stats(const RunCache *c);

// ---------------------------------------------------------------------------
// run.c's side. A key is a string naming a source's configuration: its kind,
// its options with each {param} replaced by the value, and the program's
// inputs for a kind that reads the program (program, train).

// A source's arrays (published with no prefix), step count and status, as it
// was when stored. Owned by the cache; valid until run_cache_destroy.
typedef struct RunSnapshot {
    char *key;
    int steps;
    char *status;     // why it finished, or NULL while it could go on
    RunArrays arrays;
} RunSnapshot;

// The snapshot of key that is the state after target steps: one taken at
// exactly target steps, or one of a source that finished before target
// (it would take no more steps). NULL when there is none.
const RunSnapshot *run_cache_find(const RunCache *c, const char *key, int target);

// Store a snapshot of inst (of kind k) under key at its current step count,
// unless run_cache_find(key, steps) already has one. Out of memory or past
// the cache's memory budget, nothing is stored.
void run_cache_store(RunCache *c, const char *key, const SourceKind *k, const void *inst);

// Give inst (of kind k, configuration key) to the cache, which destroys it
// when full (the oldest goes first: at most 8 instances, and 32 MB as their
// kinds' bytes count them) or with itself. One larger than 32 MB alone is
// destroyed at once. key is copied.
void run_cache_park(RunCache *c, const char *key, const SourceKind *k, void *inst);

// Take back a parked instance of key that has taken at most target steps
// (the one that has taken most), or NULL. The caller owns it.
void *run_cache_take(RunCache *c, const char *key, int target);

// Add to the counts (see RunCacheStats).
void run_cache_count(RunCache *c, int created, int served, int resumed, long steps);

#endif
