// circuit.h: the circuit diagram of a scalar graph, in the style of the
// CS231n backprop figures: inputs on the left, the output on the right, gates
// as circles, each wire labelled with its value (above) and, once the
// backward pass has reached it, its gradient (below).
//
// Layout: gates in columns by depth; inputs in the first column, or, when
// that column would be too tall, each just left of the gate that first uses
// it; constants just left of their gate. Every node and the labels it
// carries form one box, and no two boxes overlap: boxes in a column are
// stacked with gaps, and columns stand far enough apart that boxes beside
// each other clear. The whole diagram is laid out at p->unit and, when it
// does not fit the box, at the largest smaller unit that fits (every size
// shrinks alike, so rows never collapse onto each other); extra room spreads
// the columns and rows out.
//
// The callout (the current gate's computation) never covers a gate, a wire
// or a number: it goes in the first free place near the gate, and when some
// gate would find none, the layout keeps a strip free at the bottom of the
// box for it. That choice is made for the whole circuit, not per step, so
// the diagram does not move as the steps go.
#ifndef GRADLAB_CIRCUIT_H
#define GRADLAB_CIRCUIT_H

#include <stddef.h>

#include "engine/value.h"
#include "views/scene.h"
#include "views/theme.h"

// What the diagram shows; the LESSON_SHOWN_* bits in Value.mark say which
// numbers are visible (see lessons/lesson.h).
typedef struct CircuitParams {
    float x, y, w, h;       // the box to lay out in: nothing is drawn outside it
    float unit;             // 1 at 1280x720 and scale 1; multiplies every size
    const Theme *theme;
    size_t current;         // graph index of the gate to highlight, or SIZE_MAX
    int phase;              // 0 none, 1 forward, 2 backward: what the callout explains
    const char *out_name;   // label of the output wire ("f")
    float min_unit;         // never draw smaller than this (0: no floor). A circuit that does not
                            // fit the box at min_unit is drawn at it, and the box shows the part
                            // around the current gate (else the left end): a window that follows
                            // the steps, with arrows at the edges where more of it lies
} CircuitParams;

// Lay out every ancestor of out (Value.mark bit 1) and append the diagram to
// s. A value read by several iterations of a loop (Value.flags
// VALUE_SHARED: a weight shared by every time step) is drawn in the shared
// colour, its name, its box and every wire leaving it, so that one weight
// reads as the same one at every step; its name item is "shared:NAME".
// A value that feeds several gates forks: a dot "fork:NAME" where its wire
// splits, each branch's share of its gradient (local × the gate's
// gradient, once that gate has pushed) on the branch just before the gate,
// "branch:NAME:GATE", and a "Σ" ("sum:NAME") before its gradient, which is
// the sum of the shares so far. Text items carry ids "value:NAME" and "grad:NAME" (NAME is the bound
// name, or "#INDEX" for an unnamed gate), "name:NAME" for an input's name,
// "name:output", "gate-name:NAME" under a gate, "op:NAME" for the symbol in
// a gate, "const:INDEX" for a constant; gate circles "gate:NAME"; wires
// "wire" and "wire:output"; the callout's box "callout-box" and its lines
// "callout"; with a window (min_unit), the arrows at its edges "more".
// Values and gradients use 4 significant digits. Returns the unit the
// diagram was drawn at: p->unit, or less when it did not fit the box at
// p->unit (but not below min_unit; 0 when nothing was drawn).
float circuit_build(Scene *s, const Graph *g, const Value *out, const CircuitParams *p);

// The size (pixels) the diagram of out needs at p->unit with nothing
// shrunk, its callout strip included when it needs one: for a screen that
// shares its room between the circuit and other panels. p's box only
// matters through its width (a wide box may spare the strip). s supplies
// the width measure and scratch memory (its arena; nothing is appended).
void circuit_measure(Scene *s, const Graph *g, const Value *out, const CircuitParams *p, float *w, float *h);

// The id used for node v ("x", "#3"), written into buf. Returns buf.
char *circuit_node_key(const Value *v, char *buf, size_t n);

// How node v is written in text (the callout): its name, its constant, or
// for an unnamed gate its formula in parentheses ("(x1 × w1)"), as the graph
// widget writes it (graph_node_name). Returns buf.
char *circuit_node_label(const Value *v, char *buf, size_t n);

#endif
