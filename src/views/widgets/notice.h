// notice.h: what a panel says when its box is too small for what it draws
// (frames, an image, wheels, a layer diagram): a muted line, or two, telling
// the presenter how to get it back, instead of an empty box.
#ifndef GRADLAB_NOTICE_H
#define GRADLAB_NOTICE_H

#include "views/scene.h"
#include "views/theme.h"

// The words of the notice (one line; the short form when the box is narrow).
#define NOTICE_TOO_SMALL "too small at this size: make the window larger or press Ctrl \u2212"
#define NOTICE_TOO_SMALL_SHORT "too small: Ctrl \u2212 or a larger window"

// The smallest text a panel draws: under this a projector shows a smudge.
#define NOTICE_MIN_PX 9.0f

// Append the notice in the box x, y, w, h at size px (at least
// NOTICE_MIN_PX): centred, the long form when it fits the width, else the
// short one, fitted with an ellipsis. Tagged "ID:too-small" (id may be NULL:
// "too-small"). Draws nothing when the box has no room for one line.
void notice_too_small(Scene *s, const Theme *t, float x, float y, float w, float h, float px, const char *id);

#endif
