// program_gen.h: a structure-aware generator of lesson files, for the
// fuzzers and the property tests.
//
// Raw bytes rarely make a wide or deep program that parses, so a fuzzer fed
// only text never meets a circuit with 2,000 inputs. This generator reads
// the bytes as a recipe instead: every byte string decodes to a valid lesson
// whose program is wide (one sum over up to 2,000 inputs), deep (a chain of
// statements, or calls nested up to the format's depth), fanned out (one
// value used by every gate), a balanced tree, or a random DAG, with inputs
// that may be 0 or negative (so log, / and ^ make NaN and Inf), steps in any
// legal order, either view, and sometimes training. The fuzzer still mutates
// bytes, so coverage guides which recipes it explores.
//
//     size_t n = gen_lesson(data, size, out, GEN_MAX_TEXT);
//
// Header-only (static functions) so each fuzz target and test compiles it in.
#ifndef GRADLAB_PROGRAM_GEN_H
#define GRADLAB_PROGRAM_GEN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define GEN_MAX_INPUTS 2000       // the most inputs a recipe asks for
#define GEN_MAX_TEXT (1u << 19)   // room for the largest lesson it writes

// Bytes read one at a time; past the end every read is 0, so any prefix of
// a recipe is a recipe too.
typedef struct GenReader {
    const uint8_t *p;
    size_t n, at;
} GenReader;

typedef struct GenOut {
    char *buf;
    size_t cap, len;
    int full;                     // the text did not fit (the caller gets 0)
} GenOut;

static inline unsigned gen_u8(GenReader *r)
{
    return r->at < r->n ? r->p[r->at++] : 0;
}

static inline unsigned gen_u16(GenReader *r)
{
    unsigned hi = gen_u8(r);
    return hi << 8 | gen_u8(r);
}

static inline void gen_printf(GenOut *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= o->cap - o->len)
        o->full = 1;
    else
        o->len += (size_t)k;
}

// An input's value: small integers, zero, halves and one large number.
static inline void gen_value(GenReader *r, GenOut *o)
{
    unsigned b = gen_u8(r);
    if (b < 200)
        gen_printf(o, "%d", (int)(b % 13) - 6);
    else if (b < 250)
        gen_printf(o, "%d.5", (int)(b % 7) - 3);
    else
        gen_printf(o, "1e%d", (int)(b % 4) * 100);
}

static const char *const gen_binops[] = {" + ", " - ", " * ", " / "};
static const char *const gen_calls[] = {"tanh", "sigmoid", "relu", "exp", "log", "abs"};
static const char *const gen_calls2[] = {"max", "min"};

// One binary operation of names a and b, chosen by the next byte.
static inline void gen_binary(GenReader *r, GenOut *o, const char *a, const char *b)
{
    unsigned k = gen_u8(r) % 12;
    if (k < 8)
        gen_printf(o, "%s%s%s", a, gen_binops[k % 4], b);
    else if (k < 10)
        gen_printf(o, "%s(%s, %s)", gen_calls2[k % 2], a, b);
    else if (k < 11)
        gen_printf(o, "%s(%s) + %s", gen_calls[gen_u8(r) % 6], a, b);
    else
        gen_printf(o, "%s ^ 2 + %s", a, b);
}

// A count of inputs or nodes: most recipes ask for a few (fast to run, so
// the fuzzer tries many); a first byte from 0xE0 up asks for up to 2,000.
// A few is 1 + (byte + salt) % 96: the recipe's input count takes as salt the
// sum of every byte after it, so that a mutation anywhere in a recipe also
// changes the size of its program.
static inline unsigned gen_count(GenReader *r, unsigned salt)
{
    unsigned b = gen_u8(r);
    if (b < 0xE0)
        return 1 + (b + salt) % 96;
    return 1 + (((b & 0x1F) << 8) | gen_u8(r)) % GEN_MAX_INPUTS;
}

// The salt of the input count of recipe data[0..size): its bytes from 2 on.
static inline unsigned gen_salt(const uint8_t *data, size_t size)
{
    unsigned salt = 0;
    for (size_t i = 2; i < size; i++)
        salt += data[i];
    return salt;
}

// Make recipe[0..size) ask for n inputs (1..GEN_MAX_INPUTS) by writing its
// count bytes (recipe[1], and recipe[2] for more than 96). For tests that
// choose the size; call it after the other bytes are set.
static inline void gen_set_inputs(uint8_t *recipe, size_t size, unsigned n)
{
    if (n <= 96) {
        recipe[1] = (uint8_t)((n - 1 + 96 * 1024u - gen_salt(recipe, size) % 96) % 96);
        return;
    }
    recipe[1] = (uint8_t)(0xE0 | (n - 1) >> 8);
    recipe[2] = (uint8_t)(n - 1);
}

enum { GEN_WIDE, GEN_CHAIN, GEN_NESTED, GEN_FANOUT, GEN_TREE, GEN_DAG, GEN_SHAPES };

// Decode the recipe data[0..size) into a lesson in out[0..cap). Returns the
// length of the text (NUL-terminated), or 0 when cap is too small.
static inline size_t gen_lesson(const uint8_t *data, size_t size, char *out, size_t cap)
{
    GenReader r = {data, size, 0};
    GenOut o = {out, cap, 0, 0};
    unsigned shape = gen_u8(&r) % GEN_SHAPES;
    unsigned ninputs = gen_count(&r, gen_salt(data, size));
    unsigned flags = gen_u8(&r);
    char name[32], prev[32];

    gen_printf(&o, "gradlab-lesson: 1\ntitle: Generated %u-input program (shape %u)\n", ninputs, shape);
    gen_printf(&o, "view: %s\n\nprogram:\n", flags & 1 ? "graph" : "circuit");
    for (unsigned i = 0; i < ninputs; i++) {
        gen_printf(&o, "    a%u = ", i);
        gen_value(&r, &o);
        gen_printf(&o, "\n");
    }
    // Computed statements are named n0, n1, ...; the output is f. Every one
    // of them feeds f, so any of them may be named by a step.
    unsigned ncomp = 0;
    switch (shape) {
    case GEN_WIDE: // f = a0 + a1 + ... (one expression, up to 1,999 operations)
        gen_printf(&o, "    f = a0");
        for (unsigned i = 1; i < ninputs; i++)
            gen_printf(&o, "%sa%u", gen_binops[gen_u8(&r) % 3], i);
        gen_printf(&o, ninputs == 1 ? " * 1\n" : "\n");
        break;
    case GEN_CHAIN: // n_k = n_{k-1} op a_k: as deep as there are inputs
        snprintf(prev, sizeof(prev), "a0");
        for (unsigned i = 1; i < ninputs; i++) {
            snprintf(name, sizeof(name), "n%u", ncomp++);
            gen_printf(&o, "    %s = ", name);
            char ai[16];
            snprintf(ai, sizeof(ai), "a%u", i);
            gen_binary(&r, &o, prev, ai);
            gen_printf(&o, "\n");
            memcpy(prev, name, sizeof(prev));
        }
        gen_printf(&o, "    f = %s * 1\n", prev);
        break;
    case GEN_NESTED: { // n0 = tanh(relu(... a0 ...)), nested up to 190; f = n0 + a1 + ...
        unsigned b = gen_u8(&r), depth = b < 0xE0 ? 1 + b % 24 : 1 + b % 190;
        gen_printf(&o, "    n0 = ");
        for (unsigned d = 0; d < depth; d++)
            gen_printf(&o, "%s(", gen_calls[gen_u8(&r) % 6]);
        gen_printf(&o, "a0");
        for (unsigned d = 0; d < depth; d++)
            gen_printf(&o, ")");
        ncomp = 1;
        gen_printf(&o, "\n    f = n0 * 1");
        for (unsigned i = 1; i < ninputs; i++)
            gen_printf(&o, " + a%u", i);
        gen_printf(&o, "\n");
        break;
    }
    case GEN_FANOUT: { // n0 feeds one gate per input; the products are summed in chunks
        gen_printf(&o, "    n0 = a0 * 2\n");
        ncomp = 1;
        unsigned chunks = 0;
        for (unsigned i = 1; i < ninputs || chunks == 0; i += 900, chunks++) {
            gen_printf(&o, "    s%u = n0 * 1", chunks);
            for (unsigned j = i; j < ninputs && j < i + 900; j++)
                gen_printf(&o, " + n0%sa%u", gen_binops[gen_u8(&r) % 4], j);
            gen_printf(&o, "\n");
        }
        gen_printf(&o, "    f = s0");
        for (unsigned c = 1; c < chunks; c++)
            gen_printf(&o, " + s%u", c);
        gen_printf(&o, chunks == 1 ? " * 1\n" : "\n");
        break;
    }
    case GEN_TREE: { // pairwise reduction: about log2(n) levels of statements
        unsigned level = ninputs, start = 0;
        const char *from = "a";
        while (level > 1) {
            unsigned next = (level + 1) / 2, first = ncomp;
            for (unsigned j = 0; j < next; j++) {
                char x[32], y[32];
                snprintf(x, sizeof(x), "%s%u", from, start + 2 * j);
                snprintf(y, sizeof(y), "%s%u", from, start + 2 * j + 1);
                gen_printf(&o, "    n%u = ", ncomp++);
                if (2 * j + 1 < level)
                    gen_binary(&r, &o, x, y);
                else
                    gen_printf(&o, "%s * 1", x);
                gen_printf(&o, "\n");
            }
            start = first, from = "n", level = next;
        }
        if (ncomp)
            gen_printf(&o, "    f = n%u + 0\n", ncomp - 1);
        else
            gen_printf(&o, "    f = a0 + 0\n");
        break;
    }
    default: { // a random DAG over the inputs and earlier nodes; f sums the rest
        unsigned nodes = gen_count(&r, 0); // usually few
        for (unsigned k = 0; k < nodes; k++) {
            unsigned pool = ninputs + ncomp;
            unsigned x = gen_u16(&r) % pool, y = gen_u16(&r) % pool;
            char sx[32], sy[32];
            snprintf(sx, sizeof(sx), x < ninputs ? "a%u" : "n%u", x < ninputs ? x : x - ninputs);
            snprintf(sy, sizeof(sy), y < ninputs ? "a%u" : "n%u", y < ninputs ? y : y - ninputs);
            gen_printf(&o, "    n%u = ", ncomp++);
            gen_binary(&r, &o, sx, sy);
            gen_printf(&o, "\n");
        }
        // Chunks of at most 1,000 terms keep each expression under the height limit.
        unsigned chunk = 0;
        for (unsigned k = 0; k < ncomp; k += 1000, chunk++) {
            gen_printf(&o, "    s%u = n%u", chunk, k);
            for (unsigned j = k + 1; j < ncomp && j < k + 1000; j++)
                gen_printf(&o, " + n%u", j);
            gen_printf(&o, "\n");
        }
        gen_printf(&o, "    f = s0");
        for (unsigned c = 1; c < chunk; c++)
            gen_printf(&o, " + s%u", c);
        gen_printf(&o, "\n");
        break;
    }
    }
    // Steps: auto when it stays under the step limit, else a legal selection:
    // forward steps in statement order, backward steps in reverse.
    unsigned mode = gen_u8(&r) % 3;
    if (mode == 0 && ncomp + ninputs < 40) { // at most about 250 gates, so 500 steps
        gen_printf(&o, "\nstep: auto\n");
    } else {
        gen_printf(&o, "\nstep: intro\n    A generated program with %u inputs.\n", ninputs);
        unsigned nsel = ncomp ? 1 + gen_u8(&r) % 8 : 0, sel[8];
        for (unsigned k = 0; k < nsel; k++)
            sel[k] = gen_u16(&r) % ncomp;
        for (unsigned k = 1; k < nsel; k++) // insertion sort, ascending
            for (unsigned j = k; j > 0 && sel[j - 1] > sel[j]; j--) {
                unsigned t = sel[j];
                sel[j] = sel[j - 1], sel[j - 1] = t;
            }
        for (unsigned k = 0; k < nsel; k++)
            gen_printf(&o, "\nstep: forward n%u\n", sel[k]);
        gen_printf(&o, "\nstep: forward f\n    The output is {f}.\n\nstep: backward f\n    Upstream {grad f}.\n");
        for (unsigned k = nsel; k-- > 0;)
            gen_printf(&o, "\nstep: backward n%u\n    Here: {grad n%u}.\n", sel[k], sel[k]);
        gen_printf(&o, "\nstep: done\n    Every gradient: {grad a0}.\n");
    }
    if (flags & 2)
        gen_printf(&o, "\ntrain: lr 0.01 params a0%s\n", ninputs > 1 ? " a1" : "");
    gen_printf(&o, "\ncheck: grad f == 1\n");
    if (o.full)
        return 0;
    return o.len;
}

#endif
