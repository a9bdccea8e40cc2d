// bptt.c: gradient norms through time; see bptt.h.
#include "models/bptt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "models/init.h"
#include "models/lstm.h"

const char *const bptt_init_names[BPTT_INIT_COUNT] = {
    [BPTT_ORTHOGONAL] = "orthogonal", [BPTT_NORMAL] = "normal", [BPTT_UNIFORM] = "uniform",
};

static double work_of(long T, long H, int G)
{
    return 3.0 * (double)T * G * (double)H * ((double)H + BPTT_INPUTS);
}

double bptt_work(const BpttConfig *c)
{
    return work_of(c->T, c->H, c->lstm ? 4 : 1);
}

// Within both limits: memory (recurrent_check_size) and work.
static bool within(long T, long H, int G)
{
    char scratch[200];
    return recurrent_check_size(1, T, BPTT_INPUTS, H, G, scratch, sizeof scratch) &&
           work_of(T, H, G) <= BPTT_MAX_WORK;
}

bool bptt_check(const BpttConfig *c, char *err, size_t errlen)
{
    const int G = c->lstm ? 4 : 1;
    const char *model = c->lstm ? "lstm" : "rnn";
    bool memory = recurrent_check_size(1, c->T, BPTT_INPUTS, c->H, G, err, errlen);
    if (!memory && (c->T < 1 || c->T > MODEL_MAX_STEPS || c->H < 1 || c->H > MODEL_MAX_HIDDEN))
        return false;   // a size outside its range: err says which
    if (within(c->T, c->H, G))
        return true;
    // Say which limit, and how far each size may go with the other kept.
    long lo = 0, hi = c->H;   // the largest hidden size within both at this T
    while (hi - lo > 1) {
        long mid = lo + (hi - lo) / 2;
        *(within(c->T, mid, G) ? &lo : &hi) = mid;
    }
    long tlo = 0, thi = c->T;   // the longest T within both at this hidden size
    while (thi - tlo > 1) {
        long mid = tlo + (thi - tlo) / 2;
        *(within(mid, c->H, G) ? &tlo : &thi) = mid;
    }
    int n;
    if (!memory)
        n = snprintf(err, errlen, "length %d x hidden %d (%s) needs more than %zu MB; ", c->T,
                     c->H, model, MODEL_MAX_FLOATS * sizeof(float) >> 20);
    else
        n = snprintf(err, errlen, "length %d x hidden %d (%s) is %.4g multiply-adds, more than "
                     "the limit of %.0f (2^32, which keeps a run to seconds); ", c->T, c->H, model,
                     bptt_work(c), BPTT_MAX_WORK);
    if (n > 0 && (size_t)n < errlen) {
        if (tlo > 0)
            snprintf(err + n, errlen - (size_t)n, "use --T %ld or less at this --hidden, "
                     "or --hidden %ld or less at this --T", tlo, lo);
        else
            snprintf(err + n, errlen - (size_t)n, "the %s's --hidden is at most %ld", model, lo);
    }
    return false;
}

// Draw the (H, H) block w with c's init and scale.
static bool draw(float *w, const BpttConfig *c, Pcg *rng)
{
    size_t n = (size_t)c->H * c->H;
    float sd = c->scale / sqrtf((float)c->H);
    switch (c->init) {
    case BPTT_ORTHOGONAL:
        return init_orthogonal(w, c->H, c->H, c->scale, rng);
    case BPTT_NORMAL:
        init_normal(w, n, sd, rng);
        return true;
    case BPTT_UNIFORM:
    case BPTT_INIT_COUNT:
        init_uniform(w, n, sd * sqrtf(3.0f), rng);
        return true;
    }
    return true;
}

static void norms_of(const float *dh, int T, int H, double *norms)
{
    for (int t = 0; t < T; t++) {
        double s = 0.0;
        for (int j = 0; j < H; j++)
            s += (double)dh[(size_t)t * H + j] * dh[(size_t)t * H + j];
        norms[t] = sqrt(s);
    }
}

bool bptt_grad_norms(const BpttConfig *c, double *norms)
{
    const int H = c->H, T = c->T, I = BPTT_INPUTS;
    Pcg rng;
    pcg_seed(&rng, c->seed);
    float *x = malloc((size_t)T * I * sizeof(float));
    float *ones = malloc((size_t)H * sizeof(float));
    Lstm *lstm = NULL;
    Rnn *rnn = NULL;
    bool ok = false;
    if (!x || !ones)
        goto done;
    for (int j = 0; j < H; j++)
        ones[j] = 1.0f;
    if (c->lstm) {
        if (!(lstm = lstm_create(I, H)))
            goto done;
        lstm_init_uniform(lstm, &rng);
        for (int g = 0; g < 4; g++)
            if (!draw(lstm->p.w_hh + (size_t)g * H * H, c, &rng))
                goto done;
    } else {
        if (!(rnn = rnn_create(I, H, c->act)))
            goto done;
        rnn_init_uniform(rnn, &rng);
        if (!draw(rnn->p.w_hh, c, &rng))
            goto done;
    }
    for (size_t i = 0; i < (size_t)T * I; i++)
        x[i] = (float)pcg_normal(&rng);
    if (lstm) {
        if (!lstm_forward(lstm, x, NULL, NULL, 1, T))
            goto done;
        lstm->skip_dx = true;
        lstm_backward(lstm, NULL, ones, NULL);
        norms_of(lstm->dh, T, H, norms);
    } else {
        if (!rnn_forward(rnn, x, NULL, 1, T))
            goto done;
        rnn->skip_dx = true;
        rnn_backward(rnn, NULL, ones);
        norms_of(rnn->dh, T, H, norms);
    }
    ok = true;
done:
    free(x);
    free(ones);
    lstm_destroy(lstm);
    rnn_destroy(rnn);
    return ok;
}
