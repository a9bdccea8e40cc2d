// editor_view.h: the program editor the app opens with E. Three parts, none
// of them SDL:
//   - Editor, a text buffer with a caret that the app feeds keys and typed
//     text (editor_insert, editor_newline, editor_move, ...);
//   - editor_compile, which turns the text into a lesson: the program is
//     parsed with the same parser and messages as a lesson file, positions
//     counted in the editor's text ("<editor>:2:5: error: unknown name 'w'"),
//     then wrapped in a generated lesson
//         gradlab-lesson: 1
//         title: Your program
//         view: circuit
//         program:
//             <the text, indented>
//         step: auto
//     so it steps forward and backward like any lesson;
//   - editor_view_build, the overlay drawn over the lesson screen: a text
//     box with line numbers and the caret, and the messages of a failed
//     apply with the bad place marked in the box.
#ifndef GRADLAB_EDITOR_VIEW_H
#define GRADLAB_EDITOR_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "lessons/lesson.h"
#include "views/scene.h"
#include "views/theme.h"

#define EDITOR_FILE "<editor>"          // the file name in messages
#define EDITOR_TITLE "Your program"     // the generated lesson's title
#define EDITOR_MAX_BYTES 65536          // the most text the editor holds
#define EDITOR_ERROR_BYTES 4096

typedef struct Editor {
    char *text;             // UTF-8, '\n' line ends, NUL-terminated; owned
    size_t len, cap;
    size_t caret;           // byte offset into text, on a code point boundary
    size_t top;             // the first line shown (0-based); see editor_view_build
    char error[EDITOR_ERROR_BYTES]; // messages of the last failed compile, "" when none
    int error_line, error_col;      // where the first message points (from 1); 0 = nowhere in the text
} Editor;

// Start an editor holding text (NULL = empty), caret at the end. false when
// out of memory (the editor is then empty but usable). Free with editor_free.
bool editor_init(Editor *e, const char *text);

// Free the text. Safe on a zeroed Editor.
void editor_free(Editor *e);

// Replace the text (caret at the end, scrolled to the top, no error).
// false when out of memory or longer than EDITOR_MAX_BYTES (nothing changes).
bool editor_set_text(Editor *e, const char *text);

// Insert s at the caret and move the caret after it. A tab becomes four
// spaces, CR is dropped ("\r\n" pasted from elsewhere becomes "\n"), other
// control characters are dropped. false (nothing inserted) when the text
// would pass EDITOR_MAX_BYTES or memory runs out.
bool editor_insert(Editor *e, const char *s);

// Start a new line at the caret, indented like the caret's line (so a loop
// body keeps its indentation).
bool editor_newline(Editor *e);

// Delete the code point before the caret (backspace) or after it (delete).
void editor_backspace(Editor *e);
void editor_delete(Editor *e);

typedef enum EditorMove {
    EDITOR_LEFT,
    EDITOR_RIGHT,
    EDITOR_UP,          // same column, or the line's end when it is shorter
    EDITOR_DOWN,
    EDITOR_LINE_START,  // first non-blank character, then column 1
    EDITOR_LINE_END,
    EDITOR_TEXT_START,
    EDITOR_TEXT_END,
} EditorMove;

void editor_move(Editor *e, EditorMove m);

// The caret's line and column, both from 1; columns count code points.
void editor_caret_position(const Editor *e, int *line, int *col);

// Put the caret at line, column (from 1, code points), clamped to the text.
void editor_set_caret(Editor *e, int line, int col);

// The text of a lesson whose program is program (each line indented by four
// spaces), as in the header comment. malloc'd; NULL when out of memory.
char *editor_lesson_text(const char *program);

// The program block of a lesson's source text, dedented: what E starts
// editing from. malloc'd ("" when there is none); NULL when out of memory.
char *editor_program_of(const char *lesson_src);

// Compile program into a lesson (see the header comment). On failure returns
// NULL, writes the messages (FILE:LINE:COL style, with the source line and a
// caret, positions in program) to err[0..errn) and the first one's position
// to *line, *col (0, 0 when it has none).
Lesson *editor_compile_text(const char *program, char *err, size_t errn, int *line, int *col);

// Compile the editor's text. On failure returns NULL, keeps the messages in
// e->error and moves the caret to the first error. On success clears them.
Lesson *editor_compile(Editor *e);

typedef struct EditorParams {
    const Editor *editor;
    const Theme *theme;
    float scale;            // user scale, as for the lesson view
} EditorParams;

// Append the editor overlay for a w x h screen to s, over what is already
// there (no scene_begin). The box shows the lines from editor->top on,
// moved as little as needed to keep the caret in view; the first line shown
// is returned (the caller stores it in editor->top for the next frame).
// Ids: "editor" (the panel), "editor-title", "editor-hint", "editor-line:K"
// (the text of line K, from 1), "editor-caret", "editor-more" (lines above
// or below the box), "editor-error" (each line of the messages; a message
// wraps at spaces, never cut), "editor-error-mark" (under the bad place,
// when it is shown).
size_t editor_view_build(Scene *s, const EditorParams *p, float w, float h);

#endif
