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

#include "frame_bench.h"

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

int main(void)
{
    char err[512];
    Lesson *l = frame_bench_lesson(lesson_text, sizeof(lesson_text) - 1);
    if (!l)
        return 1;

    // Headless: the same source, the same steps, no frames.
    double headless_cpu;
    double headless = frame_bench_headless(l, HEADLESS_STEPS, &headless_cpu, err, sizeof(err));
    if (isnan(headless)) {
        fprintf(stderr, "bench_playground: %s\n", err);
        return 1;
    }

    // The window: frames paced at 60 a second while the worker trains.
    FrameBench fb;
    Run *r = NULL;
    if (!frame_bench_init(&fb, 100000, err, sizeof(err)) || !(r = run_create(l, true, err, sizeof(err)))) {
        fprintf(stderr, "bench_playground: %s\n", err);
        return 1;
    }
    run_extend(r, 0, 20000);
    int steps0 = run_source_steps(r, 0);
    double start = clock_s(CLOCK_MONOTONIC), end = start, f0;
    while (fb.n < fb.cap && end - start < SECONDS && run_source_steps(r, 0) < 20000) {
        frame_bench_frame(&fb, l, r, &f0);
        end = frame_bench_pace(f0);
    }
    run_poll(r);
    double window = (run_source_steps(r, 0) - steps0) / (end - start);
    if (getenv("GRADLAB_BENCH_PNG"))
        offscreen_save_png(fb.o, fb.s, getenv("GRADLAB_BENCH_PNG"), err, sizeof(err));
    frame_bench_sort(&fb);
    printf("playground_steps_per_s_window %.0f steps/s\n", window);
    printf("playground_steps_per_s_headless %.0f steps/s\n", headless);
    printf("playground_steps_per_cpu_s_headless %.0f steps/s\n", headless_cpu);
    printf("playground_frame_median %.2f ms\n", frame_bench_median(fb.ms, fb.n));
    printf("playground_frame_p99 %.2f ms\n", frame_bench_p99(fb.ms, fb.n));
    printf("playground_build_median %.2f ms\n", frame_bench_median(fb.ms_build, fb.n));
    printf("playground_frames %d frames\n", fb.n);
    printf("# goal: >= 500 steps/s for the 2-16-16-1 MLP on 200 points while drawing\n");
    run_destroy(r);
    frame_bench_free(&fb);
    lesson_destroy(l);
    return 0;
}
