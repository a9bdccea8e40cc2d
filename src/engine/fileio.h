// fileio.h: reading whole files with a size limit, and writing outputs
// safely, with a readable reason on failure. Used for programs, lessons and
// .npy files, all untrusted, and for every file the command line writes.
//
// Reading refuses anything that is not a regular file (a FIFO, a device, a
// socket) instead of blocking on it, and allocates by the file's size, never
// by the limit. Writing never follows a symlink and never leaves a
// half-written file under the final name:
//
//     char tmp[4096], why[256];
//     int fd = file_temp_open(path, tmp, sizeof tmp, why, sizeof why);
//     if (fd < 0) { fprintf(stderr, "gradlab: error: cannot write '%s': %s\n", path, why); ... }
//     ... write to fd and close it; on a failure file_temp_discard(tmp) ...
//     if (!file_temp_commit(tmp, path, why, sizeof why)) { ... }
#ifndef GRADLAB_FILEIO_H
#define GRADLAB_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

// Open path for reading without blocking, even on a FIFO or a device, and
// refuse anything that is not a regular file. Returns a descriptor in
// blocking mode (close it with close()) and stores the file's size in
// *size. On failure returns -1 and writes the reason, without the path, into
// why: "No such file or directory", "it is a directory", "it is not a
// regular file (a FIFO); save its contents to a file first".
int file_open_read(const char *path, long long *size, char *why, size_t whyn);

// Read the file at path into a new NUL-terminated buffer (free with free()).
// Stores its length in *len. On failure returns NULL and writes a sentence
// such as "cannot open 'x.lesson': No such file or directory" or
// "'big.lesson' is larger than 4194304 bytes, the limit" into err. Only
// regular files are read (see file_open_read); the buffer is sized by the
// file, never by max_bytes.
char *file_read_all(const char *path, size_t max_bytes, size_t *len, char *err, size_t errn);

// Create the folder path; with parents also every missing folder above it
// (as mkdir -p), without them the folder above must exist. A folder that is
// already there is fine. On failure returns false and writes a sentence
// naming path and the first cause into err: "cannot create 'a/b':
// Permission denied", "cannot create 'a/b/c': 'a/b' is not a folder",
// "cannot create 'a': it exists and is not a folder".
bool file_make_dir(const char *path, bool parents, char *err, size_t errn);

// Check, creating nothing, whether file_make_dir(path, parents) can succeed
// and files can then be written into path: every part of path that exists
// is a folder, and the deepest one that exists may be written to. Same
// sentences as file_make_dir, and "cannot write into 'a': Permission
// denied" for a folder that is there but read-only. (Permissions are only
// as good as access(2): root passes them all.)
bool file_check_dir(const char *path, bool parents, char *err, size_t errn);

// Start writing the file path: create a new, empty file in the same folder
// under a hidden temporary name (".NAME.tmp-…"), exclusively, so that no
// symlink or existing file is ever followed or truncated. Its name goes into
// tmp[0..tmpn). Returns a descriptor for writing, or -1 with the reason in
// why: "Permission denied", or "it is a folder" when path itself is a
// folder (the rename would fail). Callers print "cannot write 'PATH': WHY".
// Finish with file_temp_commit or file_temp_discard.
int file_temp_open(const char *path, char *tmp, size_t tmpn, char *why, size_t whyn);

// Rename the finished temporary file tmp over path. A symlink at path is
// replaced itself; the file it points to is left alone. On failure removes
// tmp and writes the reason into why.
bool file_temp_commit(const char *tmp, const char *path, char *why, size_t whyn);

// Remove an unfinished temporary file. NULL or an empty name is a no-op.
void file_temp_discard(const char *tmp);

// The same through stdio, for writers that print or hand a FILE on:
//
//     FILE *f = file_out_open(path, tmp, sizeof tmp, why, sizeof why);
//     if (!f) { ... "cannot write 'PATH': WHY" ... }
//     fprintf(f, ...);                                  // any number of writes
//     if (!file_out_close(f, tmp, path, why, sizeof why)) { ... same message ... }
//
// file_out_open: file_temp_open and a stream on it ("wb"); NULL with the
// reason in why, nothing left behind. file_out_close: flush and close f;
// when no write on it failed (ferror) and the close worked, rename tmp
// over path (file_temp_commit) and return true; otherwise remove tmp and
// return false with the reason in why. file_out_discard: close f and
// remove tmp, for a writer that gives up for a reason of its own.
FILE *file_out_open(const char *path, char *tmp, size_t tmpn, char *why, size_t whyn);
bool file_out_close(FILE *f, const char *tmp, const char *path, char *why, size_t whyn);
void file_out_discard(FILE *f, const char *tmp);

#endif
