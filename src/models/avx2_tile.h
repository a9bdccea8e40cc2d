// avx2_tile.h: what the models' fused AVX2 kernels share (lstm_avx2.c,
// rnn_avx2.c): fastmath.h's functions on 8 lanes, a faster rational tanh,
// the 3 x 4 register tile of their products, an 8 x 8 transpose and L2
// prefetches. Internal to src/models; include it only inside the x86 guard
// the including file defines (everything here is static and compiled with
// __attribute__((target)), so the file still builds for any x86-64).
#ifndef GRADLAB_MODELS_AVX2_TILE_H
#define GRADLAB_MODELS_AVX2_TILE_H

#include <immintrin.h>
#include <stddef.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

// ---------------------------------------------------------------------------
// fastmath.h on 8 lanes

AVX2_INLINE __m256 exp8(__m256 x)
{
    x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f), x);   // NaN stays NaN
    x = _mm256_max_ps(_mm256_set1_ps(-87.3365447504019f), x);
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 fn = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                            magic), magic);
    fn = _mm256_and_ps(fn, _mm256_cmp_ps(fn, fn, _CMP_ORD_Q));
    __m256i n = _mm256_cvttps_epi32(fn);
    __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(fn, _mm256_set1_ps(0.693359375f)));
    r = _mm256_add_ps(r, _mm256_mul_ps(fn, _mm256_set1_ps(2.12194440e-4f)));
    __m256 r2 = _mm256_mul_ps(r, r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, r2), r), _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

AVX2_INLINE __m256 sigmoid8(__m256 x)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 nx = _mm256_xor_ps(x, _mm256_set1_ps(-0.0f));
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(nx)));
}

AVX2_INLINE __m256 tanh8(__m256 x)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 ax = _mm256_andnot_ps(sign, x);
    __m256 z = _mm256_mul_ps(x, x);
    __m256 s = _mm256_set1_ps(-5.70498872745e-3f);
    s = _mm256_add_ps(_mm256_mul_ps(s, z), _mm256_set1_ps(2.06390887954e-2f));
    s = _mm256_sub_ps(_mm256_mul_ps(s, z), _mm256_set1_ps(5.37397155531e-2f));
    s = _mm256_add_ps(_mm256_mul_ps(s, z), _mm256_set1_ps(1.33314422036e-1f));
    s = _mm256_sub_ps(_mm256_mul_ps(s, z), _mm256_set1_ps(3.33332819422e-1f));
    s = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(s, z), x), x);
    __m256 e = exp8(_mm256_mul_ps(_mm256_set1_ps(2.0f), ax));
    __m256 l = _mm256_sub_ps(_mm256_set1_ps(1.0f),
                             _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
    l = _mm256_or_ps(_mm256_and_ps(sign, x), _mm256_andnot_ps(sign, l));
    return _mm256_blendv_ps(l, s, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

// tanh as a rational function, x P(x^2) / Q(x^2) on [-7.9053, 7.9053] and
// +-1 outside (the minimax form Eigen uses): within 3e-7 of tanh. Half the
// work of tanh8 and no exp; the forward's epilogue runs 5 of these for
// every 4 (I + H) FMAs of its product.
AVX2_INLINE __m256 tanh_r8(__m256 x)
{
    const __m256 lim = _mm256_set1_ps(7.90531110763549805f);
    x = _mm256_min_ps(lim, _mm256_max_ps(_mm256_xor_ps(lim, _mm256_set1_ps(-0.0f)), x));
    __m256 x2 = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-2.76076847742355e-16f);
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.00018790482477e-13f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-8.60467152213735e-11f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(5.12229709037114e-08f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(1.48572235717979e-05f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(6.37261928875436e-04f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(4.89352455891786e-03f));
    p = _mm256_mul_ps(p, x);
    __m256 q = _mm256_set1_ps(1.19825839466702e-06f);
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(1.18534705686654e-04f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(2.26843463243900e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(4.89352518554385e-03f));
    return _mm256_div_ps(p, q);
}

// sigmoid(x) = (1 + tanh(x / 2)) / 2: within 2e-7 of sigmoid.
AVX2_INLINE __m256 sigmoid_r8(__m256 x)
{
    const __m256 half = _mm256_set1_ps(0.5f);
    return _mm256_fmadd_ps(half, tanh_r8(_mm256_mul_ps(half, x)), half);
}

// Bring bytes [p, p + n) into L2.
AVX2_INLINE void prefetch_l2(const float *p, size_t n)
{
    for (size_t i = 0; i < n; i += 64)
        _mm_prefetch((const char *)p + i, _MM_HINT_T1);
}

// dst (cols, rows) with row stride ldd = src (rows, cols) with row stride
// lds, transposed; 8 x 8 blocks in registers, the edges one by one.
AVX2 static inline void transpose(float *restrict dst, size_t ldd, const float *restrict src, size_t lds,
                           int rows, int cols)
{
    int i = 0;
    for (; i + 8 <= rows; i += 8) {
        int j = 0;
        for (; j + 8 <= cols; j += 8) {
            const float *s = src + (size_t)i * lds + j;
            __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + lds);
            __m256 r2 = _mm256_loadu_ps(s + 2 * lds), r3 = _mm256_loadu_ps(s + 3 * lds);
            __m256 r4 = _mm256_loadu_ps(s + 4 * lds), r5 = _mm256_loadu_ps(s + 5 * lds);
            __m256 r6 = _mm256_loadu_ps(s + 6 * lds), r7 = _mm256_loadu_ps(s + 7 * lds);
            __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
            __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
            __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
            __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
            float *d = dst + (size_t)j * ldd + i;
            _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(d + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(d + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(d + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(d + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(d + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(d + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(d + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
        for (; j < cols; j++)
            for (int r = 0; r < 8; r++)
                dst[(size_t)j * ldd + i + r] = src[(size_t)(i + r) * lds + j];
    }
    for (; i < rows; i++)
        for (int j = 0; j < cols; j++)
            dst[(size_t)j * ldd + i] = src[(size_t)i * lds + j];
}

// ---------------------------------------------------------------------------
// The register tile shared by all products: accumulators t<r><v> for rows
// r < R (at most 3) and vectors v < NV (at most 4), named so that GCC keeps
// them in registers (an array would live on the stack). R and NV are
// constants where the kernels are instantiated, so the tests fold away.

#define TILE_DECL(init)                                                        \
    __m256 t00 = (init), t01 = t00, t02 = t00, t03 = t00, t10 = t00, t11 = t00, \
           t12 = t00, t13 = t00, t20 = t00, t21 = t00, t22 = t00, t23 = t00

// One k: the R values a[r * lda] times the NV vectors at b, into the tile.
#define TILE_FMA_V(v, bp)                                                      \
    if (NV > (v)) {                                                            \
        __m256 bv_ = _mm256_loadu_ps((bp) + 8 * (v));                          \
        t0##v = _mm256_fmadd_ps(x0_, bv_, t0##v);                              \
        if (R > 1)                                                             \
            t1##v = _mm256_fmadd_ps(x1_, bv_, t1##v);                          \
        if (R > 2)                                                             \
            t2##v = _mm256_fmadd_ps(x2_, bv_, t2##v);                          \
    }
#define TILE_STEP(a, lda, bp)                                                  \
    do {                                                                       \
        __m256 x0_ = _mm256_broadcast_ss(a);                                   \
        __m256 x1_ = R > 1 ? _mm256_broadcast_ss((a) + (lda)) : x0_;           \
        __m256 x2_ = R > 2 ? _mm256_broadcast_ss((a) + 2 * (lda)) : x0_;       \
        TILE_FMA_V(0, bp) TILE_FMA_V(1, bp) TILE_FMA_V(2, bp) TILE_FMA_V(3, bp) \
    } while (0)

#endif
