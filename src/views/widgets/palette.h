// palette.h: colour maps for heatmaps. A perceptually uniform sequential map
// (viridis-like) for magnitudes, and a diverging blue-white-red map centred
// at zero for signed values.
#ifndef GRADLAB_PALETTE_H
#define GRADLAB_PALETTE_H

#include "views/scene.h"

// t in [0, 1] (clamped): dark purple (0) through teal to yellow (1).
Color palette_viridis(float t);

// t in [-1, 1] (clamped): blue (-1), near white (0), red (+1).
Color palette_diverging(float t);

#endif
