// lesson_view.h: the whole screen of a lesson at one step: title and
// progress, the circuit, the narrative panel, the key hints, and overlays.
#ifndef GRADLAB_LESSON_VIEW_H
#define GRADLAB_LESSON_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "lessons/lesson.h"
#include "views/scene.h"
#include "views/theme.h"
#include "views/widgets/graph.h"
#include "views/widgets/plot.h"

// What the app keeps for a lesson drawn with `view: graph`: the layout
// cache, the zoom and pan, and the mouse for hover tooltips.
typedef struct LessonGraphState {
    GraphLayout *layout;    // owned by the caller (graph_layout_create/destroy)
    GraphView view;         // scale 0 = fit on the next build
    bool hover;
    float mouse_x, mouse_y;
    GraphParams last;       // the params of the last build, for zoom and pan about the mouse
} LessonGraphState;

typedef struct LessonViewParams {
    const Lesson *lesson;
    size_t step;
    const Theme *theme;
    float scale;            // user text/stroke scale; 1 = default
    bool help;              // draw the key help overlay
    bool blank;             // presenter blank screen: draw nothing but background
    const char *status;     // a transient line in the footer ("saved x.png"), or NULL
    LessonGraphState *graph; // needed for `view: graph` lessons; NULL draws them fitted, no hover
    const double *history;  // (nhistory) the output after each training step, for `train:` lessons
    int nhistory;
} LessonViewParams;

// The unit every size is multiplied by: 1 at 1280x720 and scale 1.
float lesson_view_unit(float w, float h, float scale);

// The plot series of a training lesson's history, as drawn (for CSV export).
PlotSeries lesson_view_history_series(const LessonViewParams *p);

// Evaluate the lesson at p->step into g (the caller's scratch graph) and
// append the screen of size w x h to s (scene_begin is called here).
// Ids: "title", "step-counter", "narrative", "phase", plus the circuit's.
void lesson_view_build(Scene *s, Graph *g, const LessonViewParams *p, float w, float h);

#endif
