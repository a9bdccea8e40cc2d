// lstm.c: the LSTM's forward and backward passes; see lstm.h.
//
// lstm_forward and lstm_backward take the fused AVX2 kernels where they run
// (lstm_avx2.c; lstm_fused.h says when) and the generic pair here
// otherwise, its portable twin: the input projection of all T*B rows is one
// gemm before the recurrence; each step is then one (B, H) x (H, 4H) gemm
// forward with W_hh^T read in place, and backward one for dh plus the
// step's share of the weight gradients, accumulated while the step's gate
// gradients are still in cache; the pointwise gate math uses the
// vectorisable fastmath.h functions, one fused loop per row.
#define _DEFAULT_SOURCE   // MADV_HUGEPAGE, where the C library has it
#include "models/lstm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/tensor/gemm.h"
#include "engine/fastmath.h"
#include "models/lstm_fused.h"

const char *const lstm_param_names[LSTM_NUM_PARAMS] = {
    "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
};

// ---------------------------------------------------------------------------
// Creation and parameters

Lstm *lstm_create(int I, int H)
{
    char err[160];
    if (!recurrent_check_size(1, 1, I, H, 4, err, sizeof err))
        return NULL;
    Lstm *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->I = I;
    m->H = H;
    size_t G = 4 * (size_t)H;
    m->w_hh_t = malloc(G * (size_t)H * sizeof(float));
    if (!recurrent_params_alloc(I, H, 4, &m->params, &m->grads, &m->nparams, &m->p, &m->g) || !m->w_hh_t) {
        lstm_destroy(m);
        return NULL;
    }
    if (lstm_fused_available(H)) {
        // wp (H/8, I + H, 32), bp (H/8, 32), wb (4H, H): see lstm.h.
        size_t n = G * ((size_t)I + (size_t)H) + G + G * (size_t)H;
        m->packed = aligned_alloc(32, (n * sizeof(float) + 31) / 32 * 32);
        if (m->packed) {
            m->wp = m->packed;
            m->bp = m->wp + G * ((size_t)I + (size_t)H);
            m->wb = m->bp + G;
            m->fused = true;
        }
    }
    return m;
}

void lstm_destroy(Lstm *m)
{
    if (!m)
        return;
    free(m->params);
    free(m->grads);
    free(m->w_hh_t);
    free(m->packed);
    free(m->acts);
    free(m);
}

float *lstm_param(Lstm *m, int k, bool grad, size_t *n, int *rows, int *cols)
{
    LstmParams *p = grad ? &m->g : &m->p;
    int G = 4 * m->H;
    float *ptrs[LSTM_NUM_PARAMS] = {p->w_ih, p->w_hh, p->b_ih, p->b_hh};
    int r[LSTM_NUM_PARAMS] = {G, G, G, G};
    int c[LSTM_NUM_PARAMS] = {m->I, m->H, 1, 1};
    *rows = r[k];
    *cols = c[k];
    *n = (size_t)r[k] * (size_t)c[k];
    return ptrs[k];
}

void lstm_init_uniform(Lstm *m, Pcg *rng)
{
    float bound = 1.0f / sqrtf((float)m->H);
    for (size_t i = 0; i < m->nparams; i++)
        m->params[i] = (2.0f * pcg_uniform(rng) - 1.0f) * bound;
}

void lstm_zero_grad(Lstm *m)
{
    memset(m->grads, 0, m->nparams * sizeof(float));
}

// n floats rounded up to a whole number of 64-byte lines.
static size_t lines(size_t n)
{
    return (n + 15) / 16 * 16;
}

// Make room for B rows and T steps of activations: one 64-byte aligned
// block, each buffer starting on a line of its own (the fused kernels
// stream some of them out with aligned stores).
static bool reserve(Lstm *m, int B, int T)
{
    size_t TB = (size_t)T * (size_t)B, BH = (size_t)B * (size_t)m->H;
    size_t H = (size_t)m->H, I = (size_t)m->I;
    // xt is also the fused kernels' scratch outside the chunks' weight
    // gradients: the forward's two blocks of pre-activations (2 (32 B + 64))
    // and the backward product's sums (B H); see lstm_avx2.c.
    size_t xt = (I + H) * (size_t)LSTM_CHUNK * B;
    xt = xt > 2 * (32 * (size_t)B + 64) ? xt : 2 * (32 * (size_t)B + 64);
    xt = xt > BH ? xt : BH;
    size_t sizes[] = {
        TB * I, TB * I, TB * 4 * H, TB * H, TB * H, TB * H, TB * H,   // x dx gates c h dh dc
        BH, BH, BH, BH, 4 * H, BH * 4 * LSTM_CHUNK,                    // h0 c0 dh0 dc0 dbias dpre
        4 * H * H, 4 * H * I,                                          // dw_hh_t dw_ih_t
        m->packed ? TB * H : 0, m->packed ? xt : 0,   // tc xt
    };
    enum { NBUF = sizeof sizes / sizeof sizes[0] };
    // Each buffer also starts a further k * 4 lines into a 4 KB page, so that
    // equal offsets in the (T, B, H) arrays (which are whole pages long at
    // B H a multiple of 1024) do not alias modulo 4 KB.
    size_t need = 0;
    for (int k = 0; k < NBUF; k++)
        need += lines(sizes[k]) + 64;
    if (need > m->act_cap) {
        // A training step walks all of it (16 MB at B 32, T 100, H 128): in
        // 2 MB pages where the system has them, the TLB covers it (2% of
        // the step's time on Zen 3). Small models keep small pages.
        size_t bytes = need * sizeof(float), align = 64;
#ifdef MADV_HUGEPAGE
        if (bytes >= ((size_t)4 << 20)) {
            align = (size_t)2 << 20;
            bytes = (bytes + align - 1) / align * align;
            need = bytes / sizeof(float);
        }
#endif
        float *a = aligned_alloc(align, bytes);
        if (!a)
            return false;
#ifdef MADV_HUGEPAGE
        if (align > 64)
            madvise(a, bytes, MADV_HUGEPAGE);   // advice only: failure changes nothing
#endif
        free(m->acts);
        m->acts = a;
        m->act_cap = need;
    }
    float **ptrs[NBUF] = {
        &m->x, &m->dx, &m->gates, &m->c, &m->h, &m->dh, &m->dc,
        &m->h0, &m->c0, &m->dh0, &m->dc0, &m->dbias, &m->dpre,
        &m->dw_hh_t, &m->dw_ih_t, &m->tc, &m->xt,
    };
    float *q = m->acts;
    for (int k = 0; k < NBUF; k++) {
        *ptrs[k] = sizes[k] ? q : NULL;
        q += lines(sizes[k]) + 64;
    }
    m->B = B;
    m->T = T;
    return true;
}

// ---------------------------------------------------------------------------
// Forward

// One row: a (4H) holds the pre-activations without the bias on entry and
// i, f, g, o on exit; c = f * cprev + i * g, h = o * tanh(c).
FASTMATH_CLONES
static void lstm_row_forward(float *restrict a, float *restrict c, float *restrict h,
                             const float *restrict cprev, const float *restrict bias, int H)
{
    for (int j = 0; j < H; j++) {
        float i = fast_sigmoidf(a[j] + bias[j]);
        float f = fast_sigmoidf(a[H + j] + bias[H + j]);
        float g = fast_tanhf(a[2 * H + j] + bias[2 * H + j]);
        float o = fast_sigmoidf(a[3 * H + j] + bias[3 * H + j]);
        a[j] = i;
        a[H + j] = f;
        a[2 * H + j] = g;
        a[3 * H + j] = o;
        float cj = f * cprev[j] + i * g;
        float t = fast_tanhf(cj);
        c[j] = cj;
        h[j] = o * t;
    }
}

// One step's pointwise part for B rows: a (B, 4H), c, h, cprev (B, H),
// bias (4H) = b_ih + b_hh.
static void lstm_cell_forward(float *a, float *c, float *h, const float *cprev,
                              const float *bias, int B, int H)
{
    for (int b = 0; b < B; b++) {
        size_t r = (size_t)b * H;
        lstm_row_forward(a + 4 * r, c + r, h + r, cprev + r, bias, H);
    }
}

bool lstm_forward(Lstm *m, const float *x, const float *h0, const float *c0, int B, int T)
{
    if (!reserve(m, B, T))
        return false;
    const size_t BH = (size_t)B * m->H;
    m->have_grad = false;
    seq_to_time_major(m->x, x, B, T, m->I);
    if (h0)
        memcpy(m->h0, h0, BH * sizeof(float));
    else
        memset(m->h0, 0, BH * sizeof(float));
    if (c0)
        memcpy(m->c0, c0, BH * sizeof(float));
    else
        memset(m->c0, 0, BH * sizeof(float));
    m->fused_fwd = m->fused && m->packed && lstm_fused_available(m->H);
    if (m->fused_fwd)
        lstm_forward_fused(m);
    else
        lstm_forward_generic(m);
    return true;
}

// The generic forward (lstm_fused.h): gemm, then one pointwise pass per step.
void lstm_forward_generic(Lstm *m)
{
    const int B = m->B, T = m->T, H = m->H, I = m->I, G = 4 * H;
    const size_t BH = (size_t)B * H, TB = (size_t)T * B;
    // a (TB, 4H) = x (TB, I) @ W_ih^T, all steps at once; the bias
    // b_ih + b_hh is added in the pointwise step.
    float *bias = m->dbias;   // scratch until backward
    for (int j = 0; j < G; j++)
        bias[j] = m->p.b_ih[j] + m->p.b_hh[j];
    gemm_f32(false, true, (int)TB, G, I, 1.0f, m->x, I, m->p.w_ih, I, 0.0f, m->gates, G);

    // The recurrence multiplies by W_hh^T: transpose it once here so that
    // gemm reads it in place (small M) instead of repacking it every step.
    mat_transpose(m->w_hh_t, m->p.w_hh, G, H, false);
    for (int t = 0; t < T; t++) {
        const float *hprev = t ? m->h + (size_t)(t - 1) * BH : m->h0;
        const float *cprev = t ? m->c + (size_t)(t - 1) * BH : m->c0;
        float *a = m->gates + (size_t)t * B * G;
        // a (B, 4H) += hprev (B, H) @ W_hh^T (H, 4H)
        gemm_f32(false, false, B, G, H, 1.0f, hprev, H, m->w_hh_t, G, 1.0f, a, G);
        lstm_cell_forward(a, m->c + t * BH, m->h + t * BH, cprev, bias, B, H);
    }
}

// ---------------------------------------------------------------------------
// Backward

// One row of one step's pointwise backward (see lstm_cell_backward).
FASTMATH_CLONES
static void lstm_row_backward(float *restrict da, float *restrict dc, float *restrict dcn,
                              const float *restrict dh, const float *restrict gates,
                              const float *restrict c, const float *restrict cprev, int H)
{
    const float *restrict ig = gates, *restrict fg = gates + H, *restrict gg = gates + 2 * H,
                *restrict og = gates + 3 * H;
    for (int j = 0; j < H; j++) {
        // tanh(c) again rather than stored: cheaper than its memory traffic.
        float d = dh[j], tcj = fast_tanhf(c[j]);
        float i = ig[j], f = fg[j], g = gg[j], o = og[j];
        float dcj = dcn[j] + d * o * (1.0f - tcj * tcj);
        dc[j] = dcj;
        da[j] = dcj * g * i * (1.0f - i);
        da[H + j] = dcj * cprev[j] * f * (1.0f - f);
        da[2 * H + j] = dcj * i * (1.0f - g * g);
        da[3 * H + j] = d * tcj * o * (1.0f - o);
        dcn[j] = dcj * f;   // becomes dL/dc_{t-1}
    }
}

// One step's pointwise part for B rows. On entry dcn (B, H) holds dL/dc_t
// from later steps and dhn (B, H) dL/dh_t from later steps; dout (row stride
// dout_stride) adds the output's gradient (NULL for none). Writes the totals
// dh (B, H) and dc (B, H), the pre-activation gradients da (B, 4H), and
// leaves dL/dc_{t-1} in dcn. Adds the rows of da into db (4H), the bias
// gradient, while they are in cache.
static void lstm_cell_backward(float *da, float *dh, float *dc, float *dcn, float *db,
                               const float *dout, size_t dout_stride, const float *dhn,
                               const float *gates, const float *c, const float *cprev, int B,
                               int H)
{
    for (int b = 0; b < B; b++) {
        size_t r = (size_t)b * H;
        float *restrict dhb = dh + r;
        const float *restrict dhnb = dhn + r;
        if (dout) {
            const float *restrict dob = dout + (size_t)b * dout_stride;
            for (int j = 0; j < H; j++)
                dhb[j] = dhnb[j] + dob[j];
        } else {
            for (int j = 0; j < H; j++)
                dhb[j] = dhnb[j];
        }
        float *restrict dab = da + 4 * r;
        lstm_row_backward(dab, dc + r, dcn + r, dhb, gates + 4 * r, c + r, cprev + r, H);
        float *restrict dbb = db;
        for (int j = 0; j < 4 * H; j++)
            dbb[j] += dab[j];
    }
}

void lstm_backward(Lstm *m, const float *dout, const float *dh_n, const float *dc_n)
{
    const size_t BH = (size_t)m->B * m->H;
    // dc_next lives in dc0 and dh_next in dh0 while walking back; at t = 0
    // they end up holding dL/dc0 and dL/dh0.
    if (dh_n)
        memcpy(m->dh0, dh_n, BH * sizeof(float));
    else
        memset(m->dh0, 0, BH * sizeof(float));
    if (dc_n)
        memcpy(m->dc0, dc_n, BH * sizeof(float));
    else
        memset(m->dc0, 0, BH * sizeof(float));
    if (m->fused_fwd)
        lstm_backward_fused(m, dout);
    else
        lstm_backward_generic(m, dout);
    m->have_grad = true;
}

// The generic backward (lstm_fused.h): one pointwise pass per step, gemm for
// the products.
void lstm_backward_generic(Lstm *m, const float *dout)
{
    const int B = m->B, T = m->T, H = m->H, I = m->I, G = 4 * H;
    const size_t BH = (size_t)B * H;
    float *dh_next = m->dh0, *dc_next = m->dc0;
    memset(m->dbias, 0, (size_t)G * sizeof(float));

    // dW_hh and dW_ih are gathered transposed while the gate gradients are
    // in cache: dW^T (K, 4H) += input^T (K, rows) @ da (rows, 4H) for a chunk
    // of LSTM_CHUNK steps at a time, with da and the inputs of those steps
    // contiguous (time-major). gemm reads da in place, and the (H, 4H)
    // accumulator is read and written once per chunk rather than per step.
    memset(m->dw_hh_t, 0, (size_t)H * G * sizeof(float));
    memset(m->dw_ih_t, 0, (size_t)I * G * sizeof(float));
    for (int t = T - 1; t >= 0; t--) {
        const int t0 = t / LSTM_CHUNK * LSTM_CHUNK;   // first step of t's chunk
        const int t1 = t0 + LSTM_CHUNK - 1 < T - 1 ? t0 + LSTM_CHUNK - 1 : T - 1;
        const float *cprev = t ? m->c + (size_t)(t - 1) * BH : m->c0;
        float *da = m->dpre + (size_t)(t - t0) * BH * 4;   // (B, 4H) in the chunk
        float *dht = m->dh + t * BH, *dct = m->dc + t * BH;
        lstm_cell_backward(da, dht, dct, dc_next, m->dbias, dout ? dout + (size_t)t * H : NULL,
                           (size_t)T * H, dh_next, m->gates + (size_t)t * B * G, m->c + t * BH,
                           cprev, B, H);
        // dh_next (B, H) = da (B, 4H) @ W_hh (4H, H)
        gemm_f32(false, false, B, H, G, 1.0f, da, G, m->p.w_hh, H, 0.0f, dh_next, H);
        // dx_t (B, I) = da (B, 4H) @ W_ih (4H, I)
        if (!m->skip_dx)
            gemm_f32(false, false, B, I, G, 1.0f, da, G, m->p.w_ih, I, 0.0f,
                     m->dx + (size_t)t * B * I, I);
        if (t != t0)
            continue;
        // The chunk [t0, t1] is complete: rows (t1 - t0 + 1) * B of da.
        // dW_ih^T (I, 4H) += x[t0..t1]^T @ da
        int rows = (t1 - t0 + 1) * B;
        gemm_f32(true, false, I, G, rows, 1.0f, m->x + (size_t)t0 * B * I, I, m->dpre, G, 1.0f,
                 m->dw_ih_t, G);
        // dW_hh^T (H, 4H) += h[t0-1..t1-1]^T @ da, with h0 standing in for h[-1]
        const float *da_rest = m->dpre;
        if (t0 == 0) {
            gemm_f32(true, false, H, G, B, 1.0f, m->h0, H, m->dpre, G, 1.0f, m->dw_hh_t, G);
            da_rest += BH * 4;
            rows -= B;
        }
        if (rows > 0)
            gemm_f32(true, false, H, G, rows, 1.0f, m->h + (size_t)(t0 + (t0 == 0) - 1) * BH, H,
                     da_rest, G, 1.0f, m->dw_hh_t, G);
    }
    mat_transpose(m->g.w_hh, m->dw_hh_t, H, G, true);
    mat_transpose(m->g.w_ih, m->dw_ih_t, I, G, true);
    // db_ih = db_hh = the column sums of da, gathered by lstm_cell_backward.
    for (int j = 0; j < G; j++) {
        m->g.b_ih[j] += m->dbias[j];
        m->g.b_hh[j] += m->dbias[j];
    }
}

// ---------------------------------------------------------------------------
// Access

RecurrentStep lstm_step(const Lstm *m, int t)
{
    size_t BH = (size_t)m->B * m->H;
    RecurrentStep s = {
        .B = m->B,
        .H = m->H,
        .ngates = 4,
        .gates = m->gates + (size_t)t * BH * 4,
        .c = m->c + t * BH,
        .h = m->h + t * BH,
        .dh = m->have_grad ? m->dh + t * BH : NULL,
        .dc = m->have_grad ? m->dc + t * BH : NULL,
    };
    return s;
}

void lstm_output(const Lstm *m, float *out)
{
    seq_to_batch_first(out, m->h, m->B, m->T, m->H);
}

void lstm_grad_input(const Lstm *m, float *dx)
{
    seq_to_batch_first(dx, m->dx, m->B, m->T, m->I);
}
