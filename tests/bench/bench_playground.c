// bench_playground.c: the training playground (lesson 5) under load. A
// 2-16-16-1 tanh MLP learns 200 spiral points with Adam on the run's worker
// thread while frames of a boundary panel (100 x 100 boundary grid, 32
// neuron maps of 32 x 32), a loss plot and a row of controls are built and
// drawn at 1920x1080, paced at 60 a second as a window draws them; against
// the same training with no window. Prints NAME VALUE UNIT lines:
//   playground_steps_per_s_window    training steps a second while frames are drawn (goal >= 500)
//   playground_steps_per_s_headless  the same training with no window (run_settle)
//   playground_steps_per_cpu_s_headless  the same per second of this thread's CPU time
//                                    (what other processes on the machine cannot inflate)
//   playground_frame_median          median ms per frame (poll + scene build + replay)
//   playground_frame_p99             99th percentile
//   playground_build_median          of which the scene build
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bench_util.h"
#include "lessons/run.h"
#include "sdl/sdl_scene.h"
#include "views/lesson_view.h"

#define SECONDS 4.0
#define HEADLESS_STEPS 3000

static const char lesson_text[] =
    "gradlab-lesson: 2\n"
    "title: Playground benchmark: a 2-16-16-1 MLP training live\n"
    "param: lr = 0.03 range 0.001 1 log\n"
    "param: act = tanh choice tanh relu\n"
    "param: layers = 2 range 0 4 step 1\n"
    "source: net mlp2d dataset spiral noise 0.1 points 200 layers {layers} units 16 activation {act} "
    "optimizer adam lr {lr} limit 20000 seed 1\n"
    "panel: map boundary net\n"
    "panel: loss plot net.loss net.accuracy title \"per step\"\n"
    "panel: knobs controls lr act layers\n"
    "layout: map 3, loss 2 / knobs\n"
    "program:\n"
    "    x = 1\n"
    "    f = x * 2\n"
    "step: intro\n"
    "    Training: the loss is {net.loss:.5f} after {net.steps} steps.\n";

static Lesson *load(void)
{
    Diag d;
    diag_init(&d, "bench.lesson", lesson_text, sizeof(lesson_text) - 1);
    Lesson *l = lesson_parse(lesson_text, sizeof(lesson_text) - 1, "bench.lesson", &d);
    if (!l)
        fprintf(stderr, "%s", diag_text(&d));
    diag_free(&d);
    return l;
}

int main(void)
{
    char err[512], fonts[4096];
    const char *data = getenv("GRADLAB_DATA_DIR");
    snprintf(fonts, sizeof(fonts), "%s/assets/fonts", data ? data : ".");
    Lesson *l = load();
    if (!l)
        return 1;

    // Headless: the same source, the same steps, no frames.
    Run *r = run_create(l, false, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "bench_playground: %s\n", err);
        return 1;
    }
    run_extend(r, 0, HEADLESS_STEPS);
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    run_settle(r);
    double headless = run_source_steps(r, 0) / (clock_s(CLOCK_MONOTONIC) - t0);
    double headless_cpu = run_source_steps(r, 0) / (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0);
    run_destroy(r);

    // The window: frames paced at 60 a second while the worker trains.
    Offscreen *o = offscreen_create(1920, 1080, fonts, err, sizeof(err));
    Scene *s = scene_create();
    Graph *g = graph_create(PROGRAM_MAX_NODES + 1);
    r = run_create(l, true, err, sizeof(err));
    if (!o || !s || !g || !r) {
        fprintf(stderr, "bench_playground: %s\n", err);
        return 1;
    }
    scene_renderer_attach(offscreen_scene_renderer(o), s);
    // The mouse over the map: a hovered neuron would be drawn large too.
    LessonGraphState gs = {.layout = graph_layout_create()};
    run_extend(r, 0, 20000);
    int cap = 100000, n = 0;
    double *ms = malloc((size_t)cap * sizeof(double)), *ms_build = malloc((size_t)cap * sizeof(double));
    int steps0 = run_source_steps(r, 0);
    double start = clock_s(CLOCK_MONOTONIC), end = start;
    while (n < cap && end - start < SECONDS && run_source_steps(r, 0) < 20000) {
        double f0 = clock_s(CLOCK_MONOTONIC);
        run_poll(r);
        double f1 = clock_s(CLOCK_MONOTONIC);
        LessonViewParams vp = {
            .lesson = l, .theme = theme_get(THEME_DARK), .scale = 1, .graph = &gs, .run = r};
        lesson_view_build(s, g, &vp, 1920, 1080);
        double f2 = clock_s(CLOCK_MONOTONIC);
        offscreen_draw(o, s);
        end = clock_s(CLOCK_MONOTONIC);
        ms_build[n] = (f2 - f1) * 1e3;
        ms[n++] = (end - f0) * 1e3;
        double rest = 1.0 / 60 - (end - f0);
        if (rest > 0) {
            struct timespec ts = {0, (long)(rest * 1e9)};
            nanosleep(&ts, NULL);
        }
        end = clock_s(CLOCK_MONOTONIC);
    }
    run_poll(r);
    double window = (run_source_steps(r, 0) - steps0) / (end - start);
    if (getenv("GRADLAB_BENCH_PNG"))
        offscreen_save_png(o, s, getenv("GRADLAB_BENCH_PNG"), err, sizeof(err));
    qsort(ms, (size_t)n, sizeof(double), cmp_double);
    qsort(ms_build, (size_t)n, sizeof(double), cmp_double);
    printf("playground_steps_per_s_window %.0f steps/s\n", window);
    printf("playground_steps_per_s_headless %.0f steps/s\n", headless);
    printf("playground_steps_per_cpu_s_headless %.0f steps/s\n", headless_cpu);
    printf("playground_frame_median %.2f ms\n", ms[n / 2]);
    printf("playground_frame_p99 %.2f ms\n", ms[(size_t)(0.99 * (n - 1))]);
    printf("playground_build_median %.2f ms\n", ms_build[n / 2]);
    printf("playground_frames %d frames\n", n);
    printf("# goal: >= 500 steps/s for the 2-16-16-1 MLP on 200 points while drawing\n");
    free(ms);
    free(ms_build);
    run_destroy(r);
    graph_layout_destroy(gs.layout);
    graph_destroy(g);
    scene_destroy(s);
    offscreen_destroy(o);
    lesson_destroy(l);
    return 0;
}
