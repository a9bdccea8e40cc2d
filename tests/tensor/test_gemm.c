// test_gemm.c: gemm_f32 against a naive double-precision loop, over many
// shapes, both transposes, padded row strides, and alpha/beta values.
//
// meson runs this file three times, with GRADLAB_GEMM unset, =avx2 and
// =generic, so every micro-kernel this CPU can run is checked.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor/gemm.h"

static unsigned rng_state = 12345;

static float frand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

// C = alpha * op(A) op(B) + beta * C in double, the reference.
static void gemm_ref(bool ta, bool tb, int M, int N, int K, float alpha,
                     const float *A, int lda, const float *B, int ldb,
                     float beta, double *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[k * lda + i] : A[i * lda + k];
                double b = tb ? B[j * ldb + k] : B[k * ldb + j];
                acc += a * b;
            }
            double c = C[i * ldc + j];
            C[i * ldc + j] = alpha * acc + (beta == 0.0f ? 0.0 : beta * c);
        }
}

// Run one case; returns the largest error relative to sqrt(K) (the scale of
// float rounding in a K-term sum of values in [-1, 1]).
static void check_case(bool ta, bool tb, int M, int N, int K, int pad,
                       float alpha, float beta)
{
    int rows_a = ta ? K : M, cols_a = ta ? M : K;
    int rows_b = tb ? N : K, cols_b = tb ? K : N;
    int lda = cols_a + pad, ldb = cols_b + pad, ldc = N + pad;
    float *A = malloc(sizeof(float) * (size_t)(rows_a * lda + 1));
    float *B = malloc(sizeof(float) * (size_t)(rows_b * ldb + 1));
    float *C = malloc(sizeof(float) * (size_t)(M * ldc + 1));
    double *R = malloc(sizeof(double) * (size_t)(M * ldc + 1));
    assert_non_null(A); assert_non_null(B); assert_non_null(C); assert_non_null(R);
    for (int i = 0; i < rows_a * lda; i++) A[i] = frand();
    for (int i = 0; i < rows_b * ldb; i++) B[i] = frand();
    for (int i = 0; i < M * ldc; i++) {
        // beta == 0 must not read C: poison it with NaN.
        C[i] = beta == 0.0f ? NAN : frand();
        R[i] = C[i];
    }
    gemm_f32(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    gemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, R, ldc);
    double tol = 1e-5 * (K + 4) * (fabs(alpha) + 1) + 1e-5;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double err = fabs(C[i * ldc + j] - R[i * ldc + j]);
            if (!(err <= tol)) {
                fail_msg("%s ta=%d tb=%d M=%d N=%d K=%d pad=%d alpha=%g beta=%g: "
                         "C[%d][%d] = %g, want %g",
                         gemm_kernel_name(), ta, tb, M, N, K, pad,
                         (double)alpha, (double)beta, i, j,
                         (double)C[i * ldc + j], R[i * ldc + j]);
            }
        }
        // The padding past N is untouched.
        for (int j = N; j < ldc && i < M - 1; j++) {
            double want = R[i * ldc + j];
            double got = C[i * ldc + j];
            if (!(got == want || (isnan(got) && isnan(want))))
                fail_msg("padding C[%d][%d] was written", i, j);
        }
    }
    free(A); free(B); free(C); free(R);
}

static void test_small_shapes(void **state)
{
    (void)state;
    static const int dims[] = { 1, 2, 3, 5, 7, 13, 17, 33 };
    int nd = (int)(sizeof dims / sizeof dims[0]);
    for (int t = 0; t < 4; t++)
        for (int mi = 0; mi < nd; mi++)
            for (int ni = 0; ni < nd; ni++)
                for (int ki = 0; ki < nd; ki += 2)
                    check_case(t & 1, t & 2, dims[mi], dims[ni], dims[ki],
                               (mi + ni) % 3, 1.0f, 0.0f);
}

static void test_alpha_beta(void **state)
{
    (void)state;
    static const float ab[][2] = { {1, 0}, {1, 1}, {0.5f, -2}, {-1, 0.25f}, {2, 1} };
    for (int t = 0; t < 4; t++)
        for (int i = 0; i < 5; i++)
            check_case(t & 1, t & 2, 19, 37, 23, 1, ab[i][0], ab[i][1]);
}

// Sizes that cross every cache block boundary (KC, MC, NC) of every kernel.
static void test_large_shapes(void **state)
{
    (void)state;
    check_case(false, false, 150, 70, 300, 0, 1.0f, 0.0f);
    check_case(true, false, 145, 33, 513, 3, 1.0f, 1.0f);
    check_case(false, true, 29, 2100, 40, 0, 1.0f, 0.5f);
    check_case(true, true, 130, 67, 260, 2, -1.0f, 0.0f);
    // Few rows: B is read in place (unpacked) by kernels that can.
    check_case(false, false, 50, 2100, 600, 3, 1.0f, 1.0f);
    check_case(true, false, 96, 45, 300, 1, 0.5f, 0.0f);
    check_case(false, false, 97, 33, 17, 0, 1.0f, 0.0f);
    check_case(false, false, 200, 100, 250, 1, 1.0f, 0.5f);
    check_case(true, false, 256, 45, 256, 0, 1.0f, 0.0f);
}

// The shapes an LSTM step uses, forward and backward.
static void test_lstm_shapes(void **state)
{
    (void)state;
    check_case(false, false, 32, 512, 2, 0, 1.0f, 0.0f);    // x @ W_ih^T as (B,I)@(I,4H)
    check_case(false, true, 32, 512, 2, 0, 1.0f, 1.0f);     // x @ W_ih^T with W stored (4H, I)
    check_case(false, true, 32, 512, 128, 0, 1.0f, 1.0f);   // h @ W_hh^T
    check_case(false, false, 32, 128, 512, 0, 1.0f, 0.0f);  // dgates @ W_hh -> dh
    check_case(true, false, 512, 128, 32, 0, 1.0f, 1.0f);   // dgates^T @ h -> dW_hh
    check_case(true, false, 512, 2, 32, 0, 1.0f, 1.0f);     // dgates^T @ x -> dW_ih
    check_case(false, true, 640, 512, 2, 0, 1.0f, 1.0f);    // all steps: x (TB, I) @ W_ih^T
    check_case(true, false, 2, 512, 640, 0, 1.0f, 0.0f);    // x^T (I, TB) @ dpre -> dW_ih^T
    check_case(false, false, 640, 2, 512, 0, 1.0f, 0.0f);   // dpre (TB, G) @ W_ih -> dx
    check_case(true, false, 512, 128, 600, 0, 1.0f, 1.0f);  // dpre^T @ h -> dW_hh^T
    check_case(true, true, 300, 3, 50, 1, 1.0f, 0.5f);      // few columns, A transposed
    check_case(false, true, 4, 300, 70, 2, -1.0f, 1.0f);    // few rows
    check_case(false, false, 1, 300, 70, 2, 1.0f, 0.5f);    // one row: vector @ matrix
    check_case(true, false, 1, 130, 40, 1, 2.0f, 0.0f);     // one row, A transposed
    check_case(false, false, 2, 300, 70, 2, 1.0f, 0.5f);    // two rows
    check_case(true, false, 2, 513, 64, 1, -1.0f, 1.0f);    // two rows, A transposed
    check_case(false, true, 3, 50, 100, 1, 1.0f, 0.5f);     // few rows against B^T
    check_case(false, true, 40, 3, 100, 2, 1.0f, 1.0f);     // few columns of B^T
    check_case(false, false, 20, 40, 30, 1, 1.0f, 1.0f);    // 12 + 8 rows, 32 + 8 columns
    check_case(true, true, 7, 17, 9, 0, 1.0f, 0.0f);        // 7 rows, 16 + 1 columns
}

static void test_degenerate(void **state)
{
    (void)state;
    float C[6] = { 1, 2, 3, 4, 5, 6 };
    float A[1] = { 7 }, B[1] = { 8 };
    gemm_f32(false, false, 2, 3, 0, 1.0f, A, 1, B, 3, 2.0f, C, 3);   // K = 0: C *= beta
    assert_true(C[0] == 2.0f && C[5] == 12.0f);
    gemm_f32(false, false, 2, 3, 0, 1.0f, A, 1, B, 3, 0.0f, C, 3);   // beta 0: zeros
    assert_true(C[0] == 0.0f && C[5] == 0.0f);
    gemm_f32(false, false, 0, 3, 4, 1.0f, A, 1, B, 3, 0.0f, C, 3);   // M = 0: no-op
    gemm_f32(false, false, 1, 1, 1, 1.0f, A, 1, B, 1, 0.0f, C, 1);
    assert_true(C[0] == 56.0f);
}

int main(void)
{
    printf("# gemm kernel: %s\n", gemm_kernel_name());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_shapes),
        cmocka_unit_test(test_alpha_beta),
        cmocka_unit_test(test_large_shapes),
        cmocka_unit_test(test_lstm_shapes),
        cmocka_unit_test(test_degenerate),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    gemm_free_buffers();
    return failed;
}
