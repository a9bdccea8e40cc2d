// bench_lstm_view.c: how long lesson 8's LSTM panels take to build and draw
// at T = 100, with SDL's software renderer at 1920x1080: the cell diagram
// (lstm_cell_build) in the top half and the gates and states over time
// (lstm_time_build, 8 units: 50 rows x 100 steps) under it, the selected
// step moving every frame as while a student scrubs. The arrays are the
// ones an lstmmem source publishes, filled with seeded numbers. Prints NAME
// VALUE UNIT lines:
//   lstm_view_median       median wall ms per frame (scene build + replay)
//   lstm_view_p90          90th percentile
//   lstm_view_cpu_median   median CPU ms of this thread per frame
//   lstm_view_build_median the scene build alone (both panels)
//   lstm_cell_build_median, lstm_time_build_median   each panel's build alone
//   lstm_view_empty_cpu_median   an empty frame's replay (the clear), for scale
// Target (issue 11): the gate heatmaps and the cell view at T = 100 draw in <= 4 ms.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bench_util.h"
#include "lessons/sources.h"
#include "sdl/sdl_scene.h"
#include "views/lstm_cell_view.h"

#define FRAMES 200
#define T 100
#define H 8

static void fill(RunArrays *a, const char *name, int rows, int cols, double lo, double hi)
{
    int shape[2] = {rows, cols};
    double *x = run_arrays_add(a, "mem.", name, cols ? 2 : rows ? 1 : 0, shape);
    size_t n = (size_t)(rows ? rows : 1) * (size_t)(cols ? cols : 1);
    for (size_t k = 0; x && k < n; k++)
        x[k] = lo + (hi - lo) * uniform01();
}

static void number(RunArrays *a, const char *name, double v)
{
    double *x = run_arrays_add(a, "mem.", name, 0, NULL);
    if (x)
        *x = v;
}

int main(void)
{
    const char *data = getenv("GRADLAB_DATA_DIR");
    char fonts[1024], err[1200];
    snprintf(fonts, sizeof(fonts), "%s/assets/fonts", data ? data : ".");
    Offscreen *o = offscreen_create(1920, 1080, fonts, err, sizeof(err));
    if (!o) {
        fprintf(stderr, "bench_lstm_view: %s\n", err);
        return 1;
    }
    static RunArrays a;
    fill(&a, "x", T, 2, -1, 1);
    fill(&a, "i", T, H, 0, 1);
    fill(&a, "f", T, H, 0, 1);
    fill(&a, "g", T, H, -1, 1);
    fill(&a, "o", T, H, 0, 1);
    fill(&a, "c", T, H, -2, 2);
    fill(&a, "h", T, H, -1, 1);
    fill(&a, "clamped", T, 4, 0, 0);
    fill(&a, "dcnorm", T, 0, 0, 3);
    number(&a, "y", 0.8);
    number(&a, "target", 0.8);
    number(&a, "mark", 4);
    number(&a, "unit", 2);
    Scene *s = scene_create();
    scene_renderer_attach(offscreen_scene_renderer(o), s);
    const Theme *th = theme_get(THEME_DARK);
    float u = 1.5f; // 1920x1080
    double wall[FRAMES], cpu[FRAMES], build[FRAMES], cell[FRAMES], time_[FRAMES];
    for (int f = 0; f < FRAMES; f++) {
        LstmCellData d;
        if (!lstm_cell_data(&a, "mem", 1 + f % T, 0, &d)) {
            fprintf(stderr, "bench_lstm_view: the arrays are incomplete\n");
            return 1;
        }
        double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        scene_begin(s, 1920, 1080, th->background);
        LstmViewParams cp = {.x = 54, .y = 170, .w = 1812, .h = 400, .unit = u, .theme = th, .id = "panel:cell"};
        lstm_cell_build(s, &cp, &d);
        double c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        LstmViewParams tp = {.x = 54, .y = 590, .w = 1812, .h = 330, .unit = u, .theme = th, .id = "panel:time"};
        lstm_time_build(s, &tp, &d);
        double c2 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        offscreen_draw(o, s);
        double w1 = clock_s(CLOCK_MONOTONIC), c3 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        wall[f] = 1e3 * (w1 - w0), cpu[f] = 1e3 * (c3 - c0), build[f] = 1e3 * (c2 - c0);
        cell[f] = 1e3 * (c1 - c0), time_[f] = 1e3 * (c2 - c1);
    }
    if (getenv("GRADLAB_BENCH_PNG"))
        offscreen_save_png(o, s, getenv("GRADLAB_BENCH_PNG"), err, sizeof(err));
    double empty[FRAMES];
    for (int f = 0; f < FRAMES; f++) {
        double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        scene_begin(s, 1920, 1080, th->background);
        offscreen_draw(o, s);
        empty[f] = 1e3 * (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0);
    }
    qsort(empty, FRAMES, sizeof(double), cmp_double);
    double *all[5] = {wall, cpu, build, cell, time_};
    for (int k = 0; k < 5; k++)
        qsort(all[k], FRAMES, sizeof(double), cmp_double);
    printf("lstm_view_median %.3f ms\n", wall[FRAMES / 2]);
    printf("lstm_view_p90 %.3f ms\n", wall[FRAMES * 9 / 10]);
    printf("lstm_view_cpu_median %.3f ms\n", cpu[FRAMES / 2]);
    printf("lstm_view_build_median %.3f ms\n", build[FRAMES / 2]);
    printf("lstm_cell_build_median %.3f ms\n", cell[FRAMES / 2]);
    printf("lstm_time_build_median %.3f ms\n", time_[FRAMES / 2]);
    printf("lstm_view_empty_cpu_median %.3f ms\n", empty[FRAMES / 2]);
    printf("lstm_view_target 4 ms (median wall %s; median CPU %s)\n", wall[FRAMES / 2] <= 4 ? "met" : "NOT met",
           cpu[FRAMES / 2] <= 4 ? "met" : "NOT met");
    scene_destroy(s);
    offscreen_destroy(o);
    run_arrays_free(&a);
    return 0;
}
