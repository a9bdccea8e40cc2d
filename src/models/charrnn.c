// charrnn.c: the min-char-rnn training loop; see charrnn.h.
//
// Three implementations of one iteration share the contract of charrnn_step.h:
//
// - the generic one here: rnn_forward_tokens / rnn_backward, gemm for the
//   read-out, clip_grad_value and optim_step (any machine, any size);
// - the fused AVX-512 loop in charrnn_avx512.c, for the shape min-char-rnn
//   trains (H <= 128), taken when the CPU has AVX-512;
// - its AVX2 + FMA twin in charrnn_avx2.c, taken when the CPU has those but
//   no AVX-512.
//
// tests/models/test_charrnn_fused.c compares each fused loop with the
// generic one step by step.
#include "models/charrnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/charrnn_step.h"
#include "models/chartext.h"
#include "engine/fastmath.h"
#include "models/init.h"

// z[0..V) = softmax(z); returns -log of the probability of target and
// leaves dL/dz = p - onehot(target) in z.
FASTMATH_CLONES
static double softmax_xent(float *restrict z, int V, int target)
{
    float mx = z[0];
    for (int v = 1; v < V; v++)
        mx = z[v] > mx ? z[v] : mx;
    float sum = 0.0f;
    for (int v = 0; v < V; v++) {
        z[v] = fast_expf(z[v] - mx);
        sum += z[v];
    }
    float inv = 1.0f / sum;
    for (int v = 0; v < V; v++)
        z[v] *= inv;
    double loss = -log((double)z[target]);
    z[target] -= 1.0f;
    return loss;
}

CharRnn *charrnn_create(const unsigned char *text, size_t len, int H, int T, float lr, float clip,
                        uint64_t seed)
{
    if (H < 1 || H > MODEL_MAX_HIDDEN || T < 1 || T > MODEL_MAX_STEPS || len < (size_t)T + 2)
        return NULL;
    CharRnn *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    bool seen[256] = {false};
    for (size_t i = 0; i < len; i++)
        seen[text[i]] = true;
    for (int c = 0; c < 256; c++) {
        m->index[c] = seen[c] ? m->V : -1;
        if (seen[c])
            m->chars[m->V++] = (unsigned char)c;
    }
    m->H = H;
    m->T = T;
    m->text = text;
    m->len = len;
    m->clip = clip;
    const int V = m->V;
    size_t nhead = (size_t)V * H + (size_t)V;
    m->rnn = rnn_create(V, H, RNN_TANH);
    m->head = calloc(nhead, sizeof(float));
    m->head_grad = calloc(nhead, sizeof(float));
    m->inputs = malloc((size_t)T * sizeof(int));
    m->logits = malloc((size_t)T * V * sizeof(float));
    m->dout = malloc((size_t)T * H * sizeof(float));
    m->hprev = calloc((size_t)H, sizeof(float));
    m->targets = malloc((size_t)T * sizeof(int));
    OptimConfig oc = optim_defaults(OPTIM_ADAGRAD);
    oc.lr = lr;
    oc.eps = 1e-8f;
    if (m->rnn) {
        m->rnn->skip_dx = true;
        m->opt_rnn = optim_create(&oc, m->rnn->nparams);
    }
    m->opt_head = optim_create(&oc, nhead);
    m->fused_avx512 = charrnn_avx512_available(H);
    m->fused = m->fused_avx512 || charrnn_avx2_available(H);
    if (m->fused) {
        // Every buffer a multiple of 16 floats, the block 64-byte aligned.
        size_t HP = ((size_t)H + 15) / 16 * 16, VP = ((size_t)V + 15) / 16 * 16;
        size_t n = 2 * (size_t)H * HP + (size_t)H * VP + (size_t)V * HP + HP * (3 * (size_t)T + 2);
        m->work = aligned_alloc(64, n * sizeof(float));
        if (m->work) {
            memset(m->work, 0, n * sizeof(float));
            m->whh_t = m->work;
            m->whh_p = m->whh_t + (size_t)H * HP;
            m->why_t = m->whh_p + (size_t)H * HP;
            m->why_p = m->why_t + (size_t)H * VP;
            m->bias = m->why_p + (size_t)V * HP;
            m->hs = m->bias + HP;
            m->dhraw = m->hs + HP * ((size_t)T + 1);
            m->dh_out = m->dhraw + HP * (size_t)T;
        }
    }
    if (!m->rnn || !m->head || !m->head_grad || !m->inputs || !m->logits || !m->dout || !m->hprev ||
        !m->targets || !m->opt_rnn || !m->opt_head || (m->fused && !m->work)) {
        charrnn_destroy(m);
        return NULL;
    }
    Pcg rng;
    pcg_seed(&rng, seed);
    // min-char-rnn: weights N(0, 0.01^2), biases zero.
    init_normal(m->rnn->p.w_ih, (size_t)H * V, 0.01f, &rng);
    init_normal(m->rnn->p.w_hh, (size_t)H * H, 0.01f, &rng);
    init_normal(m->head, (size_t)V * H, 0.01f, &rng);
    return m;
}

void charrnn_destroy(CharRnn *m)
{
    if (!m)
        return;
    rnn_destroy(m->rnn);
    free(m->head);
    free(m->head_grad);
    free(m->inputs);
    free(m->logits);
    free(m->dout);
    free(m->hprev);
    free(m->targets);
    free(m->work);
    optim_destroy(m->opt_rnn);
    optim_destroy(m->opt_head);
    free(m);
}

// One iteration on m->inputs / m->targets through rnn.c, gemm (chartext.c) and optim.c
// (charrnn_step.h).
double charrnn_step_generic(CharRnn *m)
{
    const int V = m->V, H = m->H, T = m->T;
    rnn_forward_tokens(m->rnn, m->inputs, m->hprev, 1, T);   // B = 1
    const float *h = m->rnn->h;                    // (T, H)
    chartext_logits(m->head, h, T, V, H, m->logits);
    // Softmax and cross-entropy; logits become dL/dlogits = p - onehot.
    double loss = 0.0;
    for (int t = 0; t < T; t++)
        loss += softmax_xent(m->logits + (size_t)t * V, V, m->targets[t]);
    chartext_logits_backward(m->head, h, m->logits, T, V, H, m->head_grad, m->dout);
    rnn_zero_grad(m->rnn);
    rnn_backward(m->rnn, m->dout, NULL);
    // min-char-rnn has one hidden bias: b_ih plays it, b_hh stays as it is.
    memset(m->rnn->g.b_hh, 0, (size_t)H * sizeof(float));
    memcpy(m->hprev, h + (size_t)(T - 1) * H, (size_t)H * sizeof(float));
    clip_grad_value(m->rnn->grads, m->rnn->nparams, m->clip);
    clip_grad_value(m->head_grad, (size_t)V * H + (size_t)V, m->clip);
    optim_step(m->opt_rnn, m->rnn->params, m->rnn->grads);
    optim_step(m->opt_head, m->head, m->head_grad);
    return loss;
}

double charrnn_step(CharRnn *m)
{
    const int H = m->H, T = m->T;
    if (m->pos + (size_t)T + 1 > m->len - 1 || m->pos == 0) {
        m->pos = 0;
        memset(m->hprev, 0, (size_t)H * sizeof(float));
    }
    // The characters as one-hot inputs, the next characters as targets.
    for (int t = 0; t < T; t++) {
        m->inputs[t] = m->index[m->text[m->pos + (size_t)t]];
        m->targets[t] = m->index[m->text[m->pos + (size_t)t + 1]];
    }
    double loss = !(m->fused && m->work) ? charrnn_step_generic(m)
                  : m->fused_avx512         ? charrnn_step_avx512(m)
                                            : charrnn_step_avx2(m);
    m->pos += (size_t)T;
    return loss;
}
