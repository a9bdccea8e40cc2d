// cmd_lessons.c: `gradlab check` and `gradlab render`, the headless lesson
// commands CI runs. Neither opens a window; render uses SDL's software
// renderer into a surface.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/catalog.h"
#include "app/platform.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "engine/fileio.h"
#include "engine/numfmt.h"
#include "lessons/lesson.h"
#include "lessons/run_cache.h"
#include "lessons/slider_ends.h"
#include "sdl/sdl_scene.h"
#include "views/lesson_view.h"
#include "views/textflow.h"

// Load one lesson, printing its errors. NULL when it does not load.
static Lesson *load_or_report(const char *path)
{
    Diag d;
    Lesson *l = lesson_load(path, &d);
    if (!l)
        fputs(diag_text(&d), stderr);
    diag_free(&d);
    return l;
}

static const char check_usage[] =
    "usage: gradlab check [LESSON...]\n"
    "Run every check of the given lessons (default: all bundled lessons) with no\n"
    "display, and build every step's screen. Prints TAP; exits 1 if a check fails,\n"
    "2 if a lesson does not load.\n";


// A source that cannot be made at a slider's end: a TAP comment with where.
typedef struct EndsCtx {
    const char *path;
} EndsCtx;

static void report_end(void *ctx, const LessonSource *src, const char *what, const char *why)
{
    const EndsCtx *c = ctx;
    printf("# %s:%d: error: with %s, source '%s' cannot be made: %s\n", c->path, src->line, what, src->name, why);
}

int cmd_check(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s", check_usage);
            return 0;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "gradlab: error: check: unknown option '%s'\n%s", argv[i], check_usage);
            return 2;
        }
    }
    Catalog cat;
    int rc = catalog_resolve(&cat, argc - 1, argv + 1);
    if (rc)
        return rc;
    Graph *g = graph_create(PROGRAM_MAX_NODES + 1);
    Scene *s = scene_create();
    if (!g || !s) {
        fprintf(stderr, "gradlab: error: out of memory\n");
        graph_destroy(g);
        scene_destroy(s);
        catalog_free(&cat);
        return 2;
    }
    int n = 0, failed = 0, broken = 0;
    printf("TAP version 13\n");
    for (size_t li = 0; li < cat.n; li++) {
        char stem[256];
        catalog_stem(cat.paths[li], stem, sizeof(stem));
        Lesson *l = load_or_report(cat.paths[li]);
        if (!l) {
            printf("not ok %d - %s: the lesson file does not load (errors above)\n", ++n, stem);
            broken++;
            continue;
        }
        printf("# %s: %s\n", stem, l->title);
        // Every step must evaluate and build its screen, with its sources run
        // to the counts the step asks for, as in the window. The step runs and
        // the checks share what they train (NULL cache when out of memory: no sharing).
        char why[256];
        RunCache *cache = run_cache_create();
        Run *run = run_create_shared(l, cache, why, sizeof(why));
        bool steps_ok = run != NULL;
        bool told[LESSON_MAX_SOURCES + 1] = {false}; // a failed source is reported once
        if (!run)
            printf("# %s\n", why);
        for (size_t st = 0; st < l->nsteps && steps_ok; st++) {
            run_goto(run, st);
            run_settle(run);
            LessonViewParams vp = {.lesson = l, .theme = theme_get(THEME_DARK), .scale = 1, .run = run};
            int pages = lesson_view_build(s, g, &vp, 1280, 720);
            steps_ok = !s->failed && s->n > 0;
            // A narrative that does not fit at 1280x720 shrinks, then pages: say so.
            char raw[4096], text[4096];
            lesson_step_text(l, run_graph(run), st, raw, sizeof(raw));
            run_format(run, raw, text, sizeof(text));
            NarrativeBox nb = lesson_view_narrative_box(1280, 720, 1);
            if (!textflow_fits(NULL, nb.w, nb.h, nb.size, text))
                printf("# warning: %s: step %zu's text does not fit at 1280x720: it is drawn %s\n",
                       cat.paths[li], st + 1,
                       pages > 1 ? "at the smallest size, on several pages (the next-step key pages)"
                                 : "smaller; shorten it or split the step");
            for (int k = 0; k < run_source_count(run) && k <= LESSON_MAX_SOURCES; k++) {
                bool broke = run_source_failed(run, k);
                if (!broke && !(run_source_status(run, k) && run_source_steps(run, k) == 0 &&
                                 run_source_target(run, k) > 0))
                    continue;
                if (!told[k])
                    printf("# step %zu: source '%s' %s: %s\n", st + 1, run_source_name(run, k),
                           broke ? "failed" : "did not start", run_source_status(run, k));
                told[k] = true;
                steps_ok = false;
            }
        }
        run_destroy(run);
        printf("%s %d - %s: all %zu steps build their screens\n", steps_ok ? "ok" : "not ok", ++n, stem,
               l->nsteps);
        failed += !steps_ok;
        // A slider dragged to its end must not leave a source that cannot be made.
        EndsCtx ec = {.path = cat.paths[li]};
        int made = 0, bad = lesson_slider_ends(l, report_end, &ec, &made);
        if (made) {
            printf("%s %d - %s: its sources can be made at the ends of its sliders (%d made)\n", bad ? "not ok" : "ok",
                   ++n, stem, made);
            failed += bad > 0;
        }
        lesson_eval_full(l, g); // checks see the whole backward pass, whatever the last step shows
        for (size_t ci = 0; ci < l->nchecks; ci++) {
            double got;
            bool ok = lesson_check_run(l, g, ci, &got);
            char desc[160], num[32];
            printf("%s %d - %s: %s (got %s)\n", ok ? "ok" : "not ok", ++n, stem,
                   lesson_check_describe(l, ci, desc, sizeof(desc)), numfmt_exact(num, sizeof(num), got));
            if (!ok)
                printf("  ---\n  file: %s\n  line: %d\n  ...\n", cat.paths[li], l->checks[ci].line);
            failed += !ok;
        }
        for (int ci = 0; ci < l->f2.nchecks; ci++) {
            const LessonCheck2 *c = &l->f2.checks[ci];
            double got;
            bool ok = run_check2_shared(l, ci, cache, &got, why, sizeof(why));
            char num[32];
            numfmt_exact(num, sizeof(num), got);
            if (c->gradcheck)
                printf("%s %d - %s: gradcheck tol %g (largest disagreement %s%s%s)\n", ok ? "ok" : "not ok", ++n,
                       stem, c->tol, num, why[0] ? ", " : "", why);
            else
                printf("%s %d - %s: after %s %d: %s %s %g (got %s)\n", ok ? "ok" : "not ok", ++n, stem,
                       c->source, c->steps, c->figure, c->op, c->bound, num);
            if (!ok)
                printf("  ---\n  file: %s\n  line: %d\n%s%s%s  ...\n", cat.paths[li], c->line,
                       why[0] ? "  why: " : "", why, why[0] ? "\n" : "");
            failed += !ok;
        }
        RunCacheStats st = run_cache_stats(cache);
        if (st.created || st.served || st.resumed)
            printf("# %s: sources made %d, taken up again %d, results reused %d; %ld steps trained\n", stem,
                   st.created, st.resumed, st.served, st.steps);
        run_cache_destroy(cache);
        lesson_destroy(l);
    }
    printf("1..%d\n", n);
    graph_destroy(g);
    scene_destroy(s);
    catalog_free(&cat);
    return broken ? 2 : failed ? 1 : 0;
}

static const char render_usage[] =
    "usage: gradlab render [LESSON...] --out DIR [--size WxH] [--theme dark|light|contrast]\n"
    "                      [--scale S]\n"
    "Write one PNG per step of each lesson (default: all bundled lessons) into DIR,\n"
    "named LESSON-stepNN.png (LESSON-2-stepNN.png and so on when two lessons share\n"
    "a file name; a narrative that pages adds LESSON-stepNN-pageK.png). DIR itself\n"
    "is created if missing, once every lesson has loaded.\n"
    "A file already there is replaced; a symlink is replaced, never followed.\n"
    "Needs no display: SDL's software renderer draws into memory. Default size\n"
    "1280x720.\n";

// Case-insensitive ASCII equality, as file names compare on macOS and Windows.
static bool same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

// The output name of each lesson: its file name without ".lesson", made
// unique by "-2", "-3", ... so that two lessons never write the same PNG.
typedef char OutName[300];

static void unique_names(const Catalog *cat, OutName *names)
{
    for (size_t i = 0; i < cat->n; i++) {
        char stem[256];
        catalog_stem(cat->paths[i], stem, sizeof(stem));
        snprintf(names[i], sizeof(names[i]), "%s", stem);
        for (unsigned k = 2;; k++) {
            size_t j = 0;
            while (j < i && !same_name(names[j], names[i]))
                j++;
            if (j == i)
                break;
            snprintf(names[i], sizeof(names[i]), "%s-%u", stem, k);
        }
        if (strcmp(names[i], stem) != 0)
            fprintf(stderr,
                    "gradlab: note: another lesson is also named '%s'; '%s' is written as %s-stepNN.png\n",
                    stem, cat->paths[i], names[i]);
    }
}

int cmd_render(int argc, char **argv)
{
    const char *out = NULL;
    int w = 1280, h = 720, theme = THEME_DARK;
    double scale = 1;
    char **lessons = calloc((size_t)argc + 1, sizeof(char *));
    int nlessons = 0;
    if (!lessons)
        return 2;
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s", render_usage);
            free(lessons);
            return 0;
        } else if (strcmp(a, "--out") == 0 || strcmp(a, "-o") == 0) {
            if (!(out = arg_value(argc, argv, &i)))
                rc = 2;
        } else if (strcmp(a, "--size") == 0) {
            if (!(v = arg_value(argc, argv, &i)) || !arg_size("--size", v, 64, 7680, &w, &h))
                rc = 2;
        } else if (strcmp(a, "--theme") == 0) {
            if (!(v = arg_value(argc, argv, &i)) ||
                !arg_choice("--theme", v, theme_names, THEME_COUNT, &theme))
                rc = 2;
        } else if (strcmp(a, "--scale") == 0) {
            if (!(v = arg_value(argc, argv, &i)) || !arg_double("--scale", v, 0.25, 4, &scale))
                rc = 2;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "gradlab: error: render: unknown option '%s'\n%s", a, render_usage);
            rc = 2;
        } else {
            lessons[nlessons++] = argv[i];
        }
    }
    if (rc == 0 && !out) {
        fprintf(stderr, "gradlab: error: render needs --out DIR\n%s", render_usage);
        rc = 2;
    }
    if (rc) {
        free(lessons);
        return rc;
    }
    // Nothing is created until everything has been checked: the folder
    // (as far as can be seen without creating it), every lesson, the fonts.
    char why[4600];
    if (!file_check_dir(out, false, why, sizeof(why))) {
        fprintf(stderr, "gradlab: error: %s\n", why);
        free(lessons);
        return 2;
    }
    Catalog cat;
    rc = catalog_resolve(&cat, nlessons, lessons);
    free(lessons);
    if (rc)
        return rc;
    for (size_t li = 0; li < cat.n; li++) {   // report every lesson that does not load
        Lesson *l = load_or_report(cat.paths[li]);
        if (!l)
            rc = 2;
        lesson_destroy(l);
    }
    OutName *names = rc ? NULL : malloc((cat.n ? cat.n : 1) * sizeof(OutName));
    if (rc || !names) {
        if (!rc)
            fprintf(stderr, "gradlab: error: out of memory\n");
        catalog_free(&cat);
        return 2;
    }
    unique_names(&cat, names);
    char data[4096], fonts[4200], err[4800];
    if (!platform_data_dir(data, sizeof(data))) {
        fprintf(stderr, "gradlab: error: cannot find gradlab's data folder; looked in %s\n", data);
        free(names);
        catalog_free(&cat);
        return 2;
    }
    snprintf(fonts, sizeof(fonts), "%s/assets/fonts", data);
    Offscreen *off = offscreen_create(w, h, fonts, err, sizeof(err));
    Graph *g = graph_create(PROGRAM_MAX_NODES + 1);
    Scene *s = scene_create();
    if (!off || !g || !s) {
        fprintf(stderr, "gradlab: error: %s\n", off ? "out of memory" : err);
        rc = 2;
    } else if (!file_make_dir(out, false, why, sizeof(why))) {
        fprintf(stderr, "gradlab: error: %s\n", why);
        rc = 2;
    }
    size_t written = 0;
    for (size_t li = 0; rc == 0 && li < cat.n; li++) {
        Lesson *l = load_or_report(cat.paths[li]); // it loaded above; it may have changed since
        if (!l) {
            rc = 2;
            break;
        }
        scene_renderer_attach(offscreen_scene_renderer(off), s);
        RunCache *cache = run_cache_create(); // a step back to earlier values trains nothing again
        Run *run = run_create_shared(l, cache, err, sizeof(err));
        if (!run) {
            fprintf(stderr, "gradlab: error: %s: %s\n", cat.paths[li], err);
            run_cache_destroy(cache);
            lesson_destroy(l);
            rc = 2;
            break;
        }
        for (size_t st = 0; st < l->nsteps; st++) {
            run_goto(run, st); // the state the step declares: params set, sources run to their counts
            run_settle(run);
            LessonViewParams vp = {.lesson = l, .theme = theme_get((ThemeId)theme), .scale = (float)scale,
                                   .run = run};
            int pages = lesson_view_build(s, g, &vp, (float)w, (float)h);
            // A narrative that pages gets a PNG per page: NAME-stepNN.png, then -pageK.png.
            for (int pg = 0; pg < pages && rc == 0; pg++) {
                char path[4600];
                if (pg > 0) {
                    vp.page = pg;
                    lesson_view_build(s, g, &vp, (float)w, (float)h);
                    snprintf(path, sizeof(path), "%s/%s-step%02zu-page%d.png", out, names[li], st + 1, pg + 1);
                } else {
                    snprintf(path, sizeof(path), "%s/%s-step%02zu.png", out, names[li], st + 1);
                }
                if (!offscreen_save_png(off, s, path, err, sizeof(err))) {
                    fprintf(stderr, "gradlab: error: %s\n", err);
                    rc = 2;
                    break;
                }
                written++;
            }
            if (rc)
                break;
        }
        run_destroy(run);
        run_cache_destroy(cache);
        lesson_destroy(l);
    }
    if (rc == 0)
        fprintf(stderr, "gradlab: wrote %zu PNG%s to %s\n", written, written == 1 ? "" : "s", out);
    else if (written)
        fprintf(stderr, "gradlab: wrote %zu PNG%s to %s before the error\n", written,
                written == 1 ? "" : "s", out);
    scene_destroy(s);
    graph_destroy(g);
    offscreen_destroy(off);
    free(names);
    catalog_free(&cat);
    return rc;
}
