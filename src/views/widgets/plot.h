// plot.h: line plots with several series, a legend, linear or log y axes
// with decade ticks, axis labels, a read-out under the mouse, and NaN/Inf
// points shown as markers instead of breaking the line; shaded x intervals
// and one marked x (a point on every series). Rebuilt every frame
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
    const char *id;             // prefix for ids: "ID:ytick", "ID:xtick", "ID:nan", "ID:legend", "ID:readout",
                                // "ID:shade", "ID:mark" (the marked points), "ID:mark-label"
    const double *shade;        // (nshade, 2) x intervals lo, hi shaded behind the series; NULL = none
    int nshade;
    const char *shade_label;    // the shading's legend entry ("saturated"), or NULL for none
    bool mark;                  // mark the point at x = mark_x on every series (a dot each, a
    double mark_x;              // dashed line and the x written at its top)
} PlotParams;

// Append the plot. Series take the theme's colour-blind-safe series colours
// in order. The frame's text (ticks, labels, title, legend) is drawn at
// p->unit, or smaller when the widget is short, so that the data keeps at
// least about half the height; the legend shares the title's row when both
// fit, else it takes a row of its own under it.
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
