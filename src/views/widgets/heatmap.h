// heatmap.h: a matrix drawn as coloured cells with a colour bar, for hidden
// states, gates and weights over time.
#ifndef GRADLAB_HEATMAP_H
#define GRADLAB_HEATMAP_H

#include <stdbool.h>

#include "views/scene.h"
#include "views/theme.h"

typedef struct HeatmapParams {
    float x, y, w, h;       // the whole widget, colour bar included
    float unit;
    const Theme *theme;
    const float *data;      // (rows, cols) row-major; borrowed
    int rows, cols;
    bool diverging;         // signed values: diverging palette centred at 0
    const char *title;      // drawn above, or NULL
    const char *id;         // prefix for item ids ("ID:cell", "ID:nan", "ID:bar-max")
} HeatmapParams;

// Append the heatmap. The colour scale runs over the finite values: min..max
// for the sequential palette, -m..m with m = max |v| for the diverging one.
// NaN and ±Inf cells are drawn in the theme's warning colour with a cross,
// tagged "ID:nan", so a student sees where numbers broke.
void heatmap_build(Scene *s, const HeatmapParams *p);

#endif
