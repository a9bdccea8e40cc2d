// lesson_view.c: composes the lesson screen from the circuit and text
// widgets; see lesson_view.h.
#include "views/lesson_view.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "views/circuit.h"
#include "views/textflow.h"

float lesson_view_unit(float w, float h, float scale)
{
    float u = fminf(w / 1280.0f, h / 720.0f);
    return u * (scale > 0 ? scale : 1);
}

static const char *phase_name(StepKind k)
{
    switch (k) {
    case STEP_INTRO: return "INTRODUCTION";
    case STEP_FORWARD: return "FORWARD PASS";
    case STEP_BACKWARD: return "BACKWARD PASS";
    case STEP_DONE: return "ALL GRADIENTS";
    }
    return "";
}

static const struct {
    const char *keys, *what;
} help_rows[] = {
    {"\u2192  Space  PageDown", "next step"},
    {"\u2190  Backspace  PageUp", "previous step"},
    {"Home  End", "first and last step"},
    {"drag an input's number", "change it; Shift for fine steps"},
    {"R", "reset the inputs"},
    {"wheel, drag", "zoom and pan a graph view"},
    {"G", "one gradient-descent step (train: lessons)"},
    {"F  F11", "fullscreen"},
    {"B  .", "blank the screen (presenting)"},
    {"Ctrl +  Ctrl -  Ctrl 0", "bigger, smaller, normal size"},
    {"T", "next theme: dark, light, contrast"},
    {"M  Tab", "lesson menu"},
    {"P", "play / pause: a step every 4 seconds"},
    {"N", "presenter notes window"},
    {"S  Ctrl+S", "save a PNG of this view"},
    {"C", "save the numbers on screen as CSV"},
    {"? or H", "this help"},
    {"Esc  Q", "quit"},
};

static void help_overlay(Scene *s, const Theme *t, float u, float w, float h)
{
    size_t rows = sizeof(help_rows) / sizeof(help_rows[0]);
    float size = 20 * u, lh = scene_line_height(size) * 1.3f;
    float bw = 820 * u, bh = lh * (float)rows + 100 * u;
    float bx = (w - bw) / 2, by = (h - bh) / 2;
    scene_rect(s, 0, 0, w, h, 0, color_alpha(t->background, 200));
    scene_tag(s, scene_panel(s, bx, by, bw, bh, 12 * u, t->panel, t->accent, 2 * u), "help");
    scene_text(s, bx + 30 * u, by + 24 * u, FONT_BOLD, 26 * u, ALIGN_LEFT, t->text, "Keys");
    for (size_t i = 0; i < rows; i++) {
        float y = by + 78 * u + lh * (float)i;
        scene_text(s, bx + 30 * u, y, FONT_MONO, size * 0.9f, ALIGN_LEFT, t->accent, help_rows[i].keys);
        scene_text(s, bx + 400 * u, y, FONT_REGULAR, size, ALIGN_LEFT, t->text, help_rows[i].what);
    }
}

PlotSeries lesson_view_history_series(const LessonViewParams *p)
{
    PlotSeries ser = {program_output_name(p->lesson->program), NULL, p->history, p->nhistory};
    return ser;
}

void lesson_view_build(Scene *s, Graph *g, const LessonViewParams *p, float w, float h)
{
    const Theme *t = p->theme;
    const Lesson *l = p->lesson;
    scene_begin(s, w, h, t->background);
    if (p->blank)
        return;
    float u = lesson_view_unit(w, h, p->scale);
    float m = 36 * u;
    size_t step = p->step < l->nsteps ? p->step : l->nsteps - 1;
    Value *out = lesson_eval(l, g, step);
    if (!out) {
        scene_text(s, m, m, FONT_BOLD, 24 * u, ALIGN_LEFT, t->warn, "out of memory evaluating the lesson");
        return;
    }
    LessonState st = lesson_state(l, step);

    // Title, step counter, progress.
    char counter[64];
    snprintf(counter, sizeof(counter), "Step %zu of %zu", step + 1, l->nsteps);
    float counter_w = scene_text_width(s, FONT_REGULAR, 18 * u, counter);
    scene_tag(s, scene_text_fit(s, m, 20 * u, FONT_BOLD, 30 * u, ALIGN_LEFT, t->text, l->title,
                                w - 2 * m - counter_w - 24 * u), "title");
    scene_tag(s, scene_text(s, w - m, 30 * u, FONT_REGULAR, 18 * u, ALIGN_RIGHT, t->muted, counter),
              "step-counter");
    float py = 72 * u, pw = w - 2 * m;
    scene_rect(s, m, py, pw, 6 * u, 3 * u, t->panel_edge);
    scene_tag(s, scene_rect(s, m, py, pw * (float)(step + 1) / (float)l->nsteps, 6 * u, 3 * u, t->accent),
              "progress");

    // Legend.
    float ly = 92 * u, lsize = 15 * u;
    scene_circle(s, w - m - 190 * u, ly + 9 * u, 5 * u, t->value);
    scene_text(s, w - m - 180 * u, ly, FONT_REGULAR, lsize, ALIGN_LEFT, t->muted, "value");
    scene_circle(s, w - m - 110 * u, ly + 9 * u, 5 * u, t->grad);
    scene_text(s, w - m - 100 * u, ly, FONT_REGULAR, lsize, ALIGN_LEFT, t->muted, "gradient");

    // The circuit between the header and the narrative panel.
    float footer_h = 40 * u, panel_h = fminf(215 * u, 0.34f * h);
    float panel_y = h - footer_h - panel_h;
    // A training lesson gives the right third to a live plot of the output.
    float view_w = w - 2 * m;
    if (l->train.enabled) {
        view_w = (w - 2 * m) * 0.6f;
        float px = m + view_w + 20 * u, plot_w = w - m - px;
        char title[96];
        snprintf(title, sizeof(title), "%s after each gradient step (lr %g)", program_output_name(l->program),
                 l->train.lr);
        PlotSeries ser = lesson_view_history_series(p);
        PlotParams pp = {.x = px, .y = 112 * u, .w = plot_w, .h = panel_y - 124 * u, .unit = u, .theme = t,
                         .title = title, .xlabel = "gradient step", .series = &ser, .nseries = p->nhistory ? 1 : 0,
                         .id = "train-plot"};
        plot_build(s, &pp);
        if (!p->nhistory)
            scene_text(s, px + plot_w / 2, 112 * u + (panel_y - 124 * u) / 2, FONT_REGULAR, 16 * u, ALIGN_CENTER,
                       t->muted, "press G for one step, P to train");
    }
    if (strcmp(l->view, "graph") == 0) {
        // The general graph widget: every value and gradient, zoom, pan, hover.
        LessonGraphState fallback = {0}, *gs = p->graph ? p->graph : &fallback;
        GraphLayout *own = gs->layout ? NULL : graph_layout_create();
        GraphParams gp = {.x = m, .y = 112 * u, .w = view_w, .h = panel_y - 124 * u, .unit = u, .theme = t,
                          .graph = g, .out = out, .view = gs->view, .hover = gs->hover,
                          .mouse_x = gs->mouse_x, .mouse_y = gs->mouse_y, .legend = false};
        GraphLayout *lay = gs->layout ? gs->layout : own;
        if (lay) {
            graph_layout_update(lay, &gp);
            if (gp.view.scale == 0)
                gs->view = gp.view = graph_view_fit(lay, &gp);
            graph_build(s, lay, &gp);
        }
        gs->last = gp;
        graph_layout_destroy(own);
    } else {
        CircuitParams cp = {
            .x = m, .y = 120 * u, .w = view_w, .h = panel_y - 120 * u - 60 * u,
            .unit = u, .theme = t, .current = st.gate,
            .phase = st.kind == STEP_FORWARD ? 1 : st.kind == STEP_BACKWARD ? 2 : 0,
            .out_name = program_output_name(l->program),
        };
        circuit_build(s, g, out, &cp);
    }

    // Narrative panel.
    scene_panel(s, m, panel_y, w - 2 * m, panel_h, 12 * u, t->panel, t->panel_edge, 1.5f * u);
    scene_tag(s, scene_text(s, m + 24 * u, panel_y + 16 * u, FONT_BOLD, 14 * u, ALIGN_LEFT, t->accent,
                            phase_name(st.kind)), "phase");
    char text[4096], fault[1024];
    lesson_step_text(l, g, step, text, sizeof(text));
    if (lesson_explain_faults(g, fault, sizeof(fault))) {
        // A NaN or Inf on screen is a teaching moment: say what happened.
        size_t len = strlen(text);
        snprintf(text + len, sizeof(text) - len, "%s%s", len ? "\n\n" : "", fault);
        scene_tag(s, scene_text(s, w - m - 24 * u, panel_y + 16 * u, FONT_BOLD, 14 * u, ALIGN_RIGHT, t->warn,
                                "NaN / Inf"), "fault");
        scene_circle(s, w - m - 290 * u, 92 * u + 9 * u, 5 * u, t->warn); // and in the legend
        scene_text(s, w - m - 280 * u, 92 * u, FONT_REGULAR, 15 * u, ALIGN_LEFT, t->muted, "NaN / Inf");
    }
    TextStyle ts = {.size = 20 * u, .text = t->text, .code = t->accent, .id = "narrative"};
    textflow(s, m + 24 * u, panel_y + 44 * u, w - 2 * m - 48 * u, panel_h - 56 * u, &ts, text);

    // Footer: key hints, or a status line.
    const char *hint = p->status ? p->status
                                 : "\u2192 next    \u2190 back    Home/End    F fullscreen    ? help    Q quit";
    scene_tag(s, scene_text(s, w / 2, h - footer_h + 8 * u, FONT_REGULAR, 15 * u, ALIGN_CENTER,
                            p->status ? t->accent : t->muted, hint), "footer");
    if (p->help)
        help_overlay(s, t, u, w, h);
}
