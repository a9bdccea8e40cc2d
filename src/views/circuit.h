// circuit.h: the circuit diagram of a scalar graph, in the style of the
// CS231n backprop figures: inputs on the left, the output on the right, gates
// as circles, each wire labelled with its value (above) and, once the
// backward pass has reached it, its gradient (below).
#ifndef GRADLAB_CIRCUIT_H
#define GRADLAB_CIRCUIT_H

#include <stddef.h>

#include "engine/value.h"
#include "views/scene.h"
#include "views/theme.h"

// What the diagram shows; the LESSON_SHOWN_* bits in Value.mark say which
// numbers are visible (see lessons/lesson.h).
typedef struct CircuitParams {
    float x, y, w, h;       // the box to lay out in
    float unit;             // 1 at 1280x720 and scale 1; multiplies every size
    const Theme *theme;
    size_t current;         // graph index of the gate to highlight, or SIZE_MAX
    int phase;              // 0 none, 1 forward, 2 backward: what the callout explains
    const char *out_name;   // label of the output wire ("f")
} CircuitParams;

// Lay out every ancestor of out (Value.mark bit 1) and append the diagram to
// s. Text items carry ids "value:NAME" and "grad:NAME" (NAME is the bound
// name, or "#INDEX" for an unnamed gate); gate circles "gate:NAME"; the
// callout lines "callout". Values and gradients use 4 significant digits.
void circuit_build(Scene *s, const Graph *g, const Value *out, const CircuitParams *p);

// The id used for node v ("x", "#3"), written into buf. Returns buf.
char *circuit_node_key(const Value *v, char *buf, size_t n);

// How node v is written in text: its name, its constant, or its gate
// symbol in parentheses ("(×)") for an unnamed gate. Returns buf.
char *circuit_node_label(const Value *v, char *buf, size_t n);

#endif
