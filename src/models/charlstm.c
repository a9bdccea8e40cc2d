// charlstm.c: the char-RNN training loop with an LSTM; see charlstm.h.
#include "models/charlstm.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "models/chartext.h"
#include "models/init.h"

CharLstm *charlstm_create(const unsigned char *text, size_t len, int H, int T, float lr, float clip,
                          uint64_t seed)
{
    if (H < 1 || H > 1024 || T < 1 || T > 1000 || len < (size_t)T + 2)
        return NULL;
    CharLstm *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    int V = 0;
    for (size_t i = 0; i < len; i++)
        V = text[i] + 1 > V ? text[i] + 1 : V;
    m->V = V, m->H = H, m->T = T;
    m->text = text, m->len = len, m->clip = clip;
    size_t nhead = (size_t)V * H + (size_t)V;
    m->lstm = lstm_create(V, H);
    m->head = calloc(nhead, sizeof(float));
    m->head_grad = calloc(nhead, sizeof(float));
    m->x = calloc((size_t)T * V, sizeof(float));
    m->targets = malloc((size_t)T * sizeof(int));
    m->logits = malloc((size_t)T * V * sizeof(float));
    m->dout = malloc((size_t)T * H * sizeof(float));
    m->h = calloc((size_t)H, sizeof(float));
    m->c = calloc((size_t)H, sizeof(float));
    OptimConfig oc = optim_defaults(OPTIM_ADAGRAD);
    oc.lr = lr;
    oc.eps = 1e-8f;
    if (m->lstm) {
        m->lstm->skip_dx = true;
        m->opt_lstm = optim_create(&oc, m->lstm->nparams);
    }
    m->opt_head = optim_create(&oc, nhead);
    if (!m->lstm || !m->head || !m->head_grad || !m->x || !m->targets || !m->logits || !m->dout || !m->h ||
        !m->c || !m->opt_lstm || !m->opt_head) {
        charlstm_destroy(m);
        return NULL;
    }
    Pcg rng;
    pcg_seed(&rng, seed);
    lstm_init_uniform(m->lstm, &rng);
    init_normal(m->head, (size_t)V * H, 0.01f, &rng);
    return m;
}

void charlstm_destroy(CharLstm *m)
{
    if (!m)
        return;
    lstm_destroy(m->lstm);
    optim_destroy(m->opt_lstm);
    optim_destroy(m->opt_head);
    free(m->head);
    free(m->head_grad);
    free(m->x);
    free(m->targets);
    free(m->logits);
    free(m->dout);
    free(m->h);
    free(m->c);
    free(m);
}

// z[0..V) = softmax(z); returns -log p[target] and leaves p - onehot in z.
static double softmax_xent(float *z, int V, int target)
{
    float mx = z[0];
    for (int v = 1; v < V; v++)
        mx = z[v] > mx ? z[v] : mx;
    double sum = 0;
    for (int v = 0; v < V; v++)
        sum += (z[v] = expf(z[v] - mx));
    for (int v = 0; v < V; v++)
        z[v] = (float)(z[v] / sum);
    double loss = -log((double)z[target]);
    z[target] -= 1.0f;
    return loss;
}

double charlstm_step(CharLstm *m)
{
    const int V = m->V, H = m->H, T = m->T;
    if (m->pos + (size_t)T + 1 > m->len - 1 || m->pos == 0) {
        m->pos = 0;
        memset(m->h, 0, (size_t)H * sizeof(float));
        memset(m->c, 0, (size_t)H * sizeof(float));
    }
    memset(m->x, 0, (size_t)T * V * sizeof(float));
    for (int t = 0; t < T; t++) {
        m->x[(size_t)t * V + m->text[m->pos + (size_t)t]] = 1.0f;
        m->targets[t] = m->text[m->pos + (size_t)t + 1];
    }
    if (!lstm_forward(m->lstm, m->x, m->h, m->c, 1, T))
        return NAN;
    const float *h = m->lstm->h; // (T, 1, H)
    chartext_logits(m->head, h, T, V, H, m->logits);
    double loss = 0.0;
    for (int t = 0; t < T; t++)
        loss += softmax_xent(m->logits + (size_t)t * V, V, m->targets[t]);
    chartext_logits_backward(m->head, h, m->logits, T, V, H, m->head_grad, m->dout);
    lstm_zero_grad(m->lstm);
    lstm_backward(m->lstm, m->dout, NULL, NULL);
    RecurrentStep last = lstm_step(m->lstm, T - 1);
    memcpy(m->h, last.h, (size_t)H * sizeof(float));
    memcpy(m->c, last.c, (size_t)H * sizeof(float));
    clip_grad_value(m->lstm->grads, m->lstm->nparams, m->clip);
    clip_grad_value(m->head_grad, (size_t)V * H + (size_t)V, m->clip);
    optim_step(m->opt_lstm, m->lstm->params, m->lstm->grads);
    optim_step(m->opt_head, m->head, m->head_grad);
    m->pos += (size_t)T;
    return loss;
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

bool charlstm_sample(const CharLstm *m, int first, int n, double temperature, Pcg *rng, int *out, int k,
                     int *top, float *prob, float *chosen)
{
    const int V = m->V, H = m->H;
    double *h = calloc((size_t)H, sizeof(double)), *c = calloc((size_t)H, sizeof(double));
    double *a = malloc(4 * (size_t)H * sizeof(double)), *p = malloc((size_t)V * sizeof(double));
    if (!h || !c || !a || !p) {
        free(h), free(c), free(a), free(p);
        return false;
    }
    const LstmParams *w = &m->lstm->p; // w_ih (4H, V), w_hh (4H, H), b_ih, b_hh (4H)
    int x = first;
    for (int t = 0; t < n; t++) {
        for (int j = 0; j < 4 * H; j++) {
            double s = (double)w->w_ih[(size_t)j * V + x] + w->b_ih[j] + w->b_hh[j];
            const float *row = w->w_hh + (size_t)j * H;
            for (int i = 0; i < H; i++)
                s += (double)row[i] * h[i];
            a[j] = s;
        }
        for (int j = 0; j < H; j++) { // gates i, f, g, o
            double ig = sigmoid(a[j]), fg = sigmoid(a[H + j]), gg = tanh(a[2 * H + j]), og = sigmoid(a[3 * H + j]);
            c[j] = fg * c[j] + ig * gg;
            h[j] = og * tanh(c[j]);
        }
        x = chartext_draw(m->head, h, V, H, temperature, rng, p, t, out, k, top, prob, chosen);
    }
    free(h), free(c), free(a), free(p);
    return true;
}
