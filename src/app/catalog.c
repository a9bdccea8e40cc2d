// catalog.c: listing bundled lessons and resolving lesson arguments.
#include "app/catalog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef _WIN32
#include <stdlib.h>     // _fullpath
#else
#include <unistd.h>     // getcwd
#endif

#include "app/platform.h"


static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool push(Catalog *c, const char *path)
{
    char **p = realloc(c->paths, (c->n + 1) * sizeof(*p));
    if (!p)
        return false;
    c->paths = p;
    c->paths[c->n] = strdup(path);
    if (!c->paths[c->n])
        return false;
    c->n++;
    return true;
}

typedef struct ListCtx {
    Catalog *c;
    const char *dir;
} ListCtx;

static void add_listed(void *ctx, const char *name)
{
    ListCtx *lc = ctx;
    char path[4400];
    snprintf(path, sizeof(path), "%s/%s", lc->dir, name);
    push(lc->c, path);
}

// The bundled lessons, sorted.
static int list_bundled(Catalog *c)
{
    char data[4096];
    if (!platform_data_dir(data, sizeof(data))) {
        fprintf(stderr, "gradlab: error: cannot find gradlab's data folder; looked in %s\n", data);
        return 2;
    }
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/lessons", data);
    ListCtx lc = {c, dir};
    if (!platform_list_dir(dir, ".lesson", add_listed, &lc)) {
        fprintf(stderr, "gradlab: error: cannot list the bundled lessons in '%s'\n", dir);
        return 2;
    }
    if (c->n)
        qsort(c->paths, c->n, sizeof(*c->paths), cmp_str);
    return 0;
}

int catalog_resolve(Catalog *c, int nargs, char **args)
{
    c->paths = NULL;
    c->n = 0;
    Catalog bundled = {0};
    bool need_bundled = nargs == 0;
    for (int i = 0; i < nargs; i++)
        if (args[i][0] && strspn(args[i], "0123456789") == strlen(args[i]))
            need_bundled = true;
    if (need_bundled) {
        int rc = list_bundled(&bundled);
        if (rc) {
            catalog_free(&bundled);
            return rc;
        }
    }
    if (nargs == 0) {
        *c = bundled;
        return 0;
    }
    for (int i = 0; i < nargs; i++) {
        const char *a = args[i];
        if (a[0] && strspn(a, "0123456789") == strlen(a)) {
            long k = strlen(a) > 6 ? -1 : strtol(a, NULL, 10);
            if (k < 1 || (size_t)k > bundled.n) {
                fprintf(stderr, "gradlab: error: there is no lesson %s; the bundled lessons are "
                        "numbered 1 to %zu\n", a, bundled.n);
                catalog_free(&bundled);
                catalog_free(c);
                return 2;
            }
            push(c, bundled.paths[k - 1]);
        } else {
            push(c, a);
        }
    }
    catalog_free(&bundled);
    return 0;
}

void catalog_free(Catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->paths[i]);
    free(c->paths);
    c->paths = NULL;
    c->n = 0;
}

char *catalog_absolute(const char *path, char *buf, size_t n)
{
#ifdef _WIN32
    if (!_fullpath(buf, path, n))
        snprintf(buf, n, "%s", path);
#else
    char cwd[4096];
    if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        snprintf(buf, n, "%s", path);
    else
        snprintf(buf, n, "%s/%s", cwd, path);
#endif
    return buf;
}

bool catalog_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return strcmp(a, b) == 0;
}

char *catalog_stem(const char *path, char *buf, size_t n)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    snprintf(buf, n, "%s", base);
    size_t len = strlen(buf);
    if (len > 7 && strcmp(buf + len - 7, ".lesson") == 0)
        buf[len - 7] = '\0';
    return buf;
}
