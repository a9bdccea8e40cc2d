// lesson_view.h: the whole screen of a lesson at one step: title and
// progress, the circuit, the narrative panel, the key hints, and overlays.
#ifndef GRADLAB_LESSON_VIEW_H
#define GRADLAB_LESSON_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "lessons/lesson.h"
#include "lessons/run.h"
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
    const Run *run;         // the lesson's run: its graph, params and arrays are drawn (g is unused);
                            // NULL: the view evaluates the lesson into g itself (format 1 callers)
    const char *drag;       // the id of the control being dragged, drawn pressed, or NULL
    int page;               // the narrative's page when it does not fit even shrunk, from 0
} LessonViewParams;

// Where the narrative goes on a w x h screen at scale: its box and its text size.
typedef struct NarrativeBox {
    float w, h, size;
} NarrativeBox;
NarrativeBox lesson_view_narrative_box(float w, float h, float scale);

// The unit every size is multiplied by: 1 at 1280x720 and scale 1.
float lesson_view_unit(float w, float h, float scale);

// The plot series of a training lesson's history, as drawn (for CSV export).
PlotSeries lesson_view_history_series(const LessonViewParams *p);

// Append the screen of size w x h to s (scene_begin is called here): the
// title, the lesson's panels in their layout, the narrative, the footer.
// With p->run the numbers come from the run at its step; without, the
// lesson is evaluated at p->step into g (the caller's scratch graph).
// Ids: "title", "step-counter", "narrative", "phase", "panel:NAME" for each
// panel's box, "param:NAME" for a control (a slider's track, a toggle; the
// slider's knob is "param:NAME:knob"), "param:NAME=CHOICE" for a choice
// button, plus the widgets' own.
// Returns how many pages the narrative takes (1 when it fits, shrunk or not).
int lesson_view_build(Scene *s, Graph *g, const LessonViewParams *p, float w, float h);

#endif
