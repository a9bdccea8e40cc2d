// charrnn_avx512.c: min-char-rnn's iteration as one fused AVX-512 loop; the
// contract is charrnn_step.h's, the same as charrnn_step_generic's.
//
// For the shape min-char-rnn trains (H <= 128, batch 1) the recurrence is
// 2T matrix-vector products of a (H, H) matrix, each bound by how fast that
// matrix comes in from the caches. The input projections (a gather of
// W_xh's columns) are done first; each forward step then does h W_hh^T, the
// bias and tanh with h_t in registers, and each backward step dh, tanh' and
// the product with W_hh the same way. Successive steps walk the matrix in
// opposite directions, so that the rows read last (still in L1) are read
// first: the matrix does not fit a 32 KB L1, and a cyclic walk would miss on
// every row. The other products (read-out, its gradients, dW_hh) have T rows
// and run as small register-tiled products. All of them read 64-byte aligned
// copies with rows padded with zeros to whole vectors (W_hh, W_hh^T, W_hy,
// W_hy^T, made in one pass at the start of the step), so no load splits a
// cache line and none needs a mask; a last vector of at most 8 lanes takes a
// 256-bit FMA. Clipping and Adagrad are one pass over each parameter block.
//
// Compiled with __attribute__((target)), so the file builds for any x86-64
// and the loop runs only where charrnn_avx512_available says so. Elsewhere
// (another architecture, or -Dsimd=portable) only the stubs at the end are
// compiled.
#include "models/charrnn_step.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && \
    !defined(GRADLAB_SIMD_PORTABLE)
#define CHARRNN_X86 1
#include <immintrin.h>
#else
#define CHARRNN_X86 0
#endif

#define FUSED_MAX_H 128   // h fits 8 vectors of 16 floats

#if CHARRNN_X86
#define AVX512 __attribute__((target("avx512f,avx512vl,fma")))
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f,avx512vl,fma")))

// The lanes of a vector holding the last n (1..16) values.
static inline __mmask16 tail_mask(int n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

// fast_expf and fast_tanhf (fastmath.h) on 16 lanes: the same operations in
// the same order, so the same bits.
AVX512_INLINE __m512 exp16(__m512 x)
{
    x = _mm512_min_ps(_mm512_set1_ps(88.3762626647949f), x);   // NaN stays NaN
    x = _mm512_max_ps(_mm512_set1_ps(-87.3365447504019f), x);
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    __m512 fn = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                            magic), magic);
    fn = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(fn, fn, _CMP_ORD_Q), fn);
    __m512i n = _mm512_cvttps_epi32(fn);
    __m512 r = _mm512_sub_ps(x, _mm512_mul_ps(fn, _mm512_set1_ps(0.693359375f)));
    r = _mm512_add_ps(r, _mm512_mul_ps(fn, _mm512_set1_ps(2.12194440e-4f)));
    __m512 r2 = _mm512_mul_ps(r, r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, r2), r), _mm512_set1_ps(1.0f));
    __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

AVX512_INLINE __m512 tanh16(__m512 x)
{
    const __m512i signbit = _mm512_set1_epi32((int)0x80000000u);
    __m512 ax = _mm512_castsi512_ps(_mm512_andnot_si512(signbit, _mm512_castps_si512(x)));
    __m512 z = _mm512_mul_ps(x, x);
    __m512 s = _mm512_set1_ps(-5.70498872745e-3f);
    s = _mm512_add_ps(_mm512_mul_ps(s, z), _mm512_set1_ps(2.06390887954e-2f));
    s = _mm512_sub_ps(_mm512_mul_ps(s, z), _mm512_set1_ps(5.37397155531e-2f));
    s = _mm512_add_ps(_mm512_mul_ps(s, z), _mm512_set1_ps(1.33314422036e-1f));
    s = _mm512_sub_ps(_mm512_mul_ps(s, z), _mm512_set1_ps(3.33332819422e-1f));
    s = _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(s, z), x), x);
    __m512 e = exp16(_mm512_mul_ps(_mm512_set1_ps(2.0f), ax));
    __m512 l = _mm512_sub_ps(_mm512_set1_ps(1.0f),
                             _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
    __m512i sign = _mm512_and_si512(signbit, _mm512_castps_si512(x));
    l = _mm512_castsi512_ps(_mm512_or_si512(sign, _mm512_andnot_si512(signbit, _mm512_castps_si512(l))));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ), l, s);
}

// dst (cols, rows) = src (rows, cols)^T in 16 x 16 tiles, each transposed
// in registers (unpack within 128-bit lanes, then move the lanes); dst's
// rows are ldd floats apart. The same pass writes pad (rows, ldp): src with
// each row padded with zeros to a multiple of 16 floats.
AVX512 static void transpose16(float *restrict dst, size_t ldd, float *restrict pad, size_t ldp,
                               const float *restrict src, int rows, int cols)
{
    for (int i0 = 0; i0 < rows; i0 += 16)
        for (int j0 = 0; j0 < cols; j0 += 16) {
            int nr = rows - i0 < 16 ? rows - i0 : 16, nc = cols - j0 < 16 ? cols - j0 : 16;
            __mmask16 mc = tail_mask(nc), mr = tail_mask(nr);
            __m512 r[16], u[16];
            for (int i = 0; i < 16; i++)
                r[i] = i < nr ? _mm512_maskz_loadu_ps(mc, src + (size_t)(i0 + i) * cols + j0)
                              : _mm512_setzero_ps();
            for (int i = 0; i < nr; i++)
                _mm512_store_ps(pad + (size_t)(i0 + i) * ldp + j0, r[i]);
            for (int i = 0; i < 16; i += 2) {
                u[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
                u[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
            }
            for (int i = 0; i < 16; i += 4)
                for (int h = 0; h < 2; h++) {
                    __m512d lo = _mm512_castps_pd(u[i + h]), hi = _mm512_castps_pd(u[i + h + 2]);
                    r[i + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo, hi));
                    r[i + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo, hi));
                }
            // r[4q + k] now holds, in 128-bit lane L, column 4L + k of rows 4q..4q+3.
            for (int q = 0; q < 16; q += 8)
                for (int k = 0; k < 4; k++) {
                    u[q + k] = _mm512_shuffle_f32x4(r[q + k], r[q + 4 + k], 0x88);
                    u[q + 4 + k] = _mm512_shuffle_f32x4(r[q + k], r[q + 4 + k], 0xdd);
                }
            for (int k = 0; k < 8; k++) {
                r[k] = _mm512_shuffle_f32x4(u[k], u[8 + k], 0x88);
                r[8 + k] = _mm512_shuffle_f32x4(u[k], u[8 + k], 0xdd);
            }
            for (int j = 0; j < nc; j++)
                _mm512_mask_storeu_ps(dst + (size_t)(j0 + j) * ldd + i0, mr, r[j]);
        }
}

// Vector v of a row of NV vectors whose last one holds only the lanes in ml.
#define LOADV(p, v) ((v) == NV - 1 ? _mm512_maskz_loadu_ps(ml, (p) + 16 * (v)) \
                                   : _mm512_loadu_ps((p) + 16 * (v)))
// acc + x * (vector v of the row at p). Rows read this way are padded with
// zeros to whole vectors, so the loads need no mask. When HALF, the last
// vector has at most 8 live lanes and takes a 256-bit FMA: half the work of
// a 512-bit one on cores that split those in two, 7% of all FMAs at H = 100.
#define FMAV(x, p, v, acc)                                                                  \
    ((HALF && (v) == NV - 1)                                                                \
         ? _mm512_castps256_ps512(_mm256_fmadd_ps(_mm512_castps512_ps256(x),                \
                                                  _mm256_loadu_ps((p) + 16 * (v)),          \
                                                  _mm512_castps512_ps256(acc)))             \
         : _mm512_fmadd_ps((x), _mm512_loadu_ps((p) + 16 * (v)), (acc)))

// The recurrences keep h (or dh) in eight named vectors a0..a7, of which
// the first NV are used: GCC keeps named vectors in registers, where an
// array passed around ends up on the stack.
#define FOR_V(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DECL_V(v) __m512 a##v = _mm512_setzero_ps();

// a0..a7 += sum over k of x[k] * w[k * ldw ...], k from 0 up when up, else
// from n - 1 down: the matrix-vector product of the recurrence.
#define MATVEC_FMA(v) if ((v) < NV) a##v = FMAV(xk, wk, v, a##v);
#define MATVEC(x, n, w, ldw, up)                                               \
    if (up) {                                                                  \
        const float *wk = (w);                                                 \
        for (int k_ = 0; k_ < (n); k_++, wk += (ldw)) {                        \
            __m512 xk = _mm512_set1_ps((x)[k_]);                               \
            FOR_V(MATVEC_FMA)                                                  \
        }                                                                      \
    } else {                                                                   \
        const float *wk = (w) + (size_t)((n) - 1) * (ldw);                     \
        for (int k_ = (n) - 1; k_ >= 0; k_--, wk -= (ldw)) {                   \
            __m512 xk = _mm512_set1_ps((x)[k_]);                               \
            FOR_V(MATVEC_FMA)                                                  \
        }                                                                      \
    }

// The forward recurrence: hs[t + 1] = tanh(W_xh[:, x_t] + b + W_hh hs[t]).
AVX512_INLINE void forward_nv(CharRnn *m, const int NV, const bool HALF)
{
    const int H = m->H, V = m->V, T = m->T, HP = 16 * NV;
    const __mmask16 ml = tail_mask(H - 16 * (NV - 1));
    const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i vV = _mm512_set1_epi32(V);
    const float *whh_t = m->whh_t;
    // xb[t] = W_xh[:, x_t] + b for every step first, off the recurrence's
    // critical path (dhraw is free until the backward pass).
    float *xb = m->dhraw;
    for (int t = 0; t < T; t++) {
        const float *col = m->rnn->p.w_ih + m->inputs[t];   // W_xh[:, x_t], stride V
        for (int v = 0; v < NV; v++) {
            __mmask16 mv = v == NV - 1 ? ml : (__mmask16)0xffff;
            __m512i iv = _mm512_mullo_epi32(_mm512_add_epi32(iota, _mm512_set1_epi32(16 * v)), vV);
            _mm512_storeu_ps(xb + (size_t)t * HP + 16 * v,
                             _mm512_add_ps(_mm512_loadu_ps(m->bias + 16 * v),
                                           _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mv, iv, col, 4)));
        }
    }
    for (int t = 0; t < T; t++) {
        const float *hp = m->hs + (size_t)t * HP;
        float *ht = m->hs + (size_t)(t + 1) * HP;
        FOR_V(DECL_V)
#define INIT_V(v) if ((v) < NV) a##v = _mm512_loadu_ps(xb + (size_t)t * HP + 16 * (v));
        FOR_V(INIT_V)
#undef INIT_V
        MATVEC(hp, H, whh_t, (size_t)HP, (t & 1) == 0)
        // Whole vectors: the padding lanes hold tanh(0) = 0. A 4-byte load
        // from a plain store forwards where one from a masked store may not.
#define STORE_V(v) if ((v) < NV) _mm512_store_ps(ht + 16 * (v), tanh16(a##v));
        FOR_V(STORE_V)
#undef STORE_V
    }
}

// The backward recurrence: dhraw[t] = (1 - h_t^2) (dh_out[t] + dh_next),
// dh_next = dhraw[t] W_hh (not needed after t = 0).
AVX512_INLINE void backward_nv(CharRnn *m, const int NV, const bool HALF)
{
    const int H = m->H, T = m->T, HP = 16 * NV;
    const __m512 one = _mm512_set1_ps(1.0f);
    const float *whh = m->whh_p;
    FOR_V(DECL_V)
    for (int t = T - 1; t >= 0; t--) {
        const float *ht = m->hs + (size_t)(t + 1) * HP;
        const float *dout = m->dh_out + (size_t)t * HP;
        float *dr = m->dhraw + (size_t)t * HP;
#define DRAW_V(v) if ((v) < NV) {                                                                  \
            __m512 h = _mm512_loadu_ps(ht + 16 * (v));                                             \
            __m512 dh = _mm512_add_ps(a##v, _mm512_loadu_ps(dout + 16 * (v)));                     \
            _mm512_storeu_ps(dr + 16 * (v), _mm512_mul_ps(dh, _mm512_sub_ps(one, _mm512_mul_ps(h, h)))); \
            a##v = _mm512_setzero_ps();                                                            \
        }
        FOR_V(DRAW_V)
#undef DRAW_V
        if (t == 0)
            break;
        MATVEC(dr, H, whh, (size_t)HP, (t & 1) != 0)
    }
}
#undef MATVEC
#undef MATVEC_FMA
#undef DECL_V
#undef FOR_V

// C rows [0, MR) = init + sum over k < K of A(r, k) B(k, :); B's rows are
// NV vectors, zero-padded past the lanes ml keeps in the last one; A(r, k)
// at a[r * rsa + k * csa]; init is the row bias, or zero when bias is NULL.
AVX512_INLINE void tile(const int MR, const int NV, const bool HALF, __mmask16 ml, int K,
                        const float *a, size_t rsa, size_t csa, const float *b, size_t ldb,
                        float *c, size_t ldc, const float *bias)
{
    __m512 acc[6][8];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++)
            acc[r][v] = bias ? LOADV(bias, v) : _mm512_setzero_ps();
    for (int k = 0; k < K; k++) {
        const float *ak = a + (size_t)k * csa, *bk = b + (size_t)k * ldb;
        __m512 ar[6];
        for (int r = 0; r < MR; r++)
            ar[r] = _mm512_set1_ps(ak[(size_t)r * rsa]);
        for (int v = 0; v < NV; v++) {
            if (HALF && v == NV - 1) {
                __m256 bv = _mm256_loadu_ps(bk + 16 * v);
                for (int r = 0; r < MR; r++)
                    acc[r][v] = _mm512_castps256_ps512(_mm256_fmadd_ps(
                        _mm512_castps512_ps256(ar[r]), bv, _mm512_castps512_ps256(acc[r][v])));
            } else {
                __m512 bv = _mm512_loadu_ps(bk + 16 * v);
                for (int r = 0; r < MR; r++)
                    acc[r][v] = _mm512_fmadd_ps(ar[r], bv, acc[r][v]);
            }
        }
    }
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++)
            _mm512_mask_storeu_ps(c + (size_t)r * ldc + 16 * v, v == NV - 1 ? ml : (__mmask16)0xffff,
                                  acc[r][v]);
}

#define TILE_CASE(MR, NV)                                                                   \
    case MR:                                                                                \
        if (half)                                                                           \
            tile(MR, NV, true, ml, K, ai, rsa, csa, bj, ldb, cij, ldc, bias_j);             \
        else                                                                                \
            tile(MR, NV, false, ml, K, ai, rsa, csa, bj, ldb, cij, ldc, bias_j);            \
        break;
#define TILE_3(NV) TILE_CASE(1, NV) TILE_CASE(2, NV) TILE_CASE(3, NV)
#define TILE_4(NV) TILE_3(NV) TILE_CASE(4, NV)
#define TILE_5(NV) TILE_4(NV) TILE_CASE(5, NV)
#define TILE_6(NV) TILE_5(NV) TILE_CASE(6, NV)
#define TILE_NV(NV, ROWS) case NV: switch (rows) { ROWS(NV) } break;

// C (M, N) = init + A (M, K) @ B (K, N): A(i, k) at a[i * rsa + k * csa], B
// row-major with row stride ldb and zeros from column N up to a multiple
// of 16, C with row stride ldc; init as for tile.
AVX512 static void small_gemm(int M, int N, int K, const float *a, size_t rsa, size_t csa,
                              const float *b, size_t ldb, float *c, size_t ldc, const float *bias)
{
    for (int j0 = 0; j0 < N; j0 += 128) {
        int n = N - j0 < 128 ? N - j0 : 128, nv = (n + 15) / 16;
        __mmask16 ml = tail_mask(n - 16 * (nv - 1));
        bool half = n - 16 * (nv - 1) <= 8;
        int mr = 29 / (nv + 1) < 6 ? 29 / (nv + 1) : 6;   // mr * nv accumulators + mr + 1 <= 30
        for (int i0 = 0; i0 < M; i0 += mr) {
            int rows = M - i0 < mr ? M - i0 : mr;
            const float *ai = a + (size_t)i0 * rsa, *bj = b + j0, *bias_j = bias ? bias + j0 : NULL;
            float *cij = c + (size_t)i0 * ldc + j0;
            switch (nv) {
                TILE_NV(1, TILE_6) TILE_NV(2, TILE_6) TILE_NV(3, TILE_6) TILE_NV(4, TILE_5)
                TILE_NV(5, TILE_4) TILE_NV(6, TILE_4) TILE_NV(7, TILE_3) TILE_NV(8, TILE_3)
            }
        }
    }
}
#undef TILE_CASE
#undef TILE_3
#undef TILE_4
#undef TILE_5
#undef TILE_6
#undef TILE_NV

// Softmax of each row of z (T, V) in place, then dL/dz = p - onehot(target);
// returns the summed cross-entropy.
AVX512 static double softmax_xent_rows(float *z, int T, int V, const int *targets)
{
    double loss = 0.0;
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (int t = 0; t < T; t++) {
        float *zt = z + (size_t)t * V;
        __m512 mx = ninf;
        for (int j = 0; j < V; j += 16)
            mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(ninf, tail_mask(V - j), zt + j));
        __m512 mxv = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
        __m512 sum = _mm512_setzero_ps();
        for (int j = 0; j < V; j += 16) {
            __mmask16 mj = tail_mask(V - j);
            __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mj, zt + j), mxv));
            _mm512_mask_storeu_ps(zt + j, mj, e);
            sum = _mm512_mask_add_ps(sum, mj, sum, e);
        }
        __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
        for (int j = 0; j < V; j += 16) {
            __mmask16 mj = tail_mask(V - j);
            _mm512_mask_storeu_ps(zt + j, mj, _mm512_mul_ps(_mm512_maskz_loadu_ps(mj, zt + j), inv));
        }
        loss -= log((double)zt[targets[t]]);
        zt[targets[t]] -= 1.0f;
    }
    return loss;
}

// Clip g to [-clip, clip] in place, then Adagrad as optim.c does it, in one
// pass: mem += g^2; p -= lr * g / (sqrt(mem) + eps).
AVX512 static void clip_adagrad(float *p, float *g, float *mem, size_t n, float lr, float eps,
                                float clip)
{
    const __m512 hi = _mm512_set1_ps(clip), lo = _mm512_set1_ps(-clip);
    const __m512 vlr = _mm512_set1_ps(lr), veps = _mm512_set1_ps(eps);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 mi = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 g0 = _mm512_maskz_loadu_ps(mi, g + i);
        __m512 gv = _mm512_max_ps(lo, _mm512_min_ps(hi, g0));
        // Store back only the lanes clipping changed: most lines stay clean.
        _mm512_mask_storeu_ps(g + i, _mm512_mask_cmp_ps_mask(mi, gv, g0, _CMP_NEQ_UQ), gv);
        __m512 mv = _mm512_add_ps(_mm512_maskz_loadu_ps(mi, mem + i), _mm512_mul_ps(gv, gv));
        _mm512_mask_storeu_ps(mem + i, mi, mv);
        __m512 step = _mm512_mul_ps(vlr, _mm512_div_ps(gv, _mm512_add_ps(_mm512_sqrt_ps(mv), veps)));
        _mm512_mask_storeu_ps(p + i, mi, _mm512_sub_ps(_mm512_maskz_loadu_ps(mi, p + i), step));
    }
}

// One iteration on m->inputs / m->targets; see the top of the file.
AVX512 static double step_fused(CharRnn *m)
{
    const int V = m->V, H = m->H, T = m->T, NV = (H + 15) / 16, HP = 16 * NV;
    const bool half = H - 16 * (NV - 1) <= 8;
    Rnn *r = m->rnn;
    float *why = m->head, *by = m->head + (size_t)V * H;
    float *dwhy = m->head_grad, *dby = m->head_grad + (size_t)V * H;
    const size_t VP = ((size_t)V + 15) / 16 * 16;
    // Copies with rows padded to whole vectors: row loads never split cache lines.
    transpose16(m->whh_t, (size_t)HP, m->whh_p, (size_t)HP, r->p.w_hh, H, H);
    transpose16(m->why_t, VP, m->why_p, (size_t)HP, why, V, H);
    for (int j = 0; j < H; j++)
        m->bias[j] = r->p.b_ih[j] + r->p.b_hh[j];
    memcpy(m->hs, m->hprev, (size_t)H * sizeof(float));
    switch (NV * 2 + half) {
#define CASE_NV(nv) \
    case 2 * (nv): forward_nv(m, nv, false); break; \
    case 2 * (nv) + 1: forward_nv(m, nv, true); break;
    CASE_NV(1) CASE_NV(2) CASE_NV(3) CASE_NV(4) CASE_NV(5) CASE_NV(6) CASE_NV(7) CASE_NV(8)
#undef CASE_NV
    }
    const float *h1 = m->hs + HP;   // h_1..h_T (T, HP)
    // logits (T, V) = h W_hy^T + b_y; then dz = p - onehot in place.
    small_gemm(T, V, H, h1, (size_t)HP, 1, m->why_t, VP, m->logits, (size_t)V, by);
    double loss = softmax_xent_rows(m->logits, T, V, m->targets);
    const float *dz = m->logits;
    // db_y = column sums of dz; dL/dh_t (T, H) = dz W_hy; dW_hy (V, H) = dz^T h.
    memset(dby, 0, (size_t)V * sizeof(float));
    for (int t = 0; t < T; t++)
        for (int v = 0; v < V; v++)
            dby[v] += dz[(size_t)t * V + v];
    small_gemm(T, H, V, dz, (size_t)V, 1, m->why_p, (size_t)HP, m->dh_out, (size_t)HP, NULL);
    small_gemm(V, H, T, dz, 1, (size_t)V, h1, (size_t)HP, dwhy, (size_t)H, NULL);
    switch (NV * 2 + half) {
#define CASE_NV(nv) \
    case 2 * (nv): backward_nv(m, nv, false); break; \
    case 2 * (nv) + 1: backward_nv(m, nv, true); break;
    CASE_NV(1) CASE_NV(2) CASE_NV(3) CASE_NV(4) CASE_NV(5) CASE_NV(6) CASE_NV(7) CASE_NV(8)
#undef CASE_NV
    }
    // dW_hh (H, H) = dhraw^T [hprev; h_1..h_{T-1}]; db = sum of dhraw rows;
    // dW_xh[:, x_t] += dhraw[t]; b_hh is not trained.
    small_gemm(H, H, T, m->dhraw, 1, (size_t)HP, m->hs, (size_t)HP, r->g.w_hh, (size_t)H, NULL);
    memset(r->g.b_hh, 0, (size_t)H * sizeof(float));
    memset(r->g.w_ih, 0, (size_t)H * V * sizeof(float));
    for (int j = 0; j < HP; j += 16) {
        __m512 sum = _mm512_setzero_ps();
        for (int t = 0; t < T; t++)
            sum = _mm512_add_ps(sum, _mm512_load_ps(m->dhraw + (size_t)t * HP + j));
        _mm512_mask_storeu_ps(r->g.b_ih + j, tail_mask(H - j), sum);
    }
    for (int t = 0; t < T; t++) {
        const float *d = m->dhraw + (size_t)t * HP;
        float *g = r->g.w_ih + m->inputs[t];
        for (int j = 0; j < H; j++)
            g[(size_t)j * V] += d[j];
    }
    memcpy(m->hprev, m->hs + (size_t)T * HP, (size_t)H * sizeof(float));
    const OptimConfig *oc = &m->opt_rnn->cfg;
    clip_adagrad(r->params, r->grads, m->opt_rnn->m, r->nparams, oc->lr, oc->eps, m->clip);
    clip_adagrad(m->head, m->head_grad, m->opt_head->m, (size_t)V * H + (size_t)V, oc->lr, oc->eps,
                 m->clip);
    m->opt_rnn->t++;
    m->opt_head->t++;
    return loss;
}
#undef FMAV
#undef LOADV
#endif // CHARRNN_X86

bool charrnn_avx512_available(int H)
{
#if CHARRNN_X86
    return H >= 1 && H <= FUSED_MAX_H && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
#else
    (void)H;
    return false;
#endif
}

double charrnn_step_avx512(CharRnn *m)
{
#if CHARRNN_X86
    if (m->work && charrnn_avx512_available(m->H))
        return step_fused(m);
#else
    (void)m;
#endif
    return NAN;
}
