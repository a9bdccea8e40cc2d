// expr.h: expression programs, the small text language of the scalar lessons.
//
//     # f = (x + y) * z, as in CS231n
//     x = -2
//     y = 5
//     z = -4
//     q = x + y
//     f = q * z
//
// One statement per line (or separated by ';'): `name = expr`. '#' starts a
// comment. Expressions have numbers, names, + - * / ^ (the exponent must be a
// constant), unary minus, parentheses and the calls exp log tanh sigmoid relu
// max min abs sqrt, pow(x, CONSTANT) and sum(LIST). A statement whose right
// side is a plain number (x = -2) makes an *input*, a leaf a student can
// change. Reassigning a name makes a new node, so `c = c + 1` reads the old
// c, as in Python. The last statement is the output.
//
// Lists and loops, for recurrent nets unrolled in time:
//
//     x = [0.5, -0.1, 0.3]        # inputs x[0], x[1], x[2]
//     w = 0.5                     # read by every step: a shared parameter
//     h[0] = 0
//     for t in 1..3               # t = 1, 2, 3 (both bounds included)
//         h[t] = tanh(w * h[t-1] + x[t-1])
//     end
//     f = sum(h)
//
// Indices are whole numbers known at parse time (literals, loop variables,
// + - * and parentheses), and the loop is unrolled while parsing, so an
// element is an ordinary name ("h[3]") everywhere after: in bindings,
// lookups, lessons and Value.name. program_build marks each node with the
// top-level loop and step that made it (Value.loop, Value.step) and flags
// the named values read by more than one iteration (VALUE_SHARED), so views
// can group time steps and highlight shared weights.
//
// Parsing checks everything (names, calls, exponents, parentheses, indices,
// loops, sizes) and reports problems through a Diag; building a graph from a
// parsed program cannot fail except for memory.
#ifndef GRADLAB_EXPR_H
#define GRADLAB_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/diag.h"
#include "engine/value.h"

#define PROGRAM_MAX_NODES 100000   // nodes one program may create
#define PROGRAM_MAX_DEPTH 200      // nesting of parentheses and unary minus
#define PROGRAM_MAX_HEIGHT 2000    // operations chained in one expression
#define PROGRAM_MAX_STATEMENTS 100000 // after unrolling loops
#define PROGRAM_MAX_ITERATIONS 100000 // loop iterations in all, nested ones included
#define PROGRAM_MAX_LOOP_DEPTH 8      // loops nested in loops
#define PROGRAM_MAX_INDICES 4         // indices per name: h[t][i][j][k]
#define PROGRAM_MAX_INDEX 100000      // indices go from 0 to this; loop bounds from -this to this

typedef struct Program Program;

// Parse src[0..len). On success returns a program (free with
// program_destroy). On failure returns NULL; the errors are in d, which
// must have been set up with diag_init on the same text.
Program *program_parse(const char *src, size_t len, Diag *d);

// Like program_parse, but parse only src[start..len): messages still count
// lines and columns from the start of src (for programs inside lesson files).
Program *program_parse_span(const char *src, size_t start, size_t len, Diag *d);

// Free a program. NULL is a no-op.
void program_destroy(Program *p);

// Reset g and build the program into it with the current input values.
// Returns the output node, or NULL when the graph ran out of room (see
// graph_error). Nodes bound to names carry those names.
Value *program_build(const Program *p, Graph *g);

// The named bindings, one per name, in order of first assignment. For a
// reassigned name this is its last binding. Indices are stable.
size_t program_name_count(const Program *p);
const char *program_name(const Program *p, size_t i);

// Every binding, one per statement in program order, so a name assigned
// three times has three (x = 2; x = x * x lists the input x and the square).
typedef struct ProgramBinding {
    const char *name;   // "x", or an element "h[3]" (indices as numbers, no spaces)
    size_t node;        // graph index program_build gives the bound node
    unsigned version;   // 1 for the name's first assignment, 2 for its second, ...
    unsigned versions;  // how many times the name is assigned in all
    bool input;         // name = NUMBER
    unsigned loop;      // the top-level loop whose body made it, from 1 (program_loop(p, loop - 1)); 0 = none
    int step;           // with loop: that loop's variable at the time (the time step)
    bool shared;        // read by more than one iteration of a loop: a shared weight (VALUE_SHARED)
} ProgramBinding;

// The number of bindings, and binding i (i < program_binding_count).
size_t program_binding_count(const Program *p);
ProgramBinding program_binding(const Program *p, size_t i);

// How binding i is listed: its name when the name is assigned once, else
// NAME@K for the K-th assignment ("x@1", "x@2"). Writes buf; returns buf.
const char *program_binding_label(const Program *p, size_t i, char *buf, size_t n);

// A top-level `for` loop of the program. Nodes its body made carry
// Value.loop = its position + 1 and Value.step = the variable's value.
typedef struct ProgramLoop {
    const char *var;    // "t"
    long first, last;   // the range, both included (first > last: no iterations)
    int line;           // the line of its `for` in the source
} ProgramLoop;

// The number of top-level loops, and loop k (k < program_loop_count).
size_t program_loop_count(const Program *p);
ProgramLoop program_loop(const Program *p, size_t k);

// Whether name is a list (its elements are names "name[i]"...); *n (when not
// NULL) gets how many elements it has, 0 when it is not a list.
bool program_list(const Program *p, const char *name, size_t *n);

// The node a name is bound to (its last binding) in a graph built by
// program_build, or NULL for an unknown name. "NAME@K" names the K-th
// binding of a reassigned name, as program_binding_label writes it.
Value *program_lookup(const Program *p, const Graph *g, const char *name);

// The graph index program_build gives a name's last binding (or, for
// "NAME@K", its K-th), or SIZE_MAX.
size_t program_binding_node(const Program *p, const char *name);

// The name of the output (the last statement's name).
const char *program_output_name(const Program *p);

// Inputs: statements of the form `name = NUMBER`, in program order.
// program_input_name and program_input_value need i < program_input_count.
size_t program_input_count(const Program *p);
const char *program_input_name(const Program *p, size_t i);
double program_input_value(const Program *p, size_t i);

// Change an input's value; the next program_build uses it. Returns false
// when name is not an input.
bool program_set_input(Program *p, const char *name, double value);

// The number of nodes program_build creates.
size_t program_node_count(const Program *p);

#endif
