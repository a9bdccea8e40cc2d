// cmd_program.c: `gradlab grad` and `gradlab dot`, the two commands that run
// an expression program given as a file or with -e.
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "engine/diag.h"
#include "engine/expr.h"
#include "engine/fileio.h"
#include "engine/numfmt.h"

#define PROGRAM_MAX_BYTES (4u << 20)

typedef struct ProgramRun {
    char *text;        // owned unless it came from -e
    bool owns_text;
    const char *file;  // shown in messages
    Program *program;
    Graph *graph;
    Value *out;
} ProgramRun;

static void program_run_free(ProgramRun *r)
{
    if (r->owns_text)
        free(r->text);
    program_destroy(r->program);
    graph_destroy(r->graph);
}

// Parse FILE or -e PROGRAM from argv, build, and run backward. Returns 0 on
// success, else the exit status (errors already printed).
static int program_run(ProgramRun *r, const char *file, const char *inline_text)
{
    memset(r, 0, sizeof(*r));
    size_t len;
    if (inline_text) {
        r->text = (char *)inline_text;
        r->file = "-e";
        len = strlen(inline_text);
    } else {
        char err[512];
        r->text = file_read_all(file, PROGRAM_MAX_BYTES, &len, err, sizeof(err));
        if (!r->text) {
            fprintf(stderr, "gradlab: error: %s\n", err);
            return 2;
        }
        r->owns_text = true;
        r->file = file;
    }
    Diag d;
    diag_init(&d, r->file, r->text, len);
    r->program = program_parse(r->text, len, &d);
    if (!r->program) {
        fputs(diag_text(&d), stderr);
        if (d.nerrors > DIAG_MAX_ERRORS)
            fprintf(stderr, "%s: %d more errors not shown\n", r->file, d.nerrors - DIAG_MAX_ERRORS);
        diag_free(&d);
        return 2;
    }
    diag_free(&d);
    r->graph = graph_create(PROGRAM_MAX_NODES + 1);
    r->out = r->graph ? program_build(r->program, r->graph) : NULL;
    if (!r->out) {
        fprintf(stderr, "gradlab: error: %s: %s\n", r->file,
                r->graph ? graph_error(r->graph) : "out of memory");
        return 2;
    }
    graph_zero_grad(r->graph);
    graph_backward(r->graph, r->out);
    return 0;
}

// Shared argument handling: exactly one of FILE or -e PROGRAM, plus --json
// when json is not NULL.
static int parse_program_args(int argc, char **argv, const char *usage, const char **file,
                              const char **text, bool *json)
{
    *file = *text = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("%s", usage);
            return -1;
        } else if (strcmp(a, "-e") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "gradlab: error: -e needs a program after it, as in -e 'f = 2 * 3'\n");
                return 2;
            }
            *text = argv[++i];
        } else if (json && strcmp(a, "--json") == 0) {
            *json = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "gradlab: error: %s: unknown option '%s'\n%s", argv[0], a, usage);
            return 2;
        } else if (*file) {
            fprintf(stderr, "gradlab: error: %s takes one program file; got '%s' and '%s'\n", argv[0],
                    *file, a);
            return 2;
        } else {
            *file = a;
        }
    }
    if ((*file == NULL) == (*text == NULL)) {
        fprintf(stderr, "gradlab: error: %s needs a program: a FILE or -e 'PROGRAM' (not both)\n%s",
                argv[0], usage);
        return 2;
    }
    return 0;
}

// The start both commands share: parse FILE | -e PROGRAM (and --json when
// json is not NULL), run forward and backward. Returns 0 with r ready (free
// it with program_run_free), or an exit status: -1 after --help, 2 on error.
static int open_program(int argc, char **argv, const char *usage, bool *json, ProgramRun *r)
{
    const char *file, *text;
    int rc = parse_program_args(argc, argv, usage, &file, &text, json);
    if (rc)
        return rc;
    rc = program_run(r, file, text);
    if (rc)
        program_run_free(r);
    return rc;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_number(FILE *f, double x)
{
    char buf[32];
    if (isfinite(x))
        fputs(numfmt_exact(buf, sizeof(buf), x), f);
    else
        fputs("null", f); // JSON has no NaN or Inf
}

static const char grad_usage[] =
    "usage: gradlab grad FILE [--json]\n"
    "       gradlab grad -e 'PROGRAM' [--json]\n"
    "Run the program forward and backward and print every assignment with its\n"
    "value and d(output)/d(value). Statements are separated by newlines or ';'.\n"
    "A name assigned more than once is listed once per assignment, as NAME@1,\n"
    "NAME@2, ... (x = 2; x = x * x lists x@1, the input, and x@2, its square).\n"
    "--json prints {\"output\": NAME, \"values\": [{\"name\", \"value\", \"grad\"}, ...]}\n"
    "with the same names; NaN and infinities are null.\n";

int cmd_grad(int argc, char **argv)
{
    bool json = false;
    ProgramRun r;
    int rc = open_program(argc, argv, grad_usage, &json, &r);
    if (rc)
        return rc < 0 ? 0 : rc;
    const Program *p = r.program;
    size_t n = program_binding_count(p);
    char v[32], g[32], label[128];
    if (json) {
        printf("{\"output\": ");
        json_string(stdout, program_binding_label(p, n - 1, label, sizeof(label)));
        printf(", \"values\": [");
        for (size_t i = 0; i < n; i++) {
            const Value *val = r.graph->nodes[program_binding(p, i).node];
            printf("%s{\"name\": ", i ? ", " : "");
            json_string(stdout, program_binding_label(p, i, label, sizeof(label)));
            printf(", \"value\": ");
            json_number(stdout, val->data);
            printf(", \"grad\": ");
            json_number(stdout, val->grad);
            printf("}");
        }
        printf("]}\n");
    } else {
        int w = 4;
        for (size_t i = 0; i < n; i++)
            if ((int)strlen(program_binding_label(p, i, label, sizeof(label))) > w)
                w = (int)strlen(label);
        printf("%-*s  %-24s  %s\n", w, "name", "value", "grad");
        for (size_t i = 0; i < n; i++) {
            const Value *val = r.graph->nodes[program_binding(p, i).node];
            printf("%-*s  %-24s  %s\n", w, program_binding_label(p, i, label, sizeof(label)),
                   numfmt_exact(v, sizeof(v), val->data), numfmt_exact(g, sizeof(g), val->grad));
        }
    }
    program_run_free(&r);
    return 0;
}

static const char dot_usage[] =
    "usage: gradlab dot FILE | -e 'PROGRAM'\n"
    "Print the program's graph in Graphviz DOT with each node's value and gradient.\n"
    "Render it with: gradlab dot FILE | dot -Tsvg > graph.svg\n";

// DOT-escape a label fragment for a record node.
static void dot_label_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (strchr("{}|<>\"\\ ", *s))
            fputc('\\', f);
        fputc(*s, f);
    }
}

int cmd_dot(int argc, char **argv)
{
    ProgramRun r;
    int rc = open_program(argc, argv, dot_usage, NULL, &r);
    if (rc)
        return rc < 0 ? 0 : rc;
    Graph *g = r.graph;
    char v[32], gr[32], label[128];
    // Each bound node is labelled as grad lists it (x@1, x@2 for a reassigned
    // x); a node bound twice (y = x) keeps its first label.
    size_t *binding = malloc(g->n * sizeof(size_t));
    if (!binding) {
        fprintf(stderr, "gradlab: error: out of memory\n");
        program_run_free(&r);
        return 2;
    }
    for (size_t i = 0; i < g->n; i++)
        binding[i] = SIZE_MAX;
    for (size_t i = program_binding_count(r.program); i-- > 0;)
        binding[program_binding(r.program, i).node] = i;
    printf("digraph gradlab {\n  rankdir=LR;\n  node [fontname=\"DejaVu Sans\"];\n");
    for (size_t i = 0; i < g->n; i++) {
        Value *n = g->nodes[i];
        printf("  v%zu [shape=record, label=\"{", i);
        if (binding[i] != SIZE_MAX) {
            dot_label_text(stdout, program_binding_label(r.program, binding[i], label, sizeof(label)));
            printf(" | ");
        } else if (n->name) {
            dot_label_text(stdout, n->name);
            printf(" | ");
        }
        printf("data %s | grad %s}\"];\n", numfmt_short(v, sizeof(v), n->data, 4),
               numfmt_short(gr, sizeof(gr), n->grad, 4));
        if (n->src[0]) {
            printf("  op%zu [shape=circle, label=\"", i);
            dot_label_text(stdout, n->op == OP_POW ? "^" : value_op_symbol[n->op]);
            if (n->op == OP_POW)
                printf("%s", numfmt_short(v, sizeof(v), n->exponent, 6));
            printf("\"];\n  op%zu -> v%zu;\n", i, i);
            for (int k = 0; k < 2 && n->src[k]; k++)
                printf("  v%u -> op%zu;\n", n->src[k]->index, i);
        }
    }
    printf("}\n");
    free(binding);
    program_run_free(&r);
    return 0;
}
