// rnn_avx2.c: the vanilla RNN's fused forward and backward recurrence (AVX2
// + FMA); the contract is rnn_fused.h's, the same as the generic pair's in
// rnn.c.
//
// Each step is one product of register tiles of up to 3 rows x 32 units
// (avx2_tile.h) whose epilogue finishes the step while the tile is in
// registers:
//   forward   h_t (B, H) = act([x_t, h_{t-1}] (B, I + H) [W_ih^T; W_hh^T] + b),
//             the weights packed once per forward in panels of 32 units (wp),
//             one-hot inputs as a row of the packed W_ih^T added to the bias;
//   backward  dh_{t-1} (B, H) = dpre_t (B, H) W_hh (H, H) (+ dL/doutput), then
//             dpre_{t-1} = dh_{t-1} * act'(h_{t-1}), W_hh packed alike (wb).
// The weight gradients are products over all T * B rows at once, which
// gemm does well: rnn_backward_weights, shared with the generic path.
#include "models/rnn_fused.h"

#include <string.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && \
    !defined(GRADLAB_SIMD_PORTABLE)
#define RNN_X86 1
#include "models/avx2_tile.h"
#else
#define RNN_X86 0
#endif

#if RNN_X86
// Panel p (32 units, fewer in the last) of wp: rows k < I from W_ih, then
// W_hh; of wb: the rows of W_hh. A panel's rows are w = its width floats.
static void pack_weights(Rnn *m)
{
    const int H = m->H, I = m->I, K = I + H;
    for (int p = 0; p * 32 < H; p++) {
        int w = H - 32 * p < 32 ? H - 32 * p : 32;
        float *d = m->wp + (size_t)p * 32 * K;
        for (int u = 0; u < w; u++) {
            const float *wi = m->p.w_ih + (size_t)(32 * p + u) * I;
            const float *wh = m->p.w_hh + (size_t)(32 * p + u) * H;
            for (int k = 0; k < I; k++)
                d[(size_t)k * w + u] = wi[k];
            for (int k = 0; k < H; k++)
                d[(size_t)(I + k) * w + u] = wh[k];
        }
        float *e = m->wb + (size_t)p * 32 * H;
        for (int k = 0; k < H; k++)
            memcpy(e + (size_t)k * w, m->p.w_hh + (size_t)k * H + 32 * p, (size_t)w * sizeof(float));
    }
    for (int j = 0; j < H; j++)
        m->bias[j] = m->p.b_ih[j] + m->p.b_hh[j];
}

// act(y) as rnn.c's activate, on 8 lanes.
AVX2_INLINE __m256 act8(RnnAct act, __m256 y)
{
    switch (act) {
    case RNN_TANH:
        return tanh8(y);
    case RNN_RELU:
        return _mm256_max_ps(y, _mm256_setzero_ps());   // NaN gives 0, as y > 0 ? y : 0
    case RNN_SIGMOID:
        return sigmoid8(y);
    case RNN_LINEAR:
    case RNN_ACT_COUNT:
        break;
    }
    return y;
}

// dh * act'(pre) with the derivative in terms of y = act(pre), as rnn.c's
// activate_backward.
AVX2_INLINE __m256 act_backward8(RnnAct act, __m256 dh, __m256 y)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    switch (act) {
    case RNN_TANH:
        return _mm256_mul_ps(dh, _mm256_sub_ps(one, _mm256_mul_ps(y, y)));
    case RNN_RELU:
        return _mm256_and_ps(dh, _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ));
    case RNN_SIGMOID:
        return _mm256_mul_ps(_mm256_mul_ps(dh, y), _mm256_sub_ps(one, y));
    case RNN_LINEAR:
    case RNN_ACT_COUNT:
        break;
    }
    return dh;
}

#define FOR_TILE(X)                                                            \
    X(0, 0) X(0, 1) X(0, 2) X(0, 3) X(1, 0) X(1, 1) X(1, 2) X(1, 3)             \
    X(2, 0) X(2, 1) X(2, 2) X(2, 3)

// h_t rows r0 .. r0 + R - 1, units 32 p .. 32 p + 8 NV - 1 (see the top).
AVX2_INLINE void fwd_tile(const int R, const int NV, const Rnn *m, int t, int r0, int p)
{
    const int B = m->B, H = m->H, I = m->I, w = 8 * NV;
    const float *wp = m->wp + (size_t)p * 32 * (I + H), *bias = m->bias + 32 * p;
    TILE_DECL(_mm256_setzero_ps());
    // The bias, plus for one-hot inputs the token's row of W_ih^T.
#define FWD_INIT(r, v)                                                         \
    if (R > (r) && NV > (v)) {                                                 \
        t##r##v = _mm256_loadu_ps(bias + 8 * (v));                             \
        if (m->onehot) {                                                       \
            int tok = m->tokens[(size_t)t * B + r0 + (r)];                     \
            t##r##v = _mm256_add_ps(t##r##v, _mm256_loadu_ps(wp + (size_t)tok * w + 8 * (v))); \
        }                                                                      \
    }
    FOR_TILE(FWD_INIT)
#undef FWD_INIT
    const float *b = wp;
    if (!m->onehot) {
        const float *x = m->x + ((size_t)t * B + r0) * I;
        for (int k = 0; k < I; k++, b += w)
            TILE_STEP(x + k, (size_t)I, b);
    } else {
        b += (size_t)I * w;
    }
    const float *hp = (t ? m->h + ((size_t)(t - 1) * B + r0) * H : m->h0 + (size_t)r0 * H);
    for (int k = 0; k < H; k++, b += w)
        TILE_STEP(hp + k, (size_t)H, b);
    float *h = m->h + ((size_t)t * B + r0) * H + 32 * p;
#define FWD_STORE(r, v)                                                        \
    if (R > (r) && NV > (v))                                                   \
        _mm256_storeu_ps(h + (size_t)(r) * H + 8 * (v), act8(m->act, t##r##v));
    FOR_TILE(FWD_STORE)
#undef FWD_STORE
}

// One step's pointwise backward for rows r, units j .. j + 7, given the
// recurrent part of dL/dh_t: the total into dh, dpre_t = dh * act'.
AVX2_INLINE void bwd_cell(const Rnn *m, const float *dout, int t, size_t b, int j, __m256 dh)
{
    const int B = m->B, T = m->T, H = m->H;
    size_t at = ((size_t)t * B + b) * H + j;
    if (dout)
        dh = _mm256_add_ps(dh, _mm256_loadu_ps(dout + (b * T + t) * H + j));
    _mm256_storeu_ps(m->dh + at, dh);
    _mm256_storeu_ps(m->dpre + at, act_backward8(m->act, dh, _mm256_loadu_ps(m->h + at)));
}

// dh_{t-1} rows r0 .. r0 + R - 1, units 32 p .. 32 p + 8 NV - 1, from
// dpre_t @ W_hh; then step t-1's pointwise backward (dh0 at t = 0).
AVX2_INLINE void bwd_tile(const int R, const int NV, const Rnn *m, const float *dout, int t, int r0,
                          int p)
{
    const int B = m->B, H = m->H, w = 8 * NV;
    TILE_DECL(_mm256_setzero_ps());
    const float *a = m->dpre + ((size_t)t * B + r0) * H, *b = m->wb + (size_t)p * 32 * H;
    for (int k = 0; k < H; k++, b += w)
        TILE_STEP(a + k, (size_t)H, b);
#define BWD_STORE(r, v)                                                        \
    if (R > (r) && NV > (v)) {                                                 \
        if (t > 0)                                                             \
            bwd_cell(m, dout, t - 1, (size_t)(r0 + (r)), 32 * p + 8 * (v), t##r##v); \
        else                                                                   \
            _mm256_storeu_ps(m->dh0 + (size_t)(r0 + (r)) * H + 32 * p + 8 * (v), t##r##v); \
    }
    FOR_TILE(BWD_STORE)
#undef BWD_STORE
}

// Rows in tiles of 3 (then 2 or 1) for the panels of 32 units (then
// fewer): CALL(R) calls fwd_tile or bwd_tile through BY_NV.
#define ALL_TILES(CALL)                                                        \
    for (int p = 0; p * 32 < m->H; p++) {                                      \
        int nv = (m->H - 32 * p) / 8 < 4 ? (m->H - 32 * p) / 8 : 4;            \
        int r0 = 0;                                                            \
        for (; r0 + 3 <= m->B; r0 += 3)                                        \
            CALL(3);                                                           \
        if (m->B - r0 == 2)                                                    \
            CALL(2);                                                           \
        else if (m->B - r0 == 1)                                               \
            CALL(1);                                                           \
    }
#define BY_NV(KERNEL, R, ...)                                                  \
    do {                                                                       \
        switch (nv) {                                                          \
        case 4: KERNEL(R, 4, __VA_ARGS__); break;                              \
        case 3: KERNEL(R, 3, __VA_ARGS__); break;                              \
        case 2: KERNEL(R, 2, __VA_ARGS__); break;                              \
        default: KERNEL(R, 1, __VA_ARGS__); break;                             \
        }                                                                      \
    } while (0)

AVX2 static void forward_step(const Rnn *m, int t)
{
#define FWD_CALL(R) BY_NV(fwd_tile, R, m, t, r0, p)
    ALL_TILES(FWD_CALL)
#undef FWD_CALL
}

AVX2 static void backward_step(const Rnn *m, const float *dout, int t)
{
#define BWD_CALL(R) BY_NV(bwd_tile, R, m, dout, t, r0, p)
    ALL_TILES(BWD_CALL)
#undef BWD_CALL
}

// The last step's pointwise backward, from dL/dh_n in m->dh0.
AVX2 static void backward_last(const Rnn *m, const float *dout)
{
    for (int b = 0; b < m->B; b++)
        for (int j = 0; j < m->H; j += 8)
            bwd_cell(m, dout, m->T - 1, (size_t)b, j, _mm256_loadu_ps(m->dh0 + (size_t)b * m->H + j));
}
#endif // RNN_X86

bool rnn_fused_available(int H)
{
#if RNN_X86
    return H >= 8 && H % 8 == 0 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    (void)H;
    return false;
#endif
}

void rnn_forward_fused(Rnn *m)
{
#if RNN_X86
    if (!m->packed || !rnn_fused_available(m->H))
        return;
    pack_weights(m);
    for (int t = 0; t < m->T; t++)
        forward_step(m, t);
#else
    (void)m;
#endif
}

void rnn_backward_fused(Rnn *m, const float *dout)
{
#if RNN_X86
    if (!m->packed || !rnn_fused_available(m->H))
        return;
    backward_last(m, dout);
    for (int t = m->T - 1; t >= 0; t--)
        backward_step(m, dout, t);
#else
    (void)m;
    (void)dout;
#endif
}
