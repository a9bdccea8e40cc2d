// test_steering.c: lesson 11's driving world and models (models/steering.h):
// the world is seeded and well formed, the steering CNN's backward pass
// (conv, relu, max-pool, dense) agrees with central differences, and two
// trainers from one seed take identical steps.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/steering.h"

static void test_world(void **state)
{
    (void)state;
    enum { B = 3, T = 12 };
    float *f1 = malloc(sizeof(float) * B * T * STEER_PIX), *f2 = malloc(sizeof(float) * B * T * STEER_PIX);
    float a1[B * T], a2[B * T];
    unsigned char k1[B * T], k2[B * T], force[B * T];
    Pcg r1, r2;
    pcg_seed(&r1, 5);
    pcg_seed(&r2, 5);
    steer_world_batch(&r1, B, T, 0.45f, NULL, f1, a1, k1);
    steer_world_batch(&r2, B, T, 0.45f, NULL, f2, a2, k2);
    assert_memory_equal(f1, f2, sizeof(float) * B * T * STEER_PIX);
    assert_memory_equal(a1, a2, sizeof(a1));
    assert_memory_equal(k1, k2, sizeof(k1));
    for (size_t i = 0; i < (size_t)B * T * STEER_PIX; i++)
        assert_true(f1[i] >= 0.0f && f1[i] <= 1.0f);
    // Forced kinds: the same roads and angles (the stream does not depend
    // on the kinds), each frame degraded as asked; a dropped frame is black.
    for (int i = 0; i < B * T; i++)
        force[i] = (unsigned char)(i % STEER_KIND_COUNT);
    pcg_seed(&r2, 5);
    steer_world_batch(&r2, B, T, 0.45f, force, f2, a2, k2);
    assert_memory_equal(a1, a2, sizeof(a1));
    assert_memory_equal(k2, force, sizeof(force));
    for (int i = 0; i < B * T; i++) {
        double sum = 0;
        for (int p = 0; p < STEER_PIX; p++)
            sum += f2[(size_t)i * STEER_PIX + p];
        if (force[i] == STEER_DROPPED)
            assert_true(sum == 0.0);
        else
            assert_true(sum > 0.02 * STEER_PIX);   // even a frame all in shadow
    }
    // The angle moves smoothly along a drive and has a spread of about 1.
    double sq = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            sq += (double)a1[b * T + t] * a1[b * T + t];
            if (t)
                assert_true(fabsf(a1[b * T + t] - a1[b * T + t - 1]) < 0.5f);
        }
    assert_true(sq / (B * T) < 4.0);
    free(f1);
    free(f2);
}

// The loss of the CNN on frames against targets (N frames).
static double cnn_loss(TensorGraph *g, TensorBlock *cnn, const float *frames, const float *y, int N)
{
    tensor_graph_reset(g);
    SteerCnnOut o = steer_cnn_forward(g, cnn, frames, N);
    Tensor *loss = tensor_mse(g, o.angle, tensor_input2(g, N, 1, y));
    assert_non_null(loss);
    return loss->data[0];
}

// Every parameter tensor of the steering CNN: backprop against central
// differences on a few of its entries.
static void test_cnn_gradients(void **state)
{
    (void)state;
    enum { N = 3 };
    SteerConfig c = steer_defaults();
    c.cnn_steps = 1;
    c.lstm_steps = 0;
    c.test_size = 1;
    c.batch = 1;
    c.T = 3;
    SteerTrainer *tr = steer_create(&c);
    assert_non_null(tr);
    float *frames = malloc(sizeof(float) * N * STEER_PIX), y[N];
    unsigned char kinds[N], force[N] = {STEER_CLEAN, STEER_SHADOW, STEER_NOISE};
    Pcg r;
    pcg_seed(&r, 11);
    steer_world_batch(&r, 1, N, 0, force, frames, y, kinds);
    y[0] += 0.5f, y[1] -= 0.7f, y[2] += 1.0f;   // a loss well away from zero
    TensorGraph *g = tensor_graph_create(0);
    tensor_graph_reset(g);
    SteerCnnOut o = steer_cnn_forward(g, tr->cnn, frames, N);
    Tensor *loss = tensor_mse(g, o.angle, tensor_input2(g, N, 1, y));
    tensor_block_zero_grad(tr->cnn);
    assert_true(tensor_backward(g, loss));
    float *grad = malloc(tr->cnn->size * sizeof(float));
    memcpy(grad, tr->cnn->grad, tr->cnn->size * sizeof(float));
    int checked = 0, bad = 0;
    for (int k = 0; k < STEER_NPARAMS; k++) {
        Tensor *p = tr->cnn->t[k];
        for (int s = 0; s < 6; s++) {
            size_t i = pcg_below(&r, (uint32_t)p->size);
            size_t at = (size_t)(p->data - tr->cnn->data) + i;
            float keep = p->data[i], h = 1e-3f;
            p->data[i] = keep + h;
            double up = cnn_loss(g, tr->cnn, frames, y, N);
            p->data[i] = keep - h;
            double down = cnn_loss(g, tr->cnn, frames, y, N);
            p->data[i] = keep;
            double fd = (up - down) / (2.0 * h);
            checked++;
            // A relu or a max-pool may switch inside the step: allow a rare miss.
            if (!(fabs(fd - grad[at]) <= 2e-3 + 2e-2 * fabs(grad[at]))) {
                bad++;
                print_message("%s[%zu]: backprop %g, central difference %g\n", steer_param_names[k], i,
                              (double)grad[at], fd);
            }
        }
    }
    assert_true(checked == 6 * STEER_NPARAMS);
    assert_true(bad <= 1);
    free(grad);
    free(frames);
    tensor_graph_destroy(g);
    steer_destroy(tr);
}

// Two trainers from one seed take identical steps through both phases.
static void test_reproducible(void **state)
{
    (void)state;
    SteerConfig c = steer_defaults();
    c.cnn_steps = 3;
    c.lstm_steps = 2;
    c.test_size = 2;
    c.batch = 2;
    c.T = 5;
    SteerTrainer *a = steer_create(&c), *b = steer_create(&c);
    assert_non_null(a);
    assert_non_null(b);
    while (steer_phase(a) != STEER_DONE) {
        double la = steer_step(a), lb = steer_step(b);
        assert_true(isfinite(la));
        assert_true(la == lb);
    }
    assert_int_equal(steer_phase(b), STEER_DONE);
    assert_true(isfinite(a->test_cnn.mse) && a->test_cnn.mse == b->test_cnn.mse);
    assert_true(isfinite(a->test_lstm.mse) && a->test_lstm.mse == b->test_lstm.mse);
    assert_true(isnan(steer_step(a)));
    steer_destroy(a);
    steer_destroy(b);
    steer_destroy(NULL);
}

static void test_check(void **state)
{
    (void)state;
    char err[200];
    SteerConfig c = steer_defaults();
    assert_true(steer_check(&c, err, sizeof(err)));
    c.T = 1;
    assert_false(steer_check(&c, err, sizeof(err)));
    c = steer_defaults();
    c.batch = STEER_MAX_BATCH + 1;
    assert_false(steer_check(&c, err, sizeof(err)));
    c = steer_defaults();
    c.p_degrade = 1.5f;
    assert_false(steer_check(&c, err, sizeof(err)));
    assert_null(steer_create(&c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_world),
        cmocka_unit_test(test_cnn_gradients),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
