// memtask.c: the memory task, its trainer, and the clampable probe; see memtask.h.
#include "models/memtask.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/init.h"
#include "models/readout.h"

MemConfig mem_defaults(void)
{
    // Measured on this project's 2-core machine: 8 units at T = 40 reach a
    // test MSE of 3e-3 to 5e-3 by 500 steps and 3e-4 by 3000 (seeds 1 to 3),
    // about 0.01 s of training per 100 steps; at T = 100 they leave the
    // baseline between 500 and 1000 steps.
    return (MemConfig){.T = 40, .hidden = 8, .batch = 32, .lr = 1e-2f, .clip = 1.0f, .seed = 1, .test_size = 256};
}

void mem_batch(Pcg *rng, int B, int T, float *x, float *target, int *mark)
{
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * T * 2;
        for (int t = 0; t < T; t++) {
            xb[2 * t] = 2.0f * pcg_uniform(rng) - 1.0f;
            xb[2 * t + 1] = 0.0f;
        }
        int m = (int)pcg_below(rng, (uint32_t)T);
        xb[2 * m + 1] = 1.0f;
        target[b] = xb[2 * m];
        if (mark)
            mark[b] = m;
    }
}

MemTrainer *mem_create(const MemConfig *c)
{
    if (c->T < 1 || c->T > MEM_MAX_T || c->hidden < 1 || c->hidden > MEM_MAX_HIDDEN || c->batch < 1 ||
        c->batch > MEM_MAX_BATCH || c->test_size < 1)
        return NULL;
    MemTrainer *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    tr->cfg = *c;
    const int H = c->hidden, B = c->batch, T = c->T;
    Pcg init;
    pcg_seed(&init, c->seed * 2 + 1);
    pcg_seed(&tr->rng, c->seed * 2 + 2);
    if (!(tr->lstm = readout_lstm_create(H, &init)))   // with a forget-gate bias of 1
        goto fail;
    if (!readout_alloc(B, T, H, c->lr, tr->lstm->nparams, &init, &tr->head, &tr->head_grad, &tr->x,
                       &tr->target, &tr->y, &tr->dh, &tr->opt_model, &tr->opt_head))
        goto fail;
    // Allocate the activations for a full batch now, so no later forward fails.
    if (!lstm_forward(tr->lstm, tr->x, NULL, NULL, B, T))
        goto fail;
    return tr;
fail:
    mem_destroy(tr);
    return NULL;
}

void mem_destroy(MemTrainer *tr)
{
    if (!tr)
        return;
    lstm_destroy(tr->lstm);
    readout_free(tr->head, tr->head_grad, tr->x, tr->target, tr->y, tr->dh, tr->opt_model,
                 tr->opt_head);
    free(tr);
}

// Forward on tr->x for B rows (at most cfg.batch); predictions into tr->y;
// returns the MSE against tr->target.
static double forward(MemTrainer *tr, int B)
{
    const int H = tr->cfg.hidden, T = tr->cfg.T;
    lstm_forward(tr->lstm, tr->x, NULL, NULL, B, T);
    RecurrentStep last = lstm_step(tr->lstm, T - 1);
    return readout_mse(tr->head, last.h, tr->target, tr->y, B, H);
}

double mem_step(MemTrainer *tr)
{
    const int H = tr->cfg.hidden, B = tr->cfg.batch, T = tr->cfg.T;
    mem_batch(&tr->rng, B, T, tr->x, tr->target, NULL);
    double mse = forward(tr, B);
    RecurrentStep last = lstm_step(tr->lstm, T - 1);
    readout_backward(tr->head, last.h, tr->y, tr->target, B, H, tr->head_grad, tr->dh);
    Lstm *m = tr->lstm;
    lstm_zero_grad(m);
    lstm_backward(m, NULL, tr->dh, NULL);
    readout_clip_step(tr->opt_model, m->params, m->grads, m->nparams, tr->opt_head, tr->head,
                      tr->head_grad, H, tr->cfg.clip);
    tr->step++;
    tr->last_mse = mse;
    return mse;
}

double mem_test_mse(MemTrainer *tr)
{
    const int B = tr->cfg.batch, T = tr->cfg.T;
    Pcg test;
    pcg_seed(&test, tr->cfg.seed * 2 + 0x3e3ULL * 2 + 1);
    double total = 0.0;
    int done = 0;
    while (done < tr->cfg.test_size) {
        int n = tr->cfg.test_size - done < B ? tr->cfg.test_size - done : B;
        mem_batch(&test, n, T, tr->x, tr->target, NULL);
        total += forward(tr, n) * n;
        done += n;
    }
    return total / done;
}

size_t mem_state_floats(const MemTrainer *tr)
{
    return 3 * (tr->lstm->nparams + (size_t)tr->cfg.hidden + 1);
}

void mem_state_save(const MemTrainer *tr, MemState *s)
{
    size_t np = tr->lstm->nparams, nh = (size_t)tr->cfg.hidden + 1;
    float *b = s->blob;
    memcpy(b, tr->lstm->params, np * sizeof(float)), b += np;
    memcpy(b, tr->opt_model->m, np * sizeof(float)), b += np;
    memcpy(b, tr->opt_model->v, np * sizeof(float)), b += np;
    memcpy(b, tr->head, nh * sizeof(float)), b += nh;
    memcpy(b, tr->opt_head->m, nh * sizeof(float)), b += nh;
    memcpy(b, tr->opt_head->v, nh * sizeof(float));
    s->step = tr->step;
    s->last_mse = tr->last_mse;
    s->rng = tr->rng;
    s->t_model = tr->opt_model->t;
    s->t_head = tr->opt_head->t;
}

void mem_state_load(MemTrainer *tr, const MemState *s)
{
    size_t np = tr->lstm->nparams, nh = (size_t)tr->cfg.hidden + 1;
    const float *b = s->blob;
    memcpy(tr->lstm->params, b, np * sizeof(float)), b += np;
    memcpy(tr->opt_model->m, b, np * sizeof(float)), b += np;
    memcpy(tr->opt_model->v, b, np * sizeof(float)), b += np;
    memcpy(tr->head, b, nh * sizeof(float)), b += nh;
    memcpy(tr->opt_head->m, b, nh * sizeof(float)), b += nh;
    memcpy(tr->opt_head->v, b, nh * sizeof(float));
    tr->step = s->step;
    tr->last_mse = s->last_mse;
    tr->rng = s->rng;
    tr->opt_model->t = s->t_model;
    tr->opt_head->t = s->t_head;
}

// ---------------------------------------------------------------------------
// The probe

bool mem_clamp_at(const MemClamp *k, int t)
{
    return k && k->on && (k->at == 0 || k->at == t + 1);
}

MemProbe *mem_probe_create(int T, int I, int H)
{
    if (T < 1 || T > MEM_MAX_T || I < 1 || I > 16 || H < 1 || H > MEM_MAX_HIDDEN)
        return NULL;
    MemProbe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->T = T, p->I = I, p->H = H;
    size_t th = (size_t)T * H, np = (size_t)4 * H * (I + H + 2);
    p->x = calloc((size_t)T * I, sizeof(double));
    p->gates = calloc(4 * th, sizeof(double));
    p->c = calloc(th, sizeof(double));
    p->h = calloc(th, sizeof(double));
    p->dc = calloc(th, sizeof(double));
    p->dh = calloc(th, sizeof(double));
    p->dparams = calloc(np, sizeof(double));
    p->dhead = calloc((size_t)H + 1, sizeof(double));
    if (!p->x || !p->gates || !p->c || !p->h || !p->dc || !p->dh || !p->dparams || !p->dhead) {
        mem_probe_destroy(p);
        return NULL;
    }
    return p;
}

void mem_probe_destroy(MemProbe *p)
{
    if (!p)
        return;
    free(p->x);
    free(p->gates);
    free(p->c);
    free(p->h);
    free(p->dc);
    free(p->dh);
    free(p->dparams);
    free(p->dhead);
    free(p);
}

static double sigmoid(double a)
{
    return 1.0 / (1.0 + exp(-a));
}

void mem_probe_run(const Lstm *m, const float *head, const float *x, float target, const MemClamp *clamps,
                   MemProbe *p)
{
    const int T = p->T, H = p->H, I = p->I, G = 4 * H;
    const float *wih = m->p.w_ih, *whh = m->p.w_hh, *bih = m->p.b_ih, *bhh = m->p.b_hh;
    for (int k = 0; k < T * I; k++)
        p->x[k] = x[k];
    // Forward: a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh; gates; c; h.
    for (int t = 0; t < T; t++) {
        const double *xt = p->x + (size_t)t * I;
        const double *hp = t ? p->h + (size_t)(t - 1) * H : NULL, *cp = t ? p->c + (size_t)(t - 1) * H : NULL;
        double *gt = p->gates + (size_t)t * G;
        for (int r = 0; r < G; r++) {
            double a = (double)bih[r] + bhh[r];
            for (int k = 0; k < I; k++)
                a += (double)wih[(size_t)r * I + k] * xt[k];
            for (int k = 0; hp && k < H; k++)
                a += (double)whh[(size_t)r * H + k] * hp[k];
            int gate = r / H;
            gt[r] = gate == 2 ? tanh(a) : sigmoid(a);
            if (gate != 2 && clamps && mem_clamp_at(&clamps[gate], t))
                gt[r] = clamps[gate].value;
        }
        for (int j = 0; j < H; j++) {
            double c = gt[H + j] * (cp ? cp[j] : 0.0) + gt[j] * gt[2 * H + j];
            p->c[(size_t)t * H + j] = c;
            p->h[(size_t)t * H + j] = gt[3 * H + j] * tanh(c);
        }
    }
    const double *hT = p->h + (size_t)(T - 1) * H;
    double y = head[H];
    for (int j = 0; j < H; j++)
        y += (double)head[j] * hT[j];
    p->y = y;
    p->target = target;
    p->loss = (y - target) * (y - target);
    // Backward.
    double dy = 2.0 * (y - target);
    size_t np = (size_t)G * (I + H + 2);
    memset(p->dparams, 0, np * sizeof(double));
    double *dwih = p->dparams, *dwhh = dwih + (size_t)G * I, *dbih = dwhh + (size_t)G * H, *dbhh = dbih + G;
    for (int j = 0; j < H; j++)
        p->dhead[j] = dy * hT[j];
    p->dhead[H] = dy;
    double dh_next[MEM_MAX_HIDDEN], dc_next[MEM_MAX_HIDDEN], da[4 * MEM_MAX_HIDDEN];
    for (int j = 0; j < H; j++)
        dh_next[j] = dy * head[j], dc_next[j] = 0;
    for (int t = T - 1; t >= 0; t--) {
        const double *gt = p->gates + (size_t)t * G, *ct = p->c + (size_t)t * H;
        const double *cp = t ? p->c + (size_t)(t - 1) * H : NULL, *hp = t ? p->h + (size_t)(t - 1) * H : NULL;
        bool ci = clamps && mem_clamp_at(&clamps[MEM_GATE_I], t);
        bool cf = clamps && mem_clamp_at(&clamps[MEM_GATE_F], t);
        bool co = clamps && mem_clamp_at(&clamps[MEM_GATE_O], t);
        for (int j = 0; j < H; j++) {
            double i = gt[j], f = gt[H + j], g = gt[2 * H + j], o = gt[3 * H + j];
            double tc = tanh(ct[j]), dh = dh_next[j];
            double dc = dc_next[j] + dh * o * (1 - tc * tc);
            p->dh[(size_t)t * H + j] = dh;
            p->dc[(size_t)t * H + j] = dc;
            double c_prev = cp ? cp[j] : 0.0;
            da[j] = ci ? 0 : dc * g * i * (1 - i);
            da[H + j] = cf ? 0 : dc * c_prev * f * (1 - f);
            da[2 * H + j] = dc * i * (1 - g * g);
            da[3 * H + j] = co ? 0 : dh * tc * o * (1 - o);
            dc_next[j] = dc * f;
        }
        const double *xt = p->x + (size_t)t * I;
        for (int r = 0; r < G; r++) {
            for (int k = 0; k < I; k++)
                dwih[(size_t)r * I + k] += da[r] * xt[k];
            for (int k = 0; hp && k < H; k++)
                dwhh[(size_t)r * H + k] += da[r] * hp[k];
            dbih[r] += da[r];
            dbhh[r] += da[r];
        }
        for (int k = 0; k < H; k++) {
            double s = 0;
            for (int r = 0; r < G; r++)
                s += (double)whh[(size_t)r * H + k] * da[r];
            dh_next[k] = s;
        }
    }
}
