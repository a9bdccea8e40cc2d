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

#endif
