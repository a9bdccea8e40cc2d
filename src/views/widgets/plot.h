// plot.h: line plots with several series, a legend, linear or log y axes
// with decade ticks, axis labels, a read-out under the mouse, and NaN/Inf
// points shown as markers instead of breaking the line. Rebuilt every frame
// from borrowed arrays, so a plot of a training run updates live.
#ifndef GRADLAB_PLOT_H
#define GRADLAB_PLOT_H

#include <stdbool.h>
#include <stdio.h>

#include "views/scene.h"
#include "views/theme.h"

typedef struct PlotSeries {
    const char *name;
    const double *x;    // (n), or NULL for 0, 1, 2, ...
    const double *y;    // (n)
    int n;
} PlotSeries;

typedef struct PlotParams {
    float x, y, w, h;           // the whole widget
    float unit;
    const Theme *theme;
    const char *title, *xlabel, *ylabel;    // each may be NULL
    bool log_y;                 // log10 y axis; values <= 0 become markers
    const PlotSeries *series;
    int nseries;
    bool hover;                 // draw the read-out at mouse_x
    float mouse_x;
    const char *id;             // prefix for ids: "ID:ytick", "ID:xtick", "ID:nan", "ID:legend", "ID:readout"
} PlotParams;

// Append the plot. Series take the theme's colour-blind-safe series colours
// in order.
void plot_build(Scene *s, const PlotParams *p);

// Write the plotted data as CSV in long form, one row per point:
// "series,x,y" with a header line. Non-finite values are written as nan,
// inf or -inf. Returns false when writing fails.
bool plot_write_csv(FILE *f, const PlotSeries *series, int nseries);

// Nice linear tick positions covering [lo, hi]: steps of 1, 2 or 5 times a
// power of ten, about `target` of them. Writes at most max ticks to out and
// returns how many.
int plot_ticks(double lo, double hi, int target, double *out, int max);

#endif
