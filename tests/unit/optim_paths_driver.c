// optim_paths_driver.c: a test helper that runs an `optimizers` source of a
// lesson headless and prints what it published as JSON, for
// test_optim_paths_torch.py to replay with torch.optim.
//
// usage: optim_paths_driver LESSON SOURCE STEPS [PARAM=VALUE ...]
//
// Each PARAM=VALUE sets a parameter first (a choice takes its word). The
// JSON holds the surface expression the source used ("surface", as written
// in the lesson, with any "on ..." map), its options lr and momentum as
// the source read them, and per optimizer its path, losses and status.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/run.h"

static void print_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

static void print_number(double v)
{
    if (isfinite(v))
        printf("%.17g", v);
    else
        printf("null");
}

static void print_array(const Run *r, const char *name)
{
    const double *data;
    int count;
    if (!run_lookup(r, name, &data, &count)) {
        printf("null");
        return;
    }
    putchar('[');
    for (int i = 0; i < count; i++) {
        if (i)
            putchar(',');
        print_number(data[i]);
    }
    putchar(']');
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: optim_paths_driver LESSON SOURCE STEPS [PARAM=VALUE ...]\n");
        return 2;
    }
    Diag d;
    Lesson *l = lesson_load(argv[1], &d);
    if (!l) {
        fprintf(stderr, "%s", diag_text(&d));
        diag_free(&d);
        return 2;
    }
    diag_free(&d);
    char err[256];
    Run *r = run_create(l, false, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "optim_paths_driver: %s\n", err);
        lesson_destroy(l);
        return 2;
    }
    for (int a = 4; a < argc; a++) {
        char name[64];
        const char *eq = strchr(argv[a], '=');
        int k = -1;
        if (eq && (size_t)(eq - argv[a]) < sizeof(name)) {
            memcpy(name, argv[a], (size_t)(eq - argv[a]));
            name[eq - argv[a]] = '\0';
            k = run_param_find(r, name);
        }
        if (k < 0) {
            fprintf(stderr, "optim_paths_driver: '%s' sets no parameter of the lesson\n", argv[a]);
            return 2;
        }
        const LessonParam *p = &l->f2.params[k];
        double v = strtod(eq + 1, NULL);
        for (int c = 0; p->kind == PARAM_CHOICE && c < p->nchoices; c++)
            if (strcmp(p->choices[c], eq + 1) == 0)
                v = c;
        run_set_param(r, k, v);
    }
    int s = -1;
    for (int i = 0; i < run_source_count(r) && i < l->f2.nsources; i++)
        if (strcmp(l->f2.sources[i].name, argv[2]) == 0)
            s = i;
    if (s < 0) {
        fprintf(stderr, "optim_paths_driver: no source '%s'\n", argv[2]);
        return 2;
    }
    run_extend(r, s, atoi(argv[3]) - run_source_target(r, s)); // the target becomes STEPS
    run_settle(r);
    const LessonSource *decl = &l->f2.sources[s];
    // The surface it used: `surface`, or surfaceN with N from `pick`.
    char key[16] = "surface";
    if (source_option(decl, "pick") || !source_option(decl, "surface")) {
        double pick = 0;
        double values[LESSON_MAX_PARAMS2];
        for (int i = 0; i < l->f2.nparams; i++)
            values[i] = run_param(r, i);
        SourceParams sp = {.lesson = l, .values = values};
        if (!source_option_number(&sp, decl, "pick", 0, 0, 7, &pick, err, sizeof(err))) {
            fprintf(stderr, "optim_paths_driver: %s\n", err);
            return 2;
        }
        snprintf(key, sizeof(key), "surface%d", (int)pick);
    }
    const char *status = run_source_status(r, s);
    char prefix[96];
    printf("{\"surface\": ");
    print_string(source_option(decl, key) ? source_option(decl, key) : "");
    printf(", \"status\": ");
    print_string(status ? status : "");
    static const char *const names[] = {"sgd", "momentum", "nesterov", "rmsprop", "adam"};
    static const char *const figures[] = {"lr", "steps", "range"};
    for (int i = 0; i < 3; i++) {
        snprintf(prefix, sizeof(prefix), "%s.%s", decl->name, figures[i]);
        printf(", \"%s\": ", figures[i]);
        print_array(r, prefix);
    }
    double mu = 0;
    {
        double values[LESSON_MAX_PARAMS2];
        for (int i = 0; i < l->f2.nparams; i++)
            values[i] = run_param(r, i);
        SourceParams sp = {.lesson = l, .values = values};
        source_option_number(&sp, decl, "momentum", 0.9, 0, 1, &mu, err, sizeof(err));
    }
    printf(", \"momentum\": ");
    print_number(mu);
    printf(", \"optimizers\": {");
    for (int k = 0; k < 5; k++) {
        printf("%s\"%s\": {\"path\": ", k ? ", " : "", names[k]);
        snprintf(prefix, sizeof(prefix), "%s.%s", decl->name, names[k]);
        print_array(r, prefix);
        printf(", \"loss\": ");
        snprintf(prefix, sizeof(prefix), "%s.loss.%s", decl->name, names[k]);
        print_array(r, prefix);
        printf(", \"status\": ");
        snprintf(prefix, sizeof(prefix), "%s.status.%s", decl->name, names[k]);
        print_array(r, prefix);
        putchar('}');
    }
    printf("}}\n");
    run_destroy(r);
    lesson_destroy(l);
    return 0;
}
