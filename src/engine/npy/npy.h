// npy.h: reading and writing NumPy .npy files, the interchange format
// between gradlab and PyTorch/NumPy.
//
// Supported: format versions 1.0 and 2.0, little-endian float32 ('<f4') and
// float64 ('<f8', converted to float32 on load), C order, up to
// NPY_MAX_DIMS dimensions and NPY_MAX_ELEMENTS elements. Everything else is
// refused with a message that names the file and the reason:
//
//     x.npy: error: Fortran-order arrays are not supported; save with np.ascontiguousarray
//
// The files are untrusted input: every size in the header is checked
// against the limits and against the file's length before any allocation.
//
//     Npy a;
//     char err[NPY_ERR_MAX];
//     if (!npy_load("x.npy", &a, err, sizeof err)) { fprintf(stderr, "%s\n", err); ... }
//     ... a.data[i] for i < a.count, shape a.shape[0..a.ndim) ...
//     npy_free(&a);
#ifndef GRADLAB_NPY_H
#define GRADLAB_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NPY_MAX_DIMS 8
#define NPY_MAX_ELEMENTS ((int64_t)1 << 26)   // 64 Mi elements: 256 MB as float32
#define NPY_MAX_HEADER 65536                 // bytes of header text we accept
#define NPY_ERR_MAX 512                      // a buffer this size holds any message

typedef struct Npy {
    int ndim;                       // 0 for a scalar
    int64_t shape[NPY_MAX_DIMS];    // shape[0..ndim)
    int64_t count;                  // product of the shape (1 for a scalar)
    float *data;                    // count floats, C order, owned (malloc)
} Npy;

// Load path into *out. On success returns true and out->data must be freed
// with npy_free. On failure returns false, leaves *out empty (data NULL) and
// writes "PATH: error: REASON" into err[0..errlen).
bool npy_load(const char *path, Npy *out, char *err, size_t errlen);

// Parse an .npy image already in memory (buf[0..len)); name is used in
// messages only. Same contract as npy_load.
bool npy_parse(const char *name, const unsigned char *buf, size_t len, Npy *out,
               char *err, size_t errlen);

// Free the data of a loaded array and empty it. NULL or an empty Npy is a no-op.
void npy_free(Npy *a);

// Write data (count = product of shape[0..ndim)) as a version 1.0 '<f4' C-order
// file. The file is written under a temporary name in the same folder and
// renamed over path at the end, so a symlink at path is replaced, never
// followed, and a failed save leaves no partial file. Returns false and
// writes "PATH: error: REASON" into err on failure.
bool npy_save(const char *path, const float *data, int ndim, const int64_t *shape,
              char *err, size_t errlen);

// Write the same image to the open stream f (name is used in messages only)
// and flush it. For callers that create their output files up front, as
// `gradlab model` does before it computes. Same contract as npy_save.
bool npy_write(FILE *f, const char *name, const float *data, int ndim, const int64_t *shape,
               char *err, size_t errlen);

#endif
