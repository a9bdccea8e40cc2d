// lstm_avx2.c: the LSTM's fused forward and backward (AVX2 + FMA); the
// contract is lstm_fused.h's, the same as the generic pair's in lstm.c.
//
// Shapes as in lstm.h: B rows, T steps, I inputs, H hidden units, G = 4H.
// Every product is a register tile of up to 3 rows x 4 vectors of 8 floats
// (12 accumulators, 3 broadcasts, 1 loaded vector: the 16 ymm registers,
// avx2_tile.h). Its results stay in L1 for an epilogue that does the step's
// pointwise work as a loop of its own right after the product (a tile's
// epilogue straight after its own product would leave the core one row's
// long dependency chains at a time; as a loop, its independent iterations
// overlap):
//
// forward, each step: a (B, G) = [x_t, h_{t-1}] (B, I + H) [W_ih^T; W_hh^T] + b.
//   The weights are packed once per forward so that each column block of a
//   tile holds the 4 gates of the same 8 units (wp, lstm.h); the epilogue
//   then has i, f, g and o of those units (in `pre`, 4 KB) and writes the
//   gates, c, tanh(c) and h. The packed block of 8 units (16 KB at
//   I + H = 130) stays in L1 while the row tiles pass.
// backward, each step t: dh_{t-1} (B, H) = da_t (B, G) W_hh (G, H), with W_hh
//   packed in panels of 32 units (wb); the epilogue adds dL/doutput and
//   does step t-1's pointwise backward (dc, the four da, dL/dc_{t-2}) row by
//   row, reading that step's gates, c and tanh(c) in memory order (asked
//   for in L2 while the product runs). da is written in panels of 32
//   columns (dpre, (G/32, LSTM_CHUNK * B, 32)) so that the weight gradients
//   read it sequentially.
// weight gradients, each chunk of LSTM_CHUNK steps: dW^T (I + H, G) +=
//   [x_t, h_{t-1}]^T (I + H, rows) da (rows, G), with the inputs transposed
//   once per chunk (xt); the bias gradient is the column sums of the panels.
//
// The gate nonlinearities are a rational tanh (avx2_tile.h, within 3e-7 of
// tanh; sigmoid through it), half the work of fastmath.h's: the forward's
// epilogue runs five of them for every 4 (I + H) FMAs of its product. So
// the fused and the generic path agree to a few 1e-7, not to the bit.
#include "models/lstm_fused.h"

#include <stdint.h>
#include <string.h>

#include "models/recurrent.h"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && \
    !defined(GRADLAB_SIMD_PORTABLE)
#define LSTM_X86 1
#include "models/avx2_tile.h"
#else
#define LSTM_X86 0
#endif

#if LSTM_X86
// ---------------------------------------------------------------------------
// Packing

// wp (H/8, I + H, 32): block jb, row k, lane 8q + u = gate q of unit 8jb + u,
// from W_ih (k < I) or W_hh (k >= I); bp (H/8, 32) the summed biases alike.
// wb (ceil(H/32), G, w): panel p holds columns 32p .. 32p + w of W_hh, w = 32
// but for a narrower last panel.
static void pack_weights(Lstm *m)
{
    const int H = m->H, I = m->I, K = I + H, G = 4 * H;
    for (int q = 0; q < 4; q++)
        for (int j = 0; j < H; j++) {
            const float *wi = m->p.w_ih + (size_t)(q * H + j) * I;
            const float *wh = m->p.w_hh + (size_t)(q * H + j) * H;
            float *d = m->wp + (size_t)(j / 8) * K * 32 + q * 8 + j % 8;
            for (int k = 0; k < I; k++)
                d[(size_t)k * 32] = wi[k];
            d += (size_t)I * 32;
            for (int k = 0; k < H; k++)
                d[(size_t)k * 32] = wh[k];
            m->bp[(j / 8) * 32 + q * 8 + j % 8] = m->p.b_ih[q * H + j] + m->p.b_hh[q * H + j];
        }
    for (int p = 0; p * 32 < H; p++) {
        int w = H - 32 * p < 32 ? H - 32 * p : 32;
        float *d = m->wb + (size_t)p * G * 32;
        for (int k = 0; k < G; k++)
            memcpy(d + (size_t)k * w, m->p.w_hh + (size_t)k * H + 32 * p, (size_t)w * sizeof(float));
    }
}

// ---------------------------------------------------------------------------
// Forward

typedef struct FwdStep {
    int I, H;
    const float *x;       // (B, I) x_t
    const float *hprev;   // (B, H)
    const float *cprev;   // (B, H)
    float *gates;         // (B, G) out: i, f, g, o
    float *c, *h, *tc;    // (B, H) out: c_t, h_t, tanh(c_t)
    float *pre;           // (2, B * 32 + 64) scratch, 32-byte aligned: two blocks' pre-activations
} FwdStep;

// Row `row`'s epilogue: a0..a3 are the pre-activations of gates i, f, g, o
// of units j0 .. j0 + 7; the same operations in the same order as lstm.c's
// lstm_row_forward.
AVX2_INLINE void fwd_epilogue(const FwdStep *s, size_t row, int j0, __m256 a0, __m256 a1,
                              __m256 a2, __m256 a3)
{
    const int H = s->H;
    size_t at = row * H + j0;
    __m256 cp = _mm256_loadu_ps(s->cprev + at);   // before the stores (see bwd_cell)
    __m256 i = sigmoid_r8(a0), f = sigmoid_r8(a1), g = tanh_r8(a2), o = sigmoid_r8(a3);
    float *ga = s->gates + row * 4 * H + j0;
    _mm256_storeu_ps(ga, i);
    _mm256_storeu_ps(ga + H, f);
    _mm256_storeu_ps(ga + 2 * H, g);
    _mm256_storeu_ps(ga + 3 * H, o);
    __m256 c = _mm256_add_ps(_mm256_mul_ps(f, cp), _mm256_mul_ps(i, g));
    __m256 t = tanh_r8(c);
    _mm256_storeu_ps(s->c + at, c);
    _mm256_storeu_ps(s->tc + at, t);
    _mm256_storeu_ps(s->h + at, _mm256_mul_ps(o, t));
}

// Rows r0 .. r0 + R - 1 and units j0 .. j0 + 7 of one step (see the top):
// the tile's 4 vectors are the 4 gates' pre-activations, left in s->pre.
AVX2_INLINE void fwd_tile(const int R, const FwdStep *s, const float *wpj, const float *bpj, int r0,
                          int j0)
{
    const int NV = 4, I = s->I, H = s->H;
    TILE_DECL(_mm256_setzero_ps());
    t00 = t10 = t20 = _mm256_load_ps(bpj);
    t01 = t11 = t21 = _mm256_load_ps(bpj + 8);
    t02 = t12 = t22 = _mm256_load_ps(bpj + 16);
    t03 = t13 = t23 = _mm256_load_ps(bpj + 24);
    const float *x = s->x + (size_t)r0 * I, *b = wpj;
    for (int k = 0; k < I; k++, b += 32)
        TILE_STEP(x + k, (size_t)I, b);
    const float *h = s->hprev + (size_t)r0 * H;
    for (int k = 0; k < H; k++, b += 32)
        TILE_STEP(h + k, (size_t)H, b);
    float *pre = s->pre + (size_t)r0 * 32;
    _mm256_store_ps(pre, t00);
    _mm256_store_ps(pre + 8, t01);
    _mm256_store_ps(pre + 16, t02);
    _mm256_store_ps(pre + 24, t03);
    if (R > 1) {
        _mm256_store_ps(pre + 32, t10);
        _mm256_store_ps(pre + 40, t11);
        _mm256_store_ps(pre + 48, t12);
        _mm256_store_ps(pre + 56, t13);
    }
    if (R > 2) {
        _mm256_store_ps(pre + 64, t20);
        _mm256_store_ps(pre + 72, t21);
        _mm256_store_ps(pre + 80, t22);
        _mm256_store_ps(pre + 88, t23);
    }
}

// The epilogues of rows [b0, b1) of the block of units j0, whose
// pre-activations wait in pre (B, 32). Not inlined: in the product's
// function its constants would take the registers of the tile.
__attribute__((noinline, target("avx2,fma")))
static void fwd_epilogues(const FwdStep *s, const float *pre, int j0, int b0, int b1)
{
    for (int b = b0; b < b1; b++) {
        const float *p = pre + (size_t)b * 32;
        fwd_epilogue(s, (size_t)b, j0, _mm256_load_ps(p), _mm256_load_ps(p + 8),
                     _mm256_load_ps(p + 16), _mm256_load_ps(p + 24));
    }
}

// One step, software-pipelined: after each row tile of the block of units
// jb, the epilogues of the same rows of block jb - 1. Their ops (the
// rational tanh is a long chain; the stores) then share the core's window
// with the FMAs of the next tile instead of running alone; the two blocks'
// pre-activations alternate between the halves of s->pre.
AVX2 static void forward_step(const FwdStep *s, const float *wp, const float *bp, int B)
{
    const int K = s->I + s->H, nb = s->H / 8;
    for (int jb = 0; jb <= nb; jb++) {
        const float *wpj = wp + (size_t)jb * K * 32, *bpj = bp + (size_t)jb * 32;
        // The halves start 4 KB + 256 bytes apart (at B = 32): at exactly
        // 4 KB the epilogue's loads would wait on the tile's stores to the
        // same rows (4K aliasing).
        const size_t half = (size_t)B * 32 + 64;
        float *cur = s->pre + (jb % 2) * half, *prev = s->pre + ((jb + 1) % 2) * half;
        FwdStep t = *s;
        t.pre = cur;
        int r0 = 0;
        for (; r0 < B; r0 += 3) {
            int R = B - r0 < 3 ? B - r0 : 3;
            if (jb < nb) {
                if (R == 3)
                    fwd_tile(3, &t, wpj, bpj, r0, 8 * jb);
                else if (R == 2)
                    fwd_tile(2, &t, wpj, bpj, r0, 8 * jb);
                else
                    fwd_tile(1, &t, wpj, bpj, r0, 8 * jb);
            }
            if (jb > 0)
                fwd_epilogues(s, prev, 8 * (jb - 1), r0, r0 + R);
        }
    }
}

// ---------------------------------------------------------------------------
// Backward

typedef struct Bwd {
    const Lstm *m;
    int B, T, H, G;
    size_t rows_cap;      // LSTM_CHUNK * B: rows of a dpre panel
    const float *dout;    // (B, T, H) or NULL
    float *dap;           // m->dpre as (G/32, rows_cap, 32) panels
    float *dcn;           // (B, H) dL/dc_t from later steps (m->dc0)
    float *part;          // (B, H) the backward product's partial sums between blocks of k
                          // (m->xt, free outside backward_chunk)
} Bwd;

// Step t's pointwise backward for row b, units j0 .. j0 + 7, given the
// recurrent part of dL/dh_t in dh: writes dh_t, dc_t, da_t (into the
// panels) and leaves dL/dc_{t-1} in dcn. The same
// operations in the same order as lstm.c's lstm_row_backward.
AVX2_INLINE void bwd_cell(const Bwd *w, int t, int b, int j0, __m256 dh)
{
    const Lstm *m = w->m;
    const int B = w->B, H = w->H, G = w->G;
    const __m256 one = _mm256_set1_ps(1.0f);
    size_t at = ((size_t)t * B + b) * H + j0;
    // Every load before any store: the (T, B, H) arrays share their offsets
    // modulo 4 KB, and a load behind a store to the same offset in another
    // array waits for it (4K aliasing).
    const float *ga = m->gates + ((size_t)t * B + b) * G + j0;
    __m256 i = _mm256_loadu_ps(ga), f = _mm256_loadu_ps(ga + H);
    __m256 g = _mm256_loadu_ps(ga + 2 * H), o = _mm256_loadu_ps(ga + 3 * H);
    __m256 tcj = _mm256_loadu_ps(m->tc + at);
    __m256 cp = _mm256_loadu_ps(t ? m->c + at - (size_t)B * H : m->c0 + (size_t)b * H + j0);
    float *dcn = w->dcn + (size_t)b * H + j0;
    __m256 dcl = _mm256_loadu_ps(dcn);
    if (w->dout)
        dh = _mm256_add_ps(dh, _mm256_loadu_ps(w->dout + ((size_t)b * w->T + t) * H + j0));
    __m256 dc = _mm256_add_ps(dcl, _mm256_mul_ps(_mm256_mul_ps(dh, o),
                                                 _mm256_sub_ps(one, _mm256_mul_ps(tcj, tcj))));
    __m256 da[4];
    da[0] = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dc, g), i), _mm256_sub_ps(one, i));
    da[1] = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dc, cp), f), _mm256_sub_ps(one, f));
    da[2] = _mm256_mul_ps(_mm256_mul_ps(dc, i), _mm256_sub_ps(one, _mm256_mul_ps(g, g)));
    da[3] = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dh, tcj), o), _mm256_sub_ps(one, o));
    _mm256_storeu_ps(m->dh + at, dh);
    _mm256_storeu_ps(m->dc + at, dc);
    _mm256_storeu_ps(dcn, _mm256_mul_ps(dc, f));
    size_t rr = (size_t)(t % LSTM_CHUNK) * B + b;
    for (int q = 0; q < 4; q++) {
        int col = q * H + j0;
        _mm256_storeu_ps(w->dap + ((size_t)(col / 32) * w->rows_cap + rr) * 32 + col % 32, da[q]);
    }
}

// What bwd_cell will read for step t, row b, units j0 .. j0 + n/4 - 1:
// written by the forward pass long ago, so out in L3 or memory, and in an
// order no hardware prefetcher foresees. Asked for at the first block of
// the tile's product, it arrives while the product runs.
AVX2_INLINE void bwd_prefetch(const Bwd *w, int t, int b, int j0, size_t n)
{
    const Lstm *m = w->m;
    const int B = w->B, H = w->H, G = w->G;
    size_t at = ((size_t)t * B + b) * H + j0;
    const float *ga = m->gates + ((size_t)t * B + b) * G + j0;
    for (int q = 0; q < 4; q++)
        prefetch_l2(ga + (size_t)q * H, n);
    prefetch_l2(m->tc + at, n);
    prefetch_l2(t ? m->c + at - (size_t)B * H : m->c0 + (size_t)b * H + j0, n);
    if (w->dout)
        prefetch_l2(w->dout + ((size_t)b * w->T + t) * H + j0, n);
}

#define TILE_SAVE(r)                                                           \
    do {                                                                       \
        float *d_ = dest + (size_t)(r0 + (r)) * w->H + 32 * p;                 \
        _mm256_storeu_ps(d_, t##r##0);                                         \
        if (NV > 1)                                                            \
            _mm256_storeu_ps(d_ + 8, t##r##1);                                 \
        if (NV > 2)                                                            \
            _mm256_storeu_ps(d_ + 16, t##r##2);                                \
        if (NV > 3)                                                            \
            _mm256_storeu_ps(d_ + 24, t##r##3);                                \
    } while (0)
#define TILE_LOAD(r)                                                           \
    do {                                                                       \
        const float *d_ = dest + (size_t)(r0 + (r)) * w->H + 32 * p;           \
        t##r##0 = _mm256_loadu_ps(d_);                                         \
        if (NV > 1)                                                            \
            t##r##1 = _mm256_loadu_ps(d_ + 8);                                 \
        if (NV > 2)                                                            \
            t##r##2 = _mm256_loadu_ps(d_ + 16);                                \
        if (NV > 3)                                                            \
            t##r##3 = _mm256_loadu_ps(d_ + 24);                                \
    } while (0)

// dh_{t-1} rows r0 .. r0 + R - 1, units 32 p .. 32 p + 8 NV - 1, from
// da_t @ W_hh over the columns 32 cb0 .. 32 cb1 of da_t (a block of k whose
// panel of W_hh, 16 KB, stays in L1 while the row tiles pass). The sums
// wait in w->part between blocks, and for bwd_epilogues after the last.
AVX2_INLINE void bwd_tile(const int R, const int NV, const Bwd *w, int t, int r0, int p, int cb0,
                          int cb1)
{
    const int G = w->G, wd = 8 * NV;
    float *dest = w->part;
    TILE_DECL(_mm256_setzero_ps());
    if (cb0 > 0) {   // later blocks of k: add to the sums waiting in w->part
        TILE_LOAD(0);
        if (R > 1)
            TILE_LOAD(1);
        if (R > 2)
            TILE_LOAD(2);
    }
    if (cb0 == 0 && t > 0)
        for (int r = 0; r < R; r++)
            bwd_prefetch(w, t - 1, r0 + r, 32 * p, 32 * NV);
    const float *wb = w->m->wb + (size_t)p * G * 32;
    size_t rr0 = (size_t)(t % LSTM_CHUNK) * w->B + r0;
    for (int cb = cb0; cb < cb1; cb++) {
        const float *a = w->dap + ((size_t)cb * w->rows_cap + rr0) * 32;
        const float *b = wb + (size_t)cb * 32 * wd;
        // Unrolled: a loop of 32 would end in a mispredicted branch every
        // 32 k, 10% of the product's time.
#pragma GCC unroll 32
        for (int kk = 0; kk < 32; kk++)
            TILE_STEP(a + kk, 32, b + kk * wd);
    }
    TILE_SAVE(0);
    if (R > 1)
        TILE_SAVE(1);
    if (R > 2)
        TILE_SAVE(2);
}
#undef TILE_SAVE
#undef TILE_LOAD

// After the whole product, step t-1's pointwise backward as a loop of its
// own, row by row: its iterations are independent, so the core overlaps
// them, and it walks the forward's gates, c and tanh(c) of that step in
// memory order. At t = 0 the product is dL/dh0.
AVX2 static void bwd_epilogues(const Bwd *w, int t)
{
    const size_t n = (size_t)w->B * w->H;
    if (t == 0) {
        memcpy(w->m->dh0, w->part, n * sizeof(float));
        return;
    }
    for (int b = 0; b < w->B; b++)
        for (int j = 0; j < w->H; j += 8)
            bwd_cell(w, t - 1, b, j, _mm256_loadu_ps(w->part + (size_t)b * w->H + j));
}

#define BWD_KBLOCK 16   // blocks of 16 x 32 columns of da (all of them at H = 128): 64 KB of W_hh
#define BWD_ROWS(NV)                                                                    \
    do {                                                                                \
        for (int cb0 = 0; cb0 < w->G / 32; cb0 += BWD_KBLOCK) {                         \
            int cb1 = cb0 + BWD_KBLOCK < w->G / 32 ? cb0 + BWD_KBLOCK : w->G / 32;      \
            int r0 = 0;                                                                 \
            for (; r0 + 3 <= w->B; r0 += 3)                                             \
                bwd_tile(3, NV, w, t, r0, p, cb0, cb1);                                 \
            if (w->B - r0 == 2)                                                         \
                bwd_tile(2, NV, w, t, r0, p, cb0, cb1);                                 \
            else if (w->B - r0 == 1)                                                    \
                bwd_tile(1, NV, w, t, r0, p, cb0, cb1);                                 \
        }                                                                               \
    } while (0)

AVX2 static void backward_step(const Bwd *w, int t)
{
    for (int p = 0; p * 32 < w->H; p++) {
        int nv = (w->H - 32 * p) / 8;
        if (nv >= 4)
            BWD_ROWS(4);
        else if (nv == 3)
            BWD_ROWS(3);
        else if (nv == 2)
            BWD_ROWS(2);
        else
            BWD_ROWS(1);
    }
    bwd_epilogues(w, t);
}
#undef BWD_ROWS

// The last step's pointwise backward: dh_{T-1} from dh_n (in m->dh0).
AVX2 static void backward_last(const Bwd *w)
{
    for (int b = 0; b < w->B; b++)
        for (int j = 0; j < w->H; j += 8)
            bwd_cell(w, w->T - 1, b, j, _mm256_loadu_ps(w->m->dh0 + (size_t)b * w->H + j));
}

// dW^T rows k0 .. k0 + R - 1 (of (I + H, G): W_ih's then W_hh's, rows in
// crow) and columns 32 cb .. 32 cb + 31 += xt[k][0..rows) @ da[0..rows):
// the chunk's da panel (32 KB at 8 steps of 32 rows) streams from L2.
AVX2_INLINE void dw_tile(const int R, const Bwd *w, float *const crow[3], const float *xt,
                         size_t ldx, int cb, int rows)
{
    const int NV = 4;
    // From zero, and C added at the end: loads of C at the start would hold
    // up the first FMAs until they arrive from L2 or L3.
    TILE_DECL(_mm256_setzero_ps());
    const float *b = w->dap + (size_t)cb * w->rows_cap * 32;
    for (int k = 0; k < rows; k++, b += 32)
        TILE_STEP(xt + k, ldx, b);
#define DW_ADD(r, v)                                                           \
    do {                                                                       \
        float *c_ = crow[r] + 32 * cb + 8 * (v);                               \
        _mm256_storeu_ps(c_, _mm256_add_ps(_mm256_loadu_ps(c_), t##r##v));     \
    } while (0)
    DW_ADD(0, 0); DW_ADD(0, 1); DW_ADD(0, 2); DW_ADD(0, 3);
    if (R > 1) {
        DW_ADD(1, 0); DW_ADD(1, 1); DW_ADD(1, 2); DW_ADD(1, 3);
    }
    if (R > 2) {
        DW_ADD(2, 0); DW_ADD(2, 1); DW_ADD(2, 2); DW_ADD(2, 3);
    }
#undef DW_ADD
}

// The weight gradients (and dx) of the chunk of steps t0 .. t1, whose da
// are all in the panels.
AVX2 static void backward_chunk(const Bwd *w, int t0, int t1)
{
    const Lstm *m = w->m;
    const int B = w->B, H = w->H, I = m->I, G = w->G, K = I + H;
    const int rows = (t1 - t0 + 1) * B;
    // xt (I + H, rows): [x_t, h_{t-1}] of the chunk's rows, transposed.
    float *xt = m->xt;
    const size_t ldx = (size_t)rows;
    transpose(xt, ldx, m->x + (size_t)t0 * B * I, (size_t)I, rows, I);
    if (t0 == 0) {
        transpose(xt + (size_t)I * ldx, ldx, m->h0, (size_t)H, B, H);
        if (rows > B)
            transpose(xt + (size_t)I * ldx + B, ldx, m->h, (size_t)H, rows - B, H);
    } else {
        transpose(xt + (size_t)I * ldx, ldx, m->h + (size_t)(t0 - 1) * B * H, (size_t)H, rows, H);
    }
    // The bias gradient: the column sums of da, a panel at a time.
    for (int cb = 0; cb < G / 32; cb++) {
        const float *d = w->dap + (size_t)cb * w->rows_cap * 32;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (int r = 0; r < rows; r++, d += 32) {
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(d));
            s1 = _mm256_add_ps(s1, _mm256_loadu_ps(d + 8));
            s2 = _mm256_add_ps(s2, _mm256_loadu_ps(d + 16));
            s3 = _mm256_add_ps(s3, _mm256_loadu_ps(d + 24));
        }
        float *db = m->dbias + 32 * cb;
        _mm256_storeu_ps(db, _mm256_add_ps(_mm256_loadu_ps(db), s0));
        _mm256_storeu_ps(db + 8, _mm256_add_ps(_mm256_loadu_ps(db + 8), s1));
        _mm256_storeu_ps(db + 16, _mm256_add_ps(_mm256_loadu_ps(db + 16), s2));
        _mm256_storeu_ps(db + 24, _mm256_add_ps(_mm256_loadu_ps(db + 24), s3));
    }
    for (int cb = 0; cb < G / 32; cb++) {
        for (int k0 = 0; k0 < K; k0 += 3) {
            int R = K - k0 < 3 ? K - k0 : 3;
            float *crow[3];
            for (int r = 0; r < R; r++) {
                int k = k0 + r;
                crow[r] = k < I ? m->dw_ih_t + (size_t)k * G : m->dw_hh_t + (size_t)(k - I) * G;
            }
            const float *a = xt + (size_t)k0 * ldx;
            if (R == 3)
                dw_tile(3, w, crow, a, ldx, cb, rows);
            else if (R == 2)
                dw_tile(2, w, crow, a, ldx, cb, rows);
            else
                dw_tile(1, w, crow, a, ldx, cb, rows);
        }
    }
    if (m->skip_dx)
        return;
    // dx (rows, I) = da (rows, G) @ W_ih (G, I); small, plainly.
    for (int r = 0; r < rows; r++) {
        float *dx = m->dx + ((size_t)t0 * B + r) * I;
        for (int i = 0; i < I; i++)
            dx[i] = 0.0f;
        for (int k = 0; k < G; k++) {
            float d = w->dap[((size_t)(k / 32) * w->rows_cap + (size_t)r) * 32 + k % 32];
            const float *wi = m->p.w_ih + (size_t)k * I;
            for (int i = 0; i < I; i++)
                dx[i] += d * wi[i];
        }
    }
}
#endif // LSTM_X86

bool lstm_fused_available(int H)
{
#if LSTM_X86
    return H >= 8 && H % 8 == 0 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    (void)H;
    return false;
#endif
}

void lstm_forward_fused(Lstm *m)
{
#if LSTM_X86
    if (!m->packed || !lstm_fused_available(m->H))
        return;
    const int B = m->B, T = m->T, H = m->H, I = m->I, G = 4 * H;
    const size_t BH = (size_t)B * H;
    pack_weights(m);
    for (int t = 0; t < T; t++) {
        FwdStep s = {
            .I = I,
            .H = H,
            .x = m->x + (size_t)t * B * I,
            .hprev = t ? m->h + (size_t)(t - 1) * BH : m->h0,
            .cprev = t ? m->c + (size_t)(t - 1) * BH : m->c0,
            .gates = m->gates + (size_t)t * B * G,
            .c = m->c + t * BH,
            .h = m->h + t * BH,
            .tc = m->tc + t * BH,
            .pre = m->xt,   // free outside backward_chunk
        };
        forward_step(&s, m->wp, m->bp, B);
    }
    _mm_sfence();
#else
    (void)m;
#endif
}

void lstm_backward_fused(Lstm *m, const float *dout)
{
#if LSTM_X86
    if (!m->packed || !lstm_fused_available(m->H))
        return;
    const int B = m->B, T = m->T, H = m->H, I = m->I, G = 4 * H;
    Bwd w = {
        .m = m, .B = B, .T = T, .H = H, .G = G,
        .rows_cap = (size_t)LSTM_CHUNK * B,
        .dout = dout,
        .dap = m->dpre,
        .dcn = m->dc0,
        .part = m->xt,
    };
    memset(m->dbias, 0, (size_t)G * sizeof(float));
    memset(m->dw_hh_t, 0, (size_t)H * G * sizeof(float));
    memset(m->dw_ih_t, 0, (size_t)I * G * sizeof(float));
    backward_last(&w);
    for (int t = T - 1; t >= 0; t--) {
        // da_t .. da_t1 are all in the panels: the chunk's weight gradients
        // first, before step t's epilogue writes da_{t-1} over the panel
        // rows of t + LSTM_CHUNK - 1.
        if (t % LSTM_CHUNK == 0)
            backward_chunk(&w, t, t + LSTM_CHUNK - 1 < T - 1 ? t + LSTM_CHUNK - 1 : T - 1);
        backward_step(&w, t);
    }
    _mm_sfence();
    mat_transpose(m->g.w_hh, m->dw_hh_t, H, G, true);
    mat_transpose(m->g.w_ih, m->dw_ih_t, I, G, true);
    for (int j = 0; j < G; j++) {
        m->g.b_ih[j] += m->dbias[j];
        m->g.b_hh[j] += m->dbias[j];
    }
#else
    (void)m;
    (void)dout;
#endif
}
