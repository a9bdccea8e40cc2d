// platform.c: data and config directories per operating system; see platform.h.
#include "app/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <SDL.h>

#include "config.h"
#include "engine/fileio.h"

#ifdef _WIN32
#include <direct.h>
#include <windows.h>
#define make_dir(p) _mkdir(p)
#else
#include <dirent.h>
#define make_dir(p) mkdir((p), 0755)
#endif

#include <errno.h>

bool platform_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool has_data(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/assets/fonts", dir);
    return platform_is_dir(p);
}

static bool same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

bool platform_data_dir(char *buf, size_t n)
{
    const char *env = getenv("GRADLAB_DATA_DIR");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        if (has_data(buf))
            return true;
        snprintf(buf, n, "GRADLAB_DATA_DIR=%s (it has no assets/fonts folder)", env);
        return false;
    }
    char *base = SDL_GetBasePath(); // the executable's folder, with a trailing separator
    char exe_dir[4096] = "";
    if (base) {
        snprintf(exe_dir, sizeof(exe_dir), "%s", base);
        SDL_free(base);
    }
    // Running from the build tree (build/src/cli/gradlab): use the sources.
    char build_cli[4096];
    snprintf(build_cli, sizeof(build_cli), "%s/src/cli", GRADLAB_BUILD_DIR);
    if (exe_dir[0] && same_dir(exe_dir, build_cli) && has_data(GRADLAB_SOURCE_DIR)) {
        snprintf(buf, n, "%s", GRADLAB_SOURCE_DIR);
        return true;
    }
    char rel[4096];
    snprintf(rel, sizeof(rel), "%s../share/gradlab", exe_dir);
    if (exe_dir[0] && has_data(rel)) {
        snprintf(buf, n, "%s", rel);
        return true;
    }
    if (has_data(GRADLAB_INSTALL_DATADIR)) {
        snprintf(buf, n, "%s", GRADLAB_INSTALL_DATADIR);
        return true;
    }
    snprintf(buf, n, "%s, %s and %s (set GRADLAB_DATA_DIR to the folder holding lessons/ and assets/)",
             rel, GRADLAB_INSTALL_DATADIR, GRADLAB_SOURCE_DIR);
    return false;
}

bool platform_config_dir(char *buf, size_t n)
{
#if defined(_WIN32)
    const char *appdata = getenv("APPDATA");
    if (!appdata)
        return false;
    snprintf(buf, n, "%s\\gradlab", appdata);
#elif defined(__APPLE__)
    const char *home = getenv("HOME");
    if (!home)
        return false;
    snprintf(buf, n, "%s/Library/Application Support/gradlab", home);
#else
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/') {
        make_dir(xdg);
        snprintf(buf, n, "%s/gradlab", xdg);
    } else if (home && *home) {
        char parent[4096];
        snprintf(parent, sizeof(parent), "%s/.config", home);
        make_dir(parent);
        snprintf(buf, n, "%s/gradlab", parent);
    } else {
        return false;
    }
#endif
    make_dir(buf);
    return platform_is_dir(buf);
}

bool platform_mkdir(const char *path, char *err, size_t errn)
{
#ifdef _WIN32
    if (make_dir(path) == 0)
        return true;
    int e = errno; // before platform_is_dir's stat can replace it
    if (e == EEXIST && platform_is_dir(path))
        return true;
    if (e == EEXIST)
        snprintf(err, errn, "cannot create '%s': it exists and is not a folder", path);
    else
        snprintf(err, errn, "cannot create '%s': %s", path, strerror(e));
    return false;
#else
    // The engine's one implementation: errno kept from the failing call,
    // and a file, a dangling symlink or a non-folder parent named as such.
    return file_make_dir(path, false, err, errn);
#endif
}

bool platform_replace_file(const char *from, const char *to)
{
#ifdef _WIN32
    return MoveFileExA(from, to, MOVEFILE_REPLACE_EXISTING) != 0;
#else
    return rename(from, to) == 0;
#endif
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool platform_list_dir(const char *dir, const char *suffix, void (*fn)(void *ctx, const char *name),
                       void *ctx)
{
#ifdef _WIN32
    char pattern[4300];
    snprintf(pattern, sizeof(pattern), "%s\\*%s", dir, suffix);
    WIN32_FIND_DATAA fd;
    HANDLE h = FindFirstFileA(pattern, &fd);
    if (h == INVALID_HANDLE_VALUE)
        return false;
    do {
        if (fd.cFileName[0] != '.' && ends_with(fd.cFileName, suffix))
            fn(ctx, fd.cFileName);
    } while (FindNextFileA(h, &fd));
    FindClose(h);
    return true;
#else
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && ends_with(e->d_name, suffix))
            fn(ctx, e->d_name);
    closedir(d);
    return true;
#endif
}

size_t platform_rss_bytes(void)
{
#if defined(__linux__)
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages_total = 0, pages_rss = 0;
    if (!f)
        return 0;
    int n = fscanf(f, "%lu %lu", &pages_total, &pages_rss);
    fclose(f);
    return n == 2 ? (size_t)pages_rss * 4096u : 0;
#else
    return 0;
#endif
}
