// fuzz_view.c: libFuzzer target for the lesson screen (views/lesson_view.h).
// Parses the input as a lesson; when it parses, builds every step's screen
// (circuit, narrative, overlays) into a scene at a normal and a tiny size,
// with the help overlay on the last step. Values may be NaN or Inf; the
// builders must cope. No SDL is involved: a scene is only a draw list.
//
// An input whose first byte has its top bit set is not lesson text but a
// recipe for the structure-aware generator (program_gen.h): wide, deep and
// fanned-out programs of up to 2,000 inputs, which raw text never reaches.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/diag.h"
#include "program_gen.h"
#include "lessons/lesson.h"
#include "views/lesson_view.h"
#include "views/scene.h"
#include "views/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Graph *graph;
static Scene *scene;
static char *generated;

// The screen of step st at a normal size, and tiny and zoomed. Each frame
// starts from a new scene: a scene keeps its capacity, and built with
// GRADLAB_MOVE_ON_GROW only a young scene moves its items on every append.
static void build_step(const Lesson *l, size_t st)
{
    scene_destroy(scene);
    if (!(scene = scene_create()))
        return;
    LessonViewParams vp = {.lesson = l, .step = st, .theme = theme_get((ThemeId)(st % THEME_COUNT)),
                           .scale = 1, .help = st + 1 == l->nsteps, .status = "fuzz"};
    lesson_view_build(scene, graph, &vp, 1280, 720);
    vp.scale = 4;
    scene_destroy(scene);
    if (!(scene = scene_create()))
        return;
    lesson_view_build(scene, graph, &vp, 64, 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!graph)
        graph = graph_create(PROGRAM_MAX_NODES + 1);
    const char *src = (const char *)data;
    if (size > 0 && data[0] & 0x80) {
        if (!generated && !(generated = malloc(GEN_MAX_TEXT)))
            return 0;
        size = gen_lesson(data + 1, size - 1, generated, GEN_MAX_TEXT);
        src = generated;
    }
    Diag d;
    diag_init(&d, "fuzz.lesson", src, size);
    Lesson *l = lesson_parse(src, size, "fuzz.lesson", &d);
    if (l) {
        // A generated lesson may have hundreds of steps of a large program:
        // build eight of them (first, last and spread between), so the
        // fuzzer spends its time on new programs.
        bool sample = src == generated && l->nsteps > 8;
        size_t n = sample ? 8 : l->nsteps;
        for (size_t k = 0; k < n; k++)
            build_step(l, sample ? k * (l->nsteps - 1) / 7 : k);
        lesson_destroy(l);
    }
    diag_free(&d);
    return 0;
}
