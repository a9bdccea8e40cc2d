// bench_conv.c: conv2d and max-pool, forward and backward, on the shapes of
// the steering CNN (models/steering.h) at its training batch, N = 128 frames
// (8 sequences of 16):
//   conv1  x (128, 1, 32, 64)  w (8, 1, 5, 5)   stride 2, pad 2 -> (128, 8, 16, 32)
//   pool1  x (128, 8, 16, 32)  2 x 2, stride 2                   -> (128, 8, 8, 16)
//   conv2  x (128, 8, 8, 16)   w (16, 8, 3, 3)  stride 1, pad 1 -> (128, 16, 8, 16)
//   pool2  x (128, 16, 8, 16)  2 x 2, stride 2                   -> (128, 16, 4, 8)
// Forward is the op; backward is tensor_backward from the sum of its output
// (dL/dx and, for conv, dL/dw and dL/db). Each figure is the median over
// many runs of the thread's CPU time, in ms; then PyTorch's figure for the
// same shapes on one thread (bench_conv_torch.py, same timing) and the
// ratio (> 1: gradlab is faster).
//
// usage: bench_conv [PYTHON PEER_SCRIPT]
#include <stdio.h>
#include <string.h>

#include "../models/bench_util.h"
#include "engine/tensor/tensor.h"

enum { N = 128 };

typedef struct Case {
    const char *name;
    int C, H, W;          // input (N, C, H, W)
    int F, K, stride, pad; // conv: F maps of K x K; pool: F = 0, K x K windows
} Case;

static const Case cases[] = {
    {"conv1", 1, 32, 64, 8, 5, 2, 2},
    {"pool1", 8, 16, 32, 0, 2, 2, 0},
    {"conv2", 8, 8, 16, 16, 3, 1, 1},
    {"pool2", 16, 8, 16, 0, 2, 2, 0},
};

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f - 0.5f;
}

// Median ms of the forward op and of the backward pass for case c.
static bool time_case(const Case *c, double *fwd, double *bwd)
{
    enum { MAX_RUNS = 400 };
    static double tf[MAX_RUNS], tb[MAX_RUNS];
    unsigned seed = 7;
    int xs[4] = {N, c->C, c->H, c->W};
    Tensor *x = tensor_create(4, xs, true);
    Tensor *w = c->F ? tensor_create(4, (int[]){c->F, c->C, c->K, c->K}, true) : NULL;
    Tensor *b = c->F ? tensor_create(1, (int[]){c->F}, true) : NULL;
    TensorGraph *g = tensor_graph_create(0);
    if (!x || (c->F && (!w || !b)) || !g)
        return false;
    for (size_t i = 0; i < x->size; i++)
        x->data[i] = frand(&seed);
    for (size_t i = 0; w && i < w->size; i++)
        w->data[i] = frand(&seed);
    int n = 0;
    double t0 = bench_now();
    bool ok = true;
    while (ok && (n < 20 || (bench_now() - t0 < 3.0 && n < MAX_RUNS))) {
        tensor_graph_reset(g);
        double c0 = bench_cpu_now();
        Tensor *y = c->F ? tensor_conv2d(g, x, w, b, c->stride, c->pad) : tensor_maxpool2d(g, x, c->K, c->stride);
        double c1 = bench_cpu_now();
        Tensor *loss = tensor_sum(g, y);
        tensor_zero_grad(x);
        double c2 = bench_cpu_now();
        ok = loss && tensor_backward(g, loss);
        double c3 = bench_cpu_now();
        tf[n] = 1e3 * (c1 - c0);
        tb[n++] = 1e3 * (c3 - c2);
    }
    *fwd = bench_median(tf, n);
    *bwd = bench_median(tb, n);
    tensor_graph_destroy(g);
    tensor_destroy(x);
    tensor_destroy(w);
    tensor_destroy(b);
    return ok;
}

int main(int argc, char **argv)
{
    const char *python = argc > 1 ? argv[1] : NULL, *script = argc > 2 ? argv[2] : NULL;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const Case *c = &cases[k];
        double f, b;
        if (!time_case(c, &f, &b)) {
            fprintf(stderr, "bench_conv: %s failed (out of memory)\n", c->name);
            return 1;
        }
        const char *dir[2] = {"fwd", "bwd"};
        double mine[2] = {f, b};
        for (int d = 0; d < 2; d++) {
            char name[64], peer_name[80], arg[32];
            snprintf(name, sizeof(name), "steer_%s_%s", c->name, dir[d]);
            printf("%s %.4f ms\n", name, mine[d]);
            snprintf(peer_name, sizeof(peer_name), "%s_torch", name);
            snprintf(arg, sizeof(arg), "%s_%s", c->name, dir[d]);
            double peer;
            if (bench_peer(peer_name, python, script, arg, &peer)) {
                printf("%s %.4f ms\n", peer_name, peer);
                printf("%s_speedup %.2f x\n", name, peer / mine[d]);
            }
        }
    }
    return 0;
}
