// rnn.c: the vanilla RNN's forward and backward passes; see rnn.h.
//
// As in lstm.c, the forward and the backward's recurrence take the fused
// AVX2 kernels where they run (rnn_avx2.c, rnn_fused.h) and the generic
// ones here otherwise: one gemm for the input projection of all steps,
// (B, H) x (H, H) products inside the recurrence. Both end in the same
// weight gradients, one gemm each over all steps (rnn_backward_weights).
#include "models/rnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor/gemm.h"
#include "engine/fastmath.h"
#include "models/rnn_fused.h"

const char *const rnn_act_names[RNN_ACT_COUNT] = {
    [RNN_TANH] = "tanh", [RNN_RELU] = "relu", [RNN_SIGMOID] = "sigmoid", [RNN_LINEAR] = "linear",
};

const char *const rnn_param_names[RNN_NUM_PARAMS] = {
    "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
};

Rnn *rnn_create(int I, int H, RnnAct act)
{
    char err[160];
    if (!recurrent_check_size(1, 1, I, H, 1, err, sizeof err) || act < 0 || act >= RNN_ACT_COUNT)
        return NULL;
    Rnn *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->I = I;
    m->H = H;
    m->act = act;
    m->w_hh_t = malloc((size_t)H * H * sizeof(float));
    if (!recurrent_params_alloc(I, H, 1, &m->params, &m->grads, &m->nparams, &m->p, &m->g) || !m->w_hh_t) {
        rnn_destroy(m);
        return NULL;
    }
    if (rnn_fused_available(H)) {
        size_t panels = ((size_t)H + 31) / 32;
        size_t n = panels * 32 * ((size_t)I + (size_t)H) + panels * 32 * (size_t)H + (size_t)H;
        m->packed = aligned_alloc(32, (n * sizeof(float) + 31) / 32 * 32);
        if (m->packed) {
            m->wp = m->packed;
            m->wb = m->wp + panels * 32 * ((size_t)I + (size_t)H);
            m->bias = m->wb + panels * 32 * (size_t)H;
            m->fused = true;
        }
    }
    return m;
}

void rnn_destroy(Rnn *m)
{
    if (!m)
        return;
    free(m->params);
    free(m->grads);
    free(m->w_hh_t);
    free(m->packed);
    free(m->tokens);
    free(m->acts);
    free(m);
}

float *rnn_param(Rnn *m, int k, bool grad, size_t *n, int *rows, int *cols)
{
    RnnParams *p = grad ? &m->g : &m->p;
    float *ptrs[RNN_NUM_PARAMS] = {p->w_ih, p->w_hh, p->b_ih, p->b_hh};
    int c[RNN_NUM_PARAMS] = {m->I, m->H, 1, 1};
    *rows = m->H;
    *cols = c[k];
    *n = (size_t)m->H * (size_t)c[k];
    return ptrs[k];
}

void rnn_init_uniform(Rnn *m, Pcg *rng)
{
    float bound = 1.0f / sqrtf((float)m->H);
    for (size_t i = 0; i < m->nparams; i++)
        m->params[i] = (2.0f * pcg_uniform(rng) - 1.0f) * bound;
}

void rnn_zero_grad(Rnn *m)
{
    memset(m->grads, 0, m->nparams * sizeof(float));
}

static bool reserve(Rnn *m, int B, int T)
{
    size_t TB = (size_t)T * (size_t)B, BH = (size_t)B * (size_t)m->H;
    size_t H = (size_t)m->H, I = (size_t)m->I;
    size_t need = TB * (2 * I + 3 * H) + 2 * BH;
    if (need > m->act_cap) {
        float *a = malloc(need * sizeof(float));
        if (!a)
            return false;
        free(m->acts);
        m->acts = a;
        m->act_cap = need;
    }
    float *q = m->acts;
    m->x = q;     q += TB * I;
    m->dx = q;    q += TB * I;
    m->h = q;     q += TB * H;
    m->dpre = q;  q += TB * H;
    m->dh = q;    q += TB * H;
    m->h0 = q;    q += BH;
    m->dh0 = q;
    m->B = B;
    m->T = T;
    return true;
}

// y = act(y) over n values.
FASTMATH_CLONES
static void activate(float *y, size_t n, RnnAct act)
{
    switch (act) {
    case RNN_TANH:
        for (size_t i = 0; i < n; i++)
            y[i] = fast_tanhf(y[i]);
        break;
    case RNN_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        break;
    case RNN_SIGMOID:
        for (size_t i = 0; i < n; i++)
            y[i] = fast_sigmoidf(y[i]);
        break;
    case RNN_LINEAR:
    case RNN_ACT_COUNT:
        break;
    }
}

// dpre = dh * act'(pre), with the derivative written in terms of y = act(pre).
FASTMATH_CLONES
static void activate_backward(float *dpre, const float *dh, const float *y, size_t n, RnnAct act)
{
    switch (act) {
    case RNN_TANH:
        for (size_t i = 0; i < n; i++)
            dpre[i] = dh[i] * (1.0f - y[i] * y[i]);
        break;
    case RNN_RELU:
        for (size_t i = 0; i < n; i++)
            dpre[i] = y[i] > 0.0f ? dh[i] : 0.0f;
        break;
    case RNN_SIGMOID:
        for (size_t i = 0; i < n; i++)
            dpre[i] = dh[i] * y[i] * (1.0f - y[i]);
        break;
    case RNN_LINEAR:
    case RNN_ACT_COUNT:
        memcpy(dpre, dh, n * sizeof(float));
        break;
    }
}

// The forward pass on dense inputs x (B, T, I) or, when x is NULL, on
// one-hot inputs given by tokens (B, T).
static bool run_forward(Rnn *m, const float *x, const int *tokens, const float *h0, int B, int T)
{
    if (!reserve(m, B, T))
        return false;
    const int H = m->H, I = m->I;
    const size_t BH = (size_t)B * H, TB = (size_t)T * B;
    m->have_grad = false;
    m->onehot = x == NULL;
    if (m->onehot) {
        if (TB > m->tok_cap) {
            int *tk = malloc(TB * sizeof(int));
            if (!tk)
                return false;
            free(m->tokens);
            m->tokens = tk;
            m->tok_cap = TB;
        }
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                m->tokens[(size_t)t * B + b] = tokens[(size_t)b * T + t];
    } else {
        seq_to_time_major(m->x, x, B, T, I);
    }
    if (h0)
        memcpy(m->h0, h0, BH * sizeof(float));
    else
        memset(m->h0, 0, BH * sizeof(float));
    m->fused_fwd = m->fused && m->packed && rnn_fused_available(H);
    if (m->fused_fwd) {
        rnn_forward_fused(m);
        return true;
    }
    // h (TB, H) = x (TB, I) @ W_ih^T + b_ih + b_hh, all steps at once; the
    // recurrence then adds h_{t-1} W_hh^T and applies act in place.
    float *bias = m->dpre;   // scratch until backward
    for (int j = 0; j < H; j++)
        bias[j] = m->p.b_ih[j] + m->p.b_hh[j];
    if (m->onehot) {
        // x W_ih^T for a one-hot x is column tok of W_ih: a lookup.
        for (size_t r = 0; r < TB; r++) {
            const float *w = m->p.w_ih + m->tokens[r];
            float *hr = m->h + r * H;
            for (int j = 0; j < H; j++)
                hr[j] = bias[j] + w[(size_t)j * I];
        }
    } else {
        for (size_t r = 0; r < TB; r++)
            memcpy(m->h + r * H, bias, (size_t)H * sizeof(float));
        gemm_f32(false, true, (int)TB, H, I, 1.0f, m->x, I, m->p.w_ih, I, 1.0f, m->h, H);
    }
    // W_hh^T once, so that gemm reads it in place at every step.
    mat_transpose(m->w_hh_t, m->p.w_hh, H, H, false);
    for (int t = 0; t < T; t++) {
        const float *hprev = t ? m->h + (size_t)(t - 1) * BH : m->h0;
        float *ht = m->h + t * BH;
        // ht (B, H) += hprev (B, H) @ W_hh^T (H, H)
        gemm_f32(false, false, B, H, H, 1.0f, hprev, H, m->w_hh_t, H, 1.0f, ht, H);
        activate(ht, BH, m->act);
    }
    return true;
}

bool rnn_forward(Rnn *m, const float *x, const float *h0, int B, int T)
{
    return run_forward(m, x, NULL, h0, B, T);
}

bool rnn_forward_tokens(Rnn *m, const int *tokens, const float *h0, int B, int T)
{
    return run_forward(m, NULL, tokens, h0, B, T);
}

void rnn_backward(Rnn *m, const float *dout, const float *dh_n)
{
    const size_t BH = (size_t)m->B * m->H;
    float *dh_next = m->dh0;   // ends up holding dL/dh0
    if (dh_n)
        memcpy(dh_next, dh_n, BH * sizeof(float));
    else
        memset(dh_next, 0, BH * sizeof(float));
    if (m->fused_fwd)
        rnn_backward_fused(m, dout);
    else
        rnn_backward_steps_generic(m, dout);
    rnn_backward_weights(m);
    m->have_grad = true;
}

// The generic recurrence of the backward (rnn_fused.h): a pointwise pass
// and a gemm per step.
void rnn_backward_steps_generic(Rnn *m, const float *dout)
{
    const int B = m->B, T = m->T, H = m->H;
    const size_t BH = (size_t)B * H;
    float *dh_next = m->dh0;
    for (int t = T - 1; t >= 0; t--) {
        float *dht = m->dh + t * BH;
        for (int b = 0; b < B; b++) {
            const float *dob = dout ? dout + ((size_t)b * T + t) * H : NULL;
            float *d = dht + (size_t)b * H;
            const float *n = dh_next + (size_t)b * H;
            for (int j = 0; j < H; j++)
                d[j] = n[j] + (dob ? dob[j] : 0.0f);
        }
        float *da = m->dpre + t * BH;
        activate_backward(da, dht, m->h + t * BH, BH, m->act);
        // dh_next (B, H) = da (B, H) @ W_hh (H, H)
        gemm_f32(false, false, B, H, H, 1.0f, da, H, m->p.w_hh, H, 0.0f, dh_next, H);
    }
}

// The weight gradients and dx from dpre, after either recurrence
// (rnn_fused.h): large products over all T * B rows.
void rnn_backward_weights(Rnn *m)
{
    const int B = m->B, T = m->T, H = m->H, I = m->I;
    const size_t BH = (size_t)B * H, TB = (size_t)T * B;
    // dW_ih (H, I) += da^T @ x;  dW_hh (H, H) += da[1:]^T @ h[:-1] + da[0]^T @ h0
    if (m->onehot) {
        // One-hot rows: dW_ih[:, tok] += da row, a scatter.
        for (size_t r = 0; r < TB; r++) {
            float *g = m->g.w_ih + m->tokens[r];
            const float *d = m->dpre + r * H;
            for (int j = 0; j < H; j++)
                g[(size_t)j * I] += d[j];
        }
    } else {
        gemm_f32(true, false, H, I, (int)TB, 1.0f, m->dpre, H, m->x, I, 1.0f, m->g.w_ih, I);
    }
    if (T > 1)
        gemm_f32(true, false, H, H, (int)(TB - (size_t)B), 1.0f, m->dpre + BH, H, m->h, H, 1.0f,
                 m->g.w_hh, H);
    gemm_f32(true, false, H, H, B, 1.0f, m->dpre, H, m->h0, H, 1.0f, m->g.w_hh, H);
    for (size_t r = 0; r < TB; r++) {
        const float *dr = m->dpre + r * H;
        for (int j = 0; j < H; j++) {
            m->g.b_ih[j] += dr[j];
            m->g.b_hh[j] += dr[j];
        }
    }
    // dx (TB, I) = da (TB, H) @ W_ih (H, I)
    if (!m->skip_dx && !m->onehot)
        gemm_f32(false, false, (int)TB, I, H, 1.0f, m->dpre, H, m->p.w_ih, I, 0.0f, m->dx, I);
}

RecurrentStep rnn_step(const Rnn *m, int t)
{
    size_t BH = (size_t)m->B * m->H;
    RecurrentStep s = {
        .B = m->B,
        .H = m->H,
        .ngates = 0,
        .gates = NULL,
        .c = NULL,
        .h = m->h + t * BH,
        .dh = m->have_grad ? m->dh + t * BH : NULL,
        .dc = NULL,
    };
    return s;
}

void rnn_output(const Rnn *m, float *out)
{
    seq_to_batch_first(out, m->h, m->B, m->T, m->H);
}

void rnn_grad_input(const Rnn *m, float *dx)
{
    seq_to_batch_first(dx, m->dx, m->B, m->T, m->I);
}
