// textflow.c: word wrapping with bold and code runs, shrinking and paging;
// see textflow.h.
//
// One pass lays the text out line by line and page by page: a line that
// would end below the box starts the next page at the top. Only the runs
// of the page asked for are appended, so measuring (how many pages, does it
// fit) is the same pass with nothing appended. The size is chosen by such
// passes: the style's size, then smaller steps down to the floor; the first
// size at which everything is on one page wins, else the floor, paged.
#include "views/textflow.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define SHRINK_STEP 0.92f   // each size tried is this much smaller than the last
#define PARA_GAP 0.45f      // a paragraph break adds this many lines
#define CHUNK 200           // bytes of one word placed at a time (longer words are placed in pieces)

typedef struct Flow {
    Scene *s;           // where runs go; NULL while measuring
    const Scene *ms;    // the width measure
    const TextStyle *st;
    float size;
    float x0, x, y, w;  // y: the top of the current line
    float top, avail;   // a page's top, and the height its lines may take
    float line_h;
    int page, want;     // the current page; the one drawn (-1: none)
    int stop_page;      // stop when this page starts (INT_MAX: never)
    bool stopped;
    float used;         // bottom of the lowest line drawn, from top
    char run[1024];     // text of the current run (same font, same line)
    size_t run_len;
    float run_x;
    SceneFont run_font;
} Flow;

static Color font_color(const Flow *f, SceneFont font)
{
    return font == FONT_MONO ? f->st->code : f->st->text;
}

static float width(const Flow *f, SceneFont font, const char *str)
{
    return scene_text_width(f->ms, font, f->size, str);
}

static void flush_run(Flow *f)
{
    if (f->run_len == 0)
        return;
    f->run[f->run_len] = '\0';
    if (f->s && f->page == f->want) {
        SceneRef it = scene_text(f->s, f->run_x, f->y, f->run_font, f->size, ALIGN_LEFT,
                                 font_color(f, f->run_font), f->run);
        if (f->st->id)
            scene_tag(f->s, it, f->st->id);
        f->used = fmaxf(f->used, f->y + f->line_h - f->top);
    }
    f->run_len = 0;
}

static void next_page(Flow *f)
{
    f->page++;
    f->y = f->top;
    if (f->page >= f->stop_page)
        f->stopped = true;
}

// Line and paragraph breaks only move down; the next page starts when
// something is placed on a line that would end below the box (so trailing
// breaks make no empty page, and a paragraph's gap is dropped at a page's top).
static void new_line(Flow *f, float indent)
{
    flush_run(f);
    f->y += f->line_h;
    f->x = f->x0 + indent;
}

static void paragraph_gap(Flow *f)
{
    if (f->y > f->top)
        f->y += f->line_h * PARA_GAP;
}

// Append str (len bytes, one piece of a word) to the line at f->x; sw is
// the width of the space before it (0: none).
static void append(Flow *f, const char *str, size_t len, float ww, SceneFont font, float sw)
{
    if (f->y > f->top && f->y + f->line_h > f->top + f->avail + 0.5f)
        next_page(f); // (the run was flushed by the line break that got here)
    if (font != f->run_font || f->run_len == 0 || f->run_len + len + 2 >= sizeof(f->run)) {
        flush_run(f);
        f->run_font = font;
        f->run_x = f->x + sw;
    } else if (sw > 0) {
        f->run[f->run_len++] = ' ';
    }
    memcpy(f->run + f->run_len, str, len);
    f->run_len += len;
    f->x += sw + ww;
}

// The byte length of the longest prefix of buf[0..n) made of whole UTF-8
// characters (at least one) that is at most room wide.
static size_t fitting_prefix(const Flow *f, char *buf, size_t n, SceneFont font, float room)
{
    size_t starts[CHUNK + 1], nb = 0;
    for (size_t i = 1; i <= n; i++)
        if (i == n || ((unsigned char)buf[i] & 0xC0) != 0x80)
            starts[nb++] = i; // ends of characters
    size_t lo = 0, hi = nb; // starts[lo] is known to be kept; none past hi fits
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        char c = buf[starts[mid]];
        buf[starts[mid]] = '\0';
        bool fits = width(f, font, buf) <= room;
        buf[starts[mid]] = c;
        if (fits)
            lo = mid;
        else
            hi = mid;
    }
    return starts[lo];
}

// Place one word (no spaces) in font; space_before says whether a space
// separates it from the previous word on the line. A word wider than the
// line is broken between characters.
static void place_word(Flow *f, const char *word, size_t n, SceneFont font, bool space_before, float indent)
{
    char buf[CHUNK + 4];
    while (n > 0 && !f->stopped) {
        size_t take = n;
        if (take > CHUNK) { // whole characters only
            take = CHUNK;
            while (take > 1 && ((unsigned char)word[take] & 0xC0) == 0x80)
                take--;
        }
        memcpy(buf, word, take);
        buf[take] = '\0';
        float ww = width(f, font, buf);
        // A space takes the width of the font it will be drawn in: inside a
        // run of the same font it joins the run, otherwise it is a gap before it.
        SceneFont space_font = font == f->run_font && f->run_len ? font : FONT_REGULAR;
        float sw = space_before ? scene_text_width(f->ms, space_font, f->size, " ") : 0;
        bool at_start = f->x <= f->x0 + indent + 0.01f;
        if (!at_start && f->x + sw + ww > f->x0 + f->w) {
            new_line(f, indent);
            space_before = false;
            continue;
        }
        if (at_start)
            sw = 0;
        if (ww > f->x0 + f->w - f->x - sw) { // wider than the whole line: a piece, then on
            take = fitting_prefix(f, buf, take, font, f->x0 + f->w - f->x - sw);
            buf[take] = '\0';
            append(f, buf, take, width(f, font, buf), font, sw);
            new_line(f, indent);
        } else {
            append(f, buf, take, ww, font, sw);
        }
        word += take;
        n -= take;
        space_before = false;
    }
}

// Lay out markup; f is set up by the caller.
static void flow(Flow *f, const char *markup)
{
    bool bold = false, code = false, space = false, line_start = true;
    float indent = 0;
    const char *p = markup ? markup : "";
    float bullet = f->size * 1.2f;
    while (*p && !f->stopped) {
        if (line_start) {
            line_start = false;
            if (p[0] == '-' && p[1] == ' ') { // bullet
                indent = bullet;
                f->x = f->x0;
                place_word(f, "\u2022", strlen("\u2022"), FONT_REGULAR, false, 0);
                flush_run(f);
                f->x = f->x0 + indent;
                p += 2;
                space = false;
                continue;
            }
        }
        if (*p == '\n') {
            if (p[1] == '\n') { // paragraph
                new_line(f, 0);
                paragraph_gap(f);
                while (*p == '\n')
                    p++;
                indent = 0;
                line_start = true;
                space = false;
                continue;
            }
            if (p[1] == '-' && p[2] == ' ') { // next bullet
                new_line(f, 0);
                p++;
                line_start = true;
                space = false;
                continue;
            }
            space = true;
            p++;
            continue;
        }
        if (*p == ' ' || *p == '\t') {
            space = true;
            p++;
            continue;
        }
        if (!code && p[0] == '*' && p[1] == '*') {
            bold = !bold;
            p += 2;
            continue;
        }
        if (*p == '`') {
            code = !code;
            p++;
            continue;
        }
        const char *e = p;
        while (*e && *e != ' ' && *e != '\t' && *e != '\n' && *e != '`' && !(e[0] == '*' && e[1] == '*' && !code))
            e++;
        SceneFont font = code ? FONT_MONO : bold ? FONT_BOLD : FONT_REGULAR;
        place_word(f, p, (size_t)(e - p), font, space, indent);
        space = false;
        p = e;
    }
    flush_run(f);
}

static Flow flow_start(Scene *s, const Scene *ms, const TextStyle *st, float size, float x, float y, float w,
                       float avail, int want, int stop_page)
{
    return (Flow){.s = s, .ms = ms, .st = st, .size = size, .x0 = x, .x = x, .y = y, .w = w, .top = y,
                  .avail = avail, .line_h = scene_line_height(size), .want = want, .stop_page = stop_page};
}

// The pages markup takes at size in w x avail, counted up to stop + 1
// (more than stop).
static int count_pages(const Scene *ms, const TextStyle *st, float size, float w, float avail, const char *markup,
                       int stop)
{
    Flow f = flow_start(NULL, ms, st, size, 0, 0, w, avail, -1, stop);
    flow(&f, markup);
    return f.page + 1;
}

// The size text is drawn at, and whether it pages there.
typedef struct Fit {
    float size;
    bool paged;
    float mark_size, avail;     // paged: the mark's size and the lines' height
} Fit;

static Fit choose(const Scene *ms, float w, float max_h, const TextStyle *st, const char *markup)
{
    float size = st->size;
    float floor_ = st->min_size > 0 ? fminf(st->min_size, size) : size * TEXTFLOW_MIN_FRACTION;
    floor_ = fminf(floor_, max_h / scene_line_height(1)); // one line fits at least
    Fit fit = {.size = size, .avail = max_h};
    if (count_pages(ms, st, size, w, max_h, markup, 1) == 1 || floor_ <= 0)
        return fit;
    for (float s2 = size * SHRINK_STEP; s2 > floor_; s2 *= SHRINK_STEP)
        if (count_pages(ms, st, s2, w, max_h, markup, 1) == 1) {
            fit.size = s2;
            return fit;
        }
    fit.size = floor_;
    if (count_pages(ms, st, floor_, w, max_h, markup, 1) == 1)
        return fit;
    fit.paged = true;
    fit.mark_size = floor_ * 0.9f;
    fit.avail = fmaxf(max_h - scene_line_height(fit.mark_size), scene_line_height(floor_));
    return fit;
}

// A Scene that measures with the built-in estimate, without allocating.
static const Scene *measure_of(const Scene *s, Scene *tmp)
{
    if (s)
        return s;
    memset(tmp, 0, sizeof(*tmp));
    scene_set_measure(tmp, NULL, NULL);
    return tmp;
}

TextFlowInfo textflow_draw(Scene *s, float x, float y, float w, float max_h, const TextStyle *st,
                           const char *markup)
{
    Fit fit = choose(s, w, max_h, st, markup);
    int want = fit.paged && st->page > 0 ? st->page : 0;
    Flow f = flow_start(s, s, st, fit.size, x, y, w, fit.avail, want, INT_MAX);
    flow(&f, markup);
    int npages = f.page + 1;
    if (want >= npages) { // past the end: the last page (nothing was drawn)
        want = npages - 1;
        f = flow_start(s, s, st, fit.size, x, y, w, fit.avail, want, INT_MAX);
        flow(&f, markup);
    }
    TextFlowInfo info = {.height = fit.paged ? max_h : f.used > 0 ? f.used : f.line_h, .size = fit.size,
                         .page = want, .npages = npages};
    if (npages > 1) {
        char mark[64], id[128];
        snprintf(mark, sizeof(mark), "%s%d/%d%s", want > 0 ? "\u25c2 " : "", want + 1, npages,
                 want + 1 < npages ? " \u25b8" : "");
        snprintf(id, sizeof(id), "%.100s:page", st->id ? st->id : "textflow");
        scene_tag(s, scene_text(s, x + w, y + max_h - scene_line_height(fit.mark_size), FONT_BOLD, fit.mark_size,
                                ALIGN_RIGHT, st->code, mark), id);
    }
    return info;
}

float textflow(Scene *s, float x, float y, float w, float max_h, const TextStyle *st,
               const char *markup)
{
    return textflow_draw(s, x, y, w, max_h, st, markup).height;
}

int textflow_pages(const Scene *s, float w, float max_h, const TextStyle *st, const char *markup)
{
    Scene tmp;
    const Scene *ms = measure_of(s, &tmp);
    Fit fit = choose(ms, w, max_h, st, markup);
    return fit.paged ? count_pages(ms, st, fit.size, w, fit.avail, markup, INT_MAX) : 1;
}

bool textflow_fits(const Scene *s, float w, float max_h, float size, const char *markup)
{
    Scene tmp;
    TextStyle st = {.size = size};
    return count_pages(measure_of(s, &tmp), &st, size, w, max_h, markup, 1) == 1;
}
