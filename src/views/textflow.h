// textflow.h: paragraphs of lightly marked-up text wrapped into a box.
//
// Markup: **bold**, `code` (monospace, in the accent colour), a blank line
// starts a new paragraph, a line starting with "- " is a bullet. Symbols
// such as ∂ × σ are plain UTF-8 and come from the font.
#ifndef GRADLAB_TEXTFLOW_H
#define GRADLAB_TEXTFLOW_H

#include "views/scene.h"

typedef struct TextStyle {
    float size;         // pixel size of body text
    Color text, code;   // body and `code` colours
    const char *id;     // tag for every emitted text item, or NULL
} TextStyle;

// Lay out markup in the box starting at (x, y), width w, appending text
// items to s. Returns the height used. Nothing is drawn below y + max_h;
// lines that do not fit are left out.
float textflow(Scene *s, float x, float y, float w, float max_h, const TextStyle *st,
               const char *markup);

#endif
