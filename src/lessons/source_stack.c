// source_stack.c: the `stack` source kind, a chain of N one-unit layers
// h_k = act(w * h_(k-1)) built with the scalar engine, and how the gradient
// of L = h_N reaches each layer's input (the activation-function lesson: the
// product of derivatives shrinks through sigmoids and holds through ReLUs).
// Program loops have literal bounds, so a slider for N needs this kind.
//
//     source: deep stack layers {N} activation {act} weight 1 seed 1
//
// Options (numbers, words, or {param}):
//   layers      N, 1 to 50 (default 10)
//   activation  sigmoid, tanh, relu, leaky (max(z, 0.01 z)) or linear
//               (default sigmoid)
//   weight      every layer's weight w, -10 to 10 (default 1)
//   seed        the input h_0 is drawn from it, uniform in [0.5, 1.5) (default 1)
// Everything is computed when the instance is made: it takes no steps.
//
// Publishes, with layer k = 1..N reading h_(k-1) and writing h_k:
//   grad     (N)  dL/dh_(k-1), the gradient at layer k's input, by backprop
//   local    (N)  dh_k/dh_(k-1) = w act'(w h_(k-1)), the factor layer k multiplies by
//   h        (N + 1)  h_0 .. h_N
//   first          grad[0]: the gradient at the input of the first layer
//   ratio          |grad[0] / grad[N-1]|: how much the gradient shrank (or grew)
//                  from the last layer's input back to the first's (1 for N = 1)
//   factor         ratio^(1/(N-1)), the mean factor per layer (1 for N = 1)
//   lmax           the largest |local|
//   layers         N
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/source_kinds.h"
#include "models/rng.h"

#define STACK_MAX_LAYERS 50

static const char *const stack_options[] = {"layers", "activation", "weight", "seed", NULL};

typedef struct StackSource {
    int N;
    double grad[STACK_MAX_LAYERS], local[STACK_MAX_LAYERS], h[STACK_MAX_LAYERS + 1];
} StackSource;

// act(z) as a gate of g. word is checked by the caller.
static Value *activate(Graph *g, const char *act, Value *z)
{
    if (strcmp(act, "sigmoid") == 0)
        return value_sigmoid(g, z);
    if (strcmp(act, "tanh") == 0)
        return value_tanh(g, z);
    if (strcmp(act, "relu") == 0)
        return value_relu(g, z);
    if (strcmp(act, "leaky") == 0)
        return value_max(g, z, value_mul(g, value_const(g, 0.01), z));
    return z; // linear
}

static void *stack_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    StackSource *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    double layers, weight, seed;
    const char *act = NULL;
    if (!source_option_number(p, decl, "layers", 10, 1, STACK_MAX_LAYERS, &layers, err, n) ||
        !source_option_number(p, decl, "weight", 1, -10, 10, &weight, err, n) ||
        !source_option_number(p, decl, "seed", 1, 0, 4294967295.0, &seed, err, n) ||
        !(act = source_option_word(p, decl, "activation", "sigmoid", err, n)))
        goto fail;
    if (layers != floor(layers) || seed != floor(seed)) {
        snprintf(err, n, "'layers' and 'seed' are whole numbers");
        goto fail;
    }
    if (strcmp(act, "sigmoid") && strcmp(act, "tanh") && strcmp(act, "relu") && strcmp(act, "leaky") &&
        strcmp(act, "linear")) {
        snprintf(err, n, "'activation %s': give one of sigmoid, tanh, relu, leaky, linear", act);
        goto fail;
    }
    s->N = (int)layers;
    Pcg rng;
    pcg_seed(&rng, (uint64_t)seed);
    double x0 = 0.5 + pcg_uniform(&rng);
    // The chain: one input, then per layer a weight (a constant), a multiply and the activation.
    Graph *g = graph_create(0);
    Value *h[STACK_MAX_LAYERS + 1];
    if (!g)
        goto oom;
    h[0] = value_input(g, x0, "h[0]");
    for (int k = 1; k <= s->N; k++)
        h[k] = activate(g, act, value_mul(g, value_const(g, weight), h[k - 1]));
    if (!h[s->N]) {
        graph_destroy(g);
        goto oom;
    }
    graph_zero_grad(g);
    graph_backward(g, h[s->N]);
    for (int k = 0; k <= s->N; k++)
        s->h[k] = h[k]->data;
    for (int k = 0; k < s->N; k++)
        s->grad[k] = h[k]->grad;
    // Each layer's own factor: the layer alone, from its input, backward once.
    for (int k = 0; k < s->N; k++) {
        graph_reset(g);
        Value *in = value_input(g, s->h[k], "in");
        Value *o = activate(g, act, value_mul(g, value_const(g, weight), in));
        if (!o) {
            graph_destroy(g);
            goto oom;
        }
        graph_backward(g, o);
        s->local[k] = in->grad;
    }
    graph_destroy(g);
    return s;
oom:
    snprintf(err, n, "out of memory");
fail:
    free(s);
    return NULL;
}

static void stack_destroy(void *inst)
{
    free(inst);
}

static int stack_advance(void *inst, int max)
{
    (void)inst, (void)max;
    return 0; // computed when created
}

static int stack_steps(const void *inst)
{
    (void)inst;
    return 0;
}

static const char *stack_finished(const void *inst)
{
    (void)inst;
    return "computed";
}

static void stack_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const StackSource *s = inst;
    int N = s->N, N1 = s->N + 1;
    double *x;
    if ((x = run_arrays_add(out, prefix, "grad", 1, &N)))
        memcpy(x, s->grad, (size_t)N * sizeof(double));
    if ((x = run_arrays_add(out, prefix, "local", 1, &N)))
        memcpy(x, s->local, (size_t)N * sizeof(double));
    if ((x = run_arrays_add(out, prefix, "h", 1, &N1)))
        memcpy(x, s->h, (size_t)N1 * sizeof(double));
    double ratio = fabs(s->grad[0] / s->grad[N - 1]);
    double lmax = 0;
    for (int k = 0; k < N; k++)
        lmax = fmax(lmax, fabs(s->local[k]));
    run_arrays_number(out, prefix, "first", s->grad[0]);
    run_arrays_number(out, prefix, "ratio", ratio);
    run_arrays_number(out, prefix, "factor", N > 1 ? pow(ratio, 1.0 / (N - 1)) : 1);
    run_arrays_number(out, prefix, "lmax", lmax);
    run_arrays_number(out, prefix, "layers", N);
}

const SourceKind source_stack_kind = {
    .name = "stack",
    .summary = "a chain of N one-unit layers: the gradient of the last output at every layer's input",
    .options = stack_options,
    .default_limit = 0,
    .create = stack_create,
    .destroy = stack_destroy,
    .advance = stack_advance,
    .steps = stack_steps,
    .finished = stack_finished,
    .publish = stack_publish,
};
