// source_mlp2d.c: the `mlp2d` source kind, the training playground. A small
// MLP (src/models/playground.c, on the tensor engine) learns a seeded 2-D
// data set of two classes, full batch, with one of the engine's optimizers;
// what it publishes is what the boundary panel draws: the loss, the
// accuracy, the decision boundary over a grid, the points, and every hidden
// neuron's own output over a smaller grid.
//
//     source: net mlp2d dataset {data} layers {layers} units {units} lr {lr} limit 2000
//
// With `bind on` it also publishes the trained weights and one training
// point under the names of a lesson program's inputs (W1[i][j], b1[j], ...,
// wo[j], bo, x[0], x[1], y): the run gives a source's scalars to the program
// inputs of the same name (run.c, evaluate), so a program that writes the
// same small network out gate by gate shows that point's forward and
// backward pass in a circuit or graph panel, with the weights the optimizer
// has reached. Beside it: the point's gradient by the tensor engine, the
// batch's mean gradient the optimizer uses, and the update it then makes.
//
// Options (numbers, words, or {param}):
//   dataset     moons, circles, xor, spiral (default moons)
//   noise       std of the normal jitter on each coordinate, 0 to 1 (0.1)
//   points      2 to 2000 (200)
//   layers      hidden layers, 0 to 6 (0: a linear model; default 1)
//   units       units per hidden layer, 1 to 32 (8)
//   activation  tanh, relu, sigmoid, linear (tanh)
//   optimizer   sgd, momentum, nesterov, adagrad, rmsprop, adam (adam)
//   lr          learning rate, 1e-6 to 100 (0.03)
//   seed        the data's and the weights' (1)
//   limit       most steps, 0 to 20000 (500)
//   grid        the decision boundary's cells per side, 10 to 200 (100)
//   ngrid       each neuron's cells per side, 4 to 32 (32): up to 6 x 32
//               neurons' maps are published (at 64, eight sources held 275 MB)
//   bind        on/off, 1/0 or a toggle: publish weights and a point by
//               program-input names (at most 100 parameters)
//   point       the index of the bound point, 0 to points - 1 (0)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/source_kinds.h"
#include "models/playground.h"

#define MLP_MAX_LIMIT 20000
#define MLP_MAX_BOUND 100

static const char *const mlp_options[] = {"dataset",    "noise",     "points", "layers", "units",
                                          "activation", "optimizer", "lr",     "seed",   "limit",
                                          "grid",       "ngrid",     "bind",   "point",  NULL};

typedef struct MlpSource {
    Playground *pg;
    int limit, grid, ngrid, point;
    bool bind, diverged;
    double *loss, *acc;            // (limit + 1) history
    float *boundary;               // (grid, grid) p(class 1), row 0 at the top
    float *neurons;                // (K, ngrid * ngrid) each hidden unit's output, K = layers * units
    float *pgrad, *bgrad, *update; // (P) with bind: the point's gradient, the batch's, the next update
    float point_loss, point_p;
} MlpSource;

// Find word in names (n of them); -1 when absent, with the choices in err.
static int pick_word(const char *key, const char *word, const char *const *names, int n, char *err, size_t en)
{
    for (int i = 0; i < n; i++)
        if (strcmp(word, names[i]) == 0)
            return i;
    int len = snprintf(err, en, "'%s %s': give one of", key, word);
    for (int i = 0; i < n && len > 0 && (size_t)len < en; i++)
        len += snprintf(err + len, en - (size_t)len, " %s", names[i]);
    return -1;
}

// The grid's cell centres, row 0 at the top (y = +PG_RANGE), into xy (g * g, 2).
static void grid_points(int g, float *xy)
{
    for (int r = 0; r < g; r++)
        for (int c = 0; c < g; c++) {
            xy[2 * (r * g + c)] = (float)(-PG_RANGE + 2 * PG_RANGE * (c + 0.5) / g);
            xy[2 * (r * g + c) + 1] = (float)(PG_RANGE - 2 * PG_RANGE * (r + 0.5) / g);
        }
}

// Recompute what publish copies: the grids, the accuracy and, with bind, the
// point's and the batch's gradients and the next update. False when out of memory.
static bool refresh(MlpSource *s)
{
    Playground *pg = s->pg;
    int G = s->grid, g = s->ngrid, K = pg->cfg.layers * pg->cfg.units;
    int most = G > g ? G : g; // xy holds the larger of the two grids' points
    float *xy = malloc((size_t)most * most * 2 * sizeof(float));
    float *p = malloc((size_t)g * g * sizeof(float));
    float *hid = malloc((size_t)g * g * (K ? K : 1) * sizeof(float));
    bool ok = xy && p && hid;
    if (ok) {
        grid_points(G, xy);
        ok = playground_forward(pg, xy, G * G, s->boundary, NULL);
    }
    if (ok && K) {
        grid_points(g, xy);
        ok = playground_forward(pg, xy, g * g, p, hid);
        for (int i = 0; ok && i < g * g; i++) // (cells, K) -> (K, cells)
            for (int k = 0; k < K; k++)
                s->neurons[(size_t)k * g * g + i] = hid[(size_t)i * K + k];
    }
    free(xy), free(p), free(hid);
    s->acc[pg->steps] = playground_accuracy(pg);
    if (ok && s->bind) {
        size_t P = playground_param_count(pg);
        s->point_loss = playground_point_grad(pg, s->point, s->pgrad);
        float pp;
        ok = playground_forward(pg, pg->xy + 2 * s->point, 1, &pp, NULL);
        s->point_p = pp;
        playground_loss_grad(pg);
        memcpy(s->bgrad, pg->params->grad, P * sizeof(float));
        // The update the optimizer's next step makes: a copy of it steps a copy of the weights.
        Optim *o = optim_create(&pg->opt->cfg, P);
        float *w = malloc(P * sizeof(float));
        if (o && w) {
            o->t = pg->opt->t;
            if (o->m)
                memcpy(o->m, pg->opt->m, P * sizeof(float));
            if (o->v)
                memcpy(o->v, pg->opt->v, P * sizeof(float));
            memcpy(w, pg->params->data, P * sizeof(float));
            optim_step(o, w, s->bgrad);
            for (size_t i = 0; i < P; i++)
                s->update[i] = w[i] - pg->params->data[i];
        } else {
            ok = false;
        }
        optim_destroy(o);
        free(w);
    }
    return ok;
}

static void mlp_destroy(void *inst)
{
    MlpSource *s = inst;
    if (!s)
        return;
    playground_destroy(s->pg);
    free(s->loss), free(s->acc), free(s->boundary), free(s->neurons);
    free(s->pgrad), free(s->bgrad), free(s->update);
    free(s);
}

static void *mlp_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    static const char *const optimizers[] = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"};
    static const OptimKind kinds[] = {OPTIM_SGD,     OPTIM_MOMENTUM, OPTIM_MOMENTUM,
                                      OPTIM_ADAGRAD, OPTIM_RMSPROP,  OPTIM_ADAM};
    double noise, points, layers, units, lr, seed, limit, grid, ngrid, point;
    const char *data = NULL, *act = NULL, *opt = NULL, *bind = NULL;
    if (!source_option_number(p, decl, "noise", 0.1, 0, 1, &noise, err, n) ||
        !source_option_number(p, decl, "points", 200, 2, PG_MAX_POINTS, &points, err, n) ||
        !source_option_number(p, decl, "layers", 1, 0, PG_MAX_LAYERS, &layers, err, n) ||
        !source_option_number(p, decl, "units", 8, 1, PG_MAX_UNITS, &units, err, n) ||
        !source_option_number(p, decl, "lr", 0.03, 1e-6, 100, &lr, err, n) ||
        !source_option_number(p, decl, "seed", 1, 0, 4294967295.0, &seed, err, n) ||
        !source_option_number(p, decl, "limit", 500, 0, MLP_MAX_LIMIT, &limit, err, n) ||
        !source_option_number(p, decl, "grid", 100, 10, 200, &grid, err, n) ||
        !source_option_number(p, decl, "ngrid", 32, 4, 32, &ngrid, err, n) ||
        !source_option_number(p, decl, "point", 0, 0, PG_MAX_POINTS - 1, &point, err, n) ||
        !(data = source_option_word(p, decl, "dataset", "moons", err, n)) ||
        !(act = source_option_word(p, decl, "activation", "tanh", err, n)) ||
        !(opt = source_option_word(p, decl, "optimizer", "adam", err, n)) ||
        !(bind = source_option_word(p, decl, "bind", "off", err, n)))
        return NULL;
    int d = pick_word("dataset", data, pg_dataset_names, PG_DATASET_COUNT, err, n);
    int a = d < 0 ? -1 : pick_word("activation", act, pg_activation_names, PG_ACT_COUNT, err, n);
    int o = a < 0 ? -1 : pick_word("optimizer", opt, optimizers, 6, err, n);
    if (o < 0)
        return NULL;
    bool bound = strcmp(bind, "on") == 0 || strcmp(bind, "1") == 0;
    if (!bound && strcmp(bind, "off") && strcmp(bind, "0")) {
        snprintf(err, n, "'bind %s': give on or off", bind);
        return NULL;
    }
    if (points != floor(points) || layers != floor(layers) || units != floor(units) || seed != floor(seed) ||
        limit != floor(limit) || grid != floor(grid) || ngrid != floor(ngrid)) {
        snprintf(err, n,
                 "'points', 'layers', 'units', 'seed', 'limit', 'grid' and 'ngrid' are whole numbers");
        return NULL;
    }
    int np = (int)points, L = (int)layers, U = (int)units;
    int nparams = L ? 2 * U + U + (L - 1) * (U * U + U) + U + 1 : 3;
    if (bound && nparams > MLP_MAX_BOUND) {
        snprintf(err, n, "'bind on' publishes every weight: at most %d parameters, this network has %d",
                 MLP_MAX_BOUND, nparams);
        return NULL;
    }
    MlpSource *s = calloc(1, sizeof(*s));
    float *xy = malloc((size_t)np * 2 * sizeof(float));
    int *label = malloc((size_t)np * sizeof(int));
    if (!s || !xy || !label)
        goto oom;
    s->limit = (int)limit, s->grid = (int)grid, s->ngrid = (int)ngrid, s->bind = bound;
    s->point = (int)fmin(floor(point), np - 1);
    pg_dataset((PgDataset)d, np, noise, (uint64_t)seed, xy, label);
    PgConfig cfg = {.layers = L,
                    .units = U,
                    .act = (PgActivation)a,
                    .seed = (uint64_t)seed + 1000,
                    .opt = optim_defaults(kinds[o])};
    cfg.opt.lr = (float)lr;
    cfg.opt.nesterov = strcmp(opt, "nesterov") == 0;
    s->pg = playground_create(&cfg, xy, label, np);
    free(xy), xy = NULL;
    free(label), label = NULL;
    int K = L * U, g = s->ngrid;
    s->loss = malloc((size_t)(s->limit + 1) * sizeof(double));
    s->acc = malloc((size_t)(s->limit + 1) * sizeof(double));
    s->boundary = malloc((size_t)s->grid * s->grid * sizeof(float));
    s->neurons = malloc((size_t)(K ? K : 1) * g * g * sizeof(float));
    s->pgrad = malloc((size_t)nparams * sizeof(float));
    s->bgrad = malloc((size_t)nparams * sizeof(float));
    s->update = malloc((size_t)nparams * sizeof(float));
    if (!s->pg || !s->loss || !s->acc || !s->boundary || !s->neurons || !s->pgrad || !s->bgrad || !s->update)
        goto oom;
    s->loss[0] = playground_loss_grad(s->pg);
    if (!refresh(s))
        goto oom;
    return s;
oom:
    free(xy), free(label);
    mlp_destroy(s);
    snprintf(err, n, "out of memory");
    return NULL;
}

static const char *mlp_finished(const void *inst)
{
    const MlpSource *s = inst;
    if (s->diverged)
        return "diverged: the loss became NaN or Inf (the rate is too high)";
    if (s->pg->steps >= s->limit)
        return "reached its step limit";
    return NULL;
}

static int mlp_advance(void *inst, int max)
{
    MlpSource *s = inst;
    int taken = 0;
    while (taken < max && !mlp_finished(s)) {
        // The loss at the weights before the update (the one before the step, already stored).
        float before = playground_step(s->pg);
        if (!isfinite(before)) { // no step was taken
            s->diverged = true;
            break;
        }
        s->loss[s->pg->steps - 1] = before;
        s->acc[s->pg->steps] = NAN;
        taken++;
    }
    if (taken) {
        float loss = playground_loss_grad(s->pg);
        s->loss[s->pg->steps] = loss;
        s->diverged |= !isfinite(loss);
        refresh(s);
    }
    return taken;
}

static int mlp_steps(const void *inst)
{
    return (int)((const MlpSource *)inst)->pg->steps;
}

static void floats(RunArrays *out, const char *prefix, const char *name, int ndim, int n0, int n1,
                   const float *f)
{
    int shape[2] = {n0, n1};
    double *x = run_arrays_add(out, prefix, name, ndim, shape);
    for (size_t i = 0; x && i < (size_t)n0 * (ndim == 2 ? (size_t)n1 : 1); i++)
        x[i] = f[i];
}

static void mlp_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const MlpSource *s = inst;
    const Playground *pg = s->pg;
    int steps = (int)pg->steps, n1 = steps + 1, L = pg->cfg.layers, U = pg->cfg.units, K = L * U,
        g = s->ngrid;
    double *x;
    if ((x = run_arrays_add(out, prefix, "loss", 1, &n1)))
        memcpy(x, s->loss, (size_t)n1 * sizeof(double));
    // The accuracy is measured when the grids are (after each advance): fill the steps between.
    if ((x = run_arrays_add(out, prefix, "accuracy", 1, &n1)))
        for (int i = 0; i <= steps; i++)
            x[i] = isnan(s->acc[i]) && i > 0 ? x[i - 1] : s->acc[i];
    floats(out, prefix, "boundary", 2, s->grid, s->grid, s->boundary);
    if (K)
        floats(out, prefix, "neurons", 2, K, g * g, s->neurons);
    int shape[2] = {pg->n, 3};
    if ((x = run_arrays_add(out, prefix, "points", 2, shape)))
        for (int i = 0; i < pg->n; i++)
            x[3 * i] = pg->xy[2 * i], x[3 * i + 1] = pg->xy[2 * i + 1], x[3 * i + 2] = pg->label[i];
    double range[4] = {-PG_RANGE, PG_RANGE, -PG_RANGE, PG_RANGE};
    int four = 4;
    if ((x = run_arrays_add(out, prefix, "range", 1, &four)))
        memcpy(x, range, sizeof(range));
    run_arrays_number(out, prefix, "steps", steps);
    run_arrays_number(out, prefix, "layers", L);
    run_arrays_number(out, prefix, "units", U);
    run_arrays_number(out, prefix, "ngrid", g);
    if (!s->bind)
        return;
    // The point and the weights by the names of a program's inputs.
    run_arrays_number(out, prefix, "point", s->point);
    run_arrays_number(out, prefix, "x[0]", pg->xy[2 * s->point]);
    run_arrays_number(out, prefix, "x[1]", pg->xy[2 * s->point + 1]);
    run_arrays_number(out, prefix, "y", pg->label[s->point]);
    run_arrays_number(out, prefix, "point_loss", s->point_loss);
    run_arrays_number(out, prefix, "point_p", s->point_p);
    char name[RUN_ARRAY_NAME];
    for (int l = 0; l < L; l++) {
        const Tensor *w = pg->params->t[2 * l], *b = pg->params->t[2 * l + 1];
        for (int i = 0; i < w->shape[0]; i++)
            for (int j = 0; j < U; j++) {
                snprintf(name, sizeof(name), "W%d[%d][%d]", l + 1, i, j);
                run_arrays_number(out, prefix, name, w->data[i * U + j]);
            }
        for (int j = 0; j < U; j++) {
            snprintf(name, sizeof(name), "b%d[%d]", l + 1, j);
            run_arrays_number(out, prefix, name, b->data[j]);
        }
    }
    const Tensor *wo = pg->params->t[2 * L];
    for (int j = 0; j < wo->shape[0]; j++) {
        snprintf(name, sizeof(name), "wo[%d]", j);
        run_arrays_number(out, prefix, name, wo->data[j]);
    }
    run_arrays_number(out, prefix, "bo", pg->params->t[2 * L + 1]->data[0]);
    int P = (int)playground_param_count(pg);
    floats(out, prefix, "pgrad", 1, P, 1, s->pgrad);
    floats(out, prefix, "bgrad", 1, P, 1, s->bgrad);
    floats(out, prefix, "update", 1, P, 1, s->update);
}

// About what s holds: the full batch's activations and gradients in the
// training graph (some 6 floats per point and unit: measured), the grids
// and the histories.
static size_t mlp_bytes(const void *inst)
{
    const MlpSource *s = inst;
    size_t K = (size_t)s->pg->cfg.layers * (size_t)s->pg->cfg.units;
    return ((K + 1) * (size_t)s->pg->n * 6 + (K ? K : 1) * (size_t)s->ngrid * (size_t)s->ngrid +
            (size_t)s->grid * (size_t)s->grid) * sizeof(float) +
           2 * ((size_t)s->limit + 1) * sizeof(double) + ((size_t)1 << 20);
}

const SourceKind source_mlp2d_kind = {
    .name = "mlp2d",
    .summary =
        "an MLP on the tensor engine learning a seeded 2-D data set: loss, accuracy, boundary, neurons",
    .options = mlp_options,
    .default_limit = 0,
    .create = mlp_create,
    .destroy = mlp_destroy,
    .advance = mlp_advance,
    .steps = mlp_steps,
    .finished = mlp_finished,
    .publish = mlp_publish,
    .bytes = mlp_bytes,
};
