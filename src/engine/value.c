// value.c: scalar autograd nodes, their forward rule and local derivatives,
// and backward in reverse creation order. See value.h for the semantics.
#include "engine/value.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const value_op_name[OP_COUNT] = {
    "INPUT", "CONST", "ADD", "SUB", "MUL", "DIV", "NEG", "POW",
    "EXP", "LOG", "TANH", "SIGMOID", "RELU", "MAX", "MIN", "ABS", "SQRT",
};
const char *const value_op_symbol[OP_COUNT] = {
    "", "", "+", "\u2212", "\u00d7", "\u00f7", "\u2212", "^",
    "exp", "log", "tanh", "\u03c3", "relu", "max", "min", "abs", "\u221a",
};
static_assert(sizeof(value_op_name) / sizeof(value_op_name[0]) == OP_COUNT, "op name table");
static_assert(sizeof(value_op_symbol) / sizeof(value_op_symbol[0]) == OP_COUNT, "op symbol table");

int value_op_arity(ValueOp op)
{
    switch (op) {
    case OP_INPUT: case OP_CONST:
        return 0;
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MAX: case OP_MIN:
        return 2;
    default:
        return 1;
    }
}

Graph *graph_create(size_t max_nodes)
{
    Graph *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    arena_init(&g->arena, 256 * 1024, 0);
    g->max_nodes = max_nodes ? max_nodes : GRAPH_DEFAULT_MAX_NODES;
    return g;
}

void graph_destroy(Graph *g)
{
    if (!g)
        return;
    arena_destroy(&g->arena);
    free(g->nodes);
    free(g);
}

void graph_reset(Graph *g)
{
    arena_reset(&g->arena);
    g->n = 0;
    g->error = NULL;
}

const char *graph_error(const Graph *g)
{
    return g->error;
}

static Value *graph_new_node(Graph *g, ValueOp op)
{
    if (g->n >= g->max_nodes) {
        g->error = "node limit reached";
        return NULL;
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        Value **nodes = realloc(g->nodes, cap * sizeof(*nodes));
        if (!nodes) {
            g->error = "out of memory";
            return NULL;
        }
        g->nodes = nodes;
        g->cap = cap;
    }
    Value *v = arena_alloc(&g->arena, sizeof(*v));
    if (!v) {
        g->error = "out of memory";
        return NULL;
    }
    memset(v, 0, sizeof(*v));
    v->op = (unsigned char)op;
    v->index = (unsigned)g->n;
    g->nodes[g->n++] = v;
    return v;
}

// Forward rule and local derivatives of one node from its sources' data.
static void value_compute(Value *v)
{
    double a = v->src[0] ? v->src[0]->data : 0.0;
    double b = v->src[1] ? v->src[1]->data : 0.0;
    double t;
    switch ((ValueOp)v->op) {
    case OP_INPUT: case OP_CONST: case OP_COUNT:
        return;
    case OP_ADD: v->data = a + b; v->local[0] = 1; v->local[1] = 1; break;
    case OP_SUB: v->data = a - b; v->local[0] = 1; v->local[1] = -1; break;
    case OP_MUL: v->data = a * b; v->local[0] = b; v->local[1] = a; break;
    case OP_DIV:
        v->data = a / b;
        v->local[0] = 1.0 / b;
        v->local[1] = -a / (b * b);
        break;
    case OP_NEG: v->data = -a; v->local[0] = -1; break;
    case OP_POW:
        v->data = pow(a, v->exponent);
        v->local[0] = v->exponent == 0 ? 0.0 : v->exponent * pow(a, v->exponent - 1);
        break;
    case OP_EXP: v->data = exp(a); v->local[0] = v->data; break;
    case OP_LOG: v->data = log(a); v->local[0] = 1.0 / a; break;
    case OP_TANH: t = tanh(a); v->data = t; v->local[0] = 1 - t * t; break;
    case OP_SIGMOID:
        t = a >= 0 ? 1.0 / (1.0 + exp(-a)) : exp(a) / (1.0 + exp(a));
        v->data = t;
        v->local[0] = t * (1 - t);
        break;
    case OP_RELU: v->data = a > 0 ? a : 0; v->local[0] = a > 0 ? 1 : 0; break;
    case OP_MAX:
    case OP_MIN: {
        bool first = v->op == OP_MAX ? a > b : a < b;
        if (a == b) {
            v->data = a;
            v->local[0] = v->local[1] = 0.5;
        } else {
            v->data = first ? a : b;
            v->local[0] = first ? 1 : 0;
            v->local[1] = first ? 0 : 1;
        }
        break;
    }
    case OP_ABS:
        v->data = fabs(a);
        v->local[0] = a > 0 ? 1 : (a < 0 ? -1 : 0);
        break;
    case OP_SQRT:
        v->data = sqrt(a);
        v->local[0] = 0.5 / v->data;
        break;
    }
}

Value *value_input(Graph *g, double data, const char *name)
{
    Value *v = graph_new_node(g, OP_INPUT);
    if (v) {
        v->data = data;
        if (name && !value_set_name(g, v, name))
            return NULL;
    }
    return v;
}

Value *value_const(Graph *g, double data)
{
    Value *v = graph_new_node(g, OP_CONST);
    if (v)
        v->data = data;
    return v;
}

Value *value_apply(Graph *g, ValueOp op, Value *a, Value *b, double exponent)
{
    int arity = value_op_arity(op);
    if (arity == 0 || !a || (arity == 2 && !b))
        return NULL;
    Value *v = graph_new_node(g, op);
    if (!v)
        return NULL;
    v->src[0] = a;
    v->src[1] = arity == 2 ? b : NULL;
    v->exponent = exponent;
    value_compute(v);
    return v;
}

Value *value_add(Graph *g, Value *a, Value *b) { return value_apply(g, OP_ADD, a, b, 0); }
Value *value_sub(Graph *g, Value *a, Value *b) { return value_apply(g, OP_SUB, a, b, 0); }
Value *value_mul(Graph *g, Value *a, Value *b) { return value_apply(g, OP_MUL, a, b, 0); }
Value *value_div(Graph *g, Value *a, Value *b) { return value_apply(g, OP_DIV, a, b, 0); }
Value *value_neg(Graph *g, Value *a) { return value_apply(g, OP_NEG, a, NULL, 0); }
Value *value_pow(Graph *g, Value *a, double e) { return value_apply(g, OP_POW, a, NULL, e); }
Value *value_exp(Graph *g, Value *a) { return value_apply(g, OP_EXP, a, NULL, 0); }
Value *value_log(Graph *g, Value *a) { return value_apply(g, OP_LOG, a, NULL, 0); }
Value *value_tanh(Graph *g, Value *a) { return value_apply(g, OP_TANH, a, NULL, 0); }
Value *value_sigmoid(Graph *g, Value *a) { return value_apply(g, OP_SIGMOID, a, NULL, 0); }
Value *value_relu(Graph *g, Value *a) { return value_apply(g, OP_RELU, a, NULL, 0); }
Value *value_max(Graph *g, Value *a, Value *b) { return value_apply(g, OP_MAX, a, b, 0); }
Value *value_min(Graph *g, Value *a, Value *b) { return value_apply(g, OP_MIN, a, b, 0); }
Value *value_abs(Graph *g, Value *a) { return value_apply(g, OP_ABS, a, NULL, 0); }
Value *value_sqrt(Graph *g, Value *a) { return value_apply(g, OP_SQRT, a, NULL, 0); }

const char *value_label(const Value *v, char *buf, size_t n)
{
    if (v->name)
        return v->name;
    if (v->op == OP_CONST)
        snprintf(buf, n, "%.4g", v->data);
    else
        snprintf(buf, n, "(%s)", v->op == OP_POW ? "^" : value_op_symbol[v->op]);
    return buf;
}

bool value_set_name(Graph *g, Value *v, const char *name)
{
    char *copy = arena_strndup(&g->arena, name, strlen(name));
    if (!copy) {
        g->error = "out of memory";
        return false;
    }
    v->name = copy;
    return true;
}

size_t graph_mark_ancestors(Graph *g, const Value *out)
{
    for (size_t i = 0; i < g->n; i++)
        g->nodes[i]->mark = 0;
    if (!out)
        return 0;
    g->nodes[out->index]->mark = 1;
    size_t gates = 0;
    // Sources always have lower indices, so one reverse sweep marks them all.
    for (size_t i = out->index + 1; i-- > 0;) {
        Value *v = g->nodes[i];
        if (!v->mark)
            continue;
        if (v->src[0]) {
            gates++;
            v->src[0]->mark = 1;
            if (v->src[1])
                v->src[1]->mark = 1;
        }
    }
    return gates;
}

// Push out's gradient through at most ngates marked gates. The grads hold the
// upstream gradient of each node, so this accumulates into them.
static Value *backward_sweep(Graph *g, Value *out, size_t ngates)
{
    Value *last = NULL;
    for (size_t i = out->index + 1; i-- > 0 && ngates > 0;) {
        Value *v = g->nodes[i];
        if (!v->mark || !v->src[0])
            continue;
        for (int k = 0; k < 2 && v->src[k]; k++)
            v->src[k]->grad += v->local[k] * v->grad;
        last = v;
        ngates--;
    }
    return last;
}

void graph_backward(Graph *g, Value *out)
{
    if (!out)
        return;
    graph_mark_ancestors(g, out);
    // Run the sweep on fresh gradients, then add them to the old ones, so a
    // second call adds exactly d(out)/d(v) again instead of compounding.
    double *saved = malloc((out->index + 1) * sizeof(double));
    if (!saved) {
        g->error = "out of memory";
        return;
    }
    for (size_t i = 0; i <= out->index; i++) {
        saved[i] = g->nodes[i]->grad;
        g->nodes[i]->grad = 0;
    }
    out->grad = 1.0;
    backward_sweep(g, out, SIZE_MAX);
    for (size_t i = 0; i <= out->index; i++)
        g->nodes[i]->grad += saved[i];
    free(saved);
}

Value *graph_backward_partial(Graph *g, Value *out, size_t ngates)
{
    graph_zero_grad(g);
    if (!out)
        return NULL;
    graph_mark_ancestors(g, out);
    out->grad = 1.0;
    return backward_sweep(g, out, ngates);
}

void graph_zero_grad(Graph *g)
{
    for (size_t i = 0; i < g->n; i++)
        g->nodes[i]->grad = 0;
}

void graph_forward(Graph *g)
{
    for (size_t i = 0; i < g->n; i++)
        value_compute(g->nodes[i]);
}
