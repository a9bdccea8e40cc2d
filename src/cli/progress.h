// progress.h: what the `gradlab train` commands share while they train: a
// monotonic clock and the progress line on stderr.
#ifndef GRADLAB_CLI_PROGRESS_H
#define GRADLAB_CLI_PROGRESS_H

#include <stdbool.h>

// Seconds on a monotonic clock (CLOCK_MONOTONIC); only differences mean anything.
double cli_now(void);

// Report step of steps (1 <= step <= steps) on stderr, with the figure
// `label value unit` ("train mse 0.0123", "loss 1.85 per char"; unit may be
// "") and the seconds elapsed. On a terminal (tty) one line redrawn in place
// with a bar, ended by a newline at the last step; otherwise a line a call.
void cli_progress(bool tty, long step, long steps, const char *label, double value, const char *unit,
                  double elapsed);

#endif
