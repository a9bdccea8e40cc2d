// lesson_view.c: composes the lesson screen from the circuit and text
// widgets; see lesson_view.h.
#include "views/lesson_view.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/numfmt.h"
#include "views/widgets/controls.h"
#include "views/widgets/drive.h"
#include "views/widgets/heatmap.h"
#include "views/widgets/layers.h"
#include "views/widgets/scatter.h"
#include "views/widgets/surface.h"
#include "views/lstm_cell_view.h"
#include "views/widgets/chars.h"

#include "views/boundary_view.h"
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
    {"drag a slider, click a choice", "set a parameter (sources restart)"},
    {"E", "edit a program: Ctrl+Enter or F5 applies, Esc cancels"},
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
    {"? or H", "this help (the step keys wait until it closes)"},
    {"Esc", "close help, blank or menu; leave fullscreen; quit a window"},
    {"Q  Ctrl+Q", "quit"},
};

// The key help: two columns sized to their longest entries, the whole box
// shrunk (never below half size) until it fits the screen.
static void help_overlay(Scene *s, const Theme *t, float u, float w, float h)
{
    size_t rows = sizeof(help_rows) / sizeof(help_rows[0]);
    float keys_w = 0, what_w = 0;
    for (size_t i = 0; i < rows; i++) {
        keys_w = fmaxf(keys_w, scene_text_width(s, FONT_MONO, 18, help_rows[i].keys));
        what_w = fmaxf(what_w, scene_text_width(s, FONT_REGULAR, 20, help_rows[i].what));
    }
    // Sizes at u = 1, then one factor for the whole box.
    float lh = scene_line_height(20) * 1.3f, bw = 30 + keys_w + 40 + what_w + 30, bh = lh * (float)rows + 100;
    float k = fminf(u, fminf((w - 16) / bw, (h - 16) / bh));
    k = fmaxf(k, 0.5f * u);
    bw *= k, bh *= k, lh *= k;
    float bx = (w - bw) / 2, by = (h - bh) / 2;
    scene_rect(s, 0, 0, w, h, 0, color_alpha(t->background, 200));
    scene_tag(s, scene_panel(s, bx, by, bw, bh, 12 * k, t->panel, t->accent, 2 * k), "help");
    scene_text(s, bx + 30 * k, by + 24 * k, FONT_BOLD, 26 * k, ALIGN_LEFT, t->text, "Keys");
    for (size_t i = 0; i < rows; i++) {
        float y = by + 78 * k + lh * (float)i;
        scene_text(s, bx + 30 * k, y, FONT_MONO, 18 * k, ALIGN_LEFT, t->accent, help_rows[i].keys);
        scene_text_fit(s, bx + (70 + keys_w) * k, y, FONT_REGULAR, 20 * k, ALIGN_LEFT, t->text, help_rows[i].what,
                       bw - (100 + keys_w) * k);
    }
}

PlotSeries lesson_view_history_series(const LessonViewParams *p)
{
    PlotSeries ser = {program_output_name(p->lesson->program), NULL, p->history, p->nhistory};
    return ser;
}

// ---------------------------------------------------------------------------
// Panels

typedef struct PanelCtx {
    Scene *s;
    const LessonViewParams *p;
    const Graph *g;
    const Value *out;
    LessonState st;
    float u;
    float uc;               // the frame's unit: controls are sized by it (see chrome_unit)
} PanelCtx;

// A panel's numbers by name: from the run (arrays, params, program names),
// or without one, a program name's value. NULL when unknown.
static const double *lookup(const PanelCtx *c, const char *name, int *count)
{
    const double *data = NULL;
    if (c->p->run && run_lookup(c->p->run, name, &data, count))
        return data;
    const Value *v = program_lookup(c->p->lesson->program, c->g, name);
    if (v) {
        *count = 1;
        return &v->data;
    }
    return NULL;
}

static void panel_title(const PanelCtx *c, float x, float y, float w, const char *title)
{
    scene_text_fit(c->s, x, y, FONT_BOLD, 15 * c->u, ALIGN_LEFT, c->p->theme->muted, title, w);
}

// The node a step is at: its current gate, else a program name the step
// highlights (`highlight: NAME`); SIZE_MAX when none.
static size_t current_node(const PanelCtx *c)
{
    const Lesson *l = c->p->lesson;
    if (c->st.gate != SIZE_MAX || !c->p->run || !l->f2.directives)
        return c->st.gate;
    const StepDirectives *sd = &l->f2.directives[run_step(c->p->run)];
    for (int j = 0; j < sd->n; j++)
        if (sd->d[j].kind == DIRECTIVE_HIGHLIGHT && sd->d[j].target < 0) {
            size_t idx = program_binding_node(l->program, sd->d[j].name);
            if (idx < c->g->n)
                return idx;
        }
    return SIZE_MAX;
}

#define CIRCUIT_MIN_UNIT 0.55f // of the frame's unit: a circuit's numbers are at least 11 px at 1280x720

static void draw_circuit(const PanelCtx *c, float x, float y, float w, float h)
{
    const Lesson *l = c->p->lesson;
    CircuitParams cp = {
        .x = x, .y = y + 8 * c->u, .w = w, .h = h - 16 * c->u, .unit = c->u, .theme = c->p->theme,
        .current = current_node(c), .phase = c->st.kind == STEP_FORWARD ? 1 : c->st.kind == STEP_BACKWARD ? 2 : 0,
        .out_name = program_output_name(l->program),
        .min_unit = CIRCUIT_MIN_UNIT * c->uc, // smaller is unreadable: a window that follows the steps
    };
    circuit_build(c->s, c->g, c->out, &cp);
}

#define GRAPH_MAX_GROUPS 1024

// Group the nodes a program's loop made by iteration ("t = 3"), so the graph
// view draws each time step as a column: group[i] for node i (-1 outside
// loops), names[k] for group k. Returns the number of groups; 0 (and no
// groups) when there are none or more than GRAPH_MAX_GROUPS.
static int loop_groups(const Lesson *l, const Graph *g, int *group, char (*names)[24])
{
    int n = 0;
    unsigned seen_loop[GRAPH_MAX_GROUPS];
    long seen_step[GRAPH_MAX_GROUPS];
    for (size_t i = 0; i < g->n; i++) {
        const Value *v = g->nodes[i];
        group[i] = -1;
        if (!v->loop)
            continue;
        int k = n - 1; // nodes of one iteration come together: look back from the newest group
        while (k >= 0 && !(seen_loop[k] == v->loop && seen_step[k] == v->step))
            k--;
        if (k < 0) {
            if (n == GRAPH_MAX_GROUPS)
                return 0;
            k = n++;
            seen_loop[k] = v->loop, seen_step[k] = v->step;
            ProgramLoop lp = program_loop(l->program, v->loop - 1);
            snprintf(names[k], sizeof(names[k]), "%s = %ld", lp.var, (long)v->step);
        }
        group[i] = k;
    }
    return n;
}

#define GRAPH_MIN_SCALE 0.75f // the graph widget's full detail (name, value, gradient) starts at 0.72

static void draw_graph(const PanelCtx *c, float x, float y, float w, float h)
{
    const LessonViewParams *p = c->p;
    int *group = malloc((c->g->n ? c->g->n : 1) * sizeof(int));
    char(*names)[24] = malloc(GRAPH_MAX_GROUPS * sizeof(*names));
    const char *name_ptrs[GRAPH_MAX_GROUPS];
    int ngroups = group && names ? loop_groups(p->lesson, c->g, group, names) : 0;
    for (int k = 0; k < ngroups; k++)
        name_ptrs[k] = names[k];
    LessonGraphState fallback = {0}, *gs = p->graph ? p->graph : &fallback;
    GraphLayout *own = gs->layout ? NULL : graph_layout_create();
    size_t cur = current_node(c);
    GraphParams gp = {.x = x, .y = y, .w = w, .h = h, .unit = c->u, .theme = p->theme,
                      .graph = c->g, .out = c->out, .view = gs->view, .hover = gs->hover,
                      .mouse_x = gs->mouse_x, .mouse_y = gs->mouse_y, .legend = false,
                      .current = cur < c->g->n ? c->g->nodes[cur] : NULL, .reveal = true,
                      .min_scale = GRAPH_MIN_SCALE, // smaller shows no numbers: follow the step instead
                      .group = ngroups ? group : NULL, .ngroups = ngroups, .group_names = ngroups ? name_ptrs : NULL};
    GraphLayout *lay = gs->layout ? gs->layout : own;
    if (lay) {
        graph_layout_update(lay, &gp);
        gs->view = gp.view = graph_view_current(lay, &gp); // fitted again when the box or the scale changes
        graph_build(c->s, lay, &gp);
    }
    gs->last = gp;
    gs->last.group = NULL, gs->last.group_names = NULL; // freed below
    graph_layout_destroy(own);
    free(group);
    free(names);
}

// A plot's options (format2.h): `x` is the x of every series as long as it;
// `shade` a 0/1 mask as long as the series (each run of 1s becomes an
// interval between the samples around it) or (k, 2) intervals; `mark` the
// x marked on each series. Returns the intervals it made (the caller frees
// them), or NULL.
static double *plot_options(const PanelCtx *c, const LessonPanel *lp, PlotSeries *ser, int n, PlotParams *pp)
{
    int nx = 0, ns = 0, nm = 0;
    const double *xs = lp->plot_x ? lookup(c, lp->plot_x, &nx) : NULL;
    for (int k = 0; xs && k < n; k++)
        if (ser[k].n == nx)
            ser[k].x = xs;
    const double *m = lp->plot_mark ? lookup(c, lp->plot_mark, &nm) : NULL;
    if (m && nm > 0)
        pp->mark = true, pp->mark_x = m[nm - 1];
    const double *sh = lp->plot_shade ? lookup(c, lp->plot_shade, &ns) : NULL;
    if (!sh || ns <= 0)
        return NULL;
    pp->shade_label = lp->plot_shade;
    bool mask = n > 0 && ns == ser[0].n;
    for (int i = 0; mask && i < ns; i++)
        mask = sh[i] == 0 || sh[i] == 1;
    if (!mask) {
        pp->shade = sh, pp->nshade = ns / 2;
        return NULL;
    }
    double *iv = malloc((size_t)ns * 2 * sizeof(double));
    if (!iv)
        return NULL;
    const PlotSeries *s0 = &ser[0];
    int k = 0;
    for (int i = 0; i < ns; i++) {
        if (sh[i] != 1)
            continue;
        int j = i;
        while (j + 1 < ns && sh[j + 1] == 1)
            j++;
        double xi = s0->x ? s0->x[i] : i, xj = s0->x ? s0->x[j] : j;
        iv[2 * k] = i > 0 ? (xi + (s0->x ? s0->x[i - 1] : i - 1)) / 2 : xi;
        iv[2 * k + 1] = j + 1 < ns ? (xj + (s0->x ? s0->x[j + 1] : j + 1)) / 2 : xj;
        k++, i = j;
    }
    pp->shade = iv, pp->nshade = k;
    return iv;
}

static void draw_plot(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    PlotSeries ser[LESSON_MAX_PANEL_REFS];
    int n = 0;
    for (int i = 0; i < lp->nrefs; i++) {
        int count = 0;
        const double *data = lookup(c, lp->refs[i], &count);
        if (data && count > 0)
            ser[n++] = (PlotSeries){lp->refs[i], NULL, data, count};
    }
    char id[80], title[256], status[200] = "";
    snprintf(id, sizeof(id), "panel:%s:plot", lp->name);
    run_format(c->p->run, lp->title ? lp->title : lp->refs[0], title, sizeof(title));
    // Why a source drawn here stopped (converged, diverged, a spike): under the plot.
    for (int i = 0; c->p->run && i < lp->nrefs && !status[0]; i++) {
        const char *dot = strchr(lp->refs[i], '.');
        char src[RUN_ARRAY_NAME];
        snprintf(src, sizeof(src), "%.*s", dot ? (int)(dot - lp->refs[i]) : 0, lp->refs[i]);
        int k = dot ? run_source_find(c->p->run, src) : -1;
        // Only a source that steps has a reason to have stopped, or one that failed.
        const char *why = k >= 0 && (run_source_steps(c->p->run, k) > 0 || run_source_failed(c->p->run, k))
                              ? run_source_status(c->p->run, k)
                              : NULL;
        if (why)
            snprintf(status, sizeof(status), "%s: %s", src, why);
    }
    float sh = status[0] ? scene_line_height(13 * c->uc) : 0; // at the plot's unit, as its other text
    PlotParams pp = {.x = x, .y = y, .w = w, .h = h - sh, .unit = c->uc, .theme = c->p->theme,
                     .title = title, .xlabel = lp->xlabel ? lp->xlabel : "step", .log_y = lp->logy,
                     .series = ser, .nseries = n, .id = id};
    double *shade = plot_options(c, lp, ser, n, &pp);
    plot_build(c->s, &pp);
    if (status[0]) {
        char sid[96];
        snprintf(sid, sizeof(sid), "panel:%s:status", lp->name);
        scene_tag(c->s, scene_text_fit(c->s, x + 8 * c->uc, y + h - sh, FONT_REGULAR, 13 * c->uc, ALIGN_LEFT,
                                       c->p->theme->muted, status, w - 16 * c->uc), sid);
    }
    free(shade);
    if (n == 0)
        scene_text(c->s, x + w / 2, y + h / 2, FONT_REGULAR, 16 * c->u, ALIGN_CENTER, c->p->theme->muted,
                   "nothing computed yet");
}

static void draw_bars(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    double values[64];
    const char *labels[64];
    char index[64][24];
    int n = 0;
    for (int i = 0; i < lp->nrefs && n < 64; i++) {
        int count = 0;
        const double *data = lookup(c, lp->refs[i], &count);
        // A number is labelled by its name without the source ("grad.w"), an
        // array's elements by their index (t = 0, 1, ...).
        const char *dot = strchr(lp->refs[i], '.');
        for (int k = 0; data && k < count && n < 64; k++) {
            values[n] = data[k];
            if (count == 1)
                labels[n] = dot && strncmp(lp->refs[i], "program.", 8) == 0 ? dot + 1 : lp->refs[i];
            else
                snprintf(index[n], sizeof(index[n]), "%d", k), labels[n] = index[n];
            n++;
        }
    }
    // Figures of one name from several sources ("rnn.ratio", "lstm.ratio")
    // are told apart by their sources: "rnn", "lstm".
    const char *field = NULL;
    int same = 0, other = 0;
    for (int i = 0; i < n; i++) {
        const char *dot = strchr(labels[i], '.');
        if (!dot)
            continue;
        if (!field || strcmp(dot, field) == 0)
            field = dot, same++;
        else
            other++;
    }
    for (int i = 0; same > 1 && !other && i < n; i++) {
        const char *dot = strchr(labels[i], '.');
        if (dot) {
            snprintf(index[i], sizeof(index[i]), "%.*s", (int)(dot - labels[i]), labels[i]);
            labels[i] = index[i];
        }
    }
    float pad = 8 * c->uc;   // room for a highlight frame (the frame's unit: a larger scale needs no more)
    x += pad, y += pad, w -= 2 * pad, h -= 2 * pad;
    if (lp->title) {
        char title[256];
        float tu = h < 200 * c->u ? c->uc : c->u; // at the frame's unit when the panel is short
        run_format(c->p->run, lp->title, title, sizeof(title));
        scene_text_fit(c->s, x, y, FONT_BOLD, 15 * tu, ALIGN_LEFT, c->p->theme->muted, title, w);
        y += 24 * tu, h -= 24 * tu;
    }
    char id[80];
    snprintf(id, sizeof(id), "panel:%s:bars", lp->name);
    BarChartParams bp = {.x = x, .y = y, .w = w, .h = h, .unit = c->uc, .theme = c->p->theme, .values = values,
                         .labels = labels, .n = n, .id = id};
    barchart_build(c->s, &bp);
}

static void draw_heatmap(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    const double *data = NULL;
    const RunArray *a = c->p->run ? run_arrays_find(run_arrays(c->p->run), lp->refs[0], &data) : NULL;
    if (!a || a->ndim != 2) {
        panel_title(c, x, y, w, lp->title ? lp->title : lp->refs[0]);
        scene_text(c->s, x + w / 2, y + h / 2, FONT_REGULAR, 16 * c->u, ALIGN_CENTER, c->p->theme->muted,
                   "nothing computed yet");
        return;
    }
    size_t cells = (size_t)a->shape[0] * (size_t)a->shape[1];
    float *f = malloc(cells * sizeof(float));
    if (!f)
        return;
    for (size_t i = 0; i < cells; i++)
        f[i] = (float)data[i];
    char id[80];
    snprintf(id, sizeof(id), "panel:%s:heatmap", lp->name);
    HeatmapParams hp = {.x = x, .y = y, .w = w, .h = h, .unit = c->u, .theme = c->p->theme, .data = f,
                        .rows = a->shape[0], .cols = a->shape[1], .diverging = true,
                        .title = lp->title ? lp->title : lp->refs[0], .id = id};
    heatmap_build(c->s, &hp);
    free(f);
}

// How many columns of controls a panel w wide holds (each at least 320 units).
static int controls_columns(const PanelCtx *c, const LessonPanel *lp, float w)
{
    int cols = (int)(w / (320 * c->uc));
    cols = cols < 1 ? 1 : cols;
    return cols < lp->nrefs ? cols : lp->nrefs > 0 ? lp->nrefs : 1;
}

// The height one control takes: a slider, a toggle, or a labelled row of choices.
// Where a choice's buttons go in a column cw wide: each button's x and y
// offset from the control's top left (bx, by may be NULL); returns the lines
// they take. Buttons wrap to a new line rather than leave the column.
static int choice_layout(const PanelCtx *c, const LessonParam *pa, float cw, float *bx, float *by)
{
    float u = c->uc, x = 10 * u, y = 24 * u;
    int lines = 1;
    for (int j = 0; j < pa->nchoices; j++) {
        float bw = scene_text_width(c->s, FONT_BOLD, 15 * u, pa->choices[j]) + 28 * u;
        if (j > 0 && x + bw > cw - 10 * u)
            x = 10 * u, y += 36 * u, lines++;
        if (bx)
            bx[j] = x, by[j] = y;
        x += bw + 8 * u;
    }
    return lines;
}

// The height of the control for param name in a column cw wide.
static float control_height(const PanelCtx *c, const char *name, float cw)
{
    int k = c->p->run ? run_param_find(c->p->run, name) : -1;
    ParamKind kind = k >= 0 ? c->p->lesson->f2.params[k].kind : PARAM_NUMBER;
    if (kind == PARAM_CHOICE)
        return (68 + 36 * (float)(choice_layout(c, &c->p->lesson->f2.params[k], cw, NULL, NULL) - 1)) * c->uc;
    return (kind == PARAM_NUMBER ? 62 : 36) * c->uc;
}

// The height the controls of panel lp take in a panel w wide.
static float controls_height(const PanelCtx *c, const LessonPanel *lp, float w)
{
    int cols = controls_columns(c, lp, w);
    float total = 0, cw = (w - 24 * c->uc * (float)(cols - 1)) / (float)cols;
    for (int i = 0; i < lp->nrefs; i += cols) {
        float row = 0;
        for (int k = i; k < i + cols && k < lp->nrefs; k++)
            row = fmaxf(row, control_height(c, lp->refs[k], cw));
        total += row;
    }
    return total + 24 * c->uc;
}

// Sliders, toggles and choices bound to params, in as many columns as fit.
static void draw_controls(const PanelCtx *c0, const LessonPanel *lp, float x, float y, float w, float h)
{
    // Controls that need more height than the box has are drawn smaller, all alike.
    PanelCtx shrunk = *c0;
    float need = controls_height(c0, lp, w);
    if (need > h && h > 0)
        shrunk.uc = c0->uc * fmaxf(h / need, 0.5f);
    const PanelCtx *c = &shrunk;
    const Lesson *l = c->p->lesson;
    const Theme *t = c->p->theme;
    float u = c->uc, gap = 24 * u;
    int cols = controls_columns(c, lp, w);
    float cw = (w - gap * (float)(cols - 1)) / (float)cols, row_y = y + 4 * u, row_h = 0;
    for (int i = 0; i < lp->nrefs; i++) {
        if (i % cols == 0) {
            row_y += row_h;
            row_h = 0;
        }
        float cx = x + (cw + gap) * (float)(i % cols), cy = row_y;
        row_h = fmaxf(row_h, control_height(c, lp->refs[i], cw));
        int k = c->p->run ? run_param_find(c->p->run, lp->refs[i]) : -1;
        if (k < 0 || cy + control_height(c, lp->refs[i], cw) > y + h + 1)
            continue;
        const LessonParam *pa = &l->f2.params[k];
        double v = run_param(c->p->run, k);
        char id[96];
        snprintf(id, sizeof(id), "param:%s", pa->name);
        if (pa->kind == PARAM_NUMBER) {
            SliderParams sp = {.x = cx + 10 * u, .y = cy, .w = cw - 20 * u, .unit = u, .theme = t,
                               .label = pa->name, .value = v, .lo = pa->min, .hi = pa->max,
                               .log_scale = pa->log, .id = id};
            slider_build(c->s, &sp);
        } else if (pa->kind == PARAM_TOGGLE) {
            toggle_build(c->s, cx + 10 * u, cy, u, t, pa->name, v != 0, id);
        } else {
            scene_text(c->s, cx + 10 * u, cy, FONT_REGULAR, 15 * u, ALIGN_LEFT, t->text, pa->name);
            float bx[LESSON_MAX_CHOICES], by[LESSON_MAX_CHOICES];
            choice_layout(c, pa, cw, bx, by);
            for (int j = 0; j < pa->nchoices; j++) {
                char cid[128];
                snprintf(cid, sizeof(cid), "%s=%s", id, pa->choices[j]);
                button_build(c->s, cx + bx[j], cy + by[j], u, t, pa->choices[j], (int)v == j, cid);
            }
        }
    }
}

// x -> x + h: the output moves by about h * df/dx; the numerical slope
// beside the analytic one.
static void draw_nudge(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    const Theme *t = c->p->theme;
    // Five lines, at 17 units, or smaller (down to 9 px) to fit the box.
    float fs = fmaxf(fminf(17 * c->u, h / (5 * 1.2f * 1.25f)), 9), lh = scene_line_height(fs) * 1.2f;
    RunNudge nd;
    if (!c->p->run || !run_nudge(c->p->run, lp - c->p->lesson->f2.panels, &nd)) {
        scene_text(c->s, x, y, FONT_REGULAR, fs, ALIGN_LEFT, t->muted, "nudge: no numbers yet");
        return;
    }
    char lines[5][200], a[32], b[32], d[32];
    const char *f = program_output_name(c->p->lesson->program), *xn = lp->nudge_input;
    snprintf(lines[0], sizeof(lines[0]), "nudge %s by h = %s", xn, numfmt_short(a, sizeof(a), nd.h, 4));
    snprintf(lines[1], sizeof(lines[1]), "%s: %s \u2192 %s", f, numfmt_short(a, sizeof(a), nd.f, 6),
             numfmt_short(b, sizeof(b), nd.f_plus, 6));
    snprintf(lines[2], sizeof(lines[2]), "\u0394%s = %s   h\u00b7\u2202%s/\u2202%s = %s", f,
             numfmt_short(a, sizeof(a), nd.f_plus - nd.f, 4), f, xn, numfmt_short(b, sizeof(b), nd.h * nd.grad, 4));
    snprintf(lines[3], sizeof(lines[3]), "numerical \u0394%s/h = %s", f, numfmt_short(d, sizeof(d), nd.numeric, 6));
    snprintf(lines[4], sizeof(lines[4]), "analytic \u2202%s/\u2202%s = %s", f, xn,
             numfmt_short(d, sizeof(d), nd.grad, 6));
    Color cols[5] = {t->text, t->value, t->text, t->text, t->grad};
    // Narrower still when the widest line would not fit: the numbers end the lines.
    float widest = 0;
    for (int i = 0; i < 5; i++)
        widest = fmaxf(widest, scene_text_width(c->s, i >= 3 ? FONT_MONO : FONT_REGULAR, fs, lines[i]));
    if (widest > w && widest > 0) {
        fs = fmaxf(fs * w / widest, 9);
        lh = scene_line_height(fs) * 1.2f;
    }
    for (int i = 0; i < 5 && lh * (float)(i + 1) <= h + 1; i++) {
        char id[96];
        snprintf(id, sizeof(id), "panel:%s:line%d", lp->name, i);
        scene_tag(c->s, scene_text_fit(c->s, x, y + lh * (float)i, i >= 3 ? FONT_MONO : FONT_REGULAR, fs,
                                       ALIGN_LEFT, cols[i], lines[i], w), id);
    }
}

static void draw_text_panel(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    char buf[2048];
    float pad = 10 * c->u; // room for a highlight frame
    x += pad, y += pad, w -= 2 * pad, h -= 2 * pad;
    if (lp->title) { // at the frame's unit when the panel is short
        float tu = h < 200 * c->u ? c->uc : c->u;
        run_format(c->p->run, lp->title, buf, sizeof(buf));
        scene_text_fit(c->s, x, y, FONT_BOLD, 15 * tu, ALIGN_LEFT, c->p->theme->muted, buf, w);
        y += 24 * tu, h -= 24 * tu;
    }
    run_format(c->p->run, lp->text, buf, sizeof(buf));
    // The text shrinks (down to the frame's small print) before it pages:
    // a short panel at a large scale still shows what it says.
    TextStyle ts = {.size = 18 * c->u, .text = c->p->theme->text, .code = c->p->theme->accent, .id = "panel-text",
                    .min_size = fminf(18 * c->u, 12 * c->uc)};
    textflow(c->s, x, y, w, h, &ts, buf);
}

// A surface with the paths of an optimizers source (surface.h): refs are the
// source, then the optimizers to draw when not all of them. Sized by the
// frame's unit, as controls are, so a large scale leaves the map its room.
static void draw_surface(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    SurfacePath paths[SURFACE_MAX_PATHS];
    char id[96];
    snprintf(id, sizeof(id), "panel:%s:surface", lp->name);
    SurfaceParams sp = {.x = x, .y = y, .w = w, .h = h, .unit = c->uc, .theme = c->p->theme,
                        .title = lp->title, .id = id};
    if (c->p->run && surface_from_arrays(&sp, run_arrays(c->p->run), lp->refs[0], lp->refs + 1, lp->nrefs - 1,
                                         paths, SURFACE_MAX_PATHS))
        surface_build(c->s, &sp);
    else
        scene_text(c->s, x + w / 2, y + h / 2, FONT_REGULAR, 16 * c->u, ALIGN_CENTER, c->p->theme->muted,
                   "nothing computed yet");
}

// An lstmmem source's cell at the selected step, or its strips over time
// (lstm_cell_view.h): refs are the source, the step's param, the unit's.
static void draw_lstm(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    double v[2] = {1, 0};
    for (int k = 1; k < lp->nrefs && k < 3; k++) {
        int pi = c->p->run ? run_param_find(c->p->run, lp->refs[k]) : -1;
        v[k - 1] = pi >= 0 ? run_param(c->p->run, pi) : v[k - 1];
    }
    LstmCellData d;
    char id[96];
    snprintf(id, sizeof(id), "panel:%s", lp->name);
    if (!c->p->run || !lstm_cell_data(run_arrays(c->p->run), lp->refs[0], v[0], v[1], &d)) {
        scene_text(c->s, x + w / 2, y + h / 2, FONT_REGULAR, 16 * c->u, ALIGN_CENTER, c->p->theme->muted,
                   "nothing computed yet");
        return;
    }
    // Sized by the frame's unit, as plots are, so a large scale leaves the
    // diagram and the strips their room.
    float uc = c->uc, pad = 10 * uc; // room for a highlight frame
    x += pad, y += pad, w -= 2 * pad, h -= 2 * pad;
    float top = y;
    if (lp->title) {
        char title[256];
        run_format(c->p->run, lp->title, title, sizeof(title));
        scene_text_fit(c->s, x, y, FONT_BOLD, 15 * uc, ALIGN_LEFT, c->p->theme->muted, title, w);
        top += scene_line_height(15 * uc) + 4 * uc;
    }
    char scrub[96];
    snprintf(scrub, sizeof(scrub), "param:%s:scrub", lp->refs[1]);
    LstmViewParams vp = {.x = x, .y = top, .w = w, .h = y + h - top, .unit = uc, .theme = c->p->theme, .id = id,
                         .scrub_id = scrub};
    if (lp->kind == PANEL_LSTMCELL)
        lstm_cell_build(c->s, &vp, &d);
    else
        lstm_time_build(c->s, &vp, &d);
}

// The array SOURCE.FIELD of the run's snapshot, or NULL; *data gets its numbers.
static const RunArray *source_array(const RunArrays *ra, const char *source, const char *field,
                                    const double **data)
{
    char name[RUN_ARRAY_NAME];
    snprintf(name, sizeof(name), "%s.%s", source, field);
    *data = NULL;
    return ra ? run_arrays_find(ra, name, data) : NULL;
}

// The last number of SOURCE.FIELD, or dflt.
static double source_number(const RunArrays *ra, const char *source, const char *field, double dflt)
{
    const double *v;
    const RunArray *a = source_array(ra, source, field, &v);
    int n = !a ? 0 : a->ndim == 0 ? 1 : a->ndim == 1 ? a->shape[0] : a->shape[0] * a->shape[1];
    return n > 0 ? v[n - 1] : dflt;
}

// An mlp2d source's map, points and hidden neurons (boundary_view.h): refs
// are the source and, optionally, the param naming the neuron drawn large.
// Sized by the frame's unit, as the surface is.
static void draw_boundary(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    const RunArrays *ra = c->p->run ? run_arrays(c->p->run) : NULL;
    const char *src = lp->refs[0];
    const double *grid, *range, *points, *neurons;
    const RunArray *ga = source_array(ra, src, "boundary", &grid);
    const RunArray *rg = source_array(ra, src, "range", &range);
    const RunArray *pa = source_array(ra, src, "points", &points);
    const RunArray *na = source_array(ra, src, "neurons", &neurons);
    if (!ga || ga->ndim != 2 || ga->shape[0] != ga->shape[1] || !rg || rg->ndim != 1 || rg->shape[0] != 4) {
        scene_text(c->s, x + w / 2, y + h / 2, FONT_REGULAR, 16 * c->u, ALIGN_CENTER, c->p->theme->muted,
                   "nothing computed yet");
        return;
    }
    int layers = (int)source_number(ra, src, "layers", 0), units = (int)source_number(ra, src, "units", 0);
    int ngrid = (int)source_number(ra, src, "ngrid", 0), K = layers * units;
    bool neurons_ok = K > 0 && na && na->ndim == 2 && na->shape[0] == K && na->shape[1] == ngrid * ngrid;
    char caption[160], id[96], title[256];
    snprintf(caption, sizeof(caption), "step %.0f    loss %.4f    accuracy %.1f%%",
             source_number(ra, src, "steps", 0), source_number(ra, src, "loss", NAN),
             100 * source_number(ra, src, "accuracy", NAN));
    snprintf(id, sizeof(id), "panel:%s", lp->name);
    int focus = 0;
    if (lp->nrefs > 1 && c->p->run) {
        int k = run_param_find(c->p->run, lp->refs[1]);
        focus = k >= 0 ? (int)run_param(c->p->run, k) : 0;
    }
    if (lp->title)
        run_format(c->p->run, lp->title, title, sizeof(title));
    const LessonGraphState *gs = c->p->graph;
    BoundaryParams bp = {.x = x, .y = y, .w = w, .h = h, .unit = c->uc, .theme = c->p->theme,
                         .title = lp->title ? title : NULL, .caption = caption, .boundary = grid,
                         .grid = ga->shape[0], .range = range,
                         .points = pa && pa->ndim == 2 && pa->shape[1] == 3 ? points : NULL,
                         .npoints = pa && pa->ndim == 2 ? pa->shape[0] : 0,
                         .chosen = (int)source_number(ra, src, "point", -1),
                         .neurons = neurons_ok ? neurons : NULL, .layers = layers, .units = units, .ngrid = ngrid,
                         .focus = focus, .hover = gs && gs->hover, .mouse_x = gs ? gs->mouse_x : 0,
                         .mouse_y = gs ? gs->mouse_y : 0, .id = id};
    boundary_build(c->s, &bp);
}

// Code points as text (chars.h): refs are the code points, then optionally
// their candidates (n, k) and the candidates' probabilities (n, k).
static void draw_chars(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    int n = 0, nt = 0, np = 0;
    const double *cps = lookup(c, lp->refs[0], &n);
    const double *top = lp->nrefs > 2 ? lookup(c, lp->refs[1], &nt) : NULL;
    const double *prob = lp->nrefs > 2 ? lookup(c, lp->refs[2], &np) : NULL;
    int k = n > 0 && top && prob && nt == np && nt % n == 0 ? nt / n : 0;
    char id[80], title[256];
    snprintf(id, sizeof(id), "panel:%s", lp->name);
    if (lp->title)
        run_format(c->p->run, lp->title, title, sizeof(title));
    const LessonGraphState *gs = c->p->graph;
    CharsParams cp = {.x = x, .y = y, .w = w, .h = h, .unit = c->uc, .theme = c->p->theme,
                      .title = lp->title ? title : NULL, .cps = cps, .n = cps ? n : 0, .top = k ? top : NULL,
                      .prob = k ? prob : NULL, .k = k, .pick = lp->pick, .mouse = gs && gs->hover,
                      .mouse_x = gs ? gs->mouse_x : 0, .mouse_y = gs ? gs->mouse_y : 0, .id = id};
    chars_build(c->s, &cp);
}

// Lesson 11's pictures (drive.h): a frame strip, one image of a stack, or
// steering wheels. A stack is (n*h, w) with n the length of the kinds ref; a
// single number (a param or a published number) picks the image or time step.
static void draw_drive(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    char id[80], title[256];
    float pad = 8 * c->uc;   // room for a highlight frame (the frame's unit: a larger scale needs no more)
    x += pad, y += pad, w -= 2 * pad, h -= 2 * pad;
    snprintf(id, sizeof(id), "panel:%s:%s", lp->name, panel_kind_names[lp->kind]);
    if (lp->title)
        run_format(c->p->run, lp->title, title, sizeof(title));
    int sel = -1, count = 0, last = lp->nrefs;
    const double *v = lookup(c, lp->refs[lp->nrefs - 1], &count);
    if (v && count == 1 && lp->nrefs > 2)
        sel = v[0] >= 0 && v[0] < 1e6 ? (int)lround(v[0]) : -1, last = lp->nrefs - 1;
    if (lp->kind == PANEL_WHEEL) {
        WheelParams wp = {.x = x, .y = y, .w = w, .h = h, .unit = c->uc, .theme = c->p->theme, .truth = NAN,
                          .truth_color = c->p->theme->series[0], .title = lp->title ? title : NULL, .id = id};
        const double *tr = lookup(c, lp->refs[0], &count);
        int n = count;
        if (tr && n > 0)
            wp.truth = tr[sel >= 0 && sel < n ? sel : n - 1];
        for (int i = 1; i < last && wp.n < WHEEL_MAX; i++, wp.n++) {
            const double *pv = lookup(c, lp->refs[i], &count);
            const char *dot = strchr(lp->refs[i], '.');
            wp.angle[wp.n] = pv && count > 0 ? pv[sel >= 0 && sel < count ? sel : count - 1] : NAN;
            wp.label[wp.n] = dot ? dot + 1 : lp->refs[i];
            wp.color[wp.n] = c->p->theme->series[i % 8];
        }
        wheel_build(c->s, &wp);
        return;
    }
    const double *stack = NULL;
    const RunArray *a = c->p->run ? run_arrays_find(run_arrays(c->p->run), lp->refs[0], &stack) : NULL;
    const double *kinds = lookup(c, lp->refs[1], &count);
    if (!a || a->ndim != 2 || !kinds || count < 1 || a->shape[0] % count != 0) {
        panel_title(c, x, y, w, lp->title ? title : lp->refs[0]);
        scene_text(c->s, x + w / 2, y + h / 2, FONT_REGULAR, 16 * c->u, ALIGN_CENTER, c->p->theme->muted,
                   "nothing computed yet");
        return;
    }
    int ih = a->shape[0] / count, iw = a->shape[1];
    if (lp->kind == PANEL_FRAMES) {
        FrameStripParams fp = {.x = x, .y = y, .w = w, .h = h, .unit = c->uc, .theme = c->p->theme,
                               .pixels = stack, .n = count, .ih = ih, .iw = iw, .kinds = kinds,
                               .labels = lp->labels, .selected = sel, .title = lp->title ? title : NULL,
                               .id = id};
        frame_strip_build(c->s, &fp);
    } else {
        int k = sel < 0 ? 0 : sel >= count ? count - 1 : sel;
        StackImageParams ip = {.x = x, .y = y, .w = w, .h = h, .unit = c->uc, .theme = c->p->theme,
                               .pixels = stack + (size_t)k * ih * iw, .ih = ih, .iw = iw,
                               .title = lp->title ? title : NULL, .id = id};
        stack_image_build(c->s, &ip);
    }
}

// An xy panel: each ref an (n, 2 or 3) array of points, named by its source.
static void draw_xy(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    ScatterSet sets[LESSON_MAX_PANEL_REFS];
    char names[LESSON_MAX_PANEL_REFS][RUN_ARRAY_NAME], id[96], title[256], label[96] = "";
    int n = 0;
    const RunArrays *arrays = c->p->run ? run_arrays(c->p->run) : NULL;
    for (int i = 0; arrays && i < lp->nrefs; i++) {
        const double *data;
        const RunArray *a = run_arrays_find(arrays, lp->refs[i], &data);
        if (!a || a->ndim != 2 || a->shape[1] < 2)
            continue;
        // Named by the source, or by the array when every set is from one source.
        const char *dot = strchr(lp->refs[i], '.');
        size_t plen = dot ? (size_t)(dot - lp->refs[i]) : 0;
        bool one_source = dot != NULL;
        for (int k = 0; k < lp->nrefs && one_source; k++)
            one_source = strncmp(lp->refs[k], lp->refs[i], plen + 1) == 0;
        if (one_source && lp->nrefs > 1)
            snprintf(names[n], sizeof(names[n]), "%s", dot + 1);
        else
            snprintf(names[n], sizeof(names[n]), "%.*s", dot ? (int)plen : 63, lp->refs[i]);
        sets[n] = (ScatterSet){names[n], data, a->shape[0], a->shape[1]};
        n++;
    }
    const double *band = NULL;
    int nb = 0;
    if (lp->band && (band = lookup(c, lp->band, &nb)) && nb >= 2) {
        char lo[32], hi[32];
        snprintf(label, sizeof(label), "one setting, other seeds: %s to %s", numfmt_short(lo, sizeof(lo), band[0], 3),
                 numfmt_short(hi, sizeof(hi), band[1], 3));
    }
    snprintf(id, sizeof(id), "panel:%s:xy", lp->name);
    run_format(c->p->run, lp->title ? lp->title : lp->refs[0], title, sizeof(title));
    ScatterParams sp = {.x = x, .y = y, .w = w, .h = h, .unit = c->uc, .theme = c->p->theme, .title = title,
                        .xlabel = lp->xlabel, .log_x = lp->logx, .log_y = lp->logy, .lines = lp->lines,
                        .sets = sets, .nsets = n, .band = label[0] != 0, .band_lo = label[0] ? band[0] : 0,
                        .band_hi = label[0] ? band[1] : 0, .band_label = label[0] ? label : NULL, .id = id};
    scatter_build(c->s, &sp);
    if (n == 0)
        scene_text(c->s, x + w / 2, y + h / 2, FONT_REGULAR, 16 * c->u, ALIGN_CENTER, c->p->theme->muted,
                   "nothing computed yet");
}

// A layers panel: the refs are the layers' names; `frozen NAME` (a param or
// a figure) says how many of the first are kept.
static void draw_layers(const PanelCtx *c, const LessonPanel *lp, float x, float y, float w, float h)
{
    char id[96], title[256];
    snprintf(id, sizeof(id), "panel:%s:layer", lp->name);
    if (lp->title)
        run_format(c->p->run, lp->title, title, sizeof(title));
    int count = 0;
    const double *f = lp->frozen ? lookup(c, lp->frozen, &count) : NULL;
    LayersParams p = {.x = x, .y = y, .w = w, .h = h, .unit = c->uc, .theme = c->p->theme,
                      .title = lp->title ? title : NULL, .n = lp->nrefs,
                      .frozen = f && count > 0 && isfinite(f[count - 1]) ? (int)lround(f[count - 1]) : 0, .id = id};
    for (int i = 0; i < lp->nrefs && i < LAYERS_MAX; i++)
        p.names[i] = lp->refs[i];
    layers_build(c->s, &p);
}

static void draw_panel(const PanelCtx *c, int i, float x, float y, float w, float h)
{
    const Lesson *l = c->p->lesson;
    const LessonPanel *lp = &l->f2.panels[i];
    char id[96];
    snprintf(id, sizeof(id), "panel:%s", lp->name);
    bool lit = c->p->run && run_highlighted(c->p->run, lp->name);
    scene_tag(c->s, scene_rect(c->s, x, y, w, h, 0, color_alpha(c->p->theme->background, 0)), id);
    switch (lp->kind) {
    case PANEL_CIRCUIT: draw_circuit(c, x, y, w, h); break;
    case PANEL_GRAPH: draw_graph(c, x, y, w, h); break;
    case PANEL_PLOT: draw_plot(c, lp, x, y, w, h); break;
    case PANEL_BARS: draw_bars(c, lp, x, y, w, h); break;
    case PANEL_HEATMAP: draw_heatmap(c, lp, x, y, w, h); break;
    case PANEL_CONTROLS: draw_controls(c, lp, x, y, w, h); break;
    case PANEL_NUDGE: draw_nudge(c, lp, x + 10 * c->u, y + 8 * c->u, w - 20 * c->u, h - 16 * c->u); break;
    case PANEL_TEXT: draw_text_panel(c, lp, x, y, w, h); break;
    case PANEL_SURFACE: draw_surface(c, lp, x, y, w, h); break;
    case PANEL_LSTMCELL:
    case PANEL_LSTMTIME: draw_lstm(c, lp, x, y, w, h); break;
    case PANEL_BOUNDARY: draw_boundary(c, lp, x, y, w, h); break;
    case PANEL_CHARS: draw_chars(c, lp, x, y, w, h); break;
    case PANEL_FRAMES:
    case PANEL_IMAGE:
    case PANEL_WHEEL: draw_drive(c, lp, x, y, w, h); break;
    case PANEL_XY: draw_xy(c, lp, x, y, w, h); break;
    case PANEL_LAYERS: draw_layers(c, lp, x, y, w, h); break;
    case PANEL_KIND_COUNT: break;
    }
    if (lit) // over the panel's own background
        scene_frame(c->s, x, y, w, h, 3 * c->u, c->p->theme->accent);
}

// The height under which a panel can no longer show what it is for (its
// pictures, a plot's axes with numbers): a row gets at least the largest of
// its panels' before the other rows share the rest by weight. 0: the panel
// shrinks its own way (circuits, graphs, text).
static float panel_min_height(const PanelCtx *c, const LessonPanel *lp, float w)
{
    float uc = c->uc, title = scene_line_height(15 * uc) + 4 * uc;
    switch (lp->kind) {
    case PANEL_FRAMES: { // the padding, the title, and the fewest rows of images FRAME_MIN_PX tall
        float cap = scene_line_height(fmaxf(10 * uc, 9)), gap = 6 * uc, ih = FRAME_MIN_PX;
        int n = 0, ih0 = 0, iw0 = 0;
        const double *stack = NULL;
        const RunArray *a = c->p->run ? run_arrays_find(run_arrays(c->p->run), lp->refs[0], &stack) : NULL;
        if (a && a->ndim == 2 && lookup(c, lp->refs[1], &n) && n > 0 && a->shape[0] % n == 0)
            ih0 = a->shape[0] / n, iw0 = a->shape[1];
        int rows = 1;
        float ww = w - 16 * uc;
        if (ih0 > 0 && iw0 > 0 && n <= 1024) // rows until an image is ih tall
            while (rows < n) {
                int cols = (n + rows - 1) / rows;
                if ((ww - gap * (float)(cols - 1)) / (float)cols * (float)ih0 / (float)iw0 >= ih)
                    break;
                rows++;
            }
        return 16 * uc + title + (float)rows * (ih + cap * (lp->labels ? 1.0f : 2.0f)) + gap * (float)(rows - 1);
    }
    case PANEL_IMAGE: return 16 * uc + title + 40;
    case PANEL_WHEEL: return 16 * uc + title + 60 * uc;
    case PANEL_LAYERS: // padding, the title, boxes 24 units tall with their words under them
        return 8 * uc + scene_line_height(15 * uc) + 2 * uc + 24 * uc + scene_line_height(fmaxf(10 * uc, 9)) + 4 * uc;
    case PANEL_PLOT:
    case PANEL_XY: return 100 * uc;
    case PANEL_BARS:
    case PANEL_HEATMAP: return 80 * uc;
    default: return 0;
    }
}

// Row heights for the rows that share h by weight: weight[r] / total of
// it, but at least min[r] while the minimums fit (the rows above their
// minimum give up height by weight); when they do not fit, h in proportion
// to the minimums. Rows with weight 0 are skipped.
static void share_rows(int n, const float *weight, const float *min, float h, float *out)
{
    float min_sum = 0;
    bool locked[LESSON_MAX_ROWS] = {false};
    for (int r = 0; r < n; r++)
        min_sum += weight[r] > 0 ? min[r] : 0;
    if (min_sum >= h && min_sum > 0) {
        for (int r = 0; r < n; r++)
            out[r] = weight[r] > 0 ? h * min[r] / min_sum : 0;
        return;
    }
    for (int pass = 0; pass <= n; pass++) {
        float left = h, free_w = 0;
        for (int r = 0; r < n; r++)
            if (weight[r] > 0 && locked[r])
                left -= min[r];
            else
                free_w += weight[r];
        bool changed = false;
        for (int r = 0; r < n; r++) {
            if (!(weight[r] > 0))
                out[r] = 0;
            else if (locked[r])
                out[r] = min[r];
            else if ((out[r] = free_w > 0 ? left * weight[r] / free_w : 0) < min[r])
                locked[r] = changed = true;
        }
        if (!changed)
            return;
    }
}

// Lay the visible panels out in their rows (heights by row weight, widths by
// panel weight) over the box x, y, w, h. A format-1 lesson that trains gives
// the right 40% to the plot of its history.
static void layout_panels(const PanelCtx *c, float x, float y, float w, float h)
{
    const LessonViewParams *p = c->p;
    const Lesson *l = p->lesson;
    float u = c->u, gap = 20 * c->uc;
    if (!p->run && l->train.enabled) {
        float plot_w = w * 0.4f - gap;
        char title[96];
        snprintf(title, sizeof(title), "%s after each gradient step (lr %g)", program_output_name(l->program),
                 l->train.lr);
        PlotSeries ser = lesson_view_history_series(p);
        PlotParams pp = {.x = x + w - plot_w, .y = y, .w = plot_w, .h = h, .unit = u, .theme = p->theme,
                         .title = title, .xlabel = "gradient step", .series = &ser, .nseries = p->nhistory ? 1 : 0,
                         .id = "train-plot"};
        plot_build(c->s, &pp);
        if (!p->nhistory)
            scene_text(c->s, x + w - plot_w / 2, y + h / 2, FONT_REGULAR, 16 * u, ALIGN_CENTER, p->theme->muted,
                       "press G for one step, P to train");
        w -= plot_w + gap;
    }
    // Each row's visible panels share its width by weight. A row of controls
    // only is as tall as its controls (at the width they get); the other
    // rows share what is left by weight. Rows are gap apart.
    float fixed[LESSON_MAX_ROWS] = {0}, fixed_sum = 0, wsum[LESSON_MAX_ROWS] = {0};
    float minh[LESSON_MAX_ROWS] = {0}, share_w[LESSON_MAX_ROWS] = {0}, share[LESSON_MAX_ROWS] = {0};
    int visible[LESSON_MAX_ROWS] = {0}, last = -1;
    for (int r = 0; r < l->f2.nrows; r++) {
        const LessonRow *row = &l->f2.rows[r];
        for (int k = 0; k < row->npanels; k++)
            if (!p->run || run_panel_visible(p->run, row->panels[k]))
                visible[r]++, wsum[r] += row->weights[k];
        if (visible[r])
            last = r;
    }
    for (int r = 0; r < l->f2.nrows; r++) {
        const LessonRow *row = &l->f2.rows[r];
        if (!visible[r])
            continue;
        bool controls = true;
        float avail = w - gap * (float)(visible[r] - 1);
        for (int k = 0; k < row->npanels; k++) {
            const LessonPanel *lp = &l->f2.panels[row->panels[k]];
            if (p->run && !run_panel_visible(p->run, row->panels[k]))
                continue;
            controls &= lp->kind == PANEL_CONTROLS;
            if (lp->kind == PANEL_CONTROLS)
                fixed[r] = fmaxf(fixed[r], controls_height(c, lp, avail * row->weights[k] / wsum[r]));
        }
        if (!controls) {
            fixed[r] = 0;
            for (int k = 0; k < row->npanels; k++)
                if (!p->run || run_panel_visible(p->run, row->panels[k]))
                    minh[r] = fmaxf(minh[r], panel_min_height(c, &l->f2.panels[row->panels[k]],
                                                              avail * row->weights[k] / wsum[r]));
            minh[r] += r == last ? 0 : gap;
        }
        else
            fixed[r] = fminf(fixed[r] + (r == last ? 0 : gap), 0.45f * h);
        fixed_sum += fixed[r];
    }
    for (int r = 0; r < l->f2.nrows; r++)
        share_w[r] = visible[r] && !fixed[r] ? l->f2.rows[r].weight : 0;
    share_rows(l->f2.nrows, share_w, minh, h - fixed_sum, share);
    float ry = y;
    for (int r = 0; r < l->f2.nrows; r++) {
        const LessonRow *row = &l->f2.rows[r];
        if (!visible[r])
            continue;
        float rh = fixed[r] ? fixed[r] : share[r];
        float px = x, avail = w - gap * (float)(visible[r] - 1);
        for (int k = 0; k < row->npanels; k++) {
            if (p->run && !run_panel_visible(p->run, row->panels[k]))
                continue;
            float pw = avail * row->weights[k] / wsum[r];
            draw_panel(c, row->panels[k], px, ry, pw, rh - (r == last ? 0 : gap));
            px += pw + gap;
        }
        ry += rh;
    }
}

// The unit of the screen's frame (margins, title, progress, legend,
// footer, the narrative box's padding): the unit, but at most 1.25 times the
// size's own, so that a presenter's Ctrl + or --scale 2 enlarges the text of
// the panels and the narrative without the frame eating the screen.
static float chrome_unit(float w, float h, float scale)
{
    return fminf(lesson_view_unit(w, h, scale), 1.25f * lesson_view_unit(w, h, 1));
}

NarrativeBox lesson_view_narrative_box(float w, float h, float scale)
{
    float u = lesson_view_unit(w, h, scale), uc = chrome_unit(w, h, scale), m = 36 * uc;
    float panel_h = fminf(215 * u, 0.34f * h);
    return (NarrativeBox){.w = w - 2 * m - 48 * uc, .h = panel_h - 56 * uc, .size = 20 * u};
}

int lesson_view_build(Scene *s, Graph *g, const LessonViewParams *p, float w, float h)
{
    int npages = 1;
    const Theme *t = p->theme;
    const Lesson *l = p->lesson;
    scene_begin(s, w, h, t->background);
    if (p->blank)
        return npages;
    float u = lesson_view_unit(w, h, p->scale), uc = chrome_unit(w, h, p->scale);
    float m = 36 * uc;
    size_t step = p->run ? run_step(p->run) : p->step < l->nsteps ? p->step : l->nsteps - 1;
    const Value *out = p->run ? run_output(p->run) : lesson_eval(l, g, step);
    const Graph *gr = p->run ? run_graph(p->run) : g;
    if (!out) {
        scene_text(s, m, m, FONT_BOLD, 24 * u, ALIGN_LEFT, t->warn, "out of memory evaluating the lesson");
        return npages;
    }
    LessonState st = lesson_state(l, step);

    // Title, step counter, progress.
    char counter[64];
    snprintf(counter, sizeof(counter), "Step %zu of %zu", step + 1, l->nsteps);
    float counter_w = scene_text_width(s, FONT_REGULAR, 18 * uc, counter);
    scene_tag(s, scene_text_fit(s, m, 20 * uc, FONT_BOLD, 30 * uc, ALIGN_LEFT, t->text, l->title,
                                w - 2 * m - counter_w - 24 * uc), "title");
    scene_tag(s, scene_text(s, w - m, 30 * uc, FONT_REGULAR, 18 * uc, ALIGN_RIGHT, t->muted, counter),
              "step-counter");
    float py = 72 * uc, pw = w - 2 * m;
    scene_rect(s, m, py, pw, 6 * uc, 3 * uc, t->panel_edge);
    scene_tag(s, scene_rect(s, m, py, pw * (float)(step + 1) / (float)l->nsteps, 6 * uc, 3 * uc, t->accent),
              "progress");

    // Legend, when a circuit or a graph is on screen.
    bool program_shown = false;
    for (int i = 0; i < l->f2.npanels; i++)
        program_shown |= (l->f2.panels[i].kind == PANEL_CIRCUIT || l->f2.panels[i].kind == PANEL_GRAPH) &&
                         (!p->run || run_panel_visible(p->run, i));
    float ly = 92 * uc, lsize = 15 * uc;
    if (program_shown) {
        scene_circle(s, w - m - 190 * uc, ly + 9 * uc, 5 * uc, t->value);
        scene_text(s, w - m - 180 * uc, ly, FONT_REGULAR, lsize, ALIGN_LEFT, t->muted, "value");
        scene_circle(s, w - m - 110 * uc, ly + 9 * uc, 5 * uc, t->grad);
        scene_text(s, w - m - 100 * uc, ly, FONT_REGULAR, lsize, ALIGN_LEFT, t->muted, "gradient");
    }

    // The panels between the header and the narrative panel.
    float footer_h = 40 * uc, panel_h = fminf(215 * u, 0.34f * h);
    float panel_y = h - footer_h - panel_h;
    PanelCtx pc = {.s = s, .p = p, .g = gr, .out = out, .st = st, .u = u, .uc = uc};
    layout_panels(&pc, m, 112 * uc, w - 2 * m, panel_y - 124 * uc);

    // Narrative panel.
    scene_panel(s, m, panel_y, w - 2 * m, panel_h, 12 * uc, t->panel, t->panel_edge, 1.5f * uc);
    if (program_shown) // the pass the program is at; no circuit or graph, no pass to name
        scene_tag(s, scene_text(s, m + 24 * uc, panel_y + 16 * uc, FONT_BOLD, 14 * uc, ALIGN_LEFT, t->accent,
                                phase_name(st.kind)), "phase");
    char text[4096], fault[1024];
    char raw[4096];
    lesson_step_text(l, gr, step, raw, sizeof(raw));
    run_format(p->run, raw, text, sizeof(text));
    if (lesson_explain_faults(gr, fault, sizeof(fault))) {
        // A NaN or Inf on screen is a teaching moment: say what happened.
        size_t len = strlen(text);
        snprintf(text + len, sizeof(text) - len, "%s%s", len ? "\n\n" : "", fault);
        scene_tag(s, scene_text(s, w - m - 24 * uc, panel_y + 16 * uc, FONT_BOLD, 14 * uc, ALIGN_RIGHT, t->warn,
                                "NaN / Inf"), "fault");
        scene_circle(s, w - m - 290 * uc, 92 * uc + 9 * uc, 5 * uc, t->warn); // and in the legend
        scene_text(s, w - m - 280 * uc, 92 * uc, FONT_REGULAR, 15 * uc, ALIGN_LEFT, t->muted, "NaN / Inf");
    }
    TextStyle ts = {.size = 20 * u, .text = t->text, .code = t->accent, .id = "narrative", .page = p->page};
    NarrativeBox nb = lesson_view_narrative_box(w, h, p->scale);
    TextFlowInfo fi = textflow_draw(s, m + 24 * uc, panel_y + 44 * uc, nb.w, nb.h, &ts, text);
    npages = fi.npages;

    // Footer: key hints, or a status line.
    const char *hint = p->status ? p->status
                                 : "\u2192 next    \u2190 back    Home/End    F fullscreen    ? help    Q quit";
    scene_tag(s, scene_text(s, w / 2, h - footer_h + 8 * uc, FONT_REGULAR, 15 * uc, ALIGN_CENTER,
                            p->status ? t->accent : t->muted, hint), "footer");
    if (p->help)
        help_overlay(s, t, u, w, h);
    return npages;
}
