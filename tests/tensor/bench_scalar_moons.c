// bench_scalar_moons.c: micrograd's demo training step on the scalar engine.
//
// The setup of micrograd's demo notebook: 100 two-moons points (noise 0.1),
// an MLP 2-16-16-1 with relu hidden layers, SVM max-margin loss
// mean(relu(1 - y * score)) plus 1e-4 * sum(p^2), and SGD with a learning
// rate falling from 1.0 to 0.1. Each step rebuilds the whole graph of scalar
// Values (about 65k nodes) and runs backward through it.
//
// Parameters live outside the graph as plain doubles: each step enters them
// as value_input leaves, and after backward their grads update the doubles.
//
// Prints `NAME VALUE UNIT` lines: ms per step (median CPU time of the thread;
// the _wall line: mean wall-clock time), the final loss and accuracy,
// and, when Python can import micrograd, micrograd's own ms per step and the
// ratio. Otherwise a skip line.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/value.h"
#include "../bench_util.h"

#define PI BENCH_PI

enum { NPTS = 100, NIN = 2, H1 = 16, H2 = 16, STEPS = 100, WARMUP = 3 };

// sklearn's make_moons: an upper half circle and a lower one shifted right.
// x (NPTS, 2), y (NPTS) in {-1, +1}.
static void make_moons(double x[NPTS][2], double y[NPTS], double noise)
{
    int n_out = NPTS / 2, n_in = NPTS - n_out;
    for (int i = 0; i < n_out; i++) {
        double t = PI * i / (n_out - 1);
        x[i][0] = cos(t);
        x[i][1] = sin(t);
        y[i] = -1;
    }
    for (int i = 0; i < n_in; i++) {
        double t = PI * i / (n_in - 1);
        x[n_out + i][0] = 1 - cos(t);
        x[n_out + i][1] = 1 - sin(t) - 0.5;
        y[n_out + i] = 1;
    }
    for (int i = 0; i < NPTS; i++) {
        x[i][0] += noise * gaussian();
        x[i][1] += noise * gaussian();
    }
}

// All parameters in one block, as in llm.c.
typedef struct Params {
    double w1[H1][NIN], b1[H1];   // layer 1: (16, 2), (16)
    double w2[H2][H1], b2[H2];    // layer 2: (16, 16), (16)
    double w3[H2], b3;            // output:  (16), ()
} Params;
#define NPARAMS ((int)(sizeof(Params) / sizeof(double)))

// One training step. Returns the loss; *acc gets the accuracy.
static double step(Graph *g, Params *p, double x[NPTS][2], const double y[NPTS],
                   double lr, double *acc)
{
    graph_reset(g);
    double *pd = (double *)p;
    Value *pv[sizeof(Params) / sizeof(double)];   // the parameters as leaves
    for (int i = 0; i < NPARAMS; i++)
        pv[i] = value_input(g, pd[i], NULL);
    Value **w1 = pv, **b1 = w1 + H1 * NIN, **w2 = b1 + H1, **b2 = w2 + H2 * H1;
    Value **w3 = b2 + H2, *b3 = w3[H2];

    Value *data_loss = value_const(g, 0.0);
    int correct = 0;
    for (int n = 0; n < NPTS; n++) {
        Value *in[NIN] = { value_const(g, x[n][0]), value_const(g, x[n][1]) };
        Value *h1[H1], *h2[H2];
        for (int j = 0; j < H1; j++) {
            Value *a = b1[j];
            for (int k = 0; k < NIN; k++)
                a = value_add(g, a, value_mul(g, w1[j * NIN + k], in[k]));
            h1[j] = value_relu(g, a);
        }
        for (int j = 0; j < H2; j++) {
            Value *a = b2[j];
            for (int k = 0; k < H1; k++)
                a = value_add(g, a, value_mul(g, w2[j * H1 + k], h1[k]));
            h2[j] = value_relu(g, a);
        }
        Value *score = b3;
        for (int k = 0; k < H2; k++)
            score = value_add(g, score, value_mul(g, w3[k], h2[k]));
        // max-margin: relu(1 - y * score)
        Value *margin = value_relu(g, value_sub(g, value_const(g, 1.0),
                                                 value_mul(g, value_const(g, y[n]), score)));
        data_loss = value_add(g, data_loss, margin);
        correct += (score && (score->data > 0) == (y[n] > 0));
    }
    data_loss = value_mul(g, data_loss, value_const(g, 1.0 / NPTS));
    Value *reg = value_const(g, 0.0);
    for (int i = 0; i < NPARAMS; i++)
        reg = value_add(g, reg, value_mul(g, pv[i], pv[i]));
    Value *loss = value_add(g, data_loss, value_mul(g, value_const(g, 1e-4), reg));
    if (!loss) {
        fprintf(stderr, "bench_scalar_moons: %s\n", graph_error(g));
        exit(1);
    }
    // Every node is new this step, so its grad is 0: no zeroing needed.
    graph_backward(g, loss);
    for (int i = 0; i < NPARAMS; i++)
        pd[i] -= lr * pv[i]->grad;
    *acc = (double)correct / NPTS;
    return loss->data;
}

// micrograd itself as the peer, when Python can import it.
static const char *peer_script =
    "import random, time, math\n"
    "from micrograd.engine import Value\n"
    "from micrograd.nn import MLP\n"
    "random.seed(1337)\n"
    "n = 100\n"
    "X = []\n"
    "Y = []\n"
    "for i in range(n // 2):\n"
    "    t = math.pi * i / (n // 2 - 1)\n"
    "    X.append([math.cos(t) + random.gauss(0, .1), math.sin(t) + random.gauss(0, .1)]); Y.append(-1)\n"
    "    X.append([1 - math.cos(t) + random.gauss(0, .1), .5 - math.sin(t) + random.gauss(0, .1)]); Y.append(1)\n"
    "model = MLP(2, [16, 16, 1])\n"
    "def step(k):\n"
    "    inputs = [list(map(Value, x)) for x in X]\n"
    "    scores = list(map(model, inputs))\n"
    "    losses = [(1 + -yi * si).relu() for yi, si in zip(Y, scores)]\n"
    "    loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())\n"
    "    model.zero_grad()\n"
    "    loss.backward()\n"
    "    lr = 1.0 - 0.9 * k / 100\n"
    "    for p in model.parameters():\n"
    "        p.data -= lr * p.grad\n"
    "step(0)\n"
    "t0 = time.process_time()\n"
    "for k in range(1, 4):\n"
    "    step(k)\n"
    "print('%.1f' % ((time.process_time() - t0) / 3 * 1000))\n";

static double run_peer(void)
{
    char path[] = "/tmp/gradlab_moons_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f)
        return -1;
    fputs(peer_script, f);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "python3 %s 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    double ms = -1;
    if (p) {
        if (fscanf(p, "%lf", &ms) != 1)
            ms = -1;
        pclose(p);
    }
    remove(path);
    return ms;
}

int main(int argc, char **argv)
{
    bool no_peer = argc > 1 && strcmp(argv[1], "--no-peer") == 0;
    static double x[NPTS][2], y[NPTS];
    make_moons(x, y, 0.1);
    Params p;
    double *pd = (double *)&p;
    for (int i = 0; i < NPARAMS; i++)
        pd[i] = 2.0 * uniform01() - 1.0;   // micrograd: weights U(-1, 1)
    memset(p.b1, 0, sizeof p.b1);          // and biases 0
    memset(p.b2, 0, sizeof p.b2);
    p.b3 = 0;

    Graph *g = graph_create(0);
    if (!g) {
        fprintf(stderr, "bench_scalar_moons: out of memory\n");
        return 1;
    }
    // The thread's CPU time per step, median over the steps after a warm-up:
    // other programs on the machine then barely move the figure. The wall
    // clock mean is printed too.
    static double cpu_ms[STEPS];
    double loss = 0, acc = 0, wall0 = 0;
    for (int k = 0; k < STEPS; k++) {
        if (k == WARMUP)
            wall0 = clock_s(CLOCK_MONOTONIC);
        double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        loss = step(g, &p, x, y, 1.0 - 0.9 * k / STEPS, &acc);
        cpu_ms[k] = 1000.0 * (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0);
    }
    double wall_ms = (clock_s(CLOCK_MONOTONIC) - wall0) / (STEPS - WARMUP) * 1000.0;
    qsort(cpu_ms + WARMUP, STEPS - WARMUP, sizeof(double), cmp_double);
    double ms = cpu_ms[WARMUP + (STEPS - WARMUP) / 2];
    printf("scalar_moons_nodes %zu nodes\n", g->n);
    printf("scalar_moons %.3f ms/step\n", ms);
    printf("scalar_moons_wall %.3f ms/step\n", wall_ms);
    printf("scalar_moons_final_loss %.4f -\n", loss);
    printf("scalar_moons_final_accuracy %.2f -\n", acc);
    graph_destroy(g);

    double peer = no_peer ? -1 : run_peer();
    if (peer > 0) {
        printf("scalar_moons_micrograd %.1f ms/step\n", peer);
        printf("scalar_moons_speedup %.0f x\n", peer / ms);
    } else {
        printf("scalar_moons_micrograd skip (python3 cannot import micrograd)\n");
    }
    return 0;
}
