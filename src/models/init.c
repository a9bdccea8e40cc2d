// init.c: weight initialisations; see init.h.
//
// Sections: the simple inits, the double-precision products behind the
// orthogonal init, and the orthogonal init itself.
#include "models/init.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>


void init_uniform(float *w, size_t n, float bound, Pcg *rng)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (2.0f * pcg_uniform(rng) - 1.0f) * bound;
}

void init_normal(float *w, size_t n, float std, Pcg *rng)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(pcg_normal(rng) * std);
}

void init_identity(float *w, int rows, int cols, float scale)
{
    memset(w, 0, (size_t)rows * (size_t)cols * sizeof(float));
    for (int i = 0; i < rows && i < cols; i++)
        w[(size_t)i * cols + i] = scale;
}

// ===========================================================================
// dgemm_add: C (M, N) += A (M, K) @ B (K, N) in double, where A's element
// (i, p) is A[i * ars + p * aps] (so A or A^T of a row-major array), B is
// row-major with row stride ldb and C with row stride ldc.
//
// Every element of C gets its K terms in the same order, p ascending, each
// as one rounded product and then one rounded addition (never fused), on
// every code path: the register tiles of each instruction set and the
// scalar edges. So the result does not depend on the machine, and a seed
// gives the same weights bit for bit everywhere. (Contraction into FMA is
// off: -std=c11 for GCC, and the product and the sum are separate
// statements for Clang.)

#define DG_KC 256        // depth of a block: B's (KC, NC) block stays in L2
#define DG_NC 192        // width of a block, a multiple of every tile's width
#define DG_MR_MAX 8      // the tallest tile

// A tile kernel: C (mr, nr) += A (mr, K) @ B (K, nr) for the kernel's own
// mr and nr (nv vectors of w doubles, or one vector for the narrow one).
typedef void (*DgTile)(int K, const double *A, ptrdiff_t ars, ptrdiff_t aps,
                       const double *B, ptrdiff_t ldb, double *C, ptrdiff_t ldc);

typedef struct DgArch {
    const char *name;
    int mr, w, nv;          // tile rows, doubles per vector, vectors per tile row
    DgTile tile, narrow;    // (mr, nv * w) and (mr, w); NULL for the scalar path
} DgArch;

// Scalar (m, n) corner: the order every path follows.
static void dg_edge(int m, int n, int K, const double *A, ptrdiff_t ars, ptrdiff_t aps,
                    const double *B, ptrdiff_t ldb, double *C, ptrdiff_t ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = C[i * ldc + j];
            for (int p = 0; p < K; p++) {
                double t = A[i * ars + p * aps] * B[p * ldb + j];
                acc = acc + t;
            }
            C[i * ldc + j] = acc;
        }
}

#if defined(__GNUC__) || defined(__clang__)
// A tile of MR rows and NV vectors (type VT, W doubles) per row, all in
// registers: 24 of the 32 for AVX-512, 12 of 16 for AVX, 8 of 16 for SSE2.
#define DG_TILE(NAME, ATTR, VT, W, MR, NV)                                                \
    ATTR static void NAME(int K, const double *A, ptrdiff_t ars, ptrdiff_t aps,            \
                          const double *B, ptrdiff_t ldb, double *C, ptrdiff_t ldc)       \
    {                                                                                     \
        VT acc[MR][NV];                                                                   \
        for (int i = 0; i < MR; i++)                                                      \
            for (int v = 0; v < NV; v++)                                                  \
                memcpy(&acc[i][v], C + i * ldc + W * v, sizeof(VT));                      \
        for (int p = 0; p < K; p++) {                                                     \
            VT b[NV];                                                                     \
            for (int v = 0; v < NV; v++)                                                  \
                memcpy(&b[v], B + p * ldb + W * v, sizeof(VT));                           \
            const double *a = A + p * aps;                                                \
            for (int i = 0; i < MR; i++) {                                                \
                double ai = a[i * ars];                                                   \
                for (int v = 0; v < NV; v++) {                                            \
                    VT t = b[v] * ai;                                                     \
                    acc[i][v] = acc[i][v] + t;                                            \
                }                                                                         \
            }                                                                             \
        }                                                                                 \
        for (int i = 0; i < MR; i++)                                                      \
            for (int v = 0; v < NV; v++)                                                  \
                memcpy(C + i * ldc + W * v, &acc[i][v], sizeof(VT));                      \
    }

typedef double dg_v2 __attribute__((vector_size(16)));
DG_TILE(dg_tile_base, , dg_v2, 2, 4, 2)
DG_TILE(dg_narrow_base, , dg_v2, 2, 4, 1)
#define DG_BASE {"sse2", 4, 2, 2, dg_tile_base, dg_narrow_base}

#if defined(__x86_64__) && !defined(GRADLAB_SIMD_PORTABLE)
#define DG_X86 1
typedef double dg_v4 __attribute__((vector_size(32)));
typedef double dg_v8 __attribute__((vector_size(64)));
DG_TILE(dg_tile_avx, __attribute__((target("avx"))), dg_v4, 4, 6, 2)
DG_TILE(dg_narrow_avx, __attribute__((target("avx"))), dg_v4, 4, 6, 1)
DG_TILE(dg_tile_avx512, __attribute__((target("avx512f"))), dg_v8, 8, 8, 3)
DG_TILE(dg_narrow_avx512, __attribute__((target("avx512f"))), dg_v8, 8, 8, 1)
#endif
#undef DG_TILE
#else
#define DG_BASE {"scalar", 1, 1, 1, NULL, NULL}
#endif
#ifndef DG_X86
#define DG_X86 0
#endif

static const DgArch dg_scalar = {"scalar", 1, 1, 1, NULL, NULL};
static const DgArch dg_base = DG_BASE;
#if DG_X86
static const DgArch dg_avx = {"avx", 6, 4, 2, dg_tile_avx, dg_narrow_avx};
static const DgArch dg_avx512 = {"avx512", 8, 8, 3, dg_tile_avx512, dg_narrow_avx512};
#endif

// The fastest path this CPU runs, or a slower one that GRADLAB_INIT_KERNEL
// names (scalar, sse2, avx), for tests that compare the paths.
static const DgArch *dg_arch(void)
{
    const char *force = getenv("GRADLAB_INIT_KERNEL");
    if (force && strcmp(force, "scalar") == 0)
        return &dg_scalar;
    if (force && strcmp(force, dg_base.name) == 0)
        return &dg_base;
#if DG_X86
    if (!(force && strcmp(force, "avx") == 0) && __builtin_cpu_supports("avx512f"))
        return &dg_avx512;
    if (__builtin_cpu_supports("avx"))
        return &dg_avx;
#endif
    return &dg_base;
}

const char *init_kernel_name(void)
{
    return dg_arch()->name;
}

// pack: room for DG_KC * (DG_NC + DG_MR_MAX) doubles. Each (kc, nc) block of
// B is copied into panels of the tile's width, and each (mr, kc) tile of A
// after it, so that a tile reads both contiguously (B's rows may be a power
// of two apart, which thrashes the caches).
static void dgemm_add(const DgArch *arch, int M, int N, int K, const double *A, ptrdiff_t ars,
                      ptrdiff_t aps, const double *B, ptrdiff_t ldb, double *C, ptrdiff_t ldc,
                      double *pack)
{
    const int mr = arch->mr, w = arch->w, nr = arch->nv * arch->w;
    double *apack = pack + (size_t)DG_KC * DG_NC;
    for (int p0 = 0; p0 < K; p0 += DG_KC) {
        const int kc = K - p0 < DG_KC ? K - p0 : DG_KC;
        const double *Ap = A + p0 * aps;
        for (int j0 = 0; j0 < N; j0 += DG_NC) {
            const int nc = N - j0 < DG_NC ? N - j0 : DG_NC;
            // Panel s: columns [s0, s0 + ws) of the block, (kc, ws) at pack + s0 kc.
            // Row by row, so that B is read contiguously.
            for (int p = 0; p < kc; p++) {
                const double *src = B + (p0 + p) * ldb + j0;
                for (int s0 = 0; s0 < nc; s0 += nr) {
                    const int ws = nc - s0 < nr ? nc - s0 : nr;
                    double *dst = pack + (size_t)s0 * kc + (size_t)p * ws;
                    for (int j = 0; j < ws; j++)
                        dst[j] = src[s0 + j];
                }
            }
            for (int i0 = 0; i0 < M; i0 += mr) {
                const int m = M - i0 < mr ? M - i0 : mr;
                // A's (m, kc) tile, k-major: apack[p * mr + i].
                for (int p = 0; p < kc; p++)
                    for (int i = 0; i < m; i++)
                        apack[p * mr + i] = Ap[(i0 + i) * ars + p * aps];
                const double *a = apack;
                double *c = C + i0 * ldc + j0;
                for (int s0 = 0; s0 < nc; s0 += nr) {
                    const int ws = nc - s0 < nr ? nc - s0 : nr;
                    const double *b = pack + (size_t)s0 * kc;
                    int j = 0;
                    if (arch->tile && m == mr) {
                        if (ws == nr) {
                            arch->tile(kc, a, 1, mr, b, nr, c + s0, ldc);
                            j = nr;
                        }
                        for (; j + w <= ws; j += w)
                            arch->narrow(kc, a, 1, mr, b + j, ws, c + s0 + j, ldc);
                    }
                    dg_edge(m, ws - j, kc, a, 1, mr, b + j, ws, c + s0 + j, ldc);
                }
            }
        }
    }
}

// ===========================================================================
// The orthogonal init: Stewart's method (1980). The Householder QR of a
// Gaussian matrix G (len, k), with the signs of R's diagonal moved into Q
// (Q <- Q diag(sign R_jj), as PyTorch's orthogonal_ does), gives Q uniformly
// distributed (Haar). After the first reflection the rest of G is again an
// independent Gaussian matrix, so each reflector H_j can be made from a
// fresh Gaussian vector of length len - j, and G itself is never formed.
// Q = H_0 H_1 ... H_{k-1} [I_k; 0] is then built as LAPACK's dorgqr does,
// DG_NB reflectors at a time: with V (m, nb) the block's vectors and T
// (nb, nb) upper triangular, H_i ... H_{i+nb-1} = I - V T V^T, applied to
// the trailing columns as two products, W = V^T C and C -= V (T W).
// About (4/3) len k^2 flops, in double.

// A multiple of every tile height (4, 6, 8): the products V^T C have nb rows.
#define DG_NB 96   // reflectors per block

bool init_orthogonal(float *w, int rows, int cols, float scale, Pcg *rng)
{
    // k orthonormal columns of length len, as q (len, k) row-major.
    const int len = rows >= cols ? rows : cols, k = rows >= cols ? cols : rows;
    if (k <= 0)
        return true;
    const int nb = k < DG_NB ? k : DG_NB;
    double *q = calloc((size_t)len * (size_t)k, sizeof(double));
    double *tau = malloc((size_t)k * sizeof(double));
    double *sgn = malloc((size_t)k * sizeof(double));
    double *vb = malloc((size_t)len * (size_t)nb * sizeof(double));    // (m, nb) V of a block
    double *wk = malloc(2 * (size_t)nb * (size_t)k * sizeof(double));  // (nb, n) W, then T W
    double *tt = malloc(3 * (size_t)nb * (size_t)nb * sizeof(double)); // (nb, nb) V^T V, T, -T
    double *pack = malloc((size_t)DG_KC * (DG_NC + DG_MR_MAX) * sizeof(double));
    const DgArch *arch = dg_arch();
    bool ok = q && tau && sgn && vb && wk && tt && pack;
    if (!ok)
        goto done;

    // Reflector j from a Gaussian x (len - j) as in LAPACK's dlarfg:
    // H_j x = beta e_1, v = (1, x[1:] / (alpha - beta)), tau = (beta - alpha) / beta.
    // v[1:] is kept below the diagonal of column j of q.
    for (int j = 0; j < k; j++) {
        double alpha = pcg_normal(rng), ss = 0.0;
        for (int r = j + 1; r < len; r++) {
            double x = pcg_normal(rng);
            q[(size_t)r * k + j] = x;
            ss += x * x;
        }
        double beta = alpha;
        tau[j] = 0.0;
        if (ss > 0.0) {
            beta = -copysign(sqrt(alpha * alpha + ss), alpha);
            tau[j] = (beta - alpha) / beta;
            double f = 1.0 / (alpha - beta);
            for (int r = j + 1; r < len; r++)
                q[(size_t)r * k + j] *= f;
        }
        sgn[j] = beta < 0.0 ? -1.0 : 1.0;   // R_jj = beta
    }

    // Blocks from the last to the first. Before block i, rows < i of the
    // columns from i on are zero and columns after the block hold
    // H_{i+nb} ... H_{k-1} [I; 0] in rows >= i.
    for (int i = (k - 1) / nb * nb; i >= 0; i -= nb) {
        const int ib = k - i < nb ? k - i : nb, m = len - i, n = k - i;
        double *G = tt, *T = tt + (size_t)nb * nb, *nT = tt + 2 * (size_t)nb * nb;
        double *W = wk, *W2 = wk + (size_t)nb * k;
        // V (m, ib): unit lower trapezoidal; then the block's columns of q
        // become [I; 0], so that one update builds them and the rest.
        for (int r = 0; r < m; r++) {
            double *qr = q + (size_t)(i + r) * k + i;
            for (int p = 0; p < ib; p++) {
                vb[(size_t)r * ib + p] = r > p ? qr[p] : r == p ? 1.0 : 0.0;
                qr[p] = r == p ? 1.0 : 0.0;
            }
        }
        // T as in LAPACK's dlarft (forward, columnwise), from G = V^T V:
        // T[0:p, p] = -tau_p T[0:p, 0:p] G[0:p, p], T[p][p] = tau_p.
        memset(G, 0, (size_t)ib * ib * sizeof(double));
        dgemm_add(arch, ib, ib, m, vb, 1, ib, vb, ib, G, ib, pack);
        memset(T, 0, (size_t)ib * ib * sizeof(double));
        for (int p = 0; p < ib; p++) {
            const double tp = tau[i + p];
            for (int a = 0; a < p; a++)
                T[a * ib + p] = -tp * G[a * ib + p];
            for (int a = 0; a < p; a++) {   // in place: row a reads entries below it only
                double s = 0.0;
                for (int b = a; b < p; b++)
                    s += T[a * ib + b] * T[b * ib + p];
                T[a * ib + p] = s;
            }
            T[p * ib + p] = tp;
        }
        for (size_t e = 0; e < (size_t)ib * ib; e++)
            nT[e] = -T[e];
        // C = q[i:, i:] (m, n): W = V^T C; W2 = -T W; C += V W2.
        double *C = q + (size_t)i * k + i;
        memset(W, 0, (size_t)ib * n * sizeof(double));
        dgemm_add(arch, ib, n, m, vb, 1, ib, C, k, W, n, pack);
        memset(W2, 0, (size_t)ib * n * sizeof(double));
        dgemm_add(arch, ib, n, ib, nT, ib, 1, W, n, W2, n, pack);
        dgemm_add(arch, m, n, ib, vb, ib, 1, W2, n, C, k, pack);
    }

    // w = scale * Q diag(sgn), or its transpose when rows < cols.
    if (rows >= cols) {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                w[(size_t)r * cols + c] = (float)(scale * sgn[c] * q[(size_t)r * k + c]);
    } else {
        enum { TILE = 32 };
        for (int r0 = 0; r0 < rows; r0 += TILE)
            for (int c0 = 0; c0 < cols; c0 += TILE)
                for (int r = r0; r < rows && r < r0 + TILE; r++)
                    for (int c = c0; c < cols && c < c0 + TILE; c++)
                        w[(size_t)r * cols + c] = (float)(scale * sgn[r] * q[(size_t)c * k + r]);
    }
done:
    free(q);
    free(tau);
    free(sgn);
    free(vb);
    free(wk);
    free(tt);
    free(pack);
    return ok;
}
