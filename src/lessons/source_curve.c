// source_curve.c: the `curve` source kind, an activation function and its
// derivative sampled over a range (the activation-function lesson). The
// function is an expression program in x ("x = 0; f = EXPR") and the
// derivative comes from the scalar engine's backward pass at every sample,
// never from a hand-written formula.
//
//     source: act curve activation {act} from -6 to 6 points 241 threshold 0.05 at {z}
//     source: swish curve expr "x * sigmoid(x)"
//
// Options (numbers, words, or {param}):
//   activation  sigmoid, tanh, relu or leaky (default sigmoid); leaky is
//               max(x, slope * x)
//   expr        instead of activation: any expression of x (quoted), in the
//               program language (lessons/README.md)
//   slope       leaky's slope below 0, 0 to 1 (default 0.01)
//   from, to    the range of x (default -6 to 6; from < to)
//   points      samples, 2 to 10001 (default 241), both ends included
//   threshold   |f'| below it counts as saturated (default 0.05)
//   at          a pre-activation (default 0), usually a {param} slider
// Everything is computed when the instance is made: it takes no steps.
//
// Publishes:
//   x, f, df     (points)  the samples, f(x) and f'(x) by backprop
//   saturated    (k, 2)    the saturated intervals [lo, hi] where |f'| <
//                          threshold, in order; each end between two samples
//                          is refined by bisection on the engine's f'
//   nsat                   k
//   sat_percent            how much of [from, to] is saturated, in percent
//   sat_left               the end of the saturated interval that starts at
//                          `from` (NaN when f is not saturated there)
//   sat_right              the start of the one that ends at `to` (NaN when none)
//   mask         (points)  1 where saturated, 0 elsewhere (a stand-in for
//                          shading while plots draw against the index)
//   marker       (points)  0 except at the sample nearest `at`, where it is
//                          f(at): a spike that marks the pre-activation
//   index_at               that sample's index
//   at                     the pre-activation itself (a plot's `mark`)
//   f_at, df_at            f and f' at `at`
//   dmax                   the largest |f'| over the samples
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/source_kinds.h"

#define CURVE_MAX_POINTS 10001
#define CURVE_MAX_EXPR 1000    // bytes of an expression
#define CURVE_MAX_NODES 1000   // operations in it: points evaluations stay cheap
#define CURVE_MAX_INTERVALS 64

static const char *const curve_options[] = {"activation", "expr", "slope",     "from", "to",
                                            "points",     "at",   "threshold", NULL};

typedef struct CurveSource {
    Program *program; // x = 0; f = EXPR
    Graph *graph;
    int n;            // points
    double from, to, threshold, at;
    double *x, *f, *df; // (n)
    double sat[CURVE_MAX_INTERVALS][2];
    int nsat;
    double f_at, df_at, dmax;
} CurveSource;

// f and f' at x by a forward and a backward pass; false when the graph ran out of room.
static bool curve_eval(CurveSource *c, double x, double *f, double *df)
{
    program_set_input(c->program, "x", x);
    Value *out = program_build(c->program, c->graph);
    if (!out)
        return false;
    graph_zero_grad(c->graph);
    graph_backward(c->graph, out);
    const Value *vx = program_lookup(c->program, c->graph, "x");
    *f = out->data;
    *df = vx ? vx->grad : 0; // f does not read x: a constant, slope 0
    return true;
}

static bool saturated(const CurveSource *c, double df)
{
    return fabs(df) < c->threshold; // a NaN slope is not saturated: it is broken
}

// The x between a (saturated: sa) and b (not) where the saturation changes,
// by bisection on the engine's f'.
static double curve_edge(CurveSource *c, double a, double b, bool sa)
{
    for (int it = 0; it < 60; it++) {
        double m = 0.5 * (a + b), f, df;
        if (!curve_eval(c, m, &f, &df))
            break;
        if (saturated(c, df) == sa)
            a = m;
        else
            b = m;
    }
    return 0.5 * (a + b);
}

static void curve_destroy(void *inst)
{
    CurveSource *c = inst;
    if (!c)
        return;
    program_destroy(c->program);
    graph_destroy(c->graph);
    free(c->x);
    free(c->f);
    free(c->df);
    free(c);
}

// The expression the instance samples, into buf: `expr`, or the activation's.
static bool curve_expr(const SourceParams *p, const LessonSource *decl, char *buf, size_t cap, char *err,
                       size_t n)
{
    const char *expr = source_option(decl, "expr");
    if (expr) {
        if (source_option(decl, "activation")) {
            snprintf(err, n, "give 'activation' or 'expr', not both");
            return false;
        }
        if (strlen(expr) > CURVE_MAX_EXPR || strpbrk(expr, ";\n\r")) {
            snprintf(err, n, "'expr' is one expression in x (no ';' or new lines), at most %d bytes",
                     CURVE_MAX_EXPR);
            return false;
        }
        snprintf(buf, cap, "%s", expr);
        return true;
    }
    const char *w = source_option_word(p, decl, "activation", "sigmoid", err, n);
    if (!w)
        return false;
    double slope;
    if (!source_option_number(p, decl, "slope", 0.01, 0, 1, &slope, err, n))
        return false;
    if (strcmp(w, "sigmoid") == 0 || strcmp(w, "tanh") == 0 || strcmp(w, "relu") == 0)
        snprintf(buf, cap, "%s(x)", w);
    else if (strcmp(w, "leaky") == 0)
        snprintf(buf, cap, "max(x, %.17g * x)", slope);
    else {
        snprintf(err, n, "'activation %s': give one of sigmoid, tanh, relu, leaky, or 'expr \"...\"'", w);
        return false;
    }
    return true;
}

// Parse "x = 0; f = EXPR" with the engine's expression programs.
static Program *curve_program(const char *expr, char *err, size_t n)
{
    static const char head[] = "x = 0\nf = ";
    size_t len = strlen(head) + strlen(expr) + 1;
    char *text = malloc(len + 1);
    if (!text) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    snprintf(text, len + 1, "%s%s\n", head, expr);
    Diag d;
    diag_init(&d, "expr", text, len);
    Program *prog = program_parse(text, len, &d);
    if (!prog) {
        const char *msg = strstr(diag_text(&d), "error: ");
        int eol = msg ? (int)strcspn(msg + 7, "\n") : 0;
        snprintf(err, n, "expr \"%.60s\": %.*s", expr, eol, msg ? msg + 7 : "cannot be read");
    } else if (program_node_count(prog) > CURVE_MAX_NODES) {
        snprintf(err, n, "expr \"%.60s\" has %zu operations; at most %d", expr, program_node_count(prog),
                 CURVE_MAX_NODES);
        program_destroy(prog);
        prog = NULL;
    }
    diag_free(&d);
    free(text);
    return prog;
}

static void *curve_create(const SourceParams *p, const LessonSource *decl, char *err, size_t n)
{
    CurveSource *c = calloc(1, sizeof(*c));
    char expr[CURVE_MAX_EXPR + 64];
    double points;
    if (!c) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    if (!curve_expr(p, decl, expr, sizeof(expr), err, n) ||
        !source_option_number(p, decl, "from", -6, -1e6, 1e6, &c->from, err, n) ||
        !source_option_number(p, decl, "to", 6, -1e6, 1e6, &c->to, err, n) ||
        !source_option_number(p, decl, "points", 241, 2, CURVE_MAX_POINTS, &points, err, n) ||
        !source_option_number(p, decl, "threshold", 0.05, 0, 1e6, &c->threshold, err, n) ||
        !source_option_number(p, decl, "at", 0, -1e6, 1e6, &c->at, err, n))
        goto fail;
    if (!(c->from < c->to) || points != floor(points)) {
        snprintf(err, n, "'from' must be below 'to', and 'points' a whole number");
        goto fail;
    }
    c->n = (int)points;
    if (!(c->program = curve_program(expr, err, n)))
        goto fail;
    c->graph = graph_create(CURVE_MAX_NODES + 16);
    c->x = malloc((size_t)c->n * sizeof(double));
    c->f = malloc((size_t)c->n * sizeof(double));
    c->df = malloc((size_t)c->n * sizeof(double));
    if (!c->graph || !c->x || !c->f || !c->df) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    for (int i = 0; i < c->n; i++) {
        c->x[i] = i == c->n - 1 ? c->to : c->from + (c->to - c->from) * i / (c->n - 1);
        if (!curve_eval(c, c->x[i], &c->f[i], &c->df[i])) {
            snprintf(err, n, "out of memory");
            goto fail;
        }
        if (fabs(c->df[i]) > c->dmax || i == 0)
            c->dmax = fabs(c->df[i]);
    }
    // Saturated runs of samples; each end that lies between two samples is
    // found by bisection (so ReLU's edge is 0, not the nearest sample).
    for (int i = 0; i < c->n && c->nsat < CURVE_MAX_INTERVALS;) {
        if (!saturated(c, c->df[i])) {
            i++;
            continue;
        }
        int j = i;
        while (j + 1 < c->n && saturated(c, c->df[j + 1]))
            j++;
        c->sat[c->nsat][0] = i == 0 ? c->x[0] : curve_edge(c, c->x[i], c->x[i - 1], true);
        c->sat[c->nsat][1] = j == c->n - 1 ? c->x[j] : curve_edge(c, c->x[j], c->x[j + 1], true);
        c->nsat++;
        i = j + 1;
    }
    if (!curve_eval(c, c->at, &c->f_at, &c->df_at)) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    return c;
fail:
    curve_destroy(c);
    return NULL;
}

static int curve_advance(void *inst, int max)
{
    (void)inst, (void)max;
    return 0; // computed when created
}

static int curve_steps(const void *inst)
{
    (void)inst;
    return 0;
}

static const char *curve_finished(const void *inst)
{
    (void)inst;
    return "computed";
}

static void curve_publish(const void *inst, const char *prefix, RunArrays *out)
{
    const CurveSource *c = inst;
    int n = c->n;
    double *x;
    if ((x = run_arrays_add(out, prefix, "x", 1, &n)))
        memcpy(x, c->x, (size_t)n * sizeof(double));
    if ((x = run_arrays_add(out, prefix, "f", 1, &n)))
        memcpy(x, c->f, (size_t)n * sizeof(double));
    if ((x = run_arrays_add(out, prefix, "df", 1, &n)))
        memcpy(x, c->df, (size_t)n * sizeof(double));
    int shape[2] = {c->nsat, 2};
    if ((x = run_arrays_add(out, prefix, "saturated", 2, shape)))
        memcpy(x, c->sat, (size_t)c->nsat * 2 * sizeof(double));
    run_arrays_number(out, prefix, "nsat", c->nsat);
    double total = 0;
    for (int k = 0; k < c->nsat; k++)
        total += c->sat[k][1] - c->sat[k][0];
    run_arrays_number(out, prefix, "sat_percent", 100 * total / (c->to - c->from));
    run_arrays_number(out, prefix, "sat_left", c->nsat && c->sat[0][0] == c->from ? c->sat[0][1] : NAN);
    run_arrays_number(out, prefix, "sat_right",
                   c->nsat && c->sat[c->nsat - 1][1] == c->to ? c->sat[c->nsat - 1][0] : NAN);
    if ((x = run_arrays_add(out, prefix, "mask", 1, &n)))
        for (int i = 0; i < n; i++)
            x[i] = saturated(c, c->df[i]) ? 1 : 0;
    int at = (int)lround((c->at - c->from) / (c->to - c->from) * (n - 1));
    at = at < 0 ? 0 : at > n - 1 ? n - 1 : at;
    if ((x = run_arrays_add(out, prefix, "marker", 1, &n)))
        for (int i = 0; i < n; i++)
            x[i] = i == at ? c->f_at : 0;
    run_arrays_number(out, prefix, "index_at", at);
    run_arrays_number(out, prefix, "at", c->at);
    run_arrays_number(out, prefix, "f_at", c->f_at);
    run_arrays_number(out, prefix, "df_at", c->df_at);
    run_arrays_number(out, prefix, "dmax", c->dmax);
}

const SourceKind source_curve_kind = {
    .name = "curve",
    .summary = "an activation (or an expression of x) and its derivative by backprop over a range, "
               "with its saturated regions",
    .options = curve_options,
    .default_limit = 0,
    .create = curve_create,
    .destroy = curve_destroy,
    .advance = curve_advance,
    .steps = curve_steps,
    .finished = curve_finished,
    .publish = curve_publish,
};
