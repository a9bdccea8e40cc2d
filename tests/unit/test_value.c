// test_value.c: the scalar autograd engine (engine/value.h). Every op's
// forward value and gradient against libm and central finite differences,
// and the documented semantics of backward: accumulation for a node used
// twice, calling backward twice, zero_grad, untouched nodes, the node
// limit, and the step-by-step graph_backward_partial used by the lessons.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/value.h"

#define FD_TOL 1e-7

// |a - b| relative to the larger magnitude; 0 when both are 0.
static double rel_err(double a, double b)
{
    double m = fmax(fabs(a), fabs(b));
    return m == 0 ? 0 : fabs(a - b) / m;
}

#define assert_rel(got, want, tol)                                                           \
    do {                                                                                     \
        double g_ = (got), w_ = (want);                                                      \
        if (!(rel_err(g_, w_) < (tol)))                                                      \
            fail_msg("%s = %.17g, expected %.17g (rel err %.3g >= %.3g)", #got, g_, w_,       \
                     rel_err(g_, w_), (double)(tol));                                        \
    } while (0)

// ---------------------------------------------------------------------------
// One op at a time, through the public wrappers.

typedef Value *(*UnaryFn)(Graph *, Value *);
typedef Value *(*BinaryFn)(Graph *, Value *, Value *);

typedef struct OpCase {
    const char *what;
    ValueOp op;
    UnaryFn un;        // set for unary ops (not pow)
    BinaryFn bin;      // set for binary ops
    double exponent;   // pow only
    double a, b;       // the point; b unused for unary ops
} OpCase;

// Build the op on fresh inputs a, b in a fresh graph and return its value;
// the graph's own forward is the function the finite differences sample.
static double forward_once(const OpCase *c, double a, double b)
{
    Graph *g = graph_create(0);
    assert_non_null(g);
    Value *x = value_input(g, a, "a");
    Value *y = value_input(g, b, "b");
    Value *f = c->op == OP_POW ? value_pow(g, x, c->exponent) : c->un ? c->un(g, x) : c->bin(g, x, y);
    assert_non_null(f);
    double v = f->data;
    graph_destroy(g);
    return v;
}

// The value libm gives for the op, the reference for the forward pass.
static double reference(const OpCase *c, double a, double b)
{
    switch (c->op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;
    case OP_NEG: return -a;
    case OP_POW: return pow(a, c->exponent);
    case OP_EXP: return exp(a);
    case OP_LOG: return log(a);
    case OP_TANH: return tanh(a);
    case OP_SIGMOID: return 1.0 / (1.0 + exp(-a));
    case OP_RELU: return a > 0 ? a : 0;
    case OP_MAX: return fmax(a, b);
    case OP_MIN: return fmin(a, b);
    case OP_ABS: return fabs(a);
    case OP_SQRT: return sqrt(a);
    default: fail_msg("no reference for op %d", (int)c->op);
    }
    return NAN;
}

// Central difference with step h scaled to the point.
static double central_diff(const OpCase *c, int which)
{
    double p = which == 0 ? c->a : c->b;
    double h = 1e-5 * fmax(1.0, fabs(p));
    double fp = which == 0 ? forward_once(c, c->a + h, c->b) : forward_once(c, c->a, c->b + h);
    double fm = which == 0 ? forward_once(c, c->a - h, c->b) : forward_once(c, c->a, c->b - h);
    return (fp - fm) / (2 * h);
}

static const OpCase op_cases[] = {
    {"add", OP_ADD, NULL, value_add, 0, 1.3, -0.7},
    {"sub", OP_SUB, NULL, value_sub, 0, 1.3, -0.7},
    {"mul", OP_MUL, NULL, value_mul, 0, 1.3, -0.7},
    {"div", OP_DIV, NULL, value_div, 0, 1.3, -0.7},
    {"div small", OP_DIV, NULL, value_div, 0, -0.25, 2.5},
    {"neg", OP_NEG, value_neg, NULL, 0, 1.3, 0},
    {"pow 2", OP_POW, NULL, NULL, 2, 1.7, 0},
    {"pow 3 negative base", OP_POW, NULL, NULL, 3, -1.2, 0},
    {"pow 0.5", OP_POW, NULL, NULL, 0.5, 2.3, 0},
    {"pow -1", OP_POW, NULL, NULL, -1, 1.7, 0},
    {"pow -2.5", OP_POW, NULL, NULL, -2.5, 0.9, 0},
    {"pow 1", OP_POW, NULL, NULL, 1, 0.6, 0},
    {"pow 0", OP_POW, NULL, NULL, 0, 1.4, 0},
    {"exp", OP_EXP, value_exp, NULL, 0, 0.8, 0},
    {"exp negative", OP_EXP, value_exp, NULL, 0, -2.1, 0},
    {"log", OP_LOG, value_log, NULL, 0, 2.3, 0},
    {"log small", OP_LOG, value_log, NULL, 0, 0.35, 0},
    {"tanh", OP_TANH, value_tanh, NULL, 0, 0.6, 0},
    {"tanh negative", OP_TANH, value_tanh, NULL, 0, -1.1, 0},
    {"sigmoid", OP_SIGMOID, value_sigmoid, NULL, 0, 0.4, 0},
    {"sigmoid negative", OP_SIGMOID, value_sigmoid, NULL, 0, -3.0, 0},
    {"relu positive", OP_RELU, value_relu, NULL, 0, 1.3, 0},
    {"relu negative", OP_RELU, value_relu, NULL, 0, -0.9, 0},
    {"max first", OP_MAX, NULL, value_max, 0, 1.3, -0.7},
    {"max second", OP_MAX, NULL, value_max, 0, -0.7, 1.3},
    {"min first", OP_MIN, NULL, value_min, 0, -0.7, 1.3},
    {"min second", OP_MIN, NULL, value_min, 0, 1.3, -0.7},
    {"abs positive", OP_ABS, value_abs, NULL, 0, 1.3, 0},
    {"abs negative", OP_ABS, value_abs, NULL, 0, -0.8, 0},
    {"sqrt", OP_SQRT, value_sqrt, NULL, 0, 2.3, 0},
    {"sqrt small", OP_SQRT, value_sqrt, NULL, 0, 0.04, 0},
    {"sqrt large", OP_SQRT, value_sqrt, NULL, 0, 1e6, 0},
};
#define NCASES (sizeof(op_cases) / sizeof(op_cases[0]))

static void test_ops_forward_and_grad(void **state)
{
    (void)state;
    bool seen[OP_COUNT] = {false};
    for (size_t i = 0; i < NCASES; i++) {
        const OpCase *c = &op_cases[i];
        print_message("  op %-20s a=%g b=%g\n", c->what, c->a, c->b);
        seen[c->op] = true;
        Graph *g = graph_create(0);
        assert_non_null(g);
        Value *x = value_input(g, c->a, "a");
        Value *y = value_input(g, c->b, "b");
        Value *f = c->op == OP_POW ? value_pow(g, x, c->exponent) : c->un ? c->un(g, x) : c->bin(g, x, y);
        assert_non_null(f);
        assert_int_equal(f->op, c->op);
        assert_ptr_equal(f->src[0], x);
        if (c->bin)
            assert_ptr_equal(f->src[1], y);
        else
            assert_null(f->src[1]);
        assert_rel(f->data, reference(c, c->a, c->b), 1e-15);

        graph_backward(g, f);
        assert_rel(f->grad, 1.0, 1e-15);
        double num_a = central_diff(c, 0);
        assert_rel(x->grad, num_a, FD_TOL);
        // The edge keeps the local derivative; with upstream 1 it is the grad.
        assert_rel(f->local[0], x->grad, 1e-15);
        if (c->bin) {
            double num_b = central_diff(c, 1);
            assert_rel(y->grad, num_b, FD_TOL);
            assert_rel(f->local[1], y->grad, 1e-15);
        } else {
            assert_true(y->grad == 0);
        }
        graph_destroy(g);
    }
    for (int op = OP_ADD; op < OP_COUNT; op++)
        if (!seen[op])
            fail_msg("op %s has no finite-difference case", value_op_name[op]);
}

// value_apply is the generic form; it must agree with the wrappers.
static void test_value_apply_matches_wrappers(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        const OpCase *c = &op_cases[i];
        Graph *g = graph_create(0);
        Value *x = value_input(g, c->a, NULL);
        Value *y = value_input(g, c->b, NULL);
        Value *f = value_apply(g, c->op, x, y, c->exponent);
        assert_non_null(f);
        assert_rel(f->data, forward_once(c, c->a, c->b), 1e-15);
        graph_destroy(g);
    }
    Graph *g = graph_create(0);
    Value *x = value_input(g, 1, NULL);
    // Leaves cannot be applied; a binary op needs two sources.
    assert_null(value_apply(g, OP_INPUT, x, x, 0));
    assert_null(value_apply(g, OP_CONST, x, x, 0));
    assert_null(value_apply(g, OP_ADD, x, NULL, 0));
    graph_destroy(g);
}

static void test_op_tables(void **state)
{
    (void)state;
    assert_int_equal(value_op_arity(OP_INPUT), 0);
    assert_int_equal(value_op_arity(OP_CONST), 0);
    const ValueOp binary[] = {OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN};
    for (size_t i = 0; i < sizeof(binary) / sizeof(binary[0]); i++)
        assert_int_equal(value_op_arity(binary[i]), 2);
    const ValueOp unary[] = {OP_NEG, OP_POW, OP_EXP, OP_LOG, OP_TANH, OP_SIGMOID, OP_RELU, OP_ABS, OP_SQRT};
    for (size_t i = 0; i < sizeof(unary) / sizeof(unary[0]); i++)
        assert_int_equal(value_op_arity(unary[i]), 1);
    for (int op = 0; op < OP_COUNT; op++) {
        assert_non_null(value_op_name[op]);
        assert_non_null(value_op_symbol[op]);
    }
    assert_string_equal(value_op_name[OP_ADD], "ADD");
    assert_string_equal(value_op_symbol[OP_ADD], "+");
    assert_string_equal(value_op_name[OP_SIGMOID], "SIGMOID");
    assert_string_equal(value_op_name[OP_SQRT], "SQRT");
    assert_string_equal(value_op_symbol[OP_SQRT], "\u221a");
}

// sqrt at its edges: the slope is +Inf at 0 and the value NaN below 0, as a
// lesson's broken-number narrative expects; pow(x, 0.5) agrees elsewhere.
// Nodes built outside a program carry no loop, step or flags.
static void test_sqrt_edges(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *z = value_input(g, 0, NULL);
    Value *r = value_sqrt(g, z);
    assert_true(r->data == 0 && isinf(r->local[0]) && r->local[0] > 0);
    Value *m = value_sqrt(g, value_input(g, -4, NULL));
    assert_true(isnan(m->data));
    Value *x = value_input(g, 6.25, NULL);
    Value *s = value_sqrt(g, x), *q = value_pow(g, x, 0.5);
    assert_true(s->data == 2.5 && q->data == 2.5);
    assert_true(s->local[0] == q->local[0] && s->local[0] == 0.2);
    for (size_t i = 0; i < g->n; i++)
        assert_true(g->nodes[i]->loop == 0 && g->nodes[i]->step == 0 && g->nodes[i]->flags == 0);
    graph_destroy(g);
}

// max/min at a tie split the gradient evenly, as documented.
static void test_max_min_tie(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *a = value_input(g, 2, "a"), *b = value_input(g, 2, "b");
    Value *m = value_max(g, a, b);
    graph_backward(g, m);
    assert_true(m->data == 2);
    assert_true(a->grad == 0.5 && b->grad == 0.5);
    graph_zero_grad(g);
    Value *n = value_min(g, a, b);
    graph_backward(g, n);
    assert_true(a->grad == 0.5 && b->grad == 0.5);
    graph_destroy(g);
}

// A composite expression: every input's gradient against finite differences.
static double composite(double x, double y, double z, double *gx, double *gy, double *gz)
{
    Graph *g = graph_create(0);
    Value *vx = value_input(g, x, "x"), *vy = value_input(g, y, "y"), *vz = value_input(g, z, "z");
    // f = tanh(x*y + exp(z)) / (1 + sigmoid(x)) - log(abs(y - z)) + max(x, z)^2 * relu(y)
    Value *t = value_tanh(g, value_add(g, value_mul(g, vx, vy), value_exp(g, vz)));
    Value *d = value_add(g, value_const(g, 1), value_sigmoid(g, vx));
    Value *l = value_log(g, value_abs(g, value_sub(g, vy, vz)));
    Value *m = value_mul(g, value_pow(g, value_max(g, vx, vz), 2), value_relu(g, vy));
    Value *f = value_add(g, value_sub(g, value_div(g, t, d), l), m);
    assert_non_null(f);
    graph_backward(g, f);
    if (gx) {
        *gx = vx->grad;
        *gy = vy->grad;
        *gz = vz->grad;
    }
    double v = f->data;
    graph_destroy(g);
    return v;
}

static void test_composite_grad(void **state)
{
    (void)state;
    const double pts[][3] = {{0.3, 1.2, -0.4}, {-0.8, 0.7, 0.5}, {1.1, 2.0, 1.9}};
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
        double x = pts[i][0], y = pts[i][1], z = pts[i][2], g[3];
        composite(x, y, z, &g[0], &g[1], &g[2]);
        for (int k = 0; k < 3; k++) {
            double p[3] = {x, y, z}, m[3] = {x, y, z};
            double h = 1e-5 * fmax(1.0, fabs(p[k]));
            p[k] += h;
            m[k] -= h;
            double num = (composite(p[0], p[1], p[2], NULL, NULL, NULL) -
                          composite(m[0], m[1], m[2], NULL, NULL, NULL)) / (2 * h);
            assert_rel(g[k], num, FD_TOL);
        }
    }
}

// ---------------------------------------------------------------------------
// Backward semantics

static void test_cs231n_circuit(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *x = value_input(g, -2, "x"), *y = value_input(g, 5, "y"), *z = value_input(g, -4, "z");
    Value *q = value_add(g, x, y);
    Value *f = value_mul(g, q, z);
    assert_true(q->data == 3 && f->data == -12);
    // Local derivatives on the edges: d(q*z)/dq = z, d(q*z)/dz = q.
    assert_true(f->local[0] == -4 && f->local[1] == 3);
    assert_true(q->local[0] == 1 && q->local[1] == 1);
    graph_backward(g, f);
    assert_true(f->grad == 1);
    assert_true(q->grad == -4);
    assert_true(x->grad == -4 && y->grad == -4 && z->grad == 3);
    assert_string_equal(x->name, "x");
    assert_null(q->name);
    assert_int_equal(g->n, 5);
    assert_int_equal(f->index, 4);
    graph_destroy(g);
}

static void test_square_accumulates(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *x = value_input(g, 3, "x");
    Value *f = value_mul(g, x, x);
    graph_backward(g, f);
    assert_true(f->data == 9);
    assert_true(x->grad == 6); // 2x: both uses of x add up
    graph_destroy(g);
}

// A value used by two different gates (a name used on two lines).
static void test_reused_value_accumulates(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *x = value_input(g, 1.5, "x"), *y = value_input(g, -2, "y");
    Value *a = value_mul(g, x, y);       // a = x*y
    Value *b = value_exp(g, x);          // b = exp(x)
    Value *f = value_add(g, a, b);       // f = x*y + exp(x)
    graph_backward(g, f);
    assert_rel(x->grad, -2 + exp(1.5), 1e-15);
    assert_rel(y->grad, 1.5, 1e-15);
    graph_destroy(g);
}

static void test_backward_twice_doubles(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *x = value_input(g, -2, "x"), *y = value_input(g, 5, "y"), *z = value_input(g, -4, "z");
    Value *q = value_add(g, x, y);
    Value *f = value_mul(g, q, z);
    graph_backward(g, f);
    graph_backward(g, f);
    assert_true(f->grad == 2); // the output's own grad is included
    assert_true(q->grad == -8);
    assert_true(x->grad == -8 && y->grad == -8 && z->grad == 6);
    graph_backward(g, f);
    assert_true(x->grad == -12 && z->grad == 9); // adds, does not compound
    graph_destroy(g);
}

static void test_zero_grad(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *x = value_input(g, -2, "x"), *y = value_input(g, 5, "y");
    Value *f = value_mul(g, x, y);
    graph_backward(g, f);
    assert_true(x->grad == 5);
    graph_zero_grad(g);
    for (size_t i = 0; i < g->n; i++)
        assert_true(g->nodes[i]->grad == 0);
    graph_backward(g, f);
    assert_true(x->grad == 5 && y->grad == -2 && f->grad == 1);
    graph_destroy(g);
}

static void test_unreached_nodes_untouched(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *x = value_input(g, 2, "x"), *y = value_input(g, 3, "y");
    Value *w = value_input(g, 7, "w");         // out does not use it
    Value *side = value_mul(g, x, w);          // uses x, but out does not use it
    Value *f = value_mul(g, x, y);
    Value *after = value_add(g, f, w);         // created after out
    w->grad = 0.25;
    side->grad = -1.5;
    after->grad = 42;
    graph_backward(g, f);
    assert_true(w->grad == 0.25);
    assert_true(side->grad == -1.5);
    assert_true(after->grad == 42);
    assert_true(x->grad == 3 && y->grad == 2);
    // Only the ancestors of f are marked; 1 gate (f itself).
    assert_int_equal(graph_mark_ancestors(g, f), 1);
    assert_true(x->mark && y->mark && f->mark);
    assert_false(w->mark || side->mark || after->mark);
    assert_int_equal(graph_mark_ancestors(g, after), 2);
    graph_destroy(g);
}

static void test_node_limit(void **state)
{
    (void)state;
    Graph *g = graph_create(3);
    assert_non_null(g);
    assert_null(graph_error(g));
    Value *x = value_input(g, 1, "x"), *y = value_input(g, 2, "y");
    Value *s = value_add(g, x, y);
    assert_non_null(s);
    assert_null(graph_error(g));
    Value *t = value_mul(g, s, x);
    assert_null(t);
    assert_non_null(graph_error(g));
    assert_string_equal(graph_error(g), "node limit reached");
    assert_int_equal(g->n, 3);
    // NULL propagates: one check at the end of a computation is enough.
    assert_null(value_exp(g, t));
    assert_null(value_add(g, t, x));
    assert_null(value_add(g, x, t));
    assert_null(value_input(g, 5, "z"));
    assert_null(value_const(g, 5));
    // backward of NULL is a no-op.
    graph_backward(g, NULL);
    assert_null(graph_backward_partial(g, NULL, 1));
    // Reset drops the nodes and the error.
    graph_reset(g);
    assert_int_equal(g->n, 0);
    assert_null(graph_error(g));
    assert_non_null(value_input(g, 1, "x"));
    graph_destroy(g);
}

static void test_partial_backward_steps(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *x = value_input(g, -2, "x"), *y = value_input(g, 5, "y"), *z = value_input(g, -4, "z");
    Value *q = value_add(g, x, y);
    Value *f = value_mul(g, q, z);
    for (size_t i = 0; i < g->n; i++)
        g->nodes[i]->grad = 99; // stale: partial starts from zero
    // 0 gates: only the seed.
    assert_null(graph_backward_partial(g, f, 0));
    assert_true(f->grad == 1);
    assert_true(q->grad == 0 && x->grad == 0 && y->grad == 0 && z->grad == 0);
    // 1 gate: through the multiply.
    assert_ptr_equal(graph_backward_partial(g, f, 1), f);
    assert_true(f->grad == 1 && q->grad == -4 && z->grad == 3);
    assert_true(x->grad == 0 && y->grad == 0);
    // 2 gates: through the add as well.
    assert_ptr_equal(graph_backward_partial(g, f, 2), q);
    assert_true(q->grad == -4 && z->grad == 3 && x->grad == -4 && y->grad == -4);
    // More gates than exist: the same as zero_grad + backward.
    assert_ptr_equal(graph_backward_partial(g, f, SIZE_MAX), q);
    double partial[5];
    for (size_t i = 0; i < 5; i++)
        partial[i] = g->nodes[i]->grad;
    graph_zero_grad(g);
    graph_backward(g, f);
    for (size_t i = 0; i < 5; i++)
        assert_true(partial[i] == g->nodes[i]->grad);
    // Calling it again does not accumulate.
    graph_backward_partial(g, f, 2);
    assert_true(x->grad == -4);
    graph_destroy(g);
}

// A gate feeding two gates gets its sum only once both have pushed.
static void test_partial_backward_fanout(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *x = value_input(g, 3, "x");
    Value *a = value_mul(g, x, x);            // gate 1 (index 1)
    Value *b = value_exp(g, a);               // gate 2
    Value *c = value_tanh(g, a);              // gate 3
    Value *f = value_add(g, b, c);            // gate 4
    assert_ptr_equal(graph_backward_partial(g, f, 1), f);
    assert_true(b->grad == 1 && c->grad == 1 && a->grad == 0);
    assert_ptr_equal(graph_backward_partial(g, f, 2), c);
    assert_rel(a->grad, 1 - tanh(9) * tanh(9), 1e-15);
    assert_ptr_equal(graph_backward_partial(g, f, 3), b);
    assert_rel(a->grad, exp(9) + 1 - tanh(9) * tanh(9), 1e-15);
    assert_true(x->grad == 0);
    assert_ptr_equal(graph_backward_partial(g, f, 4), a);
    assert_rel(x->grad, 6 * (exp(9) + 1 - tanh(9) * tanh(9)), 1e-15);
    graph_destroy(g);
}

static void test_forward_after_input_change(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Value *x = value_input(g, -2, "x"), *y = value_input(g, 5, "y"), *z = value_input(g, -4, "z");
    Value *f = value_mul(g, value_add(g, x, y), z);
    Value *c = value_const(g, 2.5);
    Value *h = value_pow(g, f, 2);
    x->data = 1;
    graph_forward(g);
    assert_true(f->data == -24);
    assert_true(c->data == 2.5); // leaves keep their data
    assert_true(h->data == 576);
    assert_true(f->local[0] == -4 && f->local[1] == 6);
    graph_destroy(g);
}

static void test_names_copied(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    char name[8] = "abc";
    Value *v = value_input(g, 1, name);
    strcpy(name, "zzz");
    assert_string_equal(v->name, "abc");
    Value *w = value_exp(g, v);
    assert_true(value_set_name(g, w, name));
    assert_string_equal(w->name, "zzz");
    graph_destroy(g);
}

static void test_destroy_null(void **state)
{
    (void)state;
    graph_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_forward_and_grad),
        cmocka_unit_test(test_value_apply_matches_wrappers),
        cmocka_unit_test(test_op_tables),
        cmocka_unit_test(test_sqrt_edges),
        cmocka_unit_test(test_max_min_tie),
        cmocka_unit_test(test_composite_grad),
        cmocka_unit_test(test_cs231n_circuit),
        cmocka_unit_test(test_square_accumulates),
        cmocka_unit_test(test_reused_value_accumulates),
        cmocka_unit_test(test_backward_twice_doubles),
        cmocka_unit_test(test_zero_grad),
        cmocka_unit_test(test_unreached_nodes_untouched),
        cmocka_unit_test(test_node_limit),
        cmocka_unit_test(test_partial_backward_steps),
        cmocka_unit_test(test_partial_backward_fanout),
        cmocka_unit_test(test_forward_after_input_change),
        cmocka_unit_test(test_names_copied),
        cmocka_unit_test(test_destroy_null),
    };
    return cmocka_run_group_tests_name("value", tests, NULL, NULL);
}
