// textflow.h: paragraphs of lightly marked-up text wrapped into a box.
//
// Markup: **bold**, `code` (monospace, in the accent colour), a blank line
// starts a new paragraph, a line starting with "- " is a bullet. Symbols
// such as ∂ × σ are plain UTF-8 and come from the font.
//
// Text is never cut silently. What does not fit the box at the style's size
// is drawn smaller, down to a floor (TextStyle.min_size); what does not fit
// at the floor is cut into pages at line breaks, one page is drawn, and a
// mark at the bottom right says so: "1/3 ▸", "◂ 2/3 ▸", "◂ 3/3". A word
// wider than the box is broken between characters rather than overflowing.
//
//     TextStyle st = {.size = 20 * u, .text = t->text, .code = t->accent, .id = "narrative",
//                     .page = page};                     // the app's page index, from 0
//     TextFlowInfo fi = textflow_draw(s, x, y, w, h, &st, text);
//     // fi.npages > 1: the text pages; a key can move page within [0, fi.npages)
//
// Ids: every text item of the flow is tagged st->id, and the page mark
// "ID:page" (st->id NULL: "textflow:page").
#ifndef GRADLAB_TEXTFLOW_H
#define GRADLAB_TEXTFLOW_H

#include <stdbool.h>

#include "views/scene.h"

typedef struct TextStyle {
    float size;         // pixel size of body text
    Color text, code;   // body and `code` colours (the page mark uses code)
    const char *id;     // tag for every emitted text item, or NULL
    float min_size;     // the floor text shrinks to before it pages; 0 = TEXTFLOW_MIN_FRACTION * size
    int page;           // the page drawn when the text pages, from 0 (clamped to the last)
} TextStyle;

// The floor text shrinks to by default, as a fraction of its size.
#define TEXTFLOW_MIN_FRACTION 0.75f

// What textflow_draw drew.
typedef struct TextFlowInfo {
    float height;       // height used from the top of the box (max_h when it pages)
    float size;         // the size the text was drawn at (st->size when it fits)
    int page;           // the page drawn, from 0
    int npages;         // how many pages; 1 when the whole text is in the box
} TextFlowInfo;

// Lay out markup in the box (x, y, w, max_h), appending text items to s:
// at st->size when it fits, else at the largest size down to the floor that
// fits, else at the floor, page st->page of several, with the page mark.
// Nothing is drawn outside the box.
TextFlowInfo textflow_draw(Scene *s, float x, float y, float w, float max_h, const TextStyle *st,
                           const char *markup);

// textflow_draw, returning only the height used.
float textflow(Scene *s, float x, float y, float w, float max_h, const TextStyle *st,
               const char *markup);

// How many pages markup takes in a box of w x max_h with st (1 = it fits,
// maybe shrunk), without drawing. s supplies the width measure; NULL uses
// the scene's built-in estimate (what a headless `check` has).
int textflow_pages(const Scene *s, float w, float max_h, const TextStyle *st, const char *markup);

// Whether the whole of markup fits a box of w x max_h at pixel size `size`,
// without shrinking or paging. s as for textflow_pages (NULL: the estimate).
bool textflow_fits(const Scene *s, float w, float max_h, float size, const char *markup);

#endif
