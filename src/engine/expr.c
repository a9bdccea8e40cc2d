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
} Stmt;

struct Program {
    Arena arena;
    Stmt *stmts;
    size_t nstmts, cap;
    size_t nnodes;
    size_t *names;     // statement index of each name's last binding
    size_t nnames;
    size_t *table;     // open-addressed hash: slot -> position in names + 1, 0 = empty
    size_t table_cap;  // a power of two, at least twice nnames
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

static void unknown_name(Parser *ps, size_t at, const char *name, size_t n)
{
    char word[64];
    snprintf(word, sizeof(word), "%.*s", (int)(n < 40 ? n : 40), name);
    Program *p = ps->p;
    const char *cands[64];
    size_t nc = 0;
    for (size_t i = 0; i < p->nnames && nc < 64; i++)
        if (!p->stmts[p->names[i]].poisoned)
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
                     "relu, max, min and abs", word);
        return NULL;
    }
    size_t open = ps->pos;
    if (++ps->depth > PROGRAM_MAX_DEPTH) {
        error_at(ps, ps->pos, "expression nested more than 200 levels deep");
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
    return new_op(ps, op, args[0], args[1]);
}

// primary := NUMBER | NAME | call | '(' expr ')'
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
        size_t stmt = find_binding(ps->p, ps->src + at, n);
        if (stmt == SIZE_MAX) {
            unknown_name(ps, at, ps->src + at, n);
            return NULL;
        }
        if (ps->p->stmts[stmt].poisoned) { // already reported where it was defined
            ps->failed = true;
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
    size_t idx = p->nstmts++;
    size_t slot = name_slot(p, st.name, strlen(st.name));
    st.prev = p->table[slot] ? p->names[p->table[slot] - 1] : SIZE_MAX;
    st.version = st.prev == SIZE_MAX ? 1 : p->stmts[st.prev].version + 1;
    p->stmts[idx] = st;
    if (p->table[slot]) { // a reassignment: the name now means this statement
        p->names[p->table[slot] - 1] = idx;
        return true;
    }
    p->names[p->nnames++] = idx;
    p->table[slot] = p->nnames;
    return true;
}

// Parse the right side of `name = ...` into st. false after an error.
static bool parse_rhs(Parser *ps, Stmt *st, size_t at, const char *word)
{
    Program *p = ps->p;
    size_t nodes_before = p->nnodes;
    ps->stmt_nodes = 0;
    ps->depth = 0;
    if (peek(ps) == 0 || peek(ps) == '#') {
        error_at(ps, ps->pos, "expected an expression after '%s ='", word);
        return false;
    }
    Expr *rhs = parse_expr(ps);
    if (!rhs)
        return false;
    int after = peek(ps);
    if (after != 0 && after != '#') {
        char tok[64];
        describe_token(ps, tok, sizeof(tok));
        if (after == ')')
            error_at(ps, ps->pos, "unexpected ')' with no '(' to match it");
        else
            error_at(ps, ps->pos, "expected an operator or the end of the statement, found %s", tok);
        return false;
    }
    st->rhs = rhs;
    if (rhs->kind == EX_NUM) {
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

// Bind name src[at..at+n) to a statement that failed, so later lines that use
// it do not also report it as unknown: one mistake, one message.
static void bind_poisoned(Parser *ps, size_t at, size_t n)
{
    Stmt st = {.poisoned = true, .node = SIZE_MAX};
    st.name = arena_strndup(&ps->p->arena, ps->src + at, n);
    if (!st.name || !add_stmt(ps, st))
        error_at(ps, at, "out of memory");
}

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
        if (n > 0 && n <= 64 && is_name_start(c) && peek(ps) == '=' && ps->pos < bad &&
            find_function(ps->src + at, n) < 0)
            bind_poisoned(ps, at, n);
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
    if (peek(ps) != '=') {
        char tok[64];
        describe_token(ps, tok, sizeof(tok));
        error_at(ps, ps->pos, "expected '=' after '%s', found %s", word, tok);
        return;
    }
    if (find_function(ps->src + at, n) >= 0) {
        error_at(ps, at, "'%s' is the name of a function; choose another name", word);
        return;
    }
    if (n > 64) {
        error_at(ps, at, "the name '%s...' is longer than 64 characters", word);
        return;
    }
    ps->pos++; // '='
    if (p->nstmts >= PROGRAM_MAX_STATEMENTS) {
        error_at(ps, at, "the program has more than %d statements, gradlab's limit; make it smaller",
                 PROGRAM_MAX_STATEMENTS);
        return;
    }
    Stmt st = {0};
    st.name = arena_strndup(&p->arena, ps->src + at, n);
    if (!st.name) {
        error_at(ps, at, "out of memory");
        return;
    }
    if (!parse_rhs(ps, &st, at, word)) {
        bind_poisoned(ps, at, n);
        return;
    }
    if (!add_stmt(ps, st))
        error_at(ps, at, "out of memory");
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
    Parser ps = {.p = p, .d = d, .src = src, .len = len, .pos = start};
    int errors_before = d->nerrors;
    while (ps.pos < len) {
        // A statement runs to the end of the line ("\n", "\r\n" or an old
        // Mac's lone "\r") or to ';' (a ';' inside a comment counts as comment
        // text).
        size_t end = ps.pos;
        while (end < len && src[end] != '\n' && src[end] != '\r' && src[end] != ';' && src[end] != '#')
            end++;
        if (end < len && src[end] == '#')
            while (end < len && src[end] != '\n' && src[end] != '\r')
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
    free(p->table);
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

ProgramBinding program_binding(const Program *p, size_t i)
{
    const Stmt *st = &p->stmts[i];
    ProgramBinding b = {.name = st->name, .node = st->node, .version = st->version, .input = st->is_input};
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
