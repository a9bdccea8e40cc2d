// bench_sgemm.c: GFLOP/s of gemm_f32 on square matrices, against OpenBLAS.
//
// Prints `NAME VALUE UNIT` lines. When built with OpenBLAS (HAVE_OPENBLAS),
// the same sizes run through cblas_sgemm on one thread, followed by the ratio
// ours / OpenBLAS. Without it, a skip line says why.
//
// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE change which kernels OpenBLAS picks
// when it loads, so when either is set the benchmark re-executes itself with
// both removed: the peer then runs in its best configuration.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/tensor/gemm.h"

#ifdef HAVE_OPENBLAS
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
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

typedef void (*SgemmFn)(int n, const float *a, const float *b, float *c);

static void ours(int n, const float *a, const float *b, float *c)
{
    gemm_f32(false, false, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
}

#ifdef HAVE_OPENBLAS
static void peer(int n, const float *a, const float *b, float *c)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
                1.0f, a, n, b, n, 0.0f, c, n);
}
#endif

// Best GFLOP/s over a few timed batches of about 0.1 s each.
static double gflops(SgemmFn fn, int n, const float *a, const float *b, float *c)
{
    double flop = 2.0 * n * n * n;
    fn(n, a, b, c);   // warm caches and packing buffers
    int reps = 1;
    double t0 = now_s();
    fn(n, a, b, c);
    double one = now_s() - t0;
    if (one > 0)
        reps = (int)(0.1 / one) + 1;
    double best = 0;
    for (int trial = 0; trial < 5; trial++) {
        t0 = now_s();
        for (int r = 0; r < reps; r++)
            fn(n, a, b, c);
        double g = flop * reps / (now_s() - t0) / 1e9;
        if (g > best)
            best = g;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (getenv("OPENBLAS_CORETYPE") || getenv("OPENBLAS_L2_SIZE")) {
        unsetenv("OPENBLAS_CORETYPE");
        unsetenv("OPENBLAS_L2_SIZE");
        execv("/proc/self/exe", argv);   // returns only on failure: carry on
    }
    (void)argc;
    static const int sizes[] = { 128, 256, 512 };
    const int nsizes = (int)(sizeof sizes / sizeof sizes[0]);
    int nmax = 512;
    float *a = malloc(sizeof(float) * nmax * nmax);
    float *b = malloc(sizeof(float) * nmax * nmax);
    float *c = malloc(sizeof(float) * nmax * nmax);
    if (!a || !b || !c) {
        fprintf(stderr, "bench_sgemm: out of memory\n");
        return 1;
    }
    fill(a, (size_t)nmax * nmax, 1);
    fill(b, (size_t)nmax * nmax, 2);
    printf("sgemm_kernel %s -\n", gemm_kernel_name());
    double g_ours[3];
    for (int s = 0; s < nsizes; s++) {
        g_ours[s] = gflops(ours, sizes[s], a, b, c);
        printf("sgemm_%d %.1f GFLOP/s\n", sizes[s], g_ours[s]);
    }
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(1);
    for (int s = 0; s < nsizes; s++) {
        double g = gflops(peer, sizes[s], a, b, c);
        printf("sgemm_%d_openblas %.1f GFLOP/s\n", sizes[s], g);
        printf("sgemm_%d_ratio %.2f x\n", sizes[s], g_ours[s] / g);
    }
#else
    printf("sgemm_openblas skip (built without libopenblas-dev)\n");
#endif
    free(a);
    free(b);
    free(c);
    return 0;
}
