// test_tasks.c: the training tasks built on the models: the adding
// problem's data and trainer, the character RNN, and the bptt norms.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/adding.h"
#include "models/bptt.h"
#include "models/charrnn.h"

static void test_adding_batch(void **state)
{
    (void)state;
    enum { B = 50, T = 17 };
    float x[B * T * 2], y[B];
    Pcg r;
    pcg_seed(&r, 4);
    adding_batch(&r, B, T, x, y);
    for (int b = 0; b < B; b++) {
        int first = -1, second = -1, n = 0;
        float sum = 0.0f;
        for (int t = 0; t < T; t++) {
            float v = x[(b * T + t) * 2], m = x[(b * T + t) * 2 + 1];
            assert_true(v >= 0.0f && v < 1.0f);
            assert_true(m == 0.0f || m == 1.0f);
            if (m == 1.0f) {
                n++;
                sum += v;
                if (first < 0)
                    first = t;
                else
                    second = t;
            }
        }
        assert_int_equal(n, 2);
        assert_true(first < T / 2 && second >= T / 2);
        assert_true(y[b] == sum);
    }
}

// Two trainers from one seed take bit-identical steps.
static void test_adding_reproducible(void **state)
{
    (void)state;
    for (int model = 0; model < ADDING_MODEL_COUNT; model++) {
        AddingConfig c = adding_defaults((AddingModel)model);
        c.T = 12;
        c.hidden = 8;
        c.batch = 5;
        c.seed = 9;
        c.test_size = 20;
        AddingTrainer *a = adding_create(&c), *b = adding_create(&c);
        assert_non_null(a);
        assert_non_null(b);
        for (int s = 0; s < 20; s++)
            assert_true(adding_step(a) == adding_step(b));
        assert_true(adding_test_mse(a) == adding_test_mse(b));
        float *pa = a->lstm ? a->lstm->params : a->rnn->params;
        float *pb = b->lstm ? b->lstm->params : b->rnn->params;
        size_t n = a->lstm ? a->lstm->nparams : a->rnn->nparams;
        assert_memory_equal(pa, pb, n * sizeof(float));
        adding_destroy(a);
        adding_destroy(b);
    }
    adding_destroy(NULL);
    // Sizes beyond the limits give NULL, not a crash.
    AddingConfig c = adding_defaults(ADDING_LSTM);
    c.hidden = 100000;
    assert_null(adding_create(&c));
}

// A short LSTM run on a short sequence learns: the MSE falls well below the
// baseline of 1/6.
static void test_adding_learns(void **state)
{
    (void)state;
    AddingConfig c = adding_defaults(ADDING_LSTM);
    c.T = 10;
    c.hidden = 16;
    c.steps = 800;
    c.test_size = 256;
    AddingTrainer *tr = adding_create(&c);
    for (int s = 0; s < c.steps; s++)
        adding_step(tr);
    assert_true(adding_test_mse(tr) < 0.05);
    adding_destroy(tr);
}

static void test_charrnn(void **state)
{
    (void)state;
    static const char text[] = "hello world, hello gradlab. hello world, hello gradlab. ";
    size_t len = strlen(text);
    CharRnn *m = charrnn_create((const unsigned char *)text, len, 32, 10, 0.1f, 5.0f, 1);
    assert_non_null(m);
    assert_int_equal(m->V, 13);   // " ,.abdeghlorw"
    double first = 0.0, last = 0.0;
    for (int i = 0; i < 600; i++) {
        double loss = charrnn_step(m);
        if (i < 5)
            first += loss;
        if (i >= 595)
            last += loss;
    }
    // The text repeats: the loss falls far below the uniform guess.
    assert_true(first / 5 > 10 * log(13.0) * 0.8);
    assert_true(last < first / 4);
    charrnn_destroy(m);
    charrnn_destroy(NULL);
    assert_null(charrnn_create((const unsigned char *)"ab", 2, 8, 10, 0.1f, 5.0f, 1));
}

static void test_bptt(void **state)
{
    (void)state;
    double norms[40];
    BpttConfig c = {.lstm = false, .act = RNN_LINEAR, .init = BPTT_ORTHOGONAL, .scale = 0.9f,
                    .T = 40, .H = 16, .seed = 3};
    assert_true(bptt_grad_norms(&c, norms));
    // Linear and orthogonal times 0.9: each step back multiplies by 0.9.
    assert_true(fabs(norms[39] - 4.0) < 1e-5);
    for (int t = 0; t < 39; t++)
        assert_true(fabs(norms[t] / norms[t + 1] - 0.9) < 1e-4);
    c.lstm = true;
    c.act = RNN_TANH;
    assert_true(bptt_grad_norms(&c, norms));
    for (int t = 0; t < 40; t++)
        assert_true(isfinite(norms[t]) && norms[t] >= 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adding_batch),
        cmocka_unit_test(test_adding_reproducible),
        cmocka_unit_test(test_adding_learns),
        cmocka_unit_test(test_charrnn),
        cmocka_unit_test(test_bptt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
