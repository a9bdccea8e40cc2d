// numfmt.h: turning doubles into text, for machines and for people.
#ifndef GRADLAB_NUMFMT_H
#define GRADLAB_NUMFMT_H

#include <stdbool.h>
#include <stddef.h>

// The shortest decimal that reads back as exactly x: the fewest significant
// digits, written plainly when the decimal exponent is from -4 to 15 ("10",
// "-12", "0.1", "0.0001", "123456789.125") and as C's %e otherwise ("1e-05",
// "1e+16", "1e-300"), as Python's repr does. Non-finite values print as
// "nan", "inf", "-inf". buf needs 32 bytes. Returns buf.
char *numfmt_exact(char *buf, size_t n, double x);

// x rounded to at most sig significant digits for display, without trailing
// zeros ("-12", "0.731", "1.2e-05"); -0 prints as "0". Non-finite values
// print as "NaN", "+Inf", "-Inf" so a student sees them plainly. Returns buf.
char *numfmt_short(char *buf, size_t n, double x, int sig);

// Whether spec is a printf conversion for one double, without the '%':
// [flags -+ #0, 5 at most][width, 2 digits at most][.precision, 2 digits at most] and
// one of e f g E G (".3f", "+8.2e", "g"). What a lesson's {NAME:SPEC}
// placeholders take.
bool numfmt_spec_valid(const char *spec);

// x printed with spec (as numfmt_spec_valid accepts) into buf. false, buf
// untouched, when spec is not such a conversion.
bool numfmt_spec(char *buf, size_t n, const char *spec, double x);

#endif
