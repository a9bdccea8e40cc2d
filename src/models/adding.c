// adding.c: the adding problem and its trainer; see adding.h.
#include "models/adding.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/init.h"
#include "models/readout.h"

const char *const adding_model_names[ADDING_MODEL_COUNT] = {
    [ADDING_LSTM] = "lstm", [ADDING_RNN] = "rnn", [ADDING_IRNN] = "irnn",
};

AddingConfig adding_defaults(AddingModel model)
{
    // Measured on this project's 2-core machine: the LSTM with 64 units and
    // Adam at 1e-2 leaves the baseline plateau after 1000 to 1500 steps at
    // T = 100 (seeds 1, 2, 3) and ends far below MSE 0.01; 128 units learn
    // no faster per step and cost three times as much per step.
    AddingConfig c = {
        .model = model,
        .T = 100,
        .steps = 2500,
        .batch = 32,
        .hidden = 64,
        .lr = 1e-2f,
        .clip = 1.0f,
        .seed = 1,
        .test_size = 1024,
    };
    // The tanh RNN diverges above the baseline at 1e-2; the IRNN needs an
    // even smaller rate: relu units on an identity recurrence amplify any
    // step that is too large (Le et al. 2015).
    if (model == ADDING_RNN)
        c.lr = 1e-3f;
    if (model == ADDING_IRNN)
        c.lr = 1e-4f;
    return c;
}

// Multiply-adds of one row of one time step forward: G H (H + 2).
static double per_row(const AddingConfig *c)
{
    return (c->model == ADDING_LSTM ? 4.0 : 1.0) * c->hidden * (c->hidden + 2.0);
}

// The work of a run of T steps and `steps` training steps (see adding.h).
static double work_of(const AddingConfig *c, double T, double steps)
{
    double test_passes = ceil((double)c->test_size / c->batch);
    return T * (per_row(c) * (3.0 * c->batch * steps + c->test_size) +
                ADDING_PASS_COST * (3.0 * steps + test_passes));
}

double adding_work(const AddingConfig *c)
{
    return work_of(c, c->T, c->steps);
}

// Within both limits at length T, c's other sizes kept.
static bool within(const AddingConfig *c, long T)
{
    char scratch[200];
    return recurrent_check_size(c->batch, T, 2, c->hidden, c->model == ADDING_LSTM ? 4 : 1, scratch,
                                sizeof scratch) &&
           work_of(c, (double)T, c->steps) <= ADDING_MAX_WORK;
}

bool adding_check(const AddingConfig *c, char *err, size_t errlen)
{
    const char *model = adding_model_names[c->model];
    if (c->steps < 1 || c->steps > ADDING_MAX_STEPS) {
        snprintf(err, errlen, "%d steps is outside 1 to %d", c->steps, ADDING_MAX_STEPS);
        return false;
    }
    if (c->batch > ADDING_MAX_BATCH) {
        snprintf(err, errlen, "batch %d is larger than %d", c->batch, ADDING_MAX_BATCH);
        return false;
    }
    bool memory = recurrent_check_size(c->batch, c->T, 2, c->hidden,
                                       c->model == ADDING_LSTM ? 4 : 1, err, errlen);
    if (!memory && (c->batch < 1 || c->T < 1 || c->T > MODEL_MAX_STEPS || c->hidden < 1 ||
                    c->hidden > MODEL_MAX_HIDDEN))
        return false;   // a size outside its range: err says which
    double work = adding_work(c);
    if (memory && work <= ADDING_MAX_WORK)
        return true;
    long lo = 1, hi = c->T;   // the longest T within both limits (1 stands for none)
    while (hi - lo > 1) {
        long mid = lo + (hi - lo) / 2;
        *(within(c, mid) ? &lo : &hi) = mid;
    }
    int n;
    if (!memory)
        n = snprintf(err, errlen, "batch %d x length %d x hidden %d (%s) needs more than %zu MB; ",
                     c->batch, c->T, c->hidden, model, MODEL_MAX_FLOATS * sizeof(float) >> 20);
    else
        n = snprintf(err, errlen, "%d steps of batch %d x length %d x hidden %d (%s) is %.3g "
                     "multiply-adds, more than the limit of %.0f (2^39, which keeps a run under "
                     "a minute); ", c->steps, c->batch, c->T, c->hidden, model, work,
                     ADDING_MAX_WORK);
    if (n < 0 || (size_t)n >= errlen)
        return false;
    // How far --steps may go at this T (when memory is not the problem):
    // the work is linear in the steps.
    double w0 = work_of(c, c->T, 0.0), w1 = work_of(c, c->T, 1.0) - w0;
    double steps_max = floor((ADDING_MAX_WORK - w0) / w1);
    if (memory && steps_max >= 1 && lo >= 2)
        snprintf(err + n, errlen - (size_t)n, "use --steps %.0f or less, or --T %ld or less",
                 steps_max, lo);
    else if (memory && steps_max >= 1)
        snprintf(err + n, errlen - (size_t)n, "use --steps %.0f or less", steps_max);
    else if (lo >= 2)
        snprintf(err + n, errlen - (size_t)n, "use --T %ld or less at these sizes", lo);
    else
        snprintf(err + n, errlen - (size_t)n, "use a smaller --batch or --hidden");
    return false;
}

void adding_batch(Pcg *rng, int B, int T, float *x, float *target)
{
    int half = T / 2 > 0 ? T / 2 : 1;
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * T * 2;
        for (int t = 0; t < T; t++) {
            xb[2 * t] = pcg_uniform(rng);
            xb[2 * t + 1] = 0.0f;
        }
        // One marker in each half (for T = 1 both land on step 0).
        int m1 = (int)pcg_below(rng, (uint32_t)half);
        int m2 = T > 1 ? half + (int)pcg_below(rng, (uint32_t)(T - half)) : 0;
        xb[2 * m1 + 1] = 1.0f;
        xb[2 * m2 + 1] = 1.0f;
        target[b] = m1 == m2 ? xb[2 * m1] : xb[2 * m1] + xb[2 * m2];
    }
}

AddingTrainer *adding_create(const AddingConfig *cfg)
{
    char err[200];
    if (!recurrent_check_size(cfg->batch, cfg->T, 2, cfg->hidden, cfg->model == ADDING_LSTM ? 4 : 1,
                              err, sizeof err))
        return NULL;
    AddingTrainer *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    tr->cfg = *cfg;
    const int H = cfg->hidden, B = cfg->batch, T = cfg->T;
    Pcg init;
    pcg_seed(&init, cfg->seed * 2 + 1);
    pcg_seed(&tr->rng, cfg->seed * 2 + 2);
    size_t nparams = 0;
    if (cfg->model == ADDING_LSTM) {
        if (!(tr->lstm = readout_lstm_create(H, &init)))
            goto fail;
        nparams = tr->lstm->nparams;
    } else {
        bool irnn = cfg->model == ADDING_IRNN;
        if (!(tr->rnn = rnn_create(2, H, irnn ? RNN_RELU : RNN_TANH)))
            goto fail;
        if (irnn) {
            // Le et al.: W_hh = I, biases 0, W_ih ~ N(0, 0.001^2).
            memset(tr->rnn->params, 0, tr->rnn->nparams * sizeof(float));
            init_normal(tr->rnn->p.w_ih, (size_t)H * 2, 0.001f, &init);
            init_identity(tr->rnn->p.w_hh, H, H, 1.0f);
        } else {
            rnn_init_uniform(tr->rnn, &init);
        }
        tr->rnn->skip_dx = true;
        nparams = tr->rnn->nparams;
    }
    if (!readout_alloc(B, T, H, cfg->lr, nparams, &init, &tr->head, &tr->head_grad, &tr->x,
                       &tr->target, &tr->y, &tr->dh, &tr->opt_model, &tr->opt_head))
        goto fail;
    // Allocate the activations for a full batch now, so that no later
    // forward pass (training or test, at most B rows) can fail.
    if (tr->lstm ? !lstm_forward(tr->lstm, tr->x, NULL, NULL, B, T)
                 : !rnn_forward(tr->rnn, tr->x, NULL, B, T))
        goto fail;
    return tr;
fail:
    adding_destroy(tr);
    return NULL;
}

void adding_destroy(AddingTrainer *tr)
{
    if (!tr)
        return;
    lstm_destroy(tr->lstm);
    rnn_destroy(tr->rnn);
    readout_free(tr->head, tr->head_grad, tr->x, tr->target, tr->y, tr->dh, tr->opt_model,
                 tr->opt_head);
    free(tr);
}

// Forward on tr->x for B rows (at most cfg.batch, so the buffers reserved
// in adding_create suffice); writes predictions into tr->y and returns the
// MSE against tr->target.
static double forward(AddingTrainer *tr, int B)
{
    const int H = tr->cfg.hidden, T = tr->cfg.T;
    if (tr->lstm)
        lstm_forward(tr->lstm, tr->x, NULL, NULL, B, T);
    else
        rnn_forward(tr->rnn, tr->x, NULL, B, T);
    RecurrentStep last = tr->lstm ? lstm_step(tr->lstm, T - 1) : rnn_step(tr->rnn, T - 1);
    return readout_mse(tr->head, last.h, tr->target, tr->y, B, H);
}

double adding_step(AddingTrainer *tr)
{
    const int H = tr->cfg.hidden, B = tr->cfg.batch, T = tr->cfg.T;
    adding_batch(&tr->rng, B, T, tr->x, tr->target);
    double mse = forward(tr, B);
    // Backward: dL/dy = 2 (y - target) / B; dL/dh_T = dL/dy * w.
    RecurrentStep last = tr->lstm ? lstm_step(tr->lstm, T - 1) : rnn_step(tr->rnn, T - 1);
    readout_backward(tr->head, last.h, tr->y, tr->target, B, H, tr->head_grad, tr->dh);
    float *grads;
    size_t n;
    if (tr->lstm) {
        lstm_zero_grad(tr->lstm);
        lstm_backward(tr->lstm, NULL, tr->dh, NULL);
        grads = tr->lstm->grads;
        n = tr->lstm->nparams;
    } else {
        rnn_zero_grad(tr->rnn);
        rnn_backward(tr->rnn, NULL, tr->dh);
        grads = tr->rnn->grads;
        n = tr->rnn->nparams;
    }
    // Clip by the global norm over the model and the read-out together.
    tr->last_norm = readout_clip_step(tr->opt_model, tr->lstm ? tr->lstm->params : tr->rnn->params,
                                      grads, n, tr->opt_head, tr->head, tr->head_grad, H,
                                      tr->cfg.clip);
    tr->step++;
    tr->last_mse = mse;
    return mse;
}

double adding_test_mse(AddingTrainer *tr)
{
    const int B = tr->cfg.batch, T = tr->cfg.T;
    Pcg test;
    pcg_seed(&test, tr->cfg.seed * 2 + 0x5eedULL * 2 + 1);
    double total = 0.0;
    int done = 0;
    while (done < tr->cfg.test_size) {
        int n = tr->cfg.test_size - done < B ? tr->cfg.test_size - done : B;
        adding_batch(&test, n, T, tr->x, tr->target);
        double mse = forward(tr, n);
        total += mse * n;
        done += n;
    }
    return total / done;
}
