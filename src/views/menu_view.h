// menu_view.h: the lesson menu, a grid of cards (number, title, steps),
// and the presenter-notes screen. Both are pure scene builders.
#ifndef GRADLAB_MENU_VIEW_H
#define GRADLAB_MENU_VIEW_H

#include <stddef.h>

#include "views/scene.h"
#include "views/theme.h"

typedef struct MenuEntry {
    const char *title;      // lesson title, or the file name when it does not load
    const char *file;       // file stem shown small ("01-circuit")
    size_t nsteps;          // 0 when the lesson does not load
} MenuEntry;

typedef struct MenuParams {
    const MenuEntry *entries;
    size_t n;
    size_t selected;        // highlighted card
    size_t current;         // the lesson that was open (marked), or SIZE_MAX
    const Theme *theme;
    float scale;
} MenuParams;

// Build the menu screen of size w x h (scene_begin is called here). Cards
// carry ids "card:K" (K from 0) for hit-testing; titles "card-title:K".
void menu_view_build(Scene *s, const MenuParams *p, float w, float h);

// How many cards fit in one row at width w (for arrow-key navigation).
size_t menu_view_columns(float w, float h, float scale);

typedef struct NotesParams {
    const char *lesson_title;
    size_t step, nsteps;
    const char *notes;          // the current step's notes ("" when none)
    const char *next_text;      // the next step's narrative, or NULL at the end
    double elapsed_s;           // since presenting started
    bool blanked;               // the audience's screen is blanked (B or .)
    const Theme *theme;
    float scale;
} NotesParams;

// Build the presenter-notes screen of size w x h. The box where the caller
// draws a preview of the next step is returned in preview[4] (x, y, w, h) and
// tagged "preview". Ids: "notes", "clock", "notes-step", and "notes-blank"
// (a banner saying that the audience sees a black screen) when blanked.
void notes_view_build(Scene *s, const NotesParams *p, float w, float h, float preview[4]);

#endif
