// tensor.h: the float32 tensor autograd engine (no SDL, libc and libm only).
//
// A tiny tutorial: one step of logistic regression, loss = mean((sigmoid(x@w + b) - y)^2).
//
//     int wshape[] = { 2, 1 }, bshape[] = { 1 };
//     Tensor *w = tensor_create(2, wshape, true);     // (I, 1) parameter, long-lived
//     Tensor *b = tensor_create(1, bshape, true);     // (1)
//     TensorGraph *g = tensor_graph_create(0);
//     for (int step = 0; step < 100; step++) {
//         tensor_graph_reset(g);                       // drop last step's nodes
//         Tensor *x = tensor_input2(g, 4, 2, xdata);   // (B, I) a leaf in the graph
//         Tensor *y = tensor_input2(g, 4, 1, ydata);   // (B, 1)
//         Tensor *p = tensor_sigmoid(g, tensor_bias_add(g, tensor_matmul(g, x, w), b));
//         Tensor *loss = tensor_mse(g, p, y);          // () forward is already done
//         tensor_zero_grad(w); tensor_zero_grad(b);
//         if (!tensor_backward(g, loss))               // w->grad, b->grad filled
//             fprintf(stderr, "%s\n", tensor_graph_error(g));   // loss was NULL, or out of memory
//         for (size_t i = 0; i < w->size; i++) w->data[i] -= 0.1f * w->grad[i];
//         b->data[0] -= 0.1f * b->grad[0];
//     }
//     tensor_graph_destroy(g); tensor_destroy(w); tensor_destroy(b);
//
// Two kinds of tensors:
//   - long-lived ones from tensor_create (parameters, optimizer state): one
//     malloc holds the struct, data and grad; tensor_destroy frees it.
//   - graph nodes, made by the ops and by tensor_input*: they live in the
//     graph's arena and vanish at tensor_graph_reset. Never destroy them.
//
// Every op computes its result at once (eager), and records op and sources
// so tensor_backward can walk the graph in reverse creation order. Backward
// is one switch over the op (tensor.c). Ops are an enum with parallel name
// and symbol tables for the graph views.
//
// Shapes are row-major, up to 4 dimensions, at most TENSOR_MAX_SIZE
// elements; written (B, T, H) in comments.
//
// Errors never abort: shapes and ids may come from lessons and .npy files.
// An op whose shapes do not fit, whose ids are out of range, or that runs
// out of memory (or past the graph's limit) records a sentence in the graph,
// for example "MATMUL: a (2, 3) @ b (4, 5): need a (..., K) and b (K, N)",
// and returns NULL; an op given a NULL operand returns NULL too. So a whole
// step can be built and checked once at the end:
//
//     Tensor *loss = tensor_mse(g, tensor_matmul(g, x, w), y);
//     if (!loss || !tensor_backward(g, loss))
//         report(tensor_graph_error(g));            // the first thing that failed
//
// Only misuse that no input can cause (tensor_destroy on a graph node)
// still prints file:line and aborts.
#ifndef GRADLAB_TENSOR_H
#define GRADLAB_TENSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/arena.h"

#define TENSOR_MAX_DIMS 4
#define TENSOR_MAX_SIZE ((size_t)2147483647)   // elements in one tensor (indices fit an int)

typedef enum TensorOp {
    TENSOR_OP_LEAF,         // an input or a parameter
    TENSOR_OP_ONE_HOT,      // (n, V) rows of the identity picked by ids; no gradient
    TENSOR_OP_MATMUL,       // (..., K) @ (K, N)
    TENSOR_OP_ADD,          // broadcasting
    TENSOR_OP_SUB,
    TENSOR_OP_MUL,
    TENSOR_OP_BIAS_ADD,     // (..., N) + (N)
    TENSOR_OP_SCALE,        // x * constant
    TENSOR_OP_TANH,
    TENSOR_OP_SIGMOID,
    TENSOR_OP_RELU,
    TENSOR_OP_EXP,
    TENSOR_OP_LOG,
    TENSOR_OP_SOFTMAX,      // over the last axis
    TENSOR_OP_LOG_SOFTMAX,  // over the last axis
    TENSOR_OP_NLL,          // mean of -logp[n, target[n]]
    TENSOR_OP_MSE,          // mean of (a - b)^2
    TENSOR_OP_SUM,          // all elements -> ()
    TENSOR_OP_MEAN,
    TENSOR_OP_SLICE,        // a range along one axis
    TENSOR_OP_CONCAT,       // along one axis
    TENSOR_OP_TRANSPOSE,    // swap two axes
    TENSOR_OP_RESHAPE,      // same data, new shape
    TENSOR_OP_EMBEDDING,    // rows of a table picked by ids
    TENSOR_OP_CONV2D,       // NCHW, one stride and one padding for both axes
    TENSOR_OP_MAXPOOL2D,    // NCHW
    TENSOR_OP_COUNT
} TensorOp;

// Parallel tables indexed by TensorOp: "MATMUL" and the label a graph view
// puts on the node ("@").
extern const char *const tensor_op_name[TENSOR_OP_COUNT];
extern const char *const tensor_op_symbol[TENSOR_OP_COUNT];

typedef struct Tensor Tensor;
struct Tensor {
    int ndim;                       // 0 (a scalar) to TENSOR_MAX_DIMS
    int shape[TENSOR_MAX_DIMS];     // (ndim); entries past ndim are 1
    size_t size;                    // number of elements, product of shape
    float *data;                    // (size)
    float *grad;                    // (size) d(out)/d(this), or NULL until backward reaches it
    bool requires_grad;             // a gradient flows to this tensor
    bool long_lived;                // from tensor_create or a TensorBlock, not the graph
    bool in_block;                  // part of a TensorBlock: freed with the block
    unsigned char op;               // TensorOp
    int nsrc;                       // number of sources
    Tensor **src;                   // (nsrc) sources, created earlier
    int iparam[4];                  // op parameters (axis, start, stride, ...)
    float fparam;                   // TENSOR_OP_SCALE factor
    int *ids;                       // NLL targets, EMBEDDING/ONE_HOT ids, MAXPOOL argmax
    const char *name;               // a label for views, or NULL
    int index;                      // position in the graph, -1 when long-lived
};

typedef struct TensorGraph {
    Arena arena;        // node structs, their data and grads
    Tensor **nodes;     // (n) in creation order, a topological order (malloc)
    size_t n, cap;
    size_t limit;       // arena cap in bytes, 0 = none
    char error[256];    // the first error since the last reset, "" for none
} TensorGraph;

// ---------------------------------------------------------------------------
// Lifetimes

// Create a graph whose arena holds at most limit bytes (0 = no cap; an op
// past the cap returns NULL with a message). Returns NULL when out of memory.
TensorGraph *tensor_graph_create(size_t limit);

// The first error since the graph was created or reset (an op that returned
// NULL, a tensor_backward that returned false), or NULL when there was none.
// For a NULL graph: a sentence saying so.
const char *tensor_graph_error(const TensorGraph *g);

// Free the graph and every node in it. NULL is a no-op.
void tensor_graph_destroy(TensorGraph *g);

// Drop every node and the error, keeping the memory for the next step.
// Long-lived tensors are untouched, gradients included. NULL is a no-op.
void tensor_graph_reset(TensorGraph *g);

// The same, and give the memory back to the system: for a graph kept
// between infrequent steps (a caller holding many trainers and stepping one
// at a time); the next step allocates afresh. NULL is a no-op.
void tensor_graph_release(TensorGraph *g);

// Create a long-lived zero tensor of the given shape (ndim 0..4). With
// requires_grad a zeroed grad buffer comes with it. NULL when out of memory
// or when the shape is not one (an axis below 1, more than TENSOR_MAX_SIZE
// elements).
Tensor *tensor_create(int ndim, const int *shape, bool requires_grad);

// Free a tensor from tensor_create. NULL is a no-op.
void tensor_destroy(Tensor *t);

// Set every element of t->grad to 0 (no-op when t has no grad buffer).
void tensor_zero_grad(Tensor *t);

// Many long-lived tensors in one allocation, as llm.c keeps its parameters:
// their data are consecutive slices of one flat array (and their grads of
// another), so an optimizer can treat all of them as a single vector.
typedef struct TensorBlock {
    int n;              // number of tensors
    Tensor **t;         // (n) the tensors, in the order given
    size_t size;        // total elements, the length of data and grad
    float *data;        // (size) every tensor's data, back to back
    float *grad;        // (size) likewise, or NULL without requires_grad
} TensorBlock;

// Create n zero tensors; tensor i has ndims[i] axes and shape shapes[i].
// NULL when out of memory or a shape is not one (as tensor_create), or when
// they add up to more than TENSOR_MAX_SIZE elements. Free with
// tensor_block_destroy, never the members.
TensorBlock *tensor_block_create(int n, const int *ndims,
                                 const int (*shapes)[TENSOR_MAX_DIMS], bool requires_grad);

// Free the block and its tensors. NULL is a no-op.
void tensor_block_destroy(TensorBlock *b);

// Zero every gradient in the block.
void tensor_block_zero_grad(TensorBlock *b);

// ---------------------------------------------------------------------------
// Leaves in the graph (no gradient). data (size floats) is copied; NULL gives
// zeros. Like the ops, NULL with the reason in the graph for a bad shape or
// when out of memory.

Tensor *tensor_input(TensorGraph *g, int ndim, const int *shape, const float *data);
Tensor *tensor_input1(TensorGraph *g, int n0, const float *data);
Tensor *tensor_input2(TensorGraph *g, int n0, int n1, const float *data);
Tensor *tensor_input4(TensorGraph *g, int n0, int n1, int n2, int n3, const float *data);

// (n, V) one-hot rows: row i is 1 at ids[i]. ids must lie in [0, V).
Tensor *tensor_one_hot(TensorGraph *g, const int *ids, int n, int V);

// ---------------------------------------------------------------------------
// Ops. Each returns a new graph node holding the result, or NULL with the
// reason in tensor_graph_error(g) (see the top of this file).

// (..., K) @ (K, N) -> (..., N): leading axes of a are flattened into rows.
Tensor *tensor_matmul(TensorGraph *g, Tensor *a, Tensor *b);

// Element-wise with NumPy broadcasting (shapes aligned at the right; an
// axis of size 1 stretches).
Tensor *tensor_add(TensorGraph *g, Tensor *a, Tensor *b);
Tensor *tensor_sub(TensorGraph *g, Tensor *a, Tensor *b);
Tensor *tensor_mul(TensorGraph *g, Tensor *a, Tensor *b);

// (..., N) + bias (N) -> (..., N). The fast form of add for a bias vector.
Tensor *tensor_bias_add(TensorGraph *g, Tensor *x, Tensor *bias);

// x * s for a constant s.
Tensor *tensor_scale(TensorGraph *g, Tensor *x, float s);

// Element-wise functions. log expects positive inputs.
Tensor *tensor_tanh(TensorGraph *g, Tensor *x);
Tensor *tensor_sigmoid(TensorGraph *g, Tensor *x);
Tensor *tensor_relu(TensorGraph *g, Tensor *x);
Tensor *tensor_exp(TensorGraph *g, Tensor *x);
Tensor *tensor_log(TensorGraph *g, Tensor *x);

// Softmax and log-softmax over the last axis (numerically stable).
Tensor *tensor_softmax(TensorGraph *g, Tensor *x);
Tensor *tensor_log_softmax(TensorGraph *g, Tensor *x);

// logp (N, C), targets (N) in [0, C) -> () mean over n of -logp[n, targets[n]].
// targets is copied.
Tensor *tensor_nll(TensorGraph *g, Tensor *logp, const int *targets);

// logits (N, C) -> () cross-entropy: tensor_nll(tensor_log_softmax(logits)).
Tensor *tensor_cross_entropy(TensorGraph *g, Tensor *logits, const int *targets);

// a, b of the same shape -> () mean of (a - b)^2.
Tensor *tensor_mse(TensorGraph *g, Tensor *a, Tensor *b);

// Every element -> () their sum or mean.
Tensor *tensor_sum(TensorGraph *g, Tensor *x);
Tensor *tensor_mean(TensorGraph *g, Tensor *x);

// Elements [start, start + len) along axis; the other axes are kept.
// E.g. gate i of an LSTM: tensor_slice(g, gates /* (B, 4H) */, 1, 0, H).
Tensor *tensor_slice(TensorGraph *g, Tensor *x, int axis, int start, int len);

// Join n tensors along axis; all other axes must agree.
Tensor *tensor_concat(TensorGraph *g, int n, Tensor *const *xs, int axis);

// Swap axes a0 and a1 (a copy, not a view).
Tensor *tensor_transpose(TensorGraph *g, Tensor *x, int a0, int a1);

// Same elements, new shape (ndim 0..4); the sizes must multiply to x->size.
Tensor *tensor_reshape(TensorGraph *g, Tensor *x, int ndim, const int *shape);

// table (V, D), ids (n) in [0, V) -> (n, D) with row i = table[ids[i]].
// ids is copied.
Tensor *tensor_embedding(TensorGraph *g, Tensor *table, const int *ids, int n);

// x (N, C, H, W), w (F, C, KH, KW), bias (F) or NULL -> (N, F, OH, OW) with
// OH = (H + 2 pad - KH) / stride + 1 (and likewise OW). Zero padding. (A
// NULL bias means none: when it comes from an op, check that op's result.)
Tensor *tensor_conv2d(TensorGraph *g, Tensor *x, Tensor *w, Tensor *bias,
                      int stride, int pad);

// x (N, C, H, W) -> (N, C, OH, OW), the max over k x k windows moved by
// stride, OH = (H - k) / stride + 1. Ties go to the first element.
Tensor *tensor_maxpool2d(TensorGraph *g, Tensor *x, int k, int stride);

// ---------------------------------------------------------------------------
// Backward

// Add d(sum of out)/d(t) to t->grad for every long-lived tensor t with
// requires_grad that out depends on (zero them first with tensor_zero_grad
// unless accumulating is the point). For a scalar loss that is dL/dt.
// Graph nodes' grads are recomputed from scratch on each call. Returns false,
// with the reason in tensor_graph_error(g), when out is NULL or not a node
// of g, or when the gradient buffers do not fit in memory; every buffer is
// made before any gradient changes, so then no long-lived grad has changed.
bool tensor_backward(TensorGraph *g, Tensor *out);

// ---------------------------------------------------------------------------
// Helpers

// Write the shape as "(2, 3)" ("()" for a scalar) into buf; returns buf.
char *tensor_shape_str(const Tensor *t, char *buf, size_t n);

// Set a label shown by views; name is copied into the graph (or kept as is
// for long-lived tensors, which must outlive t). Returns t (NULL for NULL;
// out of memory leaves t without a label).
Tensor *tensor_set_name(TensorGraph *g, Tensor *t, const char *name);

// Fault injection for tests, as SQLite's: after n more allocations every
// allocation the tensor library makes (graphs, tensors, blocks, graph nodes,
// gradients, the node list) fails, until the next call; n < 0 turns it off.
// Per thread.
void tensor_fail_allocs_after(long n);

#endif
