// recurrent.c: size checks shared by the RNN and the LSTM; see recurrent.h.
#include "models/recurrent.h"

#include <stdlib.h>

#include <stdio.h>
#include <string.h>

bool recurrent_check_size(long B, long T, long I, long H, int G, char *err, size_t errlen)
{
    const struct { const char *what; long v, max; } dims[] = {
        {"batch size", B, MODEL_MAX_BATCH},
        {"sequence length", T, MODEL_MAX_STEPS},
        {"input size", I, MODEL_MAX_INPUT},
        {"hidden size", H, MODEL_MAX_HIDDEN},
    };
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
        if (dims[k].v < 1 || dims[k].v > dims[k].max) {
            snprintf(err, errlen, "%s %ld is %s (use 1 to %ld)", dims[k].what, dims[k].v,
                     dims[k].v < 1 ? "too small" : "too large", dims[k].max);
            return false;
        }
    }
    // Parameters, gradients and two scratch copies of their size (W_hh^T
    // and the transposed weight gradients), plus activations per (t, b) row:
    // the input and its gradient, G pre-activations and their gradients, and
    // up to six H-sized states. All factors are bounded above, so this
    // cannot overflow.
    size_t gh = (size_t)G * (size_t)H;
    size_t params = 4 * (gh * (size_t)I + gh * (size_t)H + 2 * gh);
    size_t per_row = 2 * (size_t)I + 2 * gh + 6 * (size_t)H;
    size_t rows = (size_t)B * (size_t)T;
    if (params > MODEL_MAX_FLOATS || rows > MODEL_MAX_FLOATS / per_row ||
        params + rows * per_row > MODEL_MAX_FLOATS) {
        snprintf(err, errlen,
                 "batch %ld x length %ld x input %ld x hidden %ld needs more than %zu MB; "
                 "use smaller sizes", B, T, I, H, MODEL_MAX_FLOATS * sizeof(float) >> 20);
        return false;
    }
    return true;
}

void seq_to_time_major(float *dst, const float *src, int B, int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(dst + ((size_t)t * B + b) * C, src + ((size_t)b * T + t) * C, (size_t)C * sizeof(float));
}

void seq_to_batch_first(float *dst, const float *src, int B, int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(dst + ((size_t)b * T + t) * C, src + ((size_t)t * B + b) * C, (size_t)C * sizeof(float));
}

void mat_transpose(float *dst, const float *src, int rows, int cols, bool add)
{
    enum { TILE = 16 };
    for (int r0 = 0; r0 < rows; r0 += TILE) {
        int r1 = r0 + TILE < rows ? r0 + TILE : rows;
        for (int c0 = 0; c0 < cols; c0 += TILE) {
            int c1 = c0 + TILE < cols ? c0 + TILE : cols;
            for (int c = c0; c < c1; c++) {
                float *d = dst + (size_t)c * rows;
                if (add)
                    for (int r = r0; r < r1; r++)
                        d[r] += src[(size_t)r * cols + c];
                else
                    for (int r = r0; r < r1; r++)
                        d[r] = src[(size_t)r * cols + c];
            }
        }
    }
}

// Aim p's four tensors into base, in PyTorch's order.
static void point_params(RecurrentParams *p, float *base, int I, int H, int G)
{
    size_t rows = (size_t)G * (size_t)H;
    p->w_ih = base;
    p->w_hh = p->w_ih + rows * (size_t)I;
    p->b_ih = p->w_hh + rows * (size_t)H;
    p->b_hh = p->b_ih + rows;
}

bool recurrent_params_alloc(int I, int H, int G, float **params, float **grads, size_t *nparams,
                            RecurrentParams *p, RecurrentParams *g)
{
    size_t rows = (size_t)G * (size_t)H;
    *nparams = rows * (size_t)I + rows * (size_t)H + 2 * rows;
    *params = calloc(*nparams, sizeof(float));
    *grads = calloc(*nparams, sizeof(float));
    if (!*params || !*grads) {
        free(*params);
        free(*grads);
        *params = *grads = NULL;
        return false;
    }
    point_params(p, *params, I, H, G);
    point_params(g, *grads, I, H, G);
    return true;
}
