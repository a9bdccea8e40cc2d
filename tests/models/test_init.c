// test_init.c: weight initialisations: orthogonality and singular values,
// identity, bounds and moments, and bit-for-bit reproducibility by seed.
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
            if (fabs(d - want) > worst)
                worst = fabs(d - want);
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
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_uniform_normal),
        cmocka_unit_test(test_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
