// readout.c: the linear read-out and its training step shared by the adding
// and memory tasks; see readout.h.
#include "models/readout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/init.h"

Lstm *readout_lstm_create(int H, Pcg *init)
{
    Lstm *m = lstm_create(2, H);
    if (!m)
        return NULL;
    lstm_init_uniform(m, init);
    m->skip_dx = true;
    for (int j = H; j < 2 * H; j++)
        m->p.b_ih[j] += 1.0f;
    return m;
}

bool readout_alloc(int B, int T, int H, float lr, size_t nparams, Pcg *init, float **head,
                   float **head_grad, float **x, float **target, float **y, float **dh,
                   Optim **opt_model, Optim **opt_head)
{
    *head = calloc((size_t)H + 1, sizeof(float));
    *head_grad = calloc((size_t)H + 1, sizeof(float));
    *x = calloc((size_t)B * T * 2, sizeof(float));
    *target = malloc((size_t)B * sizeof(float));
    *y = malloc((size_t)B * sizeof(float));
    *dh = malloc((size_t)B * H * sizeof(float));
    OptimConfig oc = optim_defaults(OPTIM_ADAM);
    oc.lr = lr;
    *opt_model = optim_create(&oc, nparams);
    *opt_head = optim_create(&oc, (size_t)H + 1);
    if (!*head || !*head_grad || !*x || !*target || !*y || !*dh || !*opt_model || !*opt_head)
        return false;
    init_uniform(*head, (size_t)H, 1.0f / sqrtf((float)H), init);
    return true;
}

void readout_free(float *head, float *head_grad, float *x, float *target, float *y, float *dh,
                  Optim *opt_model, Optim *opt_head)
{
    free(head);
    free(head_grad);
    free(x);
    free(target);
    free(y);
    free(dh);
    optim_destroy(opt_model);
    optim_destroy(opt_head);
}

double readout_mse(const float *head, const float *h, const float *target, float *y, int B, int H)
{
    double mse = 0.0;
    for (int b = 0; b < B; b++) {
        float yb = head[H];
        const float *hb = h + (size_t)b * H;
        for (int j = 0; j < H; j++)
            yb += head[j] * hb[j];
        y[b] = yb;
        double d = (double)yb - (double)target[b];
        mse += d * d;
    }
    return mse / B;
}

void readout_backward(const float *head, const float *h, const float *y, const float *target, int B,
                      int H, float *head_grad, float *dh)
{
    memset(head_grad, 0, ((size_t)H + 1) * sizeof(float));
    for (int b = 0; b < B; b++) {
        float dy = 2.0f * (y[b] - target[b]) / (float)B;
        const float *hb = h + (size_t)b * H;
        float *dhb = dh + (size_t)b * H;
        for (int j = 0; j < H; j++) {
            head_grad[j] += dy * hb[j];
            dhb[j] = dy * head[j];
        }
        head_grad[H] += dy;
    }
}

double readout_clip_step(Optim *opt_model, float *params, float *grads, size_t n, Optim *opt_head,
                         float *head, float *head_grad, int H, float clip)
{
    double n1 = grad_norm(grads, n), n2 = grad_norm(head_grad, (size_t)H + 1);
    double norm = sqrt(n1 * n1 + n2 * n2);
    if (clip > 0.0f && norm >= clip) {
        float s = (float)(clip / norm);
        for (size_t i = 0; i < n; i++)
            grads[i] *= s;
        for (int j = 0; j <= H; j++)
            head_grad[j] *= s;
    }
    optim_step(opt_model, params, grads);
    optim_step(opt_head, head, head_grad);
    return norm;
}
