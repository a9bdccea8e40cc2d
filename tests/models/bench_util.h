// bench_util.h: small helpers shared by the model benchmarks: a monotonic
// clock, peak resident memory, and running a peer command with a clean
// environment to read the one number it prints.
#ifndef GRADLAB_BENCH_UTIL_H
#define GRADLAB_BENCH_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// The median of v[0..n) (sorts v). Other agents share this machine: the
// median of many short timings is far steadier than their mean.
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// CPU time of the calling thread, in seconds. Other agents share this
// machine's two cores: CPU time does not count the time spent waiting for
// them, so it is the figure that repeats. Peers are timed the same way.
static inline double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Peak resident set size of this process so far, in MB.
static inline double bench_peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

// Append s to buf[0..cap) as one single-quoted shell word.
static inline bool bench_quote(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    if (n + 2 >= cap)
        return false;
    buf[n++] = '\'';
    for (; *s; s++) {
        const char *piece = *s == '\'' ? "'\\''" : NULL;
        size_t len = piece ? 4 : 1;
        if (n + len + 2 >= cap)
            return false;
        if (piece)
            memcpy(buf + n, piece, 4);
        else
            buf[n] = *s;
        n += len;
    }
    buf[n++] = '\'';
    buf[n++] = ' ';
    buf[n] = '\0';
    return true;
}

// Run `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1
// OPENBLAS_NUM_THREADS=1 python script args...` (the variables are unset
// for this command only) and parse the last line starting with "RESULT "
// as a number. On failure prints "NAME skipped: REASON" and returns false.
static inline bool bench_peer(const char *name, const char *python, const char *script,
                              const char *arg, double *value)
{
    if (!python || !*python || !script || !*script) {
        printf("%s skipped: no python3 found at configure time\n", name);
        return false;
    }
    char cmd[8192] = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 "
                     "OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 ";
    if (!bench_quote(cmd, sizeof cmd, python) || !bench_quote(cmd, sizeof cmd, script) ||
        (arg && !bench_quote(cmd, sizeof cmd, arg))) {
        printf("%s skipped: paths too long\n", name);
        return false;
    }
    strncat(cmd, "2>&1", sizeof cmd - strlen(cmd) - 1);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p) {
        printf("%s skipped: cannot run %s\n", name, python);
        return false;
    }
    char line[512], last[512] = "";
    bool found = false;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "RESULT ", 7) == 0) {
            *value = strtod(line + 7, NULL);
            found = true;
        } else if (line[0]) {
            snprintf(last, sizeof last, "%s", line);
        }
    }
    int st = pclose(p);
    if (!found) {
        printf("%s skipped: %s (exit status %d)\n", name, last[0] ? last : "no result",
               st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : st);
        return false;
    }
    return true;
}

// The core's float32 FMA peak in GFLOP/s, measured: independent FMA chains
// on the widest vectors this CPU has (AVX-512, else AVX2 + FMA), timed on
// this thread's CPU clock, best of 7 short runs. *isa names the vectors.
// 0 where it cannot be measured (another architecture, -Dsimd=portable).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(GRADLAB_SIMD_PORTABLE)
#include <immintrin.h>
#define BENCH_PEAK_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
__attribute__((target("avx512f"), noinline)) static double bench_peak_avx512(long n, float seed)
{
    __m512 m = _mm512_set1_ps(0.9999f), k = _mm512_set1_ps(1e-4f), sum = _mm512_setzero_ps();
#define BENCH_INIT(i) __m512 r##i = _mm512_set1_ps(seed + (float)(i));
#define BENCH_STEP(i) r##i = _mm512_fmadd_ps(r##i, m, k);
#define BENCH_SUM(i) sum = _mm512_add_ps(sum, r##i);
    BENCH_PEAK_CHAINS(BENCH_INIT)
    double t0 = bench_cpu_now();
    for (long it = 0; it < n; it++) {
        BENCH_PEAK_CHAINS(BENCH_STEP)
    }
    double t = bench_cpu_now() - t0;
    BENCH_PEAK_CHAINS(BENCH_SUM)
    volatile float sink = _mm512_reduce_add_ps(sum);
    (void)sink;
    return 12.0 * 32.0 * (double)n / t / 1e9;
#undef BENCH_INIT
#undef BENCH_STEP
#undef BENCH_SUM
}
__attribute__((target("avx2,fma"), noinline)) static double bench_peak_avx2(long n, float seed)
{
    __m256 m = _mm256_set1_ps(0.9999f), k = _mm256_set1_ps(1e-4f), sum = _mm256_setzero_ps();
#define BENCH_INIT(i) __m256 r##i = _mm256_set1_ps(seed + (float)(i));
#define BENCH_STEP(i) r##i = _mm256_fmadd_ps(r##i, m, k);
#define BENCH_SUM(i) sum = _mm256_add_ps(sum, r##i);
    BENCH_PEAK_CHAINS(BENCH_INIT)
    double t0 = bench_cpu_now();
    for (long it = 0; it < n; it++) {
        BENCH_PEAK_CHAINS(BENCH_STEP)
    }
    double t = bench_cpu_now() - t0;
    BENCH_PEAK_CHAINS(BENCH_SUM)
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    volatile float sink = lanes[0];
    (void)sink;
    return 12.0 * 16.0 * (double)n / t / 1e9;
#undef BENCH_INIT
#undef BENCH_STEP
#undef BENCH_SUM
}

static inline double bench_fma_peak(const char **isa)
{
    double best = 0.0;
    bool avx512 = __builtin_cpu_supports("avx512f");
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    *isa = avx512 ? "avx512" : avx2 ? "avx2" : "none";
    for (int trial = 0; trial < 7 && (avx512 || avx2); trial++) {
        double g = avx512 ? bench_peak_avx512(4000000, (float)trial)
                          : bench_peak_avx2(8000000, (float)trial);
        best = g > best ? g : best;
    }
    return best;
}
#else
static inline double bench_fma_peak(const char **isa)
{
    *isa = "none";
    return 0.0;
}
#endif

#endif
