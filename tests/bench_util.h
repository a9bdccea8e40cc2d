// bench_util.h: the small helpers every benchmark program shares: clocks,
// a median sort, and a seeded generator so data and weights are the same in
// every run. Header-only (static functions); include it from a benchmark's
// .c file as "../bench_util.h".
#ifndef GRADLAB_BENCH_UTIL_H
#define GRADLAB_BENCH_UTIL_H

#include <math.h>
#include <time.h>

#define BENCH_PI 3.14159265358979323846

// Seconds on clock id (CLOCK_MONOTONIC for wall time, CLOCK_THREAD_CPUTIME_ID
// for this thread's CPU time, which other processes cannot inflate).
static inline double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// qsort comparator for doubles, ascending.
static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// xorshift64*, seeded with a fixed state: uniform in [0, 1).
static unsigned long long bench_rng_state = 0x9e3779b97f4a7c15ull;

static inline double uniform01(void)
{
    bench_rng_state ^= bench_rng_state >> 12;
    bench_rng_state ^= bench_rng_state << 25;
    bench_rng_state ^= bench_rng_state >> 27;
    return (double)((bench_rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

// A standard normal sample (Box-Muller).
static inline double gaussian(void)
{
    double u1 = uniform01(), u2 = uniform01();
    return sqrt(-2.0 * log(u1 < 1e-300 ? 1e-300 : u1)) * cos(2.0 * BENCH_PI * u2);
}

#endif
