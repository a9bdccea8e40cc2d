// bench_frame.c: how long the busiest view takes to build and draw, with
// SDL's software renderer at 1920x1080: a 20-step unrolled RNN graph (the
// graph widget, the last five steps expanded with values and gradients, the
// rest collapsed, the mouse over a node), three live plots (their data change every frame, as
// while training) and two heatmaps. Prints NAME VALUE UNIT lines:
//   frame_median      median ms per frame (scene build + replay)
//   frame_p90         90th percentile
//   frame_cpu_median  median CPU ms of this thread per frame (robust to load)
//   frame_build_median   scene build only
//   graph_layout_20step_MODE, graph_build_20step_MODE   the graph widget alone
//                     on the 20-step RNN (1880x1040, unit 1): CPU ms of one
//                     layout and the median CPU ms of a build, for MODE
//                     expanded, collapsed, mixed, values (zoomed to values
//                     only) and full (zoomed to names and gradients). These
//                     were a unit test's 20 ms limit; a figure, not a check.
// Target (issue 4): frame_median <= 4 ms.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bench_util.h"
#include "engine/value.h"
#include "sdl/sdl_scene.h"
#include "views/widgets/graph.h"
#include "views/widgets/heatmap.h"
#include "views/widgets/plot.h"

#define FRAMES 200
#define T 20
#define PLOT_N 400
#define HEAT_H 32
#define HEAT_T 100

// h_t = tanh(w * h_{t-1} + u * x_t + b), loss = h_T.
static Value *unrolled_rnn(Graph *g)
{
    Value *w = value_input(g, 0.9, "w"), *u = value_input(g, 0.5, "u"), *b = value_input(g, 0.1, "b");
    Value *h = value_input(g, 0.0, "h0");
    char name[16];
    for (int t = 1; t <= T; t++) {
        snprintf(name, sizeof(name), "x%d", t);
        Value *x = value_input(g, sin(t * 0.7), name);
        h = value_tanh(g, value_add(g, value_add(g, value_mul(g, w, h), value_mul(g, u, x)), b));
        snprintf(name, sizeof(name), "h%d", t);
        value_set_name(g, h, name);
    }
    return h;
}

enum { PART_GRAPH = 1, PART_PLOTS = 2, PART_HEATMAPS = 4, PART_ALL = 7 };

typedef struct Bench {
    Scene *s;
    Graph *g;
    Value *out;
    GraphLayout *lay;
    int *group;               // (g->n) time step of each node, -1 for the parameters
    bool collapsed[T + 1];
    GraphParams gp;
    double xs[PLOT_N], y[3][PLOT_N];
    float heat1[HEAT_H * HEAT_T], heat2[HEAT_H * HEAT_T];
} Bench;

// Fill the plots and heatmaps with frame f's data, as a live run would.
static void update_data(Bench *b, int f)
{
    for (int i = 0; i < PLOT_N; i++) {
        b->xs[i] = i;
        b->y[0][i] = exp(-i / 80.0) * (1 + 0.1 * sin(i + f));
        b->y[1][i] = pow(0.97, i) + 1e-6;
        b->y[2][i] = 0.5 + 0.3 * sin(i / 20.0 + f * 0.1);
    }
    for (int i = 0; i < HEAT_H * HEAT_T; i++) {
        b->heat1[i] = (float)tanh(sin(i * 0.37 + f * 0.05));
        b->heat2[i] = (float)fabs(cos(i * 0.11 + f * 0.03));
    }
}

static void build_frame(Bench *b, int parts)
{
    Scene *s = b->s;
    const Theme *th = theme_get(THEME_DARK);
    scene_begin(s, 1920, 1080, th->background);
    if (parts & PART_GRAPH)
        graph_build(s, b->lay, &b->gp);
    if (parts & PART_PLOTS) {
        PlotSeries s0 = {"loss", b->xs, b->y[0], PLOT_N}, s1 = {"|dL/dh|", b->xs, b->y[1], PLOT_N},
                   s2 = {"gate", b->xs, b->y[2], PLOT_N};
        PlotParams pp = {.y = 620, .w = 620, .h = 440, .unit = 1.2f, .theme = th, .xlabel = "step",
                         .nseries = 1};
        pp.x = 20, pp.series = &s0, pp.title = "training loss";
        plot_build(s, &pp);
        pp.x = 660, pp.series = &s1, pp.title = "gradient norm", pp.log_y = true;
        plot_build(s, &pp);
        pp.x = 1300, pp.series = &s2, pp.title = "forget gate", pp.log_y = false, pp.hover = true;
        pp.mouse_x = 1500;
        plot_build(s, &pp);
    }
    if (parts & PART_HEATMAPS) {
        HeatmapParams hp = {.x = 1340, .y = 20, .w = 560, .h = 270, .unit = 1.2f, .theme = th,
                            .data = b->heat1, .rows = HEAT_H, .cols = HEAT_T, .diverging = true,
                            .title = "hidden state"};
        heatmap_build(s, &hp);
        hp.y = 310, hp.data = b->heat2, hp.diverging = false, hp.title = "gates";
        heatmap_build(s, &hp);
    }
}

// Median build and total (build + draw) ms of FRAMES frames with parts.
static void run(Bench *b, Offscreen *o, int parts, double *build_ms, double *total_ms)
{
    static double times[FRAMES], build[FRAMES], cpu[FRAMES];
    for (int f = 0; f < FRAMES + 20; f++) {
        update_data(b, f);
        double c0 = (1e3 * clock_s(CLOCK_THREAD_CPUTIME_ID)), t0 = (1e3 * clock_s(CLOCK_MONOTONIC));
        build_frame(b, parts);
        double t1 = (1e3 * clock_s(CLOCK_MONOTONIC));
        offscreen_draw(o, b->s);
        double t2 = (1e3 * clock_s(CLOCK_MONOTONIC)), c2 = (1e3 * clock_s(CLOCK_THREAD_CPUTIME_ID));
        if (f >= 20) { // the first frames fill the glyph caches
            times[f - 20] = t2 - t0;
            build[f - 20] = t1 - t0;
            cpu[f - 20] = c2 - c0;
        }
    }
    qsort(times, FRAMES, sizeof(double), cmp_double);
    qsort(build, FRAMES, sizeof(double), cmp_double);
    qsort(cpu, FRAMES, sizeof(double), cmp_double);
    *build_ms = build[FRAMES / 2];
    total_ms[0] = times[FRAMES / 2];
    total_ms[1] = times[FRAMES * 9 / 10];
    total_ms[2] = cpu[FRAMES / 2];
}

// The graph widget on its own, as test_graphwidget once timed it.
static void graph_figures(Bench *b)
{
    enum { N = 40 };
    static const char *modes[5] = {"expanded", "collapsed", "mixed", "values", "full"};
    bool collapsed[T + 1];
    GraphParams p = {.x = 20, .y = 10, .w = 1880, .h = 1040, .unit = 1, .theme = theme_get(THEME_DARK),
                     .graph = b->g, .out = b->out, .group = b->group, .collapsed = collapsed, .ngroups = T,
                     .group_format = "step %d", .legend = true, .hover = true};
    for (int mode = 0; mode < 5; mode++) {
        for (int t = 0; t < T; t++)
            collapsed[t] = mode == 1 || (mode == 2 && t > 1 && t < T - 2);
        GraphLayout *lay = graph_layout_create();
        double c0 = 1e3 * clock_s(CLOCK_THREAD_CPUTIME_ID);
        graph_layout_update(lay, &p);
        double layout_ms = 1e3 * clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        p.view = graph_view_fit(lay, &p);
        if (mode >= 3)
            graph_view_zoom(&p.view, &p, (mode == 3 ? 0.45f : 0.8f) / p.view.scale, p.x + p.w / 3,
                            p.y + p.h / 2);
        p.mouse_x = p.x + p.w * 0.6f, p.mouse_y = p.y + p.h / 2;
        double build[N];
        for (int i = 0; i < N + 2; i++) {
            double a = 1e3 * clock_s(CLOCK_THREAD_CPUTIME_ID);
            scene_begin(b->s, 1920, 1080, p.theme->background);
            graph_build(b->s, lay, &p);
            if (i >= 2)
                build[i - 2] = 1e3 * clock_s(CLOCK_THREAD_CPUTIME_ID) - a;
        }
        qsort(build, N, sizeof(double), cmp_double);
        printf("graph_layout_20step_%s %.3f ms (crossings %ld, first order %ld)\n", modes[mode], layout_ms,
               graph_layout_crossings(lay), graph_layout_crossings_initial(lay));
        printf("graph_build_20step_%s %.3f ms (%zu items, %d boxes)\n", modes[mode], build[N / 2], b->s->n,
               graph_layout_boxes(lay));
        graph_layout_destroy(lay);
    }
}

int main(void)
{
    const char *data = getenv("GRADLAB_DATA_DIR");
    char fonts[1024], err[1200];
    snprintf(fonts, sizeof(fonts), "%s/assets/fonts", data ? data : ".");
    Offscreen *o = offscreen_create(1920, 1080, fonts, err, sizeof(err));
    if (!o) {
        fprintf(stderr, "bench_frame: %s\n", err);
        return 1;
    }
    static Bench b;
    b.s = scene_create();
    scene_renderer_attach(offscreen_scene_renderer(o), b.s);
    b.g = graph_create(0);
    b.out = unrolled_rnn(b.g);
    graph_backward(b.g, b.out);
    // Group nodes by time step: the 4 parameters first, then 6 per step
    // (x_t, then w*h, u*x, +, +b, tanh: 6 nodes per step).
    b.group = calloc(b.g->n, sizeof(int));
    for (size_t i = 0; i < b.g->n; i++)
        b.group[i] = i < 4 ? -1 : (int)((i - 4) / 6);
    for (int t = 0; t < T; t++)
        b.collapsed[t] = t < T - 5;
    b.lay = graph_layout_create();
    b.gp = (GraphParams){.x = 20, .y = 20, .w = 1300, .h = 580, .unit = 1.2f, .theme = theme_get(THEME_DARK),
                         .graph = b.g, .out = b.out, .group = b.group, .collapsed = b.collapsed,
                         .ngroups = T, .group_format = "step %d", .hover = true, .legend = true};
    graph_layout_update(b.lay, &b.gp);
    b.gp.view = graph_view_fit(b.lay, &b.gp);
    graph_view_zoom(&b.gp.view, &b.gp, 3.5f, 1180, 310); // the expanded steps, values readable
    b.gp.mouse_x = 1200, b.gp.mouse_y = 300;

    double build, total[3];
    run(&b, o, PART_ALL, &build, total);
    size_t items = b.s->n;
    if (getenv("GRADLAB_BENCH_PNG"))
        offscreen_save_png(o, b.s, getenv("GRADLAB_BENCH_PNG"), err, sizeof(err));
    printf("frame_median %.3f ms\n", total[0]);
    printf("frame_p90 %.3f ms\n", total[1]);
    printf("frame_cpu_median %.3f ms\n", total[2]);
    printf("frame_build_median %.3f ms\n", build);
    printf("frame_items %zu items\n", items);
    printf("frame_target 4 ms (median wall %s; median CPU %s)\n", total[0] <= 4 ? "met" : "NOT met",
           total[2] <= 4 ? "met" : "NOT met");
    static const struct { const char *name; int parts; } parts[] = {
        {"frame_graph_median", PART_GRAPH}, {"frame_plots_median", PART_PLOTS},
        {"frame_heatmaps_median", PART_HEATMAPS}, {"frame_empty_median", 0},
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        run(&b, o, parts[i].parts, &build, total);
        printf("%s %.3f ms\n", parts[i].name, total[0]);
    }
    graph_figures(&b);
    graph_layout_destroy(b.lay);
    free(b.group);
    graph_destroy(b.g);
    scene_destroy(b.s);
    offscreen_destroy(o);
    return 0;
}
