// charrnn_avx2.c: min-char-rnn's iteration as one fused AVX2 + FMA loop, the
// twin of charrnn_avx512.c for CPUs without AVX-512 (Zen 1 to 3, Haswell and
// later); the contract is charrnn_step.h's, the same as
// charrnn_step_generic's.
//
// The plan is charrnn_avx512.c's on 8-lane vectors. Every matrix the loop
// reads is copied once per step into a 32-byte aligned block with rows
// padded with zeros to HP = H rounded up to 8 (104 at H = 100), so no load
// needs a mask and padding lanes stay exactly zero through the recurrence
// (tanh(0) = 0). Then:
//   forward: xb[t] = W_xh[:, x_t] + b for all t first; each step then does
//     h_{t-1} W_hh^T with its accumulators in registers (13 vectors at
//     H = 100: 13 accumulators, 1 broadcast, 1 loaded row vector of the 16
//     ymm registers; larger H in two column chunks), the bias and tanh, and
//     stores h_t. Successive steps walk W_hh in opposite directions so the
//     rows read last (still in L1; the padded matrix is 41.6 KB at H = 100,
//     more than a 32 KB L1) are read first.
//   read-out, its gradients and dW_hh: small register-tiled products (up to
//     3 rows x 4 vectors, or more rows for narrow column blocks);
//   backward: dhraw[t] = (1 - h_t^2) (dh_out[t] + dh_next), then
//     dh_next = dhraw[t] W_hh, the same register scheme as the forward;
//   clipping and Adagrad in one pass per parameter block.
// tanh is fastmath.h's (tanh8 in avx2_tile.h: the same operations), so the
// forward matches the generic path to float rounding of the sums.
//
// Compiled with __attribute__((target)) so the file builds for any x86-64;
// the loop runs only where charrnn_avx2_available says so. Elsewhere
// (another architecture, or -Dsimd=portable) only the stubs at the end are
// compiled.
#include "models/charrnn_step.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && \
    !defined(GRADLAB_SIMD_PORTABLE)
#define CHARRNN_AVX2_X86 1
#include "models/avx2_tile.h"
#else
#define CHARRNN_AVX2_X86 0
#endif

#define FUSED_MAX_H 128   // at most 16 vectors of 8 floats, two column chunks
#define CHUNK_MAX 13      // accumulators of one matrix-vector chunk

#if CHARRNN_AVX2_X86

// Lane masks for maskload/maskstore: mask_for(n) keeps the first n (0..8) lanes.
AVX2_INLINE __m256i mask_for(int n)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), iota);
}

// dst (rows, ld) = src (rows, cols) with each row padded with zeros to ld.
AVX2 static void copy_padded(float *restrict dst, size_t ld, const float *restrict src, int rows,
                             int cols)
{
    for (int i = 0; i < rows; i++) {
        memcpy(dst + (size_t)i * ld, src + (size_t)i * cols, (size_t)cols * sizeof(float));
        memset(dst + (size_t)i * ld + cols, 0, (ld - (size_t)cols) * sizeof(float));
    }
}

// dst (cols, ld) = src (rows, cols)^T, each row padded with zeros from rows to ld.
AVX2 static void transpose_padded(float *restrict dst, size_t ld, const float *restrict src,
                                  int rows, int cols)
{
    transpose(dst, ld, src, (size_t)cols, rows, cols);
    for (int j = 0; j < cols; j++)
        memset(dst + (size_t)j * ld + rows, 0, (ld - (size_t)rows) * sizeof(float));
}

// ---------------------------------------------------------------------------
// The recurrences: y = f(init + sum over k < n of x[k] w[k * ldw + ...]) on NC
// vectors of 8, k from 0 up when up, else from n - 1 down. The accumulators
// are named vectors a0..a12 (GCC keeps them in registers; an array would
// end up on the stack); NC is a constant where this is instantiated.

#define FOR_V(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12)

AVX2_INLINE void matvec(const int NC, const bool TANH, float *y, const float *init, const float *x,
                        int n, const float *w, size_t ldw, bool up)
{
#define DECL_V(v) __m256 a##v = NC > (v) ? (init ? _mm256_load_ps(init + 8 * (v)) : _mm256_setzero_ps()) \
                                         : _mm256_setzero_ps();
    FOR_V(DECL_V)
#undef DECL_V
#define FMA_V(v) if (NC > (v)) a##v = _mm256_fmadd_ps(xk, _mm256_load_ps(wk + 8 * (v)), a##v);
    if (up) {
        const float *wk = w;
        for (int k = 0; k < n; k++, wk += ldw) {
            __m256 xk = _mm256_broadcast_ss(x + k);
            FOR_V(FMA_V)
        }
    } else {
        const float *wk = w + (size_t)(n - 1) * ldw;
        for (int k = n - 1; k >= 0; k--, wk -= ldw) {
            __m256 xk = _mm256_broadcast_ss(x + k);
            FOR_V(FMA_V)
        }
    }
#undef FMA_V
#define STORE_V(v) if (NC > (v)) _mm256_store_ps(y + 8 * (v), TANH ? tanh8(a##v) : a##v);
    FOR_V(STORE_V)
#undef STORE_V
}
#undef FOR_V

// matvec for nc (1..CHUNK_MAX) vectors, tanh or not, as a run-time choice.
AVX2 static void matvec_chunk(int nc, bool tanh_, float *y, const float *init, const float *x,
                              int n, const float *w, size_t ldw, bool up)
{
    switch (nc * 2 + tanh_) {
#define CASE_NC(c) \
    case 2 * (c): matvec(c, false, y, init, x, n, w, ldw, up); break; \
    case 2 * (c) + 1: matvec(c, true, y, init, x, n, w, ldw, up); break;
        CASE_NC(1) CASE_NC(2) CASE_NC(3) CASE_NC(4) CASE_NC(5) CASE_NC(6) CASE_NC(7)
        CASE_NC(8) CASE_NC(9) CASE_NC(10) CASE_NC(11) CASE_NC(12) CASE_NC(13)
#undef CASE_NC
    }
}

// y (NV vectors) = f(init + x (n) W (n, 8 NV)), W's rows ldw floats apart,
// in one chunk when NV <= CHUNK_MAX, else two.
AVX2 static void matvec_rows(int NV, bool tanh_, float *y, const float *init, const float *x, int n,
                             const float *w, size_t ldw, bool up)
{
    int c1 = NV <= CHUNK_MAX ? NV : (NV + 1) / 2;
    matvec_chunk(c1, tanh_, y, init, x, n, w, ldw, up);
    if (c1 < NV)
        matvec_chunk(NV - c1, tanh_, y + 8 * c1, init ? init + 8 * c1 : NULL, x, n, w + 8 * c1,
                     ldw, up);
}

// ---------------------------------------------------------------------------
// Small products

// C rows [0, R) x vectors [0, NV) = init + sum over k < K of A(r, k) B(k, :);
// A(r, k) at a[r * rsa + k * csa]; B's rows are ldb floats apart and hold at
// least 8 NV readable floats; the last vector of C keeps its first `last`
// lanes (1..8); init is the row bias (read with the same mask) or zero.
AVX2_INLINE void tile(const int R, const int NV, int K, const float *a, size_t rsa, size_t csa,
                      const float *b, size_t ldb, float *c, size_t ldc, const float *bias, int last)
{
    const __m256i ml = mask_for(last);
    __m256 acc[6][4];
    for (int v = 0; v < NV; v++) {
        __m256 init = _mm256_setzero_ps();
        if (bias)
            init = v == NV - 1 ? _mm256_maskload_ps(bias + 8 * v, ml) : _mm256_loadu_ps(bias + 8 * v);
        for (int r = 0; r < R; r++)
            acc[r][v] = init;
    }
    for (int k = 0; k < K; k++) {
        const float *ak = a + (size_t)k * csa, *bk = b + (size_t)k * ldb;
        __m256 bv[4];
        for (int v = 0; v < NV; v++)
            bv[v] = _mm256_loadu_ps(bk + 8 * v);
        for (int r = 0; r < R; r++) {
            __m256 ar = _mm256_broadcast_ss(ak + (size_t)r * rsa);
            for (int v = 0; v < NV; v++)
                acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++) {
            float *cp = c + (size_t)r * ldc + 8 * v;
            if (v == NV - 1 && last < 8)
                _mm256_maskstore_ps(cp, ml, acc[r][v]);
            else
                _mm256_storeu_ps(cp, acc[r][v]);
        }
}

// The rows a tile of nv vectors takes: R * nv accumulators, nv row vectors
// and a broadcast within the 16 registers.
static int tile_rows(int nv)
{
    return nv == 4 ? 3 : nv == 3 ? 4 : nv == 2 ? 5 : 6;
}

// C (M, N) = init + A (M, K) @ B (K, N): A(i, k) at a[i * rsa + k * csa], B
// row-major with row stride ldb and readable (zero or not: those lanes are
// not stored) up to N rounded up to 8, C with row stride ldc; init as for
// tile.
AVX2 static void small_gemm(int M, int N, int K, const float *a, size_t rsa, size_t csa,
                            const float *b, size_t ldb, float *c, size_t ldc, const float *bias)
{
    int nvec = (N + 7) / 8;
    for (int v0 = 0; v0 < nvec; v0 += 4) {
        int nv = nvec - v0 < 4 ? nvec - v0 : 4;
        int last = N - 8 * (v0 + nv - 1);
        int mr = tile_rows(nv);
        const float *bj = b + 8 * v0, *bias_j = bias ? bias + 8 * v0 : NULL;
        for (int i0 = 0; i0 < M; i0 += mr) {
            int rows = M - i0 < mr ? M - i0 : mr;
            const float *ai = a + (size_t)i0 * rsa;
            float *cij = c + (size_t)i0 * ldc + 8 * v0;
#define T(R, NV) tile(R, NV, K, ai, rsa, csa, bj, ldb, cij, ldc, bias_j, last)
            switch (nv * 8 + rows) {
            case 4 * 8 + 1: T(1, 4); break;
            case 4 * 8 + 2: T(2, 4); break;
            case 4 * 8 + 3: T(3, 4); break;
            case 3 * 8 + 1: T(1, 3); break;
            case 3 * 8 + 2: T(2, 3); break;
            case 3 * 8 + 3: T(3, 3); break;
            case 3 * 8 + 4: T(4, 3); break;
            case 2 * 8 + 1: T(1, 2); break;
            case 2 * 8 + 2: T(2, 2); break;
            case 2 * 8 + 3: T(3, 2); break;
            case 2 * 8 + 4: T(4, 2); break;
            case 2 * 8 + 5: T(5, 2); break;
            case 1 * 8 + 1: T(1, 1); break;
            case 1 * 8 + 2: T(2, 1); break;
            case 1 * 8 + 3: T(3, 1); break;
            case 1 * 8 + 4: T(4, 1); break;
            case 1 * 8 + 5: T(5, 1); break;
            case 1 * 8 + 6: T(6, 1); break;
            }
#undef T
        }
    }
}

// ---------------------------------------------------------------------------
// Pointwise passes

// Softmax of each row of z (T, V) in place, then dL/dz = p - onehot(target);
// returns the summed cross-entropy.
AVX2 static double softmax_xent_rows(float *z, int T, int V, const int *targets)
{
    double loss = 0.0;
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    for (int t = 0; t < T; t++) {
        float *zt = z + (size_t)t * V;
        __m256 mx = ninf;
        for (int j = 0; j < V; j += 8) {
            __m256i mj = mask_for(V - j);
            mx = _mm256_max_ps(mx, _mm256_blendv_ps(ninf, _mm256_maskload_ps(zt + j, mj),
                                                    _mm256_castsi256_ps(mj)));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
        __m256 mxv = _mm256_set1_ps(_mm_cvtss_f32(m4));
        __m256 sum = _mm256_setzero_ps();
        for (int j = 0; j < V; j += 8) {
            __m256i mj = mask_for(V - j);
            __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(zt + j, mj), mxv));
            e = _mm256_and_ps(e, _mm256_castsi256_ps(mj));
            _mm256_maskstore_ps(zt + j, mj, e);
            sum = _mm256_add_ps(sum, e);
        }
        __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
        s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        s4 = _mm_add_ss(s4, _mm_shuffle_ps(s4, s4, 1));
        __m256 inv = _mm256_set1_ps(1.0f / _mm_cvtss_f32(s4));
        for (int j = 0; j < V; j += 8) {
            __m256i mj = mask_for(V - j);
            _mm256_maskstore_ps(zt + j, mj, _mm256_mul_ps(_mm256_maskload_ps(zt + j, mj), inv));
        }
        loss -= log((double)zt[targets[t]]);
        zt[targets[t]] -= 1.0f;
    }
    return loss;
}

// Clip g to [-clip, clip] in place, then Adagrad as optim.c does it, in one
// pass: mem += g^2; p -= lr * g / (sqrt(mem) + eps).
AVX2 static void clip_adagrad(float *p, float *g, float *mem, size_t n, float lr, float eps,
                              float clip)
{
    const __m256 hi = _mm256_set1_ps(clip), lo = _mm256_set1_ps(-clip);
    const __m256 vlr = _mm256_set1_ps(lr), veps = _mm256_set1_ps(eps);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gv = _mm256_max_ps(lo, _mm256_min_ps(hi, _mm256_loadu_ps(g + i)));
        _mm256_storeu_ps(g + i, gv);
        __m256 mv = _mm256_add_ps(_mm256_loadu_ps(mem + i), _mm256_mul_ps(gv, gv));
        _mm256_storeu_ps(mem + i, mv);
        __m256 step = _mm256_mul_ps(vlr, _mm256_div_ps(gv, _mm256_add_ps(_mm256_sqrt_ps(mv), veps)));
        _mm256_storeu_ps(p + i, _mm256_sub_ps(_mm256_loadu_ps(p + i), step));
    }
    for (; i < n; i++) {
        float gi = g[i] > clip ? clip : g[i] < -clip ? -clip : g[i];
        g[i] = gi;
        mem[i] += gi * gi;
        p[i] -= lr * (gi / (sqrtf(mem[i]) + eps));
    }
}

// ---------------------------------------------------------------------------
// The iteration

// One iteration on m->inputs / m->targets; see the top of the file. The
// buffers in m->work are used with row stride HP (H rounded up to 8) and VP
// (V rounded up to 8), which fit the blocks charrnn_create sized for 16.
AVX2 static double step_fused(CharRnn *m)
{
    const int V = m->V, H = m->H, T = m->T, NV = (H + 7) / 8;
    const size_t HP = 8 * (size_t)NV, VP = ((size_t)V + 7) / 8 * 8;
    Rnn *r = m->rnn;
    float *why = m->head, *by = m->head + (size_t)V * H;
    float *dwhy = m->head_grad, *dby = m->head_grad + (size_t)V * H;
    float *hs = m->hs, *dhraw = m->dhraw, *dh_out = m->dh_out;
    // Copies with rows padded with zeros to whole vectors.
    transpose_padded(m->whh_t, HP, r->p.w_hh, H, H);    // (H, HP) W_hh^T
    copy_padded(m->whh_p, HP, r->p.w_hh, H, H);          // (H, HP) W_hh
    transpose_padded(m->why_t, VP, why, V, H);           // (H, VP) W_hy^T
    copy_padded(m->why_p, HP, why, V, H);                // (V, HP) W_hy
    for (size_t j = 0; j < HP; j++)
        m->bias[j] = (int)j < H ? r->p.b_ih[j] + r->p.b_hh[j] : 0.0f;
    copy_padded(hs, HP, m->hprev, 1, H);

    // Forward. xb[t] = W_xh[:, x_t] + b (in dhraw, free until the backward).
    float *xb = dhraw;
    for (int t = 0; t < T; t++) {
        const float *col = r->p.w_ih + m->inputs[t];   // W_xh[:, x_t], stride V
        float *x = xb + (size_t)t * HP;
        for (int j = 0; j < H; j++)
            x[j] = m->bias[j] + col[(size_t)j * V];
        for (size_t j = (size_t)H; j < HP; j++)
            x[j] = 0.0f;
    }
    for (int t = 0; t < T; t++)
        matvec_rows(NV, true, hs + (size_t)(t + 1) * HP, xb + (size_t)t * HP, hs + (size_t)t * HP,
                    H, m->whh_t, HP, (t & 1) == 0);
    const float *h1 = hs + HP;   // h_1..h_T (T, HP)

    // Read-out: logits (T, V) = h W_hy^T + b_y; then dz = p - onehot in place.
    small_gemm(T, V, H, h1, HP, 1, m->why_t, VP, m->logits, (size_t)V, by);
    double loss = softmax_xent_rows(m->logits, T, V, m->targets);
    const float *dz = m->logits;
    // db_y = column sums of dz; dL/dh_t (T, HP) = dz W_hy (zero in the
    // padding: W_hy's copy is padded with zeros); dW_hy (V, H) = dz^T h.
    memset(dby, 0, (size_t)V * sizeof(float));
    for (int t = 0; t < T; t++)
        for (int v = 0; v < V; v++)
            dby[v] += dz[(size_t)t * V + v];
    small_gemm(T, (int)HP, V, dz, (size_t)V, 1, m->why_p, HP, dh_out, HP, NULL);
    small_gemm(V, H, T, dz, 1, (size_t)V, h1, HP, dwhy, (size_t)H, NULL);

    // Backward through time: dhraw[t] = (1 - h_t^2) (dh_out[t] + dh_next),
    // dh_next = dhraw[t] W_hh (not needed after t = 0). dh_next lives in
    // the bias copy's place, which the forward no longer needs.
    float *dnext = m->bias;
    memset(dnext, 0, HP * sizeof(float));
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int t = T - 1; t >= 0; t--) {
        const float *ht = hs + (size_t)(t + 1) * HP, *dout = dh_out + (size_t)t * HP;
        float *dr = dhraw + (size_t)t * HP;
        for (size_t j = 0; j < HP; j += 8) {
            __m256 h = _mm256_load_ps(ht + j);
            __m256 dh = _mm256_add_ps(_mm256_load_ps(dnext + j), _mm256_load_ps(dout + j));
            _mm256_store_ps(dr + j, _mm256_mul_ps(dh, _mm256_sub_ps(one, _mm256_mul_ps(h, h))));
        }
        if (t == 0)
            break;
        matvec_rows(NV, false, dnext, NULL, dr, H, m->whh_p, HP, (t & 1) != 0);
    }

    // dW_hh (H, H) = dhraw^T [hprev; h_1..h_{T-1}]; db = sum of dhraw rows;
    // dW_xh[:, x_t] += dhraw[t]; b_hh is not trained.
    small_gemm(H, H, T, dhraw, 1, HP, hs, HP, r->g.w_hh, (size_t)H, NULL);
    memset(r->g.b_hh, 0, (size_t)H * sizeof(float));
    memset(r->g.w_ih, 0, (size_t)H * V * sizeof(float));
    for (size_t j = 0; j < HP; j += 8) {
        __m256 sum = _mm256_setzero_ps();
        for (int t = 0; t < T; t++)
            sum = _mm256_add_ps(sum, _mm256_load_ps(dhraw + (size_t)t * HP + j));
        _mm256_maskstore_ps(r->g.b_ih + j, mask_for(H - (int)j), sum);
    }
    for (int t = 0; t < T; t++) {
        const float *d = dhraw + (size_t)t * HP;
        float *g = r->g.w_ih + m->inputs[t];
        for (int j = 0; j < H; j++)
            g[(size_t)j * V] += d[j];
    }
    memcpy(m->hprev, hs + (size_t)T * HP, (size_t)H * sizeof(float));
    const OptimConfig *oc = &m->opt_rnn->cfg;
    clip_adagrad(r->params, r->grads, m->opt_rnn->m, r->nparams, oc->lr, oc->eps, m->clip);
    clip_adagrad(m->head, m->head_grad, m->opt_head->m, (size_t)V * H + (size_t)V, oc->lr, oc->eps,
                 m->clip);
    m->opt_rnn->t++;
    m->opt_head->t++;
    return loss;
}
#endif // CHARRNN_AVX2_X86

bool charrnn_avx2_available(int H)
{
#if CHARRNN_AVX2_X86
    return H >= 1 && H <= FUSED_MAX_H && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
#else
    (void)H;
    return false;
#endif
}

double charrnn_step_avx2(CharRnn *m)
{
#if CHARRNN_AVX2_X86
    if (m->work && charrnn_avx2_available(m->H))
        return step_fused(m);
#else
    (void)m;
#endif
    return NAN;
}
