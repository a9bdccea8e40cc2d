// controls.h: small interactive widgets as scene items: bar charts,
// sliders, toggles, buttons, scrubbable numbers and tooltips.
//
// Each builder appends items tagged with the caller's id, so the app finds
// the control under the mouse with scene_hit(scene, x, y, id) and turns the
// mouse position into a new value with the *_value_at helpers. The state
// (the value, on/off, pressed) belongs to the caller; builders only draw it.
#ifndef GRADLAB_CONTROLS_H
#define GRADLAB_CONTROLS_H

#include <stdbool.h>

#include "views/scene.h"
#include "views/theme.h"

// Horizontal-axis bar chart of n values with labels; bars above or below a
// zero line (signed values). NaN/Inf bars are drawn as warning markers.
// Items: "ID:bar:K" for bar K, "ID:label:K", "ID:value:K", "ID:nan". Bars
// too narrow for their texts get every k-th label, and a value only where
// it clears the one before it: no two texts overlap.
typedef struct BarChartParams {
    float x, y, w, h, unit;
    const Theme *theme;
    const double *values;
    const char *const *labels;  // n labels, or NULL
    int n;
    const char *id;
} BarChartParams;
void barchart_build(Scene *s, const BarChartParams *p);

// A slider for value in [lo, hi]. Items: "ID" (the track, full box), "ID:knob".
typedef struct SliderParams {
    float x, y, w, unit;
    const Theme *theme;
    const char *label;          // drawn above the track, or NULL
    double value, lo, hi;
    bool log_scale;             // lo, hi > 0: position is log(value)
    const char *id;
} SliderParams;
void slider_build(Scene *s, const SliderParams *p);

// The value under mouse x for a slider with these params (clamped to [lo, hi]).
double slider_value_at(const SliderParams *p, float mouse_x);

// A toggle (switch) with a label. Items: "ID" covering switch and label.
void toggle_build(Scene *s, float x, float y, float unit, const Theme *t, const char *label, bool on,
                  const char *id);

// A push button. Items: "ID" (the box). pressed draws it sunk.
void button_build(Scene *s, float x, float y, float unit, const Theme *t, const char *label, bool pressed,
                  const char *id);

// A number that can be dragged to change it: drawn as "label = value" with a
// dotted underline. Items: "ID" (the number text).
void scrub_build(Scene *s, float x, float y, float unit, const Theme *t, const char *label, double value,
                 bool active, const char *id);

// The value after dragging a scrubbable number by dx pixels from start.
// step is the change per 4 unit-pixels; fine divides it by 10. The result
// is rounded to the step.
double scrub_value(double start, float dx, float unit, double step, bool fine);

// A tooltip box with lightly marked-up text near (x, y), kept inside the
// scene. Items: "tooltip".
void tooltip_build(Scene *s, float x, float y, float unit, const Theme *t, const char *markup);

#endif
