// bench_frame_training.c: frames of the busiest format-2 layout at
// 1920x1080, paced at 60 a second as a window draws them, while a source
// trains on the run's worker thread; against the same training with no
// window. The layout: a 20-step RNN unrolled in a loop in
// the graph panel, the loss plot beside it (its data grow every frame),
// bars of three gradients, and a row of controls; the narrative reads a
// published figure. Prints NAME VALUE UNIT lines:
//   frame_training_median      median ms per frame (poll + scene build + replay)
//   frame_training_p99         99th percentile
//   frame_training_poll_median, frame_training_build_median   the snapshot taken
//                              (and the program re-evaluated), the scene built
//   train_steps_per_s_window   training steps a second while frames are drawn
//   train_steps_per_s_headless the same training with no window (run_settle)
//   train_throughput_ratio     window / headless (goal >= 0.8)
// Goals (issue 9): p99 <= 16 ms, median <= 4 ms, ratio >= 0.8.
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
#define HEADLESS_STEPS 20000

static const char lesson_text[] =
    "gradlab-lesson: 2\n"
    "title: Frame benchmark: a 20-step RNN training live\n"
    "param: w = 0.5 range -1.5 1.5\n"
    "param: lr = 0.01 range 0.0001 1 log\n"
    "param: act = tanh choice tanh relu\n"
    "source: fit train lr {lr} params w u b limit 100000 patience 0\n"
    "panel: net graph\n"
    "panel: loss plot fit.loss log-y title \"loss\"\n"
    "panel: grads bars program.grad.w program.grad.u program.grad.b title \"gradients\"\n"
    "panel: knobs controls w lr act\n"
    "layout: net 2, loss 1, grads 1 / knobs\n"
    "program:\n"
    "    x = [0.5, -0.1, 0.3, 0.8, -0.5, 0.2, 0.1, -0.3, 0.4, 0.9, 0.5, -0.1, 0.3, 0.8, -0.5, 0.2, 0.1, -0.3, "
    "0.4, 0.9]\n"
    "    w = 0.5\n"
    "    u = 0.8\n"
    "    b = 0.0\n"
    "    h[0] = 0\n"
    "    L = 0\n"
    "    for t in 1..20\n"
    "        h[t] = tanh(w * h[t-1] + u * x[t-1] + b)\n"
    "        L = L + (h[t] - 0.3) ^ 2\n"
    "    end\n"
    "    loss = L / 20\n"
    "step: done\n"
    "    Training: the loss is {fit.loss:.5f} after {fit.steps} steps.\n";

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
        fprintf(stderr, "bench_frame_training: %s\n", err);
        return 1;
    }
    run_extend(r, 0, HEADLESS_STEPS);
    double t0 = clock_s(CLOCK_MONOTONIC);
    run_settle(r);
    double headless = run_source_steps(r, 0) / (clock_s(CLOCK_MONOTONIC) - t0);
    run_destroy(r);

    // The window: frames as fast as they come while the worker trains.
    Offscreen *o = offscreen_create(1920, 1080, fonts, err, sizeof(err));
    Scene *s = scene_create();
    Graph *g = graph_create(PROGRAM_MAX_NODES + 1);
    r = run_create(l, true, err, sizeof(err));
    if (!o || !s || !g || !r) {
        fprintf(stderr, "bench_frame_training: %s\n", err);
        return 1;
    }
    scene_renderer_attach(offscreen_scene_renderer(o), s);
    LessonGraphState gs = {.layout = graph_layout_create()};
    run_extend(r, 0, 100000);
    int cap = 100000, n = 0;
    double *ms = malloc((size_t)cap * sizeof(double)), *ms_poll = malloc((size_t)cap * sizeof(double));
    double *ms_build = malloc((size_t)cap * sizeof(double));
    int steps0 = run_source_steps(r, 0);
    double start = clock_s(CLOCK_MONOTONIC), end = start;
    while (n < cap && end - start < SECONDS) {
        double f0 = clock_s(CLOCK_MONOTONIC);
        run_poll(r);
        double f1 = clock_s(CLOCK_MONOTONIC);
        LessonViewParams vp = {.lesson = l, .theme = theme_get(THEME_DARK), .scale = 1, .graph = &gs, .run = r};
        lesson_view_build(s, g, &vp, 1920, 1080);
        double f2 = clock_s(CLOCK_MONOTONIC);
        offscreen_draw(o, s);
        end = clock_s(CLOCK_MONOTONIC);
        ms_poll[n] = (f1 - f0) * 1e3;
        ms_build[n] = (f2 - f1) * 1e3;
        ms[n++] = (end - f0) * 1e3;
        // A window draws at most 60 frames a second: sleep out the rest of the frame.
        double rest = 1.0 / 60 - (end - f0);
        if (rest > 0) {
            struct timespec ts = {0, (long)(rest * 1e9)};
            nanosleep(&ts, NULL);
        }
        end = clock_s(CLOCK_MONOTONIC);
    }
    double window = (run_source_steps(r, 0) - steps0) / (end - start);
    if (getenv("GRADLAB_BENCH_PNG"))
        offscreen_save_png(o, s, getenv("GRADLAB_BENCH_PNG"), err, sizeof(err));
    qsort(ms, (size_t)n, sizeof(double), cmp_double);
    qsort(ms_poll, (size_t)n, sizeof(double), cmp_double);
    qsort(ms_build, (size_t)n, sizeof(double), cmp_double);
    printf("frame_training_median %.2f ms\n", ms[n / 2]);
    printf("frame_training_p99 %.2f ms\n", ms[(size_t)(0.99 * (n - 1))]);
    printf("frame_training_frames %d frames\n", n);
    printf("frame_training_poll_median %.2f ms\n", ms_poll[n / 2]);
    printf("frame_training_build_median %.2f ms\n", ms_build[n / 2]);
    printf("train_steps_per_s_window %.0f steps/s\n", window);
    printf("train_steps_per_s_headless %.0f steps/s\n", headless);
    printf("train_throughput_ratio %.2f x\n", window / headless);
    printf("# goals: p99 <= 16 ms, median <= 4 ms, ratio >= 0.8 (2 cores: the worker and the frames share them)\n");
    free(ms);
    free(ms_poll);
    free(ms_build);
    run_destroy(r);
    graph_layout_destroy(gs.layout);
    graph_destroy(g);
    scene_destroy(s);
    offscreen_destroy(o);
    lesson_destroy(l);
    return 0;
}
