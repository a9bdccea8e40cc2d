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

#include "frame_bench.h"

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

int main(void)
{
    char err[512];
    Lesson *l = frame_bench_lesson(lesson_text, sizeof(lesson_text) - 1);
    if (!l)
        return 1;

    // Headless: the same source, the same steps, no frames.
    double headless = frame_bench_headless(l, HEADLESS_STEPS, NULL, err, sizeof(err));
    if (isnan(headless)) {
        fprintf(stderr, "bench_frame_training: %s\n", err);
        return 1;
    }

    // The window: frames paced at 60 a second while the worker trains.
    FrameBench fb;
    Run *r = NULL;
    if (!frame_bench_init(&fb, 100000, err, sizeof(err)) || !(r = run_create(l, true, err, sizeof(err)))) {
        fprintf(stderr, "bench_frame_training: %s\n", err);
        return 1;
    }
    run_extend(r, 0, 100000);
    int steps0 = run_source_steps(r, 0);
    double start = clock_s(CLOCK_MONOTONIC), end = start, f0;
    while (fb.n < fb.cap && end - start < SECONDS) {
        frame_bench_frame(&fb, l, r, &f0);
        end = frame_bench_pace(f0);
    }
    double window = (run_source_steps(r, 0) - steps0) / (end - start);
    if (getenv("GRADLAB_BENCH_PNG"))
        offscreen_save_png(fb.o, fb.s, getenv("GRADLAB_BENCH_PNG"), err, sizeof(err));
    frame_bench_sort(&fb);
    printf("frame_training_median %.2f ms\n", frame_bench_median(fb.ms, fb.n));
    printf("frame_training_p99 %.2f ms\n", frame_bench_p99(fb.ms, fb.n));
    printf("frame_training_frames %d frames\n", fb.n);
    printf("frame_training_poll_median %.2f ms\n", frame_bench_median(fb.ms_poll, fb.n));
    printf("frame_training_build_median %.2f ms\n", frame_bench_median(fb.ms_build, fb.n));
    printf("train_steps_per_s_window %.0f steps/s\n", window);
    printf("train_steps_per_s_headless %.0f steps/s\n", headless);
    printf("train_throughput_ratio %.2f x\n", window / headless);
    printf("# goals: p99 <= 16 ms, median <= 4 ms, ratio >= 0.8 (2 cores: the worker and the frames share them)\n");
    run_destroy(r);
    frame_bench_free(&fb);
    lesson_destroy(l);
    return 0;
}
