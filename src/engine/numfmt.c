// numfmt.c: round-trip and display formatting of doubles; see numfmt.h.
#include "engine/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *numfmt_exact(char *buf, size_t n, double x)
{
    if (isnan(x)) {
        snprintf(buf, n, "nan");
        return buf;
    }
    if (isinf(x)) {
        snprintf(buf, n, x > 0 ? "inf" : "-inf");
        return buf;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return buf;
    }
    return buf;
}

char *numfmt_short(char *buf, size_t n, double x, int sig)
{
    if (isnan(x)) {
        snprintf(buf, n, "NaN");
        return buf;
    }
    if (isinf(x)) {
        snprintf(buf, n, x > 0 ? "+Inf" : "-Inf");
        return buf;
    }
    if (x == 0)
        x = 0; // drop the sign of -0
    snprintf(buf, n, "%.*g", sig, x);
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, n, "0");
    return buf;
}
