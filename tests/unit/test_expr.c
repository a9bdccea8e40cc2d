// test_expr.c: expression programs (engine/expr.h). Valid programs:
// precedence, unary minus against '^' as in Python, ';' and comments,
// reassignment, inputs, program_set_input and rebuilding. Bad programs:
// each class of error with its exact message, source line and caret, as
// engine/diag.h formats them.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/diag.h"
#include "engine/expr.h"

#define FILE_NAME "t.prog"

// Parse src[0..len) and expect success.
static Program *parse_ok_n(const char *src, size_t len)
{
    Diag d;
    diag_init(&d, FILE_NAME, src, len);
    Program *p = program_parse(src, len, &d);
    if (!p)
        fail_msg("program did not parse:\n%s", diag_text(&d));
    assert_int_equal(d.nerrors, 0);
    assert_string_equal(diag_text(&d), "");
    diag_free(&d);
    return p;
}

static Program *parse_ok(const char *src)
{
    return parse_ok_n(src, strlen(src));
}

// Parse src[0..len), expect failure, and compare the whole message.
static void expect_error_n(const char *src, size_t len, const char *want)
{
    Diag d;
    diag_init(&d, FILE_NAME, src, len);
    Program *p = program_parse(src, len, &d);
    assert_null(p);
    assert_true(d.nerrors >= 1);
    const char *got = diag_text(&d);
    if (strcmp(got, want) != 0)
        fail_msg("message differs.\n--- got:\n%s\n--- want:\n%s", got, want);
    // The text is one C string: nothing hides behind a NUL byte.
    assert_int_equal(strlen(got), d.len);
    diag_free(&d);
}

static void expect_error(const char *src, const char *want)
{
    expect_error_n(src, strlen(src), want);
}

// The value of the output after building.
static double run(const char *src, Graph *g)
{
    Program *p = parse_ok(src);
    Value *out = program_build(p, g);
    assert_non_null(out);
    double v = out->data;
    program_destroy(p);
    return v;
}

// ---------------------------------------------------------------------------
// Valid programs

static void test_circuit_program(void **state)
{
    (void)state;
    const char *src = "# f = (x + y) * z, as in CS231n\n"
                      "x = -2\n"
                      "y = 5\n"
                      "z = -4\n"
                      "q = x + y\n"
                      "f = q * z\n";
    Program *p = parse_ok(src);
    assert_int_equal(program_input_count(p), 3);
    assert_string_equal(program_input_name(p, 0), "x");
    assert_string_equal(program_input_name(p, 1), "y");
    assert_string_equal(program_input_name(p, 2), "z");
    assert_true(program_input_value(p, 0) == -2);
    assert_true(program_input_value(p, 1) == 5);
    assert_true(program_input_value(p, 2) == -4);
    assert_int_equal(program_name_count(p), 5);
    const char *names[] = {"x", "y", "z", "q", "f"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(program_name(p, i), names[i]);
    assert_string_equal(program_output_name(p), "f");
    assert_int_equal(program_node_count(p), 5);
    assert_int_equal(program_binding_node(p, "q"), 3);
    assert_int_equal(program_binding_node(p, "f"), 4);
    assert_int_equal(program_binding_node(p, "w"), SIZE_MAX);

    Graph *g = graph_create(0);
    Value *f = program_build(p, g);
    assert_non_null(f);
    assert_int_equal(g->n, program_node_count(p));
    assert_true(f->data == -12);
    assert_string_equal(f->name, "f");
    graph_backward(g, f);
    assert_true(program_lookup(p, g, "x")->grad == -4);
    assert_true(program_lookup(p, g, "y")->grad == -4);
    assert_true(program_lookup(p, g, "z")->grad == 3);
    assert_true(program_lookup(p, g, "q")->data == 3);
    assert_string_equal(program_lookup(p, g, "q")->name, "q");
    assert_true(program_lookup(p, g, "q")->op == OP_ADD);
    assert_true(program_lookup(p, g, "x")->op == OP_INPUT);
    assert_null(program_lookup(p, g, "w"));

    // Change an input and rebuild.
    assert_true(program_set_input(p, "x", 1));
    assert_false(program_set_input(p, "q", 1));     // computed, not an input
    assert_false(program_set_input(p, "nope", 1));
    assert_true(program_input_value(p, 0) == 1);
    f = program_build(p, g);
    assert_true(f->data == -24);
    assert_int_equal(g->n, 5);                      // rebuilt, not appended
    graph_backward(g, f);
    assert_true(program_lookup(p, g, "z")->grad == 6);
    graph_destroy(g);
    program_destroy(p);
}

static void test_precedence(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    assert_true(run("x = 2; y = 3; f = x + y * 2 ^ 2", g) == 14);
    assert_true(run("x = 2; y = 3; f = (x + y) * 2", g) == 10);
    assert_true(run("f = 8 / 4 / 2", g) == 1);           // left-associative
    assert_true(run("f = 10 - 3 - 2", g) == 5);
    assert_true(run("x = 6; f = x / 2 * 3", g) == 9);
    assert_true(run("x = 3; f = 2 * -x", g) == -6);
    assert_true(run("x = 3; f = x - -x", g) == 6);
    assert_true(run("x = 3; f = +x", g) == 3);
    assert_true(run("x = 1.5e-3; f = x * 2E3", g) == 3);
    assert_true(run("x = .5; f = x * 4", g) == 2);
    graph_destroy(g);
}

// -x^2 is -(x^2), as in Python; -2^2 is -4.
static void test_unary_minus_and_power(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Program *p = parse_ok("x = 3\nf = -x^2");
    Value *f = program_build(p, g);
    assert_true(f->data == -9);
    assert_true(f->op == OP_NEG);
    graph_backward(g, f);
    assert_true(program_lookup(p, g, "x")->grad == -6);
    program_destroy(p);
    assert_true(run("f = -2^2", g) == -4);
    assert_true(run("x = 3; f = (-x)^2", g) == 9);
    assert_true(run("x = 2; f = x^-1", g) == 0.5);
    assert_true(run("x = 2; f = x^(-2)", g) == 0.25);
    assert_true(run("x = 4; f = x^0.5", g) == 2);
    assert_true(run("x = 2; f = x^(3)", g) == 8);
    assert_true(run("x = 2; f = 3 * x^2", g) == 12);
    graph_destroy(g);
}

// '^' is right-associative, as Python's '**': x^2^3 is x^(2^3) = x^8.
static void test_power_right_associative(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Program *p = parse_ok("x = 2\nf = x^2^3");
    Value *f = program_build(p, g);
    assert_non_null(f);
    if (f->data != 256)
        fail_msg("x^2^3 with x = 2 gives %g; Python's 2**2**3 is 256 (right-associative)", f->data);
    program_destroy(p);
    assert_true(run("f = 2^3^2", g) == 512);
    graph_destroy(g);
}

static void test_separators_and_comments(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    Program *p = parse_ok("# a comment line\n"
                          "x = 1   # one; this ';' is comment text\n"
                          "\n"
                          "   \t\n"
                          "y = 2; z = 3;\n"
                          "f = x + y * z # the output\n"
                          "# trailing comment\n");
    assert_int_equal(program_input_count(p), 3);
    assert_string_equal(program_output_name(p), "f");
    Value *f = program_build(p, g);
    assert_true(f->data == 7);
    program_destroy(p);
    // CRLF line endings.
    assert_true(run("x = 2\r\nf = x * 5\r\n", g) == 10);
    // Tabs between tokens.
    assert_true(run("x\t=\t2\nf\t=\tx\t*\t5", g) == 10);
    graph_destroy(g);
}

static void test_reassignment(void **state)
{
    (void)state;
    Program *p = parse_ok("c = 1\nc = c + 1\nc = c * c");
    assert_int_equal(program_name_count(p), 1);
    assert_string_equal(program_name(p, 0), "c");
    assert_string_equal(program_output_name(p), "c");
    assert_int_equal(program_input_count(p), 1);
    Graph *g = graph_create(0);
    Value *out = program_build(p, g);
    assert_true(out->data == 4);
    // The name reports its last binding.
    assert_ptr_equal(program_lookup(p, g, "c"), out);
    assert_int_equal(program_binding_node(p, "c"), out->index);
    graph_backward(g, out);
    // d(c2*c2)/d(c0) = 2 * c2 * 1 = 4: the input node accumulates.
    assert_true(g->nodes[0]->grad == 4);
    assert_string_equal(g->nodes[0]->name, "c");
    graph_destroy(g);
    program_destroy(p);
}

// Issue 8: every assignment is a binding, listed as c@1, c@2, ... when the
// name is assigned more than once, and reachable by that label.
static void test_bindings(void **state)
{
    (void)state;
    Program *p = parse_ok("c = 1\nd = 5\nc = c + 1\ne = c\nc = c * c");
    assert_int_equal(program_binding_count(p), 5);
    const char *labels[] = {"c@1", "d", "c@2", "e", "c@3"};
    const size_t nodes[] = {0, 1, 3, 3, 4};
    const unsigned versions[] = {1, 1, 2, 1, 3};
    char buf[32];
    for (size_t i = 0; i < 5; i++) {
        ProgramBinding b = program_binding(p, i);
        assert_string_equal(program_binding_label(p, i, buf, sizeof(buf)), labels[i]);
        assert_int_equal(b.node, nodes[i]);
        assert_int_equal(b.version, versions[i]);
        assert_int_equal(b.versions, i == 1 || i == 3 ? 1 : 3);
        assert_int_equal(b.input, i < 2);
        assert_int_equal(program_binding_node(p, labels[i]), nodes[i]);
    }
    assert_int_equal(program_binding_node(p, "c"), 4);
    assert_int_equal(program_binding_node(p, "c@4"), SIZE_MAX);
    assert_int_equal(program_binding_node(p, "c@0"), SIZE_MAX);
    assert_int_equal(program_binding_node(p, "c@"), SIZE_MAX);
    assert_int_equal(program_binding_node(p, "c@1x"), SIZE_MAX);
    assert_int_equal(program_binding_node(p, "d@1"), 1);
    assert_int_equal(program_binding_node(p, "zz@1"), SIZE_MAX);
    Graph *g = graph_create(0);
    Value *out = program_build(p, g);
    graph_backward(g, out);
    assert_true(program_lookup(p, g, "c@1")->grad == 4);
    assert_true(program_lookup(p, g, "c@2")->data == 2);
    graph_destroy(g);
    program_destroy(p);
}

// A name read on two lines: its gradient is the sum of both uses.
static void test_name_used_twice(void **state)
{
    (void)state;
    Program *p = parse_ok("x = 3\na = x * 2\nb = x * x\nf = a + b");
    Graph *g = graph_create(0);
    Value *f = program_build(p, g);
    graph_backward(g, f);
    assert_true(f->data == 15);
    assert_true(program_lookup(p, g, "x")->grad == 2 + 6);
    graph_destroy(g);
    program_destroy(p);
}

static void test_functions(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    double x = 0.5, y = -1;
    double want = exp(x) + log(2.0) + tanh(x) + 1 / (1 + exp(1.0)) + 0 + fmax(x, y) + fmin(x, y) + fabs(y);
    double got = run("x = 0.5\ny = -1\n"
                     "f = exp(x) + log(2) + tanh(x) + sigmoid(y) + relu(y) + max(x, y) + min(x, y) + abs(y)",
                     g);
    assert_true(fabs(got - want) <= 1e-15 * fabs(want));
    assert_true(run("x = 2; f = -exp(0) * max(x, 3 * x)", g) == -6);
    assert_true(run("x = 2; f = max( x , ( 1 ) )", g) == 2);
    graph_destroy(g);
}

// An input is `name = NUMBER`, including a folded negative literal.
static void test_inputs(void **state)
{
    (void)state;
    Program *p = parse_ok("a = -2\nb = -(3)\nc = 2 * 1\nd = a\nf = a + b + c + d");
    assert_int_equal(program_input_count(p), 2);
    assert_string_equal(program_input_name(p, 0), "a");
    assert_string_equal(program_input_name(p, 1), "b");
    assert_true(program_input_value(p, 1) == -3);
    Graph *g = graph_create(0);
    Value *f = program_build(p, g);
    assert_int_equal(g->n, program_node_count(p));
    assert_true(f->data == -2 - 3 + 2 - 2);
    // An alias binds the same node.
    assert_ptr_equal(program_lookup(p, g, "d"), program_lookup(p, g, "a"));
    graph_destroy(g);
    program_destroy(p);
}

// Messages from a span count lines from the start of the whole text.
static void test_parse_span(void **state)
{
    (void)state;
    const char *src = "title: x\nprogram:\n    x = 1\n    f = w * 2\n";
    size_t start = strlen("title: x\nprogram:\n");
    Diag d;
    diag_init(&d, "l.lesson", src, strlen(src));
    assert_null(program_parse_span(src, start, strlen(src), &d));
    assert_string_equal(diag_text(&d), "l.lesson:4:9: error: unknown name 'w'; did you mean 'x'?\n"
                                        "        f = w * 2\n"
                                        "            ^\n");
    diag_free(&d);
    diag_init(&d, "l.lesson", src, strlen(src));
    Program *p = program_parse_span(src, start, start + strlen("    x = 1\n"), &d);
    assert_non_null(p);
    assert_string_equal(program_output_name(p), "x");
    program_destroy(p);
    diag_free(&d);
}

// ---------------------------------------------------------------------------
// Bad programs: exact messages.

static void test_error_unknown_name(void **state)
{
    (void)state;
    expect_error("x=1;f=zzz*2",
                 "t.prog:1:7: error: unknown name 'zzz'; assign it on an earlier line, as in zzz = 1\n"
                 "    x=1;f=zzz*2\n"
                 "          ^\n");
    expect_error("rate = 1\nf = rat * 2\n",
                 "t.prog:2:5: error: unknown name 'rat'; did you mean 'rate'?\n"
                 "    f = rat * 2\n"
                 "        ^\n");
    // A name is not visible before its assignment.
    expect_error("f = y * 2\ny = 1\n",
                 "t.prog:1:5: error: unknown name 'y'; assign it on an earlier line, as in y = 1\n"
                 "    f = y * 2\n"
                 "        ^\n");
    // Tabs are kept in the caret line so it lines up in a terminal.
    expect_error("x = 1\nf =\tw",
                 "t.prog:2:5: error: unknown name 'w'; did you mean 'x'?\n"
                 "    f =\tw\n"
                 "       \t^\n");
    // Columns count code points: the caret lines up after UTF-8 text.
    expect_error("x = 1 # é\nf = x + ééé",
                 "t.prog:2:9: error: names are ASCII letters, digits and _; 'é' is not allowed\n"
                 "    f = x + ééé\n"
                 "            ^\n");
}

static void test_error_unknown_function(void **state)
{
    (void)state;
    expect_error("x=1;f=exq(x)",
                 "t.prog:1:7: error: unknown function 'exq'; did you mean 'exp'?\n"
                 "    x=1;f=exq(x)\n"
                 "          ^\n");
    expect_error("x = 1\nf = sigmod(x)",
                 "t.prog:2:5: error: unknown function 'sigmod'; did you mean 'sigmoid'?\n"
                 "    f = sigmod(x)\n"
                 "        ^\n");
    expect_error("x=1;f=foo(x)",
                 "t.prog:1:7: error: unknown function 'foo'; the functions are exp, log, tanh, sigmoid, "
                 "relu, max, min, abs, sqrt, pow and sum\n"
                 "    x=1;f=foo(x)\n"
                 "          ^\n");
}

static void test_error_bad_exponent(void **state)
{
    (void)state;
    expect_error("x=1;f=x^y",
                 "t.prog:1:9: error: the exponent after '^' must be a constant number, as in x ^ 2; "
                 "found 'y'\n"
                 "    x=1;f=x^y\n"
                 "            ^\n");
    expect_error("x = 1\nf = x ^ (1 + 1)",
                 "t.prog:2:9: error: the exponent after '^' must be a constant number, as in x ^ 2\n"
                 "    f = x ^ (1 + 1)\n"
                 "            ^\n");
    expect_error("x = 1\nf = x ^",
                 "t.prog:2:8: error: the exponent after '^' must be a constant number, as in x ^ 2; "
                 "found the end of the line\n"
                 "    f = x ^\n"
                 "           ^\n");
}

static void test_error_parentheses(void **state)
{
    (void)state;
    expect_error("x=1;f=(x+1",
                 "t.prog:1:11: error: missing ')' to close the '(' at column 7\n"
                 "    x=1;f=(x+1\n"
                 "              ^\n");
    expect_error("x=1;f=x+1)",
                 "t.prog:1:10: error: unexpected ')' with no '(' to match it\n"
                 "    x=1;f=x+1)\n"
                 "             ^\n");
    expect_error("x = 1\nf = )",
                 "t.prog:2:5: error: unexpected ')' with no '(' to match it\n"
                 "    f = )\n"
                 "        ^\n");
    expect_error("x = 1\nf = max(x, 2",
                 "t.prog:2:13: error: missing ')' to close the '(' at column 8\n"
                 "    f = max(x, 2\n"
                 "                ^\n");
    expect_error("x = 1\nf = (x 2)",
                 "t.prog:2:8: error: expected ')' to close the '(' at column 5, found '2'\n"
                 "    f = (x 2)\n"
                 "           ^\n");
}

static void test_error_empty(void **state)
{
    (void)state;
    expect_error("",
                 "t.prog:1:1: error: the program is empty; write at least one statement, as in f = x * y\n"
                 "    \n"
                 "    ^\n");
    expect_error("# only a comment\n",
                 "t.prog:1:1: error: the program is empty; write at least one statement, as in f = x * y\n"
                 "    # only a comment\n"
                 "    ^\n");
    expect_error("\n  \n# one\n;;\n",
                 "t.prog:1:1: error: the program is empty; write at least one statement, as in f = x * y\n"
                 "    \n"
                 "    ^\n");
}

// Too many nodes: 51 statements of 1999 additions each pass 100000 nodes on
// the last one.
static void test_error_too_many_nodes(void **state)
{
    (void)state;
    size_t terms = 2000, lines = 51;
    size_t cap = 16 + lines * (8 + 2 * terms);
    char *src = malloc(cap);
    assert_non_null(src);
    size_t n = (size_t)sprintf(src, "x=1\n");
    size_t last_line = 0;
    for (size_t l = 0; l < lines; l++) {
        last_line = n;
        n += (size_t)sprintf(src + n, "a%zu=x", l);
        for (size_t t = 1; t < terms; t++)
            n += (size_t)sprintf(src + n, "+x");
        src[n++] = '\n';
    }
    src[n] = '\0';
    assert_true((terms - 1) * lines > PROGRAM_MAX_NODES);
    assert_true((terms - 1) * (lines - 1) <= PROGRAM_MAX_NODES);
    char *want = malloc(512);
    assert_non_null(want);
    // The source line is shown up to 200 bytes.
    snprintf(want, 512,
             "t.prog:52:1: error: the program needs more than 100000 nodes, gradlab's limit; "
             "make it smaller\n    %.200s\n    ^\n", src + last_line);
    expect_error(src, want);
    // One statement fewer is fine, and builds that many nodes.
    src[last_line] = '\0';
    Program *p = parse_ok(src);
    assert_int_equal(program_node_count(p), 1 + (terms - 1) * (lines - 1));
    Graph *g = graph_create(PROGRAM_MAX_NODES + 1);
    Value *out = program_build(p, g);
    assert_non_null(out);
    assert_true(out->data == (double)terms);
    assert_int_equal(g->n, program_node_count(p));
    // A graph smaller than the program reports the limit instead of crashing.
    Graph *small = graph_create(1000);
    assert_null(program_build(p, small));
    assert_string_equal(graph_error(small), "node limit reached");
    graph_destroy(small);
    graph_destroy(g);
    program_destroy(p);
    free(want);
    free(src);
}

static void test_error_expression_too_long(void **state)
{
    (void)state;
    size_t terms = 2002;
    char *src = malloc(8 + 2 * terms + 1);
    assert_non_null(src);
    size_t n = (size_t)sprintf(src, "x=1\nf=x");
    for (size_t t = 1; t < terms; t++)
        n += (size_t)sprintf(src + n, "+x");
    char want[1024];
    // The 2001st '+' is at column 2 * 2001 + 2 = 4004; the error points
    // just after its right operand. The shown line stops at 200 bytes.
    snprintf(want, sizeof(want),
             "t.prog:2:4006: error: this expression is too long (more than 2000 operations in a "
             "chain); split it over several statements\n    %.200s\n    %200s^\n", src + 4, "");
    expect_error(src, want);
    free(src);
}

// Build "f=" + n copies of open + "x" + n copies of close on line 2.
static char *nested(size_t n, const char *open, const char *close)
{
    size_t cap = 8 + n * (strlen(open) + strlen(close)) + 2;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t k = (size_t)sprintf(s, "x=1\nf=");
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(s + k, "%s", open);
    s[k++] = 'x';
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(s + k, "%s", close);
    s[k] = '\0';
    return s;
}

// The expected message for a nesting error at column col of line 2.
static void nesting_message(char *want, size_t n, const char *src, int col)
{
    int caret = col - 1 < 200 ? col - 1 : 200; // the shown line stops at 200 bytes
    snprintf(want, n,
             "t.prog:2:%d: error: expression nested more than 200 levels deep\n    %.200s\n    %*s^\n",
             col, src + 4, caret, "");
}

// PROGRAM_MAX_DEPTH counts "nesting of parentheses and unary minus": 200
// levels parse, the 201st is refused, pointing at the '(' or '-' that goes
// past the limit.
static void test_nesting_limit(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    char *s = nested(PROGRAM_MAX_DEPTH, "(", ")");
    Program *p = parse_ok(s);
    assert_true(program_build(p, g)->data == 1);
    program_destroy(p);
    free(s);

    s = nested(PROGRAM_MAX_DEPTH, "-", "");
    p = parse_ok(s);
    assert_true(program_build(p, g)->data == 1); // an even number of minus signs
    program_destroy(p);
    free(s);

    s = nested(PROGRAM_MAX_DEPTH / 2, "-(", ")");
    p = parse_ok(s);
    program_destroy(p);
    free(s);

    char want[1024];
    s = nested(PROGRAM_MAX_DEPTH + 1, "(", ")");
    nesting_message(want, sizeof(want), s, 2 + PROGRAM_MAX_DEPTH + 1);
    expect_error(s, want);
    free(s);

    s = nested(PROGRAM_MAX_DEPTH + 1, "-", "");
    nesting_message(want, sizeof(want), s, 2 + PROGRAM_MAX_DEPTH + 1);
    expect_error(s, want);
    free(s);
    graph_destroy(g);
}

// Deep nesting far past the limit is an error message, never a crash.
static void test_nesting_huge(void **state)
{
    (void)state;
    const char *forms[][2] = {{"(", ")"}, {"-", ""}, {"exp(", ")"}, {"max(x,", ")"}, {"-(", ")"}};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        char *s = nested(100000, forms[i][0], forms[i][1]);
        Diag d;
        diag_init(&d, FILE_NAME, s, strlen(s));
        assert_null(program_parse(s, strlen(s), &d));
        assert_int_equal(d.nerrors, 1);
        assert_non_null(strstr(diag_text(&d), "error: expression nested more than 200 levels deep\n"));
        diag_free(&d);
        free(s);
    }
}

static void test_error_nul_byte(void **state)
{
    (void)state;
    static const char src[] = "x=1\nf=x\0+1\n";
    size_t len = sizeof(src) - 1;
    Diag d;
    diag_init(&d, FILE_NAME, src, len);
    assert_null(program_parse(src, len, &d));
    assert_int_equal(d.nerrors, 1);
    const char *head = "t.prog:2:4: error: the text contains a NUL byte; is this a binary file?\n    f=x";
    assert_memory_equal(d.text, head, strlen(head));
    // The whole message, source line and caret included, must be readable as
    // one C string: the NUL byte must not be echoed raw into it.
    if (strlen(diag_text(&d)) != d.len)
        fail_msg("the message is cut at the echoed NUL byte: strlen %zu, length %zu",
                 strlen(diag_text(&d)), d.len);
    const char *tail = "\n       ^\n";
    assert_true(d.len > strlen(tail));
    assert_string_equal(d.text + d.len - strlen(tail), tail);
    diag_free(&d);
}

static void test_error_trailing_tokens(void **state)
{
    (void)state;
    expect_error("x=1;f=x x",
                 "t.prog:1:9: error: expected an operator or the end of the statement, found 'x'\n"
                 "    x=1;f=x x\n"
                 "            ^\n");
    expect_error("x = 1\nf = x * 2 3",
                 "t.prog:2:11: error: expected an operator or the end of the statement, found '3'\n"
                 "    f = x * 2 3\n"
                 "              ^\n");
    expect_error("x = 1\nf = x $",
                 "t.prog:2:7: error: expected an operator or the end of the statement, found '$'\n"
                 "    f = x $\n"
                 "          ^\n");
    expect_error("x=1;f=x+",
                 "t.prog:1:9: error: expected a number, a name or '(' after '+'\n"
                 "    x=1;f=x+\n"
                 "            ^\n");
}

// A number directly followed by a name. (expr.c formats the letter with %c
// from a char * argument; the message must name the letter.)
static void test_error_number_then_name(void **state)
{
    (void)state;
    expect_error("x = 1\nf = 2x",
                 "t.prog:2:6: error: unexpected 'x' after a number; put an operator between them, as in "
                 "2 * x\n"
                 "    f = 2x\n"
                 "         ^\n");
}

static void test_error_statements(void **state)
{
    (void)state;
    expect_error("x 1",
                 "t.prog:1:3: error: expected '=' after 'x', found '1'\n"
                 "    x 1\n"
                 "      ^\n");
    expect_error("1 = x",
                 "t.prog:1:1: error: expected a name at the start of the statement, as in f = x * y; "
                 "found '1'\n"
                 "    1 = x\n"
                 "    ^\n");
    expect_error("x =  # nothing",
                 "t.prog:1:6: error: expected an expression after 'x ='\n"
                 "    x =  # nothing\n"
                 "         ^\n");
    expect_error("x = 1e999",
                 "t.prog:1:5: error: the number 1e999 is out of range of a double (largest is about 1.8e308)\n"
                 "    x = 1e999\n"
                 "        ^\n");
    // One error per statement, all statements checked.
    expect_error("f = a\ng = b\n",
                 "t.prog:1:5: error: unknown name 'a'; assign it on an earlier line, as in a = 1\n"
                 "    f = a\n"
                 "        ^\n"
                 "t.prog:2:5: error: unknown name 'b'; assign it on an earlier line, as in b = 1\n"
                 "    g = b\n"
                 "        ^\n");
}

static void test_error_argument_count(void **state)
{
    (void)state;
    expect_error("x=1;f=max(x)",
                 "t.prog:1:7: error: max takes 2 arguments, got 1\n"
                 "    x=1;f=max(x)\n"
                 "          ^\n");
    expect_error("x = 1\nf = exp(x, x)",
                 "t.prog:2:5: error: exp takes 1 argument, got 2\n"
                 "    f = exp(x, x)\n"
                 "        ^\n");
    expect_error("x = 1\nf = tanh()",
                 "t.prog:2:5: error: tanh takes 1 argument, got 0\n"
                 "    f = tanh()\n"
                 "        ^\n");
    expect_error("x = 1\nf = min(x, x, x)",
                 "t.prog:2:5: error: min takes 2 arguments, got 3\n"
                 "    f = min(x, x, x)\n"
                 "        ^\n");
}

static void test_error_function_as_variable(void **state)
{
    (void)state;
    expect_error("x=1;f=exp+1",
                 "t.prog:1:7: error: 'exp' is a function; call it with parentheses, as in exp(x)\n"
                 "    x=1;f=exp+1\n"
                 "          ^\n");
    expect_error("x = 1\nf = x * relu",
                 "t.prog:2:9: error: 'relu' is a function; call it with parentheses, as in relu(x)\n"
                 "    f = x * relu\n"
                 "            ^\n");
    expect_error("x=1;exp=2",
                 "t.prog:1:5: error: 'exp' is the name of a function; choose another name\n"
                 "    x=1;exp=2\n"
                 "        ^\n");
}

// After DIAG_MAX_ERRORS messages the parser stops.
static void test_error_limit(void **state)
{
    (void)state;
    char src[2048];
    size_t n = 0;
    for (int i = 0; i < 30; i++)
        n += (size_t)sprintf(src + n, "f%d = nope\n", i);
    Diag d;
    diag_init(&d, FILE_NAME, src, n);
    assert_null(program_parse(src, n, &d));
    assert_int_equal(d.nerrors, DIAG_MAX_ERRORS);
    size_t count = 0;
    for (const char *q = diag_text(&d); (q = strstr(q, ": error: ")); q++)
        count++;
    assert_int_equal(count, DIAG_MAX_ERRORS);
    diag_free(&d);
}

static void test_diag_helpers(void **state)
{
    (void)state;
    const char *const cands[] = {"exp", "log", "tanh", "sigmoid"};
    const char *guess = diag_suggest("tnh", cands, 4);
    assert_non_null(guess);
    assert_string_equal(guess, "tanh");
    guess = diag_suggest("sigmod", cands, 4);
    assert_non_null(guess);
    assert_string_equal(guess, "sigmoid");
    assert_null(diag_suggest("banana", cands, 4));
    Diag d;
    const char *src = "ab\ncdé\nf";
    diag_init(&d, "x", src, strlen(src));
    int line, col;
    diag_position(&d, 0, &line, &col);
    assert_true(line == 1 && col == 1);
    diag_position(&d, 3, &line, &col);
    assert_true(line == 2 && col == 1);
    diag_position(&d, 7, &line, &col); // after "cdé": é is 2 bytes, 1 column
    assert_true(line == 2 && col == 4);
    diag_position(&d, 1000, &line, &col); // clamped to the end
    assert_true(line == 3 && col == 2);
    diag_error_file(&d, "no position %d", 7);
    assert_string_equal(diag_text(&d), "x: error: no position 7\n");
    diag_free(&d);
    diag_free(NULL);
    diag_init(&d, NULL, NULL, 0);
    assert_string_equal(diag_text(&d), "");
    diag_error(&d, 0, "no text");
    assert_string_equal(diag_text(&d), "<input>:1:1: error: no text\n");
    diag_free(&d);
    program_destroy(NULL);
}

// One mistake, one message: a name whose statement failed is still bound,
// so the lines that use it do not also call it unknown.
static void test_error_no_cascade(void **state)
{
    (void)state;
    expect_error("x = 1 +\nf = x * 2\ng = f + x\n",
                 FILE_NAME ":1:8: error: expected a number, a name or '(' after '+'\n"
                 "    x = 1 +\n"
                 "           ^\n");
}

// A long chain of constant exponents is bounded by the nesting limit
// instead of recursing until the stack runs out.
static void test_error_exponent_chain(void **state)
{
    (void)state;
    size_t n = 2 + 2 * 5000;
    char *src = malloc(n + 8);
    strcpy(src, "f = 2");
    for (size_t i = 0; i < 5000; i++)
        strcat(src + 5 + 2 * i, "^1");
    Diag d;
    diag_init(&d, FILE_NAME, src, strlen(src));
    assert_null(program_parse(src, strlen(src), &d));
    assert_non_null(strstr(diag_text(&d), "error: expression nested more than 200 levels deep"));
    diag_free(&d);
    // 2 ^ 3 ^ 2 within the limit still folds right to left.
    Program *p = parse_ok("x = 1\nf = x * 2 ^ 3 ^ 2");
    Graph *g = graph_create(0);
    assert_true(program_build(p, g)->data == 512);
    graph_destroy(g);
    program_destroy(p);
    free(src);
}

// Many statements: names are found through a hash table, and reassigning
// keeps one entry per name.
static void test_many_statements(void **state)
{
    (void)state;
    size_t n = 20000;
    char *src = malloc(n * 32 + 16);
    size_t len = (size_t)sprintf(src, "x = 1\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(src + len, "a%zu = x\nx = x + 1\n", i);
    Program *p = parse_ok_n(src, len);
    assert_int_equal(program_name_count(p), n + 1);
    Graph *g = graph_create(0);
    Value *out = program_build(p, g);
    assert_true(out->data == (double)n + 1);
    assert_true(program_lookup(p, g, "a0")->data == 1);
    assert_true(program_lookup(p, g, "a19999")->data == 20000);
    graph_destroy(g);
    program_destroy(p);
    free(src);
}

// Issue 8: a UTF-8 byte-order mark at the start is not text. It takes no
// column in messages, and is not echoed.
static void test_byte_order_mark(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    assert_true(run("\xEF\xBB\xBFx = 2\nf = x * 5\n", g) == 10);
    assert_true(run("\xEF\xBB\xBF# comment first\nx = 3\n", g) == 3);
    graph_destroy(g);
    expect_error("\xEF\xBB\xBF" "f = w * 2",
                 "t.prog:1:5: error: unknown name 'w'; assign it on an earlier line, as in w = 1\n"
                 "    f = w * 2\n"
                 "        ^\n");
    // Elsewhere it is an invisible character, and the message says so.
    expect_error("x = 1\nf = x \xEF\xBB\xBF* 2",
                 "t.prog:2:7: error: '\xEF\xBB\xBF' (U+FEFF) is not allowed here; delete it (it is an invisible "
                 "byte-order mark)\n"
                 "    f = x \xEF\xBB\xBF* 2\n"
                 "          ^\n");
}

// Issue 8: old Mac files end lines with a lone CR. They are lines, and
// messages count them as lines.
static void test_cr_line_endings(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    assert_true(run("x = 2\rf = x * 5\r", g) == 10);
    assert_true(run("x = 2 # two\ry = 3\r\rf = x * y", g) == 6);
    assert_true(run("x = 2\r\ny = 4\nf = x * y\r", g) == 8); // mixed
    graph_destroy(g);
    expect_error("x = 1\ry = 2\rf = x * w\r",
                 "t.prog:3:9: error: unknown name 'w'; did you mean 'x'?\n"
                 "    f = x * w\n"
                 "            ^\n");
    expect_error("x = 1\r\nf = x +\r\n",
                 "t.prog:2:8: error: expected a number, a name or '(' after '+'\n"
                 "    f = x +\n"
                 "           ^\n");
}

// Issue 8: names outside ASCII, and look-alike operators pasted from slides,
// say what is wrong with the character, where it is.
static void test_error_non_ascii(void **state)
{
    (void)state;
    expect_error("caf\xc3\xa9 = 1\n",
                 "t.prog:1:4: error: names are ASCII letters, digits and _; '\xc3\xa9' is not allowed\n"
                 "    caf\xc3\xa9 = 1\n"
                 "       ^\n");
    expect_error("x = 1\n\xce\xb1 = 0.1\n",
                 "t.prog:2:1: error: names are ASCII letters, digits and _; '\xce\xb1' is not allowed\n"
                 "    \xce\xb1 = 0.1\n"
                 "    ^\n");
    // The name on the left is still bound: one mistake, one message.
    expect_error("x = 1\ny = x \xc3\x97 2\nf = y + x\n",
                 "t.prog:2:7: error: '\xc3\x97' (U+00D7) is not an operator here; write * to multiply\n"
                 "    y = x \xc3\x97 2\n"
                 "          ^\n");
    expect_error("x = 1\nf = \xe2\x88\x92x\n",
                 "t.prog:2:5: error: '\xe2\x88\x92' (U+2212) is not the minus sign here; write - (the ASCII "
                 "hyphen-minus)\n"
                 "    f = \xe2\x88\x92x\n"
                 "        ^\n");
    expect_error("x = 1\nf = x\xc2\xa0+ 1\n",
                 "t.prog:2:6: error: '\xc2\xa0' (U+00A0) is not an ordinary space; replace it with a space (it is "
                 "a no-break space)\n"
                 "    f = x\xc2\xa0+ 1\n"
                 "         ^\n");
    expect_error("x = 1\nf = x \xe2\x86\x92 1\n",
                 "t.prog:2:7: error: '\xe2\x86\x92' (U+2192) is not part of the language; programs are ASCII: "
                 "names, numbers, + - * / ^ ( ) , and =\n"
                 "    f = x \xe2\x86\x92 1\n"
                 "          ^\n");
    expect_error("x = 1\n\xe9t\xe9 = x * 2\n", // Latin-1
                 "t.prog:2:1: error: byte 0xe9 is not valid UTF-8 text; save the program as UTF-8, and write names "
                 "in ASCII letters, digits and _, as in f = x * y\n"
                 "    \xe9t\xe9 = x * 2\n"
                 "    ^\n");
    expect_error("x = 1\nf = x * \xe9\n",
                 "t.prog:2:9: error: byte 0xe9 is not valid UTF-8 text; save the program as UTF-8\n"
                 "    f = x * \xe9\n"
                 "            ^\n");
    // Comments may hold any text.
    Program *p = parse_ok("x = 2 # \xc3\xa9t\xc3\xa9 \xc3\x97 \xe2\x88\x82\nf = x * x # \xce\xb1\n");
    program_destroy(p);
}

// Issue 8: literals longer than 62 characters were called "malformed". Any
// length reads as the double it means; only magnitude can fail.
static void test_long_literals(void **state)
{
    (void)state;
    char src[600];
    Graph *g = graph_create(0);
    // 0.1 with 300 zeros after it and then a 1: still 0.1 as a double.
    int n = snprintf(src, sizeof(src), "x = 0.1");
    for (int i = 0; i < 300; i++)
        n += snprintf(src + n, sizeof(src) - (size_t)n, "0");
    snprintf(src + n, sizeof(src) - (size_t)n, "1\nf = x * 1");
    assert_true(run(src, g) == 0.1);
    // 100 digits of pi.
    assert_true(run("f = 3.141592653589793238462643383279502884197169399375105820974944592307816406286208998628034825342117068",
                    g) == 3.141592653589793);
    // 1 followed by 80 zeros, and its exponent form.
    n = snprintf(src, sizeof(src), "f = 1");
    for (int i = 0; i < 80; i++)
        n += snprintf(src + n, sizeof(src) - (size_t)n, "0");
    assert_true(run(src, g) == 1e80);
    assert_true(run("f = 0.00000000000000000000000000000000000000000000000000000000000000000000001e71", g) == 1);
    graph_destroy(g);
    // A long literal that is out of range is quoted by its start and length.
    n = snprintf(src, sizeof(src), "x = ");
    for (int i = 0; i < 400; i++)
        n += snprintf(src + n, sizeof(src) - (size_t)n, "9");
    // The source line is echoed up to its first 200 characters.
    char want[800];
    n = snprintf(want, sizeof(want), "t.prog:1:5: error: the number 999999999999999999999999... (400 characters) "
                 "is out of range of a double (largest is about 1.8e308)\n    %.200s\n        ^\n", src);
    expect_error(src, want);
    expect_error("x = 1e-99999",
                 "t.prog:1:5: error: the number 1e-99999 is too small for a double (smallest is about 5e-324); "
                 "write 0 if you mean zero\n"
                 "    x = 1e-99999\n"
                 "        ^\n");
    expect_error("x = .",
                 "t.prog:1:5: error: '.' alone is not a number; write 0.5 or 5.0\n"
                 "    x = .\n"
                 "        ^\n");
    g = graph_create(0);
    assert_true(run("x = 0e-99999", g) == 0); // zero is zero, in any exponent
    assert_true(run("x = 4.9e-324", g) == 4.9e-324); // the smallest subnormal is fine
    graph_destroy(g);
}

// ---------------------------------------------------------------------------
// Issue 9: sqrt, pow, lists, indexing and loops

// d(output)/d(input) by central differences: rebuild with the input moved.
static double numeric_grad(Program *p, Graph *g, const char *input)
{
    assert_non_null(program_build(p, g));
    double x0 = program_lookup(p, g, input)->data;
    double h = 1e-6 * fmax(1.0, fabs(x0));
    program_set_input(p, input, x0 + h);
    double fp = program_build(p, g)->data;
    program_set_input(p, input, x0 - h);
    double fm = program_build(p, g)->data;
    program_set_input(p, input, x0);
    return (fp - fm) / (2 * h);
}

// Every input's gradient by backward against central differences.
static void check_grads(Program *p, double tol)
{
    Graph *g = graph_create(0);
    for (size_t i = 0; i < program_input_count(p); i++) {
        const char *name = program_input_name(p, i);
        Value *out = program_build(p, g);
        assert_non_null(out);
        graph_backward(g, out);
        double analytic = program_lookup(p, g, name)->grad;
        double numeric = numeric_grad(p, g, name);
        if (!(fabs(analytic - numeric) <= tol * fmax(1.0, fabs(numeric))))
            fail_msg("d/d%s: backward %.12g, finite differences %.12g", name, analytic, numeric);
    }
    graph_destroy(g);
}

static void test_sqrt_pow(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    assert_true(run("x = 6.25; f = sqrt(x)", g) == 2.5);
    assert_true(run("x = 3; f = pow(x, 2)", g) == 9);
    assert_true(run("x = 4; f = pow(x, -0.5)", g) == 0.5);
    assert_true(run("x = 2; f = pow(x, -(3))", g) == 0.125);
    // pow is the same gate as ^: one node, the exponent kept in it.
    Program *p = parse_ok("x = 3\nf = pow(x, 3)\ng = x ^ 3\n");
    assert_int_equal(program_node_count(p), 3);
    Value *out = program_build(p, g);
    assert_true(out->op == OP_POW && out->exponent == 3 && out->data == 27);
    assert_true(g->nodes[1]->op == OP_POW && g->nodes[1]->exponent == 3);
    program_destroy(p);
    p = parse_ok("x = 2.3\ny = 0.7\nf = sqrt(x * y) + pow(x, 1.5) * pow(y, -2) + sqrt(pow(x, 2) + 1)\n");
    check_grads(p, 1e-6);
    program_destroy(p);
    // sqrt, pow and sum came after format 1: old programs may use them as names.
    assert_true(run("sqrt = 4; pow = 2; sum = sqrt + pow; f = sqrt(sqrt) * sum", g) == 12);
    graph_destroy(g);
    expect_error("x = 2\nf = pow(x, x)\n",
                 "t.prog:2:12: error: the exponent of pow must be a constant number, as in pow(x, 2); for a "
                 "variable exponent y write exp(y * log(x))\n"
                 "    f = pow(x, x)\n"
                 "               ^\n");
    expect_error("x = 2\nf = sqrt(x, x)\n",
                 "t.prog:2:5: error: sqrt takes 1 argument, got 2\n"
                 "    f = sqrt(x, x)\n"
                 "        ^\n");
    expect_error("x = 2\nf = pow(x)\n",
                 "t.prog:2:5: error: pow takes 2 arguments, got 1\n"
                 "    f = pow(x)\n"
                 "        ^\n");
}

static void test_lists(void **state)
{
    (void)state;
    Program *p = parse_ok("x = [1.5, -2, 3]\nW = [[1, 2], [3, 4],]\nf = x[0] * x[2] + W[1][0] - sum(x) + sum(W)\n");
    // Elements of a literal that are plain numbers are inputs named x[0], ...
    assert_int_equal(program_input_count(p), 7);
    assert_string_equal(program_input_name(p, 1), "x[1]");
    assert_string_equal(program_input_name(p, 5), "W[1][0]");
    size_t n = 0;
    assert_true(program_list(p, "x", &n) && n == 3);
    assert_true(program_list(p, "W", &n) && n == 4);
    assert_false(program_list(p, "f", &n));
    assert_int_equal(n, 0);
    Graph *g = graph_create(0);
    Value *out = program_build(p, g);
    assert_true(out->data == 1.5 * 3 + 3 - 2.5 + 10);
    assert_int_equal(out->index + 1, program_node_count(p));
    graph_backward(g, out);
    assert_true(program_lookup(p, g, "x[0]")->grad == 3 - 1);
    assert_true(program_lookup(p, g, "W[1][0]")->grad == 2);
    assert_string_equal(program_lookup(p, g, "x[2]")->name, "x[2]");
    program_set_input(p, "x[1]", 5);
    assert_true(program_build(p, g)->data == 1.5 * 3 + 3 - 9.5 + 10);
    graph_destroy(g);
    program_destroy(p);
    p = parse_ok("a = 2\nv = [a * 3, a + 1]\nf = v[0] * v[1]\n");
    assert_int_equal(program_input_count(p), 1); // v's elements are computed
    check_grads(p, 1e-6);
    program_destroy(p);
    // Elements may be assigned one by one, in any order, and reassigned.
    p = parse_ok("h[2] = 1\nh[0] = 3\nh[2] = h[2] + h[0]\nf = sum(h)\n");
    g = graph_create(0);
    assert_true(program_build(p, g)->data == 7);
    graph_destroy(g);
    program_destroy(p);

    expect_error("x = [1, 2]\nf = x\n",
                 "t.prog:2:5: error: 'x' is a list; read one element, as in x[0], or add them all with sum(x)\n"
                 "    f = x\n"
                 "        ^\n");
    expect_error("x = 1\nf = x[0]\n",
                 "t.prog:2:5: error: 'x' is a single value, not a list; write it without [ ]\n"
                 "    f = x[0]\n"
                 "        ^\n");
    expect_error("x = [1, 2]\nf = x[2]\n",
                 "t.prog:2:5: error: 'x[2]' is not assigned; the list x has 2 elements so far, and this one must "
                 "be assigned before it is read, as in x[2] = 0\n"
                 "    f = x[2]\n"
                 "        ^\n");
    expect_error("f = q[1]\n",
                 "t.prog:1:5: error: unknown list 'q'; assign its elements on an earlier line, as in q[1] = 1 or "
                 "q = [1, 2, 3]\n"
                 "    f = q[1]\n"
                 "        ^\n");
    expect_error("x = []\n",
                 "t.prog:1:5: error: an empty list; write its elements, as in x = [1, 2, 3]\n"
                 "    x = []\n"
                 "        ^\n");
    expect_error("x = [1, 2\n",
                 "t.prog:1:10: error: expected ',' or ']' in the list, found the end of the line\n"
                 "    x = [1, 2\n"
                 "             ^\n");
    expect_error("x = [1, 2] * 2\n",
                 "t.prog:1:12: error: expected the end of the statement after the list, found '*'\n"
                 "    x = [1, 2] * 2\n"
                 "               ^\n");
    expect_error("x = [1, 2]\nf = x[1.5]\n",
                 "t.prog:2:7: error: an index is a whole number or a loop variable, as in x[0] or h[t-1]\n"
                 "    f = x[1.5]\n"
                 "          ^\n");
    expect_error("w = 1\nx = [1, 2]\nf = x[w]\n",
                 "t.prog:3:7: error: 'w' is not a loop variable; an index is a whole number or a loop variable, "
                 "as in x[0] or h[t-1]\n"
                 "    f = x[w]\n"
                 "          ^\n");
    expect_error("h[-1] = 1\n",
                 "t.prog:1:3: error: the index is -1; indices go from 0 to 100000\n"
                 "    h[-1] = 1\n"
                 "      ^\n");
    // Index arithmetic saturates instead of overflowing (found by fuzz_expr).
    {
        static const char crash[] = "x =\nh[77776*77-777777*7777877777777776*77)7777778 71*77)\n ";
        Diag d;
        diag_init(&d, FILE_NAME, crash, sizeof(crash) - 1);
        assert_null(program_parse(crash, sizeof(crash) - 1, &d));
        diag_free(&d);
    }
    expect_error("x = [1]\nf = x[100000 * 100000 * 100000 * 100000 * 100000 - 1]\n",
                 "t.prog:2:7: error: the index is huge; indices go from 0 to 100000\n"
                 "    f = x[100000 * 100000 * 100000 * 100000 * 100000 - 1]\n"
                 "          ^\n");
    expect_error("x = [1, 2]\nx = 3\n",
                 "t.prog:2:1: error: 'x' is a list; assign one element, as in x[0] = ..., or choose another name\n"
                 "    x = 3\n"
                 "    ^\n");
    expect_error("x = 3\nx[0] = 3\n",
                 "t.prog:2:1: error: 'x' is a single value, not a list; choose another name for the list\n"
                 "    x[0] = 3\n"
                 "    ^\n");
    expect_error("q = 1\nf = sum(q)\n",
                 "t.prog:2:9: error: 'q' is a single value, not a list; sum adds the elements of a list\n"
                 "    f = sum(q)\n"
                 "            ^\n");
    expect_error("x = [1]\nf = sum(x + 1)\n",
                 "t.prog:2:11: error: sum takes the name of a list, as in sum(e), and adds its elements\n"
                 "    f = sum(x + 1)\n"
                 "              ^\n");
    expect_error("x = [1]\nf = x[0][0][0][0][0]\n",
                 "t.prog:2:18: error: more than 4 indices; a list has at most 4 dimensions\n"
                 "    f = x[0][0][0][0][0]\n"
                 "                     ^\n");
}

static void test_loops(void **state)
{
    (void)state;
    Graph *g = graph_create(0);
    // 2^10 by doubling, with ';' as the separator, as on a command line.
    assert_true(run("p[0] = 1; for t in 1..10; p[t] = p[t-1] * 2; end; f = p[10]", g) == 1024);
    // The loop variable is a constant in expressions and in exponents.
    assert_true(run("s = 0\nfor k in 1..4:\n  s = s + k * pow(2, k)\nend\nf = s\n", g) == 2 + 8 + 24 + 64);
    // Nested loops; a range whose first bound is above its last runs no times.
    assert_true(run("for i in 0..2\n for j in 0..1\n  m[i][j] = i * 10 + j\n end\nend\nfor k in 3..2\n q = 1\nend\n"
                    "f = sum(m)\n", g) == 0 + 1 + 10 + 11 + 20 + 21);
    // Bounds are whole-number expressions of enclosing loop variables.
    assert_true(run("for i in 1..3\n for j in i..3\n  c[i][j] = 1\n end\nend\nf = sum(c)\n", g) == 6);
    // `a = t` is a computed constant, not an input a student can drag.
    Program *p = parse_ok("for t in 1..2\n a = t\nend\n");
    assert_int_equal(program_input_count(p), 0);
    assert_int_equal(program_binding_count(p), 2);
    program_destroy(p);
    // 'for' and 'end' are only words in their own places.
    assert_true(run("for = 2\nend = 3\nin = 4\nf = for * end * in\n", g) == 24);
    graph_destroy(g);

    expect_error("for t in 1..3\n  f = 1\n",
                 "t.prog:1:1: error: this 'for' has no 'end'; close the loop with a line 'end' after its body\n"
                 "    for t in 1..3\n"
                 "    ^\n");
    expect_error("f = 1\n  end\n",
                 "t.prog:2:3: error: 'end' without a 'for'; a loop starts with a line such as for t in 1..10\n"
                 "      end\n"
                 "      ^\n");
    expect_error("for t in 1..3\n  t = 2\nend\n",
                 "t.prog:2:3: error: 't' is the loop's variable; it cannot be assigned, choose another name\n"
                 "      t = 2\n"
                 "      ^\n");
    expect_error("t = 1\nfor t in 1..3\nend\n",
                 "t.prog:2:5: error: 't' is already a name in the program; choose another loop variable\n"
                 "    for t in 1..3\n"
                 "        ^\n");
    expect_error("for i in 0..2\n for i in 0..1\n end\nend\n",
                 "t.prog:2:6: error: 'i' is already the variable of an enclosing loop; choose another name\n"
                 "     for i in 0..1\n"
                 "         ^\n");
    expect_error("for t in 1 to 3\nend\n",
                 "t.prog:1:12: error: expected '..' between the loop's bounds, as in for t in 1..10; found 'to'\n"
                 "    for t in 1 to 3\n"
                 "               ^\n");
    expect_error("for t in 1..3 f = 1\nend\n",
                 "t.prog:1:15: error: expected the end of the line after the loop's range, found 'f'; the body goes "
                 "on the lines below, then 'end'\n"
                 "    for t in 1..3 f = 1\n"
                 "                  ^\n");
    expect_error("for t in 1..200000\nend\n",
                 "t.prog:1:13: error: the loop bound 200000 is out of range; bounds go from -100000 to 100000\n"
                 "    for t in 1..200000\n"
                 "                ^\n");
    // An error inside a loop is reported once, at the first iteration that
    // meets it, with the loop variables; nothing after the loop is checked.
    expect_error("h[0] = 0\nfor t in 1..5\n  h[t] = h[t-2] + zz\nend\nf = nope\n",
                 "t.prog:3:12: error: the index is -1 (at t = 1); indices go from 0 to 100000\n"
                 "      h[t] = h[t-2] + zz\n"
                 "               ^\n");
    expect_error("h[0] = 0\nfor t in 1..5\n  h[t] = h[t-1] + zz\nend\n",
                 "t.prog:3:19: error: unknown name 'zz' (at t = 1); assign it on an earlier line, as in zz = 1\n"
                 "      h[t] = h[t-1] + zz\n"
                 "                      ^\n");
    expect_error("for t in 0..3\n  a[t] = 1\nend\nfor t in 0..3\n  b[t] = a[t+1]\nend\n",
                 "t.prog:5:10: error: 'a[4]' is not assigned (at t = 3); the list a has 4 elements so far, and this "
                 "one must be assigned before it is read, as in a[4] = 0\n"
                 "      b[t] = a[t+1]\n"
                 "             ^\n");
    // Iterations are bounded in all, nested or not.
    expect_error("for i in 0..1000\n for j in 0..1000\n end\nend\n",
                 "t.prog:2:2: error: the loops run more than 100000 iterations in all, gradlab's limit; make them "
                 "shorter\n"
                 "     for j in 0..1000\n"
                 "     ^\n");
}

// The RNN of tests/unit/rnn10.prog against the same recurrence written in C,
// its weights' gradients against finite differences, and what a view needs:
// every node of step t has loop 1 and step t, and only w, u and b are shared.
static void test_rnn_program(void **state)
{
    (void)state;
    char path[4096];
    const char *dir = getenv("GRADLAB_DATA_DIR");
    snprintf(path, sizeof(path), "%s/tests/unit/rnn10.prog", dir && *dir ? dir : GRADLAB_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char src[4096];
    size_t len = fread(src, 1, sizeof(src) - 1, f);
    fclose(f);
    src[len] = '\0';
    Program *p = parse_ok_n(src, len);
    assert_int_equal(program_loop_count(p), 1);
    ProgramLoop loop = program_loop(p, 0);
    assert_string_equal(loop.var, "t");
    assert_true(loop.first == 1 && loop.last == 10 && loop.line == 11);

    const double x[10] = {0.5, -0.1, 0.3, 0.8, -0.5, 0.2, 0.1, -0.3, 0.4, 0.9};
    const double y[10] = {0.2, 0.1, 0.2, 0.5, 0.0, 0.1, 0.1, -0.1, 0.2, 0.6};
    double h = 0, loss = 0, hs[11] = {0};
    for (int t = 1; t <= 10; t++) {
        h = tanh(0.5 * h + 1.0 * x[t - 1] + 0.1);
        hs[t] = h;
        loss += (h - y[t - 1]) * (h - y[t - 1]);
    }
    loss /= 10;
    Graph *g = graph_create(0);
    Value *out = program_build(p, g);
    assert_non_null(out);
    assert_int_equal(out->index + 1, program_node_count(p));
    if (!(fabs(out->data - loss) <= 1e-15))
        fail_msg("loss %.17g, expected %.17g", out->data, loss);
    char name[16];
    for (int t = 1; t <= 10; t++) {
        snprintf(name, sizeof(name), "h[%d]", t);
        Value *v = program_lookup(p, g, name);
        assert_non_null(v);
        assert_string_equal(v->name, name);
        assert_true(fabs(v->data - hs[t]) < 1e-15);
        assert_true(v->loop == 1 && v->step == t);
        // Every gate of step t, down to its inputs, is marked with that step.
        // The gates of (w * h[t-1] + u * x[t-1]) + b are of step t; b is not.
        const Value *sum = v->src[0], *inner = sum->src[0];
        assert_true(sum->loop == 1 && sum->step == t && inner->loop == 1 && inner->step == t);
        for (int k = 0; k < 2; k++)
            assert_true(inner->src[k]->op == OP_MUL && inner->src[k]->loop == 1 && inner->src[k]->step == t);
        assert_true(sum->src[1]->loop == 0 && (sum->src[1]->flags & VALUE_SHARED));
    }
    // Nodes outside the loop: no loop. Shared: exactly w, u and b.
    for (size_t i = 0; i < g->n; i++) {
        const Value *v = g->nodes[i];
        bool weight = v->name && (!strcmp(v->name, "w") || !strcmp(v->name, "u") || !strcmp(v->name, "b"));
        if (((v->flags & VALUE_SHARED) != 0) != weight)
            fail_msg("node %zu (%s): shared flag %d", i, v->name ? v->name : "?", v->flags);
        if (v->name && (v->name[0] == 'x' || v->name[0] == 'y' || !strcmp(v->name, "h[0]") || !strcmp(v->name, "loss")))
            assert_int_equal(v->loop, 0);
    }
    size_t shared = 0;
    for (size_t i = 0; i < program_binding_count(p); i++) {
        ProgramBinding bd = program_binding(p, i);
        shared += bd.shared;
        if (bd.name[0] == 'e')
            assert_true(bd.loop == 1 && bd.step == atoi(bd.name + 2));
    }
    assert_int_equal(shared, 3);
    graph_destroy(g);
    check_grads(p, 1e-6);
    program_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_circuit_program),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_unary_minus_and_power),
        cmocka_unit_test(test_power_right_associative),
        cmocka_unit_test(test_separators_and_comments),
        cmocka_unit_test(test_reassignment),
        cmocka_unit_test(test_bindings),
        cmocka_unit_test(test_name_used_twice),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_parse_span),
        cmocka_unit_test(test_error_unknown_name),
        cmocka_unit_test(test_error_unknown_function),
        cmocka_unit_test(test_error_bad_exponent),
        cmocka_unit_test(test_error_parentheses),
        cmocka_unit_test(test_error_empty),
        cmocka_unit_test(test_error_too_many_nodes),
        cmocka_unit_test(test_error_expression_too_long),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_nesting_huge),
        cmocka_unit_test(test_error_nul_byte),
        cmocka_unit_test(test_error_trailing_tokens),
        cmocka_unit_test(test_error_number_then_name),
        cmocka_unit_test(test_error_statements),
        cmocka_unit_test(test_error_argument_count),
        cmocka_unit_test(test_error_function_as_variable),
        cmocka_unit_test(test_error_limit),
        cmocka_unit_test(test_diag_helpers),
        cmocka_unit_test(test_error_no_cascade),
        cmocka_unit_test(test_error_exponent_chain),
        cmocka_unit_test(test_many_statements),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_cr_line_endings),
        cmocka_unit_test(test_error_non_ascii),
        cmocka_unit_test(test_long_literals),
        cmocka_unit_test(test_sqrt_pow),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_loops),
        cmocka_unit_test(test_rnn_program),
    };
    return cmocka_run_group_tests_name("expr", tests, NULL, NULL);
}
