// bench_sgemm: GFLOP/s of gemm_f32 on square matrices and on the shapes
// src/models/lstm.c multiplies, against OpenBLAS.
//
// Prints `NAME VALUE UNIT` lines. When built with OpenBLAS (HAVE_OPENBLAS),
// every shape also runs through cblas_sgemm on one thread, alternating with
// ours batch by batch, followed by the ratio ours / OpenBLAS. Without it, a
// skip line says why. Last comes the core's measured FMA peak (AVX-512, else
// AVX2), the ceiling for both.
//
// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE change which kernels OpenBLAS picks
// when it loads, so when either is set the benchmark re-executes itself with
// both removed: the peer then runs in its best configuration.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/tensor/gemm.h"

#ifdef HAVE_OPENBLAS
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill(float *x, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
}

// One problem: C (M, N) = op(A) @ op(B) (+ C when acc), dense strides.
typedef struct Shape {
    const char *name;
    bool ta, tb, acc;
    int M, N, K;
} Shape;

typedef void (*SgemmFn)(const Shape *s, const float *a, const float *b, float *c);

static void ours(const Shape *s, const float *a, const float *b, float *c)
{
    gemm_f32(s->ta, s->tb, s->M, s->N, s->K, 1.0f, a, s->ta ? s->M : s->K,
             b, s->tb ? s->K : s->N, s->acc ? 1.0f : 0.0f, c, s->N);
}

#ifdef HAVE_OPENBLAS
static void peer(const Shape *s, const float *a, const float *b, float *c)
{
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                s->tb ? CblasTrans : CblasNoTrans, s->M, s->N, s->K,
                1.0f, a, s->ta ? s->M : s->K, b, s->tb ? s->K : s->N,
                s->acc ? 1.0f : 0.0f, c, s->N);
}
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(GRADLAB_SIMD_PORTABLE)
#include <immintrin.h>
#define HAVE_PEAK 1

// The core's float32 FMA peak: 12 independent AVX-512 FMA chains, so the
// FMA units never wait. Returns GFLOP/s (2 flops per lane per FMA).
#define PEAK_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
__attribute__((target("avx512f"), noinline))
static double fma_peak(long n, float seed)
{
    __m512 m = _mm512_set1_ps(0.9999f), k = _mm512_set1_ps(1e-4f);
#define PEAK_INIT(i) __m512 r##i = _mm512_set1_ps(seed + (float)(i));
#define PEAK_STEP(i) r##i = _mm512_fmadd_ps(r##i, m, k);
#define PEAK_SUM(i) sum = _mm512_add_ps(sum, r##i);
    PEAK_CHAINS(PEAK_INIT)
    double t0 = now_s();
    for (long it = 0; it < n; it++) {
        PEAK_CHAINS(PEAK_STEP)
    }
    double t = now_s() - t0;
    __m512 sum = _mm512_setzero_ps();
    PEAK_CHAINS(PEAK_SUM)
    volatile float sink = _mm512_reduce_add_ps(sum);
    (void)sink;
    return 12.0 * 32.0 * (double)n / t / 1e9;
}

// The same with AVX2 + FMA, for CPUs without AVX-512.
__attribute__((target("avx2,fma"), noinline))
static double fma_peak_avx2(long n, float seed)
{
    __m256 m = _mm256_set1_ps(0.9999f), k = _mm256_set1_ps(1e-4f);
#define PEAK2_INIT(i) __m256 r##i = _mm256_set1_ps(seed + (float)(i));
#define PEAK2_STEP(i) r##i = _mm256_fmadd_ps(r##i, m, k);
#define PEAK2_SUM(i) sum = _mm256_add_ps(sum, r##i);
    PEAK_CHAINS(PEAK2_INIT)
    double t0 = now_s();
    for (long it = 0; it < n; it++) {
        PEAK_CHAINS(PEAK2_STEP)
    }
    double t = now_s() - t0;
    __m256 sum = _mm256_setzero_ps();
    PEAK_CHAINS(PEAK2_SUM)
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    volatile float sink = lanes[0];
    (void)sink;
    return 12.0 * 16.0 * (double)n / t / 1e9;
}
#endif

// Best of a few short peak runs on the widest vectors the CPU has (0
// without AVX2 and FMA, or without x86 kernels at all).
static double best_peak(int seed)
{
    double best = 0;
#ifdef HAVE_PEAK
    bool avx512 = __builtin_cpu_supports("avx512f");
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    for (int trial = 0; trial < 7 && (avx512 || avx2); trial++) {
        double g = avx512 ? fma_peak(5000000, (float)seed) : fma_peak_avx2(10000000, (float)seed);
        best = g > best ? g : best;
    }
#else
    (void)seed;
#endif
    return best;
}

// Repetitions of fn that take about 0.03 s (after one warm-up call).
static int calibrate(SgemmFn fn, const Shape *s, const float *a, const float *b, float *c)
{
    fn(s, a, b, c);   // warm caches and packing buffers
    double t0 = now_s();
    fn(s, a, b, c);
    double one = now_s() - t0;
    return one > 0 ? (int)(0.03 / one) + 1 : 1;
}

// GFLOP/s of one timed batch of reps calls.
static double batch(SgemmFn fn, const Shape *s, int reps, const float *a, const float *b, float *c)
{
    double t0 = now_s();
    for (int r = 0; r < reps; r++)
        fn(s, a, b, c);
    return 2.0 * s->M * s->N * s->K * reps / (now_s() - t0) / 1e9;
}

int main(int argc, char **argv)
{
    if (getenv("OPENBLAS_CORETYPE") || getenv("OPENBLAS_L2_SIZE")) {
        unsetenv("OPENBLAS_CORETYPE");
        unsetenv("OPENBLAS_L2_SIZE");
        execv("/proc/self/exe", argv);   // returns only on failure: carry on
    }
    // Square sizes, then the shapes of one LSTM step (B = 32, I = 2, H = 128).
    static const Shape shapes[] = {
        { "sgemm_128", false, false, false, 128, 128, 128 },
        { "sgemm_256", false, false, false, 256, 256, 256 },
        { "sgemm_512", false, false, false, 512, 512, 512 },
        // The calls of src/models/lstm.c, T = 100 so TB = 3200, G = 4H = 512
        // (its backward gathers weight gradients over chunks of 8 steps):
        { "sgemm_lstm_fwd_x", false, true, true, 3200, 512, 2 },      // x (TB, I) @ W_ih^T
        { "sgemm_lstm_fwd_h", false, false, true, 32, 512, 128 },     // h (B, H) @ W_hh^T (H, G)
        { "sgemm_lstm_fwd_h_nt", false, true, true, 32, 512, 128 },   // same, W_hh (G, H) as stored
        { "sgemm_lstm_bwd_dh", false, false, false, 32, 128, 512 },   // da (B, G) @ W_hh (G, H)
        { "sgemm_lstm_bwd_dwih", true, false, true, 2, 512, 256 },    // x^T (I, 8B) @ da (8B, G), per 8 steps
        { "sgemm_lstm_bwd_dwhh", true, false, true, 128, 512, 256 },  // h^T (H, 8B) @ da (8B, G), per 8 steps
        { "sgemm_lstm_bwd_dx", false, false, false, 3200, 2, 512 },   // dpre (TB, G) @ W_ih (G, I)
    };
    const int nsizes = (int)(sizeof shapes / sizeof shapes[0]);
    size_t nmax = 3200 * 512;   // the largest operand of any shape
    float *a = malloc(sizeof(float) * nmax);
    float *b = malloc(sizeof(float) * nmax);
    float *c = malloc(sizeof(float) * nmax);
    if (!a || !b || !c) {
        fprintf(stderr, "bench_sgemm: out of memory\n");
        return 1;
    }
    fill(a, nmax, 1);
    fill(b, nmax, 2);
    fill(c, nmax, 3);
    printf("sgemm_kernel %s -\n", gemm_kernel_name());
    double peak = best_peak(argc);   // measured before and after the shapes

    // Ours and the peer alternate, batch by batch, and each keeps its best:
    // on a shared machine both then see the same quiet moments.
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(1);
    printf("sgemm_openblas_core %s -\n", openblas_get_corename());
#else
    printf("sgemm_openblas skip (built without libopenblas-dev)\n");
#endif
    for (int s = 0; s < nsizes; s++) {
        const Shape *sh = &shapes[s];
        double g_ours = 0, g_peer = 0;
        int reps_ours = calibrate(ours, sh, a, b, c);
#ifdef HAVE_OPENBLAS
        int reps_peer = calibrate(peer, sh, a, b, c);
#endif
        for (int trial = 0; trial < 7; trial++) {
            double g = batch(ours, sh, reps_ours, a, b, c);
            g_ours = g > g_ours ? g : g_ours;
#ifdef HAVE_OPENBLAS
            g = batch(peer, sh, reps_peer, a, b, c);
            g_peer = g > g_peer ? g : g_peer;
#endif
        }
        printf("%s %.1f GFLOP/s\n", sh->name, g_ours);
#ifdef HAVE_OPENBLAS
        printf("%s_openblas %.1f GFLOP/s\n", sh->name, g_peer);
        printf("%s_ratio %.2f x\n", sh->name, g_ours / g_peer);
#else
        (void)g_peer;
#endif
    }
    double peak2 = best_peak(argc);
    peak = peak2 > peak ? peak2 : peak;
    if (peak > 0)
        printf("sgemm_fma_peak %.1f GFLOP/s\n", peak);   // the ceiling of one core
    free(a);
    free(b);
    free(c);
    return 0;
}
