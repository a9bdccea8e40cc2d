// tensor.c: the float32 tensor autograd engine; see tensor.h.
//
// Sections: op tables, errors, lifetimes, leaves, the ops (each forward at
// creation), and backward, which is one switch over the op.
//
// Nothing that data can cause aborts: a bad shape, an id out of range, a size
// that overflows, or running out of memory makes the op record a sentence in
// the graph (tensor_graph_error) and return NULL, and every op given a NULL
// returns NULL. Only misuse no input can cause (tensor_destroy on a graph
// node, an unknown op in backward) still aborts.
//
// Shapes in comments: B batch, N rows, C channels or classes, H W height and
// width, F filters, K inner dimension, V vocabulary, D embedding width.
#include "engine/tensor/tensor.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor/conv_direct.h"
#include "engine/tensor/elementwise.h"
#include "engine/tensor/gemm.h"

// ===========================================================================
// Op tables

const char *const tensor_op_name[TENSOR_OP_COUNT] = {
    "LEAF", "ONE_HOT", "MATMUL", "ADD", "SUB", "MUL", "BIAS_ADD", "SCALE",
    "TANH", "SIGMOID", "RELU", "EXP", "LOG", "SOFTMAX", "LOG_SOFTMAX",
    "NLL", "MSE", "SUM", "MEAN", "SLICE", "CONCAT", "TRANSPOSE", "RESHAPE",
    "EMBEDDING", "CONV2D", "MAXPOOL2D",
};

const char *const tensor_op_symbol[TENSOR_OP_COUNT] = {
    "", "onehot", "@", "+", "\u2212", "\u00d7", "+b", "\u00d7s",
    "tanh", "\u03c3", "relu", "exp", "log", "softmax", "logsoftmax",
    "nll", "mse", "\u03a3", "mean", "[:]", "cat", "T", "view",
    "embed", "conv", "maxpool",
};

static_assert(sizeof tensor_op_name / sizeof tensor_op_name[0] == TENSOR_OP_COUNT,
              "tensor_op_name out of step with TensorOp");
static_assert(sizeof tensor_op_symbol / sizeof tensor_op_symbol[0] == TENSOR_OP_COUNT,
              "tensor_op_symbol out of step with TensorOp");
static_assert(TENSOR_OP_MAXPOOL2D + 1 == TENSOR_OP_COUNT,
              "add the new op to both tables");

// ===========================================================================
// Errors

// API misuse that no input can cause: print file:line and abort.
static void tensor_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: tensor error: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

#define TENSOR_MISUSE(cond, ...)                                            \
    do {                                                                    \
        if (!(cond))                                                        \
            tensor_fail(__FILE__, __LINE__, __VA_ARGS__);                   \
    } while (0)

// Record the first error of a graph (later ones are consequences) and
// return NULL, so that an op can `return graph_fail(g, ...)`.
static Tensor *graph_fail(TensorGraph *g, const char *fmt, ...)
{
    if (g && !g->error[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->error, sizeof g->error, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

// In an op: when cond fails, record the message and return NULL.
#define TENSOR_REQUIRE(g, cond, ...)                                        \
    do {                                                                    \
        if (!(cond))                                                        \
            return graph_fail((g), __VA_ARGS__);                            \
    } while (0)

// In an op: a NULL graph or operand (an earlier op failed) gives NULL.
#define TENSOR_NEED(g, x)                                                   \
    do {                                                                    \
        if (!(g) || !(x))                                                   \
            return NULL;                                                    \
    } while (0)

const char *tensor_graph_error(const TensorGraph *g)
{
    if (!g)
        return "no graph (out of memory creating it)";
    return g->error[0] ? g->error : NULL;
}

// Fault injection for tests (tensor_fail_allocs_after): allocations left
// before every allocation fails; negative = never.
static _Thread_local long allocs_left = -1;

void tensor_fail_allocs_after(long n)
{
    allocs_left = n;
}

// True when the next allocation must fail (injected).
static bool alloc_fails(void)
{
    if (allocs_left < 0)
        return false;
    if (allocs_left == 0)
        return true;
    allocs_left--;
    return false;
}

static void *checked_calloc(size_t n)
{
    return alloc_fails() ? NULL : calloc(1, n);
}

char *tensor_shape_str(const Tensor *t, char *buf, size_t n)
{
    size_t len = 0;
    if (n == 0)
        return buf;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, n - len, "(");
    for (int d = 0; d < t->ndim && len < n; d++)
        len += (size_t)snprintf(buf + len, n - len, d ? ", %d" : "%d", t->shape[d]);
    if (len < n)
        snprintf(buf + len, n - len, ")");
    return buf;
}

// Shape strings for messages: up to four live at once.
static const char *shp(const Tensor *t)
{
    static _Thread_local char bufs[4][64];
    static _Thread_local int next;
    char *b = bufs[next++ & 3];
    return tensor_shape_str(t, b, sizeof bufs[0]);
}

// ===========================================================================
// Lifetimes

TensorGraph *tensor_graph_create(size_t limit)
{
    TensorGraph *g = checked_calloc(sizeof *g);
    if (!g)
        return NULL;
    arena_init(&g->arena, 1 << 20, limit);
    g->limit = limit;
    return g;
}

void tensor_graph_destroy(TensorGraph *g)
{
    if (!g)
        return;
    arena_destroy(&g->arena);
    free(g->nodes);
    free(g);
}

void tensor_graph_reset(TensorGraph *g)
{
    if (!g)
        return;
    arena_reset(&g->arena);
    g->n = 0;
    g->error[0] = '\0';
}

void tensor_graph_release(TensorGraph *g)
{
    if (!g)
        return;
    tensor_graph_reset(g);
    arena_destroy(&g->arena); // leaves it empty and usable, with its block size and limit
    free(g->nodes);
    g->nodes = NULL;
    g->cap = 0;
}

// The number of elements, or 0 when an axis is not positive or the count
// passes TENSOR_MAX_SIZE (so indices fit an int and bytes a size_t).
static size_t shape_size(int ndim, const int *shape)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] <= 0 || (size_t)shape[d] > TENSOR_MAX_SIZE / n)
            return 0;
        n *= (size_t)shape[d];
    }
    return n;
}

// Write "(2, 3)" for ndim axes of shape into buf (n bytes).
static const char *dims_str(int ndim, const int *shape, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < ndim && d < TENSOR_MAX_DIMS && len < n; d++)
        len += (size_t)snprintf(buf + len, n - len, d ? ", %d" : "%d", shape[d]);
    if (len < n)
        snprintf(buf + len, n - len, ")");
    return buf;
}

// Fill t's shape; false with a sentence in err when the shape is not one.
static bool set_shape(Tensor *t, int ndim, const int *shape, char *err, size_t errlen)
{
    char buf[80];
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS) {
        snprintf(err, errlen, "ndim %d outside 0..%d", ndim, TENSOR_MAX_DIMS);
        return false;
    }
    size_t size = shape_size(ndim, shape);
    if (size == 0) {
        snprintf(err, errlen, "shape %s: sizes must be positive, with at most %zu elements",
                 dims_str(ndim, shape, buf, sizeof buf), (size_t)TENSOR_MAX_SIZE);
        return false;
    }
    t->ndim = ndim;
    for (int d = 0; d < TENSOR_MAX_DIMS; d++)
        t->shape[d] = d < ndim ? shape[d] : 1;
    t->size = size;
    return true;
}

Tensor *tensor_create(int ndim, const int *shape, bool requires_grad)
{
    Tensor tmp;
    char err[160];
    memset(&tmp, 0, sizeof tmp);
    if (!set_shape(&tmp, ndim, shape, err, sizeof err))
        return NULL;
    size_t head = (sizeof(Tensor) + 63) & ~(size_t)63;
    if (tmp.size > (SIZE_MAX - head) / 2 / sizeof(float) - 64)
        return NULL;   // only where size_t is 32 bits
    size_t bytes = (tmp.size * sizeof(float) + 63) & ~(size_t)63;
    char *mem = checked_calloc(head + bytes * (requires_grad ? 2 : 1));
    if (!mem)
        return NULL;
    Tensor *t = (Tensor *)(void *)mem;
    *t = tmp;
    t->data = (float *)(void *)(mem + head);
    t->grad = requires_grad ? (float *)(void *)(mem + head + bytes) : NULL;
    t->requires_grad = requires_grad;
    t->long_lived = true;
    t->op = TENSOR_OP_LEAF;
    t->index = -1;
    return t;
}

void tensor_destroy(Tensor *t)
{
    if (!t)
        return;
    TENSOR_MISUSE(t->long_lived && !t->in_block,
                 "tensor_destroy on %s %s: only tensors from tensor_create are freed one by one",
                 t->long_lived ? "a block member" : "a graph node", shp(t));
    free(t);
}

TensorBlock *tensor_block_create(int n, const int *ndims,
                                 const int (*shapes)[TENSOR_MAX_DIMS], bool requires_grad)
{
    if (n < 0)
        return NULL;
    // One malloc: the block, the pointer array, the structs, then data and grad.
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        Tensor tmp;
        char err[160];
        memset(&tmp, 0, sizeof tmp);
        if (!set_shape(&tmp, ndims[i], shapes[i], err, sizeof err) || tmp.size > TENSOR_MAX_SIZE - total)
            return NULL;
        total += tmp.size;
    }
    if ((size_t)n > TENSOR_MAX_SIZE / (sizeof(Tensor) + sizeof(Tensor *)))
        return NULL;
    size_t head = sizeof(TensorBlock) + (size_t)n * sizeof(Tensor *) + (size_t)n * sizeof(Tensor);
    head = (head + 63) & ~(size_t)63;
    size_t bytes = (total * sizeof(float) + 63) & ~(size_t)63;
    char *mem = checked_calloc(head + bytes * (requires_grad ? 2 : 1));
    if (!mem)
        return NULL;
    TensorBlock *b = (TensorBlock *)(void *)mem;
    b->n = n;
    b->t = (Tensor **)(void *)(mem + sizeof(TensorBlock));
    Tensor *structs = (Tensor *)(void *)(b->t + n);
    b->size = total;
    b->data = (float *)(void *)(mem + head);
    b->grad = requires_grad ? (float *)(void *)(mem + head + bytes) : NULL;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        Tensor *t = &structs[i];
        char err[160];
        set_shape(t, ndims[i], shapes[i], err, sizeof err);   // checked above
        t->data = b->data + off;
        t->grad = requires_grad ? b->grad + off : NULL;
        t->requires_grad = requires_grad;
        t->long_lived = true;
        t->in_block = true;
        t->op = TENSOR_OP_LEAF;
        t->index = -1;
        b->t[i] = t;
        off += t->size;
    }
    return b;
}

void tensor_block_destroy(TensorBlock *b)
{
    free(b);
}

void tensor_block_zero_grad(TensorBlock *b)
{
    if (b && b->grad)
        memset(b->grad, 0, b->size * sizeof(float));
}

void tensor_zero_grad(Tensor *t)
{
    if (t && t->grad)
        memset(t->grad, 0, t->size * sizeof(float));
}

Tensor *tensor_set_name(TensorGraph *g, Tensor *t, const char *name)
{
    if (!t)
        return NULL;
    if (!t->long_lived && name)   // out of memory: no label, nothing else lost
        name = g && !alloc_fails() ? arena_strndup(&g->arena, name, strlen(name)) : NULL;
    t->name = name;
    return t;
}

// ===========================================================================
// Node creation

// size bytes from the graph's arena, or NULL with the reason recorded.
static void *galloc(TensorGraph *g, size_t bytes)
{
    void *p = alloc_fails() ? NULL : arena_alloc(&g->arena, bytes);
    if (!p) {
        if (g->limit && bytes <= SIZE_MAX - g->arena.used_total &&
            g->arena.used_total + bytes > g->limit)
            graph_fail(g, "graph memory exhausted (%zu bytes in use, %zu more wanted, limit %zu): "
                       "reset the graph each step or raise the limit",
                       g->arena.used_total, bytes, g->limit);
        else
            graph_fail(g, "out of memory (%zu bytes for the graph, %zu more wanted)",
                       g->arena.used_total, bytes);
    }
    return p;
}

// A new node with op, shape and sources; data allocated, not initialised.
// NULL (with the reason in g) for a bad shape or when out of memory.
static Tensor *node_new(TensorGraph *g, TensorOp op, int ndim, const int *shape,
                        int nsrc, Tensor *const *src)
{
    Tensor tmp;
    char err[160];
    memset(&tmp, 0, sizeof tmp);
    if (!set_shape(&tmp, ndim, shape, err, sizeof err))
        return graph_fail(g, "%s: result %s", tensor_op_name[op], err);
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 256;
        Tensor **nodes = alloc_fails() ? NULL : realloc(g->nodes, cap * sizeof *nodes);
        if (!nodes)
            return graph_fail(g, "out of memory growing the node list to %zu", cap);
        g->nodes = nodes;
        g->cap = cap;
    }
    Tensor *t = galloc(g, sizeof *t);
    if (!t)
        return NULL;
    *t = tmp;
    t->op = (unsigned char)op;
    if (!(t->data = galloc(g, t->size * sizeof(float))))
        return NULL;
    t->nsrc = nsrc;
    if (nsrc > 0) {
        if (!(t->src = galloc(g, (size_t)nsrc * sizeof(Tensor *))))
            return NULL;
        for (int i = 0; i < nsrc; i++) {
            t->src[i] = src[i];
            t->requires_grad |= src[i]->requires_grad;
        }
    }
    t->index = (int)g->n;
    g->nodes[g->n++] = t;
    return t;
}

static Tensor *node1(TensorGraph *g, TensorOp op, Tensor *x, int ndim, const int *shape)
{
    return node_new(g, op, ndim, shape, 1, &x);
}

static Tensor *node2(TensorGraph *g, TensorOp op, Tensor *a, Tensor *b, int ndim, const int *shape)
{
    Tensor *src[2] = { a, b };
    return node_new(g, op, ndim, shape, 2, src);
}

static int *copy_ids(TensorGraph *g, const int *ids, int n)
{
    int *p = galloc(g, (size_t)n * sizeof(int));
    if (p)
        memcpy(p, ids, (size_t)n * sizeof(int));
    return p;
}

// ===========================================================================
// Leaves

Tensor *tensor_input(TensorGraph *g, int ndim, const int *shape, const float *data)
{
    if (!g)
        return NULL;
    Tensor *t = node_new(g, TENSOR_OP_LEAF, ndim, shape, 0, NULL);
    if (!t)
        return NULL;
    if (data)
        memcpy(t->data, data, t->size * sizeof(float));
    else
        memset(t->data, 0, t->size * sizeof(float));
    return t;
}

Tensor *tensor_input1(TensorGraph *g, int n0, const float *data)
{
    return tensor_input(g, 1, (int[]){ n0 }, data);
}

Tensor *tensor_input2(TensorGraph *g, int n0, int n1, const float *data)
{
    return tensor_input(g, 2, (int[]){ n0, n1 }, data);
}

Tensor *tensor_input4(TensorGraph *g, int n0, int n1, int n2, int n3, const float *data)
{
    return tensor_input(g, 4, (int[]){ n0, n1, n2, n3 }, data);
}

Tensor *tensor_one_hot(TensorGraph *g, const int *ids, int n, int V)
{
    TENSOR_NEED(g, ids);
    for (int i = 0; i < n; i++)
        TENSOR_REQUIRE(g, ids[i] >= 0 && ids[i] < V, "ONE_HOT: id %d at %d outside [0, %d)", ids[i], i, V);
    Tensor *t = node_new(g, TENSOR_OP_ONE_HOT, 2, (int[]){ n, V }, 0, NULL);  // (n, V)
    if (!t || !(t->ids = copy_ids(g, ids, n)))
        return NULL;
    memset(t->data, 0, t->size * sizeof(float));
    for (int i = 0; i < n; i++)
        t->data[(size_t)i * V + ids[i]] = 1.0f;
    return t;
}

// ===========================================================================
// Matmul

// Rows of x when its leading axes are flattened: x (..., K) is (rows, K).
static int lead_rows(const Tensor *x)
{
    return x->ndim == 0 ? 1 : (int)(x->size / (size_t)x->shape[x->ndim - 1]);
}

static int last_dim(const Tensor *x)
{
    return x->ndim == 0 ? 1 : x->shape[x->ndim - 1];
}

Tensor *tensor_matmul(TensorGraph *g, Tensor *a, Tensor *b)
{
    TENSOR_NEED(g, a);
    TENSOR_NEED(g, b);
    TENSOR_REQUIRE(g, a->ndim >= 1 && b->ndim == 2 && last_dim(a) == b->shape[0],
                   "MATMUL: a %s @ b %s: need a (..., K) and b (K, N)", shp(a), shp(b));
    int K = b->shape[0], N = b->shape[1], M = lead_rows(a);
    int shape[TENSOR_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    shape[a->ndim - 1] = N;
    Tensor *t = node2(g, TENSOR_OP_MATMUL, a, b, a->ndim, shape);
    if (!t)
        return NULL;
    gemm_f32(false, false, M, N, K, 1.0f, a->data, K, b->data, N, 0.0f, t->data, N);  // (M, N)
    return t;
}

// ===========================================================================
// Broadcasting element-wise ops
//
// Shapes are aligned at the right and padded to four axes; an axis of size 1
// in a source gets stride 0 so the same element repeats.

typedef struct Bcast {
    int shape[4];           // output, padded to 4 axes
    size_t sa[4], sb[4];    // element strides of a and b (0 on stretched axes)
} Bcast;

static void pad4(const Tensor *t, int out[4])
{
    int off = 4 - t->ndim;
    for (int d = 0; d < 4; d++)
        out[d] = d < off ? 1 : t->shape[d - off];
}

static void strides4(const int shape[4], const int out[4], size_t s[4])
{
    size_t stride = 1;
    for (int d = 3; d >= 0; d--) {
        s[d] = (shape[d] == 1 && out[d] != 1) ? 0 : stride;
        stride *= (size_t)shape[d];
    }
}

static Tensor *bcast_node(TensorGraph *g, TensorOp op, Tensor *a, Tensor *b, Bcast *bc)
{
    TENSOR_NEED(g, a);
    TENSOR_NEED(g, b);
    int pa[4], pb[4];
    pad4(a, pa);
    pad4(b, pb);
    for (int d = 0; d < 4; d++) {
        TENSOR_REQUIRE(g, pa[d] == pb[d] || pa[d] == 1 || pb[d] == 1,
                       "%s: shapes %s and %s do not broadcast", tensor_op_name[op], shp(a), shp(b));
        bc->shape[d] = pa[d] > pb[d] ? pa[d] : pb[d];
    }
    strides4(pa, bc->shape, bc->sa);
    strides4(pb, bc->shape, bc->sb);
    int ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    return node2(g, op, a, b, ndim, bc->shape + (4 - ndim));
}

static void bcast_plan(const Tensor *t, Bcast *bc)
{
    int pa[4], pb[4];
    pad4(t->src[0], pa);
    pad4(t->src[1], pb);
    pad4(t, bc->shape);
    strides4(pa, bc->shape, bc->sa);
    strides4(pb, bc->shape, bc->sb);
}

// Visit every output element: out index o, source offsets ia, ib.
#define BCAST_LOOP(bc, BODY)                                                 \
    do {                                                                     \
        size_t o = 0;                                                        \
        for (int i0 = 0; i0 < (bc).shape[0]; i0++)                           \
        for (int i1 = 0; i1 < (bc).shape[1]; i1++)                           \
        for (int i2 = 0; i2 < (bc).shape[2]; i2++) {                         \
            size_t ia = i0 * (bc).sa[0] + i1 * (bc).sa[1] + i2 * (bc).sa[2]; \
            size_t ib = i0 * (bc).sb[0] + i1 * (bc).sb[1] + i2 * (bc).sb[2]; \
            for (int i3 = 0; i3 < (bc).shape[3]; i3++, o++,                  \
                 ia += (bc).sa[3], ib += (bc).sb[3]) {                       \
                BODY;                                                        \
            }                                                                \
        }                                                                    \
    } while (0)

Tensor *tensor_add(TensorGraph *g, Tensor *a, Tensor *b)
{
    Bcast bc;
    Tensor *t = bcast_node(g, TENSOR_OP_ADD, a, b, &bc);
    if (!t)
        return NULL;
    float *y = t->data;
    const float *x0 = a->data, *x1 = b->data;
    BCAST_LOOP(bc, y[o] = x0[ia] + x1[ib]);
    return t;
}

Tensor *tensor_sub(TensorGraph *g, Tensor *a, Tensor *b)
{
    Bcast bc;
    Tensor *t = bcast_node(g, TENSOR_OP_SUB, a, b, &bc);
    if (!t)
        return NULL;
    float *y = t->data;
    const float *x0 = a->data, *x1 = b->data;
    BCAST_LOOP(bc, y[o] = x0[ia] - x1[ib]);
    return t;
}

Tensor *tensor_mul(TensorGraph *g, Tensor *a, Tensor *b)
{
    Bcast bc;
    Tensor *t = bcast_node(g, TENSOR_OP_MUL, a, b, &bc);
    if (!t)
        return NULL;
    float *y = t->data;
    const float *x0 = a->data, *x1 = b->data;
    BCAST_LOOP(bc, y[o] = x0[ia] * x1[ib]);
    return t;
}

Tensor *tensor_bias_add(TensorGraph *g, Tensor *x, Tensor *bias)
{
    TENSOR_NEED(g, x);
    TENSOR_NEED(g, bias);
    int N = last_dim(x);
    TENSOR_REQUIRE(g, x->ndim >= 1 && bias->ndim == 1 && bias->shape[0] == N,
                   "BIAS_ADD: x %s + bias %s: need x (..., N) and bias (N)", shp(x), shp(bias));
    Tensor *t = node2(g, TENSOR_OP_BIAS_ADD, x, bias, x->ndim, x->shape);
    if (!t)
        return NULL;
    int rows = lead_rows(x);
    for (int r = 0; r < rows; r++) {
        const float *xr = x->data + (size_t)r * N;
        float *yr = t->data + (size_t)r * N;
        for (int j = 0; j < N; j++)
            yr[j] = xr[j] + bias->data[j];
    }
    return t;
}

Tensor *tensor_scale(TensorGraph *g, Tensor *x, float s)
{
    TENSOR_NEED(g, x);
    Tensor *t = node1(g, TENSOR_OP_SCALE, x, x->ndim, x->shape);
    if (!t)
        return NULL;
    t->fparam = s;
    for (size_t i = 0; i < x->size; i++)
        t->data[i] = s * x->data[i];
    return t;
}

// ===========================================================================
// Element-wise functions

static Tensor *unary(TensorGraph *g, TensorOp op, Tensor *x)
{
    TENSOR_NEED(g, x);
    Tensor *t = node1(g, op, x, x->ndim, x->shape);
    if (!t)
        return NULL;
    const float *a = x->data;
    float *y = t->data;
    size_t n = x->size;
    switch (op) {
    case TENSOR_OP_TANH:    elementwise_tanh(y, a, n); break;
    case TENSOR_OP_SIGMOID: elementwise_sigmoid(y, a, n); break;
    case TENSOR_OP_RELU:    for (size_t i = 0; i < n; i++) y[i] = a[i] > 0.0f ? a[i] : 0.0f; break;
    case TENSOR_OP_EXP:     for (size_t i = 0; i < n; i++) y[i] = expf(a[i]); break;
    case TENSOR_OP_LOG:     for (size_t i = 0; i < n; i++) y[i] = logf(a[i]); break;
    default: TENSOR_MISUSE(0, "unary: %s is not element-wise", tensor_op_name[op]);
    }
    return t;
}

Tensor *tensor_tanh(TensorGraph *g, Tensor *x)    { return unary(g, TENSOR_OP_TANH, x); }
Tensor *tensor_sigmoid(TensorGraph *g, Tensor *x) { return unary(g, TENSOR_OP_SIGMOID, x); }
Tensor *tensor_relu(TensorGraph *g, Tensor *x)    { return unary(g, TENSOR_OP_RELU, x); }
Tensor *tensor_exp(TensorGraph *g, Tensor *x)     { return unary(g, TENSOR_OP_EXP, x); }
Tensor *tensor_log(TensorGraph *g, Tensor *x)     { return unary(g, TENSOR_OP_LOG, x); }

// ===========================================================================
// Softmax family and losses

static Tensor *softmax_like(TensorGraph *g, TensorOp op, Tensor *x)
{
    TENSOR_NEED(g, x);
    TENSOR_REQUIRE(g, x->ndim >= 1, "%s: x %s needs at least one axis", tensor_op_name[op], shp(x));
    Tensor *t = node1(g, op, x, x->ndim, x->shape);
    if (!t)
        return NULL;
    int C = last_dim(x), rows = lead_rows(x);
    for (int r = 0; r < rows; r++) {
        const float *xr = x->data + (size_t)r * C;   // (C)
        float *yr = t->data + (size_t)r * C;         // (C)
        float mx = xr[0];
        for (int j = 1; j < C; j++)
            mx = xr[j] > mx ? xr[j] : mx;
        double sum = 0;
        for (int j = 0; j < C; j++)
            sum += exp((double)(xr[j] - mx));
        if (op == TENSOR_OP_SOFTMAX) {
            for (int j = 0; j < C; j++)
                yr[j] = (float)(exp((double)(xr[j] - mx)) / sum);
        } else {
            float lse = mx + (float)log(sum);
            for (int j = 0; j < C; j++)
                yr[j] = xr[j] - lse;
        }
    }
    return t;
}

Tensor *tensor_softmax(TensorGraph *g, Tensor *x)     { return softmax_like(g, TENSOR_OP_SOFTMAX, x); }
Tensor *tensor_log_softmax(TensorGraph *g, Tensor *x) { return softmax_like(g, TENSOR_OP_LOG_SOFTMAX, x); }

Tensor *tensor_nll(TensorGraph *g, Tensor *logp, const int *targets)
{
    TENSOR_NEED(g, logp);
    TENSOR_NEED(g, targets);
    TENSOR_REQUIRE(g, logp->ndim == 2, "NLL: logp %s must be (N, C)", shp(logp));
    int N = logp->shape[0], C = logp->shape[1];
    for (int n = 0; n < N; n++)
        TENSOR_REQUIRE(g, targets[n] >= 0 && targets[n] < C,
                       "NLL: target %d of row %d outside [0, %d)", targets[n], n, C);
    Tensor *t = node1(g, TENSOR_OP_NLL, logp, 0, NULL);   // ()
    if (!t || !(t->ids = copy_ids(g, targets, N)))
        return NULL;
    double acc = 0;
    for (int n = 0; n < N; n++)
        acc -= logp->data[(size_t)n * C + targets[n]];
    t->data[0] = (float)(acc / N);
    return t;
}

Tensor *tensor_cross_entropy(TensorGraph *g, Tensor *logits, const int *targets)
{
    return tensor_nll(g, tensor_log_softmax(g, logits), targets);
}

static bool same_shape(const Tensor *a, const Tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return false;
    return true;
}

Tensor *tensor_mse(TensorGraph *g, Tensor *a, Tensor *b)
{
    TENSOR_NEED(g, a);
    TENSOR_NEED(g, b);
    TENSOR_REQUIRE(g, same_shape(a, b), "MSE: shapes %s and %s differ", shp(a), shp(b));
    Tensor *t = node2(g, TENSOR_OP_MSE, a, b, 0, NULL);   // ()
    if (!t)
        return NULL;
    double acc = 0;
    for (size_t i = 0; i < a->size; i++) {
        double d = (double)a->data[i] - b->data[i];
        acc += d * d;
    }
    t->data[0] = (float)(acc / (double)a->size);
    return t;
}

static Tensor *reduce_all(TensorGraph *g, TensorOp op, Tensor *x)
{
    TENSOR_NEED(g, x);
    Tensor *t = node1(g, op, x, 0, NULL);   // ()
    if (!t)
        return NULL;
    double acc = 0;
    for (size_t i = 0; i < x->size; i++)
        acc += x->data[i];
    t->data[0] = (float)(op == TENSOR_OP_MEAN ? acc / (double)x->size : acc);
    return t;
}

Tensor *tensor_sum(TensorGraph *g, Tensor *x)  { return reduce_all(g, TENSOR_OP_SUM, x); }
Tensor *tensor_mean(TensorGraph *g, Tensor *x) { return reduce_all(g, TENSOR_OP_MEAN, x); }

// ===========================================================================
// Slicing, joining, moving axes
//
// Along an axis, a tensor is (outer, len, inner): outer is the product of the
// axes before it, inner of those after it.

static void split_axis(const Tensor *t, int axis, size_t *outer, size_t *inner)
{
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= (size_t)t->shape[d];
    for (int d = axis + 1; d < t->ndim; d++)
        *inner *= (size_t)t->shape[d];
}

Tensor *tensor_slice(TensorGraph *g, Tensor *x, int axis, int start, int len)
{
    TENSOR_NEED(g, x);
    TENSOR_REQUIRE(g, axis >= 0 && axis < x->ndim, "SLICE: axis %d of x %s", axis, shp(x));
    TENSOR_REQUIRE(g, start >= 0 && len > 0 && len <= x->shape[axis] - start,
                   "SLICE: [%d, %lld) along axis %d of x %s", start, (long long)start + len, axis,
                   shp(x));
    int shape[TENSOR_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = len;
    Tensor *t = node1(g, TENSOR_OP_SLICE, x, x->ndim, shape);
    if (!t)
        return NULL;
    t->iparam[0] = axis;
    t->iparam[1] = start;
    size_t outer, inner, L = (size_t)x->shape[axis];
    split_axis(x, axis, &outer, &inner);
    for (size_t o = 0; o < outer; o++)
        memcpy(t->data + o * len * inner, x->data + (o * L + start) * inner,
               (size_t)len * inner * sizeof(float));
    return t;
}

Tensor *tensor_concat(TensorGraph *g, int n, Tensor *const *xs, int axis)
{
    TENSOR_NEED(g, xs);
    TENSOR_REQUIRE(g, n >= 1, "CONCAT: no tensors");
    for (int i = 0; i < n; i++)
        TENSOR_NEED(g, xs[i]);
    Tensor *x0 = xs[0];
    TENSOR_REQUIRE(g, axis >= 0 && axis < x0->ndim, "CONCAT: axis %d of %s", axis, shp(x0));
    int shape[TENSOR_MAX_DIMS];
    memcpy(shape, x0->shape, sizeof shape);
    long long len = 0;   // along axis; may pass an int, which set_shape refuses
    for (int i = 0; i < n; i++) {
        bool ok = xs[i]->ndim == x0->ndim;
        for (int d = 0; ok && d < x0->ndim; d++)
            ok = d == axis || xs[i]->shape[d] == x0->shape[d];
        TENSOR_REQUIRE(g, ok, "CONCAT: %s and %s differ off axis %d", shp(x0), shp(xs[i]), axis);
        len += xs[i]->shape[axis];
    }
    TENSOR_REQUIRE(g, len <= (long long)TENSOR_MAX_SIZE, "CONCAT: %lld elements along axis %d", len,
                   axis);
    shape[axis] = (int)len;
    Tensor *t = node_new(g, TENSOR_OP_CONCAT, x0->ndim, shape, n, xs);
    if (!t)
        return NULL;
    t->iparam[0] = axis;
    size_t outer, inner, Lt = (size_t)shape[axis];
    split_axis(x0, axis, &outer, &inner);
    size_t off = 0;   // running start along axis
    for (int i = 0; i < n; i++) {
        size_t L = (size_t)xs[i]->shape[axis];
        for (size_t o = 0; o < outer; o++)
            memcpy(t->data + (o * Lt + off) * inner, xs[i]->data + o * L * inner,
                   L * inner * sizeof(float));
        off += L;
    }
    return t;
}

// For each element of t = transpose(x): offsets in t (o) and x (ix).
#define TRANSPOSE_LOOP(t, BODY)                                             \
    do {                                                                    \
        size_t xs_[4], st_ = 1;                                             \
        const Tensor *x_ = (t)->src[0];                                     \
        for (int d = 3; d >= 0; d--) {                                      \
            xs_[d] = st_;                                                   \
            st_ *= (size_t)x_->shape[d];                                    \
        }                                                                   \
        size_t ts_[4];                                                      \
        memcpy(ts_, xs_, sizeof ts_);                                       \
        ts_[(t)->iparam[0]] = xs_[(t)->iparam[1]];                          \
        ts_[(t)->iparam[1]] = xs_[(t)->iparam[0]];                          \
        size_t o = 0;                                                       \
        for (int i0 = 0; i0 < (t)->shape[0]; i0++)                          \
        for (int i1 = 0; i1 < (t)->shape[1]; i1++)                          \
        for (int i2 = 0; i2 < (t)->shape[2]; i2++)                          \
        for (int i3 = 0; i3 < (t)->shape[3]; i3++, o++) {                   \
            size_t ix = i0 * ts_[0] + i1 * ts_[1] + i2 * ts_[2] + i3 * ts_[3]; \
            BODY;                                                           \
        }                                                                   \
    } while (0)

Tensor *tensor_transpose(TensorGraph *g, Tensor *x, int a0, int a1)
{
    TENSOR_NEED(g, x);
    TENSOR_REQUIRE(g, a0 >= 0 && a0 < x->ndim && a1 >= 0 && a1 < x->ndim,
                   "TRANSPOSE: axes %d, %d of x %s", a0, a1, shp(x));
    int shape[TENSOR_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[a0] = x->shape[a1];
    shape[a1] = x->shape[a0];
    Tensor *t = node1(g, TENSOR_OP_TRANSPOSE, x, x->ndim, shape);
    if (!t)
        return NULL;
    t->iparam[0] = a0;
    t->iparam[1] = a1;
    float *y = t->data;
    const float *xd = x->data;
    TRANSPOSE_LOOP(t, y[o] = xd[ix]);
    return t;
}

Tensor *tensor_reshape(TensorGraph *g, Tensor *x, int ndim, const int *shape)
{
    TENSOR_NEED(g, x);
    TENSOR_NEED(g, shape);
    char buf[80];
    bool dims_ok = ndim >= 0 && ndim <= TENSOR_MAX_DIMS;
    TENSOR_REQUIRE(g, dims_ok && shape_size(ndim, shape) == x->size,
                   "RESHAPE: x %s has %zu elements, the new shape %s does not",
                   shp(x), x->size, dims_ok ? dims_str(ndim, shape, buf, sizeof buf) : "(bad ndim)");
    Tensor *t = node1(g, TENSOR_OP_RESHAPE, x, ndim, shape);
    if (!t)
        return NULL;
    memcpy(t->data, x->data, x->size * sizeof(float));
    return t;
}

Tensor *tensor_embedding(TensorGraph *g, Tensor *table, const int *ids, int n)
{
    TENSOR_NEED(g, table);
    TENSOR_NEED(g, ids);
    TENSOR_REQUIRE(g, table->ndim == 2 && n > 0, "EMBEDDING: table %s must be (V, D), n %d > 0",
                   shp(table), n);
    int V = table->shape[0], D = table->shape[1];
    for (int i = 0; i < n; i++)
        TENSOR_REQUIRE(g, ids[i] >= 0 && ids[i] < V, "EMBEDDING: id %d at %d outside [0, %d)",
                       ids[i], i, V);
    Tensor *t = node1(g, TENSOR_OP_EMBEDDING, table, 2, (int[]){ n, D });   // (n, D)
    if (!t || !(t->ids = copy_ids(g, ids, n)))
        return NULL;
    for (int i = 0; i < n; i++)
        memcpy(t->data + (size_t)i * D, table->data + (size_t)ids[i] * D, (size_t)D * sizeof(float));
    return t;
}

// ===========================================================================
// Convolution and pooling (NCHW)
//
// conv2d is im2col + gemm per image: the input patches under every output
// position become the columns of cols (C*KH*KW, OH*OW), and
// out_n (F, OH*OW) = w (F, C*KH*KW) @ cols.


static ConvDims conv_dims(const Tensor *x, const Tensor *w, int stride, int pad)
{
    ConvDims d = {
        x->shape[0], x->shape[1], x->shape[2], x->shape[3],
        w->shape[0], w->shape[2], w->shape[3], 0, 0, stride, pad,
    };
    // The padded sizes fit an int (tensor_conv2d checks), the outputs too.
    d.OH = (int)(((long long)d.H + 2LL * pad - d.KH) / stride + 1);
    d.OW = (int)(((long long)d.W + 2LL * pad - d.KW) / stride + 1);
    return d;
}

// The output columns oj whose input column j = oj * stride - pad + kj lies
// inside the image: [*lo, *hi).
static void conv_valid(int kj, int pad, int stride, int W, int OW, int *lo, int *hi)
{
    int a = pad - kj;   // j >= 0  <=>  oj * stride >= a
    int l = a <= 0 ? 0 : (a + stride - 1) / stride;
    int b = W - 1 + pad - kj;   // j <= W - 1  <=>  oj * stride <= b
    int h = b < 0 ? 0 : b / stride + 1;
    *lo = l < OW ? l : OW;
    *hi = h < OW ? h : OW;
    if (*hi < *lo)
        *hi = *lo;
}

// cols (C*KH*KW, OH*OW), rows ld floats apart, from one image x (C, H, W).
// Several images sit side by side in one cols block (ld = images * OH*OW),
// so one product serves them all.
static void im2col(const ConvDims *d, const float *x, float *cols, size_t ld)
{
    for (int c = 0; c < d->C; c++)
    for (int ki = 0; ki < d->KH; ki++)
    for (int kj = 0; kj < d->KW; kj++) {
        float *row = cols + ((size_t)(c * d->KH + ki) * d->KW + kj) * ld;
        int lo, hi;
        conv_valid(kj, d->pad, d->stride, d->W, d->OW, &lo, &hi);
        for (int oi = 0; oi < d->OH; oi++) {
            int i = oi * d->stride - d->pad + ki;
            float *out = row + (size_t)oi * d->OW;
            if (i < 0 || i >= d->H) {
                memset(out, 0, (size_t)d->OW * sizeof(float));
                continue;
            }
            const float *in = x + ((size_t)c * d->H + i) * d->W - d->pad + kj;   // in[oj * stride]
            for (int oj = 0; oj < lo; oj++) out[oj] = 0.0f;
            if (d->stride == 1)
                memcpy(out + lo, in + lo, (size_t)(hi - lo) * sizeof(float));
            else
                for (int oj = lo; oj < hi; oj++) out[oj] = in[oj * d->stride];
            for (int oj = hi; oj < d->OW; oj++) out[oj] = 0.0f;
        }
    }
}

// dx (C, H, W) += the columns (rows ld floats apart) scattered back to where
// im2col read them.
static void col2im_add(const ConvDims *d, const float *cols, size_t ld, float *dx)
{
    for (int c = 0; c < d->C; c++)
    for (int ki = 0; ki < d->KH; ki++)
    for (int kj = 0; kj < d->KW; kj++) {
        const float *row = cols + ((size_t)(c * d->KH + ki) * d->KW + kj) * ld;
        int lo, hi;
        conv_valid(kj, d->pad, d->stride, d->W, d->OW, &lo, &hi);
        for (int oi = 0; oi < d->OH; oi++) {
            int i = oi * d->stride - d->pad + ki;
            if (i < 0 || i >= d->H)
                continue;
            float *out = dx + ((size_t)c * d->H + i) * d->W - d->pad + kj;   // out[oj * stride]
            const float *in = row + (size_t)oi * d->OW;
            if (d->stride == 1)
                for (int oj = lo; oj < hi; oj++) out[oj] += in[oj];
            else
                for (int oj = lo; oj < hi; oj++) out[oj * d->stride] += in[oj];
        }
    }
}

// How many images one product takes: as many as keep the column block near
// CONV_GROUP_FLOATS (at least one). The forward and backward agree on it.
#define CONV_GROUP_FLOATS ((size_t)1 << 20)
static int conv_group(const ConvDims *d)
{
    size_t per = (size_t)d->C * d->KH * d->KW * (size_t)d->OH * d->OW;   // one image's columns
    size_t g = per ? CONV_GROUP_FLOATS / per : 1;
    return g < 1 ? 1 : g > (size_t)d->N ? d->N : (int)g;
}

Tensor *tensor_conv2d(TensorGraph *g, Tensor *x, Tensor *w, Tensor *bias, int stride, int pad)
{
    TENSOR_NEED(g, x);
    TENSOR_NEED(g, w);
    TENSOR_REQUIRE(g, x->ndim == 4 && w->ndim == 4 && x->shape[1] == w->shape[1],
                   "CONV2D: x %s, w %s: need x (N, C, H, W) and w (F, C, KH, KW)", shp(x), shp(w));
    TENSOR_REQUIRE(g, stride >= 1 && pad >= 0, "CONV2D: stride %d, pad %d", stride, pad);
    long long ph = x->shape[2] + 2LL * pad, pw = x->shape[3] + 2LL * pad;   // padded H, W
    TENSOR_REQUIRE(g, ph <= (long long)TENSOR_MAX_SIZE && pw <= (long long)TENSOR_MAX_SIZE,
                   "CONV2D: padded input %s (pad %d) is too large", shp(x), pad);
    TENSOR_REQUIRE(g, ph >= w->shape[2] && pw >= w->shape[3],
                   "CONV2D: kernel %s larger than padded input %s (pad %d)", shp(w), shp(x), pad);
    TENSOR_REQUIRE(g, !bias || (bias->ndim == 1 && bias->shape[0] == w->shape[0]),
                   "CONV2D: bias %s must be (F) for w %s", bias ? shp(bias) : "()", shp(w));
    ConvDims d = conv_dims(x, w, stride, pad);
    int CKK = d.C * d.KH * d.KW;   // at most w's size
    TENSOR_REQUIRE(g, (size_t)d.OH * (size_t)d.OW <= TENSOR_MAX_SIZE / (size_t)CKK,
                   "CONV2D: the columns of x %s under w %s (%d x %d positions) are too large",
                   shp(x), shp(w), d.OH, d.OW);
    Tensor *src[3] = { x, w, bias };
    Tensor *t = node_new(g, TENSOR_OP_CONV2D, 4, (int[]){ d.N, d.F, d.OH, d.OW },
                         bias ? 3 : 2, src);
    if (!t)
        return NULL;
    t->iparam[0] = stride;
    t->iparam[1] = pad;
    int P = d.OH * d.OW, G = conv_group(&d);
    if (d.F <= CONV_DIRECT_MAX_F) {   // few maps: no column matrix (conv_direct.h)
        int m = conv_direct_group(&d);
        float *scratch = galloc(g, conv_direct_forward_scratch(&d, m) * sizeof(float));
        if (!scratch)
            return NULL;
        for (int n0 = 0; n0 < d.N; n0 += m) {
            int k = d.N - n0 < m ? d.N - n0 : m;
            conv_direct_forward(&d, x->data + (size_t)n0 * d.C * d.H * d.W, k, w->data, bias ? bias->data : NULL,
                                t->data + (size_t)n0 * d.F * P, scratch);
        }
        return t;
    }
    size_t ld = (size_t)G * P;
    float *cols = galloc(g, (size_t)CKK * ld * sizeof(float));   // (C*KH*KW, G*OH*OW)
    float *prod = galloc(g, (size_t)d.F * ld * sizeof(float));   // (F, G*OH*OW)
    if (!cols || !prod)
        return NULL;
    // G images at a time: their columns side by side, one product
    // prod = w (F, C*KH*KW) @ cols, then each image's (F, OH*OW) block out.
    for (int n0 = 0; n0 < d.N; n0 += G) {
        int m = d.N - n0 < G ? d.N - n0 : G;
        for (int k = 0; k < m; k++)
            im2col(&d, x->data + (size_t)(n0 + k) * d.C * d.H * d.W, cols + (size_t)k * P, ld);
        gemm_f32(false, false, d.F, m * P, CKK, 1.0f, w->data, CKK, cols, (int)ld, 0.0f, prod, (int)ld);
        for (int k = 0; k < m; k++)
            for (int f = 0; f < d.F; f++) {
                float *out = t->data + ((size_t)(n0 + k) * d.F + f) * P;   // (OH*OW)
                const float *row = prod + (size_t)f * ld + (size_t)k * P;
                float b0 = bias ? bias->data[f] : 0.0f;
                for (int p = 0; p < P; p++) out[p] = row[p] + b0;
            }
    }
    return t;
}

Tensor *tensor_maxpool2d(TensorGraph *g, Tensor *x, int k, int stride)
{
    TENSOR_NEED(g, x);
    TENSOR_REQUIRE(g, x->ndim == 4 && k >= 1 && stride >= 1 && k <= x->shape[2] && k <= x->shape[3],
                   "MAXPOOL2D: x %s must be (N, C, H, W) with H, W >= k = %d (stride %d)", shp(x), k,
                   stride);
    int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int OH = (H - k) / stride + 1, OW = (W - k) / stride + 1;
    Tensor *t = node1(g, TENSOR_OP_MAXPOOL2D, x, 4, (int[]){ N, C, OH, OW });
    if (!t)
        return NULL;
    t->iparam[0] = k;
    t->iparam[1] = stride;
    t->ids = galloc(g, t->size * sizeof(int));   // (N, C, OH, OW) argmax offsets into x
    if (!t->ids)
        return NULL;
    size_t o = 0;
    for (int nc = 0; nc < N * C; nc++) {
        const float *xp = x->data + (size_t)nc * H * W;   // (H, W)
        for (int oi = 0; oi < OH; oi++)
            for (int oj = 0; oj < OW; oj++, o++) {
                int best = (oi * stride) * W + oj * stride;
                for (int ki = 0; ki < k; ki++)
                    for (int kj = 0; kj < k; kj++) {
                        int at = (oi * stride + ki) * W + oj * stride + kj;
                        if (xp[at] > xp[best])
                            best = at;
                    }
                t->data[o] = xp[best];
                t->ids[o] = (int)((size_t)nc * H * W + (size_t)best);
            }
    }
    return t;
}

// ===========================================================================
// Backward

// The gradient buffer of a tensor, allocated (zeroed) on first use; NULL
// with the reason in g when it cannot be. backward_alloc makes them all
// before backward_node runs, so there it only looks them up.
static float *grad_of(TensorGraph *g, Tensor *t)
{
    if (!t->grad && t->long_lived) {
        graph_fail(g, "backward: long-lived tensor %s has requires_grad but no grad buffer "
                   "(create it with requires_grad = true)", shp(t));
        return NULL;
    }
    if (!t->grad && (t->grad = galloc(g, t->size * sizeof(float))))
        memset(t->grad, 0, t->size * sizeof(float));
    return t->grad;
}

// Elements of a convolution's column buffer (C*KH*KW, OH*OW); tensor_conv2d
// checked that they fit.
static size_t conv_cols(const Tensor *t)
{
    ConvDims d = conv_dims(t->src[0], t->src[1], t->iparam[0], t->iparam[1]);
    if (d.F <= CONV_DIRECT_MAX_F)   // conv_direct_backward's scratch
        return conv_direct_backward_scratch(&d, conv_direct_group(&d));
    // A group's columns, then its output gradient gathered as (F, G*OH*OW).
    return ((size_t)d.C * d.KH * d.KW + (size_t)d.F) * (size_t)conv_group(&d) * d.OH * d.OW;
}

// Every buffer backward needs, made before it changes any gradient: the
// grads of the sources of each node it will visit (in the same order and
// with the same test as tensor_backward), and one column buffer as large as
// the largest convolution's. False, with the reason in g, when out of memory.
static bool backward_alloc(TensorGraph *g, Tensor *out, float **cols)
{
    if (!grad_of(g, out))
        return false;
    size_t need = 0;
    for (int i = out->index; i >= 0; i--) {
        Tensor *t = g->nodes[i];
        if (!(t->grad && t->requires_grad && t->nsrc > 0))
            continue;
        for (int k = 0; k < t->nsrc; k++)
            if (t->src[k]->requires_grad && !grad_of(g, t->src[k]))
                return false;
        if (t->op == TENSOR_OP_CONV2D && conv_cols(t) > need)
            need = conv_cols(t);
    }
    *cols = need ? galloc(g, need * sizeof(float)) : NULL;
    return need == 0 || *cols;
}

// Push t->grad into the grads of t's sources (all allocated already; cols
// is the convolutions' column buffer).
static void backward_node(TensorGraph *g, Tensor *t, float *cols)
{
    const float *gy = t->grad;   // same shape as t
    const float *y = t->data;
    Tensor *a = t->nsrc > 0 ? t->src[0] : NULL;
    Tensor *b = t->nsrc > 1 ? t->src[1] : NULL;
    float *ga = a && a->requires_grad ? grad_of(g, a) : NULL;
    float *gb = b && b->requires_grad ? grad_of(g, b) : NULL;
    size_t n = t->size;

    switch ((TensorOp)t->op) {
    case TENSOR_OP_LEAF:
    case TENSOR_OP_ONE_HOT:
        break;

    case TENSOR_OP_MATMUL: {
        int K = b->shape[0], N = b->shape[1], M = lead_rows(a);
        if (ga)   // da (M, K) += dy (M, N) @ b^T (N, K)
            gemm_f32(false, true, M, K, N, 1.0f, gy, N, b->data, N, 1.0f, ga, K);
        if (gb)   // db (K, N) += a^T (K, M) @ dy (M, N)
            gemm_f32(true, false, K, N, M, 1.0f, a->data, K, gy, N, 1.0f, gb, N);
        break;
    }

    case TENSOR_OP_ADD:
    case TENSOR_OP_SUB:
    case TENSOR_OP_MUL: {
        Bcast bc;
        bcast_plan(t, &bc);
        const float *xa = a->data, *xb = b->data;
        if (t->op == TENSOR_OP_MUL) {
            if (ga) BCAST_LOOP(bc, ga[ia] += gy[o] * xb[ib]);
            if (gb) BCAST_LOOP(bc, gb[ib] += gy[o] * xa[ia]);
        } else {
            float sign = t->op == TENSOR_OP_SUB ? -1.0f : 1.0f;
            if (ga) BCAST_LOOP(bc, ga[ia] += gy[o]);
            if (gb) BCAST_LOOP(bc, gb[ib] += sign * gy[o]);
        }
        break;
    }

    case TENSOR_OP_BIAS_ADD: {
        int N = last_dim(a), rows = lead_rows(a);
        if (ga)
            for (size_t i = 0; i < n; i++) ga[i] += gy[i];
        if (gb)
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < N; j++) gb[j] += gy[(size_t)r * N + j];
        break;
    }

    case TENSOR_OP_SCALE:
        for (size_t i = 0; i < n; i++) ga[i] += t->fparam * gy[i];
        break;

    case TENSOR_OP_TANH:
        for (size_t i = 0; i < n; i++) ga[i] += gy[i] * (1.0f - y[i] * y[i]);
        break;
    case TENSOR_OP_SIGMOID:
        for (size_t i = 0; i < n; i++) ga[i] += gy[i] * y[i] * (1.0f - y[i]);
        break;
    case TENSOR_OP_RELU:
        for (size_t i = 0; i < n; i++) ga[i] += y[i] > 0.0f ? gy[i] : 0.0f;
        break;
    case TENSOR_OP_EXP:
        for (size_t i = 0; i < n; i++) ga[i] += gy[i] * y[i];
        break;
    case TENSOR_OP_LOG:
        for (size_t i = 0; i < n; i++) ga[i] += gy[i] / a->data[i];
        break;

    case TENSOR_OP_SOFTMAX:
    case TENSOR_OP_LOG_SOFTMAX: {
        int C = last_dim(t), rows = lead_rows(t);
        for (int r = 0; r < rows; r++) {
            const float *yr = y + (size_t)r * C, *gr = gy + (size_t)r * C;   // (C)
            float *dr = ga + (size_t)r * C;
            double s = 0;
            if (t->op == TENSOR_OP_SOFTMAX) {
                // dx_j = y_j (g_j - sum_k g_k y_k)
                for (int j = 0; j < C; j++) s += (double)gr[j] * yr[j];
                for (int j = 0; j < C; j++) dr[j] += yr[j] * (gr[j] - (float)s);
            } else {
                // dx_j = g_j - softmax_j sum_k g_k
                for (int j = 0; j < C; j++) s += gr[j];
                for (int j = 0; j < C; j++) dr[j] += gr[j] - expf(yr[j]) * (float)s;
            }
        }
        break;
    }

    case TENSOR_OP_NLL: {
        int N = a->shape[0], C = a->shape[1];
        for (int i = 0; i < N; i++)
            ga[(size_t)i * C + t->ids[i]] -= gy[0] / (float)N;
        break;
    }

    case TENSOR_OP_MSE: {
        float k = 2.0f * gy[0] / (float)a->size;
        for (size_t i = 0; i < a->size; i++) {
            float d = k * (a->data[i] - b->data[i]);
            if (ga) ga[i] += d;
            if (gb) gb[i] -= d;
        }
        break;
    }

    case TENSOR_OP_SUM:
    case TENSOR_OP_MEAN: {
        float d = t->op == TENSOR_OP_MEAN ? gy[0] / (float)a->size : gy[0];
        for (size_t i = 0; i < a->size; i++) ga[i] += d;
        break;
    }

    case TENSOR_OP_SLICE: {
        int axis = t->iparam[0], start = t->iparam[1], len = t->shape[axis];
        size_t outer, inner, L = (size_t)a->shape[axis];
        split_axis(a, axis, &outer, &inner);
        for (size_t o = 0; o < outer; o++) {
            float *dst = ga + (o * L + start) * inner;
            const float *src = gy + o * len * inner;
            for (size_t i = 0; i < (size_t)len * inner; i++) dst[i] += src[i];
        }
        break;
    }

    case TENSOR_OP_CONCAT: {
        int axis = t->iparam[0];
        size_t outer, inner, Lt = (size_t)t->shape[axis], off = 0;
        split_axis(t, axis, &outer, &inner);
        for (int s = 0; s < t->nsrc; s++) {
            Tensor *x = t->src[s];
            size_t L = (size_t)x->shape[axis];
            if (x->requires_grad) {
                float *gx = grad_of(g, x);
                for (size_t o = 0; o < outer; o++) {
                    const float *src = gy + (o * Lt + off) * inner;
                    float *dst = gx + o * L * inner;
                    for (size_t i = 0; i < L * inner; i++) dst[i] += src[i];
                }
            }
            off += L;
        }
        break;
    }

    case TENSOR_OP_TRANSPOSE:
        TRANSPOSE_LOOP(t, ga[ix] += gy[o]);
        break;

    case TENSOR_OP_RESHAPE:
        for (size_t i = 0; i < n; i++) ga[i] += gy[i];
        break;

    case TENSOR_OP_EMBEDDING: {
        int D = a->shape[1], rows = t->shape[0];
        for (int i = 0; i < rows; i++) {
            float *dst = ga + (size_t)t->ids[i] * D;
            const float *src = gy + (size_t)i * D;
            for (int j = 0; j < D; j++) dst[j] += src[j];
        }
        break;
    }

    case TENSOR_OP_CONV2D: {
        Tensor *bias = t->nsrc > 2 ? t->src[2] : NULL;
        float *gbias = bias && bias->requires_grad ? grad_of(g, bias) : NULL;
        ConvDims d = conv_dims(a, b, t->iparam[0], t->iparam[1]);
        int CKK = d.C * d.KH * d.KW, P = d.OH * d.OW, G = conv_group(&d);
        if (d.F <= CONV_DIRECT_MAX_F) {   // few maps: no column matrix (conv_direct.h)
            int m = conv_direct_group(&d);
            for (int n0 = 0; n0 < d.N && (ga || gb); n0 += m) {
                int k = d.N - n0 < m ? d.N - n0 : m;
                size_t at = (size_t)n0 * d.C * d.H * d.W;
                conv_direct_backward(&d, a->data + at, k, b->data, gy + (size_t)n0 * d.F * P,
                                     ga ? ga + at : NULL, gb, cols);
            }
            if (gbias)
                conv_direct_bias_backward(&d, gy, gbias);
            break;
        }
        size_t ld = (size_t)G * P;
        float *dg = cols + (size_t)CKK * ld;   // (F, G*P) a group's dout; cols (CKK, G*P) before it
        for (int n0 = 0; n0 < d.N; n0 += G) {
            int m = d.N - n0 < G ? d.N - n0 : G;
            for (int k = 0; k < m; k++)
                for (int f = 0; f < d.F; f++) {
                    const float *dout = gy + ((size_t)(n0 + k) * d.F + f) * P;   // (OH*OW)
                    memcpy(dg + (size_t)f * ld + (size_t)k * P, dout, (size_t)P * sizeof(float));
                    if (gbias) {
                        float acc = 0.0f;
                        for (int p = 0; p < P; p++) acc += dout[p];
                        gbias[f] += acc;
                    }
                }
            if (gb) {   // dw (F, CKK) += dout (F, m*P) @ cols^T (m*P, CKK)
                for (int k = 0; k < m; k++)
                    im2col(&d, a->data + (size_t)(n0 + k) * d.C * d.H * d.W, cols + (size_t)k * P, ld);
                gemm_f32(false, true, d.F, CKK, m * P, 1.0f, dg, (int)ld, cols, (int)ld, 1.0f, gb, CKK);
            }
            if (ga) {   // dcols (CKK, m*P) = w^T (CKK, F) @ dout (F, m*P), then scatter
                gemm_f32(true, false, CKK, m * P, d.F, 1.0f, b->data, CKK, dg, (int)ld, 0.0f, cols, (int)ld);
                for (int k = 0; k < m; k++)
                    col2im_add(&d, cols + (size_t)k * P, ld, ga + (size_t)(n0 + k) * d.C * d.H * d.W);
            }
        }
        break;
    }

    case TENSOR_OP_MAXPOOL2D:
        for (size_t i = 0; i < n; i++) ga[t->ids[i]] += gy[i];
        break;

    case TENSOR_OP_COUNT:
        TENSOR_MISUSE(0, "backward: bad op %d", t->op);
    }
}

bool tensor_backward(TensorGraph *g, Tensor *out)
{
    if (!g)
        return false;
    if (!out) {
        graph_fail(g, "backward: no output (an op before it failed)");
        return false;
    }
    if (out->long_lived || out->index < 0 || (size_t)out->index >= g->n || g->nodes[out->index] != out) {
        graph_fail(g, "backward: out %s is not a node of this graph", shp(out));
        return false;
    }
    // Intermediate grads start from zero each call; long-lived ones accumulate.
    for (size_t i = 0; i <= (size_t)out->index; i++)
        if (g->nodes[i]->grad)
            memset(g->nodes[i]->grad, 0, g->nodes[i]->size * sizeof(float));
    if (!out->requires_grad)
        return true;
    float *cols = NULL;
    if (!backward_alloc(g, out, &cols))
        return false;   // no long-lived gradient has changed
    float *gy = out->grad;
    for (size_t i = 0; i < out->size; i++)
        gy[i] = 1.0f;
    // Reverse creation order is a reverse topological order. Nodes out does
    // not depend on still have a zero (or no) grad buffer and add nothing,
    // but they are skipped anyway to save the work.
    for (int i = out->index; i >= 0; i--) {
        Tensor *t = g->nodes[i];
        if (t->grad && t->requires_grad && t->nsrc > 0)
            backward_node(g, t, cols);
    }
    return true;
}
