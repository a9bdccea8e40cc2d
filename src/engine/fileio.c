// fileio.c: bounded whole-file reads; see fileio.h.
#include "engine/fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *file_read_all(const char *path, size_t max_bytes, size_t *len, char *err, size_t errn)
{
    struct stat st;
#ifdef S_ISDIR
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
#else
    if (stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR) {
#endif
        snprintf(err, errn, "cannot read '%s': it is a directory", path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errn, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= max_bytes) {
                // Exactly at the limit is fine: only a byte more is too much.
                if (fgetc(f) == EOF && !ferror(f))
                    break;
                snprintf(err, errn, "'%s' is larger than %zu bytes, the limit", path, max_bytes);
                free(buf);
                fclose(f);
                return NULL;
            }
            cap = cap * 2 > max_bytes ? max_bytes : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errn, "cannot read '%s': %s", path, strerror(errno));
                free(buf);
                fclose(f);
                return NULL;
            }
            break;
        }
    }
    fclose(f);
    if (!buf) {
        snprintf(err, errn, "out of memory reading '%s'", path);
        return NULL;
    }
    // A file of exactly max_bytes is fine; one byte more was caught above
    // only if it arrived in the same read, so check once more.
    if (n > max_bytes) {
        snprintf(err, errn, "'%s' is larger than %zu bytes, the limit", path, max_bytes);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}
