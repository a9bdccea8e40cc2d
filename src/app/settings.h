// settings.h: what the app remembers between runs (theme, scale, the last
// lesson and its step), in a small "key = value" text file in the config
// directory.
#ifndef GRADLAB_SETTINGS_H
#define GRADLAB_SETTINGS_H

#include <stdbool.h>

#include "views/theme.h"

typedef struct Settings {
    ThemeId theme;
    float scale;            // 0.5 .. 3
    char last_lesson[1024]; // path of the lesson open at exit (absolute when it could be), or ""
    long last_step;         // its step at exit, from 0
} Settings;

// Defaults: dark theme, scale 1, no last lesson, step 0.
void settings_default(Settings *s);

// Read path into s, starting from defaults. Unknown keys, bad values and
// overlong lines are ignored: a damaged file never stops the app. Returns
// false when the file does not exist or cannot be read.
bool settings_load(Settings *s, const char *path);

// Write s to path (via a temporary file and rename). false on failure.
bool settings_save(const Settings *s, const char *path);

// The settings file path (CONFIG_DIR/settings), or false when there is no
// config directory.
bool settings_path(char *buf, unsigned n);

#endif
