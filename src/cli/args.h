// args.h: parsing numbers and sizes from the command line, with messages
// that name the flag, show what was typed and say what would be accepted.
//
// Every parser prints "gradlab: error: ..." on stderr and returns false on
// bad input; the caller then exits with status 2.
#ifndef GRADLAB_ARGS_H
#define GRADLAB_ARGS_H

#include <stdbool.h>

// A whole number in [min, max], decimal, optional sign, nothing trailing.
bool arg_long(const char *flag, const char *text, long min, long max, long *out);

// A finite number in [min, max] ("1e-3", "0.5"); NaN and Inf are refused.
bool arg_double(const char *flag, const char *text, double min, double max, double *out);

// A size "WxH" with each side in [min, max].
bool arg_size(const char *flag, const char *text, int min, int max, int *w, int *h);

// One of choices[0..n) (exact match). Stores its index.
bool arg_choice(const char *flag, const char *text, const char *const *choices, int n, int *out);

// The value after a flag: argv[*i + 1], advancing *i. Prints an error and
// returns NULL when it is missing.
const char *arg_value(int argc, char **argv, int *i);

#endif
