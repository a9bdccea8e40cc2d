// bench_tensor_moons.c: micrograd's moons training step again, this time on
// the tensor engine: the same MLP 2-16-16-1 (relu), the same 100 points, SVM
// max-margin loss plus 1e-4 L2 and SGD, but one matmul per layer instead of
// one Value per multiply. The ratio to scalar_moons is the lesson's point.
//
// Prints `NAME VALUE UNIT` lines: ms per step (median CPU time of the
// thread), the final loss and accuracy.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine/tensor/tensor.h"
#include "../bench_util.h"

#define PI BENCH_PI

enum { NPTS = 100, STEPS = 300, WARMUP = 20 };

int main(void)
{
    // Two moons, as in bench_scalar_moons.c: x (N, 2), y (N, 1) in {-1, +1}.
    static float x[NPTS * 2], y[NPTS], ones[NPTS];
    for (int i = 0; i < NPTS; i++) {
        bool outer = i < NPTS / 2;
        int j = outer ? i : i - NPTS / 2;
        double t = PI * j / (NPTS / 2 - 1);
        x[2 * i] = (float)((outer ? cos(t) : 1 - cos(t)) + 0.1 * gaussian());
        x[2 * i + 1] = (float)((outer ? sin(t) : 0.5 - sin(t)) + 0.1 * gaussian());
        y[i] = outer ? -1.0f : 1.0f;
        ones[i] = 1.0f;
    }

    // Parameters in one block: w1 (2, 16), b1 (16), w2 (16, 16), b2 (16), w3 (16, 1), b3 (1).
    static const int ndims[6] = { 2, 1, 2, 1, 2, 1 };
    static const int shapes[6][TENSOR_MAX_DIMS] = { { 2, 16 }, { 16 }, { 16, 16 }, { 16 }, { 16, 1 }, { 1 } };
    TensorBlock *p = tensor_block_create(6, ndims, shapes, true);
    TensorGraph *g = tensor_graph_create(0);
    if (!p || !g) {
        fprintf(stderr, "bench_tensor_moons: out of memory\n");
        return 1;
    }
    for (int t = 0; t < 6; t += 2)   // weights U(-1, 1), biases 0
        for (size_t i = 0; i < p->t[t]->size; i++)
            p->t[t]->data[i] = (float)(2.0 * uniform01() - 1.0);

    static double cpu_ms[STEPS];
    float loss = 0;
    int correct = 0;
    for (int k = 0; k < STEPS; k++) {
        double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        tensor_graph_reset(g);
        Tensor *tx = tensor_input2(g, NPTS, 2, x);                                     // (N, 2)
        Tensor *ty = tensor_input2(g, NPTS, 1, y);                                     // (N, 1)
        Tensor *h1 = tensor_relu(g, tensor_bias_add(g, tensor_matmul(g, tx, p->t[0]), p->t[1]));   // (N, 16)
        Tensor *h2 = tensor_relu(g, tensor_bias_add(g, tensor_matmul(g, h1, p->t[2]), p->t[3]));   // (N, 16)
        Tensor *score = tensor_bias_add(g, tensor_matmul(g, h2, p->t[4]), p->t[5]);                // (N, 1)
        Tensor *margin = tensor_relu(g, tensor_sub(g, tensor_input2(g, NPTS, 1, ones),
                                                   tensor_mul(g, ty, score)));                     // (N, 1)
        Tensor *reg = tensor_sum(g, tensor_mul(g, p->t[0], p->t[0]));
        for (int t = 1; t < 6; t++)
            reg = tensor_add(g, reg, tensor_sum(g, tensor_mul(g, p->t[t], p->t[t])));
        Tensor *total = tensor_add(g, tensor_mean(g, margin), tensor_scale(g, reg, 1e-4f));         // ()
        tensor_block_zero_grad(p);
        tensor_backward(g, total);
        float lr = (float)(1.0 - 0.9 * k / STEPS);
        for (size_t i = 0; i < p->size; i++)
            p->data[i] -= lr * p->grad[i];
        cpu_ms[k] = 1000.0 * (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0);
        loss = total->data[0];
        correct = 0;
        for (int i = 0; i < NPTS; i++)
            correct += (score->data[i] > 0) == (y[i] > 0);
    }
    qsort(cpu_ms + WARMUP, STEPS - WARMUP, sizeof(double), cmp_double);
    printf("tensor_moons %.4f ms/step\n", cpu_ms[WARMUP + (STEPS - WARMUP) / 2]);
    printf("tensor_moons_final_loss %.4f -\n", loss);
    printf("tensor_moons_final_accuracy %.2f -\n", (double)correct / NPTS);
    tensor_graph_destroy(g);
    tensor_block_destroy(p);
    return 0;
}
