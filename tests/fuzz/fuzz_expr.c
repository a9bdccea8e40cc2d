// fuzz_expr.c: libFuzzer target for the expression language (engine/expr.h).
// Parses the input as a program; when it parses, builds the graph, runs it
// backward (all at once and gate by gate), nudges every input and rebuilds,
// also into a graph too small to hold it.
// Any crash, sanitizer report, leak or hang is a finding.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/diag.h"
#include "engine/expr.h"
#include "engine/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Graph *graph;   // reused across inputs, like the app does
static Graph *small;   // 16 nodes: exercises the graph-full paths

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!graph)
        graph = graph_create(PROGRAM_MAX_NODES + 1);
    if (!small)
        small = graph_create(16);
    const char *src = (const char *)data;
    Diag d;
    diag_init(&d, "fuzz.expr", src, size);
    Program *p = program_parse(src, size, &d);
    (void)diag_text(&d);
    if (p) {
        Value *out = program_build(p, graph);
        if (out) {
            graph_backward(graph, out);
            graph_backward_partial(graph, out, 3);
            graph_mark_ancestors(graph, out);
        }
        for (size_t i = 0; i < program_name_count(p); i++) {
            const char *name = program_name(p, i);
            (void)program_lookup(p, graph, name);
            (void)program_binding_node(p, name);
        }
        (void)program_output_name(p);
        (void)program_node_count(p);
        for (size_t i = 0; i < program_input_count(p); i++)
            program_set_input(p, program_input_name(p, i), program_input_value(p, i) * 2 + 1);
        out = program_build(p, graph);
        if (out)
            graph_backward(graph, out);
        out = program_build(p, small);   // NULL when it does not fit, never a crash
        if (out)
            graph_backward(small, out);
        else
            (void)graph_error(small);
        program_destroy(p);
    }
    diag_free(&d);
    return 0;
}
