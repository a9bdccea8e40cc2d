// steering_driver.c: the steering CNN (models/steering.h) on four frames of
// the seeded world, forward and backward once, printed for
// test_steering_torch.py to rebuild in PyTorch: the frames, the targets,
// every parameter, then the loss and every parameter's gradient. One
// "NAME v v v ..." line each (%.9g: floats read back exactly).
#include <stdio.h>
#include <stdlib.h>

#include "models/steering.h"

static void line(const char *name, const float *v, size_t n)
{
    printf("%s", name);
    for (size_t i = 0; i < n; i++)
        printf(" %.9g", (double)v[i]);
    printf("\n");
}

int main(void)
{
    enum { N = 4 };
    SteerConfig c = steer_defaults();
    c.T = 2, c.batch = 1, c.test_size = 1, c.cnn_steps = 1, c.lstm_steps = 0;
    SteerTrainer *tr = steer_create(&c);
    float *frames = malloc(sizeof(float) * N * STEER_PIX), y[N];
    unsigned char kinds[N], force[N] = {STEER_CLEAN, STEER_SHADOW, STEER_NOISE, STEER_CLEAN};
    TensorGraph *g = tensor_graph_create(0);
    if (!tr || !frames || !g)
        return 1;
    Pcg r;
    pcg_seed(&r, 3);
    steer_world_batch(&r, 1, N, 0, force, frames, y, kinds);
    SteerCnnOut o = steer_cnn_forward(g, tr->cnn, frames, N);
    Tensor *loss = tensor_mse(g, o.angle, tensor_input2(g, N, 1, y));
    tensor_block_zero_grad(tr->cnn);
    if (!loss || !tensor_backward(g, loss))
        return 1;
    line("frames", frames, (size_t)N * STEER_PIX);
    line("target", y, N);
    for (int k = 0; k < STEER_NPARAMS; k++)
        line(steer_param_names[k], tr->cnn->t[k]->data, tr->cnn->t[k]->size);
    line("loss", loss->data, 1);
    line("angle", o.angle->data, N);
    char name[32];
    for (int k = 0; k < STEER_NPARAMS; k++) {
        snprintf(name, sizeof(name), "grad.%s", steer_param_names[k]);
        line(name, tr->cnn->t[k]->grad, tr->cnn->t[k]->size);
    }
    tensor_graph_destroy(g);
    free(frames);
    steer_destroy(tr);
    return 0;
}
