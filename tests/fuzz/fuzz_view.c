// fuzz_view.c: libFuzzer target for the lesson screen (views/lesson_view.h).
// Parses the input as a lesson; when it parses, builds every step's screen
// (circuit, narrative, overlays) into a scene at a normal and a tiny size,
// with the help overlay on the last step. Values may be NaN or Inf; the
// builders must cope. No SDL is involved: a scene is only a draw list.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/diag.h"
#include "lessons/lesson.h"
#include "views/lesson_view.h"
#include "views/scene.h"
#include "views/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Graph *graph;
static Scene *scene;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!graph)
        graph = graph_create(PROGRAM_MAX_NODES + 1);
    if (!scene)
        scene = scene_create();
    const char *src = (const char *)data;
    Diag d;
    diag_init(&d, "fuzz.lesson", src, size);
    Lesson *l = lesson_parse(src, size, "fuzz.lesson", &d);
    if (l) {
        for (size_t st = 0; st < l->nsteps; st++) {
            LessonViewParams vp = {.lesson = l, .step = st, .theme = theme_get((ThemeId)(st % THEME_COUNT)),
                                   .scale = 1, .help = st + 1 == l->nsteps, .status = "fuzz"};
            lesson_view_build(scene, graph, &vp, 1280, 720);
            vp.scale = 4;
            lesson_view_build(scene, graph, &vp, 64, 64);
        }
        lesson_destroy(l);
    }
    diag_free(&d);
    return 0;
}
