// lstm_cell_view.h: an LSTM cell at one time step, drawn the way readers of
// Olah's "Understanding LSTM Networks" know it (the cell state running
// along the top through × and +, the σ σ tanh σ gates below, tanh(c) × o
// giving h), with the numbers of one unit at the selected step on its
// wires; and the strips of every gate and state over time under it, with
// the selected step marked. Both draw the arrays an `lstmmem` source
// publishes (source_lstmmem.c); neither needs SDL.
#ifndef GRADLAB_LSTM_CELL_VIEW_H
#define GRADLAB_LSTM_CELL_VIEW_H

#include <stdbool.h>

#include "lessons/sources.h"
#include "views/scene.h"
#include "views/theme.h"

// One probe sequence's numbers, borrowed from a source's published arrays.
typedef struct LstmCellData {
    int T, H;
    int t;                  // the selected step, 0-based (clamped into 0..T-1)
    int unit;               // the unit drawn in the cell, 0-based
    int mark;               // the marked step, 0-based
    const double *x;        // (T, 2) value, marker
    const double *i, *f, *g, *o, *c, *h; // (T, H)
    const double *clamped;  // (T, 4) 1 where gate i, f, g, o is clamped; may be NULL
    const double *dcnorm;   // (T) ||dL/dc_t||; may be NULL
    double y, target;
    int mem_unit;           // the source's memory unit, 0-based
} LstmCellData;

// Find source's arrays ("SOURCE.f", ...) in a. step1 is the selected step,
// 1-based; unit is the unit to draw, 1-based, or 0 for the source's memory
// unit. False when the arrays are missing or their shapes disagree.
bool lstm_cell_data(const RunArrays *a, const char *source, double step1, double unit, LstmCellData *d);

typedef struct LstmViewParams {
    float x, y, w, h;
    float unit;             // size unit (1 at 1280x720)
    const Theme *theme;
    const char *id;         // prefix for item ids ("ID:f" is the forget gate's box, "ID:marker" the step marker)
    // lstm_time_build: when not NULL, the strips are also an item with this
    // id ("param:t:scrub") spanning the middle of the first step's column to
    // the middle of the last's, so the app drags it like the track of a
    // slider of the step's param: with that param ranging over 1..T, the
    // column under the mouse becomes the selected step.
    const char *scrub_id;
} LstmViewParams;

// Append the cell diagram of d's selected step and unit.
void lstm_cell_build(Scene *s, const LstmViewParams *p, const LstmCellData *d);

// Append the strips over time: x, then i, f, g, o, c and h (a row per unit,
// a column per step), clamped cells crossed, the selected step framed.
void lstm_time_build(Scene *s, const LstmViewParams *p, const LstmCellData *d);

#endif
