// platform.h: the few things that differ between Linux, macOS and Windows:
// where gradlab's data (lessons/, assets/) and its settings live.
#ifndef GRADLAB_PLATFORM_H
#define GRADLAB_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

// Find the data directory (the folder holding lessons/ and assets/), in order:
//   1. $GRADLAB_DATA_DIR;
//   2. the source tree, when running the binary from its build tree;
//   3. EXE_DIR/../share/gradlab (a relocated install);
//   4. the configured install path (PREFIX/share/gradlab).
// Writes it to buf and returns true, or returns false and writes every
// place tried into buf.
bool platform_data_dir(char *buf, size_t n);

// The directory for settings: $XDG_CONFIG_HOME/gradlab or ~/.config/gradlab
// (Linux), ~/Library/Application Support/gradlab (macOS), %APPDATA%\gradlab
// (Windows). Created if missing. false when there is no home directory.
bool platform_config_dir(char *buf, size_t n);

// Does path exist and is it a directory?
bool platform_is_dir(const char *path);

// Create the directory path (one level; its parent must exist). true when
// it is a folder afterwards, also when it was one already; otherwise false
// with a sentence naming path in err: "cannot create 'out': it exists and
// is not a folder", "cannot create 'a/b': 'a' is not a folder", "cannot
// create 'out': Permission denied" (the reason of mkdir itself).
bool platform_mkdir(const char *path, char *err, size_t errn);

// Replace the file to with from (rename over an existing file, which plain
// rename() does not do on Windows). false on failure.
bool platform_replace_file(const char *from, const char *to);

// Call fn(ctx, name) for each entry of dir whose name ends with suffix (not
// starting with '.'), in no particular order. false when dir cannot be read.
bool platform_list_dir(const char *dir, const char *suffix, void (*fn)(void *ctx, const char *name),
                       void *ctx);

// The process's resident memory in bytes, or 0 where it cannot be read.
size_t platform_rss_bytes(void);

#endif
