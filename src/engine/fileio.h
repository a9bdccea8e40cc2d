// fileio.h: reading whole files with a size limit and a readable reason on
// failure. Used for programs, lessons and .npy files, all untrusted.
#ifndef GRADLAB_FILEIO_H
#define GRADLAB_FILEIO_H

#include <stddef.h>

// Read the file at path into a new NUL-terminated buffer (free with free()).
// Stores its length in *len. On failure returns NULL and writes a sentence
// such as "cannot open 'x.lesson': No such file or directory" or
// "'big.lesson' is larger than 4194304 bytes, the limit" into err.
char *file_read_all(const char *path, size_t max_bytes, size_t *len, char *err, size_t errn);

#endif
