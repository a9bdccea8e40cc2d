// frame_bench.h: the frame-timing harness the lesson benchmarks share
// (bench_frame_training.c, bench_playground.c, bench_lesson_race.c): an
// offscreen 1920x1080 window, frames of a lesson's view built and drawn as
// the app does (poll the run, build the scene, replay it), each timed, and
// paced at 60 a second. Header-only (static functions), for the benchmark
// programs in this folder:
//
//     double headless = frame_bench_headless(l, steps, NULL, err, sizeof err);
//     FrameBench fb;
//     if (!frame_bench_init(&fb, cap, err, sizeof err)) ... err says why
//     double f0, end = frame_bench_frame(&fb, l, r, &f0);   // records frame fb.n++
//     end = frame_bench_pace(f0);
//     frame_bench_sort(&fb);  printf("... %.2f ms\n", frame_bench_median(fb.ms, fb.n));
//     frame_bench_free(&fb);
#ifndef GRADLAB_FRAME_BENCH_H
#define GRADLAB_FRAME_BENCH_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../bench_util.h"
#include "lessons/run.h"
#include "sdl/sdl_scene.h"
#include "views/lesson_view.h"

#define FRAME_BENCH_W 1920
#define FRAME_BENCH_H 1080

typedef struct FrameBench {
    Offscreen *o;            // the window, fonts from $GRADLAB_DATA_DIR/assets/fonts
    Scene *s;
    Graph *g;
    LessonGraphState gs;
    int cap, n;              // frames room was made for, frames recorded
    double *ms;              // (cap) ms per frame: poll + build + draw
    double *ms_poll, *ms_build, *ms_draw;   // (cap) its parts
    double *ms_cpu;          // (cap) this thread's CPU time in it
} FrameBench;

// Free what frame_bench_init made. Safe on a zeroed or half-made fb.
static inline void frame_bench_free(FrameBench *fb)
{
    free(fb->ms);
    free(fb->ms_poll);
    free(fb->ms_build);
    free(fb->ms_draw);
    free(fb->ms_cpu);
    graph_layout_destroy(fb->gs.layout);
    graph_destroy(fb->g);
    scene_destroy(fb->s);
    offscreen_destroy(fb->o);
    *fb = (FrameBench){0};
}

// The window, its scene and graph, and room for cap frames' times. False
// with a message in err (everything freed) when any of it fails.
static inline bool frame_bench_init(FrameBench *fb, int cap, char *err, size_t errn)
{
    char fonts[4096];
    const char *data = getenv("GRADLAB_DATA_DIR");
    snprintf(fonts, sizeof(fonts), "%s/assets/fonts", data ? data : ".");
    *fb = (FrameBench){.cap = cap};
    fb->o = offscreen_create(FRAME_BENCH_W, FRAME_BENCH_H, fonts, err, errn);
    fb->s = scene_create();
    fb->g = graph_create(PROGRAM_MAX_NODES + 1);
    fb->gs.layout = graph_layout_create();
    fb->ms = malloc((size_t)cap * sizeof(double));
    fb->ms_poll = malloc((size_t)cap * sizeof(double));
    fb->ms_build = malloc((size_t)cap * sizeof(double));
    fb->ms_draw = malloc((size_t)cap * sizeof(double));
    fb->ms_cpu = malloc((size_t)cap * sizeof(double));
    if (!fb->o || !fb->s || !fb->g || !fb->gs.layout || !fb->ms || !fb->ms_poll || !fb->ms_build ||
        !fb->ms_draw || !fb->ms_cpu) {
        if (fb->o)
            snprintf(err, errn, "out of memory");
        frame_bench_free(fb);
        return false;
    }
    scene_renderer_attach(offscreen_scene_renderer(fb->o), fb->s);
    return true;
}

// One frame of l's view as the window makes it (fb->n < fb->cap): poll r,
// build the scene, draw it; its times go into frame fb->n, which it counts.
// *f0 gets its start; returns the clock at its end (CLOCK_MONOTONIC, s).
static inline double frame_bench_frame(FrameBench *fb, const Lesson *l, Run *r, double *f0)
{
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    run_poll(r);
    double t1 = clock_s(CLOCK_MONOTONIC);
    LessonViewParams vp = {.lesson = l, .theme = theme_get(THEME_DARK), .scale = 1, .graph = &fb->gs, .run = r};
    lesson_view_build(fb->s, fb->g, &vp, FRAME_BENCH_W, FRAME_BENCH_H);
    double t2 = clock_s(CLOCK_MONOTONIC);
    offscreen_draw(fb->o, fb->s);
    double end = clock_s(CLOCK_MONOTONIC);
    int n = fb->n++;
    fb->ms_cpu[n] = (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e3;
    fb->ms_poll[n] = (t1 - t0) * 1e3;
    fb->ms_build[n] = (t2 - t1) * 1e3;
    fb->ms_draw[n] = (end - t2) * 1e3;
    fb->ms[n] = (end - t0) * 1e3;
    *f0 = t0;
    return end;
}

// A window draws at most 60 frames a second: sleep out the rest of the
// frame that began at f0. Returns the clock after (CLOCK_MONOTONIC, s).
static inline double frame_bench_pace(double f0)
{
    double rest = 1.0 / 60 - (clock_s(CLOCK_MONOTONIC) - f0);
    if (rest > 0) {
        struct timespec ts = {0, (long)(rest * 1e9)};
        nanosleep(&ts, NULL);
    }
    return clock_s(CLOCK_MONOTONIC);
}

// Sort each of fb's series of frame times, ascending (for the quantiles).
static inline void frame_bench_sort(FrameBench *fb)
{
    double *series[] = {fb->ms, fb->ms_poll, fb->ms_build, fb->ms_draw, fb->ms_cpu};
    for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++)
        qsort(series[i], (size_t)fb->n, sizeof(double), cmp_double);
}

// The median and the 99th percentile of a sorted series of n; NaN for n = 0.
static inline double frame_bench_median(const double *sorted, int n)
{
    return n ? sorted[n / 2] : NAN;
}

static inline double frame_bench_p99(const double *sorted, int n)
{
    return n ? sorted[(size_t)(0.99 * (n - 1))] : NAN;
}

// Source 0 of l trained `steps` steps on a headless run (run_settle), no
// frames: its steps a second; *per_cpu_s (may be NULL) gets them per second
// of this thread's CPU time. NaN with a message in err when the run cannot
// be made.
static inline double frame_bench_headless(Lesson *l, int steps, double *per_cpu_s, char *err, size_t errn)
{
    Run *r = run_create(l, false, err, errn);
    if (!r)
        return NAN;
    run_extend(r, 0, steps);
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    run_settle(r);
    double per_s = run_source_steps(r, 0) / (clock_s(CLOCK_MONOTONIC) - t0);
    if (per_cpu_s)
        *per_cpu_s = run_source_steps(r, 0) / (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0);
    run_destroy(r);
    return per_s;
}

// Parse a lesson held in text (named bench.lesson in messages, printed on
// stderr). NULL when it does not parse.
static inline Lesson *frame_bench_lesson(const char *text, size_t len)
{
    Diag d;
    diag_init(&d, "bench.lesson", text, len);
    Lesson *l = lesson_parse(text, len, "bench.lesson", &d);
    if (!l)
        fprintf(stderr, "%s", diag_text(&d));
    diag_free(&d);
    return l;
}

#endif
