// scatter.h: points (x, y) from several sets, each in its own colour with a
// legend, on linear or log10 axes; optionally joined in order (a curve
// against any x, such as loss against a swept learning rate), with a
// shaded horizontal band (the spread of one setting over seeds). The last
// point of each set is ringed, so a search's newest trial stands out.
// Rebuilt every frame from borrowed arrays.
#ifndef GRADLAB_SCATTER_H
#define GRADLAB_SCATTER_H

#include <stdbool.h>

#include "views/scene.h"
#include "views/theme.h"

typedef struct ScatterSet {
    const char *name;     // for the legend, or NULL
    const double *xyz;    // (n, stride): x, y and, when stride > 2, a size in [0, 1]
    int n, stride;        // stride >= 2
} ScatterSet;

typedef struct ScatterParams {
    float x, y, w, h;     // the whole widget
    float unit;
    const Theme *theme;
    const char *title, *xlabel;     // each may be NULL
    bool log_x, log_y;    // log10 axes; points <= 0 on a log axis are left out
    bool lines;           // join each set's points in order
    const ScatterSet *sets;
    int nsets;
    bool band;            // shade y in [band_lo, band_hi] across the plot
    double band_lo, band_hi;
    const char *band_label; // written in the band, or NULL
    const char *id;       // prefix for ids: "ID:point", "ID:xtick", "ID:ytick", "ID:legend", "ID:band"
} ScatterParams;

// Append the scatter plot. Sets take the theme's series colours in order.
void scatter_build(Scene *s, const ScatterParams *p);

#endif
