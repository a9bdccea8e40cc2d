// test_tensor.c: every tensor op's gradient against central finite
// differences, plus forward values, gradient semantics, and errors instead
// of aborts: shape mismatches, ids out of range, sizes that overflow, the
// graph's memory limit, and every allocation failing in turn (fault
// injection with tensor_fail_allocs_after).
//
// The gradient check: for an op's output y and a fixed random weight w of the
// same shape, L = sum(w * y) is accumulated in double. The analytic gradient
// comes from tensor_backward on the graph sum(y * w); the numeric one from
// (L(x + eps) - L(x - eps)) / (2 eps) per input element, in double.
// Inputs are placed away from kinks (relu at 0, ties in max-pool) so the
// finite difference is valid. One more test builds a small MLP in both this
// engine and the scalar engine (value.h, double precision) and compares.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor/tensor.h"
#include "engine/value.h"

// ---------------------------------------------------------------------------
// Helpers

static unsigned rng = 2024;

static float frand(float lo, float hi)
{
    rng = rng * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)((rng >> 8) & 0xffffff) / 16777216.0f;
}

// A long-lived tensor with requires_grad, filled uniformly in [lo, hi).
static Tensor *param(int ndim, const int *shape, float lo, float hi)
{
    Tensor *t = tensor_create(ndim, shape, true);
    assert_non_null(t);
    for (size_t i = 0; i < t->size; i++)
        t->data[i] = frand(lo, hi);
    return t;
}

#define P(...) param((int)(sizeof((int[]){ __VA_ARGS__ }) / sizeof(int)), (int[]){ __VA_ARGS__ }, -1.0f, 1.0f)

// Move every element at least `gap` away from 0.
static void away_from_zero(Tensor *t, float gap)
{
    for (size_t i = 0; i < t->size; i++)
        if (fabsf(t->data[i]) < gap)
            t->data[i] = t->data[i] < 0 ? t->data[i] - gap : t->data[i] + gap;
}

typedef Tensor *(*BuildFn)(TensorGraph *g, Tensor **in, const void *ctx);

static double weighted_sum(const Tensor *y, const float *w)
{
    double s = 0;
    for (size_t i = 0; i < y->size; i++)
        s += (double)w[i] * y->data[i];
    return s;
}

// Check d(sum(w * build(in)))/d(in[k]) for every input with requires_grad.
static void gradcheck(const char *what, int nin, Tensor **in, BuildFn build,
                      const void *ctx, double eps, double atol, double rtol)
{
    TensorGraph *g = tensor_graph_create(0);
    assert_non_null(g);
    Tensor *y = build(g, in, ctx);
    float *w = malloc(y->size * sizeof(float));
    for (size_t i = 0; i < y->size; i++)
        w[i] = frand(-1.0f, 1.0f);

    // Analytic.
    for (int k = 0; k < nin; k++)
        tensor_zero_grad(in[k]);
    Tensor *wt = tensor_input(g, y->ndim, y->shape, w);
    Tensor *loss = tensor_sum(g, tensor_mul(g, y, wt));
    tensor_backward(g, loss);

    // Numeric, element by element.
    int bad = 0;
    for (int k = 0; k < nin; k++) {
        Tensor *x = in[k];
        if (!x->requires_grad)
            continue;
        for (size_t i = 0; i < x->size; i++) {
            float keep = x->data[i];
            x->data[i] = (float)(keep + eps);
            double hp = (double)x->data[i];
            tensor_graph_reset(g);
            double lp = weighted_sum(build(g, in, ctx), w);
            x->data[i] = (float)(keep - eps);
            double hm = (double)x->data[i];
            tensor_graph_reset(g);
            double lm = weighted_sum(build(g, in, ctx), w);
            x->data[i] = keep;
            double num = (lp - lm) / (hp - hm);
            double ana = x->grad[i];
            if (!(fabs(num - ana) <= atol + rtol * fabs(num))) {
                if (bad < 10)
                    print_error("%s: input %d element %zu: analytic %.6g, numeric %.6g\n",
                                what, k, i, ana, num);
                bad++;
            }
        }
    }
    free(w);
    tensor_graph_destroy(g);
    if (bad)
        fail_msg("%s: %d gradient elements differ", what, bad);
}

static void destroy_all(int n, Tensor **t)
{
    for (int i = 0; i < n; i++)
        tensor_destroy(t[i]);
}

#define CHECK(what, BUILD, ctx, ...)                                          \
    do {                                                                      \
        Tensor *in_[] = { __VA_ARGS__ };                                      \
        int n_ = (int)(sizeof in_ / sizeof in_[0]);                           \
        gradcheck(what, n_, in_, BUILD, ctx, 1e-3, 2e-3, 1e-2);               \
        destroy_all(n_, in_);                                                 \
    } while (0)

// ---------------------------------------------------------------------------
// Builders, one per op under test: in[] are the inputs, ctx any constants.

static Tensor *b_matmul(TensorGraph *g, Tensor **in, const void *c) { (void)c; return tensor_matmul(g, in[0], in[1]); }
static Tensor *b_add(TensorGraph *g, Tensor **in, const void *c)    { (void)c; return tensor_add(g, in[0], in[1]); }
static Tensor *b_sub(TensorGraph *g, Tensor **in, const void *c)    { (void)c; return tensor_sub(g, in[0], in[1]); }
static Tensor *b_mul(TensorGraph *g, Tensor **in, const void *c)    { (void)c; return tensor_mul(g, in[0], in[1]); }
static Tensor *b_bias(TensorGraph *g, Tensor **in, const void *c)   { (void)c; return tensor_bias_add(g, in[0], in[1]); }
static Tensor *b_scale(TensorGraph *g, Tensor **in, const void *c)  { (void)c; return tensor_scale(g, in[0], -2.5f); }
static Tensor *b_tanh(TensorGraph *g, Tensor **in, const void *c)   { (void)c; return tensor_tanh(g, in[0]); }
static Tensor *b_sigm(TensorGraph *g, Tensor **in, const void *c)   { (void)c; return tensor_sigmoid(g, in[0]); }
static Tensor *b_relu(TensorGraph *g, Tensor **in, const void *c)   { (void)c; return tensor_relu(g, in[0]); }
static Tensor *b_exp(TensorGraph *g, Tensor **in, const void *c)    { (void)c; return tensor_exp(g, in[0]); }
static Tensor *b_log(TensorGraph *g, Tensor **in, const void *c)    { (void)c; return tensor_log(g, in[0]); }
static Tensor *b_softmax(TensorGraph *g, Tensor **in, const void *c) { (void)c; return tensor_softmax(g, in[0]); }
static Tensor *b_lsm(TensorGraph *g, Tensor **in, const void *c)    { (void)c; return tensor_log_softmax(g, in[0]); }
static Tensor *b_nll(TensorGraph *g, Tensor **in, const void *c)    { return tensor_nll(g, in[0], c); }
static Tensor *b_xent(TensorGraph *g, Tensor **in, const void *c)   { return tensor_cross_entropy(g, in[0], c); }
static Tensor *b_mse(TensorGraph *g, Tensor **in, const void *c)    { (void)c; return tensor_mse(g, in[0], in[1]); }
static Tensor *b_sum(TensorGraph *g, Tensor **in, const void *c)    { (void)c; return tensor_sum(g, in[0]); }
static Tensor *b_mean(TensorGraph *g, Tensor **in, const void *c)   { (void)c; return tensor_mean(g, in[0]); }

typedef struct IntArgs { int v[4]; } IntArgs;

static Tensor *b_slice(TensorGraph *g, Tensor **in, const void *c)
{
    const IntArgs *a = c;
    return tensor_slice(g, in[0], a->v[0], a->v[1], a->v[2]);
}

static Tensor *b_concat(TensorGraph *g, Tensor **in, const void *c)
{
    const IntArgs *a = c;
    return tensor_concat(g, a->v[0], in, a->v[1]);
}

static Tensor *b_transpose(TensorGraph *g, Tensor **in, const void *c)
{
    const IntArgs *a = c;
    return tensor_transpose(g, in[0], a->v[0], a->v[1]);
}

static Tensor *b_reshape(TensorGraph *g, Tensor **in, const void *c)
{
    (void)c;
    // (2, 3, 4) -> (6, 4), then tanh so the reshape is not the last op.
    return tensor_tanh(g, tensor_reshape(g, in[0], 2, (int[]){ 6, 4 }));
}

static Tensor *b_embedding(TensorGraph *g, Tensor **in, const void *c)
{
    const IntArgs *a = c;
    return tensor_embedding(g, in[0], a->v, 4);
}

static Tensor *b_conv(TensorGraph *g, Tensor **in, const void *c)
{
    const IntArgs *a = c;   // { stride, pad, has_bias }
    return tensor_conv2d(g, in[0], in[1], a->v[2] ? in[2] : NULL, a->v[0], a->v[1]);
}

static Tensor *b_pool(TensorGraph *g, Tensor **in, const void *c)
{
    const IntArgs *a = c;   // { k, stride }
    return tensor_maxpool2d(g, in[0], a->v[0], a->v[1]);
}

// A two-layer network with every kind of op feeding into one loss.
static Tensor *b_mlp(TensorGraph *g, Tensor **in, const void *c)
{
    // in: x (4, 3), w1 (3, 5), b1 (5), w2 (5, 2)
    Tensor *h = tensor_tanh(g, tensor_bias_add(g, tensor_matmul(g, in[0], in[1]), in[2]));   // (4, 5)
    Tensor *logits = tensor_matmul(g, h, in[3]);                                             // (4, 2)
    return tensor_cross_entropy(g, logits, c);
}

// ---------------------------------------------------------------------------
// Gradient tests

static void test_grad_matmul(void **state)
{
    (void)state;
    CHECK("matmul 2d", b_matmul, NULL, P(3, 4), P(4, 5));
    CHECK("matmul 3d", b_matmul, NULL, P(2, 3, 4), P(4, 2));
    CHECK("matmul k=1", b_matmul, NULL, P(5, 1), P(1, 3));
}

static void test_grad_broadcast(void **state)
{
    (void)state;
    CHECK("add same", b_add, NULL, P(2, 3), P(2, 3));
    CHECK("add (2,3,4)+(3,1)", b_add, NULL, P(2, 3, 4), P(3, 1));
    CHECK("add (1)+(2,2,2,3)", b_add, NULL, P(1), P(2, 2, 2, 3));
    CHECK("sub (2,1,4)-(3,4)", b_sub, NULL, P(2, 1, 4), P(3, 4));
    CHECK("sub (3)-(2,3)", b_sub, NULL, P(3), P(2, 3));
    CHECK("mul (2,3)*(3)", b_mul, NULL, P(2, 3), P(3));
    CHECK("mul (4,1)*(1,5)", b_mul, NULL, P(4, 1), P(1, 5));
    CHECK("bias_add", b_bias, NULL, P(2, 3, 4), P(4));
    CHECK("scale", b_scale, NULL, P(3, 2));
}

static void test_grad_unary(void **state)
{
    (void)state;
    CHECK("tanh", b_tanh, NULL, P(3, 4));
    CHECK("sigmoid", b_sigm, NULL, P(2, 2, 3));
    Tensor *x = P(4, 5);
    away_from_zero(x, 0.05f);
    CHECK("relu", b_relu, NULL, x);
    CHECK("exp", b_exp, NULL, P(3, 3));
    CHECK("log", b_log, NULL, param(2, (int[]){ 3, 3 }, 0.5f, 2.0f));
}

static void test_grad_softmax_losses(void **state)
{
    (void)state;
    static const int targets[4] = { 2, 0, 4, 1 };
    CHECK("softmax", b_softmax, NULL, P(3, 5));
    CHECK("log_softmax", b_lsm, NULL, P(2, 3, 4));
    Tensor *logp = P(4, 5);
    logp->requires_grad = true;
    CHECK("nll", b_nll, targets, logp);
    CHECK("cross_entropy", b_xent, targets, P(4, 5));
    CHECK("mse", b_mse, NULL, P(3, 4), P(3, 4));
    CHECK("sum", b_sum, NULL, P(2, 3, 2));
    CHECK("mean", b_mean, NULL, P(5, 2));
}

static void test_grad_shape_ops(void **state)
{
    (void)state;
    IntArgs s0 = { { 0, 1, 2, 0 } }, s1 = { { 1, 2, 4, 0 } }, s2 = { { 2, 0, 1, 0 } };
    CHECK("slice axis 0", b_slice, &s0, P(4, 3));
    CHECK("slice axis 1 (gates)", b_slice, &s1, P(3, 8));
    CHECK("slice axis 2", b_slice, &s2, P(2, 3, 2));
    IntArgs c1 = { { 3, 1, 0, 0 } }, c0 = { { 2, 0, 0, 0 } };
    CHECK("concat axis 1", b_concat, &c1, P(2, 3), P(2, 1), P(2, 2));
    CHECK("concat axis 0", b_concat, &c0, P(1, 2, 3), P(2, 2, 3));
    IntArgs t02 = { { 0, 2, 0, 0 } }, t01 = { { 0, 1, 0, 0 } };
    CHECK("transpose 0,2", b_transpose, &t02, P(2, 3, 4));
    CHECK("transpose 2d", b_transpose, &t01, P(3, 5));
    CHECK("reshape", b_reshape, NULL, P(2, 3, 4));
    IntArgs ids = { { 2, 0, 2, 4 } };   // id 2 twice: its row gets both gradients
    CHECK("embedding", b_embedding, &ids, P(5, 3));
}

static void test_grad_conv_pool(void **state)
{
    (void)state;
    IntArgs same = { { 1, 1, 1, 0 } }, strided = { { 2, 0, 0, 0 } }, pad2 = { { 2, 2, 1, 0 } };
    CHECK("conv2d stride 1 pad 1 bias", b_conv, &same, P(2, 3, 5, 4), P(4, 3, 3, 3), P(4));
    CHECK("conv2d stride 2 pad 0", b_conv, &strided, P(1, 2, 7, 6), P(3, 2, 3, 2));
    CHECK("conv2d stride 2 pad 2 bias", b_conv, &pad2, P(2, 1, 4, 4), P(2, 1, 2, 3), P(2));
    // More maps than CONV_DIRECT_MAX_F: the im2col + gemm path.
    CHECK("conv2d 40 maps stride 1 pad 1 bias", b_conv, &same, P(2, 2, 4, 3), P(40, 2, 3, 3), P(40));
    CHECK("conv2d 40 maps stride 2 pad 2 bias", b_conv, &pad2, P(3, 1, 5, 4), P(40, 1, 2, 3), P(40));

    // Max-pool: distinct values 0.05 apart, shuffled, so no window has a tie.
    int shape[4] = { 2, 2, 6, 6 };
    Tensor *x = tensor_create(4, shape, true);
    for (size_t i = 0; i < x->size; i++)
        x->data[i] = 0.05f * (float)i - 3.0f;
    for (size_t i = x->size - 1; i > 0; i--) {
        size_t j = (size_t)frand(0.0f, (float)(i + 1));
        float t = x->data[i]; x->data[i] = x->data[j]; x->data[j] = t;
    }
    IntArgs k2 = { { 2, 2, 0, 0 } }, k3 = { { 3, 2, 0, 0 } };
    Tensor *ins[1] = { x };
    gradcheck("maxpool k2 s2", 1, ins, b_pool, &k2, 1e-3, 2e-3, 1e-2);
    gradcheck("maxpool k3 s2 (overlapping)", 1, ins, b_pool, &k3, 1e-3, 2e-3, 1e-2);
    tensor_destroy(x);
}

static void test_grad_mlp(void **state)
{
    (void)state;
    static const int targets[4] = { 1, 0, 0, 1 };
    CHECK("mlp", b_mlp, targets, P(4, 3), P(3, 5), P(5), P(5, 2));
}

// ---------------------------------------------------------------------------
// The same network in the scalar engine: loss = mean((tanh(x@w1 + b1)@w2 - y)^2)

static void test_against_scalar_engine(void **state)
{
    (void)state;
    enum { B = 3, I = 2, H = 4 };
    Tensor *x = P(B, I), *w1 = P(I, H), *b1 = P(H), *w2 = P(H, 1), *y = P(B, 1);
    TensorGraph *g = tensor_graph_create(0);
    Tensor *h = tensor_tanh(g, tensor_bias_add(g, tensor_matmul(g, x, w1), b1));   // (B, H)
    Tensor *loss = tensor_mse(g, tensor_matmul(g, h, w2), y);                      // ()
    tensor_backward(g, loss);

    Graph *sg = graph_create(0);
    Value *vx[B][I], *vw1[I][H], *vb1[H], *vw2[H], *vy[B];
    for (int i = 0; i < B; i++) for (int j = 0; j < I; j++) vx[i][j] = value_input(sg, x->data[i * I + j], NULL);
    for (int i = 0; i < I; i++) for (int j = 0; j < H; j++) vw1[i][j] = value_input(sg, w1->data[i * H + j], NULL);
    for (int j = 0; j < H; j++) vb1[j] = value_input(sg, b1->data[j], NULL);
    for (int j = 0; j < H; j++) vw2[j] = value_input(sg, w2->data[j], NULL);
    for (int i = 0; i < B; i++) vy[i] = value_input(sg, y->data[i], NULL);
    Value *acc = value_const(sg, 0.0);
    for (int i = 0; i < B; i++) {
        Value *out = value_const(sg, 0.0);
        for (int j = 0; j < H; j++) {
            Value *pre = vb1[j];
            for (int k = 0; k < I; k++)
                pre = value_add(sg, pre, value_mul(sg, vx[i][k], vw1[k][j]));
            out = value_add(sg, out, value_mul(sg, value_tanh(sg, pre), vw2[j]));
        }
        acc = value_add(sg, acc, value_pow(sg, value_sub(sg, out, vy[i]), 2.0));
    }
    Value *vloss = value_mul(sg, acc, value_const(sg, 1.0 / B));
    assert_non_null(vloss);
    graph_zero_grad(sg);
    graph_backward(sg, vloss);

    assert_float_equal(loss->data[0], vloss->data, 1e-5);
    for (int i = 0; i < B; i++) for (int j = 0; j < I; j++) {
        assert_float_equal(x->grad[i * I + j], vx[i][j]->grad, 1e-5);
    }
    for (int i = 0; i < I; i++) for (int j = 0; j < H; j++)
        assert_float_equal(w1->grad[i * H + j], vw1[i][j]->grad, 1e-5);
    for (int j = 0; j < H; j++) {
        assert_float_equal(b1->grad[j], vb1[j]->grad, 1e-5);
        assert_float_equal(w2->grad[j], vw2[j]->grad, 1e-5);
    }
    for (int i = 0; i < B; i++)
        assert_float_equal(y->grad[i], vy[i]->grad, 1e-5);
    graph_destroy(sg);
    tensor_graph_destroy(g);
    Tensor *all[] = { x, w1, b1, w2, y };
    destroy_all(5, all);
}

// ---------------------------------------------------------------------------
// Forward values and semantics

static void test_forward_values(void **state)
{
    (void)state;
    TensorGraph *g = tensor_graph_create(0);
    // matmul
    Tensor *a = tensor_input2(g, 2, 3, (float[]){ 1, 2, 3, 4, 5, 6 });
    Tensor *b = tensor_input2(g, 3, 2, (float[]){ 7, 8, 9, 10, 11, 12 });
    Tensor *c = tensor_matmul(g, a, b);
    assert_int_equal(c->ndim, 2);
    assert_int_equal(c->shape[0], 2);
    assert_int_equal(c->shape[1], 2);
    assert_float_equal(c->data[0], 58, 0);
    assert_float_equal(c->data[3], 154, 0);
    // softmax rows sum to 1; log_softmax is its log
    Tensor *s = tensor_softmax(g, a);
    Tensor *ls = tensor_log_softmax(g, a);
    for (int r = 0; r < 2; r++) {
        assert_float_equal(s->data[r * 3] + s->data[r * 3 + 1] + s->data[r * 3 + 2], 1.0, 1e-6);
        for (int j = 0; j < 3; j++)
            assert_float_equal(logf(s->data[r * 3 + j]), ls->data[r * 3 + j], 1e-6);
    }
    // huge logits stay finite
    Tensor *big = tensor_log_softmax(g, tensor_input1(g, 2, (float[]){ 1000, 0 }));
    assert_float_equal(big->data[0], 0.0, 1e-6);
    assert_float_equal(big->data[1], -1000.0, 1e-3);
    // broadcasting shape and values
    Tensor *col = tensor_input2(g, 2, 1, (float[]){ 10, 20 });
    Tensor *row = tensor_input1(g, 3, (float[]){ 1, 2, 3 });
    Tensor *sum = tensor_add(g, col, row);   // (2, 3)
    assert_int_equal(sum->shape[0], 2);
    assert_int_equal(sum->shape[1], 3);
    assert_float_equal(sum->data[5], 23, 0);
    // one-hot and embedding agree: one_hot @ table == embedding
    static const int ids[3] = { 1, 0, 1 };
    Tensor *tab = tensor_input2(g, 2, 3, (float[]){ 1, 2, 3, 4, 5, 6 });
    Tensor *oh = tensor_matmul(g, tensor_one_hot(g, ids, 3, 2), tab);
    Tensor *em = tensor_embedding(g, tab, ids, 3);
    assert_memory_equal(oh->data, em->data, 9 * sizeof(float));
    // slice and concat invert each other
    Tensor *x = tensor_input2(g, 2, 4, (float[]){ 1, 2, 3, 4, 5, 6, 7, 8 });
    Tensor *parts[2] = { tensor_slice(g, x, 1, 0, 1), tensor_slice(g, x, 1, 1, 3) };
    Tensor *back = tensor_concat(g, 2, parts, 1);
    assert_memory_equal(back->data, x->data, 8 * sizeof(float));
    // transpose
    Tensor *tr = tensor_transpose(g, a, 0, 1);   // (3, 2)
    assert_int_equal(tr->shape[0], 3);
    assert_float_equal(tr->data[1], 4, 0);
    // conv2d against a direct loop; max-pool by hand
    Tensor *img = tensor_input4(g, 1, 1, 3, 3, (float[]){ 1, 2, 3, 4, 5, 6, 7, 8, 9 });
    Tensor *k = tensor_input4(g, 1, 1, 2, 2, (float[]){ 1, 0, 0, -1 });
    Tensor *cv = tensor_conv2d(g, img, k, NULL, 1, 0);   // (1, 1, 2, 2), all 1 - 5 = -4
    assert_int_equal(cv->shape[2], 2);
    for (int i = 0; i < 4; i++)
        assert_float_equal(cv->data[i], -4, 0);
    Tensor *mp = tensor_maxpool2d(g, img, 2, 1);   // (1, 1, 2, 2)
    assert_float_equal(mp->data[0], 5, 0);
    assert_float_equal(mp->data[3], 9, 0);
    // losses
    Tensor *m = tensor_mse(g, tensor_input1(g, 2, (float[]){ 1, 3 }), tensor_input1(g, 2, (float[]){ 0, 0 }));
    assert_int_equal(m->ndim, 0);
    assert_float_equal(m->data[0], 5, 0);
    tensor_graph_destroy(g);
}

// conv2d against the definition (cross-correlation, as PyTorch), random
// shapes with stride, padding and bias.
static void test_conv2d_direct(void **state)
{
    (void)state;
    static const int cfg[][8] = {   // N C H W F KH KW stride*10+pad
        { 2, 3, 7, 6, 4, 3, 3, 11 }, { 1, 2, 8, 8, 3, 2, 4, 21 }, { 3, 1, 5, 9, 2, 5, 1, 12 },
        // 40 maps take im2col + gemm, 12 images of 100 x 1024 columns in
        // groups of 10 (conv_group); the steering CNN's first layer.
        { 12, 4, 32, 32, 40, 5, 5, 12 }, { 3, 1, 32, 64, 8, 5, 5, 22 },
    };
    for (int c = 0; c < 5; c++) {
        const int *q = cfg[c];
        int N = q[0], C = q[1], H = q[2], W = q[3], F = q[4], KH = q[5], KW = q[6];
        int stride = q[7] / 10, pad = q[7] % 10;
        Tensor *x = param(4, (int[]){ N, C, H, W }, -1, 1);
        Tensor *w = param(4, (int[]){ F, C, KH, KW }, -1, 1);
        Tensor *b = param(1, (int[]){ F }, -1, 1);
        TensorGraph *g = tensor_graph_create(0);
        Tensor *y = tensor_conv2d(g, x, w, b, stride, pad);
        int OH = (H + 2 * pad - KH) / stride + 1, OW = (W + 2 * pad - KW) / stride + 1;
        assert_int_equal(y->shape[2], OH);
        assert_int_equal(y->shape[3], OW);
        for (int n = 0; n < N; n++) for (int f = 0; f < F; f++)
        for (int oi = 0; oi < OH; oi++) for (int oj = 0; oj < OW; oj++) {
            double acc = b->data[f];
            for (int ch = 0; ch < C; ch++) for (int ki = 0; ki < KH; ki++) for (int kj = 0; kj < KW; kj++) {
                int i = oi * stride - pad + ki, j = oj * stride - pad + kj;
                if (i >= 0 && i < H && j >= 0 && j < W)
                    acc += (double)x->data[((n * C + ch) * H + i) * W + j]
                         * w->data[((f * C + ch) * KH + ki) * KW + kj];
            }
            assert_float_equal(y->data[((n * F + f) * OH + oi) * OW + oj], acc, 1e-4);
        }
        tensor_graph_destroy(g);
        tensor_destroy(x); tensor_destroy(w); tensor_destroy(b);
    }
}

static void test_tables(void **state)
{
    (void)state;
    for (int op = 0; op < TENSOR_OP_COUNT; op++) {
        assert_non_null(tensor_op_name[op]);
        assert_non_null(tensor_op_symbol[op]);
    }
    assert_string_equal(tensor_op_name[TENSOR_OP_MATMUL], "MATMUL");
    assert_string_equal(tensor_op_symbol[TENSOR_OP_MATMUL], "@");
    tensor_destroy(NULL);
    tensor_graph_destroy(NULL);
    tensor_zero_grad(NULL);
}

// Long-lived grads accumulate across backward calls and graph resets;
// graph-node grads do not.
static void test_accumulation(void **state)
{
    (void)state;
    Tensor *w = P(3);
    TensorGraph *g = tensor_graph_create(0);
    Tensor *loss = tensor_sum(g, tensor_scale(g, w, 3.0f));
    tensor_backward(g, loss);
    tensor_backward(g, loss);
    for (int i = 0; i < 3; i++)
        assert_float_equal(w->grad[i], 6.0, 0);
    tensor_graph_reset(g);
    loss = tensor_sum(g, tensor_scale(g, w, 3.0f));
    tensor_zero_grad(w);
    tensor_backward(g, loss);
    assert_float_equal(w->grad[0], 3.0, 0);
    // A node used twice receives both contributions: d(sum(w*w))/dw = 2w.
    tensor_graph_reset(g);
    tensor_zero_grad(w);
    tensor_backward(g, tensor_sum(g, tensor_mul(g, w, w)));
    for (int i = 0; i < 3; i++)
        assert_float_equal(w->grad[i], 2.0f * w->data[i], 1e-6);
    tensor_graph_destroy(g);
    tensor_destroy(w);
}

// tensor_graph_release gives the nodes' memory back and the graph keeps
// working, under its limit, with the same results as before.
static void test_graph_release(void **state)
{
    (void)state;
    Tensor *w = P(3);
    TensorGraph *g = tensor_graph_create(1 << 20);
    tensor_backward(g, tensor_sum(g, tensor_mul(g, w, w)));
    assert_non_null(g->arena.head);
    assert_true(g->n > 0);
    tensor_graph_release(g);
    assert_null(g->arena.head);
    assert_null(g->nodes);
    assert_int_equal(g->n, 0);
    tensor_zero_grad(w);
    tensor_backward(g, tensor_sum(g, tensor_mul(g, w, w)));
    for (int i = 0; i < 3; i++)
        assert_float_equal(w->grad[i], 2.0f * w->data[i], 1e-6);
    assert_int_equal(g->limit, 1 << 20);
    assert_int_equal(g->arena.limit, 1 << 20);
    tensor_graph_release(NULL);
    tensor_graph_destroy(g);
    tensor_destroy(w);
}

// The tutorial at the top of tensor.h, as written there, with data: an AND
// gate, which logistic regression learns.
static void test_header_tutorial(void **state)
{
    (void)state;
    static const float xdata[8] = { 0, 0, 0, 1, 1, 0, 1, 1 };
    static const float ydata[4] = { 0, 0, 0, 1 };
    float first = 0, last = 0;

    int wshape[] = { 2, 1 }, bshape[] = { 1 };
    Tensor *w = tensor_create(2, wshape, true);     // (I, 1) parameter, long-lived
    Tensor *b = tensor_create(1, bshape, true);     // (1)
    TensorGraph *g = tensor_graph_create(0);
    for (int step = 0; step < 100; step++) {
        tensor_graph_reset(g);                       // drop last step's nodes
        Tensor *x = tensor_input2(g, 4, 2, xdata);   // (B, I) a leaf in the graph
        Tensor *y = tensor_input2(g, 4, 1, ydata);   // (B, 1)
        Tensor *p = tensor_sigmoid(g, tensor_bias_add(g, tensor_matmul(g, x, w), b));
        Tensor *loss = tensor_mse(g, p, y);          // () forward is already done
        tensor_zero_grad(w); tensor_zero_grad(b);
        if (!tensor_backward(g, loss))               // w->grad, b->grad filled
            fprintf(stderr, "%s\n", tensor_graph_error(g));   // loss was NULL, or out of memory
        for (size_t i = 0; i < w->size; i++) w->data[i] -= 0.1f * w->grad[i];
        b->data[0] -= 0.1f * b->grad[0];
        if (step == 0) first = loss->data[0];
        last = loss->data[0];
    }
    tensor_graph_destroy(g); tensor_destroy(w); tensor_destroy(b);

    assert_float_equal(first, 0.25, 1e-6);   // sigmoid(0) = 0.5 everywhere
    assert_true(last < first);
}

// A block's tensors are consecutive slices of one array and train like any.
static void test_block(void **state)
{
    (void)state;
    static const int ndims[3] = { 2, 1, 0 };
    static const int shapes[3][TENSOR_MAX_DIMS] = { { 2, 3 }, { 3 }, { 0 } };
    TensorBlock *b = tensor_block_create(3, ndims, shapes, true);
    assert_non_null(b);
    assert_int_equal(b->size, 10);
    assert_ptr_equal(b->t[0]->data, b->data);
    assert_ptr_equal(b->t[1]->data, b->data + 6);
    assert_ptr_equal(b->t[2]->grad, b->grad + 9);
    assert_int_equal(b->t[2]->ndim, 0);
    assert_int_equal(b->t[2]->size, 1);
    for (size_t i = 0; i < b->size; i++)
        b->data[i] = 0.5f;
    TensorGraph *g = tensor_graph_create(0);
    // sum(x @ W + bias) * s: dW = 2 per element (x = ones (2, 2)), dbias = 2, ds = sum
    Tensor *x = tensor_input2(g, 2, 2, (float[]){ 1, 1, 1, 1 });
    Tensor *y = tensor_bias_add(g, tensor_matmul(g, x, b->t[0]), b->t[1]);   // (2, 3)
    Tensor *loss = tensor_sum(g, tensor_mul(g, y, b->t[2]));
    tensor_backward(g, loss);
    for (int i = 0; i < 6; i++)
        assert_float_equal(b->grad[i], 2 * 0.5, 1e-6);
    for (int i = 6; i < 9; i++)
        assert_float_equal(b->grad[i], 2 * 0.5, 1e-6);
    assert_float_equal(b->grad[9], 6 * (1.0 + 0.5), 1e-5);
    tensor_block_zero_grad(b);
    assert_float_equal(b->grad[9], 0, 0);
    tensor_graph_destroy(g);
    tensor_block_destroy(b);
    tensor_block_destroy(NULL);
}

// A shape mismatch is an error in the graph, not an abort: the op returns
// NULL, later ops given NULL return NULL, the first message stays, and a
// reset clears it.
static void test_shape_mismatch_is_an_error(void **state)
{
    (void)state;
    TensorGraph *g = tensor_graph_create(0);
    assert_null(tensor_graph_error(g));
    Tensor *a = tensor_input2(g, 2, 3, NULL);
    Tensor *b = tensor_input2(g, 4, 5, NULL);
    Tensor *c = tensor_matmul(g, a, b);
    assert_null(c);
    const char *err = tensor_graph_error(g);
    assert_non_null(err);
    assert_non_null(strstr(err, "MATMUL"));
    assert_non_null(strstr(err, "(2, 3)"));
    assert_non_null(strstr(err, "(4, 5)"));
    assert_null(tensor_sum(g, tensor_tanh(g, c)));   // NULL flows through
    assert_null(tensor_add(g, a, tensor_relu(g, c)));
    assert_false(tensor_backward(g, NULL));
    assert_non_null(strstr(tensor_graph_error(g), "MATMUL"));   // the first error stays
    assert_null(tensor_mse(g, a, b));
    assert_null(tensor_set_name(g, NULL, "x"));
    tensor_graph_reset(g);
    assert_null(tensor_graph_error(g));
    // Every op's own check, one by one: each returns NULL and says why.
    static const char *const needles[] = {
        "SLICE", "CONCAT", "TRANSPOSE", "RESHAPE", "BIAS_ADD", "do not broadcast", "CONV2D", "MAXPOOL2D",
    };
    for (size_t k = 0; k < sizeof needles / sizeof needles[0]; k++) {
        tensor_graph_reset(g);
        Tensor *x = tensor_input2(g, 2, 3, NULL), *y = tensor_input2(g, 3, 2, NULL), *r = x;
        switch (k) {
        case 0: r = tensor_slice(g, x, 1, 2, 2147483647); break;   // start + len overflows an int
        case 1: r = tensor_concat(g, 2, (Tensor *[]){ x, y }, 1); break;
        case 2: r = tensor_transpose(g, x, 0, 2); break;
        case 3: r = tensor_reshape(g, x, 2, (int[]){ 4, 2 }); break;
        case 4: r = tensor_bias_add(g, x, tensor_input1(g, 2, NULL)); break;
        case 5: r = tensor_mul(g, x, y); break;
        case 6: r = tensor_conv2d(g, tensor_input4(g, 1, 1, 3, 3, NULL), tensor_input4(g, 1, 1, 2, 2, NULL),
                                  NULL, 1, 2147483647); break;   // H + 2 pad overflows an int
        case 7: r = tensor_maxpool2d(g, tensor_input4(g, 1, 1, 3, 3, NULL), 4, 1); break;
        }
        assert_null(r);
        print_message("%s\n", tensor_graph_error(g));
        assert_non_null(strstr(tensor_graph_error(g), needles[k]));
    }
    tensor_graph_destroy(g);
}

// Ids and sizes from data: out of range or too large is an error.
static void test_bad_ids_and_sizes(void **state)
{
    (void)state;
    TensorGraph *g = tensor_graph_create(0);
    Tensor *table = tensor_input2(g, 4, 3, NULL);
    assert_null(tensor_embedding(g, table, (int[]){ 1, 4 }, 2));
    assert_non_null(strstr(tensor_graph_error(g), "EMBEDDING: id 4 at 1 outside [0, 4)"));
    tensor_graph_reset(g);
    assert_null(tensor_one_hot(g, (int[]){ -1 }, 1, 5));
    assert_non_null(strstr(tensor_graph_error(g), "ONE_HOT: id -1"));
    tensor_graph_reset(g);
    Tensor *logp = tensor_log_softmax(g, tensor_input2(g, 2, 3, NULL));
    assert_null(tensor_nll(g, logp, (int[]){ 0, 3 }));
    assert_non_null(strstr(tensor_graph_error(g), "NLL: target 3 of row 1"));
    tensor_graph_reset(g);
    // 65536 x 65536 elements: more than TENSOR_MAX_SIZE. 2^16 x 2^16 x 2^16
    // x 2^16 would wrap a 64-bit size to 0.
    assert_null(tensor_input2(g, 65536, 65536, NULL));
    assert_non_null(strstr(tensor_graph_error(g), "(65536, 65536)"));
    tensor_graph_reset(g);
    assert_null(tensor_input4(g, 65536, 65536, 65536, 65536, NULL));
    assert_non_null(tensor_graph_error(g));
    tensor_graph_reset(g);
    assert_null(tensor_input1(g, 0, NULL));
    assert_non_null(strstr(tensor_graph_error(g), "sizes must be positive"));
    assert_null(tensor_create(2, (int[]){ 65536, 65536 }, true));
    assert_null(tensor_create(1, (int[]){ -3 }, false));
    assert_null(tensor_create(5, (int[]){ 1, 1, 1, 1, 1 }, false));
    static const int ndims[2] = { 1, 1 };
    static const int shapes[2][TENSOR_MAX_DIMS] = { { 2000000000 }, { 2000000000 } };
    assert_null(tensor_block_create(2, ndims, shapes, false));   // adds up past the maximum
    // NULL graphs (out of memory creating them) give NULL, never a crash.
    assert_null(tensor_input1(NULL, 3, NULL));
    assert_null(tensor_tanh(NULL, table));
    assert_false(tensor_backward(NULL, table));
    assert_non_null(tensor_graph_error(NULL));
    // A tensor of another graph is not an output of this one.
    TensorGraph *other = tensor_graph_create(0);
    assert_false(tensor_backward(other, tensor_sum(g, table)));
    assert_non_null(strstr(tensor_graph_error(other), "not a node of this graph"));
    tensor_graph_destroy(other);
    tensor_graph_destroy(g);
}

// Past the graph's byte limit an op returns NULL and says so; a reset
// makes room again.
static void test_graph_limit(void **state)
{
    (void)state;
    TensorGraph *g = tensor_graph_create(64 * 1024);
    Tensor *x = tensor_input2(g, 16, 16, NULL);
    assert_non_null(x);
    Tensor *y = x;
    int steps = 0;
    while (y && steps < 1000) {
        y = tensor_tanh(g, y);
        steps++;
    }
    assert_null(y);
    assert_true(steps > 10 && steps < 1000);
    assert_non_null(strstr(tensor_graph_error(g), "graph memory exhausted"));
    assert_non_null(strstr(tensor_graph_error(g), "limit 65536"));
    tensor_graph_reset(g);
    assert_null(tensor_graph_error(g));
    assert_non_null(tensor_tanh(g, tensor_input2(g, 16, 16, NULL)));
    tensor_graph_destroy(g);
}

// One training step of a small conv net, with every tensor-library
// allocation after the first n failing. Returns true when it all worked; on
// a failure it must say why, and a failed backward must leave the
// parameters' grads as they were.
static bool faulty_step(long n, bool *reported)
{
    *reported = false;
    tensor_fail_allocs_after(n);
    TensorGraph *g = tensor_graph_create(0);
    Tensor *w = tensor_create(4, (int[]){ 3, 2, 3, 3 }, true);   // (F, C, KH, KW)
    Tensor *bias = tensor_create(1, (int[]){ 3 }, true);
    Tensor *table = tensor_create(2, (int[]){ 5, 2 }, true);     // (V, D)
    static const int ndims[2] = { 2, 1 };
    static const int shapes[2][TENSOR_MAX_DIMS] = { { 12, 2 }, { 2 } };
    TensorBlock *head = tensor_block_create(2, ndims, shapes, true);
    bool ok = false;
    if (!g || !w || !bias || !table || !head) {
        *reported = true;   // NULL is the report for creation
        goto done;
    }
    for (size_t i = 0; i < w->size; i++)
        w->data[i] = 0.1f * (float)((i * 7) % 11) - 0.5f;
    for (size_t i = 0; i < head->size; i++)
        head->data[i] = 0.05f * (float)i - 0.3f;
    for (int rep = 0; rep < 3; rep++) {   // more nodes than the first node list holds
        tensor_graph_reset(g);
        float xs[2 * 2 * 5 * 5];
        for (int i = 0; i < 100; i++)
            xs[i] = (float)((i * 13) % 7) / 7.0f;
        Tensor *x = tensor_input4(g, 2, 2, 5, 5, xs);                  // (N, C, H, W)
        Tensor *c = tensor_relu(g, tensor_conv2d(g, x, w, bias, 1, 1));   // (2, 3, 5, 5)
        Tensor *p = tensor_maxpool2d(g, c, 2, 2);                        // (2, 3, 2, 2)
        Tensor *f = tensor_reshape(g, p, 2, (int[]){ 2, 12 });
        Tensor *e = tensor_embedding(g, table, (int[]){ 1, 4 }, 2);      // (2, 2)
        Tensor *h = tensor_tanh(g, tensor_bias_add(g, tensor_matmul(g, f, head->t[0]), head->t[1]));
        Tensor *z = tensor_concat(g, 2, (Tensor *[]){ h, e }, 1);         // (2, 4)
        Tensor *loss = tensor_add(g, tensor_cross_entropy(g, z, (int[]){ 0, 3 }),
                                  tensor_mean(g, tensor_mul(g, e, e)));
        for (int i = 0; i < 300; i++)   // a long chain: the node list grows
            loss = tensor_scale(g, loss, 1.0f);
        tensor_set_name(g, loss, "loss");
        if (!loss) {
            *reported = tensor_graph_error(g) != NULL;
            goto done;
        }
        float before = w->grad[0], hb = head->grad[5];
        if (!tensor_backward(g, loss)) {
            *reported = tensor_graph_error(g) != NULL && w->grad[0] == before &&
                        head->grad[5] == hb;
            goto done;
        }
    }
    ok = true;
done:
    tensor_fail_allocs_after(-1);
    tensor_graph_destroy(g);
    tensor_destroy(w);
    tensor_destroy(bias);
    tensor_destroy(table);
    tensor_block_destroy(head);
    return ok;
}

// Fault injection: the n-th allocation fails, for every n until the step
// needs fewer; each failure is reported and nothing crashes or leaks (run
// it under ASan or Valgrind to see the last two).
static void test_allocation_failures(void **state)
{
    (void)state;
    long n = 0;
    bool reported;
    while (!faulty_step(n, &reported)) {
        if (!reported)
            fail_msg("allocation %ld failing was not reported", n);
        n++;
        assert_true(n < 100000);
    }
    print_message("the step makes %ld allocations; each one failing is reported\n", n);
    assert_true(n > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_matmul),
        cmocka_unit_test(test_graph_release),
        cmocka_unit_test(test_grad_broadcast),
        cmocka_unit_test(test_grad_unary),
        cmocka_unit_test(test_grad_softmax_losses),
        cmocka_unit_test(test_grad_shape_ops),
        cmocka_unit_test(test_grad_conv_pool),
        cmocka_unit_test(test_grad_mlp),
        cmocka_unit_test(test_against_scalar_engine),
        cmocka_unit_test(test_forward_values),
        cmocka_unit_test(test_conv2d_direct),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_accumulation),
        cmocka_unit_test(test_block),
        cmocka_unit_test(test_header_tutorial),
        cmocka_unit_test(test_shape_mismatch_is_an_error),
        cmocka_unit_test(test_bad_ids_and_sizes),
        cmocka_unit_test(test_graph_limit),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
