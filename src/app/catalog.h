// catalog.h: which lesson files a command means. Bundled lessons are the
// *.lesson files in DATA_DIR/lessons, in file-name order; "3" means the
// third of them, anything else is a path.
#ifndef GRADLAB_CATALOG_H
#define GRADLAB_CATALOG_H

#include <stdbool.h>
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

// path made absolute (from the current folder) into buf, so that it still
// names the same file when the app next starts elsewhere; path itself when
// that fails. Returns buf.
char *catalog_absolute(const char *path, char *buf, size_t n);

// Do a and b name the same file ("1", "lessons/01-circuit.lesson" and the
// bundled lesson's full path do)? Compares the files themselves when both
// exist, else the strings.
bool catalog_same_file(const char *a, const char *b);

#endif
