// fuzz_npy.c: libFuzzer target for the .npy reader (engine/npy/npy.h).
// Parses the input as an .npy image; when it loads, checks that the shape
// multiplies out to count and touches every element (so ASan sees a short
// buffer), then frees it.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/npy/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Npy a;
    char err[NPY_ERR_MAX];
    memset(&a, 0xAB, sizeof a);   // the loader must not rely on a zeroed Npy
    if (npy_parse("fuzz.npy", data, size, &a, err, sizeof err)) {
        // The product of the shape without overflowing: a zero anywhere
        // makes it 0 (a (5495, 172777, ..., 0) array is legal and empty),
        // otherwise it must stay within NPY_MAX_ELEMENTS at every step.
        int64_t count = 1;
        if (a.ndim < 0 || a.ndim > NPY_MAX_DIMS)
            abort();
        bool empty = false;
        for (int i = 0; i < a.ndim; i++) {
            if (a.shape[i] < 0)
                abort();
            empty = empty || a.shape[i] == 0;
        }
        for (int i = 0; i < a.ndim && !empty; i++) {
            if (a.shape[i] > NPY_MAX_ELEMENTS / count)
                abort(); // the loader accepted more elements than its cap
            count *= a.shape[i];
        }
        if (empty)
            count = 0;
        if (count != a.count || count > NPY_MAX_ELEMENTS || (count > 0 && !a.data))
            abort();
        volatile float sum = 0;
        for (int64_t i = 0; i < count; i++)
            sum += a.data[i];
        (void)sum;
        npy_free(&a);
        npy_free(&a);   // freeing twice is a no-op by contract
    } else {
        if (a.data != NULL || err[0] == '\0' || !memchr(err, '\0', sizeof err))
            abort();
        if (strncmp(err, "fuzz.npy: error: ", 17) != 0)
            abort();   // every message names the file
    }
    return 0;
}
