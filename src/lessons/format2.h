// format2.h: what lesson format 2 adds to a lesson: parameters, sources,
// panels in a layout, and per-step directives. Parsed by lesson.c (see
// lessons/README.md for the syntax); run by run.h; drawn by the views.
//
//     param: lr = 0.1 range 0.001 1 log          a number with a slider
//     param: act = tanh choice tanh sigmoid relu  one of several words
//     source: fit train lr {lr} steps 300 seed 1  a seeded training run
//     panel: loss plot fit.loss log-y             a line plot of an array
//     panel: knobs controls lr act                sliders and choices
//     layout: circuit 2, loss 1 / knobs           rows of panels with weights
//     step: done
//     set: lr = 0.5                               directives of the step above
//     run: fit 300
//     show: loss
//         narrative ...
#ifndef GRADLAB_FORMAT2_H
#define GRADLAB_FORMAT2_H

#include <stdbool.h>
#include <stddef.h>

#define LESSON_MAX_PARAMS2 64      // declared parameters (program inputs come on top)
#define LESSON_MAX_CHOICES 8
#define LESSON_MAX_SOURCES 8
#define LESSON_MAX_SOURCE_OPTS 16
#define LESSON_MAX_PANELS 16
#define LESSON_MAX_PANEL_REFS 8    // arrays a plot draws, or params a controls panel holds
#define LESSON_MAX_ROWS 4
#define LESSON_MAX_DIRECTIVES 16   // per step

typedef enum ParamKind {
    PARAM_NUMBER,       // a real number in [min, max], a slider
    PARAM_CHOICE,       // one of several words; value is the index
    PARAM_TOGGLE,       // on or off; value is 0 or 1
} ParamKind;

typedef struct LessonParam {
    const char *name;
    ParamKind kind;
    double value;                     // the default
    double min, max, step;            // NUMBER; step 0 = continuous
    bool log;                         // NUMBER: the slider moves on a log scale
    const char *choices[LESSON_MAX_CHOICES];
    int nchoices;                     // CHOICE
    bool input;                       // the program's input of the same name
    int line;
} LessonParam;

// `source: NAME KIND key value ...`: an instance of a kind of the sources
// table (sources.h), with its options as written. A value may be a number, a
// word, a list of words, or {param} (read when the run starts or the param
// changes).
typedef struct LessonSource {
    const char *name;
    int kind;                         // index into the sources table
    const char *keys[LESSON_MAX_SOURCE_OPTS];
    const char *values[LESSON_MAX_SOURCE_OPTS];
    int nopts;
    int line;
} LessonSource;

typedef enum PanelKind {
    PANEL_CIRCUIT,      // the program as gates and wires (CS231n style)
    PANEL_GRAPH,        // the program as a zoomable graph
    PANEL_PLOT,         // line plot of one or more arrays, optional log axes
    PANEL_HEATMAP,      // a 2-D array as coloured cells
    PANEL_BARS,         // a 1-D array as bars
    PANEL_CONTROLS,     // sliders, choices and toggles bound to params
    PANEL_TEXT,         // a fixed text with placeholders
    PANEL_NUDGE,        // x -> x + h: f changes by about h * df/dx, numerical beside analytic
    PANEL_SURFACE,      // a surface f(x, y) with optimizer paths: refs are an optimizers source [and names]
    PANEL_LSTMCELL,     // an LSTM cell at one step (Olah's diagram): refs are an lstmmem source, the step param [, the unit param]
    PANEL_LSTMTIME,     // an lstmmem source's gates and states over time: refs are the source and the step param
    PANEL_BOUNDARY,     // an mlp2d source's boundary, points and neurons: refs are the source [and a param]
    PANEL_CHARS,        // code points drawn as text; refs: the code points [, candidates (n, k), their probabilities]
    PANEL_FRAMES,       // a strip of images: refs STACK (n*h, w), KINDS (n) [, SELECTED]
    PANEL_IMAGE,        // one image of a stack, large: refs STACK (n*h, w), KINDS (n), SELECTED
    PANEL_WHEEL,        // steering wheels: refs TRUE, PREDICTION... (arrays over t) [, SELECTED t]
    PANEL_XY,           // points (n, 2 or 3) from 2-D arrays, log axes, joined or not, a band
    PANEL_LAYERS,       // a network's layers in a row, the first `frozen N` of them kept
    PANEL_KIND_COUNT
} PanelKind;

extern const char *const panel_kind_names[PANEL_KIND_COUNT];

typedef struct LessonPanel {
    const char *name;
    PanelKind kind;
    const char *refs[LESSON_MAX_PANEL_REFS]; // arrays "source.array" (plot, heatmap, bars) or params
    int nrefs;
    bool logy;                        // PANEL_PLOT: a log10 y axis
    const char *title;                // or NULL for a generated one (placeholders are filled in)
    const char *xlabel;               // PANEL_PLOT: the x axis's label, or NULL for "step"
    const char *plot_x;               // PANEL_PLOT: `x SRC.ARRAY`, the series' x (else their index), or NULL
    const char *plot_shade;           // PANEL_PLOT: `shade SRC.ARRAY`, a 0/1 mask or (k, 2) x intervals, or NULL
    const char *plot_mark;            // PANEL_PLOT: `mark NAME`, a figure or param: the x marked on each series
    const char *text;                 // PANEL_TEXT
    const char *nudge_input;          // PANEL_NUDGE: the input nudged
    const char *nudge_h;              // PANEL_NUDGE: the param that holds h
    bool logx, lines;                 // PANEL_XY: a log10 x axis; points joined in order
    const char *band;                 // PANEL_XY: an array [lo, hi] shaded as a band, or NULL
    const char *frozen;               // PANEL_LAYERS: a param or figure: how many layers are frozen
    const char *labels;               // PANEL_FRAMES: "w0,w1,...", the word for each kind value, or NULL
    bool hidden;                      // hidden until a step shows it
    int pick;                         // PANEL_CHARS: the character selected when the mouse is on none (from 0)
    int line;
    size_t at;                        // byte offset of the line, for messages
} LessonPanel;

typedef struct LessonRow {
    int panels[LESSON_MAX_PANELS];    // indices into panels[]
    float weights[LESSON_MAX_PANELS]; // relative widths in the row
    int npanels;
    float weight;                     // relative height of the row
} LessonRow;

typedef enum DirectiveKind {
    DIRECTIVE_SET,       // set: NAME = VALUE
    DIRECTIVE_RUN,       // run: SOURCE N (the source's state after N steps)
    DIRECTIVE_SHOW,      // show: PANEL
    DIRECTIVE_HIDE,      // hide: PANEL
    DIRECTIVE_HIGHLIGHT, // highlight: PANEL or NAME
} DirectiveKind;

typedef struct StepDirective {
    DirectiveKind kind;
    int target;          // param, source or panel index; -1 for a program name (highlight)
    const char *name;    // what the line names (a param, source, panel or program name)
    double value;        // set: the value; run: the step count
    size_t at;           // byte offset of the name, for messages
    int line, col;
} StepDirective;

typedef struct StepDirectives {
    StepDirective d[LESSON_MAX_DIRECTIVES];
    int n;
} StepDirectives;

#define LESSON_MAX_CHECKS2 64

// check: after SOURCE N: FIGURE OP BOUND   (a figure after N seeded steps)
// check: gradcheck [tol T]                 (numerical gradients agree with backprop)
typedef struct LessonCheck2 {
    bool gradcheck;
    const char *source;      // after: the source run, its steps, the figure (its last number)
    int steps;
    const char *figure;
    char op[3];              // "<", "<=", ">", ">="
    double bound;
    double tol;              // gradcheck: |numeric - analytic| <= tol * max(1, |analytic|)
    size_t at;
    int line;
} LessonCheck2;

// Everything format 2 adds, inside a Lesson (lesson.h). A version-1 lesson
// gets the equivalent: its view as one panel, and a plot beside it when it
// trains.
typedef struct LessonFormat2 {
    int version;                         // 1 or 2, as the file says
    LessonParam params[LESSON_MAX_PARAMS2];
    int nparams;
    LessonSource sources[LESSON_MAX_SOURCES];
    int nsources;
    LessonPanel panels[LESSON_MAX_PANELS];
    int npanels;
    LessonRow rows[LESSON_MAX_ROWS];
    int nrows;
    StepDirectives *directives;          // (nsteps), per step; owned by the lesson's arena
    LessonCheck2 checks[LESSON_MAX_CHECKS2];
    int nchecks;
} LessonFormat2;

#endif
