// chars.h: code points drawn as text, one character per cell of a
// monospaced grid, and for one selected character (under the mouse, else
// the panel's pick) the candidates a model gave for it with their
// probabilities as bars. A `chars` panel (lesson_view.c) draws an array of
// code points this way: a char-RNN's sample with its top candidates
// (lessons/source_charrnn.c), or any text a source publishes as numbers.
//
// A newline is drawn as a muted return arrow and starts a new line; other
// control characters as a muted middle dot. Each character's cell is an item
// tagged "ID:char:I", so a window can find the one under the mouse.
#ifndef GRADLAB_CHARS_H
#define GRADLAB_CHARS_H

#include <stdbool.h>

#include "views/scene.h"
#include "views/theme.h"

typedef struct CharsParams {
    float x, y, w, h;    // the whole widget
    float unit;
    const Theme *theme;
    const char *title;   // drawn above, or NULL
    const double *cps;   // (n) code points; borrowed
    int n;
    const double *top;   // (n, k) candidate code points, most probable first, or NULL
    const double *prob;  // (n, k) their probabilities, or NULL
    int k;
    int pick;            // the selected character when the mouse is on none
    bool mouse;          // mouse_x, mouse_y hold the pointer
    float mouse_x, mouse_y;
    const char *id;      // the prefix of the items' ids ("panel:NAME")
} CharsParams;

// Append the widget to s. Returns the index of the selected character (-1
// when there are none).
int chars_build(Scene *s, const CharsParams *p);

#endif
