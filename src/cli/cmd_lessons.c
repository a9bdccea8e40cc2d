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
#include "engine/numfmt.h"
#include "lessons/lesson.h"
#include "sdl/sdl_scene.h"
#include "views/lesson_view.h"

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
        // Every step must evaluate and build its screen.
        bool steps_ok = true;
        for (size_t st = 0; st < l->nsteps && steps_ok; st++) {
            LessonViewParams vp = {.lesson = l, .step = st, .theme = theme_get(THEME_DARK), .scale = 1};
            lesson_view_build(s, g, &vp, 1280, 720);
            steps_ok = !s->failed && s->n > 0;
        }
        printf("%s %d - %s: all %zu steps build their screens\n", steps_ok ? "ok" : "not ok", ++n, stem,
               l->nsteps);
        failed += !steps_ok;
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
    "named LESSON-stepNN.png. Needs no display: SDL's software renderer draws into\n"
    "memory. Default size 1280x720.\n";

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
    char why[256];
    if (!platform_mkdir(out, why, sizeof(why))) {
        fprintf(stderr, "gradlab: error: cannot create '%s': %s\n", out, why);
        free(lessons);
        return 2;
    }
    Catalog cat;
    rc = catalog_resolve(&cat, nlessons, lessons);
    free(lessons);
    if (rc)
        return rc;
    char data[4096], fonts[4200], err[4400];
    if (!platform_data_dir(data, sizeof(data))) {
        fprintf(stderr, "gradlab: error: cannot find gradlab's data folder; looked in %s\n", data);
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
    }
    size_t written = 0;
    for (size_t li = 0; rc == 0 && li < cat.n; li++) {
        Lesson *l = load_or_report(cat.paths[li]);
        if (!l) {
            rc = 2;
            break;
        }
        char stem[256];
        catalog_stem(cat.paths[li], stem, sizeof(stem));
        scene_renderer_attach(offscreen_scene_renderer(off), s);
        for (size_t st = 0; st < l->nsteps; st++) {
            LessonViewParams vp = {.lesson = l, .step = st, .theme = theme_get((ThemeId)theme),
                                   .scale = (float)scale};
            lesson_view_build(s, g, &vp, (float)w, (float)h);
            char path[4600];
            snprintf(path, sizeof(path), "%s/%s-step%02zu.png", out, stem, st + 1);
            if (!offscreen_save_png(off, s, path, err, sizeof(err))) {
                fprintf(stderr, "gradlab: error: %s\n", err);
                rc = 2;
                break;
            }
            written++;
        }
        lesson_destroy(l);
    }
    if (rc == 0)
        fprintf(stderr, "gradlab: wrote %zu PNG%s to %s\n", written, written == 1 ? "" : "s", out);
    scene_destroy(s);
    graph_destroy(g);
    offscreen_destroy(off);
    catalog_free(&cat);
    return rc;
}
