// layers.h: a network drawn as a row of layer boxes from input to output,
// the first few marked frozen (kept as they were: grey, with "frozen"
// under them) and the rest trainable (accent, "trains"), with arrows
// between them. For transfer learning: which pretrained layers are kept.
#ifndef GRADLAB_LAYERS_H
#define GRADLAB_LAYERS_H

#include "views/scene.h"
#include "views/theme.h"

#define LAYERS_MAX 8

typedef struct LayersParams {
    float x, y, w, h;
    float unit;
    const Theme *theme;
    const char *title;              // or NULL
    const char *names[LAYERS_MAX];  // input first
    int n;
    int frozen;                     // how many of the first layers are frozen (clamped to 0..n)
    const char *id;                 // each box is tagged "ID:NAME"
} LayersParams;

// Append the row of layers. A short box draws them closer to the title
// and their words smaller (not under 9 px); one too small for boxes at all
// says how many are frozen in words, and that it is too small.
void layers_build(Scene *s, const LayersParams *p);

#endif
