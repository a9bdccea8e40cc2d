// slider_ends.h: whether a lesson's sources can be made at the ends of the
// sliders that reach them. A student drags a slider to its end; a source
// whose option refuses that value (lesson 13's batch slider once went to
// 128 while its source took at most 64) leaves its panels blank with an
// error in front of the class. `gradlab check` and test_slider_ends ask.
#ifndef GRADLAB_LESSONS_SLIDER_ENDS_H
#define GRADLAB_LESSONS_SLIDER_ENDS_H

#include "lessons/lesson.h"

// One source that could not be made: which, with what (e.g. "batch = 128",
// "every parameter at its upper end") and why (the source's own message).
typedef void (*SliderEndsReport)(void *ctx, const LessonSource *src, const char *what, const char *why);

// Make (not train) every source of l at each end of each parameter its
// options read ({name}: a number's min and max, each word of a choice, both
// states of a toggle) with the others at their defaults, then with all at
// their lower ends and all at their upper ends; let each go again. Calls
// report for each one that cannot be made. Returns how many could not;
// *made (may be NULL) gets how many were tried. Takes seconds for the
// sources that load data (transfer: about 0.5 s each).
int lesson_slider_ends(const Lesson *l, SliderEndsReport report, void *ctx, int *made);

#endif
