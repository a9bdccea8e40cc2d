// surface.h: a loss surface f(x, y) seen from above, with the paths of
// optimizers walking down it: the sampled surface as coloured cells with
// contour lines, each path in its own series colour with a legend, and, at
// the selected optimizer's current point, the terms of its next step as
// arrows (-lr times the gradient, -lr times its velocity, the step it takes).
// What an `optimizers` source publishes (lessons/source_optim.c) is what it
// draws; surface_from_arrays gathers it.
//
// Clicking the map: the map is one item tagged with the params' id (the
// lesson view uses "panel:NAME:surface"), covering exactly the box whose
// left edge is XLO, right edge XHI, top YHI and bottom YLO. surface_point_at
// turns a click inside it into a point of the surface; a window sets the
// source's start from it (the params its x0 and y0 options name).
#ifndef GRADLAB_SURFACE_H
#define GRADLAB_SURFACE_H

#include <stdbool.h>

#include "lessons/sources.h"
#include "views/scene.h"
#include "views/theme.h"

#define SURFACE_MAX_PATHS 8

typedef struct SurfacePath {
    const char *name; // in the legend ("adam")
    const double *xy; // (n, 2) points x, y; borrowed
    int n;
    const double *loss; // (n) the loss at each point, or NULL
    int status;         // 0 moving, 1 left the map downhill, 2 diverged
    int color;          // index into theme->series
} SurfacePath;

typedef struct SurfaceParams {
    float x, y, w, h; // the whole widget, legend included
    float unit;
    const Theme *theme;
    const char *title;  // drawn above, or NULL
    const double *grid; // (rows, cols) f sampled at cell centres, row 0 at the top (y = YHI); borrowed
    int rows, cols;
    double range[4]; // XLO XHI YLO YHI
    const SurfacePath *paths;
    int npaths;
    int selected; // the path the arrows belong to, or -1
    // The selected optimizer's next step at its current point; each (2) or NULL.
    const double *point, *grad, *velocity, *step;
    double lr;
    int steps;      // steps taken, for the legend; -1 to leave out
    const char *id; // the map's id ("panel:NAME:surface"); legend rows are "ID:legend:K"
} SurfaceParams;

// Append the widget. NaN and Inf cells are drawn in the theme's warning colour.
void surface_build(Scene *s, const SurfaceParams *p);

// Fill p's data from the arrays of the source called source: "SOURCE.surface",
// "SOURCE.range", every (n, 2) array of the source as a path (or only those
// named in only[0..nonly), when nonly > 0) with "SOURCE.loss.NAME" and
// "SOURCE.status.NAME", "SOURCE.selected", "SOURCE.point", ".grad",
// ".velocity", ".step", ".lr" and ".steps". A path's colour is its place
// among all the source's paths, so colours agree with a plot of the losses
// listed in the same order. paths (max of them) receives the paths. Returns
// false when the source has published no surface or range yet.
bool surface_from_arrays(SurfaceParams *p, const RunArrays *a, const char *source, const char *const *only,
                         int nonly, SurfacePath *paths, int max);

// The point of the surface under (mx, my) for the map item built with range;
// false when (mx, my) is outside it.
bool surface_point_at(const SceneItem *map, const double range[4], float mx, float my, double *x, double *y);

#endif
