// catalog.h: which lesson files a command means. Bundled lessons are the
// *.lesson files in DATA_DIR/lessons, in file-name order; "3" means the
// third of them, anything else is a path.
#ifndef GRADLAB_CATALOG_H
#define GRADLAB_CATALOG_H

#include <stddef.h>

typedef struct Catalog {
    char **paths;   // owned, malloc'd
    size_t n;
} Catalog;

// Fill c with the bundled lessons, then with args resolved (when nargs > 0
// the bundled list is only used to resolve numbers, and c holds just the
// args). Returns 0, or 2 after printing an error (a number out of range, no
// data directory). Free with catalog_free.
int catalog_resolve(Catalog *c, int nargs, char **args);

// Free the paths. NULL is a no-op.
void catalog_free(Catalog *c);

// The file name without folder and ".lesson" ("01-circuit"), into buf.
char *catalog_stem(const char *path, char *buf, size_t n);

#endif
