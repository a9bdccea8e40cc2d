// gemm.c: blocked single-precision matrix multiply, the BLIS recipe.
//
// C (M, N) += A (M, K) @ B (K, N) is cut into blocks that fit the caches:
//
//   for jc in N by NC:            B block (KC, NC) packed once, lives in L3/L2
//     for pc in K by KC:
//       pack B[pc:pc+KC, jc:jc+NC] into NR-wide column panels
//       for ic in M by MC:        A block (MC, KC) packed, lives in L2
//         pack A[ic:ic+MC, pc:pc+KC] into MR-tall row panels
//         for jr in NC by NR:     one B panel (KC, NR) stays in L1
//           for ir in MC by MR:
//             micro-kernel: C tile (MR, NR) += A panel (MR, KC) @ B panel (KC, NR)
//
// Packing copies each panel into the exact order the micro-kernel reads it
// (k-major, zero-padded to MR or NR), which also absorbs the transposes and
// the row strides. The micro-kernel keeps the whole C tile in registers.
// Shortcuts for what small models do (AVX-512 only): B is read in place when
// few A panels would reuse it; one row of C is a vector-matrix loop; C with
// at most 4 rows or columns is dot products; a short k walks C row by row.
//
// Four micro-kernels: AVX-512 (12 x 32, with 8- and 4-row and 16-column
// variants for edges and small C), AVX2+FMA (6 x 16), NEON on AArch64
// (8 x 12) and portable C (4 x 16). The x86 ones are compiled with
// __attribute__((target)) and chosen at run time with __builtin_cpu_supports,
// so the binary runs on any x86-64; NEON is chosen at run time from the
// kernel's hardware capabilities. The file still builds on any C11 compiler
// (the portable kernel only), and -Dsimd=portable builds only that one.
#include "engine/tensor/gemm.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// -DGEMM_X86=0 builds the portable kernel only, as on a non-x86 compiler;
// so does -Dsimd=portable (GRADLAB_SIMD_PORTABLE).
#ifndef GEMM_X86
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__)) && \
    !defined(GRADLAB_SIMD_PORTABLE)
#define GEMM_X86 1
#else
#define GEMM_X86 0
#endif
#endif
#if GEMM_X86
#include <immintrin.h>
#endif
// AArch64: the NEON kernel, unless -Dsimd=portable (or -DGEMM_NEON=0).
#ifndef GEMM_NEON
#if defined(__aarch64__) && !defined(GRADLAB_SIMD_PORTABLE)
#define GEMM_NEON 1
#else
#define GEMM_NEON 0
#endif
#endif
#if GEMM_NEON
#include <arm_neon.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#endif
#endif

// At most this many rows of C, B is read in place rather than packed.
#define GEMM_DIRECT_B_MAX_M 96
#define GEMM_MAX_TILE (12 * 32)   // the largest MR * NR

// A micro-kernel: c (m, n) = alpha * a (MR, kc) @ b (kc, NR) + beta * c.
//   a is packed k-major: a[k * ldak + i] (ldak == MR); b row k starts at b + k * ldbk
//   (ldbk == NR when packed; kernels without direct_b only see packed B).
//   m <= MR, n <= NR: only that corner of the tile is written.
//   beta == 0 writes without reading c.
typedef void (*GemmKernel)(int kc, const float *a, int ldak, const float *b, int ldbk,
                           float *c, int ldc, float alpha, float beta,
                           int m, int n);

typedef struct GemmArch {
    const char *name;
    int mr, nr;         // register tile
    int kc, mc, nc;     // cache blocks; mc is a multiple of mr, nc of nr
    bool direct_b;      // the kernel masks its loads, so it may read B unpacked
    GemmKernel kernel;
} GemmArch;

// ---------------------------------------------------------------------------
// Tile store shared by the kernels: tile (MR, NR) is the accumulator, spilled
// to memory, for the partial tiles at the right and bottom edges.

static void store_tile(const float *tile, int nr, float *c, int ldc,
                       float alpha, float beta, int m, int n)
{
    for (int i = 0; i < m; i++) {
        float *ci = c + (size_t)i * ldc;
        const float *ti = tile + (size_t)i * nr;
        if (beta == 0.0f)
            for (int j = 0; j < n; j++) ci[j] = alpha * ti[j];
        else
            for (int j = 0; j < n; j++) ci[j] = alpha * ti[j] + beta * ci[j];
    }
}

// ---------------------------------------------------------------------------
// Portable kernel: plain loops the compiler can vectorise over j.

enum { GEN_MR = 4, GEN_NR = 16 };

static void kernel_generic(int kc, const float *a, int ldak, const float *b, int ldbk,
                           float *c, int ldc, float alpha, float beta,
                           int m, int n)
{
    float acc[GEN_MR][GEN_NR] = {{0}};
    for (int k = 0; k < kc; k++) {
        const float *bk = b + (size_t)k * ldbk;
        const float *ak = a + (size_t)k * ldak;
        for (int i = 0; i < GEN_MR; i++) {
            float ai = ak[i];
            for (int j = 0; j < GEN_NR; j++)
                acc[i][j] += ai * bk[j];
        }
    }
    store_tile(&acc[0][0], GEN_NR, c, ldc, alpha, beta, m, n);
}

#if GEMM_X86
// ---------------------------------------------------------------------------
// AVX2 + FMA kernel: 6 rows x 16 columns = 12 ymm accumulators.

#define AVX2_MR 6
#define AVX2_NR 16

#define AVX2_ROW(i)                                                        \
    do {                                                                   \
        __m256 ai = _mm256_broadcast_ss(ak + (i));                         \
        c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);                        \
        c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);                        \
    } while (0)

#define AVX2_STORE(i)                                                      \
    do {                                                                   \
        if ((i) >= m)                                                      \
            break;                                                         \
        float *ci = c + (size_t)(i) * ldc;                                 \
        __m256 r0 = _mm256_mul_ps(va, c##i##0);                            \
        __m256 r1 = _mm256_mul_ps(va, c##i##1);                            \
        if (beta != 0.0f) {                                                \
            r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci), r0);             \
            r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8), r1);         \
        }                                                                  \
        _mm256_storeu_ps(ci, r0);                                          \
        _mm256_storeu_ps(ci + 8, r1);                                      \
    } while (0)

#define AVX2_SPILL(i)                                                      \
    do {                                                                   \
        _mm256_storeu_ps(tile + (i) * AVX2_NR, c##i##0);                   \
        _mm256_storeu_ps(tile + (i) * AVX2_NR + 8, c##i##1);               \
    } while (0)

__attribute__((target("avx2,fma")))
static void kernel_avx2(int kc, const float *a, int ldak, const float *b, int ldbk,
                        float *c, int ldc, float alpha, float beta,
                        int m, int n)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++) {
        const float *ak = a + (size_t)k * ldak;
        const float *bk = b + (size_t)k * ldbk;
        __m256 b0 = _mm256_loadu_ps(bk);
        __m256 b1 = _mm256_loadu_ps(bk + 8);
        AVX2_ROW(0); AVX2_ROW(1); AVX2_ROW(2);
        AVX2_ROW(3); AVX2_ROW(4); AVX2_ROW(5);
    }
    if (n == AVX2_NR) {
        __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
        AVX2_STORE(0); AVX2_STORE(1); AVX2_STORE(2);
        AVX2_STORE(3); AVX2_STORE(4); AVX2_STORE(5);
    } else {
        float tile[AVX2_MR * AVX2_NR];
        AVX2_SPILL(0); AVX2_SPILL(1); AVX2_SPILL(2);
        AVX2_SPILL(3); AVX2_SPILL(4); AVX2_SPILL(5);
        store_tile(tile, AVX2_NR, c, ldc, alpha, beta, m, n);
    }
}

// ---------------------------------------------------------------------------
// AVX-512 kernel: 12 rows x 32 columns = 24 zmm accumulators. Masked loads and
// stores handle the right edge, so this kernel can also read B in place
// (unpacked, row stride ldbk) when only a few A panels would reuse a packed B.

#define AVX512_MR 12
#define AVX512_NR 32
#define AVX512_SMALL_MR 4   // the kernel for C with at most 4 rows

#define Z_ROW(i)                                                           \
    do {                                                                   \
        __m512 ai = _mm512_set1_ps(ak[i]);                                 \
        c##i##_0 = _mm512_fmadd_ps(ai, b0, c##i##_0);                      \
        c##i##_1 = _mm512_fmadd_ps(ai, b1, c##i##_1);                      \
    } while (0)

#define Z_STORE(i)                                                         \
    do {                                                                   \
        if ((i) < m) {                                                     \
            float *ci = c + (size_t)(i) * ldc;                             \
            __m512 r0 = _mm512_mul_ps(va, c##i##_0);                       \
            __m512 r1 = _mm512_mul_ps(va, c##i##_1);                       \
            if (beta != 0.0f) {                                            \
                r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k0, ci), r0);      \
                r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k1, ci + 16), r1); \
            }                                                              \
            _mm512_mask_storeu_ps(ci, k0, r0);                             \
            _mm512_mask_storeu_ps(ci + 16, k1, r1);                        \
        }                                                                  \
    } while (0)

#define Z_ROW_HALF(i) c##i##_0 = _mm512_fmadd_ps(_mm512_set1_ps(ak[i]), b0, c##i##_0)

#define Z_ZERO(i) __m512 c##i##_0 = _mm512_setzero_ps(), c##i##_1 = _mm512_setzero_ps()
#define Z_ALL12(X) X(0); X(1); X(2); X(3); X(4); X(5); X(6); X(7); X(8); X(9); X(10); X(11)
#define Z_ALL8(X) X(0); X(1); X(2); X(3); X(4); X(5); X(6); X(7)
#define Z_ALL4(X) X(0); X(1); X(2); X(3)

// One AVX-512 kernel over the rows ALL lists (ALL applies a macro to each
// row index); the A panel advances ldak floats per k, so a 12-row panel can
// feed a kernel of fewer rows at the bottom edge. There are two copies of
// the k loop: masked loads cost more than plain ones.
#define Z_KERNEL(NAME, ALL)                                                    \
__attribute__((target("avx512f")))                                            \
static void NAME(int kc, const float *a, int ldak, const float *b, int ldbk,  \
                 float *c, int ldc, float alpha, float beta, int m, int n)    \
{                                                                             \
    __mmask16 k0 = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);  \
    __mmask16 k1 = n >= 32 ? (__mmask16)0xffff                                \
                 : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : (__mmask16)0; \
    ALL(Z_ZERO);                                                              \
    if (n == AVX512_NR) {                                                     \
        for (int k = 0; k < kc; k++) {                                        \
            const float *ak = a + (size_t)k * ldak;                           \
            const float *bk = b + (size_t)k * ldbk;                           \
            __m512 b0 = _mm512_loadu_ps(bk);                                  \
            __m512 b1 = _mm512_loadu_ps(bk + 16);                             \
            ALL(Z_ROW);                                                       \
        }                                                                     \
    } else if (n > 16) {                                                      \
        for (int k = 0; k < kc; k++) {                                        \
            const float *ak = a + (size_t)k * ldak;                           \
            const float *bk = b + (size_t)k * ldbk;                           \
            __m512 b0 = _mm512_loadu_ps(bk);                                  \
            __m512 b1 = _mm512_maskz_loadu_ps(k1, bk + 16);                   \
            ALL(Z_ROW);                                                       \
        }                                                                     \
    } else {                                                                  \
        /* at most 16 columns: half the FMAs */                               \
        for (int k = 0; k < kc; k++) {                                        \
            const float *ak = a + (size_t)k * ldak;                           \
            __m512 b0 = _mm512_maskz_loadu_ps(k0, b + (size_t)k * ldbk);      \
            ALL(Z_ROW_HALF);                                                  \
        }                                                                     \
    }                                                                         \
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);             \
    ALL(Z_STORE);                                                             \
}

Z_KERNEL(kernel_avx512, Z_ALL12)
Z_KERNEL(kernel_avx512_8, Z_ALL8)
Z_KERNEL(kernel_avx512_small, Z_ALL4)

// The 12-row kernel, or a shorter one for the last rows of a panel.
__attribute__((target("avx512f")))
static void kernel_avx512_any(int kc, const float *a, int ldak, const float *b, int ldbk,
                              float *c, int ldc, float alpha, float beta, int m, int n)
{
    if (m > 8)
        kernel_avx512(kc, a, ldak, b, ldbk, c, ldc, alpha, beta, m, n);
    else if (m > 4)
        kernel_avx512_8(kc, a, ldak, b, ldbk, c, ldc, alpha, beta, m, n);
    else
        kernel_avx512_small(kc, a, ldak, b, ldbk, c, ldc, alpha, beta, m, n);
}

// C (M, N) = alpha * A (M, K) @ Bt^T + beta * C for N <= 4, as dot products
// of rows of A with the rows of Bt (N, K), row stride ldbt. C element (i, j)
// is at C[i * rsc + j * csc]. Two rows of A at a time against all 4 rows of
// Bt (rows past N repeat row 0; their sums are dropped): 8 accumulators,
// each element of A loaded once.
__attribute__((target("avx512f")))
static void dot_avx512(int M, int N, int K, float alpha, const float *A, int lda,
                       const float *Bt, int ldbt, float beta, float *C, int rsc, int csc)
{
    const float *b0p = Bt;
    const float *b1p = N > 1 ? Bt + ldbt : Bt;
    const float *b2p = N > 2 ? Bt + 2 * (size_t)ldbt : Bt;
    const float *b3p = N > 3 ? Bt + 3 * (size_t)ldbt : Bt;
    for (int i = 0; i < M; i += 2) {
        bool two = i + 1 < M;
        const float *a0p = A + (size_t)i * lda, *a1p = two ? a0p + lda : a0p;
        __m512 s00 = _mm512_setzero_ps(), s01 = _mm512_setzero_ps(), s02 = _mm512_setzero_ps(), s03 = _mm512_setzero_ps();
        __m512 s10 = _mm512_setzero_ps(), s11 = _mm512_setzero_ps(), s12 = _mm512_setzero_ps(), s13 = _mm512_setzero_ps();
        for (int k = 0; k < K; k += 16) {
            __mmask16 mk = K - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (K - k)) - 1);
            __m512 a0 = _mm512_maskz_loadu_ps(mk, a0p + k), a1 = _mm512_maskz_loadu_ps(mk, a1p + k);
            __m512 v0 = _mm512_maskz_loadu_ps(mk, b0p + k);
            s00 = _mm512_fmadd_ps(a0, v0, s00); s10 = _mm512_fmadd_ps(a1, v0, s10);
            if (N > 1) {
                __m512 v1 = _mm512_maskz_loadu_ps(mk, b1p + k);
                s01 = _mm512_fmadd_ps(a0, v1, s01); s11 = _mm512_fmadd_ps(a1, v1, s11);
            }
            if (N > 2) {
                __m512 v2 = _mm512_maskz_loadu_ps(mk, b2p + k), v3 = _mm512_maskz_loadu_ps(mk, b3p + k);
                s02 = _mm512_fmadd_ps(a0, v2, s02); s03 = _mm512_fmadd_ps(a0, v3, s03);
                s12 = _mm512_fmadd_ps(a1, v2, s12); s13 = _mm512_fmadd_ps(a1, v3, s13);
            }
        }
        __m512 sums[2][4] = { { s00, s01, s02, s03 }, { s10, s11, s12, s13 } };
        for (int ii = 0; ii < (two ? 2 : 1); ii++)
            for (int j = 0; j < N; j++) {
                float *cij = C + (size_t)(i + ii) * rsc + (size_t)j * csc;
                float r = _mm512_reduce_add_ps(sums[ii][j]);
                *cij = alpha * r + (beta == 0.0f ? 0.0f : beta * *cij);
            }
    }
}

// One row: C (1, N) = alpha * a (1, K) @ B (K, N) + beta * C, with a[k] at
// a[k * inc_a]. C is held in 8 accumulators of 16 columns at a time, and the
// rows of B stream through: 8 independent FMA chains per k.
#define ROW_V(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
__attribute__((target("avx512f")))
static void row_avx512(int N, int K, float alpha, const float *a, int inc_a,
                       const float *B, int ldb, float beta, float *C)
{
    for (int j0 = 0; j0 < N; j0 += 128) {
        int n = N - j0 < 128 ? N - j0 : 128;
#define ROW_MASK(v) __mmask16 m##v = n >= 16 * ((v) + 1) ? (__mmask16)0xffff \
        : n > 16 * (v) ? (__mmask16)((1u << (n - 16 * (v))) - 1) : (__mmask16)0;
#define ROW_ZERO(v) __m512 c##v = _mm512_setzero_ps();
#define ROW_FMA(v) c##v = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m##v, bk + 16 * (v)), c##v);
#define ROW_STORE(v) if (m##v) {                                                  \
            __m512 r = _mm512_mul_ps(va, c##v);                                   \
            if (beta != 0.0f)                                                     \
                r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m##v, C + j0 + 16 * (v)), r); \
            _mm512_mask_storeu_ps(C + j0 + 16 * (v), m##v, r);                    \
        }
        ROW_V(ROW_MASK)
        ROW_V(ROW_ZERO)
        for (int k = 0; k < K; k++) {
            __m512 av = _mm512_set1_ps(a[(size_t)k * inc_a]);
            const float *bk = B + (size_t)k * ldb + j0;
            ROW_V(ROW_FMA)
        }
        __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
        ROW_V(ROW_STORE)
#undef ROW_MASK
#undef ROW_ZERO
#undef ROW_FMA
#undef ROW_STORE
    }
}
// Two rows: as row_avx512 for C (2, N), op(A)[i][k] at a[i * inc_ai + k * inc_ak].
// Each row of B is loaded once for both rows: 16 accumulators.
__attribute__((target("avx512f")))
static void rows2_avx512(int N, int K, float alpha, const float *a, int inc_ai, int inc_ak,
                         const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int j0 = 0; j0 < N; j0 += 128) {
        int n = N - j0 < 128 ? N - j0 : 128;
#define ROW_MASK(v) __mmask16 m##v = n >= 16 * ((v) + 1) ? (__mmask16)0xffff \
        : n > 16 * (v) ? (__mmask16)((1u << (n - 16 * (v))) - 1) : (__mmask16)0;
#define ROW_ZERO(v) __m512 c##v = _mm512_setzero_ps(), d##v = _mm512_setzero_ps();
#define ROW_FMA(v) { __m512 bv = _mm512_maskz_loadu_ps(m##v, bk + 16 * (v));    \
            c##v = _mm512_fmadd_ps(a0, bv, c##v); d##v = _mm512_fmadd_ps(a1, bv, d##v); }
#define ROW_STORE1(acc, row, v) if (m##v) {                                       \
            float *cp = C + (size_t)(row) * ldc + j0 + 16 * (v);                  \
            __m512 r = _mm512_mul_ps(va, acc);                                    \
            if (beta != 0.0f)                                                     \
                r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m##v, cp), r);      \
            _mm512_mask_storeu_ps(cp, m##v, r);                                   \
        }
#define ROW_STORE(v) ROW_STORE1(c##v, 0, v) ROW_STORE1(d##v, 1, v)
        ROW_V(ROW_MASK)
        ROW_V(ROW_ZERO)
        for (int k = 0; k < K; k++) {
            __m512 a0 = _mm512_set1_ps(a[(size_t)k * inc_ak]);
            __m512 a1 = _mm512_set1_ps(a[(size_t)k * inc_ak + inc_ai]);
            const float *bk = B + (size_t)k * ldb + j0;
            ROW_V(ROW_FMA)
        }
        __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
        ROW_V(ROW_STORE)
#undef ROW_MASK
#undef ROW_ZERO
#undef ROW_FMA
#undef ROW_STORE1
#undef ROW_STORE
    }
}
#endif // GEMM_X86

#if GEMM_NEON
// ---------------------------------------------------------------------------
// NEON kernel (AArch64): 8 rows x 12 columns = 24 accumulators of 4 floats,
// with the A column in two registers and the B row in three (29 of the 32
// vector registers). Each FMA takes its A value from a lane of a register
// (fmla by element), so nothing is broadcast.

#define NEON_MR 8
#define NEON_NR 12

#define N_ZERO(i) float32x4_t c##i##0 = vdupq_n_f32(0.0f), c##i##1 = c##i##0, c##i##2 = c##i##0;
#define N_ROW(i, av, lane)                                                 \
    c##i##0 = vfmaq_laneq_f32(c##i##0, b0, av, lane);                      \
    c##i##1 = vfmaq_laneq_f32(c##i##1, b1, av, lane);                      \
    c##i##2 = vfmaq_laneq_f32(c##i##2, b2, av, lane);
#define N_STORE(i)                                                         \
    if ((i) < m) {                                                         \
        float *ci = c + (size_t)(i) * ldc;                                 \
        float32x4_t r0 = vmulq_n_f32(c##i##0, alpha);                      \
        float32x4_t r1 = vmulq_n_f32(c##i##1, alpha);                      \
        float32x4_t r2 = vmulq_n_f32(c##i##2, alpha);                      \
        if (beta != 0.0f) {                                                \
            r0 = vfmaq_n_f32(r0, vld1q_f32(ci), beta);                     \
            r1 = vfmaq_n_f32(r1, vld1q_f32(ci + 4), beta);                 \
            r2 = vfmaq_n_f32(r2, vld1q_f32(ci + 8), beta);                 \
        }                                                                  \
        vst1q_f32(ci, r0);                                                 \
        vst1q_f32(ci + 4, r1);                                             \
        vst1q_f32(ci + 8, r2);                                             \
    }
#define N_SPILL(i)                                                         \
    vst1q_f32(tile + (i) * NEON_NR, c##i##0);                              \
    vst1q_f32(tile + (i) * NEON_NR + 4, c##i##1);                          \
    vst1q_f32(tile + (i) * NEON_NR + 8, c##i##2);
#define N_ALL(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

static void kernel_neon(int kc, const float *a, int ldak, const float *b, int ldbk,
                        float *c, int ldc, float alpha, float beta,
                        int m, int n)
{
    N_ALL(N_ZERO)
    for (int k = 0; k < kc; k++) {
        const float *ak = a + (size_t)k * ldak;
        const float *bk = b + (size_t)k * ldbk;
        float32x4_t a0 = vld1q_f32(ak), a1 = vld1q_f32(ak + 4);
        float32x4_t b0 = vld1q_f32(bk), b1 = vld1q_f32(bk + 4), b2 = vld1q_f32(bk + 8);
        N_ROW(0, a0, 0) N_ROW(1, a0, 1) N_ROW(2, a0, 2) N_ROW(3, a0, 3)
        N_ROW(4, a1, 0) N_ROW(5, a1, 1) N_ROW(6, a1, 2) N_ROW(7, a1, 3)
    }
    if (n == NEON_NR) {
        N_ALL(N_STORE)
    } else {
        float tile[NEON_MR * NEON_NR];
        N_ALL(N_SPILL)
        store_tile(tile, NEON_NR, c, ldc, alpha, beta, m, n);
    }
}
#undef N_ZERO
#undef N_ROW
#undef N_STORE
#undef N_SPILL
#undef N_ALL
#endif // GEMM_NEON

// ---------------------------------------------------------------------------
// Architecture choice, made once.

static const GemmArch arch_generic = { "generic", GEN_MR, GEN_NR, 256, 128, 2048, false, kernel_generic };
#if GEMM_X86
static const GemmArch arch_avx2 = { "avx2", AVX2_MR, AVX2_NR, 256, 120, 2048, false, kernel_avx2 };
static const GemmArch arch_avx512 = { "avx512", AVX512_MR, AVX512_NR, 256, 144, 2048, true, kernel_avx512_any };
static const GemmArch arch_avx512_small = { "avx512", AVX512_SMALL_MR, AVX512_NR, 512, 4, 2048, true, kernel_avx512_small };
#endif
#if GEMM_NEON
static const GemmArch arch_neon = { "neon", NEON_MR, NEON_NR, 256, 128, 3072, false, kernel_neon };
#endif

static const GemmArch *gemm_arch(void)
{
    // Threads racing here all compute the same answer; the atomic makes the
    // race well defined.
    static _Atomic(const GemmArch *) chosen;
    const GemmArch *known = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (known)
        return known;
    const GemmArch *a = &arch_generic;
#if GEMM_X86
    const char *force = getenv("GRADLAB_GEMM");   // "generic", "avx2" or "avx512"
    __builtin_cpu_init();
    bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    bool has_avx512 = __builtin_cpu_supports("avx512f");
    if (has_avx512)
        a = &arch_avx512;
    else if (has_avx2)
        a = &arch_avx2;
    if (force && strcmp(force, "generic") == 0)
        a = &arch_generic;
    else if (force && strcmp(force, "avx2") == 0 && has_avx2)
        a = &arch_avx2;
#endif
#if GEMM_NEON
    // Advanced SIMD is part of every AArch64 Linux system, but ask anyway:
    // the choice is made at run time, as on x86.
    const char *force = getenv("GRADLAB_GEMM");   // "generic" or "neon"
    bool has_neon = true;
#if defined(__linux__)
    has_neon = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#endif
    if (has_neon && !(force && strcmp(force, "generic") == 0))
        a = &arch_neon;
#endif
    atomic_store_explicit(&chosen, a, memory_order_relaxed);
    return a;
}

const char *gemm_kernel_name(void)
{
    return gemm_arch()->name;
}

// ---------------------------------------------------------------------------
// Packing.

#if GEMM_X86
// One full A panel, untransposed: rows i0..i0+mr-1 of A (mr a multiple of 4)
// become dst[k][i], 4 rows x 8 columns at a time through a 4 x 8 transpose.
__attribute__((target("avx")))
static void pack_a_avx(const float *A, int lda, int kc, int mr, float *dst)
{
    int k = 0;
    for (; k + 8 <= kc; k += 8) {
        for (int r = 0; r < mr; r += 4) {
            const float *s = A + (size_t)r * lda + k;
            __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + lda);
            __m256 r2 = _mm256_loadu_ps(s + 2 * (size_t)lda), r3 = _mm256_loadu_ps(s + 3 * (size_t)lda);
            __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44);   // column k | k + 4
            __m256 u1 = _mm256_shuffle_ps(t0, t2, 0xee);   // k + 1 | k + 5
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44);   // k + 2 | k + 6
            __m256 u3 = _mm256_shuffle_ps(t1, t3, 0xee);   // k + 3 | k + 7
            float *d = dst + (size_t)k * mr + r;
            _mm_storeu_ps(d,                  _mm256_castps256_ps128(u0));
            _mm_storeu_ps(d + (size_t)mr,     _mm256_castps256_ps128(u1));
            _mm_storeu_ps(d + (size_t)2 * mr, _mm256_castps256_ps128(u2));
            _mm_storeu_ps(d + (size_t)3 * mr, _mm256_castps256_ps128(u3));
            _mm_storeu_ps(d + (size_t)4 * mr, _mm256_extractf128_ps(u0, 1));
            _mm_storeu_ps(d + (size_t)5 * mr, _mm256_extractf128_ps(u1, 1));
            _mm_storeu_ps(d + (size_t)6 * mr, _mm256_extractf128_ps(u2, 1));
            _mm_storeu_ps(d + (size_t)7 * mr, _mm256_extractf128_ps(u3, 1));
        }
    }
    for (; k < kc; k++)
        for (int i = 0; i < mr; i++)
            dst[(size_t)k * mr + i] = A[(size_t)i * lda + k];
}
#endif

// Pack rows [0, mc) and columns [0, kc) of op(A) (already offset to the block)
// into MR-tall panels: dst[panel][k][i], zero-padded past mc.
static void pack_a(bool trans, const float *A, int lda, int mc, int kc,
                   int mr, float *dst)
{
#if GEMM_X86
    bool pack_avx = gemm_arch()->kernel != kernel_generic;   // AVX2 or better
#endif
    for (int i0 = 0; i0 < mc; i0 += mr) {
        int m = mc - i0 < mr ? mc - i0 : mr;
#if GEMM_X86
        if (!trans && m == mr && mr % 4 == 0 && pack_avx) {
            pack_a_avx(A + (size_t)i0 * lda, lda, kc, mr, dst);
            dst += (size_t)mr * kc;
            continue;
        }
#endif
        if (!trans) {
            for (int k = 0; k < kc; k++) {
                float *d = dst + (size_t)k * mr;
                int i = 0;
                for (; i < m; i++) d[i] = A[(size_t)(i0 + i) * lda + k];
                for (; i < mr; i++) d[i] = 0.0f;
            }
        } else if (m == 12 && mr == 12) {
            // op(A)[i][k] = A[k][i]: each k is a contiguous run of rows, here
            // of a length the compiler knows, so memcpy becomes vector moves.
            for (int k = 0; k < kc; k++)
                memcpy(dst + (size_t)k * 12, A + (size_t)k * lda + i0, 12 * sizeof(float));
        } else {
            // op(A)[i][k] = A[k][i]: each k is a contiguous run of rows.
            for (int k = 0; k < kc; k++) {
                float *d = dst + (size_t)k * mr;
                const float *s = A + (size_t)k * lda + i0;
                int i = 0;
                for (; i < m; i++) d[i] = s[i];
                for (; i < mr; i++) d[i] = 0.0f;
            }
        }
        dst += (size_t)mr * kc;
    }
}

#if GEMM_X86
// Transposed B panel, 8 x 8 blocks at a time: rows j0..j0+7 of B, columns
// k..k+7, become rows k..k+7 of the panel at columns j..j+7.
__attribute__((target("avx")))
static void pack_bt_avx(const float *B, int ldb, int kc, int nr, float *dst)
{
    int k = 0;
    for (; k + 8 <= kc; k += 8) {
        for (int j = 0; j < nr; j += 8) {
            const float *s = B + (size_t)j * ldb + k;
            __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ldb);
            __m256 r2 = _mm256_loadu_ps(s + 2 * (size_t)ldb), r3 = _mm256_loadu_ps(s + 3 * (size_t)ldb);
            __m256 r4 = _mm256_loadu_ps(s + 4 * (size_t)ldb), r5 = _mm256_loadu_ps(s + 5 * (size_t)ldb);
            __m256 r6 = _mm256_loadu_ps(s + 6 * (size_t)ldb), r7 = _mm256_loadu_ps(s + 7 * (size_t)ldb);
            __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
            __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
            __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
            __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
            float *d = dst + (size_t)k * nr + j;
            _mm256_storeu_ps(d,                    _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(d + (size_t)nr,       _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(d + (size_t)2 * nr,   _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(d + (size_t)3 * nr,   _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(d + (size_t)4 * nr,   _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(d + (size_t)5 * nr,   _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(d + (size_t)6 * nr,   _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(d + (size_t)7 * nr,   _mm256_permute2f128_ps(u3, u7, 0x31));
        }
    }
    for (; k < kc; k++)
        for (int j = 0; j < nr; j++)
            dst[(size_t)k * nr + j] = B[(size_t)j * ldb + k];
}
#endif

// Pack rows [0, kc) and columns [0, nc) of op(B) into NR-wide panels:
// dst[panel][k][j], zero-padded past nc.
static void pack_b(bool trans, const float *B, int ldb, int kc, int nc,
                   int nr, float *dst)
{
#if GEMM_X86
    bool pack_avx = gemm_arch()->kernel != kernel_generic;   // AVX2 or better
#endif
    for (int j0 = 0; j0 < nc; j0 += nr) {
        int n = nc - j0 < nr ? nc - j0 : nr;
        if (!trans) {
            for (int k = 0; k < kc; k++) {
                float *d = dst + (size_t)k * nr;
                const float *s = B + (size_t)k * ldb + j0;
                int j = 0;
                for (; j < n; j++) d[j] = s[j];
                for (; j < nr; j++) d[j] = 0.0f;
            }
#if GEMM_X86
        } else if (n == nr && nr % 8 == 0 && pack_avx) {
            pack_bt_avx(B + (size_t)j0 * ldb, ldb, kc, nr, dst);
#endif
        } else {
            // op(B)[k][j] = B[j][k].
            for (int k = 0; k < kc; k++) {
                float *d = dst + (size_t)k * nr;
                int j = 0;
                for (; j < n; j++) d[j] = B[(size_t)(j0 + j) * ldb + k];
                for (; j < nr; j++) d[j] = 0.0f;
            }
        }
        dst += (size_t)nr * kc;
    }
}

// ---------------------------------------------------------------------------
// Packing buffers, one pair per thread, grown on demand and kept.

static _Thread_local float *pack_buf_a, *pack_buf_b;
static _Thread_local size_t pack_cap_a, pack_cap_b;

static float *grow(float **buf, size_t *cap, size_t n)
{
    if (*cap >= n)
        return *buf;
    free(*buf);
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    *buf = aligned_alloc(64, bytes);
    *cap = *buf ? n : 0;
    return *buf;
}

void gemm_free_buffers(void)
{
    free(pack_buf_a);
    free(pack_buf_b);
    pack_buf_a = pack_buf_b = NULL;
    pack_cap_a = pack_cap_b = 0;
}

// C = beta * C for the degenerate cases (K == 0 or alpha == 0).
static void scale_c(int M, int N, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        float *ci = C + (size_t)i * ldc;
        if (beta == 0.0f)
            memset(ci, 0, (size_t)N * sizeof(float));
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) ci[j] *= beta;
    }
}

// The blocked loops for one architecture. C element (i, j) is at
// C[i * rsc + j * csc]; when csc != 1 (a transposed C) each tile is computed
// into a small buffer and then scattered.
static void gemm_blocked(const GemmArch *ar, bool trans_a, bool trans_b, int M, int N, int K,
                         float alpha, const float *A, int lda, const float *B, int ldb,
                         float beta, float *C, int rsc, int csc)
{
    const int mr = ar->mr, nr = ar->nr;
    int kc_max = K < ar->kc ? K : ar->kc;
    int mc_max = M < ar->mc ? (M + mr - 1) / mr * mr : ar->mc;
    int nc_max = N < ar->nc ? (N + nr - 1) / nr * nr : ar->nc;
    float *pa = grow(&pack_buf_a, &pack_cap_a, (size_t)mc_max * kc_max);
    // With few rows, each B panel would serve only a few A panels: packing
    // B costs more than it saves, so a kernel that can reads B in place.
    // Up to 256 rows it still pays when k fits one block (measured on
    // Zen 4: 128^3 and 256^3 gain 10%, long k loses as much).
    bool direct_b = ar->direct_b && !trans_b
                 && (M <= GEMM_DIRECT_B_MAX_M || (M <= 256 && K <= ar->kc));
    float *pb = direct_b ? pa : grow(&pack_buf_b, &pack_cap_b, (size_t)nc_max * kc_max);
    if (!pa || !pb) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double acc = 0;
                for (int k = 0; k < K; k++)
                    acc += (double)(trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k])
                         * (trans_b ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
                float *c = &C[(size_t)i * rsc + (size_t)j * csc];
                *c = alpha * (float)acc + (beta == 0.0f ? 0.0f : beta * *c);
            }
        return;
    }
    float tile[GEMM_MAX_TILE];   // (MR, NR) for a transposed C

    for (int jc = 0; jc < N; jc += ar->nc) {
        int nc = N - jc < ar->nc ? N - jc : ar->nc;
        for (int pc = 0; pc < K; pc += ar->kc) {
            int kc = K - pc < ar->kc ? K - pc : ar->kc;
            float beta_blk = pc == 0 ? beta : 1.0f;
            const float *Bblk = trans_b ? B + (size_t)jc * ldb + pc
                                        : B + (size_t)pc * ldb + jc;
            if (!direct_b)
                pack_b(trans_b, Bblk, ldb, kc, nc, nr, pb);
            for (int ic = 0; ic < M; ic += ar->mc) {
                int mc = M - ic < ar->mc ? M - ic : ar->mc;
                const float *Ablk = trans_a ? A + (size_t)pc * lda + ic
                                            : A + (size_t)ic * lda + pc;
                pack_a(trans_a, Ablk, lda, mc, kc, mr, pa);
                // Normally one B panel stays in L1 while the A panels pass
                // (jr outside). With a short k the work is storing C, so walk
                // C row by row instead (ir outside): the panels are tiny.
                bool rows_first = kc <= 16;
                int nj = (nc + nr - 1) / nr, ni = (mc + mr - 1) / mr;
                for (int outer = 0; outer < (rows_first ? ni : nj); outer++)
                for (int inner = 0; inner < (rows_first ? nj : ni); inner++) {
                    int jr = (rows_first ? inner : outer) * nr;
                    int ir = (rows_first ? outer : inner) * mr;
                    int n = nc - jr < nr ? nc - jr : nr;
                    const float *bp = direct_b ? Bblk + jr : pb + (size_t)(jr / nr) * nr * kc;
                    int ldbk = direct_b ? ldb : nr;
                    {
                        int m = mc - ir < mr ? mc - ir : mr;
                        const float *ap = pa + (size_t)(ir / mr) * mr * kc;
                        float *c = C + (size_t)(ic + ir) * rsc + (size_t)(jc + jr) * csc;
                        if (csc == 1) {
                            ar->kernel(kc, ap, mr, bp, ldbk, c, rsc, alpha, beta_blk, m, n);
                            continue;
                        }
                        ar->kernel(kc, ap, mr, bp, ldbk, tile, nr, 1.0f, 0.0f, m, n);
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < n; j++) {
                                float *cij = c + (size_t)i * rsc + (size_t)j * csc;
                                *cij = alpha * tile[i * nr + j] + (beta_blk == 0.0f ? 0.0f : beta_blk * *cij);
                            }
                    }
                }
            }
        }
    }
}

void gemm_f32(bool trans_a, bool trans_b, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    const GemmArch *ar = gemm_arch();
#if GEMM_X86
    if (ar == &arch_avx512) {
        // One or two rows of C, B in place: vector-matrix products (an RNN
        // step with batch 1, an LSTM's dW_ih with 2 inputs).
        if (M == 1 && !trans_b) {
            row_avx512(N, K, alpha, A, trans_a ? lda : 1, B, ldb, beta, C);
            return;
        }
        if (M == 2 && !trans_b) {
            rows2_avx512(N, K, alpha, A, trans_a ? 1 : lda, trans_a ? lda : 1,
                         B, ldb, beta, C, ldc);
            return;
        }
        // Few rows against B transposed: dot products of rows of A with rows
        // of B, both in place, writing C transposed.
        if (M <= 4 && trans_b && !trans_a) {
            dot_avx512(N, M, K, alpha, B, ldb, A, lda, beta, C, 1, ldc);
            return;
        }
        // At most 4 columns and rows of A in place: dot products, each
        // element of A read once (an LSTM's dx = dgates @ W_ih).
        if (N <= 4 && M >= 16 && !trans_a) {
            if (trans_b) {
                dot_avx512(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1);
                return;
            }
            float *bt = grow(&pack_buf_b, &pack_cap_b, (size_t)N * K);   // (N, K)
            if (bt) {
                for (int k = 0; k < K; k++)
                    for (int j = 0; j < N; j++)
                        bt[(size_t)j * K + k] = B[(size_t)k * ldb + j];
                dot_avx512(M, N, K, alpha, A, lda, bt, K, beta, C, ldc, 1);
                return;
            }
        }
        // Few columns otherwise: C^T = op(B)^T op(A)^T has few rows.
        if (N <= 4 && M > N) {
            gemm_blocked(&arch_avx512_small, !trans_b, !trans_a, N, M, K, alpha,
                         B, ldb, A, lda, beta, C, 1, ldc);
            return;
        }
        if (M <= 4)
            ar = &arch_avx512_small;
    }
#endif
    gemm_blocked(ar, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1);
}
