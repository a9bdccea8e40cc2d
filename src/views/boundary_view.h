// boundary_view.h: the training playground's picture. A square map of the
// plane coloured by the network's p(class 1) (the decision boundary is where
// the colour turns), the training points on top coloured by class, and
// beside it one small map per hidden neuron, layer by layer, of that
// neuron's own output over the same plane. The neuron under the mouse (or
// the one `focus` names) is drawn large in the map's place, with the points.
// No SDL: it appends to a scene.
#ifndef GRADLAB_BOUNDARY_VIEW_H
#define GRADLAB_BOUNDARY_VIEW_H

#include <stdbool.h>

#include "views/scene.h"
#include "views/theme.h"

#define BOUNDARY_MAX_LAYERS 8
#define BOUNDARY_MAX_NEURONS 256 // more hidden neurons than this: none are drawn

typedef struct BoundaryParams {
    float x, y, w, h; // the whole panel
    float unit;
    const Theme *theme;
    const char *title;      // above the map, or NULL for a default
    const char *caption;    // a line under the title (step, loss, accuracy), or NULL
    const double *boundary; // (grid, grid) p(class 1), row 0 at the top; borrowed
    int grid;
    const double *range;  // (4) xlo xhi ylo yhi of the plane both grids cover
    const double *points; // (npoints, 3) x, y, label (0 or 1); may be NULL
    int npoints;
    int chosen;            // a point ringed (the one a program follows), or -1
    const double *neurons; // (layers * units, ngrid * ngrid), or NULL for none
    int layers, units, ngrid;
    int focus;  // 1-based neuron drawn large; 0 for the output
    bool hover; // the mouse is at mouse_x, mouse_y: a neuron under it is drawn large
    float mouse_x, mouse_y;
    const char *id; // "panel:NAME": items are ID:map, ID:neuron:K (K from 1), ID:point:I
} BoundaryParams;

// Append the panel to s.
void boundary_build(Scene *s, const BoundaryParams *p);

// The neuron (from 1) whose small map item "ID:neuron:K" in s is under x, y,
// or 0. id is the panel's id prefix ("panel:NAME").
int boundary_neuron_at(const Scene *s, const char *id, float x, float y);

#endif
