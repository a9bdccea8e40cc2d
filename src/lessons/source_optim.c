// source_optim.c: the `optimizers` source kind. Five optimizers start from
// the same point of a surface f(x, y) written in the lesson and run side by
// side: SGD, momentum, Nesterov, RMSProp and Adam, the engine's own
// (engine/optim, torch.optim's formulas), with gradients from the scalar
// engine (the surface is an expression program with the two inputs x and y).
//
//     param: surf = bowl choice bowl valley saddle
//     param: opt = adam choice sgd momentum nesterov rmsprop adam
//     source: opt optimizers surface0 "x^2 + y^2" surface1 "0.1*x^2 + 2*y^2"
//             surface2 "x^2 - y^2 on -2 2 -2 2" pick {surf} x0 -2.5 y0 2
//             lr {lr} momentum {mu} limit 200 select {opt}
//
// (one line in a lesson). Options:
//   surface EXPR        the surface, an expression in x and y (quoted); or
//   surface0..surface7  several surfaces, and
//   pick N              which of them: a number or {param} (a choice param
//                       gives the index of its word, so the choice's words
//                       name the surfaces in order);
//                       an expression may end in "on XLO XHI YLO YHI": its
//                       own map, instead of `range`
//   range R | "XLO XHI YLO YHI"   the map: -R..R on both axes, or a box (default 3)
//   x0, y0              the start (default: near the map's top-left corner)
//   lr (0.05), momentum (0.9)     shared by all five; momentum is the mu of
//                       momentum and Nesterov. RMSProp and Adam use torch's
//                       defaults (alpha 0.99; betas 0.9, 0.999; eps 1e-8)
//   limit (200)         the most steps, up to 20000
//   select (sgd)        the optimizer whose step is broken into terms: a
//                       name, or {param} of a choice whose words are
//                       names; else an index (0..4, in the order below)
//   grid (96)           the surface is sampled on grid x grid cells (0: not
//                       at all, for a source that only feeds checks)
//
// Like `train`, it takes steps only when a step says `run: NAME N` (or a
// check `after NAME N`); `run: NAME 20000` runs it to its limit.
//
// An optimizer stops when its loss or gradient is NaN or Inf, or when it
// leaves the map by more than the map's own size: "diverged" when its loss
// is then above the start's, "left the map" (downhill, as off a saddle)
// otherwise. The source finishes at its limit or when all five have stopped.
//
// Publishes, for K in sgd momentum nesterov rmsprop adam:
//   K (n+1, 2)          the path: the start, then the point after each step
//   loss.K (n+1)        f along the path
//   status.K ()         0 moving, 1 left the map downhill, 2 diverged
//   x.K, y.K (n+1)      the path's coordinates one at a time
// and surface (grid, grid: row 0 is the top of the map, y = YHI, column 0
// its left, x = XLO; cell centres), range (4: XLO XHI YLO YHI), steps (),
// lr (), selected () (the index of the selected optimizer, 0..4), and, while
// the selected optimizer moves, the terms of its next step at its current
// point: point (2), grad (2: the gradient there), velocity (2: momentum's
// and Nesterov's buffer mu b + g, Adam's bias-corrected first moment; absent
// for SGD and RMSProp) and step (2: where the step moves the point, Adam's
// and RMSProp's after dividing by the root of the second moment). A view
// draws -lr grad, -lr velocity and step as arrows from point.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/optim/optim.h"
#include "lessons/source_kinds.h"

#define OPT_KINDS 5
#define OPT_MAX_LIMIT 20000
#define OPT_MAX_GRID 256
#define OPT_MAX_NODES 1000     // operations in a surface: grid^2 and limit evaluations stay cheap
#define OPT_MAX_EXPR 2000      // bytes of a surface expression
#define OPT_MAX_WORK (1 << 24) // nodes built to sample the map: grid^2 times the surface's

static const char *const opt_names[OPT_KINDS] = {"sgd", "momentum", "nesterov", "rmsprop", "adam"};

typedef struct OptimPath {
    Optim *opt;
    float p[2];     // the current point
    double f, g[2]; // the loss and gradient there
    double *xy;     // (limit + 1, 2)
    double *loss;   // (limit + 1)
    int n;          // steps taken
    int status;     // 0 moving, 1 left the map downhill, 2 diverged
} OptimPath;

typedef struct OptimSource {
    Program *program; // x = 0; y = 0; height = EXPR
    Graph *graph;
    double range[4]; // XLO XHI YLO YHI
    int grid;
    double *surface; // (grid, grid)
    double lr, momentum;
    int limit, select;
    double start_f;
    OptimPath path[OPT_KINDS];
    int steps;
    const char *finished;
} OptimSource;

static const char *const optim_options[] = {
    "surface",  "surface0", "surface1", "surface2", "surface3", "surface4", "surface5",
    "surface6", "surface7", "pick",     "range",    "x0",       "y0",       "lr",
    "momentum", "limit",    "select",   "grid",     NULL,
};

// f and its gradient at (x, y); false when the graph ran out of room.
static bool surface_eval(OptimSource *s, double x, double y, double *f, double g[2])
{
    program_set_input(s->program, "x", x);
    program_set_input(s->program, "y", y);
    Value *out = program_build(s->program, s->graph);
    if (!out)
        return false;
    *f = out->data;
    if (g) {
        graph_zero_grad(s->graph);
        graph_backward(s->graph, out);
        const Value *vx = program_lookup(s->program, s->graph, "x");
        const Value *vy = program_lookup(s->program, s->graph, "y");
        g[0] = vx ? vx->grad : 0;
        g[1] = vy ? vy->grad : 0;
    }
    return true;
}

static void optim_source_destroy(void *inst)
{
    OptimSource *s = inst;
    if (!s)
        return;
    for (int k = 0; k < OPT_KINDS; k++) {
        optim_destroy(s->path[k].opt);
        free(s->path[k].xy);
        free(s->path[k].loss);
    }
    program_destroy(s->program);
    graph_destroy(s->graph);
    free(s->surface);
    free(s);
}

// Read up to 4 numbers from text into out; returns how many, or -1 when a
// word is not a finite number of at most 1e6 in size.
static int read_numbers(const char *text, double *out, int max)
{
    int n = 0;
    const char *q = text;
    for (;;) {
        while (*q == ' ' || *q == '\t')
            q++;
        if (!*q)
            return n;
        char *end;
        double v = strtod(q, &end);
        if (end == q || n == max || !isfinite(v) || fabs(v) > 1e6 || (*end && *end != ' ' && *end != '\t'))
            return -1;
        out[n++] = v;
        q = end;
    }
}

// The surface option this instance uses: `surface`, or surfaceN with N
// from `pick`. Its expression goes to expr (without an "on ..." tail),
// and its own map, if it gives one, to range (*own set).
static bool pick_surface(const SourceParams *p, const LessonSource *decl, char *expr, size_t cap,
                         double range[4], bool *own, char key[16], char *err, size_t n)
{
    snprintf(key, 16, "surface");
    if (source_option(decl, "pick") || !source_option(decl, "surface")) {
        double pick;
        if (!source_option_number(p, decl, "pick", 0, 0, 7, &pick, err, n))
            return false;
        snprintf(key, 16, "surface%d", (int)pick);
    }
    const char *text = source_option(decl, key);
    if (!text) {
        snprintf(err, n, "no '%s' to draw; write 'surface \"x^2 + y^2\"', or surface0 ... and 'pick'", key);
        return false;
    }
    size_t len = strlen(text);
    if (len >= cap || len > OPT_MAX_EXPR) {
        snprintf(err, n, "'%s' is %zu bytes long; at most %d", key, len, OPT_MAX_EXPR);
        return false;
    }
    memcpy(expr, text, len + 1);
    *own = false;
    // "EXPR on XLO XHI YLO YHI": the last word "on" starts the map.
    for (size_t i = len; i-- > 0;) {
        if ((i == 0 || expr[i - 1] == ' ') && strncmp(expr + i, "on ", 3) == 0) {
            double r[4];
            if (read_numbers(expr + i + 3, r, 4) != 4 || !(r[0] < r[1]) || !(r[2] < r[3])) {
                snprintf(err, n, "'%s': after 'on' give the map as XLO XHI YLO YHI, e.g. 'on -2 2 -1 3'",
                         key);
                return false;
            }
            memcpy(range, r, sizeof(r));
            *own = true;
            expr[i] = '\0';
            break;
        }
    }
    if (strpbrk(expr, ";\n\r")) {
        snprintf(err, n, "'%s': the surface is one expression in x and y (no ';' or new lines)", key);
        return false;
    }
    return true;
}

// Parse expr as the two-input program "x = 0; y = 0; height = EXPR".
static Program *surface_program(const char *key, const char *expr, char *err, size_t n)
{
    static const char head[] = "x = 0\ny = 0\nheight = ";
    size_t len = strlen(head) + strlen(expr) + 1;
    char *text = malloc(len + 1);
    if (!text) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    snprintf(text, len + 1, "%s%s\n", head, expr);
    Diag d;
    diag_init(&d, key, text, len);
    Program *prog = program_parse(text, len, &d);
    if (!prog) {
        // "surface:3:COL: error: MESSAGE\n...": keep the message, count columns in the expression.
        const char *msg = strstr(diag_text(&d), "error: ");
        const char *colon = strchr(diag_text(&d), ':');
        int line = 0, col = 0;
        if (colon)
            sscanf(colon + 1, "%d:%d", &line, &col);
        int eol = msg ? (int)strcspn(msg + 7, "\n") : 0;
        col -= (int)strlen("height = ");
        if (msg && line == 3 && col > 0)
            snprintf(err, n, "%s \"%.60s\", column %d: %.*s", key, expr, col, eol, msg + 7);
        else
            snprintf(err, n, "%s \"%.60s\": %.*s", key, expr, eol, msg ? msg + 7 : "cannot be read");
    } else if (program_node_count(prog) > OPT_MAX_NODES) {
        snprintf(err, n, "%s \"%.60s\" has %zu operations; at most %d", key, expr, program_node_count(prog),
                 OPT_MAX_NODES);
        program_destroy(prog);
        prog = NULL;
    }
    diag_free(&d);
    free(text);
    return prog;
}

// The optimizer option `select`: a name, or {param} naming a choice whose
// word is a name; else a number or {param}, the index in the order above.
static bool read_select(const SourceParams *p, const LessonSource *decl, int *out, char *err, size_t n)
{
    char ignored[160];
    const char *v = source_option(decl, "select");
    const char *word = v ? source_option_word(p, decl, "select", NULL, ignored, sizeof(ignored)) : NULL;
    for (int k = 0; word && k < OPT_KINDS; k++)
        if (strcmp(word, opt_names[k]) == 0) {
            *out = k;
            return true;
        }
    double x;
    if (!source_option_number(p, decl, "select", 0, 0, OPT_KINDS - 1, &x, err, n)) {
        snprintf(err, n,
                 "'select %s': give sgd, momentum, nesterov, rmsprop, adam, an index 0 to 4 or {param}",
                 v ? v : "");
        return false;
    }
    *out = (int)x;
    return true;
}

static bool read_range(const SourceParams *p, const LessonSource *decl, double range[4], char *err, size_t n)
{
    (void)p;
    const char *v = source_option(decl, "range");
    double r[4] = {-3, 3, -3, 3};
    int k = v ? read_numbers(v, r, 4) : 4;
    if (k == 1 && r[0] > 0) {
        double a = r[0];
        r[0] = r[2] = -a;
        r[1] = r[3] = a;
    } else if (k != 4 || !(r[0] < r[1]) || !(r[2] < r[3])) {
        snprintf(err, n, "'range %s': give R (the map is -R to R on both axes) or \"XLO XHI YLO YHI\"", v);
        return false;
    }
    memcpy(range, r, sizeof(r));
    return true;
}

static OptimConfig optim_config(int k, double lr, double momentum)
{
    static const OptimKind kinds[OPT_KINDS] = {OPTIM_SGD, OPTIM_MOMENTUM, OPTIM_MOMENTUM, OPTIM_RMSPROP,
                                               OPTIM_ADAM};
    OptimConfig c = optim_defaults(kinds[k]);
    c.lr = (float)lr;
    c.momentum = (float)momentum;
    c.nesterov = k == 2;
    return c;
}

static void *optim_source_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    OptimSource *s = calloc(1, sizeof(*s));
    char *expr = malloc(OPT_MAX_EXPR + 1);
    if (!s || !expr) {
        snprintf(err, n, "out of memory");
        free(expr);
        free(s);
        return NULL;
    }
    double limit, grid, x0, y0, range[4];
    bool own = false;
    char key[16];
    if (!read_range(p, decl, s->range, err, n) ||
        !pick_surface(p, decl, expr, OPT_MAX_EXPR + 1, range, &own, key, err, n))
        goto fail;
    if (own)
        memcpy(s->range, range, sizeof(range));
    double w = s->range[1] - s->range[0], h = s->range[3] - s->range[2];
    if (!source_option_number(p, decl, "lr", 0.05, 0, 100, &s->lr, err, n) ||
        !source_option_number(p, decl, "momentum", 0.9, 0, 0.9999, &s->momentum, err, n) ||
        !source_option_number(p, decl, "limit", 200, 1, OPT_MAX_LIMIT, &limit, err, n) ||
        !source_option_number(p, decl, "grid", 96, 0, OPT_MAX_GRID, &grid, err, n) ||
        !source_option_number(p, decl, "x0", s->range[0] + 0.15 * w, -1e6, 1e6, &x0, err, n) ||
        !source_option_number(p, decl, "y0", s->range[2] + 0.85 * h, -1e6, 1e6, &y0, err, n) ||
        !read_select(p, decl, &s->select, err, n))
        goto fail;
    if (!(s->lr > 0)) {
        snprintf(err, n, "'lr' must be above 0");
        goto fail;
    }
    if (grid != 0 && grid < 8) {
        snprintf(err, n, "'grid %g': 0 (no map) or from 8 to %d", grid, OPT_MAX_GRID);
        goto fail;
    }
    s->limit = (int)limit;
    s->grid = (int)grid;
    s->program = surface_program(key, expr, err, n);
    if (!s->program)
        goto fail;
    // Sampling the map builds the surface grid^2 times: keep that to a fraction of a second.
    if ((double)s->grid * s->grid * (double)program_node_count(s->program) > OPT_MAX_WORK) {
        snprintf(err, n, "'grid %d' samples a surface of %zu operations %d times; lower the grid to %d",
                 s->grid, program_node_count(s->program), s->grid * s->grid,
                 (int)sqrt(OPT_MAX_WORK / (double)program_node_count(s->program)));
        goto fail;
    }
    s->graph = graph_create(program_node_count(s->program) + 1);
    if (!s->graph) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    // The map, row 0 at the top, sampled at cell centres.
    if (s->grid) {
        s->surface = malloc((size_t)s->grid * (size_t)s->grid * sizeof(double));
        if (!s->surface) {
            snprintf(err, n, "out of memory");
            goto fail;
        }
        for (int r = 0; r < s->grid; r++)
            for (int c = 0; c < s->grid; c++) {
                double x = s->range[0] + w * (c + 0.5) / s->grid, y = s->range[3] - h * (r + 0.5) / s->grid,
                       f;
                if (!surface_eval(s, x, y, &f, NULL))
                    f = NAN;
                s->surface[(size_t)r * (size_t)s->grid + (size_t)c] = f;
            }
    }
    // Five optimizers at the start, with the loss and gradient there.
    // The optimizers work in float: round the start once, through a
    // volatile. GCC 12.2 at -O2 converts x0 and y0 together (cvtpd2ps) and
    // then folds (double)(float)x0 back to x0, so the start (and the first
    // gradient) kept double precision; torch's float32 paths caught it.
    double f0, g0[2];
    volatile float start[2] = {(float)x0, (float)y0};
    float px = start[0], py = start[1];
    if (!surface_eval(s, px, py, &f0, g0)) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    s->start_f = f0;
    for (int k = 0; k < OPT_KINDS; k++) {
        OptimPath *pa = &s->path[k];
        OptimConfig cfg = optim_config(k, s->lr, s->momentum);
        pa->opt = optim_create(&cfg, 2);
        pa->xy = malloc(((size_t)s->limit + 1) * 2 * sizeof(double));
        pa->loss = malloc(((size_t)s->limit + 1) * sizeof(double));
        if (!pa->opt || !pa->xy || !pa->loss) {
            snprintf(err, n, "out of memory");
            goto fail;
        }
        pa->p[0] = px;
        pa->p[1] = py;
        pa->f = f0;
        pa->g[0] = g0[0];
        pa->g[1] = g0[1];
        pa->xy[0] = px;
        pa->xy[1] = py;
        pa->loss[0] = f0;
        if (!isfinite(f0) || !isfinite(g0[0]) || !isfinite(g0[1]))
            pa->status = 2;
    }
    if (s->path[0].status)
        s->finished = "the loss or its gradient is NaN or Inf at the start";
    free(expr);
    return s;
fail:
    free(expr);
    optim_source_destroy(s);
    return NULL;
}

// One step of optimizer k from its current point.
static void path_step(OptimSource *s, OptimPath *pa)
{
    float g[2] = {(float)pa->g[0], (float)pa->g[1]};
    optim_step(pa->opt, pa->p, g);
    double f, gd[2];
    if (!isfinite(pa->p[0]) || !isfinite(pa->p[1]) || !surface_eval(s, pa->p[0], pa->p[1], &f, gd)) {
        pa->status = 2;
        return;
    }
    pa->n++;
    pa->xy[2 * pa->n] = pa->p[0];
    pa->xy[2 * pa->n + 1] = pa->p[1];
    pa->loss[pa->n] = f;
    pa->f = f;
    pa->g[0] = gd[0];
    pa->g[1] = gd[1];
    double w = s->range[1] - s->range[0], h = s->range[3] - s->range[2];
    bool off = pa->p[0] < s->range[0] - w || pa->p[0] > s->range[1] + w || pa->p[1] < s->range[2] - h ||
               pa->p[1] > s->range[3] + h;
    if (!isfinite(f) || !isfinite(gd[0]) || !isfinite(gd[1]))
        pa->status = 2;
    else if (off)
        pa->status = f > s->start_f ? 2 : 1;
}

static int optim_source_advance(void *inst, int max)
{
    OptimSource *s = inst;
    int taken = 0;
    while (taken < max && !s->finished) {
        int moving = 0;
        for (int k = 0; k < OPT_KINDS; k++)
            if (!s->path[k].status) {
                path_step(s, &s->path[k]);
                moving += !s->path[k].status;
            }
        s->steps++;
        taken++;
        if (s->steps >= s->limit)
            s->finished = "the step limit was reached";
        else if (!moving)
            s->finished = "every optimizer has stopped";
    }
    return taken;
}

static int optim_source_steps(const void *inst)
{
    return ((const OptimSource *)inst)->steps;
}

static const char *optim_source_finished(const void *inst)
{
    return ((const OptimSource *)inst)->finished;
}

// The terms of the selected optimizer's next step: its velocity (NULL
// when it keeps none) and the step, from a scratch copy of its state.
static bool next_step(const OptimSource *s, const OptimPath *pa, int k, double velocity[2],
                      bool *has_velocity, double step[2])
{
    Optim *o = optim_create(&pa->opt->cfg, 2);
    if (!o)
        return false;
    o->t = pa->opt->t;
    if (o->m)
        memcpy(o->m, pa->opt->m, 2 * sizeof(float));
    if (o->v)
        memcpy(o->v, pa->opt->v, 2 * sizeof(float));
    float p[2] = {pa->p[0], pa->p[1]}, g[2] = {(float)pa->g[0], (float)pa->g[1]};
    optim_step(o, p, g);
    *has_velocity = k == 1 || k == 2 || k == 4;
    for (int i = 0; i < 2; i++) {
        step[i] = (double)p[i] - (double)pa->p[i];
        if (k == 4) // Adam's first moment, bias-corrected as its step uses it
            velocity[i] = o->m[i] / (1 - pow(o->cfg.beta1, (double)o->t));
        else
            velocity[i] = o->m ? o->m[i] : 0;
    }
    optim_destroy(o);
    (void)s;
    return true;
}

static void publish_pair(RunArrays *out, const char *prefix, const char *name, const double v[2])
{
    int shape[1] = {2};
    double *x = run_arrays_add(out, prefix, name, 1, shape);
    if (x)
        x[0] = v[0], x[1] = v[1];
}

static void optim_source_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const OptimSource *s = inst;
    char name[RUN_ARRAY_NAME];
    for (int k = 0; k < OPT_KINDS; k++) {
        const OptimPath *pa = &s->path[k];
        int shape[2] = {pa->n + 1, 2};
        double *x = run_arrays_add(out, prefix, opt_names[k], 2, shape);
        if (x)
            memcpy(x, pa->xy, (size_t)shape[0] * 2 * sizeof(double));
    }
    for (int k = 0; k < OPT_KINDS; k++) {
        const OptimPath *pa = &s->path[k];
        int shape[1] = {pa->n + 1};
        snprintf(name, sizeof(name), "loss.%s", opt_names[k]);
        double *x = run_arrays_add(out, prefix, name, 1, shape);
        if (x)
            memcpy(x, pa->loss, (size_t)shape[0] * sizeof(double));
        snprintf(name, sizeof(name), "status.%s", opt_names[k]);
        run_arrays_number(out, prefix, name, pa->status);
        for (int c = 0; c < 2; c++) { // each coordinate over the steps, for plots and checks
            snprintf(name, sizeof(name), "%s.%s", c ? "y" : "x", opt_names[k]);
            if ((x = run_arrays_add(out, prefix, name, 1, shape)))
                for (int i = 0; i < shape[0]; i++)
                    x[i] = pa->xy[2 * i + c];
        }
    }
    if (s->grid) {
        int shape[2] = {s->grid, s->grid};
        double *x = run_arrays_add(out, prefix, "surface", 2, shape);
        if (x)
            memcpy(x, s->surface, (size_t)s->grid * (size_t)s->grid * sizeof(double));
    }
    int four[1] = {4};
    double *x = run_arrays_add(out, prefix, "range", 1, four);
    if (x)
        memcpy(x, s->range, sizeof(s->range));
    run_arrays_number(out, prefix, "steps", s->steps);
    run_arrays_number(out, prefix, "lr", s->lr);
    run_arrays_number(out, prefix, "selected", s->select);
    const OptimPath *pa = &s->path[s->select];
    double point[2] = {pa->p[0], pa->p[1]}, velocity[2], step[2];
    bool has_velocity;
    if (!pa->status && next_step(s, pa, s->select, velocity, &has_velocity, step)) {
        publish_pair(out, prefix, "point", point);
        publish_pair(out, prefix, "grad", pa->g);
        if (has_velocity)
            publish_pair(out, prefix, "velocity", velocity);
        publish_pair(out, prefix, "step", step);
    }
}

// About what s holds: each optimizer's path and losses, and the map.
static size_t optim_source_bytes(const void *inst)
{
    const OptimSource *s = inst;
    return (((size_t)s->limit + 1) * 3 * OPT_KINDS + (size_t)s->grid * (size_t)s->grid) * sizeof(double);
}

const SourceKind source_optim_kind = {
    .name = "optimizers",
    .summary = "SGD, momentum, Nesterov, RMSProp and Adam side by side on a surface f(x, y) from one start",
    .options = optim_options,
    .default_limit = 0, // a step's `run: NAME N` says how far; it stops at its own `limit` too
    .create = optim_source_create,
    .destroy = optim_source_destroy,
    .advance = optim_source_advance,
    .steps = optim_source_steps,
    .finished = optim_source_finished,
    .publish = optim_source_publish,
    .bytes = optim_source_bytes,
};
