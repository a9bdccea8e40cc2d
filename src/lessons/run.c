// run.c: a lesson being run: parameters, sources on a worker thread,
// snapshots, the program graph; see run.h.
//
// Threads: the caller's thread (the window's main loop) owns the parameter
// values it shows, the snapshot and the graph. The worker owns the source
// instances. They meet under `mu` in the shared block: the parameter values
// the instances were made from (`gen` counts changes), each source's target,
// and the worker's latest publication (`pending`, counted by `serial`).
//
// A parameter change remakes only the sources whose configuration it changes
// (source_key), or lets a kind with retune take the new values; the others
// keep their state. Headless runs made with a
// RunCache (run_cache.h) also share what they trained with one another.
#include "lessons/run.h"

#include "engine/numfmt.h"
#include "engine/tensor/gemm.h"
#include "lessons/run_cache.h"
#include "lessons/source_kinds.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_MAX_SOURCES (LESSON_MAX_SOURCES + 1)  // the lesson's, and the implicit "program"
#define RUN_CHUNK 25                               // steps a source takes between publications

struct Run {
    Lesson *l;
    bool threaded;
    // The caller's thread.
    double params[LESSON_MAX_PARAMS2];
    size_t step;
    bool visible[LESSON_MAX_PANELS];
    Graph *graph;
    Value *out;
    RunArrays snap;
    unsigned snap_serial;
    Graph *scratch;                     // for nudge figures
    RunNudge nudge[LESSON_MAX_PANELS];
    bool nudge_ok[LESSON_MAX_PANELS];
    int nsources;
    const LessonSource *decl[RUN_MAX_SOURCES];
    LessonSource program_decl;          // the implicit "program" source
    // Shared, under mu.
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t worker;
    bool quit, started;
    double shared_params[LESSON_MAX_PARAMS2];
    unsigned gen;                       // bumped when shared_params change
    int target[RUN_MAX_SOURCES];
    int steps[RUN_MAX_SOURCES];         // as last published
    int made[RUN_MAX_SOURCES];          // instances made (or tried and failed) so far
    const char *status[RUN_MAX_SOURCES];
    char error[RUN_MAX_SOURCES][160];   // a source that could not be made, and why
    char status_copy[RUN_MAX_SOURCES][160]; // the caller's copies (run_source_status)
    RunArrays pending;
    unsigned serial;
    bool busy;
    // The worker (or, headless, run_settle).
    void *inst[RUN_MAX_SOURCES];
    unsigned inst_gen;
    int turn;                           // the source whose turn it is to advance next
    // Sharing (run_cache.h): what each instance was made from, and, headless
    // with a cache, a stored result standing in for an instance.
    char *key[RUN_MAX_SOURCES];         // the configuration inst or held was made from, or that
                                        // failed to make (error); NULL when unknown (out of memory)
                                        // or refused for its arrays (publish_locked)
    const RunSnapshot *held[RUN_MAX_SOURCES];
    double inst_params[LESSON_MAX_PARAMS2]; // the parameter values of inst_gen
    RunCache *cache;                    // NULL: share nothing across runs
};

// ---------------------------------------------------------------------------
// The worker's side

// Source i's step count and why it finished (NULL while it can go on):
// its instance's, or the stored result's that stands in for it.
static int source_steps_now(const Run *r, int i)
{
    if (r->inst[i])
        return source_kinds[r->decl[i]->kind]->steps(r->inst[i]);
    return r->held[i] ? r->held[i]->steps : 0;
}

static const char *source_finished_now(const Run *r, int i)
{
    if (r->inst[i])
        return source_kinds[r->decl[i]->kind]->finished(r->inst[i]);
    return r->held[i] ? r->held[i]->status : NULL;
}

// Whether source i exists and is short of its target. Holds mu.
static bool source_short(const Run *r, int i)
{
    return (r->inst[i] || r->held[i]) && !source_finished_now(r, i) && source_steps_now(r, i) < r->target[i];
}

// Publish every instance's arrays into r->pending. Holds mu. The implicit
// program source (the last) goes first, then the lesson's in file order. A
// source whose arrays do not all fit in what the ones before it left of
// RUN_MAX_ARRAYS fails: none of its arrays stay, its instance is dropped and
// its status says how many it asked for and the limit. The first publication
// follows the sources' creation, so this is known as the run starts.
static void publish_locked(Run *r)
{
    run_arrays_clear(&r->pending);
    for (int j = 0; j < r->nsources; j++) {
        int i = (j + r->nsources - 1) % r->nsources;
        const SourceKind *k = source_kinds[r->decl[i]->kind];
        bool exists = r->inst[i] || r->held[i];
        r->steps[i] = exists ? source_steps_now(r, i) : 0;
        r->status[i] = exists ? source_finished_now(r, i) : r->error[i];
        if (!exists)
            continue;
        char prefix[RUN_ARRAY_NAME];
        snprintf(prefix, sizeof(prefix), "%s.", r->decl[i]->name);
        int n0 = r->pending.n;
        size_t used0 = r->pending.used;
        if (r->inst[i]) {
            k->publish(r->inst[i], prefix, &r->pending);
        } else {
            const RunArrays *a = &r->held[i]->arrays; // the same names, shapes and numbers, stored
            for (int q = 0; q < a->n; q++) {
                const RunArray *x = &a->arrays[q];
                double *d = run_arrays_add(&r->pending, prefix, x->name, x->ndim, x->shape);
                if (d)
                    memcpy(d, a->pool + x->offset, (size_t)x->shape[0] * (size_t)x->shape[1] * sizeof(double));
            }
        }
        if (r->pending.refused == 0)
            continue;
        int asked = r->pending.n - n0 + r->pending.refused;
        r->pending.n = n0, r->pending.used = used0, r->pending.refused = 0;
        snprintf(r->error[i], sizeof(r->error[i]),
                 "it publishes %d arrays; with the %d of the sources before it that is more than %d, the most "
                 "a lesson's sources may publish together",
                 asked, n0, RUN_MAX_ARRAYS);
        if (r->inst[i])
            k->destroy(r->inst[i]);
        r->inst[i] = NULL;
        r->held[i] = NULL;
        // Not its options' fault but the sources' before it: no key, so
        // that the next remake tries it again (work keeps a source that
        // failed from the same key as it is).
        free(r->key[i]);
        r->key[i] = NULL;
        r->steps[i] = 0;
        r->status[i] = r->error[i];
    }
    r->serial++;
}

// A growing string for source_key; bad when out of memory.
typedef struct KeyBuf {
    char *s;
    size_t len, cap;
    bool bad;
} KeyBuf;

// Append text, preceded by its length (so that no two lists of texts make the same key).
static void key_add(KeyBuf *b, const char *text)
{
    char head[24];
    size_t n = strlen(text), h = (size_t)snprintf(head, sizeof(head), "%zu:", n);
    if (b->bad)
        return;
    if (b->len + h + n + 1 > b->cap) {
        size_t cap = (b->len + h + n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->bad = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, head, h);
    memcpy(b->s + b->len + h, text, n);
    b->len += h + n;
    b->s[b->len] = '\0';
}

// The configuration of source i when made with params (run_cache.h): its
// kind, each option with a {param} replaced by the parameter's value (as
// source_option_number and source_option_word read it), and, for a kind
// that reads the lesson's program (program, train), the values of the
// program's inputs. Owned by the caller; NULL when out of memory.
static char *source_key(const Run *r, int i, const double *params)
{
    const LessonSource *d = r->decl[i];
    const Lesson *l = r->l;
    KeyBuf b = {0};
    char num[40];
    key_add(&b, source_kinds[d->kind]->name);
    for (int k = 0; k < d->nopts; k++) {
        const char *v = d->values[k];
        size_t len = strlen(v);
        key_add(&b, d->keys[k]);
        int found = -1;
        if (len > 2 && v[0] == '{' && v[len - 1] == '}')
            for (int p = 0; p < l->f2.nparams; p++)
                if (strlen(l->f2.params[p].name) == len - 2 && memcmp(l->f2.params[p].name, v + 1, len - 2) == 0)
                    found = p;
        if (found >= 0)
            snprintf(num, sizeof(num), "%.17g", params[found]);
        key_add(&b, found >= 0 ? num : v);
    }
    key_add(&b, "inputs");
    for (int p = 0; p < l->f2.nparams && source_kinds[d->kind]->reads_program; p++) {
        if (!l->f2.params[p].input)
            continue;
        snprintf(num, sizeof(num), "%.17g", params[p]);
        key_add(&b, num);
    }
    if (b.bad) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

// Give up source i's instance: into the cache (its state stored, the
// instance parked for a later run) or destroyed. Its key stays.
static void park(Run *r, int i)
{
    const SourceKind *k = source_kinds[r->decl[i]->kind];
    if (r->inst[i] && r->cache && r->key[i]) {
        run_cache_store(r->cache, r->key[i], k, r->inst[i]);
        run_cache_park(r->cache, r->key[i], k, r->inst[i]);
    } else if (r->inst[i]) {
        k->destroy(r->inst[i]);
    }
    r->inst[i] = NULL;
}

// Let go of source i altogether: its instance (see park), stored result and key.
static void retire(Run *r, int i)
{
    park(r, i);
    r->held[i] = NULL;
    free(r->key[i]);
    r->key[i] = NULL;
}

// With a cache, once source i is at rest (at its target, or finished), store its state.
static void store_at_rest(Run *r, int i)
{
    if (r->cache && r->key[i] && r->inst[i] && !source_short(r, i))
        run_cache_store(r->cache, r->key[i], source_kinds[r->decl[i]->kind], r->inst[i]);
}

// Headless with a cache, before source i (short of its target) trains: a
// stored result at the target replaces it, a parked instance nearer the
// target than its own replaces its instance, and a stored result short of
// the target becomes an instance again (parked, or made). True when it did
// any of that (the caller publishes). Holds mu (no worker runs).
static bool reuse(Run *r, int i)
{
    const SourceKind *k = source_kinds[r->decl[i]->kind];
    const RunSnapshot *s = run_cache_find(r->cache, r->key[i], r->target[i]);
    if (s) {
        park(r, i);
        r->held[i] = s;
        r->made[i]++;
        run_cache_count(r->cache, 0, 1, 0, 0);
        return true;
    }
    void *inst = run_cache_take(r->cache, r->key[i], r->target[i]);
    if (inst && r->inst[i] && k->steps(inst) <= k->steps(r->inst[i])) {
        run_cache_park(r->cache, r->key[i], k, inst); // no nearer than its own
        return false;
    }
    if (inst) {
        park(r, i);
        r->inst[i] = inst;
        r->held[i] = NULL;
        r->made[i]++;
        run_cache_count(r->cache, 0, 0, 1, 0);
        return true;
    }
    if (r->inst[i])
        return false;
    SourceParams sp = {.lesson = r->l, .values = r->inst_params};
    r->error[i][0] = '\0';
    r->inst[i] = k->create(&sp, r->decl[i], r->error[i], sizeof(r->error[i]));
    r->held[i] = NULL;
    r->made[i]++;
    if (r->inst[i])
        run_cache_count(r->cache, 1, 0, 0, 0);
    else
        retire(r, i);
    return true;
}

// One unit of work: remake the instances whose configuration the parameters
// changed (or that went past their step's count), else advance the next
// source (in turn) that is short of its target by one chunk. Returns false
// when there is nothing to do.
static bool work(Run *r)
{
    pthread_mutex_lock(&r->mu);
    if (r->quit) {
        pthread_mutex_unlock(&r->mu);
        return false;
    }
    if (r->inst_gen != r->gen) {
        unsigned gen = r->gen;
        double params[LESSON_MAX_PARAMS2];
        int target[RUN_MAX_SOURCES], have[RUN_MAX_SOURCES];
        memcpy(params, r->shared_params, sizeof(params));
        memcpy(target, r->target, sizeof(target));
        for (int i = 0; i < r->nsources; i++)
            have[i] = r->inst[i] || r->held[i] ? source_steps_now(r, i) : -1;
        pthread_mutex_unlock(&r->mu);
        // The instances are this thread's: retune and create run unlocked.
        SourceParams sp = {.lesson = r->l, .values = params};
        void *fresh[RUN_MAX_SOURCES];
        const RunSnapshot *held[RUN_MAX_SOURCES];
        char *keys[RUN_MAX_SOURCES];
        bool keep[RUN_MAX_SOURCES], retuned[RUN_MAX_SOURCES];
        char errors[RUN_MAX_SOURCES][160];
        int created = 0, served = 0, resumed = 0;
        for (int i = 0; i < r->nsources; i++) {
            const SourceKind *k = source_kinds[r->decl[i]->kind];
            errors[i][0] = '\0';
            fresh[i] = NULL;
            held[i] = NULL;
            retuned[i] = false;
            keys[i] = source_key(r, i, params);
            // Unchanged and not past its count: it stays as it is. So does
            // one that could not be made from these very options: it would
            // fail again, with the same message.
            bool same = keys[i] && r->key[i] && strcmp(keys[i], r->key[i]) == 0;
            keep[i] = same && (have[i] >= 0 ? have[i] <= target[i] : r->error[i][0] != '\0');
            if (keep[i])
                continue;
            // Changed, not past its count, and of a kind that can take the
            // new values without starting again: it keeps its state.
            bool tried = keys[i] && r->inst[i] && have[i] <= target[i] && k->retune;
            if (tried && k->retune(r->inst[i], &sp, r->decl[i])) {
                retuned[i] = true;
                continue;
            }
            // The old instance goes (parked, with a cache) before a fresh one
            // is made, so a source's models and data are never held twice;
            // one whose retune failed may be half changed and is never
            // parked. Its status may point into it: cleared until the
            // publication below.
            pthread_mutex_lock(&r->mu);
            if (tried) {
                k->destroy(r->inst[i]);
                r->inst[i] = NULL;
            }
            retire(r, i);
            r->status[i] = NULL;
            r->steps[i] = 0;
            pthread_mutex_unlock(&r->mu);
            if (r->cache && keys[i] && (held[i] = run_cache_find(r->cache, keys[i], target[i])))
                served++;
            else if (r->cache && keys[i] && (fresh[i] = run_cache_take(r->cache, keys[i], target[i])))
                resumed++;
            else if ((fresh[i] = k->create(&sp, r->decl[i], errors[i], sizeof(errors[i]))))
                created++;
        }
        pthread_mutex_lock(&r->mu);
        for (int i = 0; i < r->nsources; i++) {
            if (keep[i]) {
                free(keys[i]);
                continue;
            }
            if (retuned[i]) {
                free(r->key[i]);
                r->key[i] = keys[i];
                continue;
            }
            r->inst[i] = fresh[i];
            r->held[i] = held[i];
            if (fresh[i] || held[i]) {
                r->key[i] = keys[i];
                r->made[i]++;
            } else if (errors[i][0]) {
                r->key[i] = keys[i];   // what failed (see keep above)
                r->made[i]++;
            } else {
                free(keys[i]);
            }
            memcpy(r->error[i], errors[i], sizeof(errors[i]));
        }
        r->inst_gen = gen;
        memcpy(r->inst_params, params, sizeof(params));
        if (r->cache) {
            run_cache_count(r->cache, created, served, resumed, 0);
            for (int i = 0; i < r->nsources; i++)
                store_at_rest(r, i);
        }
        publish_locked(r);
        pthread_mutex_unlock(&r->mu);
        return true;
    }
    // Sources short of their targets take chunks in turn, so several
    // training runs grow side by side.
    int pick = -1;
    for (int j = 0; j < r->nsources && pick < 0; j++) {
        int i = (r->turn + j) % r->nsources;
        if (source_short(r, i))
            pick = i;
    }
    if (pick >= 0)
        r->turn = pick + 1;
    r->busy = pick >= 0;
    if (pick < 0) {
        pthread_mutex_unlock(&r->mu);
        return false;
    }
    if (r->cache && r->key[pick] && reuse(r, pick)) {
        publish_locked(r);
        pthread_mutex_unlock(&r->mu);
        return true;
    }
    const SourceKind *k = source_kinds[r->decl[pick]->kind];
    int want = r->target[pick] - k->steps(r->inst[pick]);
    unsigned gen = r->gen;
    pthread_mutex_unlock(&r->mu);
    int took = k->advance(r->inst[pick], want < RUN_CHUNK ? want : RUN_CHUNK);
    pthread_mutex_lock(&r->mu);
    // gen is what the instances were made from (the non-remake path); a
    // parameter changed while the chunk ran: nothing of it is published, the
    // next call remakes.
    if (r->gen == gen && k->steps(r->inst[pick]) > r->target[pick]) {
        // The lesson went back a step while this chunk ran, to a count
        // between the published one and where the chunk ended: unpublished,
        // the instance starts again (as run_goto has it for a count below
        // the published one).
        r->gen++;
    } else if (r->gen == gen) {
        if (r->cache) {
            run_cache_count(r->cache, 0, 0, 0, took);
            store_at_rest(r, pick);
        }
        publish_locked(r);
    }
    pthread_mutex_unlock(&r->mu);
    return true;
}

static void *worker_main(void *arg)
{
    Run *r = arg;
    for (;;) {
        if (work(r))
            continue;
        pthread_mutex_lock(&r->mu);
        if (r->quit) {
            pthread_mutex_unlock(&r->mu);
            gemm_free_buffers(); // this thread's packing buffers (models' products) die with it
            return NULL;
        }
        bool idle = r->inst_gen == r->gen;
        for (int i = 0; idle && i < r->nsources; i++)
            if (source_short(r, i))
                idle = false;
        if (idle)
            pthread_cond_wait(&r->cv, &r->mu);
        pthread_mutex_unlock(&r->mu);
    }
}

// ---------------------------------------------------------------------------
// The caller's side

// Copy the parameters to the shared block so the worker remakes the sources.
static void share_params(Run *r)
{
    pthread_mutex_lock(&r->mu);
    memcpy(r->shared_params, r->params, sizeof(r->params));
    r->gen++;
    r->busy = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

// Build the program at the current step with the parameters as inputs,
// trained values (a source's array named like an input) taking precedence.
static void evaluate(Run *r)
{
    Lesson *l = r->l;
    for (int i = 0; i < l->f2.nparams; i++)
        if (l->f2.params[i].input)
            program_set_input(l->program, l->f2.params[i].name, r->params[i]);
    for (int s = 0; s < r->nsources; s++) {
        pthread_mutex_lock(&r->mu);
        int taken = r->steps[s];
        pthread_mutex_unlock(&r->mu);
        // Only a source that has stepped has trained values to show.
        if (source_kinds[r->decl[s]->kind] == &source_program_kind || taken == 0)
            continue;
        for (size_t i = 0; i < program_input_count(l->program); i++) {
            char name[RUN_ARRAY_NAME];
            snprintf(name, sizeof(name), "%s.%s", r->decl[s]->name, program_input_name(l->program, i));
            const double *x;
            const RunArray *a = run_arrays_find(&r->snap, name, &x);
            if (a && a->ndim == 0)
                program_set_input(l->program, program_input_name(l->program, i), *x);
        }
    }
    r->out = lesson_eval(l, r->graph, r->step);
    // Nudge panels: the output at x and at x + h, and the analytic slope.
    for (int i = 0; i < l->f2.npanels; i++) {
        const LessonPanel *p = &l->f2.panels[i];
        r->nudge_ok[i] = false;
        if (p->kind != PANEL_NUDGE || !r->scratch)
            continue;
        int xi = run_param_find(r, p->nudge_input), hi = run_param_find(r, p->nudge_h);
        if (xi < 0 || hi < 0)
            continue;
        RunNudge *nd = &r->nudge[i];
        // x as the program has it: the parameter, or a trained value bound
        // over it above.
        nd->x = r->params[xi];
        for (size_t k = 0; k < program_input_count(l->program); k++)
            if (strcmp(program_input_name(l->program, k), p->nudge_input) == 0)
                nd->x = program_input_value(l->program, k);
        nd->h = r->params[hi];
        Value *out = program_build(l->program, r->scratch);
        if (!out)
            continue;
        graph_zero_grad(r->scratch);
        graph_backward(r->scratch, out);
        const Value *xv = program_lookup(l->program, r->scratch, p->nudge_input);
        nd->f = out->data;
        nd->grad = xv ? xv->grad : NAN;
        program_set_input(l->program, p->nudge_input, nd->x + nd->h);
        out = program_build(l->program, r->scratch);
        program_set_input(l->program, p->nudge_input, nd->x);
        if (!out)
            continue;
        nd->f_plus = out->data;
        nd->numeric = (nd->f_plus - nd->f) / nd->h;
        r->nudge_ok[i] = true;
    }
}

// run_create, and run_create_shared with a cache (headless only).
static Run *run_make(Lesson *l, bool threaded, RunCache *cache, char *err, size_t n)
{
    Run *r = calloc(1, sizeof(*r));
    if (!r || !(r->graph = graph_create(PROGRAM_MAX_NODES + 1)) ||
        !(r->scratch = graph_create(PROGRAM_MAX_NODES + 1))) {
        if (r)
            graph_destroy(r->graph);
        snprintf(err, n, "out of memory");
        free(r);
        return NULL;
    }
    r->l = l;
    r->threaded = threaded;
    r->cache = cache;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    for (int i = 0; i < l->f2.nparams; i++)
        r->params[i] = l->f2.params[i].value;
    for (int i = 0; i < l->f2.nsources; i++)
        r->decl[r->nsources++] = &l->f2.sources[i];
    r->program_decl = (LessonSource){.name = "program", .kind = source_kind_find("program")};
    r->decl[r->nsources++] = &r->program_decl;
    r->step = SIZE_MAX;
    run_goto(r, 0);
    if (threaded) {
        // The sources run on this thread, some with tens of KB of locals
        // (playground_forward's 64 KB): ask for glibc's usual 8 MB rather
        // than the C library's default (128 KB on musl).
        pthread_attr_t attr;
        bool attr_ok = pthread_attr_init(&attr) == 0;
        if (attr_ok)
            pthread_attr_setstacksize(&attr, (size_t)8 << 20);   // advice: the default if refused
        int rc = pthread_create(&r->worker, attr_ok ? &attr : NULL, worker_main, r);
        if (attr_ok)
            pthread_attr_destroy(&attr);
        if (rc != 0) {
            snprintf(err, n, "cannot start the worker thread");
            run_destroy(r);
            return NULL;
        }
        r->started = true;
    } else {
        run_settle(r);
    }
    return r;
}

Run *run_create(Lesson *l, bool threaded, char *err, size_t n)
{
    return run_make(l, threaded, NULL, err, n);
}

Run *run_create_shared(Lesson *l, RunCache *cache, char *err, size_t n)
{
    return run_make(l, false, cache, err, n);
}

void run_destroy(Run *r)
{
    if (!r)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->mu);
        r->quit = true;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->worker, NULL);
    }
    for (int i = 0; i < r->nsources; i++) // with a cache, the instances park there
        retire(r, i);
    for (int i = 0; i < r->l->f2.nparams; i++) // the program's inputs back to the lesson's own
        if (r->l->f2.params[i].input)
            program_set_input(r->l->program, r->l->f2.params[i].name, r->l->f2.params[i].value);
    run_arrays_free(&r->snap);
    run_arrays_free(&r->pending);
    graph_destroy(r->graph);
    graph_destroy(r->scratch);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

// Whether some source reads parameter i. Only then does changing it remake
// sources, and only those that read it (a view-only parameter, such as which
// frame a panel shows, leaves a training run alone).
static bool param_read_by_sources(const Run *r, int i)
{
    for (int s = 0; s < r->nsources; s++)
        if (source_reads_param(r->l, r->decl[s], i))
            return true;
    return false;
}

// Apply step k's directives to the parameters, targets and visibility.
static void apply_directives(Run *r, size_t k, bool *params_changed)
{
    const Lesson *l = r->l;
    if (!l->f2.directives || k >= l->nsteps)
        return;
    const StepDirectives *sd = &l->f2.directives[k];
    for (int j = 0; j < sd->n; j++) {
        const StepDirective *d = &sd->d[j];
        switch (d->kind) {
        case DIRECTIVE_SET:
            if (r->params[d->target] != d->value) {
                r->params[d->target] = d->value;
                *params_changed |= param_read_by_sources(r, d->target);
            }
            break;
        case DIRECTIVE_RUN:
            r->target[d->target] = (int)d->value;
            break;
        case DIRECTIVE_SHOW:
        case DIRECTIVE_HIDE:
            r->visible[d->target] = d->kind == DIRECTIVE_SHOW;
            break;
        case DIRECTIVE_HIGHLIGHT:
            break;
        }
    }
}

void run_goto(Run *r, size_t step)
{
    const Lesson *l = r->l;
    if (step >= l->nsteps && l->nsteps)
        step = l->nsteps - 1;
    bool changed = false;
    pthread_mutex_lock(&r->mu);
    if (r->step != SIZE_MAX && step == r->step + 1) {
        apply_directives(r, step, &changed);
    } else {
        // From the lesson's defaults through every step up to this one.
        double before[LESSON_MAX_PARAMS2];
        memcpy(before, r->params, sizeof(before));
        for (int i = 0; i < l->f2.nparams; i++)
            r->params[i] = l->f2.params[i].value;
        for (int i = 0; i < r->nsources; i++)
            r->target[i] = source_kinds[r->decl[i]->kind]->default_limit;
        for (int i = 0; i < l->f2.npanels; i++)
            r->visible[i] = !l->f2.panels[i].hidden;
        for (size_t k = 0; k <= step && k < l->nsteps; k++)
            apply_directives(r, k, &changed);
        changed = r->step == SIZE_MAX;
        for (int i = 0; i < l->f2.nparams; i++)
            changed |= before[i] != r->params[i] && param_read_by_sources(r, i);
    }
    // A source past the count this step asks for (going back a step) starts
    // again: its state is the one after exactly that many steps.
    for (int i = 0; i < r->nsources; i++)
        changed |= r->steps[i] > r->target[i];
    r->step = step;
    r->busy = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (changed)
        share_params(r);
    evaluate(r);
}

size_t run_step(const Run *r)
{
    return r->step;
}

int run_param_find(const Run *r, const char *name)
{
    for (int i = 0; i < r->l->f2.nparams; i++)
        if (strcmp(r->l->f2.params[i].name, name) == 0)
            return i;
    return -1;
}

double run_param(const Run *r, int i)
{
    return i >= 0 && i < r->l->f2.nparams ? r->params[i] : NAN;
}

double run_set_param(Run *r, int i, double value)
{
    if (i < 0 || i >= r->l->f2.nparams)
        return NAN;
    const LessonParam *p = &r->l->f2.params[i];
    if (p->kind == PARAM_NUMBER) {
        if (isnan(value))
            value = p->value;
        value = fmin(fmax(value, p->min), p->max);
        if (p->step > 0)
            value = p->min + round((value - p->min) / p->step) * p->step;
    } else {
        int top = p->kind == PARAM_CHOICE ? p->nchoices - 1 : 1;
        value = isnan(value) ? p->value : fmin(fmax(round(value), 0), top);
    }
    if (r->params[i] != value) {
        r->params[i] = value;
        if (param_read_by_sources(r, i))
            share_params(r);
        evaluate(r);
    }
    return value;
}

void run_settle(Run *r)
{
    while (work(r))
        ;
    run_poll(r);
}

bool run_poll(Run *r)
{
    pthread_mutex_lock(&r->mu);
    bool fresh = r->serial != r->snap_serial;
    if (fresh) {
        run_arrays_copy(&r->snap, &r->pending);
        r->snap_serial = r->serial;
    }
    pthread_mutex_unlock(&r->mu);
    if (fresh)
        evaluate(r);
    return fresh;
}

bool run_busy(const Run *r)
{
    Run *m = (Run *)r; // the lock only
    pthread_mutex_lock(&m->mu);
    bool busy = m->busy || m->inst_gen != m->gen || m->serial != m->snap_serial;
    pthread_mutex_unlock(&m->mu);
    return busy;
}

const RunArrays *run_arrays(const Run *r)
{
    return &r->snap;
}

bool run_lookup(const Run *r, const char *name, const double **data, int *count)
{
    const RunArray *a = run_arrays_find(&r->snap, name, data);
    if (a) {
        *count = a->shape[0] * a->shape[1];
        return true;
    }
    int p = run_param_find(r, name);
    const Value *v = program_lookup(r->l->program, r->graph, name);
    // A program input's parameter: the value the program ran with, which a
    // source's trained value replaces (evaluate), as {NAME} shows it.
    if (p >= 0 && !(r->l->f2.params[p].input && v)) {
        *data = &r->params[p];
        *count = 1;
        return true;
    }
    if (v) {
        *data = &v->data;
        *count = 1;
        return true;
    }
    return false;
}

const Graph *run_graph(const Run *r)
{
    return r->graph;
}

const Value *run_output(const Run *r)
{
    return r->out;
}

int run_source_count(const Run *r)
{
    return r->nsources;
}

int run_source_find(const Run *r, const char *name)
{
    for (int i = 0; i < r->nsources; i++)
        if (strcmp(r->decl[i]->name, name) == 0)
            return i;
    return -1;
}

int run_source_target(const Run *r, int i)
{
    return i >= 0 && i < r->nsources ? r->target[i] : 0;
}

int run_source_made(const Run *r, int i)
{
    Run *m = (Run *)r;
    pthread_mutex_lock(&m->mu);
    int made = i >= 0 && i < r->nsources ? r->made[i] : 0;
    pthread_mutex_unlock(&m->mu);
    return made;
}

int run_source_steps(const Run *r, int i)
{
    Run *m = (Run *)r;
    pthread_mutex_lock(&m->mu);
    int s = i >= 0 && i < r->nsources ? r->steps[i] : 0;
    pthread_mutex_unlock(&m->mu);
    return s;
}

const char *run_source_status(const Run *r, int i)
{
    Run *m = (Run *)r;
    if (i < 0 || i >= r->nsources)
        return NULL;
    // Copied under the lock: the worker may rewrite r->error[i] as soon as
    // it is released.
    pthread_mutex_lock(&m->mu);
    const char *s = r->status[i];
    snprintf(m->status_copy[i], sizeof(m->status_copy[i]), "%s", s ? s : "");
    pthread_mutex_unlock(&m->mu);
    return m->status_copy[i][0] ? m->status_copy[i] : NULL;
}

bool run_source_failed(const Run *r, int i)
{
    Run *m = (Run *)r; // the lock only
    pthread_mutex_lock(&m->mu);
    bool failed = i >= 0 && i < r->nsources && !r->inst[i] && r->error[i][0];
    pthread_mutex_unlock(&m->mu);
    return failed;
}

const char *run_source_name(const Run *r, int i)
{
    return i >= 0 && i < r->nsources ? r->decl[i]->name : NULL;
}

void run_extend(Run *r, int i, int steps)
{
    if (i < 0 || i >= r->nsources)
        return;
    pthread_mutex_lock(&r->mu);
    r->target[i] += steps;
    r->busy = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

bool run_panel_visible(const Run *r, int panel)
{
    return panel >= 0 && panel < r->l->f2.npanels && r->visible[panel];
}

bool run_highlighted(const Run *r, const char *name)
{
    const Lesson *l = r->l;
    if (!l->f2.directives || r->step >= l->nsteps)
        return false;
    const StepDirectives *sd = &l->f2.directives[r->step];
    for (int j = 0; j < sd->n; j++) {
        const StepDirective *d = &sd->d[j];
        if (d->kind != DIRECTIVE_HIGHLIGHT)
            continue;
        const char *h = d->target >= 0 ? l->f2.panels[d->target].name : d->name;
        if (h && strcmp(h, name) == 0)
            return true;
    }
    return false;
}

bool run_nudge(const Run *r, int panel, RunNudge *out)
{
    if (panel < 0 || panel >= r->l->f2.npanels || !r->nudge_ok[panel])
        return false;
    *out = r->nudge[panel];
    return true;
}

char *run_format(const Run *r, const char *text, char *buf, size_t n)
{
    size_t len = 0;
    if (n == 0)
        return buf;
    for (const char *p = text; *p && len + 1 < n;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (!close || !r || close - p > 96) {
            buf[len++] = *p++;
            continue;
        }
        char name[100];
        const char *spec = "";
        size_t k = (size_t)(close - p - 1);
        memcpy(name, p + 1, k);
        name[k] = '\0';
        char *colon = strchr(name, ':');
        if (colon) {
            *colon = '\0';
            spec = colon + 1;
        }
        char num[64] = "";
        int pi = run_param_find(r, name);
        const double *data = NULL;
        int count = 0;
        if (pi >= 0 && r->l->f2.params[pi].kind == PARAM_CHOICE) {
            snprintf(num, sizeof(num), "%s", r->l->f2.params[pi].choices[(int)r->params[pi]]);
        } else if (pi >= 0 && r->l->f2.params[pi].kind == PARAM_TOGGLE) {
            snprintf(num, sizeof(num), "%s", r->params[pi] != 0 ? "on" : "off");
        } else if ((pi >= 0 || strchr(name, '.')) && run_lookup(r, name, &data, &count) && count > 0) {
            double v = data[count - 1];
            if (!spec[0] || !numfmt_spec(num, sizeof(num), spec, v))
                numfmt_short(num, sizeof(num), v, 6);
        } else {
            buf[len++] = *p++;
            continue;
        }
        for (const char *q = num; *q && len + 1 < n; q++)
            buf[len++] = *q;
        p = close + 1;
    }
    buf[len] = '\0';
    return buf;
}

// The largest |numeric - analytic| / max(1, |analytic|) over the inputs of
// l's program at its current values; the input where it is largest in *worst.
static double gradcheck(Lesson *l, Graph *g, const char **worst)
{
    Program *p = l->program;
    double err = 0;
    *worst = NULL;
    for (size_t i = 0; i < program_input_count(p); i++) {
        const char *name = program_input_name(p, i);
        double x = program_input_value(p, i);
        Value *out = program_build(p, g);
        if (!out)
            return NAN;
        graph_zero_grad(g);
        graph_backward(g, out);
        const Value *v = program_lookup(p, g, name);
        double analytic = v ? v->grad : NAN, h = 1e-6 * fmax(1, fabs(x));
        program_set_input(p, name, x + h);
        out = program_build(p, g);
        double up = out ? out->data : NAN;
        program_set_input(p, name, x - h);
        out = program_build(p, g);
        double down = out ? out->data : NAN;
        program_set_input(p, name, x);
        double numeric = (up - down) / (2 * h);
        double e = fabs(numeric - analytic) / fmax(1, fabs(analytic));
        if (!(e <= err)) { // NaN counts as the worst
            err = e;
            *worst = name;
        }
    }
    return err;
}

bool run_check2(Lesson *l, int i, double *got, char *why, size_t n)
{
    return run_check2_shared(l, i, NULL, got, why, n);
}

bool run_check2_shared(Lesson *l, int i, RunCache *cache, double *got, char *why, size_t n)
{
    const LessonCheck2 *c = &l->f2.checks[i];
    why[0] = '\0';
    Run *r = run_create_shared(l, cache, why, n);
    if (!r)
        return false;
    bool ok = false;
    if (c->gradcheck) {
        const char *worst;
        *got = gradcheck(l, r->scratch, &worst);
        ok = *got <= c->tol;
        if (worst)
            snprintf(why, n, "largest disagreement at %s", worst);
    } else {
        int s = -1;
        for (int k = 0; k < r->nsources; k++)
            if (strcmp(r->decl[k]->name, c->source) == 0)
                s = k;
        run_extend(r, s, c->steps);
        run_settle(r);
        const double *data = NULL;
        int count = 0;
        if (!run_lookup(r, c->figure, &data, &count) || count == 0) {
            snprintf(why, n, "no figure called '%s'; %s", c->figure,
                     run_source_status(r, s) ? run_source_status(r, s) : "check its name");
            *got = NAN;
        } else {
            *got = data[count - 1];
            double b = c->bound;
            ok = strcmp(c->op, "<") == 0 ? *got < b : strcmp(c->op, "<=") == 0 ? *got <= b
               : strcmp(c->op, ">") == 0 ? *got > b : *got >= b;
            int steps = run_source_steps(r, s);
            if (steps < c->steps)
                snprintf(why, n, "%s stopped after %d steps: %s", c->source, steps,
                         run_source_status(r, s) ? run_source_status(r, s) : "");
        }
    }
    run_destroy(r);
    return ok;
}
