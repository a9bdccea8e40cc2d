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
    // The fewest significant digits that read back as x, found in %e form
    // ("1e+01" for 10); then written plainly ("10", "0.001") when the decimal
    // exponent is from -4 to 15, as Python's repr does, else as "1e+300".
    char e[40];
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, x);
        if (strtod(e, NULL) == x)
            break;
    }
    snprintf(e, sizeof(e), "%.*e", prec - 1, x);
    const char *ep = strchr(e, 'e');
    int exp10 = ep ? atoi(ep + 1) : 0;
    if (exp10 >= -4 && exp10 < 16) {
        int decimals = prec - 1 - exp10;
        char plain[40];
        snprintf(plain, sizeof(plain), "%.*f", decimals > 0 ? decimals : 0, x);
        if (strtod(plain, NULL) == x) {
            snprintf(buf, n, "%s", plain);
            return buf;
        }
    }
    snprintf(buf, n, "%.*g", prec, x);
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

bool numfmt_spec_valid(const char *spec)
{
    const char *p = spec;
    for (int k = 0; k < 5 && *p && strchr("-+ #0", *p); k++)
        p++;
    for (int k = 0; k < 2 && *p >= '0' && *p <= '9'; k++)
        p++;
    if (*p == '.') {
        p++;
        for (int k = 0; k < 2 && *p >= '0' && *p <= '9'; k++)
            p++;
    }
    return *p && strchr("efgEG", *p) && p[1] == '\0';
}

bool numfmt_spec(char *buf, size_t n, const char *spec, double x)
{
    if (!numfmt_spec_valid(spec))
        return false;
    char fmt[16];   // at most "%" + 5 flags + 2 + "." + 2 + 1
    if (snprintf(fmt, sizeof(fmt), "%%%s", spec) >= (int)sizeof(fmt))
        return false;
    snprintf(buf, n, fmt, x);
    return true;
}
