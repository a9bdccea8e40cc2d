// progress.c: the training commands' clock and progress line; see progress.h.
#include "cli/progress.h"

#include <stdio.h>
#include <time.h>

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress(bool tty, long step, long steps, const char *label, double value, const char *unit,
                  double elapsed)
{
    if (tty) {
        enum { W = 30 };
        int fill = (int)(W * step / steps);
        char bar[W + 1];
        for (int i = 0; i < W; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[W] = '\0';
        fprintf(stderr, "\r[%s] %3d%% step %ld/%ld  %s %.4f%s  %.0fs ", bar, (int)(100 * step / steps),
                step, steps, label, value, unit, elapsed);
        if (step == steps)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "step %ld/%ld %s %.6f%s (%.1f s)\n", step, steps, label, value, unit, elapsed);
    }
    fflush(stderr);
}
