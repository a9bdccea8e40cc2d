// test_init.c: weight initialisations: orthogonality and singular values
// (also at large sizes), the orthogonal init's distribution, identity,
// bounds and moments, and bit-for-bit reproducibility by seed and across
// the orthogonal init's code paths.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/init.h"
#include "models/lstm.h"
#include "models/rng.h"

// Largest |(A A^T or A^T A) - s^2 I| over the smaller Gram matrix of w (rows, cols).
static double gram_error(const float *w, int rows, int cols, double s)
{
    bool by_cols = rows >= cols;
    int k = by_cols ? cols : rows, len = by_cols ? rows : cols;
    double worst = 0.0;
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) {
            double d = 0.0;
            for (int i = 0; i < len; i++) {
                double x = by_cols ? w[(size_t)i * cols + a] : w[(size_t)a * cols + i];
                double y = by_cols ? w[(size_t)i * cols + b] : w[(size_t)b * cols + i];
                d += x * y;
            }
            double want = a == b ? s * s : 0.0;
            double e = fabs(d - want);
            if (!(e <= worst))   // a NaN counts as worst of all
                worst = e == e ? e : INFINITY;
        }
    return worst;
}

static void test_orthogonal(void **state)
{
    (void)state;
    const int shapes[][2] = {{1, 1}, {8, 8}, {64, 64}, {4 * 16, 16}, {5, 12}};
    const float scales[] = {1.0f, 0.5f, 1.7f};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        for (size_t j = 0; j < 3; j++) {
            int r = shapes[k][0], c = shapes[k][1];
            float *w = malloc((size_t)r * c * sizeof(float));
            Pcg rng;
            pcg_seed(&rng, 42 + k);
            assert_true(init_orthogonal(w, r, c, scales[j], &rng));
            // Every singular value equals s <=> the Gram matrix is s^2 I.
            double e = gram_error(w, r, c, scales[j]);
            assert_true(e < 1e-5 * scales[j] * scales[j] * 4);
            free(w);
        }
}

// Large and rectangular sizes, past the block size of the blocked update
// (and not multiples of any tile), at scale 1.
static void test_orthogonal_large(void **state)
{
    (void)state;
    const int shapes[][2] = {{512, 512}, {700, 300}, {300, 700}, {1, 513}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int r = shapes[k][0], c = shapes[k][1];
        float *w = malloc((size_t)r * c * sizeof(float));
        assert_non_null(w);
        Pcg rng;
        pcg_seed(&rng, 9 + k);
        assert_true(init_orthogonal(w, r, c, 1.0f, &rng));
        double e = gram_error(w, r, c, 1.0);
        print_message("orthogonal %dx%d: max |Q^T Q - I| = %.3g\n", r, c, e);
        assert_true(e < 1e-5);
        free(w);
    }
}

// Haar-distributed Q (n, n): E[tr Q] = 0 and Var[tr Q] = 1 for n >= 2, and
// every entry has mean 0 and mean square 1/n. Without the sign correction
// by diag(R), Q[0][0] would always be negative and tr Q biased.
static void test_orthogonal_haar(void **state)
{
    (void)state;
    enum { N = 6, DRAWS = 4000 };
    Pcg rng;
    pcg_seed(&rng, 2024);
    float q[N * N];
    double tr_sum = 0, tr_sq = 0, q00_sum = 0, sq_sum = 0;
    for (int d = 0; d < DRAWS; d++) {
        assert_true(init_orthogonal(q, N, N, 1.0f, &rng));
        double tr = 0;
        for (int i = 0; i < N; i++)
            tr += q[i * N + i];
        tr_sum += tr;
        tr_sq += tr * tr;
        q00_sum += q[0];
        for (int i = 0; i < N * N; i++)
            sq_sum += (double)q[i] * q[i];
    }
    double tr_mean = tr_sum / DRAWS, tr_var = tr_sq / DRAWS - tr_mean * tr_mean;
    print_message("tr Q: mean %.4f, variance %.4f; Q00 mean %.4f\n", tr_mean, tr_var,
                  q00_sum / DRAWS);
    // Standard errors: about 0.016 for the mean, 0.03 for the variance, 0.006 for Q00.
    assert_true(fabs(tr_mean) < 0.1);
    assert_true(fabs(tr_var - 1.0) < 0.15);
    assert_true(fabs(q00_sum / DRAWS) < 0.04);
    assert_true(fabs(sq_sum / ((double)DRAWS * N * N) - 1.0 / N) < 1e-6);
}

// Every code path of the orthogonal init's products (init_kernel_name;
// forced with GRADLAB_INIT_KERNEL) gives the same bits as the fastest one.
static void test_orthogonal_paths_agree(void **state)
{
    (void)state;
    const int shapes[][2] = {{300, 300}, {257, 100}, {5, 12}};
    const char *paths[] = {"scalar", "sse2", "avx"};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int r = shapes[k][0], c = shapes[k][1];
        size_t n = (size_t)r * c;
        float *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
        assert_true(want && got);
        Pcg rng;
        unsetenv("GRADLAB_INIT_KERNEL");
        const char *fastest = init_kernel_name();
        pcg_seed(&rng, 77);
        assert_true(init_orthogonal(want, r, c, 1.0f, &rng));
        for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
            setenv("GRADLAB_INIT_KERNEL", paths[p], 1);
            print_message("%dx%d: %s against %s\n", r, c, init_kernel_name(), fastest);
            pcg_seed(&rng, 77);
            assert_true(init_orthogonal(got, r, c, 1.0f, &rng));
            assert_memory_equal(want, got, n * sizeof(float));
        }
        unsetenv("GRADLAB_INIT_KERNEL");
        free(want);
        free(got);
    }
}

static void test_identity(void **state)
{
    (void)state;
    float w[12];
    init_identity(w, 3, 4, 0.5f);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            assert_true(w[r * 4 + c] == (r == c ? 0.5f : 0.0f));
}

static void test_uniform_normal(void **state)
{
    (void)state;
    enum { N = 100000 };
    float *w = malloc(N * sizeof(float));
    Pcg rng;
    pcg_seed(&rng, 7);
    init_uniform(w, N, 0.25f, &rng);
    double mean = 0, var = 0;
    for (int i = 0; i < N; i++) {
        assert_true(w[i] >= -0.25f && w[i] < 0.25f);
        mean += w[i];
    }
    mean /= N;
    for (int i = 0; i < N; i++)
        var += (w[i] - mean) * (w[i] - mean);
    var /= N;
    assert_true(fabs(mean) < 0.005);
    assert_true(fabs(var - 0.25 * 0.25 / 3) < 0.001);
    init_normal(w, N, 2.0f, &rng);
    mean = var = 0;
    for (int i = 0; i < N; i++)
        mean += w[i];
    mean /= N;
    for (int i = 0; i < N; i++)
        var += (w[i] - mean) * (w[i] - mean);
    var /= N;
    assert_true(fabs(mean) < 0.03);
    assert_true(fabs(sqrt(var) - 2.0) < 0.03);
    free(w);
}

static void test_reproducible(void **state)
{
    (void)state;
    Lstm *a = lstm_create(3, 8), *b = lstm_create(3, 8);
    Pcg r1, r2;
    pcg_seed(&r1, 123);
    pcg_seed(&r2, 123);
    lstm_init_uniform(a, &r1);
    lstm_init_uniform(b, &r2);
    assert_memory_equal(a->params, b->params, a->nparams * sizeof(float));
    float bound = 1.0f / sqrtf(8.0f);
    for (size_t i = 0; i < a->nparams; i++)
        assert_true(fabsf(a->params[i]) <= bound);
    pcg_seed(&r2, 124);
    lstm_init_uniform(b, &r2);
    assert_true(memcmp(a->params, b->params, a->nparams * sizeof(float)) != 0);
    float q1[16], q2[16];
    pcg_seed(&r1, 5);
    pcg_seed(&r2, 5);
    assert_true(init_orthogonal(q1, 4, 4, 1.0f, &r1));
    assert_true(init_orthogonal(q2, 4, 4, 1.0f, &r2));
    assert_memory_equal(q1, q2, sizeof q1);
    // pcg_below stays in range.
    for (int i = 0; i < 1000; i++)
        assert_true(pcg_below(&r1, 7) < 7);
    lstm_destroy(a);
    lstm_destroy(b);
    lstm_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orthogonal),
        cmocka_unit_test(test_orthogonal_large),
        cmocka_unit_test(test_orthogonal_haar),
        cmocka_unit_test(test_orthogonal_paths_agree),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_uniform_normal),
        cmocka_unit_test(test_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
