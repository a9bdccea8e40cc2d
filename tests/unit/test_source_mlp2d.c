// test_source_mlp2d.c: the playground's model (src/models/playground.c) and
// the `mlp2d` source kind (lesson 5). The data sets are seeded (the same seed
// gives the same points, another seed others), balanced and shaped as named;
// the tensor engine's gradient of the loss agrees with central differences
// of a double-precision reference; the plain-C forward pass the pictures use
// agrees with the engine's; the batch gradient is the mean of the points'
// gradients; the source publishes its arrays with their shapes, binds its
// weights to a program so that the program's gradient is the engine's, and
// refuses bad options with a reason.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lesson_test.h"
#include "lessons/run.h"
#include "lessons/source_kinds.h"
#include "models/playground.h"

static void test_datasets_seeded(void **state)
{
    (void)state;
    enum { N = 200 };
    float a[2 * N], b[2 * N];
    int la[N], lb[N];
    for (int d = 0; d < PG_DATASET_COUNT; d++) {
        pg_dataset((PgDataset)d, N, 0.1, 7, a, la);
        pg_dataset((PgDataset)d, N, 0.1, 7, b, lb);
        assert_memory_equal(a, b, sizeof(a)); // the same seed: the same points, bit for bit
        assert_memory_equal(la, lb, sizeof(la));
        pg_dataset((PgDataset)d, N, 0.1, 8, b, lb);
        assert_memory_not_equal(a, b, sizeof(a));
        int ones = 0;
        for (int i = 0; i < N; i++) {
            ones += la[i];
            assert_true(la[i] == 0 || la[i] == 1);
        }
        assert_int_equal(ones, N / 2);               // balanced
        pg_dataset((PgDataset)d, N, 0.02, 7, a, la); // with little noise, every point is on the map
        for (int i = 0; i < 2 * N; i++)
            assert_true(fabsf(a[i]) < PG_RANGE);
    }
    // Without noise each set is what its name says.
    pg_dataset(PG_XOR, N, 0, 3, a, la);
    for (int i = 0; i < N; i++)
        assert_int_equal(la[i], a[2 * i] * a[2 * i + 1] > 0);
    pg_dataset(PG_CIRCLES, N, 0, 3, a, la);
    for (int i = 0; i < N; i++) {
        float r = hypotf(a[2 * i], a[2 * i + 1]);
        assert_true(la[i] ? r >= 0.8f - 1e-6f : r <= 0.5f + 1e-6f);
    }
}

// The loss in double precision at the block's current weights, parameter
// `moved` (an index into the block) moved by delta: a reference written from
// the formulas in playground.h, for finite differences.
static double reference_loss(const Playground *pg, size_t moved, double delta)
{
    size_t P = playground_param_count(pg);
    double *w = malloc(P * sizeof(double));
    for (size_t i = 0; i < P; i++)
        w[i] = pg->params->data[i] + (i == moved ? delta : 0);
    int L = pg->cfg.layers, U = pg->cfg.units;
    double sum = 0;
    for (int n = 0; n < pg->n; n++) {
        double h[PG_MAX_UNITS], next[PG_MAX_UNITS];
        int nin = 2;
        h[0] = pg->xy[2 * n], h[1] = pg->xy[2 * n + 1];
        for (int l = 0; l < L; l++) {
            const double *W = w + (pg->params->t[2 * l]->data - pg->params->data);
            const double *b = w + (pg->params->t[2 * l + 1]->data - pg->params->data);
            for (int j = 0; j < U; j++) {
                double a = b[j];
                for (int k = 0; k < nin; k++)
                    a += h[k] * W[k * U + j];
                next[j] = pg->cfg.act == PG_TANH      ? tanh(a)
                          : pg->cfg.act == PG_RELU    ? fmax(a, 0)
                          : pg->cfg.act == PG_SIGMOID ? 1 / (1 + exp(-a))
                                                      : a;
            }
            memcpy(h, next, sizeof(h));
            nin = U;
        }
        double z = w[P - 1];
        for (int k = 0; k < nin; k++)
            z += h[k] * w[(size_t)(pg->params->t[2 * L]->data - pg->params->data) + (size_t)k];
        sum += log1p(exp(z)) - pg->label[n] * z; // -log p(label) with p = sigmoid(z)
    }
    free(w);
    return sum / pg->n;
}

static Playground *make(PgDataset d, int layers, int units, PgActivation act, int n)
{
    float xy[2 * 400];
    int label[400];
    pg_dataset(d, n, 0.1, 5, xy, label);
    PgConfig cfg = {
        .layers = layers, .units = units, .act = act, .seed = 11, .opt = optim_defaults(OPTIM_ADAM)};
    cfg.opt.lr = 0.03f;
    Playground *pg = playground_create(&cfg, xy, label, n);
    assert_non_null(pg);
    return pg;
}

static void expect_gradient(PgDataset d, int layers, int units, PgActivation act)
{
    Playground *pg = make(d, layers, units, act, 60);
    for (int i = 0; i < 20; i++) // off the initial weights, so every part matters
        playground_step(pg);
    float loss = playground_loss_grad(pg);
    assert_true(fabs(loss - reference_loss(pg, SIZE_MAX, 0)) < 1e-5);
    size_t P = playground_param_count(pg);
    float *grad = malloc(P * sizeof(float));
    memcpy(grad, pg->params->grad, P * sizeof(float));
    double worst = 0;
    for (size_t i = 0; i < P; i++) {
        double h = 1e-6;
        double numeric = (reference_loss(pg, i, h) - reference_loss(pg, i, -h)) / (2 * h);
        worst = fmax(worst, fabs(numeric - grad[i]) / fmax(1, fabs(numeric)));
    }
    if (worst > 1e-4)
        fail_msg("%s layers %d units %d %s: gradient off by %g", pg_dataset_names[d], layers, units,
                 pg_activation_names[act], worst);
    free(grad);
    playground_destroy(pg);
}

static void test_gradient(void **state)
{
    (void)state;
    expect_gradient(PG_XOR, 0, 1, PG_TANH);
    expect_gradient(PG_XOR, 1, 3, PG_TANH);
    expect_gradient(PG_SPIRAL, 2, 5, PG_TANH);
    expect_gradient(PG_MOONS, 2, 4, PG_SIGMOID);
    expect_gradient(PG_CIRCLES, 1, 6, PG_LINEAR);
    expect_gradient(PG_CIRCLES, 3, 4, PG_RELU);
}

// The plain-C forward pass agrees with the engine's (each point's loss is
// -log p(label)); the batch gradient is the mean of the points' gradients.
static void test_forward_and_point_gradients(void **state)
{
    (void)state;
    Playground *pg = make(PG_SPIRAL, 2, 8, PG_TANH, 50);
    for (int i = 0; i < 30; i++)
        playground_step(pg);
    size_t P = playground_param_count(pg);
    float p[50], *g = malloc(P * sizeof(float));
    double *mean = calloc(P, sizeof(double));
    assert_true(playground_forward(pg, pg->xy, 50, p, NULL));
    for (int i = 0; i < 50; i++) {
        float loss = playground_point_grad(pg, i, g);
        double engine_p = pg->label[i] ? exp(-loss) : 1 - exp(-loss);
        assert_true(fabs(engine_p - p[i]) < 2e-5);
        for (size_t k = 0; k < P; k++)
            mean[k] += g[k] / 50.0;
    }
    playground_loss_grad(pg);
    for (size_t k = 0; k < P; k++)
        assert_true(fabs(mean[k] - pg->params->grad[k]) < 1e-5);
    assert_true(isnan(playground_point_grad(pg, 50, g)));
    free(g);
    free(mean);
    playground_destroy(pg);
}

// XOR: no hidden layer can not; one can.
static void test_xor(void **state)
{
    (void)state;
    Playground *flat = make(PG_XOR, 0, 1, PG_TANH, 200), *bent = make(PG_XOR, 1, 4, PG_TANH, 200);
    for (int i = 0; i < 500; i++)
        playground_step(flat), playground_step(bent);
    assert_true(playground_accuracy(flat) < 0.7);
    assert_true(playground_accuracy(bent) > 0.95);
    playground_destroy(flat);
    playground_destroy(bent);
}

// ---------------------------------------------------------------------------
// The source

#define HEAD "gradlab-lesson: 2\ntitle: T\nparam: pt = 3 range 0 199 step 1\n"

static const RunArray *array(const Run *r, const char *name, const double **data)
{
    const RunArray *a = run_arrays_find(run_arrays(r), name, data);
    if (!a)
        fail_msg("no array '%s'", name);
    return a;
}

// A headless run of l, at step 0 with its sources run to their counts.
static Run *settled(Lesson *l)
{
    char err[200];
    Run *r = run_create(l, false, err, sizeof(err));
    if (!r)
        fail_msg("run_create: %s", err);
    run_goto(r, 0);
    run_settle(r);
    return r;
}

static void test_publishes(void **state)
{
    (void)state;
    Lesson *l = lesson_test_parse(HEAD "source: s mlp2d dataset moons layers 2 units 5 limit 60\n"
                                       "program:\n    a = 1\n    f = a * 2\nstep: intro\nrun: s 40\n");
    Run *r = settled(l);
    const double *d;
    const RunArray *a = array(r, "s.loss", &d);
    assert_int_equal(a->shape[0], 41);
    assert_true(d[40] < d[0]);
    a = array(r, "s.accuracy", &d);
    assert_int_equal(a->shape[0], 41);
    a = array(r, "s.boundary", &d);
    assert_int_equal(a->ndim, 2);
    assert_int_equal(a->shape[0], 100);
    assert_int_equal(a->shape[1], 100);
    for (int i = 0; i < 100 * 100; i++)
        assert_true(d[i] >= 0 && d[i] <= 1);
    a = array(r, "s.neurons", &d);
    assert_int_equal(a->shape[0], 10);
    assert_int_equal(a->shape[1], 32 * 32);
    a = array(r, "s.points", &d);
    assert_int_equal(a->shape[0], 200);
    assert_int_equal(a->shape[1], 3);
    a = array(r, "s.range", &d);
    assert_int_equal(a->shape[0], 4);
    a = array(r, "s.steps", &d);
    assert_true(*d == 40);
    assert_null(run_arrays_find(run_arrays(r), "s.bo", &d)); // not bound
    run_destroy(r);
    lesson_destroy(l);
}

// Bound to a program that writes the 2-2-1 network out: the program's
// gradient at the chosen point is the engine's (pgrad), for every weight.
// A boundary grid coarser than the neurons' grid (grid 20, ngrid 32): the
// points buffer must hold the larger one (it once held only the boundary's).
static void test_coarse_boundary(void **state)
{
    (void)state;
    Lesson *l =
        lesson_test_parse(HEAD "source: s mlp2d dataset xor layers 1 units 3 grid 20 ngrid 32 limit 5\n"
                          "program:\n    a = 1\n    f = a * 2\nstep: intro\nrun: s 5\n");
    Run *r = settled(l);
    const double *d;
    const RunArray *a = array(r, "s.boundary", &d);
    assert_int_equal(a->shape[0], 20);
    a = array(r, "s.neurons", &d);
    assert_int_equal(a->shape[0], 3);
    assert_int_equal(a->shape[1], 32 * 32);
    run_destroy(r);
    lesson_destroy(l);
}

static void test_bind(void **state)
{
    (void)state;
    Lesson *l = lesson_test_parse(
        HEAD "source: s mlp2d dataset xor layers 1 units 2 limit 50 bind on point {pt}\n"
             "program:\n"
             "    x = [0.5, 0.5]\n    y = 1\n"
             "    W1 = [[0.1, 0.2], [0.3, 0.4]]\n    b1 = [0, 0]\n    wo = [0.1, 0.2]\n    bo = 0\n"
             "    for j in 0..1\n"
             "        h[j] = tanh(x[0] * W1[0][j] + x[1] * W1[1][j] + b1[j])\n"
             "    end\n"
             "    z = h[0] * wo[0] + h[1] * wo[1] + bo\n"
             "    p = sigmoid(z)\n"
             "    loss = -(y * log(p) + (1 - y) * log(1 - p))\n"
             "step: done\nrun: s 50\n");
    char err[200];
    Run *r = run_create(l, false, err, sizeof(err));
    assert_non_null(r);
    run_goto(r, 0);
    run_settle(r);
    const double *d, *pgrad, *v;
    array(r, "s.point", &d);
    assert_true(*d == 3);
    array(r, "s.pgrad", &pgrad);
    // Block order: W1 (2, 2), b1 (2), wo (2), bo.
    const char *names[] = {"W1[0][0]", "W1[0][1]", "W1[1][0]", "W1[1][1]", "b1[0]",
                           "b1[1]",    "wo[0]",    "wo[1]",    "bo"};
    for (int k = 0; k < 9; k++) {
        const Value *val = program_lookup(l->program, run_graph(r), names[k]);
        char name[64];
        snprintf(name, sizeof(name), "s.%s", names[k]);
        array(r, name, &v);
        assert_non_null(val);
        assert_true(fabs(val->data - *v) < 1e-9); // the trained weight reached the program
        if (!(fabs(val->grad - pgrad[k]) <= 1e-5 * fmax(1, fabs(pgrad[k]))))
            fail_msg("%s: program %g, engine %g", names[k], val->grad, pgrad[k]);
    }
    const Value *loss = run_output(r);
    array(r, "s.point_loss", &d);
    assert_true(fabs(loss->data - *d) < 1e-5);
    // Moving the point's parameter moves the point.
    run_set_param(r, run_param_find(r, "pt"), 10);
    run_settle(r);
    array(r, "s.point", &d);
    assert_true(*d == 10);
    run_destroy(r);
    lesson_destroy(l);
}

static void expect_refused(const char *source_line, const char *needle)
{
    char text[1024];
    snprintf(text, sizeof(text), HEAD "source: s %s\nprogram:\n    a = 1\n    f = a * 2\nstep: intro\n",
             source_line);
    Lesson *l = lesson_test_parse(text);
    char err[200];
    Run *r = run_create(l, false, err, sizeof(err));
    assert_non_null(r);
    run_settle(r);
    const char *why = run_source_status(r, 0);
    if (!why || !strstr(why, needle))
        fail_msg("'%s': status \"%s\" lacks \"%s\"", source_line, why ? why : "(none)", needle);
    run_destroy(r);
    lesson_destroy(l);
}

static void test_bad_options(void **state)
{
    (void)state;
    expect_refused("mlp2d dataset swirl", "moons circles xor spiral");
    expect_refused("mlp2d activation swish", "tanh relu sigmoid linear");
    expect_refused("mlp2d optimizer lbfgs", "sgd momentum");
    expect_refused("mlp2d layers 7", "layers");
    expect_refused("mlp2d units 2.5", "whole");
    expect_refused("mlp2d layers 2 units 16 bind on", "at most 100");
    expect_refused("mlp2d bind maybe", "on or off");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datasets_seeded),
        cmocka_unit_test(test_gradient),
        cmocka_unit_test(test_forward_and_point_gradients),
        cmocka_unit_test(test_xor),
        cmocka_unit_test(test_publishes),
        cmocka_unit_test(test_coarse_boundary),
        cmocka_unit_test(test_bind),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
