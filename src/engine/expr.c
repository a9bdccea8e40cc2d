// expr.c: lexer, recursive-descent parser and graph builder for expression
// programs; see expr.h for the language.
//
// Parsing resolves every name to the statement that last bound it and counts
// the nodes each statement will create, so the graph index of every binding
// is known before any graph exists.
//
// Loops are unrolled while parsing: the body's text is parsed once per
// iteration with the loop variable bound to a number, so an element name such
// as h[t] becomes the plain name "h[3]" and every later stage (building,
// lessons, views) sees ordinary statements. A list is the family of names
// "x[0]", "x[1]", ... that share a base; the list table only remembers which
// exist, for sum(x) and for messages.
#include "engine/expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
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
    bool loopvar;      // EX_NUM: a loop variable's value, not a literal (so `a = t` is no input)
};

typedef struct Stmt {
    const char *name;
    Expr *rhs;
    bool is_input;     // name = NUMBER
    double value;      // input value
    size_t node;       // graph index of the bound node
    bool poisoned;     // the statement had an error: uses of its name report nothing more
    size_t prev;       // the statement that bound this name before, or SIZE_MAX
    unsigned version;  // 1 for the name's first assignment, 2 for its second, ...
    unsigned short loop;  // top-level loop that made it (from 1), 0 = outside loops
    int step;             // with loop: the outermost loop variable's value
    bool shared;       // read by more than one iteration (or by one and by code outside)
    bool read;         // a reader below has been recorded
    unsigned short reader_loop;
    int reader_step;
} Stmt;

// A list: the names BASE[i]... that exist. elems holds the statement of each
// element's first binding, in order of creation.
typedef struct List {
    const char *name;
    size_t *elems;
    size_t n, cap;
} List;

struct Program {
    Arena arena;
    Stmt *stmts;
    size_t nstmts, cap;
    size_t nnodes;
    size_t *names;     // statement index of each name's last binding
    size_t nnames;
    size_t *table;     // open-addressed hash: slot -> position in names + 1, 0 = empty
    size_t table_cap;  // a power of two, at least twice nnames
    List *lists;
    size_t nlists, lists_cap;
    size_t *list_table;     // as table, for list base names: slot -> position in lists + 1
    size_t list_table_cap;
    ProgramLoop *loops;     // the top-level loops, in program order
    size_t nloops, loops_cap;
    size_t *inputs;         // statement index of each input, in program order
    size_t ninputs, inputs_cap;
};

static uint64_t name_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

// The slot holding name s[0..n), or the empty slot where it would go.
static size_t name_slot(const Program *p, const char *s, size_t n)
{
    size_t mask = p->table_cap - 1;
    for (size_t i = name_hash(s, n) & mask;; i = (i + 1) & mask) {
        size_t k = p->table[i];
        if (k == 0)
            return i;
        const char *b = p->stmts[p->names[k - 1]].name;
        if (strncmp(b, s, n) == 0 && b[n] == '\0')
            return i;
    }
}

// Position in names of the name s[0..n), or SIZE_MAX.
static size_t name_find(const Program *p, const char *s, size_t n)
{
    if (!p->table_cap)
        return SIZE_MAX;
    size_t k = p->table[name_slot(p, s, n)];
    return k ? k - 1 : SIZE_MAX;
}

// Make room for one more name. false when out of memory.
static bool name_table_grow(Program *p)
{
    if (2 * (p->nnames + 1) <= p->table_cap)
        return true;
    size_t cap = p->table_cap ? p->table_cap * 2 : 64;
    size_t *old = p->table, old_cap = p->table_cap;
    p->table = calloc(cap, sizeof(size_t));
    if (!p->table) {
        p->table = old;
        return false;
    }
    p->table_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i]) {
            const char *b = p->stmts[p->names[old[i] - 1]].name;
            p->table[name_slot(p, b, strlen(b))] = old[i];
        }
    free(old);
    return true;
}

// The slot holding list base s[0..n), or the empty slot where it would go.
static size_t list_slot(const Program *p, const char *s, size_t n)
{
    size_t mask = p->list_table_cap - 1;
    for (size_t i = name_hash(s, n) & mask;; i = (i + 1) & mask) {
        size_t k = p->list_table[i];
        if (k == 0)
            return i;
        const char *b = p->lists[k - 1].name;
        if (strncmp(b, s, n) == 0 && b[n] == '\0')
            return i;
    }
}

// The list with base name s[0..n), or NULL.
static List *list_find(const Program *p, const char *s, size_t n)
{
    if (!p->list_table_cap)
        return NULL;
    size_t k = p->list_table[list_slot(p, s, n)];
    return k ? &p->lists[k - 1] : NULL;
}

// The list with base name s[0..n), created when missing. NULL when out of memory.
static List *list_get(Program *p, const char *s, size_t n)
{
    List *l = list_find(p, s, n);
    if (l)
        return l;
    if (2 * (p->nlists + 1) > p->list_table_cap) {
        size_t cap = p->list_table_cap ? p->list_table_cap * 2 : 64;
        size_t *t = calloc(cap, sizeof(size_t));
        if (!t)
            return NULL;
        size_t *old = p->list_table, old_cap = p->list_table_cap;
        p->list_table = t;
        p->list_table_cap = cap;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i]) {
                const char *b = p->lists[old[i] - 1].name;
                p->list_table[list_slot(p, b, strlen(b))] = old[i];
            }
        free(old);
    }
    if (p->nlists == p->lists_cap) {
        size_t cap = p->lists_cap ? p->lists_cap * 2 : 8;
        List *ls = realloc(p->lists, cap * sizeof(*ls));
        if (!ls)
            return NULL;
        p->lists = ls;
        p->lists_cap = cap;
    }
    const char *name = arena_strndup(&p->arena, s, n);
    if (!name)
        return NULL;
    p->lists[p->nlists] = (List){.name = name};
    p->list_table[list_slot(p, s, n)] = ++p->nlists;
    return &p->lists[p->nlists - 1];
}

// Built-in functions. Those of format 1 are reserved words; sqrt, pow and
// sum came later, so a version-1 program may still use them as names (the
// call syntax tells a call from a name).
typedef enum FnKind { FN_OP, FN_POW, FN_SUM } FnKind;
static const struct {
    const char *name;
    ValueOp op;
    FnKind kind;
    bool reserved;
} functions[] = {
    {"exp", OP_EXP, FN_OP, true}, {"log", OP_LOG, FN_OP, true}, {"tanh", OP_TANH, FN_OP, true},
    {"sigmoid", OP_SIGMOID, FN_OP, true}, {"relu", OP_RELU, FN_OP, true}, {"max", OP_MAX, FN_OP, true},
    {"min", OP_MIN, FN_OP, true}, {"abs", OP_ABS, FN_OP, true}, {"sqrt", OP_SQRT, FN_OP, false},
    {"pow", OP_POW, FN_POW, false}, {"sum", OP_ADD, FN_SUM, false},
};
#define NFUNCTIONS (sizeof(functions) / sizeof(functions[0]))
#define FUNCTION_LIST "exp, log, tanh, sigmoid, relu, max, min, abs, sqrt, pow and sum"

// ---------------------------------------------------------------------------
// Parser state

#define PROGRAM_MAX_UNROLLED ((size_t)64 << 20) // bytes of loop bodies parsed in all
#define PROGRAM_MAX_LOOPS 65535       // top-level loops (Value.loop is 16 bits)

typedef struct LoopVar {
    const char *name;  // in the source text
    size_t len;
    long value;
} LoopVar;

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
    int errors_before; // d->nerrors when parsing began
    bool halt;         // stop: a loop went wrong, or too many errors
    LoopVar loops[PROGRAM_MAX_LOOP_DEPTH]; // the enclosing loops, outermost first
    int nloops;
    size_t iterations; // loop iterations so far
    size_t unrolled;   // bytes of loop bodies parsed so far
    bool index_huge;   // the index being parsed saturated at INDEX_CAP
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

// Report an error at offset, once per statement (the rest would be echoes).
static void error_at(Parser *ps, size_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void error_at(Parser *ps, size_t offset, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
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
        error_at(ps, ps->pos, "out of memory");
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
                 "split it over several statements", "2000");
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

// How a literal is quoted in messages: whole when short, else its first 24
// characters and its length.
static void quote_literal(char *out, size_t n, const char *s, size_t len)
{
    if (len <= 40)
        snprintf(out, n, "%.*s", (int)len, s);
    else
        snprintf(out, n, "%.24s... (%zu characters)", s, len);
}

// A number literal: digits, optional fraction, optional exponent, of any
// length (strtod reads a copy ending at the literal, never the text after it).
static bool lex_number(Parser *ps, double *out)
{
    size_t start = ps->pos;
    const char *s = ps->src;
    size_t i = ps->pos;
    bool nonzero = false; // a nonzero digit in the mantissa
    while (i < ps->line_end && isdigit((unsigned char)s[i]))
        nonzero |= s[i++] != '0';
    if (i < ps->line_end && s[i] == '.') {
        i++;
        while (i < ps->line_end && isdigit((unsigned char)s[i]))
            nonzero |= s[i++] != '0';
    }
    if (i - start == 1 && s[start] == '.') {
        error_at(ps, start, "'.' alone is not a number; write 0.5 or 5.0");
        return false;
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
    size_t n = i - start;
    char small[64];
    char *buf = n < sizeof(small) ? small : malloc(n + 1);
    if (!buf) {
        error_at(ps, start, "out of memory");
        return false;
    }
    memcpy(buf, s + start, n);
    buf[n] = '\0';
    double v = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    char quoted[64];
    quote_literal(quoted, sizeof(quoted), s + start, n);
    if (!isfinite(v)) {
        error_at(ps, start, "the number %s is out of range of a double (largest is about 1.8e308)", quoted);
        return false;
    }
    if (v == 0 && nonzero) {
        error_at(ps, start, "the number %s is too small for a double (smallest is about 5e-324); "
                 "write 0 if you mean zero", quoted);
        return false;
    }
    ps->pos = i;
    if (i < ps->line_end && is_name_char((unsigned char)s[i])) {
        error_at(ps, i, "unexpected '%s' after a number; put an operator between them, as in 2 * x", (char[]){s[i], 0});
        return false;
    }
    *out = v;
    return true;
}

static Expr *parse_expr(Parser *ps);

static size_t find_binding(const Program *p, const char *name, size_t n)
{
    size_t k = name_find(p, name, n);
    return k == SIZE_MAX ? SIZE_MAX : p->names[k];
}

static int find_function(const char *name, size_t n)
{
    for (size_t i = 0; i < NFUNCTIONS; i++)
        if (strlen(functions[i].name) == n && memcmp(functions[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

// Whether s[0..n) is a reserved function name (format 1's functions).
static bool reserved_name(const char *s, size_t n)
{
    int f = find_function(s, n);
    return f >= 0 && functions[f].reserved;
}

// The enclosing loop whose variable is s[0..n), or NULL.
static LoopVar *find_loop_var(Parser *ps, const char *s, size_t n)
{
    for (int i = 0; i < ps->nloops; i++)
        if (ps->loops[i].len == n && memcmp(ps->loops[i].name, s, n) == 0)
            return &ps->loops[i];
    return NULL;
}

// " (at t = 3)" or " (at t = 3, i = 1)" inside loops, else "".
static const char *loop_context(const Parser *ps, char *buf, size_t n)
{
    buf[0] = '\0';
    size_t len = 0;
    for (int i = 0; i < ps->nloops && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%.*s = %ld", i ? ", " : " (at ", (int)ps->loops[i].len,
                                ps->loops[i].name, ps->loops[i].value);
    if (ps->nloops && len < n)
        snprintf(buf + len, n - len, ")");
    return buf;
}

static void unknown_name(Parser *ps, size_t at, const char *name, size_t n)
{
    char word[64], ctx[96];
    snprintf(word, sizeof(word), "%.*s", (int)(n < 40 ? n : 40), name);
    loop_context(ps, ctx, sizeof(ctx));
    Program *p = ps->p;
    const char *cands[64];
    size_t nc = 0;
    for (size_t i = 0; i < p->nnames && nc < 64; i++)
        if (!p->stmts[p->names[i]].poisoned)
            cands[nc++] = p->stmts[p->names[i]].name;
    const char *guess = diag_suggest(word, cands, nc);
    if (list_find(p, name, n)) {
        error_at(ps, at, "'%s' is a list; read one element, as in %s[0], or add them all with sum(%s)", word,
                 word, word);
    } else if (guess) {
        error_at(ps, at, "unknown name '%s'%s; did you mean '%s'?", word, ctx, guess);
    } else if (find_function(name, n) >= 0) {
        error_at(ps, at, "'%s' is a function; call it with parentheses, as in %s(x)", word, word);
    } else {
        error_at(ps, at, "unknown name '%s'%s; assign it on an earlier line, as in %s = 1", word, ctx, word);
    }
}

// An EX_NAME reading statement stmt. Records who reads it: a value read by
// more than one loop iteration (a weight every time step uses) is shared.
static Expr *name_ref(Parser *ps, size_t stmt)
{
    Expr *e = new_expr(ps, EX_NAME);
    if (!e)
        return NULL;
    e->stmt = stmt;
    Stmt *s = &ps->p->stmts[stmt];
    unsigned short loop = ps->nloops ? (unsigned short)ps->p->nloops : 0; // the current top-level loop
    int step = ps->nloops ? (int)ps->loops[0].value : 0;
    if (loop != 0 && s->loop == loop && s->step == step)
        return e; // a value of this same iteration
    if (!s->read) {
        s->read = true;
        s->reader_loop = loop;
        s->reader_step = step;
    } else if (s->reader_loop != loop || s->reader_step != step) {
        s->shared = true;
    }
    return e;
}

// index := term (('+' | '-') term)*    term := factor ('*' factor)*
// factor := DIGITS | LOOP_VARIABLE | '(' index ')' | '-' factor
// Whole numbers known while parsing: literals and loop variables. Values stay
// within +-1e12 so nothing overflows; callers check their own range.
static bool parse_index_sum(Parser *ps, long long *out);
#define INDEX_CAP 1000000000000ll

static bool parse_index_factor(Parser *ps, long long *out)
{
    int c = peek(ps);
    size_t at = ps->pos;
    if (c == '-' || c == '(') {
        if (++ps->depth > PROGRAM_MAX_DEPTH) {
            error_at(ps, at, "expression nested more than 200 levels deep");
            return false;
        }
        ps->pos++;
        bool ok = c == '-' ? parse_index_factor(ps, out) : parse_index_sum(ps, out);
        ps->depth--;
        if (!ok)
            return false;
        if (c == '-') {
            *out = -*out;
            return true;
        }
        if (peek(ps) != ')') {
            error_at(ps, ps->pos, "missing ')' in the index");
            return false;
        }
        ps->pos++;
        return true;
    }
    if (isdigit(c)) {
        long long v = 0;
        size_t i = ps->pos;
        while (i < ps->line_end && isdigit((unsigned char)ps->src[i])) {
            if (v < INDEX_CAP)
                v = v * 10 + (ps->src[i] - '0');
            ps->index_huge |= v >= INDEX_CAP;
            i++;
        }
        bool dot = i < ps->line_end && ps->src[i] == '.' && !(i + 1 < ps->line_end && ps->src[i + 1] == '.');
        if (dot || (i < ps->line_end && is_name_char((unsigned char)ps->src[i]))) {
            error_at(ps, at, "an index is a whole number or a loop variable, as in x[0] or h[t-1]");
            return false;
        }
        ps->pos = i;
        *out = v;
        return true;
    }
    if (is_name_start(c)) {
        size_t n = lex_name(ps);
        LoopVar *lv = find_loop_var(ps, ps->src + at, n);
        if (!lv) {
            char word[64];
            snprintf(word, sizeof(word), "%.*s", (int)(n < 40 ? n : 40), ps->src + at);
            error_at(ps, at, "'%s' is not a loop variable; an index is a whole number or a loop variable, "
                     "as in x[0] or h[t-1]", word);
            return false;
        }
        *out = lv->value;
        return true;
    }
    char tok[64];
    describe_token(ps, tok, sizeof(tok));
    error_at(ps, at, "expected an index, a whole number or a loop variable as in x[0] or h[t-1]; found %s", tok);
    return false;
}

static bool parse_index_term(Parser *ps, long long *out)
{
    if (!parse_index_factor(ps, out))
        return false;
    while (peek(ps) == '*') {
        ps->pos++;
        long long r;
        if (!parse_index_factor(ps, &r))
            return false;
        // Saturate at +-1e12 (far outside any index) instead of overflowing.
        bool big = *out != 0 && (r > INDEX_CAP / llabs(*out) || r < -INDEX_CAP / llabs(*out));
        *out = big ? ((*out > 0) == (r > 0) ? INDEX_CAP : -INDEX_CAP) : *out * r;
        ps->index_huge |= big;
    }
    return true;
}

static bool parse_index_sum(Parser *ps, long long *out)
{
    if (!parse_index_term(ps, out))
        return false;
    for (;;) {
        int c = peek(ps);
        // '..' ends a loop's first bound; a lone '.' is not an operator.
        if (c != '+' && c != '-')
            return true;
        ps->pos++;
        long long r;
        if (!parse_index_term(ps, &r))
            return false;
        *out = c == '+' ? *out + r : *out - r;
        ps->index_huge |= llabs(*out) >= INDEX_CAP;
        *out = *out > INDEX_CAP ? INDEX_CAP : *out < -INDEX_CAP ? -INDEX_CAP : *out;
    }
}

// After a name: '[' index ']' ... Appends "[3]" per index to full (which
// holds the base name, length *len, room cap). false after an error.
static bool parse_indices(Parser *ps, char *full, size_t *len, size_t cap)
{
    int count = 0;
    while (peek(ps) == '[') {
        size_t open = ps->pos;
        if (++count > PROGRAM_MAX_INDICES) {
            error_at(ps, open, "more than %d indices; a list has at most %d dimensions", PROGRAM_MAX_INDICES,
                     PROGRAM_MAX_INDICES);
            return false;
        }
        ps->pos++;
        size_t at = ps->pos;
        long long v;
        int depth = ps->depth;
        ps->index_huge = false;
        bool ok = parse_index_sum(ps, &v);
        ps->depth = depth;
        if (!ok)
            return false;
        if (peek(ps) != ']') {
            char tok[64];
            describe_token(ps, tok, sizeof(tok));
            error_at(ps, ps->pos, "expected ']' to close the '[', found %s", tok);
            return false;
        }
        ps->pos++;
        char ctx[96];
        if (v < 0 || v > PROGRAM_MAX_INDEX) {
            skip_space(ps);
            while (at < ps->pos && (ps->src[at] == ' ' || ps->src[at] == '\t'))
                at++;
            char num[32];
            snprintf(num, sizeof(num), ps->index_huge ? "huge" : "%lld", v);
            error_at(ps, at, "the index is %s%s; indices go from 0 to %d", num, loop_context(ps, ctx, sizeof(ctx)),
                     PROGRAM_MAX_INDEX);
            return false;
        }
        *len += (size_t)snprintf(full + *len, cap - *len, "[%lld]", v);
    }
    return true;
}

// An element read: NAME '[' ... ']' with the base at src[at..at+n) and the
// whole name in full. Reports what is missing when it does not exist.
static Expr *parse_element(Parser *ps, size_t at, size_t n, const char *full, size_t flen)
{
    Program *p = ps->p;
    size_t stmt = find_binding(p, full, flen);
    char base[64], ctx[96];
    snprintf(base, sizeof(base), "%.*s", (int)(n < 40 ? n : 40), ps->src + at);
    loop_context(ps, ctx, sizeof(ctx));
    if (stmt == SIZE_MAX) {
        List *l = list_find(p, ps->src + at, n);
        if (l)
            error_at(ps, at, "'%s' is not assigned%s; the list %s has %zu element%s so far, and this one must be "
                     "assigned before it is read, as in %s = 0", full, ctx, base, l->n, l->n == 1 ? "" : "s", full);
        else if (find_binding(p, ps->src + at, n) != SIZE_MAX)
            error_at(ps, at, "'%s' is a single value, not a list; write it without [ ]", base);
        else
            error_at(ps, at, "unknown list '%s'%s; assign its elements on an earlier line, as in %s = 1 or "
                     "%s = [1, 2, 3]", base, ctx, full, base);
        return NULL;
    }
    if (p->stmts[stmt].poisoned) { // already reported where it was defined
        ps->failed = true;
        return NULL;
    }
    return name_ref(ps, stmt);
}

static Expr *parse_call_inner(Parser *ps, size_t at, size_t n);
static Expr *parse_call(Parser *ps, size_t at, size_t n)
{
    int depth = ps->depth;
    Expr *e = parse_call_inner(ps, at, n);
    ps->depth = depth;
    return e;
}

// sum(NAME): the elements of list NAME added in order of creation, each at
// its latest binding. The '(' is at ps->pos.
static Expr *parse_sum(Parser *ps, size_t at)
{
    Program *p = ps->p;
    ps->pos++; // '('
    int c = peek(ps);
    size_t lat = ps->pos;
    size_t n = is_name_start(c) ? lex_name(ps) : 0;
    if (n == 0 || peek(ps) != ')') {
        error_at(ps, n ? ps->pos : lat, "sum takes the name of a list, as in sum(e), and adds its elements");
        return NULL;
    }
    ps->pos++;
    List *l = list_find(p, ps->src + lat, n);
    char word[64];
    snprintf(word, sizeof(word), "%.*s", (int)(n < 40 ? n : 40), ps->src + lat);
    if (!l) {
        if (find_binding(p, ps->src + lat, n) != SIZE_MAX)
            error_at(ps, lat, "'%s' is a single value, not a list; sum adds the elements of a list", word);
        else
            error_at(ps, lat, "unknown list '%s'; assign its elements on an earlier line, as in %s[0] = 1", word,
                     word);
        return NULL;
    }
    (void)at;
    Expr *acc = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const char *name = p->stmts[l->elems[i]].name;
        size_t stmt = find_binding(p, name, strlen(name));
        if (p->stmts[stmt].poisoned) {
            ps->failed = true;
            return NULL;
        }
        Expr *leaf = name_ref(ps, stmt);
        if (!leaf)
            return NULL;
        acc = acc ? new_op(ps, OP_ADD, acc, leaf) : leaf;
        if (!acc)
            return NULL;
    }
    return acc;
}

// call := NAME '(' expr [',' expr] ')'  |  sum '(' NAME ')'
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
            error_at(ps, at, "unknown function '%s'; the functions are " FUNCTION_LIST, word);
        return NULL;
    }
    if (functions[f].kind == FN_SUM)
        return parse_sum(ps, at);
    size_t open = ps->pos;
    if (++ps->depth > PROGRAM_MAX_DEPTH) {
        error_at(ps, ps->pos, "expression nested more than 200 levels deep");
        return NULL;
    }
    ps->pos++; // '('
    ValueOp op = functions[f].op;
    int want = functions[f].kind == FN_POW ? 2 : value_op_arity(op);
    Expr *args[2] = {NULL, NULL};
    int got = 0;
    size_t arg_at[2] = {0, 0};
    if (peek(ps) != ')') {
        for (;;) {
            if (got < 2)
                arg_at[got] = ps->pos;
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
            error_at(ps, ps->pos, "missing ')' to close the '(' at column %s", col);
        else
            error_at(ps, ps->pos, "expected ',' or ')' in the call, found %s", tok);
        return NULL;
    }
    ps->pos++;
    if (got != want) {
        char msg[64];
        snprintf(msg, sizeof(msg), "%d argument%s, got %d", want, want == 1 ? "" : "s", got);
        error_at(ps, at, "%s takes %s", functions[f].name, msg);
        return NULL;
    }
    if (functions[f].kind == FN_POW) { // pow(x, c): c is a constant, kept in the node
        if (args[1]->kind != EX_NUM) {
            while (ps->src[arg_at[1]] == ' ' || ps->src[arg_at[1]] == '\t')
                arg_at[1]++;
            error_at(ps, arg_at[1], "the exponent of pow must be a constant number, as in pow(x, 2); for a "
                     "variable exponent y write exp(y * log(x))");
            return NULL;
        }
        ps->stmt_nodes--; // the constant is not a node of its own
        Expr *e = new_op(ps, OP_POW, args[0], NULL);
        if (e)
            e->num = args[1]->num;
        return e;
    }
    return new_op(ps, op, args[0], args[1]);
}

// primary := NUMBER | NAME | NAME '[' index ']'... | LOOP_VARIABLE | call | '(' expr ')'
static Expr *parse_primary(Parser *ps)
{
    int c = peek(ps);
    size_t at = ps->pos;
    if (c == '(') {
        if (++ps->depth > PROGRAM_MAX_DEPTH) {
            error_at(ps, ps->pos, "expression nested more than 200 levels deep");
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
                error_at(ps, ps->pos, "missing ')' to close the '(' at column %s", colbuf);
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
        LoopVar *lv = find_loop_var(ps, ps->src + at, n);
        if (lv) { // a loop variable is a constant in each iteration
            if (peek(ps) == '[') {
                error_at(ps, at, "'%.*s' is a loop variable, not a list", (int)n, ps->src + at);
                return NULL;
            }
            Expr *e = new_expr(ps, EX_NUM);
            if (e) {
                e->num = (double)lv->value;
                e->loopvar = true;
            }
            return e;
        }
        if (peek(ps) == '[') {
            char full[160];
            size_t flen = n < 64 ? n : 64;
            memcpy(full, ps->src + at, flen);
            full[flen] = '\0';
            if (n > 64) {
                error_at(ps, at, "the name '%.40s...' is longer than 64 characters", full);
                return NULL;
            }
            if (!parse_indices(ps, full, &flen, sizeof(full)))
                return NULL;
            return parse_element(ps, at, n, full, flen);
        }
        size_t stmt = find_binding(ps->p, ps->src + at, n);
        if (stmt == SIZE_MAX) {
            unknown_name(ps, at, ps->src + at, n);
            return NULL;
        }
        if (ps->p->stmts[stmt].poisoned) { // already reported where it was defined
            ps->failed = true;
            return NULL;
        }
        return name_ref(ps, stmt);
    }
    char tok[64];
    describe_token(ps, tok, sizeof(tok));
    if (c == ')')
        error_at(ps, at, "unexpected ')' with no '(' to match it");
    else
        error_at(ps, at, "expected a number, a name or '(', found %s", tok);
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
        error_at(ps, at, "the exponent after '^' must be a constant number, as in x ^ 2; found %s", tok);
        return false;
    }
    if (!lex_number(ps, out))
        return false;
    if (peek(ps) == '^') { // 2 ^ 3 ^ 2 is 2 ^ 9: recurse, counting the depth
        if (++ps->depth > PROGRAM_MAX_DEPTH) {
            error_at(ps, ps->pos, "expression nested more than 200 levels deep");
            return false;
        }
        ps->pos++;
        double rest;
        bool ok = parse_exponent(ps, &rest);
        ps->depth--;
        if (!ok)
            return false;
        *out = pow(*out, rest);
    }
    *out *= sign;
    while (parens-- > 0) {
        if (peek(ps) != ')') {
            error_at(ps, at, "the exponent after '^' must be a constant number, as in x ^ 2");
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
            error_at(ps, ps->pos, "expression nested more than 200 levels deep");
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
            error_at(ps, ps->pos, "expected a number, a name or '(' after '%s'", (char[]){(char)c, 0});
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
// Characters outside ASCII

// Decode the UTF-8 sequence at s[0..n): its length (1 to 4), or 0 when the
// bytes are not valid UTF-8.
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c < 0xF5 ? 4 : 0;
    if (!len || len > n)
        return 0;
    uint32_t v = len == 1 ? c : len == 2 ? c & 0x1Fu : len == 3 ? c & 0x0Fu : c & 0x07u;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[k] & 0x3Fu);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

// Characters people paste from slides and word processors, and what to write.
static const struct {
    uint32_t cp;
    const char *fix; // after "'C' (U+XXXX) is not ", where "%s" is the character
} lookalikes[] = {
    {0x00D7, "an operator here; write * to multiply"},
    {0x00B7, "an operator here; write * to multiply"},
    {0x22C5, "an operator here; write * to multiply"},
    {0x2219, "an operator here; write * to multiply"},
    {0x2217, "an operator here; write * to multiply"},
    {0x00F7, "an operator here; write / to divide"},
    {0x2215, "an operator here; write / to divide"},
    {0x2212, "the minus sign here; write - (the ASCII hyphen-minus)"},
    {0x2013, "the minus sign here; write - (the ASCII hyphen-minus)"},
    {0x2014, "the minus sign here; write - (the ASCII hyphen-minus)"},
    {0x2010, "the minus sign here; write - (the ASCII hyphen-minus)"},
    {0x2011, "the minus sign here; write - (the ASCII hyphen-minus)"},
    {0x00B2, "an operator here; write ^ 2 for a square, as in x ^ 2"},
    {0x00B3, "an operator here; write ^ 3 for a cube, as in x ^ 3"},
    {0x00A0, "an ordinary space; replace it with a space (it is a no-break space)"},
    {0x2002, "an ordinary space; replace it with a space"},
    {0x2003, "an ordinary space; replace it with a space"},
    {0x2007, "an ordinary space; replace it with a space"},
    {0x2009, "an ordinary space; replace it with a space"},
    {0x200A, "an ordinary space; replace it with a space"},
    {0x202F, "an ordinary space; replace it with a space"},
    {0x3000, "an ordinary space; replace it with a space"},
    {0x200B, "allowed here; delete it (it is an invisible zero-width space)"},
    {0x200C, "allowed here; delete it (it is invisible)"},
    {0x200D, "allowed here; delete it (it is invisible)"},
    {0x2060, "allowed here; delete it (it is invisible)"},
    {0xFEFF, "allowed here; delete it (it is an invisible byte-order mark)"},
};

// Report the byte at `at`, the first one outside ASCII in the statement that
// starts at stmt: the language is ASCII, so say what the character is and
// what to write.
static void non_ascii_error(Parser *ps, size_t at, size_t stmt)
{
    const unsigned char *s = (const unsigned char *)ps->src;
    uint32_t cp = 0;
    size_t len = utf8_decode(s + at, ps->line_end - at, &cp);
    bool in_name = at == stmt || (at > 0 && is_name_char(s[at - 1])) ||
                   (at + 1 < ps->line_end && (is_name_char(s[at + 1]) || s[at + 1] >= 0x80));
    if (!len) { // Latin-1 and the like: most likely a letter of a name
        error_at(ps, at, "byte 0x%02x is not valid UTF-8 text; save the program as UTF-8%s", s[at],
                 in_name ? ", and write names in ASCII letters, digits and _, as in f = x * y" : "");
        return;
    }
    in_name = at == stmt || (at > 0 && is_name_char(s[at - 1])) ||
              (at + len < ps->line_end && (is_name_char(s[at + len]) || s[at + len] >= 0x80));
    char ch[8];
    memcpy(ch, s + at, len);
    ch[len] = '\0';
    for (size_t i = 0; i < sizeof(lookalikes) / sizeof(lookalikes[0]); i++)
        if (lookalikes[i].cp == cp) {
            error_at(ps, at, "'%s' (U+%04X) is not %s", ch, (unsigned)cp, lookalikes[i].fix);
            return;
        }
    bool letter = (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) || (cp >= 0x370 && cp <= 0x52F);
    if (letter || in_name)
        error_at(ps, at, "names are ASCII letters, digits and _; '%s' is not allowed", ch);
    else
        error_at(ps, at, "'%s' (U+%04X) is not part of the language; programs are ASCII: names, numbers, "
                 "+ - * / ^ ( ) , and =", ch, (unsigned)cp);
}

// The first byte outside ASCII in the current statement's code (comments may
// hold any UTF-8), or SIZE_MAX.
static size_t first_non_ascii(const Parser *ps)
{
    for (size_t i = ps->pos; i < ps->line_end && ps->src[i] != '#'; i++)
        if ((unsigned char)ps->src[i] >= 0x80)
            return i;
    return SIZE_MAX;
}

// ---------------------------------------------------------------------------
// Statements

// Add statement st; names with an index ("h[3]") become elements of their
// list. Loop statements record their loop and step. false when out of memory.
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
    if (!name_table_grow(p))
        return false;
    const char *bracket = strchr(st.name, '[');
    List *list = NULL; // (not kept across anything that may grow p->lists)
    if (bracket) {
        list = list_get(p, st.name, (size_t)(bracket - st.name));
        if (!list)
            return false;
        if (list->n == list->cap) {
            size_t cap = list->cap ? 2 * list->cap : 8;
            size_t *elems = realloc(list->elems, cap * sizeof(*elems));
            if (!elems)
                return false;
            list->elems = elems;
            list->cap = cap;
        }
    }
    if (ps->nloops) {
        st.loop = (unsigned short)p->nloops;
        st.step = (int)ps->loops[0].value;
    }
    size_t idx = p->nstmts++;
    size_t slot = name_slot(p, st.name, strlen(st.name));
    st.prev = p->table[slot] ? p->names[p->table[slot] - 1] : SIZE_MAX;
    st.version = st.prev == SIZE_MAX ? 1 : p->stmts[st.prev].version + 1;
    if (st.is_input) {
        if (p->ninputs == p->inputs_cap) {
            size_t cap = p->inputs_cap ? 2 * p->inputs_cap : 16;
            size_t *in = realloc(p->inputs, cap * sizeof(*in));
            if (!in) {
                p->nstmts--;
                return false;
            }
            p->inputs = in;
            p->inputs_cap = cap;
        }
        p->inputs[p->ninputs++] = idx;
    }
    p->stmts[idx] = st;
    if (p->table[slot]) { // a reassignment: the name now means this statement
        p->names[p->table[slot] - 1] = idx;
        return true;
    }
    p->names[p->nnames++] = idx;
    p->table[slot] = p->nnames;
    if (list)
        list->elems[list->n++] = idx;
    return true;
}

// Parse one expression, the right side of `word = ...` or a list element,
// into st. The expression must end the statement, or (in_list) come before
// ',' or ']'. false after an error.
static bool parse_value(Parser *ps, Stmt *st, size_t at, const char *word, bool in_list)
{
    Program *p = ps->p;
    size_t nodes_before = p->nnodes;
    ps->stmt_nodes = 0;
    ps->depth = 0;
    int c = peek(ps);
    if (c == 0 || c == '#' || (in_list && (c == ',' || c == ']'))) {
        if (in_list)
            error_at(ps, ps->pos, "expected an element of the list, a number or an expression");
        else
            error_at(ps, ps->pos, "expected an expression after '%s ='", word);
        return false;
    }
    Expr *rhs = parse_expr(ps);
    if (!rhs)
        return false;
    int after = peek(ps);
    if (in_list ? after != ',' && after != ']' : after != 0 && after != '#') {
        char tok[64];
        describe_token(ps, tok, sizeof(tok));
        if (after == ')')
            error_at(ps, ps->pos, "unexpected ')' with no '(' to match it");
        else if (in_list)
            error_at(ps, ps->pos, "expected ',' or ']' in the list, found %s", tok);
        else
            error_at(ps, ps->pos, "expected an operator or the end of the statement, found %s", tok);
        return false;
    }
    st->rhs = rhs;
    if (rhs->kind == EX_NUM && !rhs->loopvar) {
        st->is_input = true;
        st->value = rhs->num;
    }
    if (nodes_before + ps->stmt_nodes > PROGRAM_MAX_NODES) {
        error_at(ps, at, "the program needs more than %d nodes, gradlab's limit; make it smaller",
                 PROGRAM_MAX_NODES);
        return false;
    }
    p->nnodes = nodes_before + ps->stmt_nodes;
    st->node = rhs->kind == EX_NAME ? p->stmts[rhs->stmt].node : p->nnodes - 1;
    return true;
}

// Bind name to a statement that failed, so later lines that use it do not
// also report it as unknown: one mistake, one message.
static void bind_poisoned(Parser *ps, size_t at, const char *name)
{
    Stmt st = {.poisoned = true, .node = SIZE_MAX};
    st.name = arena_strndup(&ps->p->arena, name, strlen(name));
    if (!st.name || !add_stmt(ps, st))
        error_at(ps, at, "out of memory");
}

// Room for one more statement, else an error at `at`.
static bool statement_room(Parser *ps, size_t at)
{
    if (ps->p->nstmts < PROGRAM_MAX_STATEMENTS)
        return true;
    error_at(ps, at, "the program has more than %d statements, gradlab's limit; make it smaller",
             PROGRAM_MAX_STATEMENTS);
    ps->halt = true;
    return false;
}

// The statement `name = value` where the value starts at ps->pos (in_list:
// a list element). false after an error, with the name bound as poisoned.
static bool parse_binding(Parser *ps, size_t at, const char *name, const char *word, bool in_list)
{
    if (!statement_room(ps, at))
        return false;
    Stmt st = {0};
    st.name = arena_strndup(&ps->p->arena, name, strlen(name));
    if (!st.name) {
        error_at(ps, at, "out of memory");
        return false;
    }
    if (!parse_value(ps, &st, at, word, in_list)) {
        bind_poisoned(ps, at, name);
        return false;
    }
    if (!add_stmt(ps, st)) {
        error_at(ps, at, "out of memory");
        return false;
    }
    return true;
}

// list := '[' item (',' item)* [','] ']'   item := expr | list
// Binds prefix[0], prefix[1], ... (prefix is "x" or, nested, "x[2]"). The
// '[' is at ps->pos.
static bool parse_list(Parser *ps, size_t at, char *prefix, size_t plen, size_t cap, int depth)
{
    size_t open = ps->pos;
    ps->pos++; // '['
    if (peek(ps) == ']') {
        error_at(ps, open, "an empty list; write its elements, as in %s = [1, 2, 3]", prefix);
        return false;
    }
    for (long i = 0;; i++) {
        if (i > PROGRAM_MAX_INDEX) {
            error_at(ps, ps->pos, "more than %d elements in a list", PROGRAM_MAX_INDEX + 1);
            return false;
        }
        size_t len = plen + (size_t)snprintf(prefix + plen, cap - plen, "[%ld]", i);
        bool ok;
        if (peek(ps) == '[') {
            if (depth + 1 >= PROGRAM_MAX_INDICES) {
                error_at(ps, ps->pos, "lists nested more than %d deep", PROGRAM_MAX_INDICES);
                return false;
            }
            ok = parse_list(ps, at, prefix, len, cap, depth + 1);
        } else {
            ok = parse_binding(ps, at, prefix, prefix, true);
        }
        prefix[plen] = '\0';
        if (!ok)
            return false;
        int c = peek(ps);
        if (c != ',' && c != ']') { // after a nested list
            char tok[64];
            describe_token(ps, tok, sizeof(tok));
            error_at(ps, ps->pos, "expected ',' or ']' in the list, found %s", tok);
            return false;
        }
        ps->pos++;
        if (c == ']')
            return true;
        if (peek(ps) == ']') { // a ',' before ']' is allowed
            ps->pos++;
            return true;
        }
    }
}

// statement := NAME ['[' index ']']... '=' (expr | list)
static void parse_statement(Parser *ps)
{
    Program *p = ps->p;
    int c = peek(ps);
    if (c == 0 || c == '#')
        return;
    size_t at = ps->pos;
    size_t bad = first_non_ascii(ps);
    if (bad != SIZE_MAX) {
        non_ascii_error(ps, bad, at);
        size_t n = lex_name(ps);
        if (n > 0 && n <= 64 && is_name_start(c) && peek(ps) == '=' && ps->pos < bad && !reserved_name(ps->src + at, n)) {
            char name[72];
            snprintf(name, sizeof(name), "%.*s", (int)n, ps->src + at);
            bind_poisoned(ps, at, name);
        }
        return;
    }
    if (!is_name_start(c)) {
        char tok[64];
        describe_token(ps, tok, sizeof(tok));
        error_at(ps, at, "expected a name at the start of the statement, as in f = x * y; found %s", tok);
        return;
    }
    size_t n = lex_name(ps);
    char word[64];
    snprintf(word, sizeof(word), "%.*s", (int)(n < 40 ? n : 40), ps->src + at);
    if (n > 64) {
        error_at(ps, at, "the name '%s...' is longer than 64 characters", word);
        return;
    }
    char full[160];
    size_t flen = n;
    memcpy(full, ps->src + at, n);
    full[n] = '\0';
    bool element = peek(ps) == '[';
    if (element && !parse_indices(ps, full, &flen, sizeof(full)))
        return;
    if (element) { // the target as written, for messages: "h[t]"
        size_t e = ps->pos;
        while (e > at && (ps->src[e - 1] == ' ' || ps->src[e - 1] == '\t'))
            e--;
        snprintf(word, sizeof(word), "%.*s", (int)(e - at < 40 ? e - at : 40), ps->src + at);
    }
    if (peek(ps) != '=') {
        char tok[64];
        describe_token(ps, tok, sizeof(tok));
        error_at(ps, ps->pos, "expected '=' after '%s', found %s", word, tok);
        return;
    }
    if (reserved_name(ps->src + at, n)) {
        error_at(ps, at, "'%.*s' is the name of a function; choose another name", (int)n, ps->src + at);
        return;
    }
    if (find_loop_var(ps, ps->src + at, n)) {
        error_at(ps, at, "'%.*s' is the loop's variable; it cannot be assigned, choose another name", (int)n,
                 ps->src + at);
        return;
    }
    ps->pos++; // '='
    bool list_value = peek(ps) == '[';
    if (element && find_binding(p, ps->src + at, n) != SIZE_MAX) {
        error_at(ps, at, "'%.*s' is a single value, not a list; choose another name for the list", (int)n,
                 ps->src + at);
        return;
    }
    if (!element && list_find(p, ps->src + at, n) && !list_value) {
        error_at(ps, at, "'%s' is a list; assign one element, as in %s[0] = ..., or choose another name", word,
                 word);
        return;
    }
    if (!element && list_value && find_binding(p, ps->src + at, n) != SIZE_MAX) {
        error_at(ps, at, "'%s' is a single value, not a list; choose another name for the list", word);
        return;
    }
    if (list_value) {
        if (element) {
            error_at(ps, ps->pos, "an element holds one value, not a list; write %.*s = [...] for the whole list",
                     (int)n, ps->src + at);
            return;
        }
        ps->depth = 0;
        if (parse_list(ps, at, full, flen, sizeof(full), 0) && peek(ps) != 0 && peek(ps) != '#') {
            char tok[64];
            describe_token(ps, tok, sizeof(tok));
            error_at(ps, ps->pos, "expected the end of the statement after the list, found %s", tok);
        }
        return;
    }
    parse_binding(ps, at, full, word, false);
}

// ---------------------------------------------------------------------------
// Blocks and loops

// End of the statement starting at pos: the next line end ("\n", "\r\n" or an
// old Mac's lone "\r") or ';', a comment included (a ';' in it is comment text).
static size_t statement_end(const char *src, size_t pos, size_t to)
{
    size_t end = pos;
    while (end < to && src[end] != '\n' && src[end] != '\r' && src[end] != ';' && src[end] != '#')
        end++;
    if (end < to && src[end] == '#')
        while (end < to && src[end] != '\n' && src[end] != '\r')
            end++;
    return end;
}

// Whether the statement src[pos, end) is `WORD` alone (trailing comment
// allowed) or, with header, starts `for NAME in`. Spaces around words are free.
static bool statement_is(const char *src, size_t pos, size_t end, const char *word, bool header)
{
    while (pos < end && (src[pos] == ' ' || src[pos] == '\t'))
        pos++;
    size_t n = strlen(word);
    if (end - pos < n || memcmp(src + pos, word, n) != 0)
        return false;
    pos += n;
    if (!header) {
        while (pos < end && (src[pos] == ' ' || src[pos] == '\t'))
            pos++;
        return pos == end || src[pos] == '#';
    }
    if (pos >= end || (src[pos] != ' ' && src[pos] != '\t'))
        return false;
    while (pos < end && (src[pos] == ' ' || src[pos] == '\t'))
        pos++;
    if (pos >= end || !is_name_start((unsigned char)src[pos]))
        return false;
    while (pos < end && is_name_char((unsigned char)src[pos]))
        pos++;
    while (pos < end && (src[pos] == ' ' || src[pos] == '\t'))
        pos++;
    return end - pos >= 2 && memcmp(src + pos, "in", 2) == 0 &&
           (end - pos == 2 || !is_name_char((unsigned char)src[pos + 2]));
}

static void parse_block(Parser *ps, size_t from, size_t to);

// for := 'for' NAME 'in' index '..' index [':'] NEWLINE statement... 'end'
// Unrolls the body once per value from the first bound to the last, both
// included. The header is the current statement (ps->pos at 'for', ending at
// header_end). Returns where the statement after 'end' starts.
static size_t parse_for(Parser *ps, size_t header_end, size_t to)
{
    Program *p = ps->p;
    size_t at = ps->pos;
    while (ps->src[at] == ' ' || ps->src[at] == '\t')
        at++;
    ps->pos = at + 3; // 'for'
    skip_space(ps);
    size_t var_at = ps->pos;
    size_t n = lex_name(ps);
    char var[72];
    snprintf(var, sizeof(var), "%.*s", (int)(n < 64 ? n : 64), ps->src + var_at);
    ps->halt = true; // until the header and the body are known to be good
    if (n > 64 || reserved_name(ps->src + var_at, n) || find_function(ps->src + var_at, n) >= 0) {
        error_at(ps, var_at, "'%s' cannot be a loop variable; choose a short name such as t", var);
        return to;
    }
    if (find_loop_var(ps, ps->src + var_at, n)) {
        error_at(ps, var_at, "'%s' is already the variable of an enclosing loop; choose another name", var);
        return to;
    }
    if (find_binding(p, ps->src + var_at, n) != SIZE_MAX || list_find(p, ps->src + var_at, n)) {
        error_at(ps, var_at, "'%s' is already a name in the program; choose another loop variable", var);
        return to;
    }
    skip_space(ps);
    ps->pos += 2; // 'in' (statement_is checked it)
    long long bound[2];
    for (int k = 0; k < 2; k++) {
        ps->depth = 0;
        size_t bat = (skip_space(ps), ps->pos);
        ps->index_huge = false;
        if (!parse_index_sum(ps, &bound[k]))
            return to;
        if (bound[k] < -PROGRAM_MAX_INDEX || bound[k] > PROGRAM_MAX_INDEX) {
            char num[32];
            snprintf(num, sizeof(num), ps->index_huge ? "huge" : "%lld", bound[k]);
            error_at(ps, bat, "the loop bound %s is out of range; bounds go from -%d to %d", num,
                     PROGRAM_MAX_INDEX, PROGRAM_MAX_INDEX);
            return to;
        }
        if (k == 0) {
            if (peek(ps) != '.' || ps->pos + 1 >= ps->line_end || ps->src[ps->pos + 1] != '.') {
                char tok[64];
                describe_token(ps, tok, sizeof(tok));
                error_at(ps, ps->pos, "expected '..' between the loop's bounds, as in for %s in 1..10; found %s",
                         var, tok);
                return to;
            }
            ps->pos += 2;
        }
    }
    if (peek(ps) == ':') // for t in 1..10:  (as Python writes it)
        ps->pos++;
    if (peek(ps) != 0 && peek(ps) != '#') {
        char tok[64];
        describe_token(ps, tok, sizeof(tok));
        error_at(ps, ps->pos, "expected the end of the line after the loop's range, found %s; the body goes on "
                 "the lines below, then 'end'", tok);
        return to;
    }
    // The body: statements up to the matching 'end'.
    size_t body = header_end + 1, body_end = SIZE_MAX, after = to;
    int depth = 1;
    for (size_t q = body; q < to;) {
        size_t e = statement_end(ps->src, q, to);
        if (statement_is(ps->src, q, e, "for", true)) {
            depth++;
        } else if (statement_is(ps->src, q, e, "end", false) && --depth == 0) {
            body_end = q;
            after = e + 1;
            break;
        }
        q = e + 1;
    }
    if (body_end == SIZE_MAX) {
        error_at(ps, at, "this 'for' has no 'end'; close the loop with a line 'end' after its body");
        return to;
    }
    if (ps->nloops == PROGRAM_MAX_LOOP_DEPTH) {
        error_at(ps, at, "loops nested more than %d deep", PROGRAM_MAX_LOOP_DEPTH);
        return to;
    }
    if (ps->nloops == 0) { // a top-level loop: Value.loop numbers these
        if (p->nloops == PROGRAM_MAX_LOOPS) {
            error_at(ps, at, "more than %d loops", PROGRAM_MAX_LOOPS);
            return to;
        }
        if (p->nloops == p->loops_cap) {
            size_t cap = p->loops_cap ? 2 * p->loops_cap : 4;
            ProgramLoop *l = realloc(p->loops, cap * sizeof(*l));
            if (!l) {
                error_at(ps, at, "out of memory");
                return to;
            }
            p->loops = l;
            p->loops_cap = cap;
        }
        int line, col;
        diag_position(ps->d, at, &line, &col);
        const char *name = arena_strndup(&p->arena, var, strlen(var));
        if (!name) {
            error_at(ps, at, "out of memory");
            return to;
        }
        p->loops[p->nloops++] = (ProgramLoop){name, (long)bound[0], (long)bound[1], line};
    }
    ps->halt = false;
    LoopVar *lv = &ps->loops[ps->nloops++];
    *lv = (LoopVar){ps->src + var_at, n, 0};
    int errors = ps->d->nerrors;
    for (long long v = bound[0]; v <= bound[1] && !ps->halt; v++) {
        ps->unrolled += body_end - body;
        if (++ps->iterations > PROGRAM_MAX_ITERATIONS || ps->unrolled > PROGRAM_MAX_UNROLLED) {
            ps->failed = false;
            error_at(ps, at, "the loops run more than %s, gradlab's limit; make them shorter",
                     ps->iterations > PROGRAM_MAX_ITERATIONS ? "100000 iterations in all" : "64 MiB of statements");
            ps->halt = true;
            break;
        }
        lv->value = (long)v;
        parse_block(ps, body, body_end);
        if (ps->d->nerrors != errors) // one iteration's messages say it all
            ps->halt = true;
    }
    ps->nloops--;
    return after;
}

// Parse the statements in src[from, to).
static void parse_block(Parser *ps, size_t from, size_t to)
{
    size_t pos = from;
    while (pos < to && !ps->halt) {
        size_t end = statement_end(ps->src, pos, to);
        ps->pos = pos;
        ps->line_end = end;
        ps->failed = false;
        const char *nul = memchr(ps->src + pos, '\0', end - pos);
        if (nul) {
            diag_error(ps->d, (size_t)(nul - ps->src), "the text contains a NUL byte; is this a binary file?");
            ps->halt = true;
            break;
        }
        size_t next = end + 1;
        if (statement_is(ps->src, pos, end, "for", true)) {
            next = parse_for(ps, end, to);
        } else if (statement_is(ps->src, pos, end, "end", false)) {
            skip_space(ps);
            error_at(ps, ps->pos, "'end' without a 'for'; a loop starts with a line such as for t in 1..10");
        } else {
            parse_statement(ps);
        }
        pos = next;
        if (ps->d->nerrors - ps->errors_before >= DIAG_MAX_ERRORS)
            ps->halt = true;
    }
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
    if (start == 0)
        start = diag_bom_length(src, len); // a UTF-8 byte-order mark is not text
    Parser ps = {.p = p, .d = d, .src = src, .len = len, .pos = start, .errors_before = d->nerrors};
    parse_block(&ps, start, len);
    if (d->nerrors == ps.errors_before && p->nstmts == 0)
        diag_error(d, start, "the program is empty; write at least one statement, as in f = x * y");
    if (d->nerrors != ps.errors_before) {
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
    free(p->table);
    for (size_t i = 0; i < p->nlists; i++)
        free(p->lists[i].elems);
    free(p->lists);
    free(p->list_table);
    free(p->loops);
    free(p->inputs);
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
        size_t first = g->n;
        if (st->is_input) {
            out = value_input(g, st->value, st->name);
        } else {
            out = build_expr(p, g, st->rhs);
            if (out && st->rhs->kind != EX_NAME && !value_set_name(g, out, st->name))
                out = NULL;
        }
        if (!out)
            return NULL;
        for (size_t k = first; k < g->n; k++) { // what the views group by
            g->nodes[k]->loop = st->loop;
            g->nodes[k]->step = st->step;
        }
        if (st->shared)
            out->flags |= VALUE_SHARED;
    }
    return out;
}

size_t program_name_count(const Program *p) { return p->nnames; }
const char *program_name(const Program *p, size_t i) { return p->stmts[p->names[i]].name; }
const char *program_output_name(const Program *p) { return p->stmts[p->nstmts - 1].name; }
size_t program_node_count(const Program *p) { return p->nnodes; }

// The statement of a binding written "NAME" (its last assignment) or
// "NAME@K" (its K-th), or SIZE_MAX.
static size_t find_binding_label(const Program *p, const char *label)
{
    const char *at = strrchr(label, '@');
    size_t n = at ? (size_t)(at - label) : strlen(label);
    size_t k = name_find(p, label, n);
    if (k == SIZE_MAX)
        return SIZE_MAX;
    size_t st = p->names[k];
    if (!at)
        return st;
    char *end;
    unsigned long v = at[1] >= '1' && at[1] <= '9' ? strtoul(at + 1, &end, 10) : 0;
    if (v == 0 || *end)
        return SIZE_MAX;
    while (st != SIZE_MAX && p->stmts[st].version > v)
        st = p->stmts[st].prev;
    return st != SIZE_MAX && p->stmts[st].version == v ? st : SIZE_MAX;
}

size_t program_binding_node(const Program *p, const char *name)
{
    size_t st = find_binding_label(p, name);
    return st == SIZE_MAX ? SIZE_MAX : p->stmts[st].node;
}

size_t program_binding_count(const Program *p) { return p->nstmts; }
size_t program_loop_count(const Program *p) { return p->nloops; }
ProgramLoop program_loop(const Program *p, size_t k) { return p->loops[k]; }

bool program_list(const Program *p, const char *name, size_t *n)
{
    const List *l = list_find(p, name, strlen(name));
    if (n)
        *n = l ? l->n : 0;
    return l != NULL;
}

ProgramBinding program_binding(const Program *p, size_t i)
{
    const Stmt *st = &p->stmts[i];
    ProgramBinding b = {.name = st->name, .node = st->node, .version = st->version, .input = st->is_input,
                        .loop = st->loop, .step = st->step, .shared = st->shared};
    b.versions = p->stmts[find_binding(p, st->name, strlen(st->name))].version;
    return b;
}

const char *program_binding_label(const Program *p, size_t i, char *buf, size_t n)
{
    ProgramBinding b = program_binding(p, i);
    if (b.versions > 1)
        snprintf(buf, n, "%s@%u", b.name, b.version);
    else
        snprintf(buf, n, "%s", b.name);
    return buf;
}

Value *program_lookup(const Program *p, const Graph *g, const char *name)
{
    size_t node = program_binding_node(p, name);
    return node < g->n ? g->nodes[node] : NULL;
}

size_t program_input_count(const Program *p) { return p->ninputs; }
const char *program_input_name(const Program *p, size_t i) { return p->stmts[p->inputs[i]].name; }
double program_input_value(const Program *p, size_t i) { return p->stmts[p->inputs[i]].value; }

bool program_set_input(Program *p, const char *name, double value)
{
    bool found = false;
    // Every input statement binding this name takes the value; normally one.
    size_t st = find_binding(p, name, strlen(name));
    for (; st != SIZE_MAX; st = p->stmts[st].prev) {
        if (p->stmts[st].is_input) {
            p->stmts[st].value = value;
            found = true;
        }
    }
    return found;
}
