// lesson.c: the lesson file parser, step states, narrative expansion and
// checks; see lesson.h and lessons/README.md.
#include "lessons/lesson.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/fileio.h"
#include "engine/numfmt.h"
#include "lessons/format2_parse.h"

// ---------------------------------------------------------------------------
// Lines and blocks

typedef struct Line {
    size_t start, end;  // [start, end) without the newline
} Line;

typedef struct LessonParser {
    Lesson *l;
    Diag *d;
    const char *src;
    size_t len;
    size_t pos;
    Graph *graph;       // the program built once, for gate lists
    Value *out;
    int title_line;     // line of the 'title:' seen so far, or 0
    int view_line;      // line of the 'view:' seen so far, or 0
    size_t *pushed_by;  // per node of graph: the step whose backward pushed it, or SIZE_MAX
    size_t auto_done;   // the done step 'step: auto' added last, while it is the last step; else SIZE_MAX
    size_t step_at[LESSON_MAX_STEPS];          // each step's name in src (its line for auto's)
    const char *step_name[LESSON_MAX_STEPS];   // each step's NAME as written, or NULL
} LessonParser;

static bool next_line(LessonParser *lp, Line *ln)
{
    if (lp->pos >= lp->len)
        return false;
    ln->start = lp->pos;
    const char *nl = memchr(lp->src + lp->pos, '\n', lp->len - lp->pos);
    ln->end = nl ? (size_t)(nl - lp->src) : lp->len;
    lp->pos = nl ? ln->end + 1 : lp->len;
    if (ln->end > ln->start && lp->src[ln->end - 1] == '\r')
        ln->end--;
    return true;
}

static bool line_blank(const LessonParser *lp, Line ln)
{
    for (size_t i = ln.start; i < ln.end; i++)
        if (lp->src[i] != ' ' && lp->src[i] != '\t')
            return false;
    return true;
}

static bool line_indented(const LessonParser *lp, Line ln)
{
    return ln.end > ln.start && (lp->src[ln.start] == ' ' || lp->src[ln.start] == '\t');
}

// The block under a key: the indented (or blank) lines that follow. Returns
// the byte span [*start, *end) and leaves lp->pos after it.
static void read_block(LessonParser *lp, size_t *start, size_t *end)
{
    *start = *end = lp->pos;
    Line ln;
    size_t save = lp->pos;
    while (next_line(lp, &ln)) {
        if (!line_blank(lp, ln) && !line_indented(lp, ln)) {
            lp->pos = save;
            return;
        }
        *end = ln.end;
        save = lp->pos;
    }
}

// Copy a block into the arena without its common indentation, trimming
// blank lines at both ends. Lines stay separated by '\n'.
static const char *dedent_block(LessonParser *lp, size_t start, size_t end)
{
    size_t indent = SIZE_MAX;
    for (size_t p = start; p < end;) {
        size_t e = p;
        while (e < end && lp->src[e] != '\n')
            e++;
        size_t i = p;
        while (i < e && (lp->src[i] == ' ' || lp->src[i] == '\t'))
            i++;
        if (i < e && lp->src[i] != '\r' && i - p < indent)
            indent = i - p;
        p = e + 1;
    }
    if (indent == SIZE_MAX)
        return "";
    char *out = arena_alloc(&lp->l->arena, end - start + 1);
    if (!out)
        return "";
    size_t n = 0;
    for (size_t p = start; p < end;) {
        size_t e = p;
        while (e < end && lp->src[e] != '\n')
            e++;
        size_t s = p + indent < e ? p + indent : e;
        size_t ee = e;
        while (ee > s && (lp->src[ee - 1] == '\r' || lp->src[ee - 1] == ' '))
            ee--;
        memcpy(out + n, lp->src + s, ee - s);
        n += ee - s;
        out[n++] = '\n';
        p = e + 1;
    }
    while (n > 0 && out[n - 1] == '\n')
        n--;
    out[n] = '\0';
    char *o = out;
    while (*o == '\n')
        o++;
    return o;
}

// ---------------------------------------------------------------------------
// Validation helpers

// Check that the text is UTF-8; report the first bad byte.
static bool check_utf8(LessonParser *lp)
{
    const unsigned char *s = (const unsigned char *)lp->src;
    for (size_t i = 0; i < lp->len;) {
        unsigned char c = s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = n > 0 && i + n <= lp->len && !(n == 2 && c < 0xC2);
        for (size_t k = 1; ok && k < n; k++)
            ok = (s[i + k] & 0xC0) == 0x80;
        if (c == 0)
            ok = false;
        if (!ok) {
            diag_error(lp->d, i, "byte 0x%02x is not valid UTF-8 text; save the lesson as UTF-8", c);
            return false;
        }
        i += n;
    }
    return true;
}

static const char *const lesson_keys[] = {
    "gradlab-lesson", "title", "view", "program", "step", "notes", "check", "train",
    // lesson format 2 (format2.c)
    "param", "source", "panel", "layout", "set", "run", "show", "hide", "highlight",
};
#define NKEYS (sizeof(lesson_keys) / sizeof(lesson_keys[0]))

static const char *const step_kinds[] = {"intro", "forward", "backward", "done", "auto"};
#define NSTEPKINDS (sizeof(step_kinds) / sizeof(step_kinds[0]))

static const char *trim_copy(LessonParser *lp, size_t start, size_t end)
{
    while (start < end && isspace((unsigned char)lp->src[start]))
        start++;
    while (end > start && isspace((unsigned char)lp->src[end - 1]))
        end--;
    return arena_strndup(&lp->l->arena, lp->src + start, end - start);
}

static bool add_step(LessonParser *lp, size_t at, StepKind kind, size_t gate, const char *text)
{
    Lesson *l = lp->l;
    if (l->nsteps >= LESSON_MAX_STEPS) {
        diag_error(lp->d, at, "more than %d steps; split the lesson into several files",
                   LESSON_MAX_STEPS);
        return false;
    }
    lp->step_at[l->nsteps] = at;
    lp->step_name[l->nsteps] = NULL;
    l->steps[l->nsteps++] = (LessonStep){kind, gate, text, ""};
    return true;
}

// Backward steps push gradients in the order the file gives them; see
// LessonState in lesson.h. The step about to be added (number l->nsteps)
// names gate: it pushes gate and every gate computed from gate that no
// earlier step of its pass has pushed (their gradients must be complete
// before gate's is). Naming a gate the pass already pushed without naming it
// is an impossible order: the step that pushed it must move after this one.
// name is the gate as written, at offset at. Returns false after an error.
static bool order_backward(LessonParser *lp, size_t gate, const char *name, size_t at)
{
    Lesson *l = lp->l;
    Graph *g = lp->graph;
    size_t self = l->nsteps, first = self;
    while (first > 0 && l->steps[first - 1].kind == STEP_BACKWARD)
        first--;
    if (!lp->pushed_by || self >= LESSON_MAX_STEPS)
        return true; // add_step reports the limit
    size_t by = lp->pushed_by[gate];
    if (by != SIZE_MAX && by >= first) {
        if (l->steps[by].gate == gate)
            return true; // named again: nothing more to push
        char lt[48], lg[48];
        const char *tn = lp->step_name[by];
        if (!tn)
            tn = value_label(g->nodes[l->steps[by].gate], lt, sizeof(lt));
        const char *gn = name ? name : value_label(g->nodes[gate], lg, sizeof(lg));
        int line, col;
        diag_position(lp->d, at, &line, &col);
        diag_error(lp->d, lp->step_at[by], "'backward %s' comes before 'backward %s' on line %d, but %s is "
                   "computed from %s, so %s's gradient is not complete yet; move 'backward %s' after "
                   "'backward %s'", tn, gn, line, gn, tn, tn, tn, gn);
        return false;
    }
    lp->pushed_by[gate] = self;
    for (size_t i = gate + 1; i <= lp->out->index; i++) {
        Value *v = g->nodes[i];
        if (!v->mark || !v->src[0] || (lp->pushed_by[i] != SIZE_MAX && lp->pushed_by[i] >= first))
            continue;
        for (int k = 0; k < 2 && v->src[k]; k++)
            if (lp->pushed_by[v->src[k]->index] == self)
                lp->pushed_by[i] = self;
    }
    return true;
}

// Placeholders in narrative text must name program values: {x} or {grad x}.
static void check_placeholders(LessonParser *lp, size_t start, size_t end)
{
    for (size_t i = start; i < end; i++) {
        if (lp->src[i] != '{')
            continue;
        size_t j = i + 1;
        while (j < end && lp->src[j] != '}' && lp->src[j] != '\n')
            j++;
        if (j >= end || lp->src[j] != '}') {
            diag_error(lp->d, i, "'{' without a closing '}'; placeholders look like {x} or {grad x}");
            return;
        }
        char name[80];
        size_t n = j - i - 1;
        if (n >= sizeof(name))
            n = sizeof(name) - 1;
        memcpy(name, lp->src + i + 1, n);
        name[n] = '\0';
        // Any of them may end in :SPEC, a printf conversion (numfmt.h).
        char *colon = strchr(name, ':');
        if (colon) {
            *colon = '\0';
            if (!numfmt_spec_valid(colon + 1)) {
                diag_error(lp->d, i + 2 + (size_t)(colon - name),
                           "'%s' is not a number format; write one of e, f or g with an optional width "
                           "and precision, as in {%s:.3f}", colon + 1, name);
                return;
            }
        }
        const char *var = strncmp(name, "grad ", 5) == 0 ? name + 5 : name;
        bool figure = false; // format 2: {param}, {source.array}
        for (int k = 0; lp->l->f2.version >= 2 && k < lp->l->f2.nparams; k++)
            figure |= strcmp(var, lp->l->f2.params[k].name) == 0;
        figure |= lp->l->f2.version >= 2 && var == name && strchr(var, '.') != NULL;
        if (!figure && program_binding_node(lp->l->program, var) == SIZE_MAX) {
            diag_error(lp->d, i + 1 + (size_t)(var - name),
                       "unknown name '%s' in a placeholder; the program has no such value", var);
            return;
        }
        i = j;
    }
}

static void parse_step(LessonParser *lp, size_t at, size_t vstart, size_t vend)
{
    Lesson *l = lp->l;
    if (!l->program) {
        diag_error(lp->d, at, "a step comes before the program; put 'program:' first");
        return;
    }
    const char *arg = trim_copy(lp, vstart, vend);
    char kind[16] = "";
    size_t k = 0;
    while (arg[k] && !isspace((unsigned char)arg[k]) && k < sizeof(kind) - 1) {
        kind[k] = arg[k];
        k++;
    }
    kind[k] = '\0';
    const char *name = arg + k;
    while (*name == ' ' || *name == '\t')
        name++;
    size_t bstart, bend;
    read_block(lp, &bstart, &bend);
    check_placeholders(lp, bstart, bend);
    const char *text = dedent_block(lp, bstart, bend);

    size_t kidx = NSTEPKINDS;
    for (size_t i = 0; i < NSTEPKINDS; i++)
        if (strcmp(kind, step_kinds[i]) == 0)
            kidx = i;
    size_t vat = vstart;
    while (vat < vend && isspace((unsigned char)lp->src[vat]))
        vat++;
    if (kidx == NSTEPKINDS) {
        const char *guess = diag_suggest(kind, step_kinds, NSTEPKINDS);
        diag_error(lp->d, vat, "unknown step '%s'; steps are intro, forward NAME, backward NAME, done "
                   "and auto%s%s%s", kind, guess ? " (did you mean '" : "", guess ? guess : "",
                   guess ? "'?)" : "");
        return;
    }
    Graph *g = lp->graph;
    size_t last_auto_done = lp->auto_done;
    lp->auto_done = SIZE_MAX;
    if (kidx == 4) { // auto: intro, each gate forward, each gate backward, done
        for (size_t i = bstart; i < bend; i++)
            if (!isspace((unsigned char)lp->src[i])) {
                diag_error(lp->d, i, "step: auto writes its own narrative; put yours in a 'step: intro' "
                           "before it");
                return;
            }
        // A lesson that wrote its own intro (as in 'step: intro' with a
        // narrative, then 'step: auto') gets no second one.
        bool has_intro = false;
        for (size_t i = 0; i < l->nsteps; i++)
            has_intro = has_intro || l->steps[i].kind == STEP_INTRO;
        graph_mark_ancestors(g, lp->out);
        if (!has_intro && !add_step(lp, at, STEP_INTRO, SIZE_MAX, ""))
            return;
        for (size_t i = 0; i < g->n; i++)
            if (g->nodes[i]->mark && g->nodes[i]->src[0] && !add_step(lp, at, STEP_FORWARD, i, ""))
                return;
        for (size_t i = g->n; i-- > 0;)
            if (g->nodes[i]->mark && g->nodes[i]->src[0] &&
                (!order_backward(lp, i, NULL, at) || !add_step(lp, at, STEP_BACKWARD, i, "")))
                return;
        if (add_step(lp, at, STEP_DONE, SIZE_MAX, ""))
            lp->auto_done = l->nsteps - 1;
        return;
    }
    if (kidx == 3 && !*name && last_auto_done != SIZE_MAX && last_auto_done + 1 == l->nsteps) {
        // 'step: done' right after 'step: auto' is auto's own done step,
        // with this narrative: a lesson does not end on two done steps.
        l->steps[last_auto_done].text = text;
        return;
    }
    size_t gate = SIZE_MAX;
    if (kidx == 1 || kidx == 2) {
        size_t nat = vat + (size_t)(name - arg);
        if (!*name) {
            diag_error(lp->d, vat, "'step: %s' needs the name of a gate, as in 'step: %s %s'", kind,
                       kind, program_output_name(l->program));
            return;
        }
        gate = program_binding_node(l->program, name);
        if (gate == SIZE_MAX) {
            diag_error(lp->d, nat, "unknown name '%s'; it must be a name the program assigns", name);
            return;
        }
        graph_mark_ancestors(g, lp->out);
        if (!g->nodes[gate]->src[0]) {
            diag_error(lp->d, nat, "'%s' is an input, not a gate; %s steps name a computed value such "
                       "as '%s'", name, kind, program_output_name(l->program));
            return;
        }
        if (!g->nodes[gate]->mark) {
            diag_error(lp->d, nat, "the output '%s' does not depend on '%s', so no gradient flows "
                       "through it", program_output_name(l->program), name);
            return;
        }
    } else if (*name) {
        diag_error(lp->d, vat + k, "'step: %s' takes no name", kind);
        return;
    }
    if (kidx == 2 && !order_backward(lp, gate, name, vat + (size_t)(name - arg)))
        return;
    if (add_step(lp, at, (StepKind)kidx, gate, text) && gate != SIZE_MAX) {
        lp->step_at[l->nsteps - 1] = vat + (size_t)(name - arg);
        lp->step_name[l->nsteps - 1] = name;
    }
}

// A word of a value: src[start, end), split at spaces and tabs.
typedef struct Word {
    size_t start, end;
} Word;

// Split src[from, to) into at most max words at spaces and tabs. Returns the
// number found, which may exceed max (the rest are not stored).
static size_t split_words(const LessonParser *lp, size_t from, size_t to, Word *w, size_t max)
{
    size_t n = 0;
    for (size_t i = from; i < to;) {
        while (i < to && (lp->src[i] == ' ' || lp->src[i] == '\t'))
            i++;
        if (i >= to)
            break;
        size_t s = i;
        while (i < to && lp->src[i] != ' ' && lp->src[i] != '\t')
            i++;
        if (n < max)
            w[n] = (Word){s, i};
        n++;
    }
    return n;
}

static bool word_is(const LessonParser *lp, Word w, const char *s)
{
    return w.end - w.start == strlen(s) && memcmp(lp->src + w.start, s, w.end - w.start) == 0;
}

// A word as quoted in messages: whole when short, else its start and length.
static const char *word_quote(const LessonParser *lp, Word w, char *buf, size_t n)
{
    size_t len = w.end - w.start;
    if (len <= 40)
        snprintf(buf, n, "%.*s", (int)len, lp->src + w.start);
    else
        snprintf(buf, n, "%.24s... (%zu characters)", lp->src + w.start, len);
    return buf;
}

// Whether word w is s, ignoring ASCII case.
static bool word_is_nocase(const LessonParser *lp, Word w, const char *s)
{
    if (w.end - w.start != strlen(s))
        return false;
    for (size_t i = 0; s[i]; i++)
        if (tolower((unsigned char)lp->src[w.start + i]) != s[i])
            return false;
    return true;
}

// Read the number in word w into *out. special allows inf, -inf and nan
// (any case). On failure reports why at the word and returns false.
static bool parse_number_word(LessonParser *lp, Word w, bool special, double *out, const char *what)
{
    size_t len = w.end - w.start;
    char q[80];
    word_quote(lp, w, q, sizeof(q));
    static const struct {
        const char *word;
        double value;
    } specials[] = {{"inf", INFINITY}, {"+inf", INFINITY}, {"-inf", -INFINITY}, {"infinity", INFINITY},
                    {"+infinity", INFINITY}, {"-infinity", -INFINITY}, {"nan", NAN}};
    for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
        if (word_is_nocase(lp, w, specials[i].word)) {
            if (!special) {
                diag_error(lp->d, w.start, "%s '%s' must be a finite number", what, q);
                return false;
            }
            *out = specials[i].value;
            return true;
        }
    }
    char *buf = malloc(len + 1); // a copy ending at the word: strtod reads no further
    if (!buf) {
        diag_error(lp->d, w.start, "out of memory");
        return false;
    }
    memcpy(buf, lp->src + w.start, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    bool whole = end == buf + len && len > 0 && !isspace((unsigned char)buf[0]);
    bool nonzero = strpbrk(buf, "123456789") && (!strpbrk(buf, "eE") || strpbrk(buf, "123456789") < strpbrk(buf, "eE"));
    free(buf);
    if (!whole || isnan(v)) {
        diag_error(lp->d, w.start, "'%s' is not a number", q);
        return false;
    }
    if (isinf(v)) {
        diag_error(lp->d, w.start, "'%s' is out of range of a double (largest is about 1.8e308)%s", q,
                   special ? "; write inf if you mean infinity" : "");
        return false;
    }
    if (v == 0 && errno == ERANGE && nonzero) {
        diag_error(lp->d, w.start, "'%s' is too small for a double (smallest is about 5e-324); write 0 if you "
                   "mean zero", q);
        return false;
    }
    *out = v;
    return true;
}

// check: [grad] NAME == NUMBER [tol NUMBER]    NUMBER may be inf, -inf or nan
static void parse_check(LessonParser *lp, size_t at, size_t vstart, size_t vend)
{
    Lesson *l = lp->l;
    if (!l->program) {
        diag_error(lp->d, at, "a check comes before the program; put 'program:' first");
        return;
    }
    if (format2_parse_check(l, lp->d, at, vstart, vend))
        return;
    if (l->nchecks >= LESSON_MAX_CHECKS) {
        diag_error(lp->d, at, "more than %d checks", LESSON_MAX_CHECKS);
        return;
    }
    size_t tat = vstart;
    while (tat < vend && isspace((unsigned char)lp->src[tat]))
        tat++;
    LessonCheck c = {.tol = 1e-9};
    // "==" splits the check, with or without spaces around it.
    size_t eq = SIZE_MAX;
    for (size_t i = tat; i + 1 < vend; i++)
        if (lp->src[i] == '=' && lp->src[i + 1] == '=') {
            eq = i;
            break;
        }
    Word left[3], right[4];
    size_t nl = eq == SIZE_MAX ? 0 : split_words(lp, tat, eq, left, 3);
    size_t nr = eq == SIZE_MAX ? 0 : split_words(lp, eq + 2, vend, right, 4);
    if (nl == 2 && word_is(lp, left[0], "grad")) {
        c.grad = true;
        left[0] = left[1];
        nl = 1;
    }
    if (nl != 1 || nr == 0) {
        diag_error(lp->d, tat, "a check looks like 'NAME == NUMBER' or 'grad NAME == NUMBER', "
                   "optionally followed by 'tol 1e-6'");
        return;
    }
    if (!parse_number_word(lp, right[0], true, &c.expected, "the expected value"))
        return;
    if (nr >= 2) {
        if (nr != 3 || !word_is(lp, right[1], "tol")) {
            diag_error(lp->d, right[1].start, "after the number a check takes only 'tol NUMBER'");
            return;
        }
        char q[80];
        if (!parse_number_word(lp, right[2], false, &c.tol, "the tolerance"))
            return;
        if (!(c.tol >= 0)) {
            diag_error(lp->d, right[2].start, "the tolerance '%s' must be a number >= 0",
                       word_quote(lp, right[2], q, sizeof(q)));
            return;
        }
    }
    char name[80];
    size_t nn = left[0].end - left[0].start;
    snprintf(name, sizeof(name), "%.*s", (int)(nn < 79 ? nn : 79), lp->src + left[0].start);
    if (nn > 79 || program_binding_node(l->program, name) == SIZE_MAX) {
        diag_error(lp->d, left[0].start, "unknown name '%s' in a check", name);
        return;
    }
    c.name = arena_strndup(&l->arena, name, strlen(name));
    int line, col;
    diag_position(lp->d, at, &line, &col);
    c.line = line;
    l->checks[l->nchecks++] = c;
}

// train: lr NUMBER params NAME...   (the names must be inputs)
static void parse_train(LessonParser *lp, size_t at, size_t vstart, size_t vend)
{
    Lesson *l = lp->l;
    if (!l->program) {
        diag_error(lp->d, at, "'train:' comes before the program; put 'program:' first");
        return;
    }
    if (l->train.enabled) {
        diag_error(lp->d, at, "a second 'train:'; a lesson has one");
        return;
    }
    Word w[LESSON_MAX_PARAMS + 4];
    size_t maxw = sizeof(w) / sizeof(w[0]);
    size_t nw = split_words(lp, vstart, vend, w, maxw);
    size_t tat = nw ? w[0].start : vend;
    const char *usage = "write 'train: lr 0.1 params w b': a positive learning rate, then the inputs to train";
    if (nw < 2 || !word_is(lp, w[0], "lr")) {
        diag_error(lp->d, tat, "%s", usage);
        return;
    }
    double lr;
    if (!parse_number_word(lp, w[1], false, &lr, "the learning rate"))
        return;
    if (!(lr > 0)) {
        diag_error(lp->d, w[1].start, "%s", usage);
        return;
    }
    if (nw < 3 || !word_is(lp, w[2], "params")) {
        diag_error(lp->d, nw < 3 ? vend : w[2].start,
                   "after the learning rate write 'params' and the inputs to train, as in 'params w b'");
        return;
    }
    if (nw == 3) {
        diag_error(lp->d, w[2].end, "name at least one input to train after 'params'");
        return;
    }
    size_t ninputs = program_input_count(l->program);
    for (size_t k = 3; k < nw; k++) {
        if (k == maxw || l->train.nparams == LESSON_MAX_PARAMS) {
            diag_error(lp->d, w[k < maxw ? k : maxw - 1].start, "more than %d params", LESSON_MAX_PARAMS);
            return;
        }
        char word[80], q[80];
        size_t wl = w[k].end - w[k].start;
        snprintf(word, sizeof(word), "%.*s", (int)(wl < 79 ? wl : 79), lp->src + w[k].start);
        word_quote(lp, w[k], q, sizeof(q));
        bool input = false;
        for (size_t i = 0; i < ninputs && wl < 80; i++)
            input = input || strcmp(program_input_name(l->program, i), word) == 0;
        if (!input) {
            if (wl < 80 && program_binding_node(l->program, word) != SIZE_MAX) {
                diag_error(lp->d, w[k].start, "'%s' is not an input of the program; train params are names set "
                           "to a number, as in w = 0.5", q);
                return;
            }
            const char *cands[64];
            size_t nc = 0;
            for (size_t i = 0; i < ninputs && nc < 64; i++)
                cands[nc++] = program_input_name(l->program, i);
            const char *guess = wl < 80 ? diag_suggest(word, cands, nc) : NULL;
            diag_error(lp->d, w[k].start, "unknown name '%s' in 'params'%s%s%s", q,
                       guess ? "; did you mean '" : "; train params are inputs of the program, as in w = 0.5",
                       guess ? guess : "", guess ? "'?" : "");
            return;
        }
        for (int i = 0; i < l->train.nparams; i++)
            if (strcmp(l->train.params[i], word) == 0) {
                diag_error(lp->d, w[k].start, "'%s' is listed twice in 'params'", word);
                return;
            }
        l->train.params[l->train.nparams++] = arena_strndup(&l->arena, word, strlen(word));
    }
    l->train.lr = lr;
    l->train.enabled = true;
}

static void parse_lines(LessonParser *lp)
{
    Lesson *l = lp->l;
    Line ln;
    while (next_line(lp, &ln) && lp->d->nerrors < DIAG_MAX_ERRORS) {
        if (line_blank(lp, ln) || lp->src[ln.start] == '#')
            continue;
        if (line_indented(lp, ln)) {
            diag_error(lp->d, ln.start, "an indented line outside a block; only lines under "
                       "'program:', 'step:' or 'notes:' are indented");
            continue;
        }
        const char *colon = memchr(lp->src + ln.start, ':', ln.end - ln.start);
        size_t kend = colon ? (size_t)(colon - lp->src) : ln.end;
        char key[32];
        size_t kn = kend - ln.start < sizeof(key) - 1 ? kend - ln.start : sizeof(key) - 1;
        memcpy(key, lp->src + ln.start, kn);
        key[kn] = '\0';
        size_t ki = NKEYS;
        for (size_t i = 0; i < NKEYS; i++)
            if (strcmp(key, lesson_keys[i]) == 0)
                ki = i;
        if (!colon || ki == NKEYS) {
            const char *guess = diag_suggest(key, lesson_keys, NKEYS);
            const char *word = trim_copy(lp, ln.start, ln.end);
            if (!colon && l->program && (strcmp(word, "end") == 0 || strncmp(word, "for ", 4) == 0))
                diag_error(lp->d, ln.start, "a loop's '%s' belongs to the program; indent it like the "
                           "program's other lines", strcmp(word, "end") == 0 ? "end" : "for");
            else if (!colon)
                diag_error(lp->d, ln.start, "expected 'key: value'; the keys are title, view, program, "
                           "step, notes, check and train");
            else
                diag_error(lp->d, ln.start, "unknown key '%s'%s%s%s", key,
                           guess ? "; did you mean '" : "", guess ? guess : "", guess ? "'?" : "");
            continue;
        }
        size_t vstart = kend + 1, vend = ln.end;
        switch (ki) {
        case 0: { // gradlab-lesson: version
            const char *v = trim_copy(lp, vstart, vend);
            if (strcmp(v, "1") == 0 || strcmp(v, "2") == 0)
                l->f2.version = v[0] - '0';
            else
                diag_error(lp->d, vstart, "this gradlab reads lesson formats 1 and 2, not '%s'", v);
            break;
        }
        case 1:
        case 2: { // title, view: one each
            int *line = ki == 1 ? &lp->title_line : &lp->view_line;
            if (*line) {
                diag_error(lp->d, ln.start, "a second '%s:'; a lesson has one %s (the first is on line %d)",
                           key, key, *line);
                break;
            }
            int col;
            diag_position(lp->d, ln.start, line, &col);
            if (ki == 1) {
                l->title = trim_copy(lp, vstart, vend);
                break;
            }
            l->view = trim_copy(lp, vstart, vend);
            if (strcmp(l->view, "circuit") != 0 && strcmp(l->view, "graph") != 0) {
                static const char *const views[] = {"circuit", "graph"};
                const char *guess = diag_suggest(l->view, views, 2);
                diag_error(lp->d, vstart + 1, "unknown view '%s'; %s%s%sthe views are 'circuit' and 'graph'",
                           l->view, guess ? "did you mean '" : "", guess ? guess : "", guess ? "'? " : "");
            }
            break;
        }
        case 3: { // program: block
            size_t bstart, bend;
            read_block(lp, &bstart, &bend);
            if (l->program) {
                diag_error(lp->d, ln.start, "a second 'program:'; a lesson has one program");
                break;
            }
            Line next;
            size_t save = lp->pos;
            if (next_line(lp, &next)) { // a loop's 'end' at column 0 would end the block early
                const char *word = trim_copy(lp, next.start, next.end);
                if (strcmp(word, "end") == 0) {
                    diag_error(lp->d, next.start, "a loop's 'end' belongs to the program; indent it like the "
                               "program's other lines");
                    return;
                }
            }
            lp->pos = save;
            l->program_start = bstart;
            l->program_end = bend;
            l->program = program_parse_span(lp->src, bstart, bend, lp->d);
            if (!l->program)
                return; // nothing after this can be checked
            lp->graph = graph_create(PROGRAM_MAX_NODES + 1);
            lp->out = lp->graph ? program_build(l->program, lp->graph) : NULL;
            lp->pushed_by = lp->out ? malloc(lp->graph->n * sizeof(size_t)) : NULL;
            if (!lp->out || !lp->pushed_by) {
                diag_error(lp->d, ln.start, "out of memory building the program");
                return;
            }
            for (size_t i = 0; i < lp->graph->n; i++)
                lp->pushed_by[i] = SIZE_MAX;
            break;
        }
        case 4:
            parse_step(lp, ln.start, vstart, vend);
            break;
        case 5: { // notes: presenter notes for the step above
            size_t bstart, bend;
            read_block(lp, &bstart, &bend);
            if (l->nsteps == 0)
                diag_error(lp->d, ln.start, "'notes:' belongs under a step; put it after a 'step:'");
            else
                l->steps[l->nsteps - 1].notes = dedent_block(lp, bstart, bend);
            break;
        }
        case 6:
            parse_check(lp, ln.start, vstart, vend);
            break;
        case 7:
            parse_train(lp, ln.start, vstart, vend);
            break;
        default:
            format2_parse_line(l, lp->d, key, ln.start, vstart, vend);
            break;
        }
    }
}

Lesson *lesson_parse(const char *src, size_t len, const char *file, Diag *d)
{
    Lesson *l = calloc(1, sizeof(*l));
    if (!l) {
        diag_error_file(d, "out of memory");
        return NULL;
    }
    arena_init(&l->arena, 0, 0);
    l->src = malloc(len + 1);
    l->path = malloc(strlen(file) + 1);
    l->steps = calloc(LESSON_MAX_STEPS, sizeof(LessonStep));
    l->checks = calloc(LESSON_MAX_CHECKS, sizeof(LessonCheck));
    if (!l->src || !l->path || !l->steps || !l->checks) {
        diag_error_file(d, "out of memory");
        lesson_destroy(l);
        return NULL;
    }
    // Parse a copy in which an old Mac's lone CR line ends are '\n': the same
    // length, so offsets into it are offsets into src, and Diag counts lines
    // the same way. A UTF-8 byte-order mark before the first line is skipped.
    memcpy(l->src, src, len);
    l->src[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (l->src[i] == '\r' && (i + 1 == len || l->src[i + 1] != '\n'))
            l->src[i] = '\n';
    strcpy(l->path, file);
    l->view = "circuit";
    int before = d->nerrors;
    LessonParser *lp = calloc(1, sizeof(*lp)); // some kilobytes: not on the stack
    if (!lp) {
        diag_error_file(d, "out of memory");
        lesson_destroy(l);
        return NULL;
    }
    lp->l = l;
    lp->d = d;
    lp->src = l->src;
    lp->len = len;
    lp->pos = diag_bom_length(src, len);
    lp->auto_done = SIZE_MAX;
    if (check_utf8(lp))
        parse_lines(lp);
    graph_destroy(lp->graph);
    free(lp->pushed_by);
    free(lp);
    if (d->nerrors == before)
        format2_finish(l, d);
    if (d->nerrors == before) {
        if (!l->title)
            diag_error(d, 0, "the lesson has no title; add a line 'title: ...'");
        if (!l->program)
            diag_error(d, 0, "the lesson has no program; add a 'program:' block with indented lines");
        else if (l->nsteps == 0)
            diag_error(d, len, "the lesson has no steps; add 'step: auto' or 'step: intro' ...");
    }
    if (d->nerrors != before) {
        lesson_destroy(l);
        return NULL;
    }
    return l;
}

Lesson *lesson_load(const char *path, Diag *d)
{
    char err[512];
    size_t len = 0;
    char *src = file_read_all(path, LESSON_MAX_BYTES, &len, err, sizeof(err));
    diag_init(d, path, src, len);
    if (!src) { // the file itself is the problem, not a place in it
        d->file = "gradlab";
        diag_error_file(d, "%s", err);
        return NULL;
    }
    Lesson *l = lesson_parse(src, len, path, d);
    // d must keep pointing at text that lives: the lesson's copy, or none.
    d->src = l ? l->src : NULL;
    if (!l)
        d->src_len = 0;
    free(src);
    return l;
}

void lesson_destroy(Lesson *l)
{
    if (!l)
        return;
    program_destroy(l->program);
    arena_destroy(&l->arena);
    free(l->src);
    free(l->path);
    free(l->steps);
    free(l->checks);
    free(l);
}

// ---------------------------------------------------------------------------
// Steps at run time

LessonState lesson_state(const Lesson *l, size_t step)
{
    LessonState s = {.kind = STEP_DONE, .gate = SIZE_MAX, .forward_upto = SIZE_MAX,
                     .pass_first = SIZE_MAX, .backward_started = true};
    if (step >= l->nsteps)
        return s;
    const LessonStep *st = &l->steps[step];
    s.kind = st->kind;
    s.gate = st->gate;
    switch (st->kind) {
    case STEP_INTRO:
        s.forward_upto = 0;
        s.backward_started = false;
        break;
    case STEP_FORWARD:
        s.forward_upto = st->gate;
        s.backward_started = false;
        break;
    case STEP_BACKWARD:
        s.pass_first = step;
        while (s.pass_first > 0 && l->steps[s.pass_first - 1].kind == STEP_BACKWARD)
            s.pass_first--;
        break;
    case STEP_DONE:
        s.gate = SIZE_MAX;
        break;
    }
    return s;
}

Value *lesson_eval(const Lesson *l, Graph *g, size_t step)
{
    Value *out = program_build(l->program, g);
    if (!out)
        return NULL;
    LessonState s = lesson_state(l, step);
    graph_mark_ancestors(g, out);
    graph_zero_grad(g);
    // The gates that have pushed (LESSON_PUSHED): at a backward step, those
    // its pass has named so far and every gate computed from one of them; at
    // done, all. The parser made sure each named gate's users come first.
    if (s.kind == STEP_BACKWARD) {
        for (size_t k = s.pass_first; k <= step; k++)
            if (l->steps[k].gate < g->n)
                g->nodes[l->steps[k].gate]->mark |= LESSON_PUSHED;
        for (size_t i = 0; i <= out->index; i++) {
            Value *v = g->nodes[i];
            for (int k = 0; k < 2 && v->src[k]; k++)
                if (v->src[k]->mark & LESSON_PUSHED)
                    v->mark |= LESSON_PUSHED;
        }
    } else if (s.kind == STEP_DONE) {
        for (size_t i = 0; i <= out->index; i++)
            if (g->nodes[i]->src[0])
                g->nodes[i]->mark |= LESSON_PUSHED;
    }
    for (size_t i = 0; i < g->n; i++) // only the output's ancestors push
        if (!(g->nodes[i]->mark & 1))
            g->nodes[i]->mark &= (unsigned char)~LESSON_PUSHED;
    // Each pushed gate's users have pushed before it, so its gradient is
    // complete when it sends local x upstream to its inputs: a node's
    // gradient is the sum of what the pushed gates sent it.
    if (s.backward_started) {
        out->grad = 1.0;
        out->mark |= LESSON_SHOWN_GRAD;
        for (size_t i = out->index + 1; i-- > 0;) {
            Value *v = g->nodes[i];
            if (!(v->mark & LESSON_PUSHED))
                continue;
            for (int k = 0; k < 2 && v->src[k]; k++) {
                v->src[k]->grad += v->local[k] * v->grad;
                v->src[k]->mark |= LESSON_SHOWN_GRAD;
            }
        }
    }
    // Record which values are on screen; see LESSON_SHOWN_*.
    for (size_t i = 0; i < g->n; i++) {
        Value *v = g->nodes[i];
        if (!v->src[0] || (s.kind != STEP_INTRO && i <= s.forward_upto))
            v->mark |= LESSON_SHOWN_VALUE;
    }
    return out;
}

Value *lesson_eval_full(const Lesson *l, Graph *g)
{
    Value *out = program_build(l->program, g);
    if (!out)
        return NULL;
    graph_zero_grad(g);
    graph_backward(g, out);
    for (size_t i = 0; i < g->n; i++)
        g->nodes[i]->mark |= LESSON_SHOWN_VALUE | LESSON_SHOWN_GRAD |
                             ((g->nodes[i]->mark & 1) && g->nodes[i]->src[0] ? LESSON_PUSHED : 0);
    return out;
}

double lesson_train_step(Lesson *l, Graph *g)
{
    Value *out = lesson_eval_full(l, g);
    if (!out)
        return NAN;
    double before = out->data;
    for (int i = 0; l->train.enabled && i < l->train.nparams; i++) {
        const Value *p = program_lookup(l->program, g, l->train.params[i]);
        if (p)
            program_set_input(l->program, l->train.params[i], p->data - l->train.lr * p->grad);
    }
    return before;
}

// ---------------------------------------------------------------------------
// Narrative

typedef struct Buf {
    char *p;
    size_t n, len;
} Buf;

static void buf_put(Buf *b, const char *s, size_t n)
{
    if (b->len + 1 >= b->n)
        return;
    if (n > b->n - 1 - b->len)
        n = b->n - 1 - b->len;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_printf(Buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void buf_printf(Buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        buf_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}


static void generated_text(const Lesson *l, const Graph *g, size_t step, Buf *b)
{
    const LessonStep *st = &l->steps[step];
    char v0[32], v1[32], v2[32], la[48], lb[48], lv[48];
    const Value *out = g->nodes[program_binding_node(l->program, program_output_name(l->program))];
    switch (st->kind) {
    case STEP_INTRO:
        buf_printf(b, "The inputs are set. Press **\u2192** to run the forward pass gate by gate.");
        break;
    case STEP_FORWARD: {
        const Value *v = g->nodes[st->gate];
        const char *name = value_label(v, lv, sizeof(lv));
        if (v->src[1])
            buf_printf(b, "Forward: `%s = %s %s %s` = **%s**.", name, numfmt_short(v0, 32, v->src[0]->data, 4),
                       value_op_symbol[v->op], numfmt_short(v1, 32, v->src[1]->data, 4),
                       numfmt_short(v2, 32, v->data, 4));
        else if (v->op == OP_POW)
            buf_printf(b, "Forward: `%s = %s ^ %s` = **%s**.", name, numfmt_short(v0, 32, v->src[0]->data, 4),
                       numfmt_short(v1, 32, v->exponent, 4), numfmt_short(v2, 32, v->data, 4));
        else
            buf_printf(b, "Forward: `%s = %s(%s)` = **%s**.", name, value_op_symbol[v->op],
                       numfmt_short(v0, 32, v->src[0]->data, 4), numfmt_short(v2, 32, v->data, 4));
        break;
    }
    case STEP_BACKWARD: {
        const Value *v = g->nodes[st->gate];
        const char *name = value_label(v, lv, sizeof(lv));
        buf_printf(b, "Backward through `%s`: the upstream gradient is ∂%s/∂%s = **%s**.",
                   name, out->name ? out->name : "f", name, numfmt_short(v2, 32, v->grad, 4));
        for (int k = 0; k < 2 && v->src[k]; k++) {
            const char *sn = value_label(v->src[k], k ? lb : la, 48);
            buf_printf(b, " For `%s`: local %s × upstream %s = **%s**.", sn,
                       numfmt_short(v0, 32, v->local[k], 4), numfmt_short(v1, 32, v->grad, 4),
                       numfmt_short(v2, 32, v->local[k] * v->grad, 4));
        }
        break;
    }
    case STEP_DONE:
        buf_printf(b, "Done. Every value now has its gradient ∂%s/∂value.", out->name ? out->name : "f");
        break;
    }
}

char *lesson_step_text(const Lesson *l, const Graph *g, size_t step, char *buf, size_t n)
{
    Buf b = {buf, n, 0};
    if (n)
        buf[0] = '\0';
    if (step >= l->nsteps)
        return buf;
    const char *t = l->steps[step].text;
    if (!t[0]) {
        generated_text(l, g, step, &b);
        return buf;
    }
    while (*t) {
        const char *open = strchr(t, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            buf_put(&b, t, strlen(t));
            break;
        }
        buf_put(&b, t, (size_t)(open - t));
        char name[80];
        size_t nn = (size_t)(close - open - 1) < sizeof(name) - 1 ? (size_t)(close - open - 1)
                                                                  : sizeof(name) - 1;
        memcpy(name, open + 1, nn);
        name[nn] = '\0';
        // {NAME}, {grad NAME}, either with :SPEC (printf's e f g).
        char *colon = strchr(name, ':');
        const char *spec = colon ? colon + 1 : "";
        if (colon)
            *colon = '\0';
        bool grad = strncmp(name, "grad ", 5) == 0;
        size_t idx = program_binding_node(l->program, grad ? name + 5 : name);
        char num[64];
        if (idx < g->n) {
            double v = grad ? g->nodes[idx]->grad : g->nodes[idx]->data;
            if (!spec[0] || !numfmt_spec(num, sizeof(num), spec, v))
                numfmt_short(num, sizeof(num), v, 4);
            buf_put(&b, num, strlen(num));
        } else if (idx == SIZE_MAX) { // a parameter or a published figure: the run fills it in
            buf_put(&b, open, (size_t)(close - open + 1));
        }
        t = close + 1;
    }
    return buf;
}

// Why node v (finite sources) produced a non-finite value.
static void explain_value(const Value *v, Buf *b)
{
    char a[32], c[32], r[32], lbl[48];
    const char *name = value_label(v, lbl, sizeof(lbl));
    double x = v->src[0] ? v->src[0]->data : 0, y = v->src[1] ? v->src[1]->data : 0;
    numfmt_short(a, sizeof(a), x, 4);
    numfmt_short(c, sizeof(c), y, 4);
    numfmt_short(r, sizeof(r), v->data, 4);
    switch ((ValueOp)v->op) {
    case OP_LOG:
        buf_printf(b, "`log(%s)` is **%s**: the logarithm needs a positive input. ", a, r);
        break;
    case OP_DIV:
        buf_printf(b, "`%s / %s` is **%s**: division by zero. ", a, c, r);
        break;
    case OP_EXP:
        buf_printf(b, "`exp(%s)` is **%s**: it overflows a double (anything above about 709.8). ", a, r);
        break;
    case OP_SQRT:
        buf_printf(b, "`sqrt(%s)` is **%s**: a negative number has no real square root. ", a, r);
        break;
    case OP_POW:
        buf_printf(b, "`%s ^ %s` is **%s**: %s. ", a, numfmt_short(c, sizeof(c), v->exponent, 4), r,
                   isnan(v->data) ? "a negative number has no real fractional power"
                                  : "the result is too large for a double, or a power of zero is negative");
        break;
    default:
        buf_printf(b, "`%s` became **%s**: the result is too large for a double. ", name, r);
        break;
    }
    if (v->name)
        buf_printf(b, "That is `%s`, ", v->name);
    else
        buf_printf(b, "That is the %s gate, ", value_op_symbol[v->op]);
    buf_printf(b, "and every value computed from it inherits the problem. Press **R** to reset the inputs.");
}

bool lesson_explain_faults(const Graph *g, char *buf, size_t n)
{
    Buf b = {buf, n, 0};
    if (n)
        buf[0] = '\0';
    // Forward: the first visible node whose value broke while its sources were fine.
    for (size_t i = 0; i < g->n; i++) {
        const Value *v = g->nodes[i];
        if (!(v->mark & LESSON_SHOWN_VALUE) || isfinite(v->data))
            continue;
        bool sources_ok = true;
        for (int k = 0; k < 2 && v->src[k]; k++)
            sources_ok = sources_ok && isfinite(v->src[k]->data);
        if (!sources_ok)
            continue;
        buf_printf(&b, "**Numbers broke.** ");
        if (!v->src[0])
            buf_printf(&b, "The input `%s` is %s.", v->name ? v->name : "?", isnan(v->data) ? "NaN" : "infinite");
        else
            explain_value(v, &b);
        return true;
    }
    // Backward: the last (closest to the output) gate that turned a finite
    // upstream gradient into a non-finite contribution.
    for (size_t i = g->n; i-- > 0;) {
        const Value *v = g->nodes[i];
        if (!v->src[0] || !(v->mark & LESSON_SHOWN_VALUE) || !isfinite(v->grad))
            continue;
        for (int k = 0; k < 2 && v->src[k]; k++) {
            const Value *sv = v->src[k];
            if (!(sv->mark & LESSON_SHOWN_GRAD) || isfinite(sv->grad) || isfinite(v->local[k]))
                continue;
            char lbl[48], sl[48], loc[32], in[32], up[32];
            buf_printf(&b, "**The gradient broke.** At %s, the local derivative for `%s` is **%s** "
                       "(its input is %s), so %s × %s is not a number a step can use. "
                       "Functions like log, sqrt and division have no finite slope at 0.",
                       value_label(v, lbl, sizeof(lbl)), value_label(sv, sl, sizeof(sl)),
                       numfmt_short(loc, sizeof(loc), v->local[k], 4),
                       numfmt_short(in, sizeof(in), sv->data, 4), loc,
                       numfmt_short(up, sizeof(up), v->grad, 4));
            return true;
        }
    }
    return false;
}

bool lesson_check_run(const Lesson *l, const Graph *g, size_t i, double *got)
{
    const LessonCheck *c = &l->checks[i];
    size_t idx = program_binding_node(l->program, c->name);
    *got = NAN;
    if (idx >= g->n)
        return false;
    *got = c->grad ? g->nodes[idx]->grad : g->nodes[idx]->data;
    if (isnan(c->expected)) // `== nan` means "is NaN"
        return isnan(*got);
    if (isinf(c->expected))
        return *got == c->expected;
    double scale = fabs(c->expected) > 1 ? fabs(c->expected) : 1;
    return fabs(*got - c->expected) <= c->tol * scale;
}

char *lesson_check_describe(const Lesson *l, size_t i, char *buf, size_t n)
{
    const LessonCheck *c = &l->checks[i];
    char e[32];
    snprintf(buf, n, "%s%s == %s", c->grad ? "grad " : "", c->name, numfmt_exact(e, sizeof(e), c->expected));
    return buf;
}
