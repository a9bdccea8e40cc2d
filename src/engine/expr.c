// expr.c: lexer, recursive-descent parser and graph builder for expression
// programs; see expr.h for the language.
//
// Parsing resolves every name to the statement that last bound it and counts
// the nodes each statement will create, so the graph index of every binding
// is known before any graph exists.
#include "engine/expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/arena.h"

typedef enum ExprKind { EX_NUM, EX_NAME, EX_OP } ExprKind;

typedef struct Expr Expr;
struct Expr {
    ExprKind kind;
    ValueOp op;        // EX_OP
    double num;        // EX_NUM; the exponent of OP_POW
    size_t stmt;       // EX_NAME: the statement whose binding is read
    Expr *a, *b;       // EX_OP sources
    unsigned height;   // longest path to a leaf, bounded so building never recurses deeply
};

typedef struct Stmt {
    const char *name;
    Expr *rhs;
    bool is_input;     // name = NUMBER
    double value;      // input value
    size_t node;       // graph index of the bound node
} Stmt;

struct Program {
    Arena arena;
    Stmt *stmts;
    size_t nstmts, cap;
    size_t nnodes;
    size_t *names;     // statement index of each name's last binding
    size_t nnames;
};

static const struct {
    const char *name;
    ValueOp op;
} functions[] = {
    {"exp", OP_EXP}, {"log", OP_LOG}, {"tanh", OP_TANH}, {"sigmoid", OP_SIGMOID},
    {"relu", OP_RELU}, {"max", OP_MAX}, {"min", OP_MIN}, {"abs", OP_ABS},
};
#define NFUNCTIONS (sizeof(functions) / sizeof(functions[0]))

// ---------------------------------------------------------------------------
// Parser state

typedef struct Parser {
    Program *p;
    Diag *d;
    const char *src;
    size_t len;
    size_t pos;        // current byte
    size_t line_end;   // end of the current statement (newline, ';' or len)
    int depth;
    bool failed;       // an error in the current statement
    size_t stmt_nodes; // nodes counted for the current statement
} Parser;

static bool is_name_start(int c) { return isalpha(c) || c == '_'; }
static bool is_name_char(int c) { return isalnum(c) || c == '_'; }

static void skip_space(Parser *ps)
{
    while (ps->pos < ps->line_end && (ps->src[ps->pos] == ' ' || ps->src[ps->pos] == '\t' ||
                                      ps->src[ps->pos] == '\r'))
        ps->pos++;
}

static int peek(Parser *ps)
{
    skip_space(ps);
    if (ps->pos >= ps->line_end)
        return 0;
    return (unsigned char)ps->src[ps->pos];
}

static void error_at(Parser *ps, size_t offset, const char *fmt, const char *a, const char *b)
{
    if (ps->failed)
        return; // one error per statement; the rest would be echoes
    ps->failed = true;
    char msg[512];
    snprintf(msg, sizeof(msg), fmt, a ? a : "", b ? b : "");
    diag_error(ps->d, offset, "%s", msg);
}

// Describe the token at pos for messages: "'y'", "the end of the line".
static void describe_token(Parser *ps, char *out, size_t n)
{
    skip_space(ps);
    if (ps->pos >= ps->line_end) {
        snprintf(out, n, "the end of the line");
        return;
    }
    unsigned char c = (unsigned char)ps->src[ps->pos];
    if (is_name_start(c) || isdigit(c)) {
        size_t e = ps->pos;
        while (e < ps->line_end && (is_name_char((unsigned char)ps->src[e]) || ps->src[e] == '.'))
            e++;
        size_t l = e - ps->pos > 40 ? 40 : e - ps->pos;
        snprintf(out, n, "'%.*s'", (int)l, ps->src + ps->pos);
    } else if (c < 0x20 || c >= 0x7f) {
        snprintf(out, n, "the byte 0x%02x", c);
    } else {
        snprintf(out, n, "'%c'", c);
    }
}

// An EX_OP over a and b (b may be NULL), or NULL when the tree would be
// taller than PROGRAM_MAX_HEIGHT.
static Expr *new_op(Parser *ps, ValueOp op, Expr *a, Expr *b);

static Expr *new_expr(Parser *ps, ExprKind kind)
{
    Expr *e = arena_calloc(&ps->p->arena, 1, sizeof(Expr));
    if (!e) {
        error_at(ps, ps->pos, "out of memory%s%s", NULL, NULL);
        return NULL;
    }
    e->kind = kind;
    if (kind != EX_NAME)
        ps->stmt_nodes++;
    return e;
}

static Expr *new_op(Parser *ps, ValueOp op, Expr *a, Expr *b)
{
    unsigned h = a->height;
    if (b && b->height > h)
        h = b->height;
    if (h + 1 > PROGRAM_MAX_HEIGHT) {
        error_at(ps, ps->pos, "this expression is too long (more than %s operations in a chain); "
                 "split it over several statements%s", "2000", NULL);
        return NULL;
    }
    Expr *e = new_expr(ps, EX_OP);
    if (!e)
        return NULL;
    e->op = op;
    e->a = a;
    e->b = b;
    e->height = h + 1;
    return e;
}

static size_t lex_name(Parser *ps)
{
    size_t start = ps->pos;
    while (ps->pos < ps->line_end && is_name_char((unsigned char)ps->src[ps->pos]))
        ps->pos++;
    return ps->pos - start;
}

// A number literal: digits, optional fraction, optional exponent.
static bool lex_number(Parser *ps, double *out)
{
    size_t start = ps->pos;
    const char *s = ps->src;
    size_t i = ps->pos;
    while (i < ps->line_end && isdigit((unsigned char)s[i]))
        i++;
    if (i < ps->line_end && s[i] == '.') {
        i++;
        while (i < ps->line_end && isdigit((unsigned char)s[i]))
            i++;
    }
    if (i < ps->line_end && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < ps->line_end && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < ps->line_end && isdigit((unsigned char)s[j])) {
            while (j < ps->line_end && isdigit((unsigned char)s[j]))
                j++;
            i = j;
        }
    }
    char buf[64];
    size_t n = i - start;
    if (n == 0 || (n == 1 && s[start] == '.') || n >= sizeof(buf)) {
        error_at(ps, start, "malformed number%s%s", NULL, NULL);
        return false;
    }
    memcpy(buf, s + start, n);
    buf[n] = '\0';
    errno = 0;
    double v = strtod(buf, NULL);
    if (!isfinite(v)) {
        error_at(ps, start, "the number %s is too large for a double", buf, NULL);
        return false;
    }
    ps->pos = i;
    if (i < ps->line_end && is_name_char((unsigned char)s[i])) {
        error_at(ps, i, "unexpected '%s' after a number; put an operator between them, as in 2 * x",
                 (char[]){s[i], 0}, NULL);
        return false;
    }
    *out = v;
    return true;
}

static Expr *parse_expr(Parser *ps);

static size_t find_binding(Program *p, const char *name, size_t n)
{
    for (size_t i = p->nnames; i-- > 0;) {
        const char *b = p->stmts[p->names[i]].name;
        if (strlen(b) == n && memcmp(b, name, n) == 0)
            return p->names[i];
    }
    return SIZE_MAX;
}

static int find_function(const char *name, size_t n)
{
    for (size_t i = 0; i < NFUNCTIONS; i++)
        if (strlen(functions[i].name) == n && memcmp(functions[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

static void unknown_name(Parser *ps, size_t at, const char *name, size_t n)
{
    char word[64];
    snprintf(word, sizeof(word), "%.*s", (int)(n < 40 ? n : 40), name);
    Program *p = ps->p;
    const char *cands[64];
    size_t nc = 0;
    for (size_t i = 0; i < p->nnames && nc < 64; i++)
        cands[nc++] = p->stmts[p->names[i]].name;
    const char *guess = diag_suggest(word, cands, nc);
    if (guess) {
        error_at(ps, at, "unknown name '%s'; did you mean '%s'?", word, guess);
    } else if (find_function(name, n) >= 0) {
        error_at(ps, at, "'%s' is a function; call it with parentheses, as in %s(x)", word, word);
    } else {
        error_at(ps, at, "unknown name '%s'; assign it on an earlier line, as in %s = 1", word, word);
    }
}

static Expr *parse_call_inner(Parser *ps, size_t at, size_t n);
static Expr *parse_call(Parser *ps, size_t at, size_t n)
{
    int depth = ps->depth;
    Expr *e = parse_call_inner(ps, at, n);
    ps->depth = depth;
    return e;
}

// call := NAME '(' expr [',' expr] ')'
static Expr *parse_call_inner(Parser *ps, size_t at, size_t n)
{
    const char *name = ps->src + at;
    char word[64];
    snprintf(word, sizeof(word), "%.*s", (int)(n < 40 ? n : 40), name);
    int f = find_function(name, n);
    if (f < 0) {
        const char *cands[NFUNCTIONS];
        for (size_t i = 0; i < NFUNCTIONS; i++)
            cands[i] = functions[i].name;
        const char *guess = diag_suggest(word, cands, NFUNCTIONS);
        if (guess)
            error_at(ps, at, "unknown function '%s'; did you mean '%s'?", word, guess);
        else
            error_at(ps, at, "unknown function '%s'; the functions are exp, log, tanh, sigmoid, "
                     "relu, max, min and abs%s", word, NULL);
        return NULL;
    }
    size_t open = ps->pos;
    if (++ps->depth > PROGRAM_MAX_DEPTH) {
        error_at(ps, ps->pos, "expression nested more than 200 levels deep%s%s", NULL, NULL);
        return NULL;
    }
    ps->pos++; // '('
    ValueOp op = functions[f].op;
    int want = value_op_arity(op);
    Expr *args[2] = {NULL, NULL};
    int got = 0;
    if (peek(ps) != ')') {
        for (;;) {
            Expr *e = parse_expr(ps);
            if (!e)
                return NULL;
            if (got < 2)
                args[got] = e;
            got++;
            if (peek(ps) != ',')
                break;
            ps->pos++;
        }
    }
    if (peek(ps) != ')') {
        char tok[64];
        describe_token(ps, tok, sizeof(tok));
        char col[32];
        int line, c;
        diag_position(ps->d, open, &line, &c);
        snprintf(col, sizeof(col), "%d", c);
        if (ps->pos >= ps->line_end)
            error_at(ps, ps->pos, "missing ')' to close the '(' at column %s%s", col, NULL);
        else
            error_at(ps, ps->pos, "expected ',' or ')' in the call, found %s%s", tok, NULL);
        return NULL;
    }
    ps->pos++;
    if (got != want) {
        char msg[64];
        snprintf(msg, sizeof(msg), "%d argument%s, got %d", want, want == 1 ? "" : "s", got);
        error_at(ps, at, "%s takes %s", functions[f].name, msg);
        return NULL;
    }
    return new_op(ps, op, args[0], args[1]);
}

// primary := NUMBER | NAME | call | '(' expr ')'
static Expr *parse_primary(Parser *ps)
{
    int c = peek(ps);
    size_t at = ps->pos;
    if (c == '(') {
        if (++ps->depth > PROGRAM_MAX_DEPTH) {
            error_at(ps, ps->pos, "expression nested more than 200 levels deep%s%s", NULL, NULL);
            return NULL;
        }
        ps->pos++;
        Expr *e = parse_expr(ps);
        ps->depth--;
        if (!e)
            return NULL;
        if (peek(ps) != ')') {
            int line, col;
            diag_position(ps->d, at, &line, &col);
            char colbuf[32];
            snprintf(colbuf, sizeof(colbuf), "%d", col);
            char tok[64];
            describe_token(ps, tok, sizeof(tok));
            if (ps->pos >= ps->line_end)
                error_at(ps, ps->pos, "missing ')' to close the '(' at column %s%s", colbuf, NULL);
            else
                error_at(ps, ps->pos, "expected ')' to close the '(' at column %s, found %s", colbuf, tok);
            return NULL;
        }
        ps->pos++;
        return e;
    }
    if (isdigit(c) || c == '.') {
        double v;
        if (!lex_number(ps, &v))
            return NULL;
        Expr *e = new_expr(ps, EX_NUM);
        if (e)
            e->num = v;
        return e;
    }
    if (is_name_start(c)) {
        size_t n = lex_name(ps);
        if (peek(ps) == '(')
            return parse_call(ps, at, n);
        size_t stmt = find_binding(ps->p, ps->src + at, n);
        if (stmt == SIZE_MAX) {
            unknown_name(ps, at, ps->src + at, n);
            return NULL;
        }
        Expr *e = new_expr(ps, EX_NAME);
        if (e)
            e->stmt = stmt;
        return e;
    }
    char tok[64];
    describe_token(ps, tok, sizeof(tok));
    if (c == ')')
        error_at(ps, at, "unexpected ')' with no '(' to match it%s%s", NULL, NULL);
    else
        error_at(ps, at, "expected a number, a name or '(', found %s%s", tok, NULL);
    return NULL;
}

// The constant after '^': NUMBER, '-' NUMBER, or either in parentheses.
static bool parse_exponent(Parser *ps, double *out)
{
    size_t at = ps->pos;
    int c = peek(ps);
    at = ps->pos;
    int parens = 0;
    while (c == '(') {
        ps->pos++;
        parens++;
        c = peek(ps);
    }
    double sign = 1;
    if (c == '-' || c == '+') {
        sign = c == '-' ? -1 : 1;
        ps->pos++;
        c = peek(ps);
    }
    if (!(isdigit(c) || c == '.')) {
        char tok[64];
        describe_token(ps, tok, sizeof(tok));
        error_at(ps, at, "the exponent after '^' must be a constant number, as in x ^ 2; found %s%s",
                 tok, NULL);
        return false;
    }
    if (!lex_number(ps, out))
        return false;
    if (peek(ps) == '^') {
        ps->pos++;
        double rest;
        if (!parse_exponent(ps, &rest))
            return false;
        *out = pow(*out, rest);
    }
    *out *= sign;
    while (parens-- > 0) {
        if (peek(ps) != ')') {
            error_at(ps, at, "the exponent after '^' must be a constant number, as in x ^ 2%s%s",
                     NULL, NULL);
            return false;
        }
        ps->pos++;
    }
    return true;
}

// power := primary ['^' exponent]   (right-associative through chained '^')
static Expr *parse_power(Parser *ps)
{
    Expr *base = parse_primary(ps);
    while (base && peek(ps) == '^') {
        ps->pos++;
        double ex;
        if (!parse_exponent(ps, &ex))
            return NULL;
        base = new_op(ps, OP_POW, base, NULL);
        if (base)
            base->num = ex;
    }
    return base;
}

// unary := '-' unary | '+' unary | power     (so -x^2 is -(x^2), as in Python)
static Expr *parse_unary(Parser *ps)
{
    int c = peek(ps);
    if (c == '-' || c == '+') {
        if (++ps->depth > PROGRAM_MAX_DEPTH) {
            error_at(ps, ps->pos, "expression nested more than 200 levels deep%s%s", NULL, NULL);
            return NULL;
        }
        ps->pos++;
        Expr *a = parse_unary(ps);
        ps->depth--;
        if (!a || c == '+')
            return a;
        if (a->kind == EX_NUM) { // fold -2 into a literal
            a->num = -a->num;
            return a;
        }
        return new_op(ps, OP_NEG, a, NULL);
    }
    return parse_power(ps);
}

static Expr *parse_binary(Parser *ps, int level)
{
    Expr *lhs = level == 0 ? parse_binary(ps, 1) : parse_unary(ps);
    for (;;) {
        if (!lhs)
            break;
        int c = peek(ps);
        ValueOp op;
        if (level == 0 && (c == '+' || c == '-'))
            op = c == '+' ? OP_ADD : OP_SUB;
        else if (level == 1 && (c == '*' || c == '/'))
            op = c == '*' ? OP_MUL : OP_DIV;
        else
            break;
        ps->pos++;
        if (peek(ps) == 0) {
            error_at(ps, ps->pos, "expected a number, a name or '(' after '%s'%s",
                     (char[]){(char)c, 0}, NULL);
            lhs = NULL;
            break;
        }
        Expr *rhs = level == 0 ? parse_binary(ps, 1) : parse_unary(ps);
        if (!rhs) {
            lhs = NULL;
            break;
        }
        lhs = new_op(ps, op, lhs, rhs);
    }
    return lhs;
}

static Expr *parse_expr(Parser *ps)
{
    return parse_binary(ps, 0);
}

// ---------------------------------------------------------------------------
// Statements

static bool add_stmt(Parser *ps, Stmt st)
{
    Program *p = ps->p;
    if (p->nstmts == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        Stmt *s = realloc(p->stmts, cap * sizeof(*s));
        size_t *names = realloc(p->names, cap * sizeof(*names));
        if (s)
            p->stmts = s;
        if (names)
            p->names = names;
        if (!s || !names)
            return false;
        p->cap = cap;
    }
    size_t idx = p->nstmts++;
    p->stmts[idx] = st;
    for (size_t i = 0; i < p->nnames; i++) {
        if (strcmp(p->stmts[p->names[i]].name, st.name) == 0) {
            p->names[i] = idx;
            return true;
        }
    }
    p->names[p->nnames++] = idx;
    return true;
}

static void parse_statement(Parser *ps)
{
    Program *p = ps->p;
    int c = peek(ps);
    if (c == 0 || c == '#')
        return;
    size_t at = ps->pos;
    if (!is_name_start(c)) {
        char tok[64];
        describe_token(ps, tok, sizeof(tok));
        error_at(ps, at, "expected a name at the start of the statement, as in f = x * y; found %s%s",
                 tok, NULL);
        return;
    }
    size_t n = lex_name(ps);
    char word[64];
    snprintf(word, sizeof(word), "%.*s", (int)(n < 40 ? n : 40), ps->src + at);
    if (peek(ps) != '=') {
        char tok[64];
        describe_token(ps, tok, sizeof(tok));
        error_at(ps, ps->pos, "expected '=' after '%s', found %s", word, tok);
        return;
    }
    if (find_function(ps->src + at, n) >= 0) {
        error_at(ps, at, "'%s' is the name of a function; choose another name%s", word, NULL);
        return;
    }
    if (n > 64) {
        error_at(ps, at, "the name '%s...' is longer than 64 characters%s", word, NULL);
        return;
    }
    ps->pos++; // '='
    size_t nodes_before = p->nnodes;
    ps->stmt_nodes = 0;
    ps->depth = 0;
    if (peek(ps) == 0 || peek(ps) == '#') {
        error_at(ps, ps->pos, "expected an expression after '%s ='%s", word, NULL);
        return;
    }
    Expr *rhs = parse_expr(ps);
    if (!rhs)
        return;
    int after = peek(ps);
    if (after != 0 && after != '#') {
        char tok[64];
        describe_token(ps, tok, sizeof(tok));
        if (after == ')')
            error_at(ps, ps->pos, "unexpected ')' with no '(' to match it%s%s", NULL, NULL);
        else
            error_at(ps, ps->pos, "expected an operator or the end of the statement, found %s%s", tok,
                     NULL);
        return;
    }
    Stmt st = {0};
    st.name = arena_strndup(&p->arena, ps->src + at, n);
    st.rhs = rhs;
    if (rhs->kind == EX_NUM) {
        st.is_input = true;
        st.value = rhs->num;
    }
    if (nodes_before + ps->stmt_nodes > PROGRAM_MAX_NODES) {
        error_at(ps, at, "the program needs more than %s nodes, gradlab's limit; make it smaller%s",
                 "100000", NULL);
        return;
    }
    p->nnodes = nodes_before + ps->stmt_nodes;
    st.node = rhs->kind == EX_NAME ? p->stmts[rhs->stmt].node : p->nnodes - 1;
    if (!st.name || !add_stmt(ps, st))
        error_at(ps, at, "out of memory%s%s", NULL, NULL);
}

Program *program_parse(const char *src, size_t len, Diag *d)
{
    return program_parse_span(src, 0, len, d);
}

Program *program_parse_span(const char *src, size_t start, size_t len, Diag *d)
{
    Program *p = calloc(1, sizeof(*p));
    if (!p) {
        diag_error_file(d, "out of memory");
        return NULL;
    }
    arena_init(&p->arena, 0, 0);
    Parser ps = {.p = p, .d = d, .src = src, .len = len, .pos = start};
    int errors_before = d->nerrors;
    while (ps.pos < len) {
        // A statement runs to the newline or ';' (a ';' inside a comment counts
        // as comment text).
        size_t end = ps.pos;
        while (end < len && src[end] != '\n' && src[end] != ';' && src[end] != '#')
            end++;
        if (end < len && src[end] == '#')
            while (end < len && src[end] != '\n')
                end++;
        ps.line_end = end;
        ps.failed = false;
        if (memchr(src + ps.pos, '\0', end - ps.pos)) {
            diag_error(d, (size_t)((const char *)memchr(src + ps.pos, '\0', end - ps.pos) - src),
                       "the text contains a NUL byte; is this a binary file?");
            break;
        }
        parse_statement(&ps);
        ps.pos = end + 1;
        if (d->nerrors - errors_before >= DIAG_MAX_ERRORS)
            break;
    }
    if (d->nerrors == errors_before && p->nstmts == 0)
        diag_error(d, start, "the program is empty; write at least one statement, as in f = x * y");
    if (d->nerrors != errors_before) {
        program_destroy(p);
        return NULL;
    }
    return p;
}

void program_destroy(Program *p)
{
    if (!p)
        return;
    arena_destroy(&p->arena);
    free(p->stmts);
    free(p->names);
    free(p);
}

// ---------------------------------------------------------------------------
// Building

static Value *build_expr(const Program *p, Graph *g, const Expr *e)
{
    switch (e->kind) {
    case EX_NUM:
        return value_const(g, e->num);
    case EX_NAME:
        return g->nodes[p->stmts[e->stmt].node];
    case EX_OP: {
        Value *a = build_expr(p, g, e->a);
        Value *b = e->b ? build_expr(p, g, e->b) : NULL;
        return value_apply(g, e->op, a, b, e->num);
    }
    }
    return NULL;
}

Value *program_build(const Program *p, Graph *g)
{
    graph_reset(g);
    Value *out = NULL;
    for (size_t i = 0; i < p->nstmts; i++) {
        const Stmt *st = &p->stmts[i];
        if (st->is_input) {
            out = value_input(g, st->value, st->name);
        } else {
            out = build_expr(p, g, st->rhs);
            if (out && st->rhs->kind != EX_NAME && !value_set_name(g, out, st->name))
                out = NULL;
        }
        if (!out)
            return NULL;
    }
    return out;
}

size_t program_name_count(const Program *p) { return p->nnames; }
const char *program_name(const Program *p, size_t i) { return p->stmts[p->names[i]].name; }
const char *program_output_name(const Program *p) { return p->stmts[p->nstmts - 1].name; }
size_t program_node_count(const Program *p) { return p->nnodes; }

Value *program_lookup(const Program *p, const Graph *g, const char *name)
{
    for (size_t i = 0; i < p->nnames; i++) {
        const Stmt *st = &p->stmts[p->names[i]];
        if (strcmp(st->name, name) == 0)
            return st->node < g->n ? g->nodes[st->node] : NULL;
    }
    return NULL;
}

size_t program_binding_node(const Program *p, const char *name)
{
    for (size_t i = 0; i < p->nnames; i++) {
        const Stmt *st = &p->stmts[p->names[i]];
        if (strcmp(st->name, name) == 0)
            return st->node;
    }
    return SIZE_MAX;
}

size_t program_input_count(const Program *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nstmts; i++)
        n += p->stmts[i].is_input;
    return n;
}

static Stmt *nth_input(const Program *p, size_t k)
{
    for (size_t i = 0; i < p->nstmts; i++)
        if (p->stmts[i].is_input && k-- == 0)
            return &p->stmts[i];
    return NULL;
}

const char *program_input_name(const Program *p, size_t i) { return nth_input(p, i)->name; }
double program_input_value(const Program *p, size_t i) { return nth_input(p, i)->value; }

bool program_set_input(Program *p, const char *name, double value)
{
    bool found = false;
    // Every input statement binding this name takes the value; normally one.
    for (size_t i = 0; i < p->nstmts; i++) {
        if (p->stmts[i].is_input && strcmp(p->stmts[i].name, name) == 0) {
            p->stmts[i].value = value;
            found = true;
        }
    }
    return found;
}
