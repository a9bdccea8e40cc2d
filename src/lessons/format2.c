// format2.c: the lines lesson format 2 adds (param, source, panel, layout
// and the step directives set, run, show, hide, highlight), and what every
// lesson gets from them once the file is read; see format2.h and
// lessons/README.md. lesson.c reads the rest of the file and calls here.
#include "lessons/format2_parse.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lessons/sources.h"

const char *const panel_kind_names[PANEL_KIND_COUNT] = {
    "circuit", "graph", "plot", "heatmap", "bars", "controls", "text", "nudge", "surface",
    "lstmcell", "lstmtime", "boundary", "chars", "frames", "image", "wheel", "xy", "layers",
};

// A word of the value: src[start, end).
typedef struct W {
    size_t start, end;
} W;

#define MAX_WORDS 64

// Split src[from, to) at spaces, tabs and commas (commas are words of their
// own, for layout rows). Returns the number of words (at most MAX_WORDS).
static int words(const char *src, size_t from, size_t to, W *w)
{
    int n = 0;
    for (size_t i = from; i < to && n < MAX_WORDS;) {
        while (i < to && (src[i] == ' ' || src[i] == '\t'))
            i++;
        if (i >= to)
            break;
        size_t s = i;
        if (src[i] == ',' || src[i] == '/' || src[i] == '=') {
            w[n++] = (W){s, i + 1};
            i++;
            continue;
        }
        if (src[i] == '"') { // a quoted title: up to the closing quote
            i++;
            while (i < to && src[i] != '"')
                i++;
            w[n++] = (W){s, i < to ? i + 1 : i};
            i++;
            continue;
        }
        while (i < to && src[i] != ' ' && src[i] != '\t' && src[i] != ',' && src[i] != '/' && src[i] != '=')
            i++;
        w[n++] = (W){s, i};
    }
    return n;
}

static bool is(const char *src, W w, const char *s)
{
    return w.end - w.start == strlen(s) && memcmp(src + w.start, s, w.end - w.start) == 0;
}

static const char *copy(Lesson *l, const char *src, W w)
{
    if (w.end - w.start >= 2 && src[w.start] == '"' && src[w.end - 1] == '"')
        w.start++, w.end--;
    return arena_strndup(&l->arena, src + w.start, w.end - w.start);
}

static bool is_name(const char *src, W w)
{
    if (w.end <= w.start || !(isalpha((unsigned char)src[w.start]) || src[w.start] == '_'))
        return false;
    for (size_t i = w.start; i < w.end; i++)
        if (!(isalnum((unsigned char)src[i]) || src[i] == '_' || src[i] == '.'))
            return false;
    return w.end - w.start < RUN_ARRAY_NAME - 16;
}

static bool number(Diag *d, const char *src, W w, double *out)
{
    char buf[64];
    size_t n = w.end - w.start;
    if (n == 0 || n >= sizeof(buf)) {
        diag_error(d, w.start, "expected a number here");
        return false;
    }
    memcpy(buf, src + w.start, n);
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (*end || !isfinite(v)) {
        diag_error(d, w.start, "'%s' is not a finite number", buf);
        return false;
    }
    *out = v;
    return true;
}

static int find_param(const Lesson *l, const char *name, size_t len)
{
    for (int i = 0; i < l->f2.nparams; i++)
        if (strlen(l->f2.params[i].name) == len && memcmp(l->f2.params[i].name, name, len) == 0)
            return i;
    return -1;
}

// param: NAME = DEFAULT [range LO HI] [step S] [log]
// param: NAME = WORD choice WORD WORD ...
// param: NAME = on|off toggle
static void parse_param(Lesson *l, Diag *d, const char *src, size_t at, size_t vs, size_t ve)
{
    W w[MAX_WORDS];
    int n = words(src, vs, ve, w);
    if (n < 3 || !is(src, w[1], "=") || !is_name(src, w[0])) {
        diag_error(d, n ? w[0].start : at, "write 'param: NAME = DEFAULT range LO HI', "
                   "'param: NAME = WORD choice WORD WORD ...' or 'param: NAME = off toggle'");
        return;
    }
    if (find_param(l, src + w[0].start, w[0].end - w[0].start) >= 0) {
        diag_error(d, w[0].start, "a second 'param: %.*s'", (int)(w[0].end - w[0].start), src + w[0].start);
        return;
    }
    if (l->f2.nparams == LESSON_MAX_PARAMS2) {
        diag_error(d, at, "more than %d parameters", LESSON_MAX_PARAMS2);
        return;
    }
    LessonParam p = {.name = copy(l, src, w[0]), .min = -INFINITY, .max = INFINITY};
    diag_position(d, at, &p.line, &(int){0});
    bool is_choice = false, is_toggle = false;
    for (int i = 3; i < n; i++)
        is_choice |= is(src, w[i], "choice"), is_toggle |= is(src, w[i], "toggle");
    if (is_toggle) {
        p.kind = PARAM_TOGGLE;
        if (!is(src, w[2], "on") && !is(src, w[2], "off")) {
            diag_error(d, w[2].start, "a toggle's default is 'on' or 'off'");
            return;
        }
        p.value = is(src, w[2], "on");
    } else if (is_choice) {
        p.kind = PARAM_CHOICE;
        int at_choice = 3;
        while (!is(src, w[at_choice], "choice"))
            at_choice++;
        for (int i = at_choice + 1; i < n; i++) {
            if (p.nchoices == LESSON_MAX_CHOICES) {
                diag_error(d, w[i].start, "more than %d choices", LESSON_MAX_CHOICES);
                return;
            }
            p.choices[p.nchoices++] = copy(l, src, w[i]);
        }
        p.value = -1;
        for (int i = 0; i < p.nchoices; i++)
            if (w[2].end - w[2].start == strlen(p.choices[i]) &&
                memcmp(src + w[2].start, p.choices[i], w[2].end - w[2].start) == 0)
                p.value = i;
        if (p.nchoices < 2 || p.value < 0) {
            diag_error(d, w[2].start, "the default must be one of the choices, and there must be at least two");
            return;
        }
    } else {
        p.kind = PARAM_NUMBER;
        if (!number(d, src, w[2], &p.value))
            return;
        for (int i = 3; i < n; i++) {
            if (is(src, w[i], "range") && i + 2 < n) {
                if (!number(d, src, w[i + 1], &p.min) || !number(d, src, w[i + 2], &p.max))
                    return;
                i += 2;
            } else if (is(src, w[i], "step") && i + 1 < n) {
                if (!number(d, src, w[++i], &p.step))
                    return;
            } else if (is(src, w[i], "log")) {
                p.log = true;
            } else {
                diag_error(d, w[i].start, "unknown word in a number param; use 'range LO HI', 'step S' and 'log'");
                return;
            }
        }
        if (!isfinite(p.min) || !isfinite(p.max)) {
            double span = 10 * fmax(1, fabs(p.value));
            p.min = isfinite(p.min) ? p.min : p.value - span;
            p.max = isfinite(p.max) ? p.max : p.value + span;
        }
        if (!(p.min < p.max) || p.value < p.min || p.value > p.max || p.step < 0 || (p.log && p.min <= 0)) {
            diag_error(d, w[2].start, "the range must hold the default (LO < HI, a log range above 0)");
            return;
        }
    }
    l->f2.params[l->f2.nparams++] = p;
}

// source: NAME KIND key value ...   (a value is one word, or several for 'params')
static void parse_source(Lesson *l, Diag *d, const char *src, size_t at, size_t vs, size_t ve)
{
    W w[MAX_WORDS];
    int n = words(src, vs, ve, w);
    if (n < 2 || !is_name(src, w[0])) {
        diag_error(d, n ? w[0].start : at, "write 'source: NAME KIND key value ...'; the kinds are listed in "
                   "lessons/README.md");
        return;
    }
    if (l->f2.nsources == LESSON_MAX_SOURCES) {
        diag_error(d, at, "more than %d sources", LESSON_MAX_SOURCES);
        return;
    }
    LessonSource s = {.name = copy(l, src, w[0])};
    diag_position(d, at, &s.line, &(int){0});
    for (int i = 0; i < l->f2.nsources; i++)
        if (strcmp(l->f2.sources[i].name, s.name) == 0 || strcmp(s.name, "program") == 0) {
            diag_error(d, w[0].start, "a second source called '%s'", s.name);
            return;
        }
    const char *kind = copy(l, src, w[1]);
    s.kind = source_kind_find(kind);
    if (s.kind < 0 || strcmp(kind, "program") == 0) {
        const char *guess = diag_suggest(kind, source_kind_names(), (size_t)source_kind_count);
        diag_error(d, w[1].start, "unknown source kind '%s'%s%s%s", kind, guess ? "; did you mean '" : "",
                   guess ? guess : "", guess ? "'?" : "");
        return;
    }
    const SourceKind *k = source_kinds[s.kind];
    for (int i = 2; i < n;) {
        const char *key = copy(l, src, w[i]);
        bool known = false;
        for (const char *const *o = k->options; *o; o++)
            known |= strcmp(*o, key) == 0;
        if (!known) {
            size_t nopts = 0;
            while (k->options[nopts])
                nopts++;
            const char *guess = diag_suggest(key, k->options, nopts);
            diag_error(d, w[i].start, "a '%s' source has no option '%s'%s%s%s", k->name, key,
                       guess ? "; did you mean '" : "", guess ? guess : "", guess ? "'?" : "");
            return;
        }
        if (i + 1 >= n) {
            diag_error(d, w[i].end, "the option '%s' needs a value", key);
            return;
        }
        // 'params' takes every following word that is not an option key.
        int j = i + 2;
        if (strcmp(key, "params") == 0)
            while (j < n) {
                bool opt = false;
                for (const char *const *o = k->options; *o; o++)
                    opt |= is(src, w[j], *o);
                if (opt)
                    break;
                j++;
            }
        if (s.nopts == LESSON_MAX_SOURCE_OPTS) {
            diag_error(d, w[i].start, "more than %d options", LESSON_MAX_SOURCE_OPTS);
            return;
        }
        s.keys[s.nopts] = key;
        s.values[s.nopts++] = copy(l, src, (W){w[i + 1].start, w[j - 1].end});
        i = j;
    }
    l->f2.sources[l->f2.nsources++] = s;
}

// panel: NAME KIND [refs...] [log-y] [hidden] [title "..."] [xlabel "..."] [h PARAM]
//        (a plot also: [x SRC.ARRAY] [shade SRC.ARRAY] [mark NAME])
static void parse_panel(Lesson *l, Diag *d, const char *src, size_t at, size_t vs, size_t ve)
{
    W w[MAX_WORDS];
    int n = words(src, vs, ve, w);
    if (n < 2 || !is_name(src, w[0])) {
        diag_error(d, n ? w[0].start : at, "write 'panel: NAME KIND ...'; the kinds are circuit, graph, plot, "
                   "heatmap, bars, controls, text, nudge, surface, lstmcell and lstmtime");
        return;
    }
    if (l->f2.npanels == LESSON_MAX_PANELS) {
        diag_error(d, at, "more than %d panels", LESSON_MAX_PANELS);
        return;
    }
    LessonPanel p = {.name = copy(l, src, w[0]), .at = w[0].start};
    diag_position(d, at, &p.line, &(int){0});
    for (int i = 0; i < l->f2.npanels; i++)
        if (strcmp(l->f2.panels[i].name, p.name) == 0) {
            diag_error(d, w[0].start, "a second panel called '%s'", p.name);
            return;
        }
    const char *kind = copy(l, src, w[1]);
    int k = -1;
    for (int i = 0; i < PANEL_KIND_COUNT; i++)
        if (strcmp(panel_kind_names[i], kind) == 0)
            k = i;
    if (k < 0) {
        const char *guess = diag_suggest(kind, panel_kind_names, PANEL_KIND_COUNT);
        diag_error(d, w[1].start, "unknown panel kind '%s'%s%s%s", kind, guess ? "; did you mean '" : "",
                   guess ? guess : "", guess ? "'?" : "");
        return;
    }
    p.kind = (PanelKind)k;
    if (p.kind == PANEL_TEXT) { // options first, then the rest of the line is the text
        int i = 2;
        for (; i < n; i++) {
            if (is(src, w[i], "hidden"))
                p.hidden = true;
            else if (is(src, w[i], "title") && i + 1 < n && src[w[i + 1].start] == '"')
                p.title = copy(l, src, w[++i]);
            else
                break;
        }
        p.text = i < n ? arena_strndup(&l->arena, src + w[i].start, ve - w[i].start) : "";
        l->f2.panels[l->f2.npanels++] = p;
        return;
    }
    for (int i = 2; i < n; i++) {
        if (is(src, w[i], "log-x") && p.kind == PANEL_XY)
            p.logx = true;
        else if (is(src, w[i], "lines") && p.kind == PANEL_XY)
            p.lines = true;
        else if (is(src, w[i], "frozen") && i + 1 < n && p.kind == PANEL_LAYERS)
            p.frozen = copy(l, src, w[++i]);
        else if (is(src, w[i], "band") && i + 1 < n && p.kind == PANEL_XY)
            p.band = copy(l, src, w[++i]);
        else if (is(src, w[i], "labels") && i + 1 < n && p.kind == PANEL_FRAMES)
            p.labels = copy(l, src, w[++i]);
        else if (is(src, w[i], "log-x")) {
            diag_error(d, w[i].start, "plots have no log x axis yet; only 'log-y' (an 'xy' panel has both)");
            return;
        } else if (is(src, w[i], "log-y"))
            p.logy = true;
        else if (is(src, w[i], "hidden"))
            p.hidden = true;
        else if (is(src, w[i], "title") && i + 1 < n)
            p.title = copy(l, src, w[++i]);
        else if (is(src, w[i], "xlabel") && i + 1 < n && (p.kind == PANEL_PLOT || p.kind == PANEL_XY))
            p.xlabel = copy(l, src, w[++i]);
        else if (is(src, w[i], "x") && i + 1 < n && p.kind == PANEL_PLOT)
            p.plot_x = copy(l, src, w[++i]);
        else if (is(src, w[i], "shade") && i + 1 < n && p.kind == PANEL_PLOT)
            p.plot_shade = copy(l, src, w[++i]);
        else if (is(src, w[i], "mark") && i + 1 < n && p.kind == PANEL_PLOT)
            p.plot_mark = copy(l, src, w[++i]);
        else if (is(src, w[i], "h") && i + 1 < n && p.kind == PANEL_NUDGE)
            p.nudge_h = copy(l, src, w[++i]);
        else if (is(src, w[i], "pick") && i + 1 < n && p.kind == PANEL_CHARS) {
            const char *v = copy(l, src, w[++i]);
            char *end;
            long pick = strtol(v, &end, 10);
            if (*end || pick < 0 || pick > 100000) {
                diag_error(d, w[i].start, "'pick %s': give the index of a character, a whole number from 0", v);
                return;
            }
            p.pick = (int)pick;
        } else if (p.kind == PANEL_NUDGE && !p.nudge_input)
            p.nudge_input = copy(l, src, w[i]);
        else if (p.nrefs < LESSON_MAX_PANEL_REFS)
            p.refs[p.nrefs++] = copy(l, src, w[i]);
        else {
            diag_error(d, w[i].start, "more than %d names in one panel", LESSON_MAX_PANEL_REFS);
            return;
        }
    }
    bool needs_refs = p.kind == PANEL_PLOT || p.kind == PANEL_HEATMAP || p.kind == PANEL_BARS ||
                      p.kind == PANEL_CONTROLS || p.kind == PANEL_SURFACE || p.kind == PANEL_BOUNDARY ||
                      p.kind == PANEL_CHARS || p.kind == PANEL_XY || p.kind == PANEL_LAYERS;
    if ((p.kind == PANEL_LSTMCELL || p.kind == PANEL_LSTMTIME) && p.nrefs < 2) {
        diag_error(d, w[1].end, "write 'panel: NAME %s SOURCE STEP%s': an 'lstmmem' source and the param that "
                   "holds the step shown", kind, p.kind == PANEL_LSTMCELL ? " [UNIT]" : "");
        return;
    }
    int min_refs = p.kind == PANEL_FRAMES || p.kind == PANEL_WHEEL ? 2 : p.kind == PANEL_IMAGE ? 3 : 0;
    if (p.nrefs < min_refs) {
        diag_error(d, w[1].end, "a %s panel needs %s", kind,
                   p.kind == PANEL_WHEEL   ? "the true angles, then one or more predictions (source.array)"
                   : p.kind == PANEL_IMAGE ? "a stack of images, their kinds (one per image) and which one to show"
                                           : "a stack of images and their kinds (one per image)");
        return;
    }
    if (needs_refs && p.nrefs == 0) {
        diag_error(d, w[1].end, "a %s panel needs what it shows: %s", kind,
                   p.kind == PANEL_CONTROLS  ? "the params it controls"
                   : p.kind == PANEL_SURFACE ? "an 'optimizers' source (then, if not all, the optimizers)"
                   : p.kind == PANEL_BOUNDARY
                       ? "an 'mlp2d' source (then, optionally, the param of the neuron drawn large)"
                       : "one or more arrays, as source.array");
        return;
    }
    if (p.kind == PANEL_NUDGE && (!p.nudge_input || !p.nudge_h)) {
        diag_error(d, w[1].end, "write 'panel: NAME nudge INPUT h PARAM'");
        return;
    }
    l->f2.panels[l->f2.npanels++] = p;
}

// layout: NAME [WEIGHT], NAME [WEIGHT] / NAME ...   ('/' starts a new row)
static void parse_layout(Lesson *l, Diag *d, const char *src, size_t at, size_t vs, size_t ve)
{
    W w[MAX_WORDS];
    int n = words(src, vs, ve, w);
    if (l->f2.nrows) {
        diag_error(d, at, "a second 'layout:'; write every row in one, separated by '/'");
        return;
    }
    LessonRow *row = &l->f2.rows[l->f2.nrows++];
    row->weight = 1;
    for (int i = 0; i < n; i++) {
        if (is(src, w[i], ",")) {
            continue;
        }
        if (is(src, w[i], "/")) {
            if (l->f2.nrows == LESSON_MAX_ROWS) {
                diag_error(d, w[i].start, "more than %d rows", LESSON_MAX_ROWS);
                return;
            }
            row = &l->f2.rows[l->f2.nrows++];
            row->weight = 1;
            continue;
        }
        int found = -1;
        for (int k = 0; k < l->f2.npanels; k++)
            if (is(src, w[i], l->f2.panels[k].name))
                found = k;
        if (found < 0 && is(src, w[i], "height") && i + 1 < n) { // the row's share of the height
            double height;
            if (!number(d, src, w[++i], &height) || !(height > 0 && height <= 100)) {
                diag_error(d, w[i].start, "a row's height is a number from 0 to 100");
                return;
            }
            row->weight = (float)height;
            continue;
        }
        if (found < 0) {
            diag_error(d, w[i].start, "no panel called '%.*s' (declare panels before the layout)",
                       (int)(w[i].end - w[i].start), src + w[i].start);
            return;
        }
        double weight = 1;
        if (i + 1 < n && (isdigit((unsigned char)src[w[i + 1].start]) || src[w[i + 1].start] == '.')) {
            if (!number(d, src, w[++i], &weight) || !(weight > 0 && weight <= 100)) {
                diag_error(d, w[i].start, "a weight is a number from 0 to 100");
                return;
            }
        }
        if (row->npanels == LESSON_MAX_PANELS) {
            diag_error(d, w[i].start, "too many panels in one row");
            return;
        }
        row->panels[row->npanels] = found;
        row->weights[row->npanels++] = (float)weight;
    }
    for (int r = 0; r < l->f2.nrows; r++)
        if (l->f2.rows[r].npanels == 0) {
            diag_error(d, at, "row %d of the layout is empty", r + 1);
            return;
        }
}

// set: NAME = VALUE | run: SOURCE N | show: PANEL | hide: PANEL | highlight: NAME
static void parse_directive(Lesson *l, Diag *d, const char *key, const char *src, size_t at, size_t vs,
                            size_t ve)
{
    if (l->nsteps == 0) {
        diag_error(d, at, "'%s:' belongs under a step; put it after a 'step:'", key);
        return;
    }
    StepDirectives *sd = &l->f2.directives[l->nsteps - 1];
    if (sd->n == LESSON_MAX_DIRECTIVES) {
        diag_error(d, at, "more than %d directives in one step", LESSON_MAX_DIRECTIVES);
        return;
    }
    W w[MAX_WORDS];
    int n = words(src, vs, ve, w);
    StepDirective dir = {.target = -1};
    if (strcmp(key, "set") == 0) {
        if (n != 3 || !is(src, w[1], "=")) {
            diag_error(d, n ? w[0].start : at, "write 'set: PARAM = VALUE'");
            return;
        }
        dir.kind = DIRECTIVE_SET;
        dir.name = copy(l, src, w[0]);
        int p = find_param(l, src + w[0].start, w[0].end - w[0].start);
        if (p >= 0 && l->f2.params[p].kind == PARAM_CHOICE) {
            dir.value = -1;
            for (int i = 0; i < l->f2.params[p].nchoices; i++)
                if (is(src, w[2], l->f2.params[p].choices[i]))
                    dir.value = i;
            if (dir.value < 0) {
                diag_error(d, w[2].start, "'%.*s' is not one of %s's choices", (int)(w[2].end - w[2].start),
                           src + w[2].start, dir.name);
                return;
            }
        } else if (p >= 0 && l->f2.params[p].kind == PARAM_TOGGLE) {
            dir.value = is(src, w[2], "on");
        } else if (!number(d, src, w[2], &dir.value)) {
            return;
        }
    } else if (strcmp(key, "run") == 0) {
        if (n != 2) {
            diag_error(d, n ? w[0].start : at, "write 'run: SOURCE STEPS', e.g. 'run: fit 300'");
            return;
        }
        dir.kind = DIRECTIVE_RUN;
        dir.name = copy(l, src, w[0]);
        if (!number(d, src, w[1], &dir.value) || dir.value < 0 || dir.value > 1e6 ||
            dir.value != floor(dir.value)) {
            diag_error(d, w[1].start, "the steps are a whole number from 0 to 1000000");
            return;
        }
    } else {
        if (n != 1) {
            diag_error(d, n > 1 ? w[1].start : at, "write '%s: NAME' (one name per line)", key);
            return;
        }
        dir.kind = strcmp(key, "show") == 0 ? DIRECTIVE_SHOW : strcmp(key, "hide") == 0 ? DIRECTIVE_HIDE
                                                                                          : DIRECTIVE_HIGHLIGHT;
        dir.name = copy(l, src, w[0]);
    }
    diag_position(d, w[0].start, &dir.line, &dir.col);
    dir.at = w[0].start;
    sd->d[sd->n++] = dir;
}

bool format2_parse_line(Lesson *l, Diag *d, const char *key, size_t at, size_t vs, size_t ve)
{
    const char *src = l->src;
    if (!l->f2.directives) {
        l->f2.directives = arena_calloc(&l->arena, LESSON_MAX_STEPS, sizeof(StepDirectives));
        if (!l->f2.directives) {
            diag_error(d, at, "out of memory");
            return true;
        }
    }
    if (l->f2.version < 2) {
        diag_error(d, at, "'%s:' needs lesson format 2; write 'gradlab-lesson: 2' on the first line", key);
        return true;
    }
    if (strcmp(key, "param") == 0)
        parse_param(l, d, src, at, vs, ve);
    else if (strcmp(key, "source") == 0)
        parse_source(l, d, src, at, vs, ve);
    else if (strcmp(key, "panel") == 0)
        parse_panel(l, d, src, at, vs, ve);
    else if (strcmp(key, "layout") == 0)
        parse_layout(l, d, src, at, vs, ve);
    else if (strcmp(key, "set") == 0 || strcmp(key, "run") == 0 || strcmp(key, "show") == 0 ||
             strcmp(key, "hide") == 0 || strcmp(key, "highlight") == 0)
        parse_directive(l, d, key, src, at, vs, ve);
    else
        return false;
    return true;
}

bool format2_parse_check(Lesson *l, Diag *d, size_t at, size_t vs, size_t ve)
{
    const char *src = l->src;
    W w[MAX_WORDS];
    int n = words(src, vs, ve, w);
    if (n == 0 || (!is(src, w[0], "after") && !is(src, w[0], "gradcheck")))
        return false;
    if (l->f2.version < 2) {
        diag_error(d, w[0].start, "'check: %.*s' needs lesson format 2; write 'gradlab-lesson: 2' on the first line",
                   (int)(w[0].end - w[0].start), src + w[0].start);
        return true;
    }
    if (l->f2.nchecks == LESSON_MAX_CHECKS2) {
        diag_error(d, at, "more than %d checks of format 2", LESSON_MAX_CHECKS2);
        return true;
    }
    LessonCheck2 c = {.at = w[0].start, .tol = 1e-5};
    diag_position(d, at, &c.line, &(int){0});
    if (is(src, w[0], "gradcheck")) {
        c.gradcheck = true;
        if (n == 3 && is(src, w[1], "tol")) {
            if (!number(d, src, w[2], &c.tol) || !(c.tol > 0))
                return true;
        } else if (n != 1) {
            diag_error(d, w[1].start, "write 'check: gradcheck' or 'check: gradcheck tol 1e-6'");
            return true;
        }
        l->f2.checks[l->f2.nchecks++] = c;
        return true;
    }
    // after SOURCE N : FIGURE OP BOUND  (the colon may touch N)
    double steps;
    size_t ne = n > 2 ? w[2].end : 0;
    bool colon = n > 2 && src[ne - 1] == ':';
    if (n == 7 && is(src, w[5], "=") && w[5].start == w[4].end) { // "<=" and ">=" were split at '='
        w[4].end = w[5].end;
        w[5] = w[6];
        n = 6;
    }
    if (n != 6 || !colon) {
        diag_error(d, n > 1 ? w[1].start : w[0].end, "write 'check: after SOURCE STEPS: FIGURE < BOUND', "
                   "e.g. 'check: after fit 300: fit.loss < 0.01'");
        return true;
    }
    c.source = copy(l, src, w[1]);
    if (!number(d, src, (W){w[2].start, ne - 1}, &steps) || steps < 0 || steps > 1e6 || steps != floor(steps)) {
        diag_error(d, w[2].start, "the steps are a whole number from 0 to 1000000");
        return true;
    }
    c.steps = (int)steps;
    c.figure = copy(l, src, w[3]);
    const char *ops[] = {"<", "<=", ">", ">="};
    int op = -1;
    for (int i = 0; i < 4; i++)
        if (is(src, w[4], ops[i]))
            op = i;
    if (op < 0) {
        diag_error(d, w[4].start, "compare with <, <=, > or >=");
        return true;
    }
    snprintf(c.op, sizeof(c.op), "%s", ops[op]);
    if (!number(d, src, w[5], &c.bound))
        return true;
    int found = -1;
    for (int k = 0; k < l->f2.nsources; k++)
        if (strcmp(l->f2.sources[k].name, c.source) == 0)
            found = k;
    if (found < 0) {
        diag_error(d, w[1].start, "no source called '%s' (declare it with 'source:' before the check)", c.source);
        return true;
    }
    l->f2.checks[l->f2.nchecks++] = c;
    return true;
}

// Add a panel made by the lesson, not the file (the view of a format-1
// lesson, its training plot). Returns its index or -1.
static int add_panel(Lesson *l, const char *name, PanelKind kind)
{
    if (l->f2.npanels == LESSON_MAX_PANELS)
        return -1;
    l->f2.panels[l->f2.npanels] = (LessonPanel){.name = name, .kind = kind};
    return l->f2.npanels++;
}

void format2_finish(Lesson *l, Diag *d)
{
    if (!l->program)
        return;
    // Every program input is a parameter; a declared one keeps its range.
    for (size_t i = 0; i < program_input_count(l->program); i++) {
        const char *name = program_input_name(l->program, i);
        int p = find_param(l, name, strlen(name));
        if (p >= 0) { // a choice gives the program its index, a toggle 0 or 1
            l->f2.params[p].input = true;
            program_set_input(l->program, name, l->f2.params[p].value);
            continue;
        }
        if (l->f2.nparams == LESSON_MAX_PARAMS2)
            continue; // such an input is not a slider, only draggable in the circuit
        double v = program_input_value(l->program, i), span = 10 * fmax(1, fabs(v));
        l->f2.params[l->f2.nparams++] = (LessonParam){
            .name = name, .kind = PARAM_NUMBER, .value = v, .min = v - span, .max = v + span, .input = true};
    }
    // A lesson without panels gets its view, and a plot beside it when it trains.
    if (l->f2.npanels == 0) {
        int view = add_panel(l, "view", strcmp(l->view, "graph") == 0 ? PANEL_GRAPH : PANEL_CIRCUIT);
        l->f2.rows[0] = (LessonRow){.panels = {view}, .weights = {1}, .npanels = 1, .weight = 1};
        l->f2.nrows = 1;
    }
    if (l->f2.nrows == 0) { // panels but no layout: all in one row, in file order
        LessonRow *row = &l->f2.rows[l->f2.nrows++];
        row->weight = 1;
        for (int i = 0; i < l->f2.npanels; i++) {
            row->panels[row->npanels] = i;
            row->weights[row->npanels++] = 1;
        }
    }
    // Panel references.
    for (int i = 0; i < l->f2.npanels; i++) {
        LessonPanel *p = &l->f2.panels[i];
        if (p->kind == PANEL_CONTROLS)
            for (int k = 0; k < p->nrefs; k++)
                if (find_param(l, p->refs[k], strlen(p->refs[k])) < 0)
                    diag_error(d, p->at, "panel '%s': no param called '%s'", p->name, p->refs[k]);
        if (p->kind == PANEL_NUDGE) {
            if (find_param(l, p->nudge_h, strlen(p->nudge_h)) < 0)
                diag_error(d, p->at, "panel '%s': no param called '%s' for h", p->name, p->nudge_h);
            int x = find_param(l, p->nudge_input, strlen(p->nudge_input));
            if (x < 0 || !l->f2.params[x].input)
                diag_error(d, p->at, "panel '%s': '%s' is not an input of the program", p->name, p->nudge_input);
        }
        if (p->kind == PANEL_LSTMCELL || p->kind == PANEL_LSTMTIME) {
            bool found = false;
            for (int k = 0; k < l->f2.nsources; k++)
                found |= strcmp(l->f2.sources[k].name, p->refs[0]) == 0;
            if (!found)
                diag_error(d, p->at, "panel '%s': no source called '%s'; it draws an 'lstmmem' source", p->name,
                           p->refs[0]);
            for (int k = 1; k < p->nrefs; k++)
                if (find_param(l, p->refs[k], strlen(p->refs[k])) < 0)
                    diag_error(d, p->at, "panel '%s': no param called '%s'", p->name, p->refs[k]);
        }
        if (p->kind == PANEL_SURFACE) {
            bool found = false;
            for (int k = 0; k < l->f2.nsources; k++)
                found |= strcmp(l->f2.sources[k].name, p->refs[0]) == 0;
            if (!found)
                diag_error(d, p->at, "panel '%s': no source called '%s'; a surface panel draws an 'optimizers' "
                           "source", p->name, p->refs[0]);
        }
        if (p->kind == PANEL_BOUNDARY) {
            bool found = false;
            for (int k = 0; k < l->f2.nsources; k++)
                found |= strcmp(l->f2.sources[k].name, p->refs[0]) == 0;
            if (!found)
                diag_error(d, p->at,
                           "panel '%s': no source called '%s'; a boundary panel draws an 'mlp2d' source",
                           p->name, p->refs[0]);
            if (p->nrefs > 1 && find_param(l, p->refs[1], strlen(p->refs[1])) < 0)
                diag_error(d, p->at, "panel '%s': no param called '%s' for the neuron drawn large", p->name,
                           p->refs[1]);
        }
    }
    // Directive targets.
    for (size_t s = 0; l->f2.directives && s < l->nsteps; s++) {
        StepDirectives *sd = &l->f2.directives[s];
        for (int j = 0; j < sd->n; j++) {
            StepDirective *dir = &sd->d[j];
            switch (dir->kind) {
            case DIRECTIVE_SET:
                dir->target = find_param(l, dir->name, strlen(dir->name));
                if (dir->target < 0)
                    diag_error(d, dir->at, "'set: %s': no param called '%s'", dir->name, dir->name);
                else if (l->f2.params[dir->target].kind == PARAM_NUMBER &&
                         (dir->value < l->f2.params[dir->target].min || dir->value > l->f2.params[dir->target].max))
                    diag_error(d, dir->at, "'set: %s = %g' is outside its range %g to %g", dir->name, dir->value,
                               l->f2.params[dir->target].min, l->f2.params[dir->target].max);
                break;
            case DIRECTIVE_RUN:
                for (int k = 0; k < l->f2.nsources; k++)
                    if (strcmp(l->f2.sources[k].name, dir->name) == 0)
                        dir->target = k;
                if (dir->target < 0)
                    diag_error(d, dir->at, "'run: %s': no source called '%s'", dir->name, dir->name);
                break;
            case DIRECTIVE_SHOW:
            case DIRECTIVE_HIDE:
            case DIRECTIVE_HIGHLIGHT:
                for (int k = 0; k < l->f2.npanels; k++)
                    if (strcmp(l->f2.panels[k].name, dir->name) == 0)
                        dir->target = k;
                if (dir->target < 0 && dir->kind != DIRECTIVE_HIGHLIGHT)
                    diag_error(d, dir->at, "'%s: %s': no panel called '%s'",
                               dir->kind == DIRECTIVE_SHOW ? "show" : "hide", dir->name, dir->name);
                if (dir->target < 0 && dir->kind == DIRECTIVE_HIGHLIGHT &&
                    program_binding_node(l->program, dir->name) == SIZE_MAX)
                    diag_error(d, dir->at, "'highlight: %s': no panel or program name called '%s'", dir->name,
                               dir->name);
                break;
            }
        }
    }
}
