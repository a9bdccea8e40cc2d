// mlp2d_driver.c: a test helper that trains the playground's MLP
// (src/models/playground.c: the tensor engine and the engine's optimizers)
// and prints it as JSON, for test_mlp2d_torch.py to replay with torch.
//
// usage: mlp2d_driver DATASET LAYERS UNITS ACTIVATION OPTIMIZER LR STEPS SEED NOISE
//
// OPTIMIZER is one of optim_names (sgd, momentum, adagrad, rmsprop, adam,
// adamw). The JSON holds the points and labels, every parameter tensor
// (shape and numbers) before training and after, and the loss before each
// step and after the last.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/playground.h"

static void print_floats(const float *f, size_t n)
{
    putchar('[');
    for (size_t i = 0; i < n; i++)
        printf("%s%.9g", i ? ", " : "", (double)f[i]);
    putchar(']');
}

static void print_params(const Playground *pg)
{
    putchar('[');
    for (int k = 0; k < pg->params->n; k++) {
        const Tensor *t = pg->params->t[k];
        printf("%s{\"shape\": [", k ? ", " : "");
        for (int d = 0; d < t->ndim; d++)
            printf("%s%d", d ? ", " : "", t->shape[d]);
        printf("], \"data\": ");
        print_floats(t->data, t->size);
        putchar('}');
    }
    putchar(']');
}

static int find(const char *word, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(word, names[i]) == 0)
            return i;
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr,
                "usage: mlp2d_driver DATASET LAYERS UNITS ACTIVATION OPTIMIZER LR STEPS SEED NOISE\n");
        return 2;
    }
    int d = find(argv[1], pg_dataset_names, PG_DATASET_COUNT),
        a = find(argv[4], pg_activation_names, PG_ACT_COUNT);
    int o = find(argv[5], optim_names, OPTIM_COUNT), steps = atoi(argv[7]);
    if (d < 0 || a < 0 || o < 0 || steps < 0) {
        fprintf(stderr, "mlp2d_driver: unknown data set, activation or optimizer\n");
        return 2;
    }
    enum { N = 200 };
    float xy[2 * N];
    int label[N];
    pg_dataset((PgDataset)d, N, atof(argv[9]), (uint64_t)atoll(argv[8]), xy, label);
    PgConfig cfg = {.layers = atoi(argv[2]),
                    .units = atoi(argv[3]),
                    .act = (PgActivation)a,
                    .seed = (uint64_t)atoll(argv[8]) + 1000,
                    .opt = optim_defaults((OptimKind)o)};
    cfg.opt.lr = (float)atof(argv[6]);
    Playground *pg = playground_create(&cfg, xy, label, N);
    if (!pg) {
        fprintf(stderr, "mlp2d_driver: bad configuration or out of memory\n");
        return 1;
    }
    printf("{\"xy\": ");
    print_floats(xy, 2 * N);
    printf(", \"labels\": [");
    for (int i = 0; i < N; i++)
        printf("%s%d", i ? ", " : "", label[i]);
    printf("], \"params0\": ");
    print_params(pg);
    float *loss = malloc((size_t)(steps + 1) * sizeof(float));
    for (int s = 0; s < steps; s++)
        loss[s] = playground_step(pg);
    loss[steps] = playground_loss_grad(pg);
    printf(", \"loss\": ");
    print_floats(loss, (size_t)steps + 1);
    printf(", \"params\": ");
    print_params(pg);
    printf("}\n");
    free(loss);
    playground_destroy(pg);
    return 0;
}
