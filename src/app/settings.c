// settings.c: reading and writing the settings file; see settings.h.
#include "app/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/platform.h"

void settings_default(Settings *s)
{
    s->theme = THEME_DARK;
    s->scale = 1;
    s->last_lesson[0] = '\0';
    s->last_step = 0;
}

static char *trim(char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
        p[--n] = '\0';
    return p;
}

bool settings_load(Settings *s, const char *path)
{
    settings_default(s);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[1200];
    int lines = 0;
    while (fgets(line, sizeof(line), f) && lines++ < 100) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        char *key = trim(line), *val = trim(eq + 1);
        if (strcmp(key, "theme") == 0) {
            for (int i = 0; i < THEME_COUNT; i++)
                if (strcmp(val, theme_names[i]) == 0)
                    s->theme = (ThemeId)i;
        } else if (strcmp(key, "scale") == 0) {
            double v = strtod(val, NULL);
            if (v >= 0.5 && v <= 3)
                s->scale = (float)v;
        } else if (strcmp(key, "last_lesson") == 0 && strlen(val) < sizeof(s->last_lesson)) {
            strcpy(s->last_lesson, val);
        } else if (strcmp(key, "last_step") == 0) {
            char *end;
            long v = strtol(val, &end, 10);
            if (end != val && !*end && v >= 0 && v < 1000000)
                s->last_step = v;
        }
    }
    fclose(f);
    return true;
}

bool settings_save(const Settings *s, const char *path)
{
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return false;
    fprintf(f, "# gradlab settings, rewritten when the app quits\n");
    fprintf(f, "theme = %s\nscale = %.3g\nlast_lesson = %s\nlast_step = %ld\n", theme_names[s->theme],
            s->scale, s->last_lesson, s->last_step);
    bool ok = fclose(f) == 0;
    return ok && platform_replace_file(tmp, path);
}

bool settings_path(char *buf, unsigned n)
{
    char dir[1000];
    if (!platform_config_dir(dir, sizeof(dir)))
        return false;
    snprintf(buf, n, "%s/settings", dir);
    return true;
}
