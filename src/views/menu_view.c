// menu_view.c: the lesson grid and the presenter-notes screen; see menu_view.h.
#include "views/menu_view.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "views/lesson_view.h"
#include "views/textflow.h"

size_t menu_view_columns(float w, float h, float scale)
{
    float u = lesson_view_unit(w, h, scale);
    float card_w = 360 * u, gap = 24 * u, m = 48 * u;
    size_t cols = (size_t)floorf((w - 2 * m + gap) / (card_w + gap));
    return cols ? cols : 1;
}

void menu_view_build(Scene *s, const MenuParams *p, float w, float h)
{
    const Theme *t = p->theme;
    float u = lesson_view_unit(w, h, p->scale);
    scene_begin(s, w, h, t->background);
    float m = 48 * u, gap = 24 * u, card_w = 360 * u, card_h = 130 * u;
    scene_tag(s, scene_text(s, m, 28 * u, FONT_BOLD, 34 * u, ALIGN_LEFT, t->text, "gradlab lessons"), "title");
    scene_text(s, m, 76 * u, FONT_REGULAR, 17 * u, ALIGN_LEFT, t->muted,
               "Arrows choose, Enter opens, M or Esc returns to the lesson, Q quits. "
               "The green dot marks the lesson you had open.");
    size_t cols = menu_view_columns(w, h, p->scale);
    float grid_w = (float)cols * card_w + (float)(cols - 1) * gap;
    float x0 = (w - grid_w) / 2, y0 = 120 * u;
    for (size_t i = 0; i < p->n; i++) {
        const MenuEntry *e = &p->entries[i];
        float x = x0 + (float)(i % cols) * (card_w + gap);
        float y = y0 + (float)(i / cols) * (card_h + gap);
        if (y > h)
            break;
        bool sel = i == p->selected;
        char id[32], num[16], steps[48];
        snprintf(id, sizeof(id), "card:%zu", i);
        scene_tag(s, scene_panel(s, x, y, card_w, card_h, 12 * u, sel ? t->gate : t->panel,
                                 sel ? t->accent : t->panel_edge, (sel ? 3 : 1) * u), id);
        snprintf(num, sizeof(num), "%zu", i + 1);
        scene_text(s, x + 20 * u, y + 16 * u, FONT_BOLD, 30 * u, ALIGN_LEFT, t->accent, num);
        snprintf(id, sizeof(id), "card-title:%zu", i);
        TextStyle ts = {.size = 19 * u, .text = t->text, .code = t->accent, .id = id};
        char title[300];
        snprintf(title, sizeof(title), "**%s**", e->title);
        textflow(s, x + 70 * u, y + 20 * u, card_w - 90 * u, 52 * u, &ts, title);
        if (e->nsteps)
            snprintf(steps, sizeof(steps), "%zu steps", e->nsteps);
        else
            snprintf(steps, sizeof(steps), "does not load: see gradlab check");
        scene_text(s, x + 70 * u, y + card_h - 36 * u, FONT_REGULAR, 14 * u, ALIGN_LEFT,
                   e->nsteps ? t->muted : t->warn, steps);
        if (e->nsteps) // a broken card needs the room for its message
            scene_text(s, x + card_w - 16 * u, y + card_h - 36 * u, FONT_MONO, 13 * u, ALIGN_RIGHT, t->muted,
                       e->file);
        if (i == p->current)
            scene_circle(s, x + card_w - 22 * u, y + 22 * u, 6 * u, t->value);
    }
}

void notes_view_build(Scene *s, const NotesParams *p, float w, float h, float preview[4])
{
    const Theme *t = p->theme;
    float u = fminf(w / 960.0f, h / 600.0f) * (p->scale > 0 ? p->scale : 1);
    scene_begin(s, w, h, t->background);
    float m = 24 * u;
    char buf[160];
    int mins = (int)(p->elapsed_s / 60), secs = (int)fmod(p->elapsed_s, 60);
    snprintf(buf, sizeof(buf), "%02d:%02d", mins, secs);
    scene_tag(s, scene_text(s, w - m, m, FONT_MONO, 34 * u, ALIGN_RIGHT, t->accent, buf), "clock");
    scene_text(s, w - m, m + 44 * u, FONT_REGULAR, 13 * u, ALIGN_RIGHT, t->muted, "elapsed");
    scene_text(s, m, m, FONT_BOLD, 20 * u, ALIGN_LEFT, t->text, p->lesson_title);
    snprintf(buf, sizeof(buf), "Step %zu of %zu", p->step + 1, p->nsteps);
    scene_tag(s, scene_text(s, m, m + 30 * u, FONT_REGULAR, 16 * u, ALIGN_LEFT, t->muted, buf), "notes-step");

    float top = 124 * u, col = w * 0.5f;
    if (p->blanked) { // the presenter must not forget that the room sees nothing
        // A band across the window under the header, black like the blanked
        // screen and edged in the warning colour; the columns move down.
        float by = m + 66 * u, bh = 36 * u;
        scene_panel(s, m, by, w - 2 * m, bh, 8 * u, color_rgb(0x000000), t->warn, 2 * u);
        scene_tag(s, scene_text(s, w / 2, by + 8 * u, FONT_BOLD, 17 * u, ALIGN_CENTER, color_rgb(0xffffff),
                                "SCREEN BLANKED \u2014 the room sees black; B or . shows it again"),
                  "notes-blank");
        top += bh + 14 * u;
    }
    scene_text(s, m, top - 26 * u, FONT_BOLD, 14 * u, ALIGN_LEFT, t->accent, "NOTES");
    TextStyle ts = {.size = 22 * u, .text = t->text, .code = t->accent, .id = "notes"};
    const char *notes = p->notes && p->notes[0] ? p->notes : "No notes for this step.";
    textflow(s, m, top, col - 2 * m, h - top - m, &ts, notes);

    scene_text(s, col, top - 26 * u, FONT_BOLD, 14 * u, ALIGN_LEFT, t->accent, "NEXT");
    float pw = w - col - m, ph = pw * 9 / 16;
    preview[0] = col, preview[1] = top, preview[2] = pw, preview[3] = ph;
    scene_tag(s, scene_frame(s, col - 2 * u, top - 2 * u, pw + 4 * u, ph + 4 * u, 2 * u, t->panel_edge),
              "preview");
    if (!p->next_text) {
        scene_rect(s, col, top, pw, ph, 0, t->panel);
        scene_text(s, col + pw / 2, top + ph / 2 - 12 * u, FONT_REGULAR, 18 * u, ALIGN_CENTER, t->muted,
                   "end of the lesson");
    } else {
        TextStyle ns = {.size = 15 * u, .text = t->muted, .code = t->accent, .id = "next-text"};
        textflow(s, col, top + ph + 14 * u, pw, h - (top + ph + 14 * u) - m, &ns, p->next_text);
    }
}
