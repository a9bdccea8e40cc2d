// value.h: the scalar autograd engine (double precision).
//
// A tiny tutorial, f = (x + y) * z:
//
//     Graph *g = graph_create(0);
//     Value *x = value_input(g, -2.0, "x");
//     Value *y = value_input(g, 5.0, "y");
//     Value *z = value_input(g, -4.0, "z");
//     Value *f = value_mul(g, value_add(g, x, y), z);   // f->data == -12
//     graph_backward(g, f);                              // x->grad == -4, z->grad == 3
//     graph_destroy(g);
//
// Every op computes its result *and* the local derivative of its result with
// respect to each source, stored on the edge (Value.local[i]). Backward then
// only multiplies: contribution = local[i] * upstream grad. The viewer shows
// exactly that product at each gate.
//
// Memory: nodes live in the graph's arena. graph_reset() drops them all at
// once; there is no per-node free.
//
// Gradient semantics (as in PyTorch, unlike a fresh micrograd object):
//   - graph_backward(g, out) ADDS d(out)/d(v) to v->grad for every node v.
//     Calling it twice without zeroing doubles every gradient, out's included.
//   - graph_zero_grad(g) sets every grad to 0. Do it before each backward
//     unless accumulation across outputs is what you want.
//   - A node used twice (x * x, or a name used on two lines) receives the sum
//     of the contributions of both uses.
//   - Nodes that out does not depend on are left untouched.
//
// Failure: when the graph reaches its node limit or memory runs out, ops
// return NULL, and every op given a NULL source returns NULL, so one check at
// the end of a computation is enough. graph_error(g) says why.
#ifndef GRADLAB_VALUE_H
#define GRADLAB_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/arena.h"

typedef enum ValueOp {
    OP_INPUT,   // a leaf the user can change (x = -2)
    OP_CONST,   // a literal inside an expression (the 1 in c + 1)
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_NEG,
    OP_POW,     // constant exponent, kept in Value.exponent
    OP_EXP,
    OP_LOG,
    OP_TANH,
    OP_SIGMOID,
    OP_RELU,
    OP_MAX,
    OP_MIN,
    OP_ABS,
    OP_SQRT,
    OP_COUNT
} ValueOp;

// Parallel tables indexed by ValueOp: a name ("ADD") and the symbol a graph
// view puts in a gate ("+").
extern const char *const value_op_name[OP_COUNT];
extern const char *const value_op_symbol[OP_COUNT];

// The number of sources an op takes: 0, 1 or 2.
int value_op_arity(ValueOp op);

typedef struct Value Value;
// Value.flags
#define VALUE_SHARED 1  // a named value read by more than one loop iteration: a weight shared across time steps

struct Value {
    double data;        // forward value
    double grad;        // d(out)/d(this), accumulated by graph_backward
    Value *src[2];      // sources, NULL when unused
    double local[2];    // d(this)/d(src[i]), set when the node is created
    double exponent;    // OP_POW only
    const char *name;   // label bound by a program ("x", "f", "h[3]"), or NULL
    unsigned index;     // position in creation order; sources have lower ones
    unsigned char op;   // ValueOp
    unsigned char mark; // scratch for traversals
    unsigned char flags;  // VALUE_SHARED; set by program_build, 0 otherwise
    unsigned short loop;  // which top-level `for` of a program made this node, from 1; 0 = none
    int step;             // with loop > 0: that loop's variable when the node was made (the time step)
};

typedef struct Graph {
    Arena arena;        // holds the Value nodes and their names
    Value **nodes;      // (n) in creation order, which is a topological order
    size_t n, cap;
    size_t max_nodes;   // ops fail once n reaches this
    const char *error;  // static text describing the latest failure, or NULL
} Graph;

#define GRAPH_DEFAULT_MAX_NODES ((size_t)1 << 24)

// Create an empty graph that holds at most max_nodes nodes (0 = the default).
// Returns NULL when out of memory. Free with graph_destroy.
Graph *graph_create(size_t max_nodes);

// Free the graph and every node in it. NULL is a no-op.
void graph_destroy(Graph *g);

// Drop every node, keeping the memory for the next build.
void graph_reset(Graph *g);

// Why the last op returned NULL ("node limit reached", "out of memory"), or NULL.
const char *graph_error(const Graph *g);

// Leaves. name may be NULL; it is copied into the graph.
Value *value_input(Graph *g, double data, const char *name);
Value *value_const(Graph *g, double data);

// Ops. Each returns a new node, or NULL on failure or when a source is NULL.
Value *value_add(Graph *g, Value *a, Value *b);
Value *value_sub(Graph *g, Value *a, Value *b);
Value *value_mul(Graph *g, Value *a, Value *b);
Value *value_div(Graph *g, Value *a, Value *b);
Value *value_neg(Graph *g, Value *a);
Value *value_pow(Graph *g, Value *a, double exponent);
Value *value_exp(Graph *g, Value *a);
Value *value_log(Graph *g, Value *a);
Value *value_tanh(Graph *g, Value *a);
Value *value_sigmoid(Graph *g, Value *a);
Value *value_relu(Graph *g, Value *a);
Value *value_max(Graph *g, Value *a, Value *b);   // ties split the gradient 1/2, 1/2
Value *value_min(Graph *g, Value *a, Value *b);
Value *value_abs(Graph *g, Value *a);
Value *value_sqrt(Graph *g, Value *a);            // d/da = 1 / (2 sqrt(a)): +Inf at 0, NaN below

// Apply op to sources (b ignored for unary ops; exponent only for OP_POW).
// The generic form the expression language and tests use.
Value *value_apply(Graph *g, ValueOp op, Value *a, Value *b, double exponent);

// How v is written in text: its name, its constant, or its gate symbol in
// parentheses ("(×)", "(^)") for an unnamed gate. Writes into buf; returns
// buf, or v->name itself when v has a name.
const char *value_label(const Value *v, char *buf, size_t n);

// Set v->name to a copy of name. Returns false when out of memory.
bool value_set_name(Graph *g, Value *v, const char *name);

// Mark out and every node it depends on (Value.mark = 1; others 0).
// Returns the number of marked gates, i.e. marked nodes that are not leaves.
size_t graph_mark_ancestors(Graph *g, const Value *out);

// Add d(out)/d(v) to v->grad for every node v that out depends on.
void graph_backward(Graph *g, Value *out);

// Step-by-step backward for teaching: zero every grad, seed out->grad = 1,
// then push gradients through the first ngates gates that out depends on, in
// reverse topological order. Returns the gate processed last, or NULL when
// ngates is 0. graph_backward_partial(g, out, SIZE_MAX) equals zero_grad +
// graph_backward.
Value *graph_backward_partial(Graph *g, Value *out, size_t ngates);

// Set every node's grad to 0.
void graph_zero_grad(Graph *g);

// Recompute data and local derivatives of every node from its sources, in
// creation order. Use after changing an input's data.
void graph_forward(Graph *g);

#endif
