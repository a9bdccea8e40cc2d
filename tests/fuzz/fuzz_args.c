// fuzz_args.c: libFuzzer target for command-line number parsing (cli/args.h).
// The first byte picks a parser and its range; the rest, NUL-terminated, is
// the text typed after the flag. Checks that accepted values are in range.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

// The parsers print their complaints on stderr; keep libFuzzer's log
// readable (libFuzzer and the sanitizers keep their own handle to fd 2).
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!getenv("FUZZ_ARGS_VERBOSE")) {
        FILE *null = fopen("/dev/null", "w");
        if (null)
            stderr = null;
    }
    return 0;
}

static const long long_ranges[][2] = {
    {1, 1000000}, {0, 100}, {-5, 5}, {1, 100000000}, {0, 2147483647L}, {-2147483647L, 2147483647L},
};
static const double double_ranges[][2] = {{0.25, 4}, {0, 100}, {1e-9, 1e3}, {-1e300, 1e300}};
static const char *const choices[] = {"dark", "light", "contrast", "", "rnn", "lstm"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    unsigned sel = data[0];
    switch (sel % 4) {
    case 0: {
        const long *r = long_ranges[(sel / 4) % (sizeof long_ranges / sizeof long_ranges[0])];
        long v = 12345;
        if (arg_long("--n", text, r[0], r[1], &v) && (v < r[0] || v > r[1]))
            abort();
        break;
    }
    case 1: {
        const double *r = double_ranges[(sel / 4) % (sizeof double_ranges / sizeof double_ranges[0])];
        double v = 0;
        if (arg_double("--x", text, r[0], r[1], &v) && !(v >= r[0] && v <= r[1]))
            abort();
        break;
    }
    case 2: {
        int lo = (sel / 4) % 2 ? 1 : 64, hi = (sel / 4) % 2 ? 100000 : 7680;
        int w = -1, h = -1;
        if (arg_size("--size", text, lo, hi, &w, &h) && (w < lo || w > hi || h < lo || h > hi))
            abort();
        break;
    }
    default: {
        int n = 1 + (int)((sel / 4) % 6), idx = -1;
        if (arg_choice("--theme", text, choices, n, &idx) && (idx < 0 || idx >= n ||
                                                              strcmp(text, choices[idx]) != 0))
            abort();
        break;
    }
    }
    free(text);
    return 0;
}
