// args.c: command-line number parsing with clear errors; see args.h.
#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/diag.h"

// Show at most 40 bytes of what the user typed, so a 1 MB argument does not
// flood the terminal.
static void print_bad(const char *flag, const char *text, const char *why)
{
    fprintf(stderr, "gradlab: error: %s: '%.40s%s' %s\n", flag, text,
            strlen(text) > 40 ? "..." : "", why);
}

bool arg_long(const char *flag, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || text[0] == ' ') {
        char why[128];
        snprintf(why, sizeof(why), "is not a whole number; use one from %ld to %ld", min, max);
        print_bad(flag, text, why);
        return false;
    }
    if (errno == ERANGE || v < min || v > max) {
        char why[128];
        snprintf(why, sizeof(why), "is out of range; use a number from %ld to %ld", min, max);
        print_bad(flag, text, why);
        return false;
    }
    *out = v;
    return true;
}

bool arg_double(const char *flag, const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || text[0] == ' ' || !isfinite(v)) {
        print_bad(flag, text, "is not a finite number; write it like 0.01 or 1e-3");
        return false;
    }
    if (v < min || v > max) {
        char why[128];
        snprintf(why, sizeof(why), "is out of range; use a number from %g to %g", min, max);
        print_bad(flag, text, why);
        return false;
    }
    *out = v;
    return true;
}

bool arg_size(const char *flag, const char *text, int min, int max, int *w, int *h)
{
    const char *x = strchr(text, 'x');
    char why[128];
    snprintf(why, sizeof(why), "is not a size; write WIDTHxHEIGHT such as 1280x720, each side from %d to %d",
             min, max);
    if (!x || x == text || x[1] == '\0' || strlen(text) > 32) {
        print_bad(flag, text, why);
        return false;
    }
    char left[33];
    memcpy(left, text, (size_t)(x - text));
    left[x - text] = '\0';
    char *end;
    errno = 0;
    long lw = strtol(left, &end, 10);
    bool ok = *end == '\0' && errno == 0 && left[0] >= '0' && left[0] <= '9';
    long lh = strtol(x + 1, &end, 10);
    ok = ok && *end == '\0' && errno == 0 && x[1] >= '0' && x[1] <= '9';
    if (!ok || lw < min || lw > max || lh < min || lh > max) {
        print_bad(flag, text, why);
        return false;
    }
    *w = (int)lw;
    *h = (int)lh;
    return true;
}

bool arg_choice(const char *flag, const char *text, const char *const *choices, int n, int *out)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(text, choices[i]) == 0) {
            *out = i;
            return true;
        }
    }
    char why[256];
    size_t len = (size_t)snprintf(why, sizeof(why), "is not one of");
    for (int i = 0; i < n && len < sizeof(why); i++)
        len += (size_t)snprintf(why + len, sizeof(why) - len, "%s%s", i ? ", " : " ", choices[i]);
    const char *guess = diag_suggest(text, choices, (size_t)n);
    if (guess && len < sizeof(why))
        snprintf(why + len, sizeof(why) - len, "; did you mean '%s'?", guess);
    print_bad(flag, text, why);
    return false;
}

const char *arg_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "gradlab: error: %s needs a value after it\n", argv[*i]);
        return NULL;
    }
    *i += 1;
    return argv[*i];
}
