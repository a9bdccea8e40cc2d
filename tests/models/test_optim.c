// test_optim.c: optimizer steps and clipping on tiny arrays against values
// worked out by hand from PyTorch's update formulas.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/optim/optim.h"

#define assert_near(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

// Run `steps` steps of cfg on p = {1, -2} with the constant gradient {0.5, 0.1}.
static void run(OptimConfig cfg, int steps, float p[2])
{
    const float g[2] = {0.5f, 0.1f};
    p[0] = 1.0f;
    p[1] = -2.0f;
    Optim *o = optim_create(&cfg, 2);
    assert_non_null(o);
    for (int s = 0; s < steps; s++)
        optim_step(o, p, g);
    assert_int_equal(o->t, steps);
    optim_destroy(o);
}

static void test_sgd(void **state)
{
    (void)state;
    OptimConfig c = optim_defaults(OPTIM_SGD);
    c.lr = 0.1f;
    float p[2];
    run(c, 1, p);
    assert_near(p[0], 0.95, 1e-7);    // 1 - 0.1 * 0.5
    assert_near(p[1], -2.01, 1e-6);   // -2 - 0.1 * 0.1
    c.weight_decay = 0.5f;            // g + 0.5 p = 1.0, -0.9
    run(c, 1, p);
    assert_near(p[0], 0.9, 1e-7);
    assert_near(p[1], -1.91, 1e-6);
    optim_destroy(NULL);
}

static void test_momentum(void **state)
{
    (void)state;
    OptimConfig c = optim_defaults(OPTIM_MOMENTUM);
    c.lr = 0.1f;
    c.momentum = 0.9f;
    float p[2];
    // b1 = g, b2 = 1.9 g: p = 1 - 0.1 * 2.9 * 0.5
    run(c, 2, p);
    assert_near(p[0], 0.855, 1e-6);
    assert_near(p[1], -2.029, 1e-6);
    // Nesterov: d1 = g + 0.9 g = 1.9 g, d2 = g + 0.9 * 1.9 g = 2.71 g.
    c.nesterov = true;
    run(c, 2, p);
    assert_near(p[0], 1.0 - 0.1 * 4.61 * 0.5, 1e-6);
    assert_near(p[1], -2.0 - 0.1 * 4.61 * 0.1, 1e-6);
}

static void test_adagrad(void **state)
{
    (void)state;
    OptimConfig c = optim_defaults(OPTIM_ADAGRAD);
    c.lr = 0.1f;
    float p[2];
    // s = g^2 then 2 g^2: steps of 0.1 and 0.1 / sqrt(2) against sign(g).
    run(c, 2, p);
    assert_near(p[0], 1.0 - 0.1 - 0.1 / sqrt(2.0), 1e-6);
    assert_near(p[1], -2.0 - 0.1 - 0.1 / sqrt(2.0), 1e-6);
}

static void test_rmsprop(void **state)
{
    (void)state;
    OptimConfig c = optim_defaults(OPTIM_RMSPROP);
    c.lr = 0.01f;
    float p[2];
    // v = 0.01 g^2: step lr * g / (0.1 |g|) = 0.1 sign(g).
    run(c, 1, p);
    assert_near(p[0], 0.9, 1e-6);
    assert_near(p[1], -2.1, 1e-6);
    // Second step: v = 0.99 * 0.01 g^2 + 0.01 g^2 = 0.0199 g^2.
    run(c, 2, p);
    assert_near(p[0], 0.9 - 0.01 / sqrt(0.0199), 1e-5);
}

static void test_adam(void **state)
{
    (void)state;
    OptimConfig c = optim_defaults(OPTIM_ADAM);
    c.lr = 0.1f;
    float p[2];
    // With a constant gradient the bias-corrected m/sqrt(v) is exactly sign(g)
    // at every step, so each step moves lr (up to eps).
    run(c, 1, p);
    assert_near(p[0], 0.9, 1e-6);
    assert_near(p[1], -2.1, 1e-6);
    run(c, 3, p);
    assert_near(p[0], 0.7, 1e-5);
    assert_near(p[1], -2.3, 1e-5);
    // L2 weight decay enters the gradient: g0 = 0.5 + 0.1 * 1 = 0.6 > 0.
    c.weight_decay = 0.1f;
    run(c, 1, p);
    assert_near(p[0], 0.9, 1e-6);
    // AdamW: p *= 1 - lr * wd first, then the Adam step.
    c = optim_defaults(OPTIM_ADAMW);
    c.lr = 0.1f;
    c.weight_decay = 0.1f;
    run(c, 1, p);
    assert_near(p[0], 0.99 - 0.1, 1e-6);
    assert_near(p[1], -1.98 - 0.1, 1e-6);
}

static void test_defaults(void **state)
{
    (void)state;
    assert_true(optim_defaults(OPTIM_ADAM).lr == 1e-3f);
    assert_true(optim_defaults(OPTIM_ADAMW).weight_decay == 1e-2f);
    assert_true(optim_defaults(OPTIM_ADAGRAD).eps == 1e-10f);
    assert_true(optim_defaults(OPTIM_RMSPROP).alpha == 0.99f);
    assert_string_equal(optim_names[OPTIM_ADAMW], "adamw");
}

static void test_clip(void **state)
{
    (void)state;
    float g[2] = {3.0f, 4.0f};
    assert_near(clip_grad_norm(g, 2, 1.0f), 5.0, 1e-12);
    assert_near(g[0], 0.6, 1e-7);
    assert_near(g[1], 0.8, 1e-7);
    // At the threshold the scale is exactly 1; below it nothing changes.
    g[0] = 3.0f;
    g[1] = 4.0f;
    clip_grad_norm(g, 2, 5.0f);
    assert_true(g[0] == 3.0f && g[1] == 4.0f);
    clip_grad_norm(g, 2, 10.0f);
    assert_true(g[0] == 3.0f && g[1] == 4.0f);
    // All zeros: no division by zero.
    float z[3] = {0};
    assert_near(clip_grad_norm(z, 3, 0.0f), 0.0, 0.0);
    assert_true(z[0] == 0.0f);
    float e[4] = {-7.0f, -0.5f, 2.0f, 9.0f};
    clip_grad_value(e, 4, 5.0f);
    assert_true(e[0] == -5.0f && e[1] == -0.5f && e[2] == 2.0f && e[3] == 5.0f);
    assert_near(grad_norm(e, 4), sqrt(25 + 0.25 + 4 + 25), 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd),
        cmocka_unit_test(test_momentum),
        cmocka_unit_test(test_adagrad),
        cmocka_unit_test(test_rmsprop),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_clip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
