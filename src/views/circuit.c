// circuit.c: layered layout and drawing of a scalar graph as a circuit;
// see circuit.h.
//
// The file is cut into: node boxes (what each node draws and how much room
// that takes); structure (which nodes, columns, bend points, a first
// order); heights (barycentre sweeps, each column fitted with its boxes kept
// apart); widths (columns far enough apart that side-by-side boxes clear);
// fitting into the box (the unit, spreading, the callout strip); wires;
// the callout; and drawing.
//
// A wire that skips columns gets a bend point in each column it crosses: a
// box as wide as that column's boxes and as tall as the wire, stacked with
// them, so the wire runs level through a lane of its own and never through
// a gate or a number.
//
// Sizes below are in units (pixels at unit 1).
#include "views/circuit.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/numfmt.h"
#include "lessons/lesson.h"
#include "views/widgets/graph.h"

#define R_GATE 24.0f        // gate radius
#define GLOW 4.0f           // the current gate's glow beyond its circle
#define NUM_SIZE 20.0f      // values and gradients
#define NAME_SIZE 22.0f     // input and output names
#define GNAME_SIZE 16.0f    // a gate's name under it
#define CONST_SIZE 15.0f    // a constant's number
#define SYM_SIZE 24.0f      // the symbol in a gate; 15, 13 when it is longer
#define CALL_SIZE 18.0f     // callout text
#define CALL_PAD 10.0f      // inside the callout's box
#define CALL_GAP 8.0f       // around the callout's box
#define LABEL_DX 10.0f      // from a wire's start to its labels
#define GAP_Y 6.0f          // between boxes in a column
#define GAP_X 16.0f         // between boxes side by side in different columns
#define WIRE_MIN 26.0f      // the least bare wire between a label's end and the next gate
#define STUB 18.0f          // a constant's short wire into its gate
#define OUT_WIRE 90.0f      // the output wire, before its arrow
#define MAX_SPREAD_Y 2.2f   // rows spread apart at most this much to fill a tall box
#define MAX_SPREAD_X 2.5f   // columns likewise
#define SWEEPS 10           // barycentre sweeps, right and left in turn
#define CALLOUT_CHECK_MAX 64 // gates checked for a free callout place; more always get the strip
#define PAIR_COLUMNS 4      // columns back that a column's boxes are checked against for clearance
#define LANE 3.0f           // half the height of a bend point's lane
#define MAX_BENDS 20000     // more bend points than this (or than 8 per node): straight wires
#define MIN_UNIT 1e-4f      // (a box too small for anything still gets a drawing inside it)
#define BRANCH_SIZE 15.0f   // a branch's share of a forked gradient, on its wire before its gate
#define BRANCH_PAD 2.0f     // around a branch's share on its level stretch
#define FORK_DOT 4.5f       // the dot where a value's wire forks
#define BRANCH_WIRE 8.0f    // the least bare wire between a label's end and a branch's level stretch
#define MORE_SIZE 9.0f      // a window's arrows at the edges where more of the circuit lies

// A weight shared by every time step (VALUE_SHARED) is drawn in this colour.
static Color shared_color(const Theme *t) { return t->series[1]; }
static bool is_shared(const Value *v) { return (v->flags & VALUE_SHARED) != 0; }

char *circuit_node_key(const Value *v, char *buf, size_t n)
{
    if (v->name)
        snprintf(buf, n, "%s", v->name);
    else
        snprintf(buf, n, "#%u", v->index);
    return buf;
}

char *circuit_node_label(const Value *v, char *buf, size_t n)
{
    return graph_node_name(v, true, buf, n);
}

static bool in_circuit(const Value *v) { return v->mark & 1; }
static bool is_gate(const Value *v) { return v->src[0] != NULL; }

// ---------------------------------------------------------------------------
// Node boxes

typedef struct Node {
    int col;                        // column (-1: not in the circuit)
    float x, y;                     // anchor: a gate's centre; an input's wire start; a bend point
    float left, right, up, down;    // the box around the anchor that holds everything the node draws
    float key;                      // first order
    float numw;                     // the room for the numbers on its wire (number_width)
    float sumw;                     // a forked value: the room for the "Σ" before its gradient (else 0)
    float brw;                      // a gate fed by a fork: the level stretch before its slots
                                    // that carries each branch's share (else 0)
    int prev, next, slot;           // a bend point: the nodes before and after it on its wire, and
                                    // the input slot of the gate the wire ends in
} Node;

typedef struct Layout {
    Scene *s;
    const Graph *g;
    const Value *out;
    const CircuitParams *p;
    const char *out_name;
    size_t n;
    Node *nodes;                // (n + bends): the graph's nodes, then bend points
    int *members;               // circuit nodes (m), constants aside (they are drawn with their gate)
    int m;
    int *bend0, *nbend;         // (2 n) the bend points of the wire into slot k of gate i: i * 2 + k
    int nbends;
    int *cons_start, *cons;     // consumers of each node, CSR: entry = gate index * 2 + input slot
    int *depth;                 // (n) a gate's depth: 1 + its deepest source's (inputs 0)
    int *col_start, *col_nodes; // circuit nodes by column, in order
    int ncols;
    int ngates;
    bool inputs_left;           // inputs all in column 0 (else each next to its first gate)
    bool late;                  // side branches as far right as their consumers allow (a window's
                                // arrangement: the gates of a time step stay with their step)
    float u, r;                 // the unit laid out at, and the gate radius
    float wide;                 // the width of WIDE_NUMBER at u
    float band;                 // the callout strip's height at the bottom of the box (0: none)
    bool window;                // drawn at p->min_unit, larger than the box: the box is a window on it
    float *want, *blk;          // scratch: (n + bends), (4 (m + bends))
    float *right_edge;          // scratch (ncols)
} Layout;

// How many gate inputs node i feeds in the circuit (its wire's branches).
static int fanout(const Layout *L, int i)
{
    return L->cons_start[i + 1] - L->cons_start[i];
}

// Is the wire into slot k of gate c one branch of a fork? Then it carries
// that branch's share of the source's gradient before the gate.
static bool is_branch(const Layout *L, const Value *c, int k)
{
    const Value *src = c->src[k];
    return src && src->op != OP_CONST && fanout(L, (int)src->index) > 1;
}

static float text_w(const Layout *L, SceneFont f, float size, const char *str)
{
    return scene_text_width(L->s, f, size * L->u, str);
}

static float lh(const Layout *L, float size) { return scene_line_height(size * L->u); }

// A number as wide as most that 4 significant digits give.
#define WIDE_NUMBER "-0.0000"

// The room for the numbers on v's wire: its value (computed at every step)
// or a usual WIDE_NUMBER. Not the gradient, which differs from step to step
// as the backward pass goes: the layout stays put, and a gradient wider
// than the room is drawn smaller to fit it.
static float number_width(const Layout *L, const Value *v)
{
    char a[32];
    return fmaxf(L->wide, text_w(L, FONT_BOLD, NUM_SIZE, numfmt_short(a, sizeof(a), v->data, 4)));
}

static const char *output_label(const Layout *L, char *buf, size_t n)
{
    return L->out_name ? L->out_name : circuit_node_key(L->out, buf, n);
}

// The symbol in a gate and its size.
static float gate_symbol(const Value *v, char *sym, size_t n)
{
    if (v->op == OP_POW) {
        char e[24];
        snprintf(sym, n, "^%s", numfmt_short(e, sizeof(e), v->exponent, 3));
    } else {
        snprintf(sym, n, "%s", value_op_symbol[v->op]);
    }
    size_t len = strlen(sym);
    return len <= 2 ? SYM_SIZE : len <= 4 ? 15.0f : 13.0f;
}

// The room the output's wire, arrow and name take right of its start.
static float output_reach(const Layout *L)
{
    char key[80];
    return (OUT_WIRE + 12 + 6) * L->u + text_w(L, FONT_BOLD, NAME_SIZE, output_label(L, key, sizeof(key)));
}

// Where slot k of gate c meets it, relative to its centre.
static float slot_offset(const Layout *L, const Value *c, int k);

// A wire's labels: the value's line box ends a little below the wire (the
// part of the box below the digits, which have no descenders), and the
// gradient's starts there.
static float value_top(const Layout *L) { return -(lh(L, NUM_SIZE) - 0.06f * NUM_SIZE * L->u); }
static float grad_top(const Layout *L) { return 0.1f * NUM_SIZE * L->u; }

// A constant operand of gate c in slot k: its number right of x_right,
// centred on y, at the end of a stub that ends at the gate (x_end).
static void const_stub(const Layout *L, const Value *c, int k, float *x_end, float *x_right, float *y)
{
    float off = slot_offset(L, c, k), r = L->r;
    *x_end = L->nodes[c->index].x - sqrtf(r * r - off * off);
    *x_right = *x_end - STUB * L->u - 3 * L->u;
    *y = L->nodes[c->index].y + off;
}

static void measure_node(const Layout *L, int i)
{
    const Value *v = L->g->nodes[i];
    Node *nd = &L->nodes[i];
    float u = L->u, r = L->r, num = nd->numw = number_width(L, v);
    float above = -value_top(L), below = grad_top(L) + lh(L, NUM_SIZE);
    char key[80], buf[32];
    nd->sumw = fanout(L, i) > 1 ? text_w(L, FONT_BOLD, NUM_SIZE, "\u03a3 ") : 0;
    nd->brw = 0;
    if (!is_gate(v)) {
        float nh = lh(L, NAME_SIZE) / 2;
        nd->left = 10 * u + text_w(L, FONT_BOLD, NAME_SIZE, circuit_node_key(v, key, sizeof(key)));
        nd->right = LABEL_DX * u + nd->sumw + num;
        nd->up = fmaxf(nh, above);
        nd->down = fmaxf(nh, below);
    } else {
        float rg = r + GLOW * u, nw = 0;
        if (v->name && v != L->out)
            nw = text_w(L, FONT_REGULAR, GNAME_SIZE, v->name);
        nd->left = fmaxf(rg, nw / 2);
        nd->right = fmaxf(r + LABEL_DX * u + nd->sumw + num, fmaxf(rg, nw / 2));
        nd->up = fmaxf(rg, above);
        nd->down = fmaxf(fmaxf(rg, below), nw > 0 ? r + 2 * u + lh(L, GNAME_SIZE) : 0);
        for (int k = 0; k < 2 && v->src[k]; k++)
            if (v->src[k]->op == OP_CONST) { // its stub and number reach left
                float off = slot_offset(L, v, k), w = text_w(L, FONT_MONO, CONST_SIZE,
                                                             numfmt_short(buf, sizeof(buf), v->src[k]->data, 4));
                nd->left = fmaxf(nd->left, sqrtf(r * r - off * off) + (STUB + 3) * u + w);
                nd->up = fmaxf(nd->up, -off + lh(L, CONST_SIZE) / 2);
                nd->down = fmaxf(nd->down, off + lh(L, CONST_SIZE) / 2);
            }
        for (int k = 0; k < 2 && v->src[k]; k++)
            if (is_branch(L, v, k)) { // a level stretch with the share: above the upper slot, else below
                float off = slot_offset(L, v, k), bl = lh(L, BRANCH_SIZE);
                nd->brw = 2 * BRANCH_PAD * u + text_w(L, FONT_BOLD, BRANCH_SIZE, WIDE_NUMBER);
                nd->left = fmaxf(nd->left, sqrtf(r * r - off * off) + nd->brw);
                // (as drawn: above ends 0.06 size over the wire; digits
                // have no descenders, so the line box's bottom stays empty)
                if (off < 0)
                    nd->up = fmaxf(nd->up, -off + bl - 0.06f * BRANCH_SIZE * u);
                else
                    nd->down = fmaxf(nd->down, off + 0.1f * BRANCH_SIZE * u + 0.85f * bl);
            }
    }
    if (v == L->out)
        nd->right = fmaxf(nd->right, (is_gate(v) ? r : 0) + output_reach(L));
}

// Bend points: as wide as the boxes of their column, as tall as a lane.
static void measure_bends(const Layout *L)
{
    float *lw = L->right_edge, *rw = L->blk; // scratch per column (blk holds 4 (m + bends) >= 2 ncols)
    for (int c = 0; c < L->ncols; c++)
        lw[c] = rw[c] = L->r;
    for (int j = 0; j < L->m; j++) {
        const Node *nd = &L->nodes[L->members[j]];
        lw[nd->col] = fmaxf(lw[nd->col], nd->left);
        rw[nd->col] = fmaxf(rw[nd->col], nd->right);
    }
    for (int b = 0; b < L->nbends; b++) {
        Node *nd = &L->nodes[L->n + (size_t)b];
        nd->left = lw[nd->col], nd->right = rw[nd->col];
        nd->up = nd->down = LANE * L->u;
    }
}

// ---------------------------------------------------------------------------
// Structure: the circuit's nodes, their consumers, depths and a first order

static bool prepare(Layout *L)
{
    size_t n = L->n;
    Arena *A = &L->s->arena;
    L->nodes = arena_calloc(A, n ? n : 1, sizeof(Node));
    L->members = arena_alloc(A, (n ? n : 1) * sizeof(int));
    L->bend0 = arena_calloc(A, 2 * n + 1, sizeof(int));
    L->nbend = arena_calloc(A, 2 * n + 1, sizeof(int));
    L->depth = arena_calloc(A, n ? n : 1, sizeof(int));
    L->cons_start = arena_calloc(A, n + 1, sizeof(int));
    if (!L->nodes || !L->members || !L->depth || !L->cons_start || !L->bend0 || !L->nbend)
        return false;
    int m = 0, nedges = 0;
    L->ngates = 0;
    for (size_t i = 0; i < n; i++) {
        const Value *v = L->g->nodes[i];
        L->nodes[i].col = -1;
        if (!in_circuit(v) || v->op == OP_CONST) // a constant is drawn with its gate
            continue;
        L->members[m++] = (int)i;
        if (is_gate(v)) {
            L->ngates++;
            int d = 0;
            for (int k = 0; k < 2 && v->src[k]; k++) {
                L->cons_start[v->src[k]->index + 1]++;
                nedges++;
                if (v->src[k]->op != OP_CONST && L->depth[v->src[k]->index] > d)
                    d = L->depth[v->src[k]->index];
            }
            L->depth[i] = d + 1; // sources come first: creation order is topological
        }
    }
    L->m = m;
    L->cons = arena_alloc(A, (size_t)(nedges ? nedges : 1) * sizeof(int));
    int *fill = arena_calloc(A, n + 1, sizeof(int));
    if (!L->cons || !fill)
        return false;
    for (size_t i = 0; i < n; i++)
        L->cons_start[i + 1] += L->cons_start[i];
    for (int j = 0; j < m; j++) {
        const Value *v = L->g->nodes[L->members[j]];
        for (int k = 0; k < 2 && v->src[k]; k++) {
            size_t s = v->src[k]->index;
            L->cons[L->cons_start[s] + fill[s]++] = L->members[j] * 2 + k;
        }
    }
    // A first order: leaves numbered as a depth-first walk from the output
    // meets them (upper input first), gates at the mean of their sources,
    // so a tree comes out without crossings. Iterative: chains may be long.
    int *stack = arena_alloc(A, (size_t)(3 * n + 2) * sizeof(int)); // a return mark and two sources each
    unsigned char *seen = arena_calloc(A, n ? n : 1, 1);
    if (!stack || !seen)
        return false;
    int sp = 0, leaves = 0;
    stack[sp++] = (int)L->out->index * 2;
    while (sp > 0) {
        int top = stack[--sp], i = top / 2;
        const Value *v = L->g->nodes[i];
        if (top % 2 == 0) { // first visit: sources next, then back here
            if (seen[i])
                continue;
            seen[i] = 1;
            if (!is_gate(v)) {
                L->nodes[i].key = (float)leaves++;
                continue;
            }
            stack[sp++] = i * 2 + 1;
            for (int k = 1; k >= 0; k--)
                if (v->src[k] && !seen[v->src[k]->index])
                    stack[sp++] = (int)v->src[k]->index * 2;
        } else {
            float sum = 0;
            int cnt = 0;
            for (int k = 0; k < 2 && v->src[k]; k++)
                if (v->src[k]->op != OP_CONST) {
                    sum += L->nodes[v->src[k]->index].key;
                    cnt++;
                }
            L->nodes[i].key = cnt ? sum / (float)cnt : (float)leaves;
        }
    }
    return true;
}

// Columns: gates by depth; inputs in column 0, or just left of their first
// gate. Then the bend points of the wires that skip columns (none when
// there would be too many), and every node grouped by column.
static bool assign_columns(Layout *L, bool inputs_left)
{
    Arena *A = &L->s->arena;
    L->inputs_left = inputs_left;
    int maxc = 0;
    if (L->late) {
        // Side branches (an input; a gate that feeds at most one gate and
        // reads only side branches, such as W x[t] + b) go one column left of
        // their nearest consumer; the rest (what feeds several gates: the
        // state h[t]) stay at their depth.
        unsigned char *side = arena_calloc(&L->s->arena, L->n ? L->n : 1, 1);
        if (!side)
            return false;
        for (int j = 0; j < L->m; j++) {
            int i = L->members[j];
            const Value *v = L->g->nodes[i];
            bool sb = !is_gate(v) || fanout(L, i) <= 1;
            for (int k = 0; sb && is_gate(v) && k < 2 && v->src[k]; k++)
                sb = v->src[k]->op == OP_CONST || side[v->src[k]->index];
            side[i] = sb;
        }
        for (int j = L->m; j-- > 0;) { // members are in creation order, a topological one
            int i = L->members[j], c = INT32_MAX;
            if (side[i])
                for (int q = L->cons_start[i]; q < L->cons_start[i + 1]; q++)
                    c = L->nodes[L->cons[q] / 2].col - 1 < c ? L->nodes[L->cons[q] / 2].col - 1 : c;
            L->nodes[i].col = c == INT32_MAX ? L->depth[i] : c < 0 ? 0 : c;
            maxc = L->nodes[i].col > maxc ? L->nodes[i].col : maxc;
        }
    }
    for (int j = 0; j < L->m && !L->late; j++) {
        int i = L->members[j];
        const Value *v = L->g->nodes[i];
        int c = 0;
        if (is_gate(v)) {
            c = L->depth[i];
        } else if (!inputs_left) {
            int first = INT32_MAX;
            for (int q = L->cons_start[i]; q < L->cons_start[i + 1]; q++)
                if (L->depth[L->cons[q] / 2] < first)
                    first = L->depth[L->cons[q] / 2];
            c = first == INT32_MAX ? 0 : first - 1;
        }
        L->nodes[i].col = c;
        maxc = c > maxc ? c : maxc;
    }
    L->ncols = L->m ? maxc + 1 : 0;
    // Bend points: one per column a wire skips.
    long total = 0;
    for (int j = 0; j < L->m; j++) {
        const Value *c = L->g->nodes[L->members[j]];
        for (int k = 0; k < 2 && c->src[k]; k++)
            if (c->src[k]->op != OP_CONST)
                total += L->nodes[c->index].col - L->nodes[c->src[k]->index].col - 1;
    }
    bool bends = total <= MAX_BENDS && total <= 8L * L->m;
    L->nbends = bends ? (int)total : 0;
    size_t all = L->n + (size_t)L->nbends;
    Node *nodes = arena_alloc(A, (all ? all : 1) * sizeof(Node));
    L->want = arena_alloc(A, (all ? all : 1) * sizeof(float));
    L->blk = arena_alloc(A, (size_t)(L->m + L->nbends + L->ncols + 1) * 4 * sizeof(float));
    L->col_nodes = arena_alloc(A, (size_t)(L->m + L->nbends + 1) * sizeof(int));
    L->col_start = arena_calloc(A, (size_t)L->ncols + 2, sizeof(int));
    L->right_edge = arena_alloc(A, (size_t)(L->ncols + 1) * sizeof(float));
    int *fill = arena_calloc(A, (size_t)L->ncols + 1, sizeof(int));
    if (!nodes || !L->want || !L->blk || !L->col_nodes || !L->col_start || !L->right_edge || !fill)
        return false;
    memcpy(nodes, L->nodes, L->n * sizeof(Node));
    L->nodes = nodes;
    int b = 0;
    for (int j = 0; j < L->m; j++) {
        int i = L->members[j];
        const Value *c = L->g->nodes[i];
        for (int k = 0; k < 2 && c->src[k]; k++) {
            L->nbend[i * 2 + k] = 0;
            if (!bends || c->src[k]->op == OP_CONST)
                continue;
            int s = (int)c->src[k]->index, span = L->nodes[i].col - L->nodes[s].col - 1;
            L->bend0[i * 2 + k] = (int)L->n + b;
            L->nbend[i * 2 + k] = span > 0 ? span : 0;
            for (int d = 0; d < span; d++, b++) {
                Node *nd = &L->nodes[L->n + (size_t)b];
                memset(nd, 0, sizeof(*nd));
                nd->col = L->nodes[s].col + 1 + d;
                nd->key = L->nodes[s].key + (L->nodes[i].key - L->nodes[s].key) * (float)(d + 1) / (float)(span + 1);
                nd->prev = d == 0 ? s : (int)L->n + b - 1;
                nd->next = d + 1 == span ? i : (int)L->n + b + 1;
                nd->slot = k;
            }
        }
    }
    for (int j = 0; j < L->m; j++)
        L->col_start[L->nodes[L->members[j]].col + 1]++;
    for (int q = 0; q < L->nbends; q++)
        L->col_start[L->nodes[L->n + (size_t)q].col + 1]++;
    for (int c = 0; c < L->ncols; c++)
        L->col_start[c + 1] += L->col_start[c];
    for (int j = 0; j < L->m; j++) {
        int i = L->members[j], c = L->nodes[i].col;
        L->col_nodes[L->col_start[c] + fill[c]++] = i;
    }
    for (int q = 0; q < L->nbends; q++) {
        int i = (int)L->n + q, c = L->nodes[i].col;
        L->col_nodes[L->col_start[c] + fill[c]++] = i;
    }
    return true;
}

// The node a wire's point idx (0: its source; 1 .. nb: its bend points)
// stands for: for the last point before gate c's slot k.
static int before_slot(const Layout *L, int c, int k)
{
    int nb = L->nbend[c * 2 + k];
    return nb ? L->bend0[c * 2 + k] + nb - 1 : (int)L->g->nodes[c]->src[k]->index;
}

// The node after node i on the wire into gate c's slot k (a consumer entry).
static int after_node(const Layout *L, int c, int k)
{
    return L->nbend[c * 2 + k] ? L->bend0[c * 2 + k] : c;
}

// ---------------------------------------------------------------------------
// Heights

typedef struct Keyed {
    float key;
    int pos, node;
} Keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const Keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

// Order column c by want (ties kept), then place its boxes as near their
// wanted heights as they can be without overlapping: least squares under
// the order (pool adjacent violators).
static void fit_column(Layout *L, int c, bool reorder)
{
    int *nodes = L->col_nodes + L->col_start[c], m = L->col_start[c + 1] - L->col_start[c];
    if (m == 0)
        return;
    if (reorder && m > 1) {
        Keyed *tmp = (Keyed *)(void *)L->blk; // 4 m floats hold m Keyed (3 each)
        for (int i = 0; i < m; i++)
            tmp[i] = (Keyed){L->want[nodes[i]], i, nodes[i]};
        qsort(tmp, (size_t)m, sizeof(Keyed), cmp_keyed);
        for (int i = 0; i < m; i++)
            nodes[i] = tmp[i].node;
    }
    float *sum = L->blk, *cnt = L->blk + m, *off = L->blk + 2 * m;
    int *start = (int *)(void *)(L->blk + 3 * m);
    int nb = 0;
    float acc = 0, gap = GAP_Y * L->u;
    for (int i = 0; i < m; i++) {
        if (i > 0)
            acc += L->nodes[nodes[i - 1]].down + gap + L->nodes[nodes[i]].up;
        off[i] = acc;
        sum[nb] = L->want[nodes[i]] - acc;
        cnt[nb] = 1;
        start[nb++] = i;
        while (nb > 1 && sum[nb - 2] / cnt[nb - 2] > sum[nb - 1] / cnt[nb - 1]) {
            sum[nb - 2] += sum[nb - 1];
            cnt[nb - 2] += cnt[nb - 1];
            nb--;
        }
    }
    for (int b = 0; b < nb; b++) {
        int end = b + 1 < nb ? start[b + 1] : m;
        for (int i = start[b]; i < end; i++)
            L->nodes[nodes[i]].y = sum[b] / cnt[b] + off[i];
    }
}

// Where input slot k of gate c meets it, relative to its centre.
static float slot_offset(const Layout *L, const Value *c, int k)
{
    return c->src[1] ? (k == 0 ? -0.45f : 0.45f) * L->r : 0;
}

// The height node i would like: level with what feeds it (from_left), with
// what it feeds (from_right), or both. Through bend points: the next point
// along each wire.
static float wanted(const Layout *L, int i, bool from_left, bool from_right)
{
    float sum = 0;
    int cnt = 0;
    if ((size_t)i >= L->n) { // a bend point
        const Node *nd = &L->nodes[i];
        if (from_left)
            sum += L->nodes[nd->prev].y, cnt++;
        if (from_right) {
            float off = (size_t)nd->next < L->n ? slot_offset(L, L->g->nodes[nd->next], nd->slot) : 0;
            sum += L->nodes[nd->next].y + off, cnt++;
        }
        return cnt ? sum / (float)cnt : nd->y;
    }
    const Value *v = L->g->nodes[i];
    if (from_left && is_gate(v))
        for (int k = 0; k < 2 && v->src[k]; k++)
            if (v->src[k]->op != OP_CONST) {
                sum += L->nodes[before_slot(L, i, k)].y - slot_offset(L, v, k);
                cnt++;
            }
    if (from_right)
        for (int q = L->cons_start[i]; q < L->cons_start[i + 1]; q++) {
            int c = L->cons[q] / 2, k = L->cons[q] % 2, nx = after_node(L, c, k);
            sum += L->nodes[nx].y + (nx == c ? slot_offset(L, L->g->nodes[c], k) : 0);
            cnt++;
        }
    return cnt ? sum / (float)cnt : L->nodes[i].y;
}

static void place_heights(Layout *L)
{
    // Compact columns in the first order, then sweeps.
    for (int c = 0; c < L->ncols; c++) {
        for (int j = L->col_start[c]; j < L->col_start[c + 1]; j++)
            L->want[L->col_nodes[j]] = L->nodes[L->col_nodes[j]].key;
        fit_column(L, c, true);
        for (int j = L->col_start[c]; j < L->col_start[c + 1]; j++)
            L->want[L->col_nodes[j]] = 0;
        fit_column(L, c, false);
    }
    for (int it = 0; it < SWEEPS; it++) {
        bool both = it >= SWEEPS - 2, right = it % 2 == 0;
        for (int s = 0; s < L->ncols; s++) {
            int c = right ? s : L->ncols - 1 - s;
            for (int j = L->col_start[c]; j < L->col_start[c + 1]; j++) {
                int i = L->col_nodes[j];
                L->want[i] = wanted(L, i, right || both, !right || both);
            }
            fit_column(L, c, !both);
        }
    }
}

// ---------------------------------------------------------------------------
// Widths: column c + 1 stands right of column c by its labels and a bare
// wire, and far enough right that its boxes clear every box they are level
// with in the columns before.

static bool level(const Node *a, const Node *b, float gap)
{
    return a->y - a->up < b->y + b->down + gap && b->y - b->up < a->y + a->down + gap;
}

static void place_columns(Layout *L)
{
    float u = L->u, *xc = L->right_edge; // reused: column anchors
    if (L->ncols == 0)
        return;
    xc[0] = 0;
    for (int c = 0; c + 1 < L->ncols; c++) {
        float reach = 0, pitch = 0;
        for (int j = L->col_start[c]; j < L->col_start[c + 1]; j++)
            reach = fmaxf(reach, L->nodes[L->col_nodes[j]].right);
        pitch = reach + WIRE_MIN * u + L->r;
        for (int j = L->col_start[c + 1]; j < L->col_start[c + 2]; j++) // a branch's stretch, too
            pitch = fmaxf(pitch, reach + BRANCH_WIRE * u + L->r + L->nodes[L->col_nodes[j]].brw);
        // Columns are in height order, their boxes apart: the boxes of
        // column cp level with b are a run that moves down with b.
        float g = GAP_Y * u * 0.5f;
        for (int cp = c + 1 > PAIR_COLUMNS ? c + 1 - PAIR_COLUMNS : 0; cp <= c; cp++) {
            int lo = L->col_start[cp];
            for (int j = L->col_start[c + 1]; j < L->col_start[c + 2]; j++) {
                const Node *b = &L->nodes[L->col_nodes[j]];
                while (lo < L->col_start[cp + 1] &&
                       L->nodes[L->col_nodes[lo]].y + L->nodes[L->col_nodes[lo]].down + g <= b->y - b->up)
                    lo++;
                for (int q = lo; q < L->col_start[cp + 1]; q++) {
                    const Node *a = &L->nodes[L->col_nodes[q]];
                    if (a->y - a->up >= b->y + b->down + g)
                        break;
                    if (level(a, b, g))
                        pitch = fmaxf(pitch, xc[cp] - xc[c] + a->right + GAP_X * u + b->left);
                }
            }
        }
        xc[c + 1] = xc[c] + pitch;
    }
    for (int j = 0; j < L->col_start[L->ncols]; j++)
        L->nodes[L->col_nodes[j]].x = xc[L->nodes[L->col_nodes[j]].col];
}

// The box around every node's box.
static void extent(const Layout *L, float *x0, float *y0, float *x1, float *y1)
{
    *x0 = *y0 = INFINITY;
    *x1 = *y1 = -INFINITY;
    for (int j = 0; j < (L->ncols ? L->col_start[L->ncols] : 0); j++) {
        const Node *nd = &L->nodes[L->col_nodes[j]];
        *x0 = fminf(*x0, nd->x - nd->left), *x1 = fmaxf(*x1, nd->x + nd->right);
        *y0 = fminf(*y0, nd->y - nd->up), *y1 = fmaxf(*y1, nd->y + nd->down);
    }
    if (L->m == 0)
        *x0 = *y0 = *x1 = *y1 = 0;
}

// Lay everything out at unit u; the size it takes.
static void lay_out(Layout *L, float u, float *w, float *h)
{
    L->u = u;
    L->r = R_GATE * u;
    L->wide = text_w(L, FONT_BOLD, NUM_SIZE, WIDE_NUMBER);
    for (int j = 0; j < L->m; j++)
        measure_node(L, L->members[j]);
    measure_bends(L);
    place_heights(L);
    place_columns(L);
    float x0, y0, x1, y1;
    extent(L, &x0, &y0, &x1, &y1);
    *w = x1 - x0, *h = y1 - y0;
}

// Move the laid-out drawing into the box (x, y, w, h): spread the columns
// and rows out when there is room (each gap grows, so nothing comes to
// overlap), then centre it.
static void spread(Layout *L, float bx, float by, float bw, float bh)
{
    float x0, y0, x1, y1;
    extent(L, &x0, &y0, &x1, &y1);
    float *xc = L->right_edge;
    int all = L->ncols ? L->col_start[L->ncols] : 0;
    if (L->ncols > 1 && x1 - x0 < bw) {
        float span = xc[L->ncols - 1] - xc[0];
        float fx = fminf((bw - (x1 - x0) + span) / span, MAX_SPREAD_X);
        for (int j = 0; j < all; j++)
            L->nodes[L->col_nodes[j]].x = xc[0] + (L->nodes[L->col_nodes[j]].x - xc[0]) * fx;
        for (int c = 0; c < L->ncols; c++)
            xc[c] = xc[0] + (xc[c] - xc[0]) * fx;
    }
    float a0 = INFINITY, a1 = -INFINITY;
    for (int j = 0; j < all; j++) {
        a0 = fminf(a0, L->nodes[L->col_nodes[j]].y);
        a1 = fmaxf(a1, L->nodes[L->col_nodes[j]].y);
    }
    if (a1 > a0 && y1 - y0 < bh) {
        float fy = fminf((bh - (y1 - y0) + (a1 - a0)) / (a1 - a0), MAX_SPREAD_Y);
        for (int j = 0; j < all; j++)
            L->nodes[L->col_nodes[j]].y = a0 + (L->nodes[L->col_nodes[j]].y - a0) * fy;
    }
    extent(L, &x0, &y0, &x1, &y1);
    float dx = bx + (bw - (x1 - x0)) / 2 - x0, dy = by + (bh - (y1 - y0)) / 2 - y0;
    for (int j = 0; j < all; j++) {
        L->nodes[L->col_nodes[j]].x += dx;
        L->nodes[L->col_nodes[j]].y += dy;
    }
    for (int c = 0; c < L->ncols; c++)
        xc[c] += dx;
}

// ---------------------------------------------------------------------------
// The callout: what it says, how big it is, where it can go

typedef struct Callout {
    char lines[4][200];
    Color colors[4];
    int n;
    float size, w, h;           // text size, box size
} Callout;

// A number of a callout; with wide, at least as long as WIDE_NUMBER (for
// the gradients, which change from step to step).
static const char *call_num(char *buf, double x, bool wide)
{
    numfmt_short(buf, 32, x, 4);
    if (wide && strlen(buf) < strlen(WIDE_NUMBER))
        snprintf(buf, 32, "%s", WIDE_NUMBER);
    return buf;
}

// The callout of gate c for phase (1 forward, 2 backward), sized at L's
// unit; no wider than the box (its text shrinks). wide: the gradients as
// wide as they may become (to size a place for it, the same at every step).
static void callout_lines(const Layout *L, const Value *c, int phase, bool wide, Callout *co)
{
    const Theme *t = L->p->theme;
    char a[32], b[32], v[32], key[80], sk[80];
    co->n = 0;
    circuit_node_label(c, key, sizeof(key));
    if (phase == 1) {
        if (c->src[1])
            snprintf(co->lines[co->n], 200, "%s = %s %s %s = %s", key, numfmt_short(a, 32, c->src[0]->data, 4),
                     value_op_symbol[c->op], numfmt_short(b, 32, c->src[1]->data, 4),
                     numfmt_short(v, 32, c->data, 4));
        else if (c->op == OP_POW)
            snprintf(co->lines[co->n], 200, "%s = %s ^ %s = %s", key, numfmt_short(a, 32, c->src[0]->data, 4),
                     numfmt_short(b, 32, c->exponent, 4), numfmt_short(v, 32, c->data, 4));
        else
            snprintf(co->lines[co->n], 200, "%s = %s(%s) = %s", key, value_op_symbol[c->op],
                     numfmt_short(a, 32, c->src[0]->data, 4), numfmt_short(v, 32, c->data, 4));
        co->colors[co->n++] = t->value;
    } else {
        const char *o = L->p->out_name ? L->p->out_name : "f";
        snprintf(co->lines[co->n], 200, "local \u00d7 upstream = gradient");
        co->colors[co->n++] = t->muted;
        for (int k = 0; k < 2 && c->src[k]; k++) {
            circuit_node_label(c->src[k], sk, sizeof(sk));
            snprintf(co->lines[co->n], 200, "\u2202%s/\u2202%s:  %s \u00d7 %s = %s", o, sk,
                     numfmt_short(a, 32, c->local[k], 4), call_num(b, c->grad, wide),
                     call_num(v, c->local[k] * c->grad, wide));
            co->colors[co->n++] = t->grad;
        }
    }
    float w = 0, u = L->u, pad = CALL_PAD * u;
    for (int i = 0; i < co->n; i++)
        w = fmaxf(w, text_w(L, FONT_MONO, CALL_SIZE, co->lines[i]));
    co->size = CALL_SIZE * u;
    float room = L->p->w - 2 * pad;
    if (w > room && w > 0) {
        co->size *= room / w;
        w = room;
    }
    co->w = w + 2 * pad;
    co->h = scene_line_height(co->size) * (float)co->n + 2 * pad;
}

static void callout_text(const Layout *L, const Value *c, int phase, Callout *co)
{
    callout_lines(L, c, phase, false, co);
}

// The larger of a gate's two callouts, with its gradients as wide as they
// may become and room for numbers a digit longer than now (the student may
// drag an input): the same at every step.
static void callout_worst(const Layout *L, const Value *c, float *w, float *h)
{
    Callout a, b;
    callout_lines(L, c, 1, true, &a);
    callout_lines(L, c, 2, true, &b);
    float slack = text_w(L, FONT_MONO, CALL_SIZE, "0");
    *w = fminf(fmaxf(a.w, b.w) + slack, L->p->w);
    *h = fmaxf(a.h, b.h);
}

// Does segment (x0, y0)-(x1, y1) meet the rectangle? (Liang-Barsky)
static bool segment_hits(float x0, float y0, float x1, float y1, float rx0, float ry0, float rx1, float ry1)
{
    float t0 = 0, t1 = 1, dx = x1 - x0, dy = y1 - y0;
    const float pp[4] = {-dx, dx, -dy, dy};
    const float qq[4] = {x0 - rx0, rx1 - x0, y0 - ry0, ry1 - y0};
    for (int i = 0; i < 4; i++) {
        if (pp[i] == 0) {
            if (qq[i] < 0)
                return false;
            continue;
        }
        float r = qq[i] / pp[i];
        if (pp[i] < 0)
            t0 = fmaxf(t0, r);
        else
            t1 = fminf(t1, r);
        if (t0 > t1)
            return false;
    }
    return true;
}

// Where the wire from v leaves, and where wire slot k of gate c arrives.
static void wire_start(const Layout *L, const Value *v, float *x, float *y)
{
    *x = L->nodes[v->index].x + (is_gate(v) ? L->r : 0);
    *y = L->nodes[v->index].y;
}

static void wire_end(const Layout *L, const Value *c, int k, float *x, float *y)
{
    float off = slot_offset(L, c, k), r = L->r;
    *x = L->nodes[c->index].x - sqrtf(r * r - off * off);
    *y = L->nodes[c->index].y + off;
}

// The wire from slot k's source into gate c: level under the source's
// labels (so they sit on a level stretch, clear of their own wire), level
// through the lane of each bend point, and straight in between and into the
// slot; a constant's stub. wire_points says how many points; wire_point
// gives point q.
static int wire_points(const Layout *L, const Value *c, int k)
{
    if (c->src[k]->op == OP_CONST)
        return 2;
    return 3 + 2 * L->nbend[c->index * 2 + k] + (is_branch(L, c, k) ? 1 : 0);
}

// The level stretch before gate c's slot k that carries a branch's share:
// from x0 to x1 at height y.
static void branch_stretch(const Layout *L, const Value *c, int k, float *x0, float *x1, float *y)
{
    wire_end(L, c, k, x1, y);
    *x0 = L->nodes[c->index].x - L->r - L->nodes[c->index].brw;
}

static void wire_point(const Layout *L, const Value *c, int k, int q, float *x, float *y)
{
    const Value *src = c->src[k];
    if (src->op == OP_CONST) {
        float xe, xr;
        const_stub(L, c, k, &xe, &xr, y);
        *x = q == 0 ? xe - STUB * L->u : xe;
        return;
    }
    int nb = L->nbend[c->index * 2 + k], br = is_branch(L, c, k), last = 2 + 2 * nb + br;
    if (q == 0) {
        wire_start(L, src, x, y);
    } else if (q == last) {
        wire_end(L, c, k, x, y);
    } else if (br && q == last - 1) { // the start of the branch's level stretch
        float x1;
        branch_stretch(L, c, k, x, &x1, y);
    } else if (q == 1) { // the end of the level stretch under the labels (a fork's point)
        float x0;
        wire_start(L, src, &x0, y);
        *x = x0 + LABEL_DX * L->u + L->nodes[src->index].sumw + L->nodes[src->index].numw;
        if (nb == 0) { // no further than most of the way to the slot
            float xe, ye;
            if (br)
                branch_stretch(L, c, k, &xe, &ye, &ye);
            else
                wire_end(L, c, k, &xe, &ye);
            *x = fminf(*x, x0 + (xe - x0) * 0.75f);
        }
    } else { // a bend point's lane, from its left to its right
        const Node *b = &L->nodes[L->bend0[c->index * 2 + k] + (q - 2) / 2];
        *x = q % 2 == 0 ? b->x - b->left : b->x + b->right;
        *y = b->y;
    }
}

// Is the rectangle clear of every box and wire, and inside (bx0, by0, bx1, by1)?
static bool free_at(const Layout *L, float x0, float y0, float x1, float y1, float bx0, float by0, float bx1,
                    float by1)
{
    if (x0 < bx0 || y0 < by0 || x1 > bx1 || y1 > by1)
        return false;
    float g = CALL_GAP * L->u * 0.5f;
    float ix0 = x0 - g, iy0 = y0 - g, ix1 = x1 + g, iy1 = y1 + g;
    for (int j = 0; j < L->m; j++) {
        const Node *nd = &L->nodes[L->members[j]];
        if (nd->x - nd->left < ix1 && nd->x + nd->right > ix0 && nd->y - nd->up < iy1 && nd->y + nd->down > iy0)
            return false;
    }
    for (int j = 0; j < L->m; j++) {
        const Value *c = L->g->nodes[L->members[j]];
        for (int k = 0; k < 2 && c->src[k]; k++) {
            int np = wire_points(L, c, k);
            float ax, ay, bx, by;
            wire_point(L, c, k, 0, &ax, &ay);
            for (int q = 1; q < np; q++, ax = bx, ay = by) {
                wire_point(L, c, k, q, &bx, &by);
                if (segment_hits(ax, ay, bx, by, ix0, iy0, ix1, iy1))
                    return false;
            }
        }
    }
    return true;
}

// The free place nearest gate i for a w x h callout inside the box above the
// strip: tried below, above, right and left of the gate's box, slid along.
static bool find_place(const Layout *L, int i, float w, float h, float *ox, float *oy)
{
    const Node *nd = &L->nodes[i];
    const CircuitParams *p = L->p;
    float gap = CALL_GAP * L->u, bx1 = p->x + p->w, by1 = p->y + p->h - L->band;
    enum { NC = 64 };
    float cx[NC], cy[NC], cd[NC];
    int nc = 0;
    for (int side = 0; side < 4; side++)
        for (int s = 0; s < 15 && nc < NC; s++) {
            float slide = (float)((s + 1) / 2) * (s % 2 ? 1.0f : -1.0f) * 0.25f;
            float x, y;
            if (side == 0 || side == 1) { // below, above: slide sideways by quarters of the width
                x = nd->x - w / 2 + slide * w;
                y = side == 0 ? nd->y + nd->down + gap : nd->y - nd->up - gap - h;
            } else { // right, left: slide up and down by quarters of the height
                x = side == 2 ? nd->x + nd->right + gap : nd->x - nd->left - gap - w;
                y = nd->y - h / 2 + slide * h * 2;
            }
            x = fminf(fmaxf(x, p->x), bx1 - w); // slid into the box
            y = fminf(fmaxf(y, p->y), by1 - h);
            cx[nc] = x, cy[nc] = y;
            float dx = x + w / 2 - nd->x, dy = y + h / 2 - nd->y;
            cd[nc++] = dx * dx + dy * dy;
        }
    for (;;) { // nearest first
        int best = -1;
        for (int c = 0; c < nc; c++)
            if (cd[c] >= 0 && (best < 0 || cd[c] < cd[best]))
                best = c;
        if (best < 0)
            return false;
        if (free_at(L, cx[best], cy[best], cx[best] + w, cy[best] + h, p->x, p->y, bx1, by1)) {
            *ox = cx[best], *oy = cy[best];
            return true;
        }
        cd[best] = -1;
    }
}

// Does every gate find a free place for the larger of its callouts? When
// not, the strip's height; 0 when none is needed.
static float strip_needed(const Layout *L)
{
    float need = 0, hmax = 0;
    bool all = L->ngates <= CALLOUT_CHECK_MAX;
    for (int j = 0; j < L->m; j++) {
        int i = L->members[j];
        const Value *c = L->g->nodes[i];
        if (!is_gate(c))
            continue;
        float w, h, x, y;
        callout_worst(L, c, &w, &h);
        hmax = fmaxf(hmax, h);
        if (all && !find_place(L, i, w, h, &x, &y))
            need = 1;
    }
    if (!all && L->ngates > 0)
        need = 1;
    return need > 0 ? hmax + 2 * CALL_GAP * L->u : 0;
}

// ---------------------------------------------------------------------------
// Fitting: the layout (inputs left, or next to their gates) and the largest
// unit at most p->unit at which the circuit fits the box

static float fit_unit(Layout *L, float u, float bw, float bh)
{
    float w, h;
    for (int it = 0; it < 6; it++) {
        lay_out(L, u, &w, &h);
        float f = fminf(w > 0 ? bw / w : 1, h > 0 ? bh / h : 1);
        if (f >= 1)
            return u;
        u = fmaxf(u * f * 0.995f, MIN_UNIT);
        if (u <= MIN_UNIT) {
            lay_out(L, u, &w, &h);
            return u;
        }
    }
    return u;
}

static bool layout_init(Layout *L, Scene *s, const Graph *g, const Value *out, const CircuitParams *p)
{
    memset(L, 0, sizeof(*L));
    L->s = s, L->g = g, L->out = out, L->p = p, L->n = g->n;
    L->out_name = p->out_name;
    return out && prepare(L);
}

// Whether some input's first gate is deeper than column 1, so that it
// would move when the inputs go next to their gates.
static bool inputs_could_move(const Layout *L)
{
    for (int j = 0; j < L->m; j++) {
        int i = L->members[j], first = INT32_MAX;
        if (L->g->nodes[i]->op != OP_INPUT)
            continue;
        for (int q = L->cons_start[i]; q < L->cons_start[i + 1]; q++)
            if (L->depth[L->cons[q] / 2] < first)
                first = L->depth[L->cons[q] / 2];
        if (first != INT32_MAX && first > 1)
            return true;
    }
    return false;
}

// Choose the layout and unit for a box of bw x bh (the strip included) and
// place everything in it. Returns the unit, 0 when out of memory.
static float fit(Layout *L, float bx, float by, float bw, float bh)
{
    const CircuitParams *p = L->p;
    float u0 = p->unit > 0 ? p->unit : 1;
    if (!assign_columns(L, true))
        return 0;
    float ua = fit_unit(L, u0, bw, bh);
    if (ua < u0 && inputs_could_move(L)) {
        // A column of all the inputs is what does not fit: try them next
        // to their gates, and keep that if it is clearly larger.
        if (!assign_columns(L, false))
            return 0;
        float ub = fit_unit(L, u0, bw, bh);
        if (ub < ua * 1.15f) {
            if (!assign_columns(L, true))
                return 0;
            fit_unit(L, ua, bw, bh);
        } else {
            ua = ub;
        }
    }
    float u = ua;
    L->band = 0;
    spread(L, bx, by, bw, bh);
    float band = strip_needed(L); // at unit ua; it scales with the unit
    if (band > 0) {
        // Make room for the strip at the bottom: the circuit above it, at a
        // unit that leaves room for both.
        for (int it = 0; it < 6; it++) {
            float w, h, strip = band * u / ua;
            lay_out(L, u, &w, &h);
            float f = fminf(w > 0 ? bw / w : 1, bh / (h + strip));
            if (f >= 1 || u <= MIN_UNIT)
                break;
            u = fmaxf(u * f * 0.995f, MIN_UNIT);
        }
        L->band = band * u / ua;
        spread(L, bx, by, bw, fmaxf(bh - L->band, 1));
    }
    return u;
}

// ---------------------------------------------------------------------------
// Drawing

static Color number_color(Color normal, const Theme *t, double x)
{
    return isfinite(x) ? normal : t->warn;
}

// A number on a chip of the background, so that a wire passing under it
// does not run through its digits; the chip stops short of the number's own
// wire (level at y0 under it). At most room wide: a wider one is smaller.
static SceneRef number_at(const Layout *L, float size, float x, float y, float y0, float room, Color c,
                          const char *str, const char *id)
{
    Scene *s = L->s;
    float w = scene_text_width(s, FONT_BOLD, size, str), h = scene_line_height(size);
    if (w > room && w > 0) { // the same top (above the wire: the same bottom)
        float k = room / w;
        if (y < y0)
            y += h * (1 - k);
        size *= k, w = room, h *= k;
    }
    float clear = 1.6f * L->u, top = y, bottom = y + h;
    if (y < y0) // above the wire
        bottom = fminf(bottom, y0 - clear);
    else
        top = fmaxf(top, y0 + clear);
    if (bottom > top)
        scene_rect(s, x - 1 * L->u, top, w + 2 * L->u, bottom - top, 0, s->background);
    return scene_tag(s, scene_text(s, x, y, FONT_BOLD, size, ALIGN_LEFT, c, str), id);
}

static SceneRef number(const Layout *L, float x, float y, float y0, float room, Color c, const char *str,
                       const char *id)
{
    return number_at(L, NUM_SIZE * L->u, x, y, y0, room, c, str, id);
}

// Value above and gradient below the start of a wire that leaves at (x, y).
static void wire_labels(const Layout *L, const Value *v, float x, float y)
{
    Scene *s = L->s;
    const Theme *t = L->p->theme;
    float u = L->u, room = L->nodes[v->index].numw;
    char key[80], id[96], num[32];
    circuit_node_key(v, key, sizeof(key));
    if (v->mark & LESSON_SHOWN_VALUE) {
        snprintf(id, sizeof(id), "value:%s", key);
        SceneRef ref = number(L, x + LABEL_DX * u, y + value_top(L), y, room, number_color(t->value, t, v->data),
                              numfmt_short(num, sizeof(num), v->data, 4), id);
        SceneItem it = scene_item(s, ref); // a copy: the appends below may move the items
        if (scene_ok(ref) && v->op == OP_INPUT) // a dotted underline says "drag me"
            for (float dx = 0; dx < it.w; dx += 5 * u)
                scene_rect(s, it.x + dx, y - 3.4f * u, fminf(2.5f * u, it.w - dx), fmaxf(1.5f * u, fminf(1, 3 * u)), 0,
                           color_alpha(t->value, 160));
    }
    if (v->mark & LESSON_SHOWN_GRAD) {
        float sumw = L->nodes[v->index].sumw;
        if (sumw > 0) { // a fork: the gradient is the sum of what its branches sent back
            snprintf(id, sizeof(id), "sum:%s", key);
            number(L, x + LABEL_DX * u, y + grad_top(L), y, sumw, t->grad, "\u03a3", id);
        }
        snprintf(id, sizeof(id), "grad:%s", key);
        number(L, x + LABEL_DX * u + sumw, y + grad_top(L), y, room, number_color(t->grad, t, v->grad),
               numfmt_short(num, sizeof(num), v->grad, 4), id);
    }
}

// On the wire into slot k of gate c, when it is a branch of a fork and c
// has pushed its gradient: the branch's share, local × c's gradient, on the
// level stretch before the gate (above it for a gate's upper slot).
static void branch_label(const Layout *L, const Value *c, int k)
{
    if (!is_branch(L, c, k) || !(c->mark & LESSON_PUSHED) || !(c->src[k]->mark & LESSON_SHOWN_GRAD))
        return;
    const Theme *t = L->p->theme;
    float u = L->u, x0, x1, y, size = BRANCH_SIZE * u;
    branch_stretch(L, c, k, &x0, &x1, &y);
    double share = c->local[k] * c->grad;
    char a[80], b[80], id[200], num[32];
    snprintf(id, sizeof(id), "branch:%s:%s", circuit_node_key(c->src[k], a, sizeof(a)),
             circuit_node_key(c, b, sizeof(b)));
    float top = slot_offset(L, c, k) < 0 ? y - (scene_line_height(size) - 0.06f * size) : y + 0.1f * size;
    number_at(L, size, x0 + BRANCH_PAD * u, top, y, L->nodes[c->index].brw - 2 * BRANCH_PAD * u,
              number_color(t->grad, t, share), numfmt_short(num, sizeof(num), share, 4), id);
}

static void draw_callout(const Layout *L)
{
    const CircuitParams *p = L->p;
    const Theme *t = p->theme;
    Scene *s = L->s;
    const Value *c = L->g->nodes[p->current];
    Callout co;
    callout_text(L, c, p->phase, &co);
    float x, y, ww, wh;
    // Where the larger of the gate's callouts goes (so forward and backward
    // steps put it in the same place), else where this one fits.
    callout_worst(L, c, &ww, &wh);
    if (co.w <= ww && co.h <= wh && find_place(L, (int)p->current, ww, wh, &x, &y)) {
        x += (ww - co.w) / 2; // centred in the place found
    } else if (!find_place(L, (int)p->current, co.w, co.h, &x, &y)) {
        // The strip at the bottom (the layout keeps one whenever a gate
        // could find no place), under the gate as far as the box allows.
        x = fminf(fmaxf(L->nodes[p->current].x - co.w / 2, p->x), p->x + p->w - co.w);
        y = p->y + p->h - L->band + (L->band - co.h) / 2;
        if (L->band <= 0)
            y = p->y + p->h - co.h;
    }
    float u = L->u, pad = CALL_PAD * u, lhc = scene_line_height(co.size);
    scene_tag(s, scene_panel(s, x, y, co.w, co.h, 8 * u, t->panel, t->accent, 1.5f * u), "callout-box");
    for (int i = 0; i < co.n; i++)
        scene_tag(s, scene_text(s, x + pad, y + pad + lhc * (float)i, FONT_MONO, co.size, ALIGN_LEFT, co.colors[i],
                                co.lines[i]), "callout");
}

static void draw(const Layout *L)
{
    Scene *s = L->s;
    const Graph *g = L->g;
    const CircuitParams *p = L->p;
    const Theme *t = p->theme;
    const Value *out = L->out;
    float u = L->u, r = L->r;
    char key[80], id[96];

    // Wires, dimmed until the forward pass has computed their value.
    for (int j = 0; j < L->m; j++) {
        const Value *c = g->nodes[L->members[j]];
        for (int k = 0; k < 2 && c->src[k]; k++) {
            const Value *src = c->src[k];
            Color col = (src->mark & LESSON_SHOWN_VALUE) ? t->wire_done : t->wire;
            if (is_shared(src))
                col = color_alpha(shared_color(t), (src->mark & LESSON_SHOWN_VALUE) ? 255 : 150);
            if ((src->mark & LESSON_SHOWN_VALUE) && !isfinite(src->data))
                col = t->warn;
            int np = wire_points(L, c, k);
            float ax, ay, bx, by;
            wire_point(L, c, k, 0, &ax, &ay);
            for (int q = 1; q < np; q++, ax = bx, ay = by) {
                wire_point(L, c, k, q, &bx, &by);
                scene_tag(s, scene_line(s, ax, ay, bx, by, 2.5f * u, col), "wire");
                if (q + 1 < np) // round joints
                    scene_circle(s, bx, by, 1.25f * u, col);
            }
        }
    }
    // The fork of each value that feeds several gates, and each branch's share.
    for (int j = 0; j < L->m; j++) {
        const Value *c = g->nodes[L->members[j]];
        for (int k = 0; k < 2 && c->src[k]; k++) {
            const Value *src = c->src[k];
            if (!is_branch(L, c, k))
                continue;
            if (L->cons[L->cons_start[src->index]] == (int)c->index * 2 + k) { // once per fork
                float fx, fy;
                wire_point(L, c, k, 1, &fx, &fy);
                circuit_node_key(src, key, sizeof(key));
                snprintf(id, sizeof(id), "fork:%s", key);
                scene_tag(s, scene_circle(s, fx, fy, FORK_DOT * u,
                                          (src->mark & LESSON_SHOWN_VALUE) ? t->wire_done : t->wire), id);
            }
            branch_label(L, c, k);
        }
    }
    // The output wire with an arrowhead and the output's name.
    float ox, oy;
    wire_start(L, out, &ox, &oy);
    float oend = ox + OUT_WIRE * u;
    Color ocol = (out->mark & LESSON_SHOWN_VALUE) ? t->wire_done : t->wire;
    scene_tag(s, scene_line(s, ox, oy, oend, oy, 2.5f * u, ocol), "wire:output");
    scene_triangle(s, oend + 12 * u, oy, oend, oy - 7 * u, oend, oy + 7 * u, ocol);
    scene_tag(s, scene_text(s, oend + 18 * u, oy - scene_line_height(NAME_SIZE * u) / 2, FONT_BOLD, NAME_SIZE * u,
                            ALIGN_LEFT, t->text, output_label(L, key, sizeof(key))), "name:output");

    // Labels on the first wire leaving each node (and on the output wire).
    for (int j = 0; j < L->m; j++) {
        const Value *v = g->nodes[L->members[j]];
        float x0, y0;
        wire_start(L, v, &x0, &y0);
        for (int k = 0; k < 2 && v->src[k]; k++) // constant operands
            if (v->src[k]->op == OP_CONST) {
                char num[32];
                float xe, xr, yc;
                const_stub(L, v, k, &xe, &xr, &yc);
                snprintf(id, sizeof(id), "const:%u", v->src[k]->index);
                scene_tag(s, scene_text(s, xr, yc - scene_line_height(CONST_SIZE * u) / 2, FONT_MONO, CONST_SIZE * u,
                                        ALIGN_RIGHT, t->muted, numfmt_short(num, sizeof(num), v->src[k]->data, 4)),
                          id);
            }
        if (v->op == OP_INPUT) {
            circuit_node_key(v, key, sizeof(key));
            float nh = scene_line_height(NAME_SIZE * u);
            if (is_shared(v)) { // a pill behind the name in the shared colour
                float nw = scene_text_width(s, FONT_BOLD, NAME_SIZE * u, key);
                snprintf(id, sizeof(id), "shared:%s", key);
                scene_tag(s, scene_rect(s, x0 - 10 * u - nw - 3 * u, y0 - nh / 2, nw + 6 * u, nh, 4 * u,
                                        color_alpha(shared_color(t), 70)), id);
            }
            snprintf(id, sizeof(id), "name:%s", key);
            scene_tag(s, scene_text(s, x0 - 10 * u, y0 - nh / 2, FONT_BOLD, NAME_SIZE * u, ALIGN_RIGHT,
                                    is_shared(v) ? shared_color(t) : t->text, key), id);
            scene_circle(s, x0, y0, 4 * u, is_shared(v) ? shared_color(t) : t->wire_done);
        }
        wire_labels(L, v, x0, y0);
    }

    // Gates on top.
    for (int j = 0; j < L->m; j++) {
        int i = L->members[j];
        const Value *v = g->nodes[i];
        if (!is_gate(v))
            continue;
        bool cur = (size_t)i == p->current;
        float x = L->nodes[i].x, y = L->nodes[i].y;
        circuit_node_key(v, key, sizeof(key));
        if (cur)
            scene_circle(s, x, y, r + GLOW * u, color_alpha(t->accent, 70));
        snprintf(id, sizeof(id), "gate:%s", key);
        scene_tag(s, scene_circle(s, x, y, r, t->gate), id);
        scene_ring(s, x, y, r, (cur ? 3.5f : 2) * u,
                   cur ? t->accent : is_shared(v) ? shared_color(t) : t->gate_edge);
        char sym[40];
        float size = gate_symbol(v, sym, sizeof(sym)) * u;
        snprintf(id, sizeof(id), "op:%s", key);
        scene_tag(s, scene_text(s, x, y - scene_line_height(size) / 2, FONT_BOLD, size, ALIGN_CENTER, t->text, sym),
                  id);
        if (v->name && v != out) { // name the gate's output, as in "q"
            snprintf(id, sizeof(id), "gate-name:%s", key);
            scene_tag(s, scene_text(s, x, y + r + 2 * u, FONT_REGULAR, GNAME_SIZE * u, ALIGN_CENTER, t->muted,
                                    v->name), id);
        }
    }
}

static bool has_callout(const Layout *L)
{
    const CircuitParams *p = L->p;
    return p->current != SIZE_MAX && p->current < L->g->n && p->phase && in_circuit(L->g->nodes[p->current]) &&
           is_gate(L->g->nodes[p->current]);
}

// ---------------------------------------------------------------------------
// A window: a circuit too large to read when shrunk into its box is drawn at
// p->min_unit, and the box shows the part around the current node.

// Lay out at p->min_unit (in the inputs' arrangement fit chose), keep a
// strip at the bottom for the callout, and move the drawing so that the
// current node (else the left end, halfway down) is in the middle of the
// window, as far as the drawing reaches.
static bool window_layout(Layout *L)
{
    const CircuitParams *p = L->p;
    float w, h, u = p->min_unit;
    // The arrangement that is least tall (a window scrolls sideways more
    // easily than both ways), at min_unit: as much as can be read at once.
    bool left = L->inputs_left;
    lay_out(L, u, &w, &h);
    for (int alt = 0; alt < 2; alt++) { // the other inputs' arrangement; everything late
        float w2, h2;
        if (alt == 0 && !inputs_could_move(L))
            continue;
        bool was_late = L->late;
        L->late = alt == 1;
        if (!assign_columns(L, alt == 0 ? !left : false))
            return false;
        lay_out(L, u, &w2, &h2);
        if (h2 < h * (alt == 0 ? 0.95f : 0.8f)) { // (late moves much: only when it saves much)
            w = w2, h = h2, left = L->inputs_left;
        } else {
            L->late = was_late;
            if (!assign_columns(L, left))
                return false;
            lay_out(L, u, &w, &h);
        }
    }
    float hmax = 0;
    for (int j = 0; j < L->m && has_callout(L); j++) { // a strip only when a callout is shown
        const Value *c = L->g->nodes[L->members[j]];
        float cw, ch;
        if (is_gate(c)) {
            callout_worst(L, c, &cw, &ch);
            hmax = fmaxf(hmax, ch);
        }
    }
    L->band = hmax > 0 ? fminf(hmax + 2 * CALL_GAP * u, p->h * 0.4f) : 0;
    float vh = fmaxf(p->h - L->band, 1), x0, y0, x1, y1, fx, fy;
    extent(L, &x0, &y0, &x1, &y1);
    size_t cur = p->current;
    if (cur < L->g->n && L->nodes[cur].col >= 0) {
        fx = L->nodes[cur].x, fy = L->nodes[cur].y;
    } else { // the left end, level with the first column
        fx = x0 + p->w / 2, fy = 0;
        int n0 = L->ncols ? L->col_start[1] - L->col_start[0] : 0;
        for (int j = 0; j < n0; j++)
            fy += L->nodes[L->col_nodes[j]].y / (float)n0;
        if (n0 == 0)
            fy = (y0 + y1) / 2;
    }
    float dx = p->x + p->w / 2 - fx, dy = p->y + vh / 2 - fy;
    if (x1 - x0 <= p->w)
        dx = p->x + (p->w - (x1 - x0)) / 2 - x0;
    else
        dx = fminf(fmaxf(dx, p->x + p->w - x1), p->x - x0);
    if (y1 - y0 <= vh)
        dy = p->y + (vh - (y1 - y0)) / 2 - y0;
    else
        dy = fminf(fmaxf(dy, p->y + vh - y1), p->y - y0);
    int all = L->ncols ? L->col_start[L->ncols] : 0;
    for (int j = 0; j < all; j++) {
        L->nodes[L->col_nodes[j]].x += dx;
        L->nodes[L->col_nodes[j]].y += dy;
    }
    for (int c = 0; c < L->ncols; c++)
        L->right_edge[c] += dx;
    L->window = true;
    return true;
}

// Clip segment (x0, y0)-(x1, y1) to the rectangle; false when none of it is
// inside. (Liang-Barsky)
static bool clip_segment(float *x0, float *y0, float *x1, float *y1, float rx0, float ry0, float rx1, float ry1)
{
    float t0 = 0, t1 = 1, dx = *x1 - *x0, dy = *y1 - *y0;
    const float pp[4] = {-dx, dx, -dy, dy};
    const float qq[4] = {*x0 - rx0, rx1 - *x0, *y0 - ry0, ry1 - *y0};
    for (int i = 0; i < 4; i++) {
        if (pp[i] == 0) {
            if (qq[i] < 0)
                return false;
            continue;
        }
        float r = qq[i] / pp[i];
        if (pp[i] < 0)
            t0 = fmaxf(t0, r);
        else
            t1 = fminf(t1, r);
        if (t0 > t1)
            return false;
    }
    float ax = *x0, ay = *y0;
    *x0 = ax + t0 * dx, *y0 = ay + t0 * dy;
    *x1 = ax + t1 * dx, *y1 = ay + t1 * dy;
    return true;
}

static bool inside(float x, float y, float rx0, float ry0, float rx1, float ry1)
{
    const float e = 0.5f;
    return x >= rx0 - e && x <= rx1 + e && y >= ry0 - e && y <= ry1 + e;
}

// Keep what the items from n0 on draw inside the rectangle: lines and
// rectangles are cut at its edges, anything else (circles, text, arrows)
// is kept only when it is wholly inside; a gate's symbol ("op:") only when
// its circle (radius r) is.
static void clip_items(Scene *s, size_t n0, float r, float rx0, float ry0, float rx1, float ry1)
{
    size_t j = n0;
    for (size_t i = n0; i < s->n; i++) {
        SceneItem it = s->items[i];
        bool keep = true;
        switch (it.kind) {
        case SCENE_LINE:
            keep = clip_segment(&it.x, &it.y, &it.x2, &it.y2, rx0, ry0, rx1, ry1);
            break;
        case SCENE_RECT:
        case SCENE_FRAME: {
            float ax = fmaxf(it.x, rx0), ay = fmaxf(it.y, ry0);
            float bx = fminf(it.x + it.w, rx1), by = fminf(it.y + it.h, ry1);
            keep = bx > ax && by > ay;
            it.x = ax, it.y = ay, it.w = bx - ax, it.h = by - ay;
            break;
        }
        case SCENE_CIRCLE:
        case SCENE_RING:
            keep = inside(it.x - it.radius, it.y - it.radius, rx0, ry0, rx1, ry1) &&
                   inside(it.x + it.radius, it.y + it.radius, rx0, ry0, rx1, ry1);
            break;
        case SCENE_TEXT: {
            float left = it.align == ALIGN_CENTER ? it.x - it.w / 2 : it.align == ALIGN_RIGHT ? it.x - it.w : it.x;
            keep = inside(left, it.y, rx0, ry0, rx1, ry1) && inside(left + it.w, it.y + it.h, rx0, ry0, rx1, ry1);
            if (keep && it.id && strncmp(it.id, "op:", 3) == 0) {
                float cy = it.y + it.h / 2;
                keep = inside(it.x - r, cy - r, rx0, ry0, rx1, ry1) && inside(it.x + r, cy + r, rx0, ry0, rx1, ry1);
            }
            break;
        }
        case SCENE_TRIANGLE:
            keep = inside(it.x, it.y, rx0, ry0, rx1, ry1) && inside(it.x2, it.y2, rx0, ry0, rx1, ry1) &&
                   inside(it.x3, it.y3, rx0, ry0, rx1, ry1);
            break;
        default:
            for (int q = 0; it.pts && q < it.npts; q++)
                keep &= inside(it.pts[2 * q], it.pts[2 * q + 1], rx0, ry0, rx1, ry1);
            break;
        }
        if (keep)
            s->items[j++] = it;
    }
    s->n = j;
    // A fork's "Σ" goes with its gradient: none left without the number.
    j = n0;
    for (size_t i = n0; i < s->n; i++) {
        const SceneItem *it = &s->items[i];
        bool keep = true;
        if (it->id && strncmp(it->id, "sum:", 4) == 0) {
            char want[200];
            snprintf(want, sizeof(want), "grad:%s", it->id + 4);
            keep = false;
            for (size_t q = n0; q < s->n && !keep; q++)
                keep = s->items[q].id && strcmp(s->items[q].id, want) == 0;
        }
        if (keep)
            s->items[j++] = s->items[i];
    }
    s->n = j;
}

// The window (rx0, ry0)-(rx1, ry1) cut to the drawing, then clipped, with
// arrows in a margin at each edge where the circuit goes on beyond it.
static void clip_window(const Layout *L, size_t n0, float rx0, float ry0, float rx1, float ry1)
{
    Scene *s = L->s;
    const Theme *t = L->p->theme;
    float x0, y0, x1, y1, a = MORE_SIZE * L->u, e = 1, mg = a + 3 * L->u;
    extent(L, &x0, &y0, &x1, &y1);
    bool left = x0 < rx0 - e, right = x1 > rx1 + e, up = y0 < ry0 - e, down = y1 > ry1 + e;
    float cx = (rx0 + rx1) / 2, cy = (ry0 + ry1) / 2;
    clip_items(s, n0, L->r + GLOW * L->u, rx0 + (left ? mg : 0), ry0 + (up ? mg : 0), rx1 - (right ? mg : 0),
               ry1 - (down ? mg : 0));
    Color col = t->accent;
    if (left)
        scene_tag(s, scene_triangle(s, rx0, cy, rx0 + a, cy - a, rx0 + a, cy + a, col), "more");
    if (right)
        scene_tag(s, scene_triangle(s, rx1, cy, rx1 - a, cy - a, rx1 - a, cy + a, col), "more");
    if (up)
        scene_tag(s, scene_triangle(s, cx, ry0, cx - a, ry0 + a, cx + a, ry0 + a, col), "more");
    if (down)
        scene_tag(s, scene_triangle(s, cx, ry1, cx - a, ry1 - a, cx + a, ry1 - a, col), "more");
}

float circuit_build(Scene *s, const Graph *g, const Value *out, const CircuitParams *p)
{
    Layout L;
    if (!layout_init(&L, s, g, out, p)) {
        s->failed = true;
        return 0;
    }
    if (p->w <= 0 || p->h <= 0 || L.m == 0)
        return 0;
    float u = fit(&L, p->x, p->y, p->w, p->h);
    if (u <= 0) {
        s->failed = true;
        return 0;
    }
    if (p->min_unit > 0 && u < p->min_unit) {
        if (!window_layout(&L)) {
            s->failed = true;
            return 0;
        }
        u = L.u;
    }
    size_t n0 = s->n;
    draw(&L);
    if (L.window) {
        float rx1 = p->x + p->w, ry1 = p->y + fmaxf(p->h - L.band, 1);
        clip_window(&L, n0, p->x, p->y, rx1, ry1);
    }
    if (has_callout(&L))
        draw_callout(&L);
    return u;
}

void circuit_measure(Scene *s, const Graph *g, const Value *out, const CircuitParams *p, float *w, float *h)
{
    Layout L;
    *w = *h = 0;
    if (!layout_init(&L, s, g, out, p) || L.m == 0 || !assign_columns(&L, true)) {
        return;
    }
    float u = p->unit > 0 ? p->unit : 1;
    float wa, ha;
    lay_out(&L, u, &wa, &ha);
    if (inputs_could_move(&L)) { // as fit() chooses: inputs left unless that is clearly taller
        float wb, hb;
        if (!assign_columns(&L, false))
            return;
        lay_out(&L, u, &wb, &hb);
        if (hb * 1.15f <= ha) {
            wa = wb, ha = hb;
        } else {
            if (!assign_columns(&L, true))
                return;
            lay_out(&L, u, &wa, &ha);
        }
    }
    // The callout strip, if some gate finds no place in the drawing at its
    // natural size (placed in a box of that size, at p's left edge).
    CircuitParams q = *p;
    q.w = fmaxf(p->w, wa), q.h = ha;
    L.p = &q;
    spread(&L, q.x, q.y, wa, ha);
    *w = wa;
    *h = ha + strip_needed(&L);
}
