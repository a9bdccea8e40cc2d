// textflow.c: word wrapping with bold and code runs; see textflow.h.
#include "views/textflow.h"

#include <stdbool.h>
#include <string.h>

typedef struct Flow {
    Scene *s;
    const TextStyle *st;
    float x0, x, y, w, bottom;
    float line_h;
    bool clipped;
    char run[1024];     // text of the current run (same font, same line)
    size_t run_len;
    float run_x;
    SceneFont run_font;
} Flow;

static Color font_color(const Flow *f, SceneFont font)
{
    return font == FONT_MONO ? f->st->code : f->st->text;
}

static void flush_run(Flow *f)
{
    if (f->run_len == 0)
        return;
    f->run[f->run_len] = '\0';
    if (!f->clipped) {
        SceneRef it = scene_text(f->s, f->run_x, f->y, f->run_font, f->st->size, ALIGN_LEFT,
                                 font_color(f, f->run_font), f->run);
        if (f->st->id)
            scene_tag(f->s, it, f->st->id);
    }
    f->run_len = 0;
}

static void new_line(Flow *f, float indent)
{
    flush_run(f);
    f->y += f->line_h;
    f->x = f->x0 + indent;
    if (f->y + f->line_h > f->bottom + 0.5f)
        f->clipped = true;
}

// Place one word (no spaces) in font; space_before says whether a space
// separates it from the previous word on the line.
static void place_word(Flow *f, const char *word, size_t n, SceneFont font, bool space_before,
                       float indent)
{
    char buf[256];
    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    memcpy(buf, word, n);
    buf[n] = '\0';
    float ww = scene_text_width(f->s, font, f->st->size, buf);
    // A space takes the width of the font it will be drawn in: inside a run
    // of the same font it joins the run, otherwise it is a gap before it.
    SceneFont space_font = font == f->run_font && f->run_len ? font : FONT_REGULAR;
    float sw = space_before ? scene_text_width(f->s, space_font, f->st->size, " ") : 0;
    if (f->x > f->x0 + indent && f->x + sw + ww > f->x0 + f->w) {
        new_line(f, indent);
        sw = 0;
        space_before = false;
    }
    if (f->clipped)
        return;
    if (font != f->run_font || f->run_len == 0) {
        flush_run(f);
        f->run_font = font;
        f->run_x = f->x + sw;
    } else if (space_before && f->run_len + 1 < sizeof(f->run)) {
        f->run[f->run_len++] = ' ';
    }
    if (f->run_len + n < sizeof(f->run)) {
        memcpy(f->run + f->run_len, buf, n);
        f->run_len += n;
    }
    f->x += sw + ww;
}

float textflow(Scene *s, float x, float y, float w, float max_h, const TextStyle *st,
               const char *markup)
{
    Flow f = {.s = s, .st = st, .x0 = x, .x = x, .y = y, .w = w, .bottom = y + max_h,
              .line_h = scene_line_height(st->size)};
    bool bold = false, code = false, space = false, line_start = true;
    float indent = 0;
    const char *p = markup;
    while (*p) {
        if (line_start) {
            line_start = false;
            if (p[0] == '-' && p[1] == ' ') { // bullet
                indent = st->size * 1.2f;
                f.x = x;
                place_word(&f, "\u2022", strlen("\u2022"), FONT_REGULAR, false, 0);
                flush_run(&f);
                f.x = x + indent;
                p += 2;
                space = false;
                continue;
            }
        }
        if (*p == '\n') {
            if (p[1] == '\n') { // paragraph
                new_line(&f, 0);
                f.y += f.line_h * 0.45f;
                while (*p == '\n')
                    p++;
                indent = 0;
                line_start = true;
                space = false;
                continue;
            }
            if (p[1] == '-' && p[2] == ' ') { // next bullet
                new_line(&f, 0);
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
        place_word(&f, p, (size_t)(e - p), font, space, indent);
        space = false;
        p = e;
    }
    flush_run(&f);
    return f.y + f.line_h - y;
}
