// run_cache.c: snapshots and parked instances shared by the headless runs
// of one lesson; see run_cache.h.
#include "lessons/run_cache.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_MAX_PARKED 8                    // instances kept for resuming (a run holds up to 9)
#define CACHE_MAX_BYTES ((size_t)64 << 20)    // memory the kept snapshots hold, in bytes
// What the parked instances hold (SourceKind.bytes), in bytes. A run that
// changes its sources' parameters parks its old instances while it makes
// new ones: unbounded, eight big sources were held twice (steering: 253 MB,
// transfer: 348 MB, past the README's 256 MB for any legal lesson).
#define CACHE_MAX_PARKED_BYTES ((size_t)32 << 20)

typedef struct Parked {
    char *key;
    const SourceKind *kind;
    void *inst;
    size_t bytes;             // kind->bytes(inst) when parked
} Parked;

struct RunCache {
    RunSnapshot **snaps;      // (nsnaps), each owned
    int nsnaps, capsnaps;
    size_t bytes;             // memory held by the snapshots (run_cache_store)
    Parked parked[CACHE_MAX_PARKED]; // oldest first
    int nparked;
    size_t parked_bytes;      // their bytes together
    RunCacheStats stats;
};

RunCache *run_cache_create(void)
{
    return calloc(1, sizeof(RunCache));
}

void run_cache_destroy(RunCache *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nsnaps; i++) {
        free(c->snaps[i]->key);
        free(c->snaps[i]->status);
        run_arrays_free(&c->snaps[i]->arrays);
        free(c->snaps[i]);
    }
    free(c->snaps);
    for (int i = 0; i < c->nparked; i++) {
        c->parked[i].kind->destroy(c->parked[i].inst);
        free(c->parked[i].key);
    }
    free(c);
}

RunCacheStats run_cache_stats(const RunCache *c)
{
    return c ? c->stats : (RunCacheStats){0};
}

const RunSnapshot *run_cache_find(const RunCache *c, const char *key, int target)
{
    for (int i = 0; i < c->nsnaps; i++) {
        const RunSnapshot *s = c->snaps[i];
        if ((s->steps == target || (s->status && s->steps <= target)) && strcmp(s->key, key) == 0)
            return s;
    }
    return NULL;
}

void run_cache_store(RunCache *c, const char *key, const SourceKind *k, const void *inst)
{
    int steps = k->steps(inst);
    if (run_cache_find(c, key, steps) || c->bytes >= CACHE_MAX_BYTES)
        return;
    if (c->nsnaps == c->capsnaps) {
        int cap = c->capsnaps ? 2 * c->capsnaps : 16;
        RunSnapshot **snaps = realloc(c->snaps, (size_t)cap * sizeof(*snaps));
        if (!snaps)
            return;
        c->snaps = snaps;
        c->capsnaps = cap;
    }
    RunSnapshot *s = calloc(1, sizeof(*s));
    const char *status = k->finished(inst);
    if (!s || !(s->key = strdup(key)) || (status && !(s->status = strdup(status)))) {
        if (s)
            free(s->key);
        free(s);
        return;
    }
    s->steps = steps;
    k->publish(inst, "", &s->arrays);
    // The pool grows by doubling: kept, it holds only the numbers.
    if (s->arrays.used && s->arrays.cap > s->arrays.used) {
        double *pool = realloc(s->arrays.pool, s->arrays.used * sizeof(double));
        if (pool) {
            s->arrays.pool = pool;
            s->arrays.cap = s->arrays.used;
        }
    }
    // What the snapshot holds: itself (its RunArrays has RUN_MAX_ARRAYS
    // slots), its pool, key and status.
    size_t bytes = sizeof(*s) + s->arrays.cap * sizeof(double) + strlen(key) + 1 +
                   (s->status ? strlen(s->status) + 1 : 0);
    // More than RUN_MAX_ARRAYS: never served cut short (the run reports
    // it). Past the bound: not kept (the bound is on what is kept, so one
    // big snapshot cannot carry the cache past it).
    if (s->arrays.refused || c->bytes + bytes > CACHE_MAX_BYTES) {
        run_arrays_free(&s->arrays);
        free(s->status);
        free(s->key);
        free(s);
        return;
    }
    c->bytes += bytes;
    c->snaps[c->nsnaps++] = s;
}

// Destroy the oldest parked instance.
static void drop_oldest(RunCache *c)
{
    c->parked[0].kind->destroy(c->parked[0].inst);
    free(c->parked[0].key);
    c->parked_bytes -= c->parked[0].bytes;
    memmove(&c->parked[0], &c->parked[1], (size_t)(c->nparked - 1) * sizeof(Parked));
    c->nparked--;
}

void run_cache_park(RunCache *c, const char *key, const SourceKind *k, void *inst)
{
    size_t bytes = k->bytes ? k->bytes(inst) : 0;
    char *copy = bytes <= CACHE_MAX_PARKED_BYTES ? strdup(key) : NULL;
    if (!copy) { // out of memory, or larger than the whole budget
        k->destroy(inst);
        return;
    }
    // The oldest go until there is a place and room for it.
    while (c->nparked == CACHE_MAX_PARKED || (c->nparked && c->parked_bytes + bytes > CACHE_MAX_PARKED_BYTES))
        drop_oldest(c);
    c->parked[c->nparked++] = (Parked){.key = copy, .kind = k, .inst = inst, .bytes = bytes};
    c->parked_bytes += bytes;
}

void *run_cache_take(RunCache *c, const char *key, int target)
{
    int best = -1, best_steps = -1;
    for (int i = 0; i < c->nparked; i++) {
        int s = c->parked[i].kind->steps(c->parked[i].inst);
        if (s <= target && s > best_steps && strcmp(c->parked[i].key, key) == 0) {
            best = i;
            best_steps = s;
        }
    }
    if (best < 0)
        return NULL;
    void *inst = c->parked[best].inst;
    c->parked_bytes -= c->parked[best].bytes;
    free(c->parked[best].key);
    memmove(&c->parked[best], &c->parked[best + 1], (size_t)(c->nparked - best - 1) * sizeof(Parked));
    c->nparked--;
    return inst;
}

void run_cache_count(RunCache *c, int created, int served, int resumed, long steps)
{
    c->stats.created += created;
    c->stats.served += served;
    c->stats.resumed += resumed;
    c->stats.steps += steps;
}
