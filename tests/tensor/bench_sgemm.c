// bench_sgemm.c: GFLOP/s of gemm_f32 on square matrices, against OpenBLAS.
//
// Prints `NAME VALUE UNIT` lines. When built with OpenBLAS (HAVE_OPENBLAS),
// the same sizes run through cblas_sgemm on one thread, followed by the ratio
// ours / OpenBLAS. Without it, a skip line says why.
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

// Best GFLOP/s over a few timed batches of about 0.05 s each.
static double gflops(SgemmFn fn, const Shape *s, const float *a, const float *b, float *c)
{
    double flop = 2.0 * s->M * s->N * s->K;
    fn(s, a, b, c);   // warm caches and packing buffers
    int reps = 1;
    double t0 = now_s();
    fn(s, a, b, c);
    double one = now_s() - t0;
    if (one > 0)
        reps = (int)(0.05 / one) + 1;
    double best = 0;
    for (int trial = 0; trial < 5; trial++) {
        t0 = now_s();
        for (int r = 0; r < reps; r++)
            fn(s, a, b, c);
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
    // Square sizes, then the shapes of one LSTM step (B = 32, I = 2, H = 128).
    static const Shape shapes[] = {
        { "sgemm_128", false, false, false, 128, 128, 128 },
        { "sgemm_256", false, false, false, 256, 256, 256 },
        { "sgemm_512", false, false, false, 512, 512, 512 },
        // The calls of src/models/lstm.c, T = 100 so TB = 3200, G = 4H = 512:
        { "sgemm_lstm_fwd_x", false, true, true, 3200, 512, 2 },      // x (TB, I) @ W_ih^T
        { "sgemm_lstm_fwd_h", false, false, true, 32, 512, 128 },     // h (B, H) @ W_hh^T (H, G)
        { "sgemm_lstm_fwd_h_nt", false, true, true, 32, 512, 128 },   // same, W_hh (G, H) as stored
        { "sgemm_lstm_bwd_dh", false, false, false, 32, 128, 512 },   // da (B, G) @ W_hh (G, H)
        { "sgemm_lstm_bwd_dwih", true, false, false, 2, 512, 3200 },  // x^T (I, TB) @ dpre (TB, G)
        { "sgemm_lstm_bwd_dwhh", true, false, true, 512, 128, 3168 }, // dpre^T (G, TB) @ h (TB, H)
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
    double g_ours[sizeof shapes / sizeof shapes[0]];
    for (int s = 0; s < nsizes; s++) {
        g_ours[s] = gflops(ours, &shapes[s], a, b, c);
        printf("%s %.1f GFLOP/s\n", shapes[s].name, g_ours[s]);
    }
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(1);
    printf("sgemm_openblas_core %s -\n", openblas_get_corename());
    for (int s = 0; s < nsizes; s++) {
        double g = gflops(peer, &shapes[s], a, b, c);
        printf("%s_openblas %.1f GFLOP/s\n", shapes[s].name, g);
        printf("%s_ratio %.2f x\n", shapes[s].name, g_ours[s] / g);
    }
#else
    printf("sgemm_openblas skip (built without libopenblas-dev)\n");
#endif
    free(a);
    free(b);
    free(c);
    return 0;
}
