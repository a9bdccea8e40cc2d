// theme.h: the colours every view draws with. Three themes: dark (the
// default), light (handouts), and high contrast (projectors in bright rooms).
// Series colours are the Okabe-Ito palette, distinguishable with the common
// forms of colour blindness.
#ifndef GRADLAB_THEME_H
#define GRADLAB_THEME_H

#include "views/scene.h"

typedef struct Theme {
    const char *name;
    Color background, panel, panel_edge;
    Color text, muted, accent;
    Color value;      // forward values on wires
    Color grad;       // gradients on wires
    Color wire, wire_done;
    Color gate, gate_edge;
    Color warn;       // NaN / Inf markers
    Color series[8];
} Theme;

typedef enum ThemeId { THEME_DARK, THEME_LIGHT, THEME_CONTRAST, THEME_COUNT } ThemeId;

extern const char *const theme_names[THEME_COUNT];   // "dark", "light", "contrast"

// The theme for id (out of range gives dark). Static storage.
const Theme *theme_get(ThemeId id);

#endif
