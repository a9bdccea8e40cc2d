// source_lstmmem.c: the `lstmmem` source kind, an LSTM that learns to
// remember (lesson 8, "Inside an LSTM"). A thin adapter over
// models/memtask.h: it trains the LSTM on the memory task (store the marked
// value, hold it across distractors, read it out at the end) and, after
// every chunk of steps, runs one fixed probe sequence through the trained
// weights, forward and backward, with any gates the options clamp.
//
//     source: mem lstmmem T 40 hidden 8 clamp_forget {cut} forget_at {at}
//
// Options (numbers, words, or {param}):
//   T            sequence length, 4 to 100 (default 40)
//   hidden       hidden units, 1 to 32 (default 8)
//   lr           Adam's learning rate (default 0.01)
//   seed         weights, training and test data follow from it (default 1)
//   limit        most training steps, 1 to 5000 (default 2000)
//   mark         the probe's marked step, 1 to T (default 4)
//   value        the probe's marked value, -1 to 1 (default 0.8)
//   clamp_input, clamp_forget, clamp_output
//                on or off (a toggle): gate surgery on the probe (default off)
//   input_at, forget_at, output_at
//                the step it holds at, 1 to T, or 0 for every step (default 0)
//   input_to, forget_to, output_to
//                the value the gate is held at, 0 to 1 (default 0)
// Clamps change the probe only, never the training, so toggling one shows
// the trained network with that gate cut.
//
// Publishes, for the probe (t = 1..T down the rows, units across):
//   x (T, 2)            the input: the value, the marker
//   i, f, g, o (T, H)   the gates and the candidate g, after clamps
//   c, h (T, H)         cell and hidden state
//   dc, dh (T, H)       total dL/dc_t and dL/dh_t of the probe's loss
//   dcnorm, dhnorm (T)  their norms per step
//   clamped (T, 4)      1 where gate i, f, g (never), o is clamped
//   y, target, probe_loss   the read-out, the marked value, (y - target)^2
//   mark                the marked step (1-based)
//   unit                the unit whose cell the read-out leans on most,
//                       argmax |dy/dc_T| without clamps (0-based)
//   forget_held         that unit's mean forget gate over the steps the
//                       value is held, mark + 1 to T
//   forget_held_all     the same over every unit
// and for training:
//   loss (steps, or 1 before any)  the training batch's MSE per step
//   error               MSE on the 256 fixed test sequences, unclamped
//   surgery_error       the same with the clamps (error when none)
//   baseline            1/3, the MSE of always answering 0
//   grad_gap            the largest |probe - model| of dL/dc_t, dL/dh_t and
//                       the parameter gradients on the probe without clamps,
//                       over the largest |model| (the reference backward
//                       against lstm_backward)
//
// A state depends on the options and the step count only. Training it is
// the costly part, so every instance shares a small cache of the trainer's
// state every 25 steps, keyed by the options that decide training (T,
// hidden, lr, seed): moving a slider remakes the instance, and it takes its
// steps from the cache instead of training again. The cached state is
// exactly the one training would reach (tests/unit/test_source_lstmmem.c).
// The cache lives as long as the program: at most CACHE_KEYS keys and
// CACHE_MAX_BYTES of states.
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/source_kinds.h"
#include "models/memtask.h"

#define LSTMMEM_MAX_T 100
#define LSTMMEM_MAX_HIDDEN 32
#define LSTMMEM_MAX_LIMIT 5000
#define LSTMMEM_BATCH 32
#define SNAP_EVERY 25
#define SNAP_MAX (LSTMMEM_MAX_LIMIT / SNAP_EVERY)
#define CACHE_KEYS 4
#define CACHE_MAX_BYTES ((size_t)8 << 20) // states kept over all keys (one key of lesson 8 takes 0.35 MB;
                                          // hidden 32 with limit 5000 would take 11 MB)

static const char *const gate_words[3] = {"input", "forget", "output"};
static const int gate_index[3] = {MEM_GATE_I, MEM_GATE_F, MEM_GATE_O};

typedef struct LstmMem {
    MemConfig cfg;
    int limit;
    char key[96];
    MemTrainer *tr;
    MemClamp clamps[4];      // by gate; g's stays off
    bool any_clamp;
    float *px;               // (T, 2) the probe
    float target;
    int mark;                // 0-based
    MemProbe *probe, *plain; // with the clamps, and without
    double *loss;            // (limit)
    int unit;
    double error, surgery_error, grad_gap;
    const char *finished;
} LstmMem;

// ---------------------------------------------------------------------------
// The cache of trainer states

typedef struct CacheEntry {
    char key[96];
    unsigned long used;      // for least-recently-used eviction; 0 = empty
    int nsnaps;              // snaps[k] is the state after (k + 1) * SNAP_EVERY steps
    size_t blob_bytes;       // of each snap's blob (the key fixes the model's size)
    MemState snaps[SNAP_MAX];
    double loss[LSTMMEM_MAX_LIMIT]; // loss[s] of step s + 1, for s < nsnaps * SNAP_EVERY
} CacheEntry;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static CacheEntry *cache[CACHE_KEYS];
static unsigned long cache_clock;
static size_t cache_bytes; // of the states' blobs, at most CACHE_MAX_BYTES

// The entry for key, or NULL. Holds cache_mu.
static CacheEntry *cache_find(const char *key)
{
    for (int i = 0; i < CACHE_KEYS; i++)
        if (cache[i] && cache[i]->used && strcmp(cache[i]->key, key) == 0) {
            cache[i]->used = ++cache_clock;
            return cache[i];
        }
    return NULL;
}

// A fresh entry for key in the least recently used slot (its old states
// freed), or NULL when out of memory. Holds cache_mu.
static CacheEntry *cache_add(const char *key)
{
    int pick = 0;
    for (int i = 0; i < CACHE_KEYS; i++) {
        if (!cache[i] || !cache[i]->used) {
            pick = i;
            break;
        }
        if (cache[i]->used < cache[pick]->used)
            pick = i;
    }
    CacheEntry *e = cache[pick];
    if (!e && !(e = cache[pick] = calloc(1, sizeof(*e))))
        return NULL;
    for (int k = 0; k < e->nsnaps; k++) {
        free(e->snaps[k].blob);
        cache_bytes -= e->blob_bytes;
    }
    e->nsnaps = 0;
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->used = ++cache_clock;
    return e;
}

// Take the latest cached state of m's key within (steps, goal], loss
// history included. Returns whether it took one.
static bool cache_restore(LstmMem *m, int goal)
{
    bool took = false;
    pthread_mutex_lock(&cache_mu);
    CacheEntry *e = cache_find(m->key);
    int k = e ? (goal / SNAP_EVERY < e->nsnaps ? goal / SNAP_EVERY : e->nsnaps) - 1 : -1;
    if (k >= 0 && e->snaps[k].step > m->tr->step) {
        int from = (int)m->tr->step;
        mem_state_load(m->tr, &e->snaps[k]);
        memcpy(m->loss + from, e->loss + from, (size_t)(m->tr->step - from) * sizeof(double));
        took = true;
    }
    pthread_mutex_unlock(&cache_mu);
    return took;
}

// Keep m's state (at a multiple of SNAP_EVERY steps) when it is the next
// one its entry lacks and the cache has room for it (past CACHE_MAX_BYTES
// an entry stops growing: later steps are trained, not restored).
static void cache_store(const LstmMem *m)
{
    int step = (int)m->tr->step, k = step / SNAP_EVERY - 1;
    size_t bytes = mem_state_floats(m->tr) * sizeof(float);
    pthread_mutex_lock(&cache_mu);
    CacheEntry *e = cache_find(m->key);
    if (!e && k == 0)
        e = cache_add(m->key);
    if (e && e->nsnaps == k && cache_bytes + bytes <= CACHE_MAX_BYTES) {
        MemState *s = &e->snaps[k];
        s->blob = malloc(bytes);
        e->blob_bytes = bytes;
        if (s->blob) {
            cache_bytes += bytes;
            mem_state_save(m->tr, s);
            memcpy(e->loss + k * SNAP_EVERY, m->loss + k * SNAP_EVERY, SNAP_EVERY * sizeof(double));
            e->nsnaps++;
        }
    }
    pthread_mutex_unlock(&cache_mu);
}

// ---------------------------------------------------------------------------
// The instance

static const char *const lstmmem_options[] = {
    "T",           "hidden",      "lr",          "seed",         "limit",     "mark",
    "value",       "clamp_input", "clamp_forget", "clamp_output", "input_at", "forget_at",
    "output_at",   "input_to",    "forget_to",   "output_to",    NULL};

static void lstmmem_destroy(void *inst)
{
    LstmMem *m = inst;
    if (!m)
        return;
    mem_destroy(m->tr);
    mem_probe_destroy(m->probe);
    mem_probe_destroy(m->plain);
    free(m->px);
    free(m->loss);
    free(m);
}

// The largest |a - b| over the largest |b|, a in double, b in float.
static double gap(const double *a, const float *b, size_t n, double *scale)
{
    double worst = 0;
    for (size_t k = 0; k < n; k++) {
        worst = fmax(worst, fabs(a[k] - (double)b[k]));
        *scale = fmax(*scale, fabs((double)b[k]));
    }
    return worst;
}

// Run the probe (with and without clamps) on the current weights, and the
// figures that follow from it.
static void refresh(LstmMem *m)
{
    MemTrainer *tr = m->tr;
    const int T = m->cfg.T, H = m->cfg.hidden;
    mem_probe_run(tr->lstm, tr->head, m->px, m->target, m->clamps, m->probe);
    mem_probe_run(tr->lstm, tr->head, m->px, m->target, NULL, m->plain);
    // The memory unit: where the read-out is most sensitive to c_T.
    const double *gT = m->plain->gates + (size_t)(T - 1) * 4 * H, *cT = m->plain->c + (size_t)(T - 1) * H;
    double best = -1;
    for (int j = 0; j < H; j++) {
        double tc = tanh(cT[j]), s = fabs(tr->head[j] * gT[3 * H + j] * (1 - tc * tc));
        if (s > best)
            best = s, m->unit = j;
    }
    m->error = mem_test_mse(tr);
    // The model's own forward and backward on the probe, against the reference.
    Lstm *l = tr->lstm;
    float dhT[LSTMMEM_MAX_HIDDEN];
    for (int j = 0; j < H; j++)
        dhT[j] = (float)(2.0 * (m->plain->y - m->target) * tr->head[j]);
    lstm_forward(l, m->px, NULL, NULL, 1, T);
    lstm_zero_grad(l);
    lstm_backward(l, NULL, dhT, NULL);
    double scale = 0, worst = 0;
    for (int t = 0; t < T; t++) {
        RecurrentStep st = lstm_step(l, t);
        worst = fmax(worst, gap(m->plain->dc + (size_t)t * H, st.dc, (size_t)H, &scale));
        worst = fmax(worst, gap(m->plain->dh + (size_t)t * H, st.dh, (size_t)H, &scale));
    }
    double pscale = 0, pworst = gap(m->plain->dparams, l->grads, l->nparams, &pscale);
    m->grad_gap = fmax(scale > 0 ? worst / scale : worst, pscale > 0 ? pworst / pscale : pworst);
    lstm_zero_grad(l);
    // The test set through the clamped network.
    m->surgery_error = m->error;
    if (m->any_clamp) {
        Pcg test;
        pcg_seed(&test, m->cfg.seed * 2 + 0x3e3ULL * 2 + 1); // the test set of mem_test_mse
        float *x = malloc((size_t)T * 2 * sizeof(float)), target;
        MemProbe *p = mem_probe_create(T, 2, H);
        double total = 0;
        for (int k = 0; x && p && k < m->cfg.test_size; k++) {
            mem_batch(&test, 1, T, x, &target, NULL);
            mem_probe_run(tr->lstm, tr->head, x, target, m->clamps, p);
            total += p->loss;
        }
        m->surgery_error = x && p ? total / m->cfg.test_size : NAN;
        free(x);
        mem_probe_destroy(p);
    }
}

// Option key as on/off. False with a reason in err.
static bool option_toggle(const SourceParams *p, const LessonSource *decl, const char *key, bool *out, char *err,
                          size_t n)
{
    const char *w = source_option_word(p, decl, key, "off", err, n);
    if (!w)
        return false;
    if (strcmp(w, "on") && strcmp(w, "off")) {
        snprintf(err, n, "'%s %s': give on or off", key, w);
        return false;
    }
    *out = strcmp(w, "on") == 0;
    return true;
}

static void *lstmmem_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    LstmMem *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    double T, hidden, lr, seed, limit, mark, value;
    if (!source_option_number(p, decl, "T", 40, 4, LSTMMEM_MAX_T, &T, err, n) ||
        !source_option_number(p, decl, "hidden", 8, 1, LSTMMEM_MAX_HIDDEN, &hidden, err, n) ||
        !source_option_number(p, decl, "lr", 0.01, 1e-5, 1, &lr, err, n) ||
        !source_option_number(p, decl, "seed", 1, 0, 2147483647.0, &seed, err, n) ||
        !source_option_number(p, decl, "limit", 2000, 1, LSTMMEM_MAX_LIMIT, &limit, err, n) ||
        !source_option_number(p, decl, "mark", 4, 1, LSTMMEM_MAX_T, &mark, err, n) ||
        !source_option_number(p, decl, "value", 0.8, -1, 1, &value, err, n))
        goto fail;
    if (T != floor(T) || hidden != floor(hidden) || seed != floor(seed) || limit != floor(limit) ||
        mark != floor(mark)) {
        snprintf(err, n, "'T', 'hidden', 'seed', 'limit' and 'mark' are whole numbers");
        goto fail;
    }
    if (mark > T) {
        snprintf(err, n, "'mark %g' is after the last step, T = %g", mark, T);
        goto fail;
    }
    for (int k = 0; k < 3; k++) {
        char key[32];
        double at, to;
        MemClamp *c = &m->clamps[gate_index[k]];
        snprintf(key, sizeof(key), "clamp_%s", gate_words[k]);
        if (!option_toggle(p, decl, key, &c->on, err, n))
            goto fail;
        snprintf(key, sizeof(key), "%s_at", gate_words[k]);
        if (!source_option_number(p, decl, key, 0, 0, T, &at, err, n))
            goto fail;
        snprintf(key, sizeof(key), "%s_to", gate_words[k]);
        if (!source_option_number(p, decl, key, 0, 0, 1, &to, err, n))
            goto fail;
        c->at = (int)round(at);
        c->value = to;
        m->any_clamp |= c->on;
    }
    m->cfg = mem_defaults();
    m->cfg.T = (int)T;
    m->cfg.hidden = (int)hidden;
    m->cfg.lr = (float)lr;
    m->cfg.seed = (uint64_t)seed;
    m->cfg.batch = LSTMMEM_BATCH;
    m->limit = (int)limit;
    m->mark = (int)mark - 1;
    snprintf(m->key, sizeof(m->key), "T%d H%d lr%.9g seed%.0f", m->cfg.T, m->cfg.hidden, lr, seed);
    m->tr = mem_create(&m->cfg);
    m->probe = mem_probe_create(m->cfg.T, 2, m->cfg.hidden);
    m->plain = mem_probe_create(m->cfg.T, 2, m->cfg.hidden);
    m->px = malloc((size_t)m->cfg.T * 2 * sizeof(float));
    m->loss = calloc((size_t)m->limit, sizeof(double));
    if (!m->tr || !m->probe || !m->plain || !m->px || !m->loss) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    // The probe: distractors from their own seed, the mark where the option says.
    Pcg rng;
    pcg_seed(&rng, m->cfg.seed * 2 + 0x9b0beULL * 2 + 1);
    float target;
    mem_batch(&rng, 1, m->cfg.T, m->px, &target, NULL);
    for (int t = 0; t < m->cfg.T; t++)
        m->px[2 * t + 1] = t == m->mark ? 1.0f : 0.0f;
    m->px[2 * m->mark] = (float)value;
    m->target = (float)value;
    refresh(m);
    return m;
fail:
    lstmmem_destroy(m);
    return NULL;
}

static int lstmmem_advance(void *inst, int max)
{
    LstmMem *m = inst;
    int start = (int)m->tr->step, goal = start + max < m->limit ? start + max : m->limit;
    cache_restore(m, goal);
    while (m->tr->step < goal) {
        // The index first: mem_step moves tr->step, and in `a[i] = f()` C
        // leaves it open whether i is read before or after the call (Clang
        // read it after, wrote past the end at the last step and left
        // loss[0] at 0).
        size_t at = m->tr->step;
        m->loss[at] = mem_step(m->tr);
        if (m->tr->step % SNAP_EVERY == 0)
            cache_store(m);
    }
    if (m->tr->step >= m->limit)
        m->finished = "the step limit was reached";
    refresh(m);
    return (int)m->tr->step - start;
}

static int lstmmem_steps(const void *inst)
{
    return (int)((const LstmMem *)inst)->tr->step;
}

static const char *lstmmem_finished(const void *inst)
{
    return ((const LstmMem *)inst)->finished;
}

static void publish_number(RunArrays *out, const char *prefix, const char *name, double v)
{
    double *x = run_arrays_add(out, prefix, name, 0, NULL);
    if (x)
        *x = v;
}

// Columns k..k+H of the (T, cols) block src as a (T, H) array.
static void publish_block(RunArrays *out, const char *prefix, const char *name, const double *src, int T, int H,
                          int cols, int k)
{
    int shape[2] = {T, H};
    double *x = run_arrays_add(out, prefix, name, 2, shape);
    for (int t = 0; x && t < T; t++)
        memcpy(x + (size_t)t * H, src + (size_t)t * cols + k, (size_t)H * sizeof(double));
}

// The norm of each row of a (T, H) block.
static void publish_norms(RunArrays *out, const char *prefix, const char *name, const double *src, int T, int H)
{
    double *x = run_arrays_add(out, prefix, name, 1, &T);
    for (int t = 0; x && t < T; t++) {
        double s = 0;
        for (int j = 0; j < H; j++)
            s += src[(size_t)t * H + j] * src[(size_t)t * H + j];
        x[t] = sqrt(s);
    }
}

static void lstmmem_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const LstmMem *m = inst;
    const MemProbe *p = m->probe;
    const int T = m->cfg.T, H = m->cfg.hidden;
    publish_block(out, prefix, "x", p->x, T, 2, 2, 0);
    static const char *const names[4] = {"i", "f", "g", "o"};
    for (int k = 0; k < 4; k++)
        publish_block(out, prefix, names[k], p->gates, T, H, 4 * H, k * H);
    publish_block(out, prefix, "c", p->c, T, H, H, 0);
    publish_block(out, prefix, "h", p->h, T, H, H, 0);
    publish_block(out, prefix, "dc", p->dc, T, H, H, 0);
    publish_block(out, prefix, "dh", p->dh, T, H, H, 0);
    publish_norms(out, prefix, "dcnorm", p->dc, T, H);
    publish_norms(out, prefix, "dhnorm", p->dh, T, H);
    int shape[2] = {T, 4};
    double *cl = run_arrays_add(out, prefix, "clamped", 2, shape);
    for (int t = 0; cl && t < T; t++)
        for (int k = 0; k < 4; k++)
            cl[t * 4 + k] = mem_clamp_at(&m->clamps[k], t) && k != 2;
    publish_number(out, prefix, "y", p->y);
    publish_number(out, prefix, "target", p->target);
    publish_number(out, prefix, "probe_loss", p->loss);
    publish_number(out, prefix, "mark", m->mark + 1);
    publish_number(out, prefix, "unit", m->unit);
    double held = 0, all = 0;
    int n = 0;
    for (int t = m->mark + 1; t < T; t++, n++) {
        held += p->gates[(size_t)t * 4 * H + H + m->unit];
        for (int j = 0; j < H; j++)
            all += p->gates[(size_t)t * 4 * H + H + j];
    }
    publish_number(out, prefix, "forget_held", n ? held / n : NAN);
    publish_number(out, prefix, "forget_held_all", n ? all / ((double)n * H) : NAN);
    int steps = (int)m->tr->step, len = steps > 0 ? steps : 1;
    double *loss = run_arrays_add(out, prefix, "loss", 1, &len);
    if (loss) {
        if (steps > 0)
            memcpy(loss, m->loss, (size_t)steps * sizeof(double));
        else
            loss[0] = m->error;
    }
    publish_number(out, prefix, "error", m->error);
    publish_number(out, prefix, "surgery_error", m->surgery_error);
    publish_number(out, prefix, "baseline", MEM_BASELINE_MSE);
    publish_number(out, prefix, "grad_gap", m->grad_gap);
}

const SourceKind source_lstmmem_kind = {
    .name = "lstmmem",
    .summary = "an LSTM trained to remember a marked value, with one probe sequence's gates, states and "
               "gradients, and gate surgery",
    .options = lstmmem_options,
    .default_limit = 0,
    .create = lstmmem_create,
    .destroy = lstmmem_destroy,
    .advance = lstmmem_advance,
    .steps = lstmmem_steps,
    .finished = lstmmem_finished,
    .publish = lstmmem_publish,
};
