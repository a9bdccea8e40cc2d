// bench_lstm_train_step.c: one LSTM training step at B = 32, T = 100, I = 2,
// H = 128 (forward, backward, clipping, Adam) on the adding problem, in ms,
// with peak memory; then the same step in PyTorch (bench_lstm_torch.py) and
// the ratio. Times are medians over single steps of the thread's CPU time
// (the _wall line: of the wall clock), for gradlab and the peer alike.
//
// usage: bench_lstm_train_step [PYTHON PEER_SCRIPT]
#include <stdio.h>

#include "bench_util.h"
#include "models/adding.h"

int main(int argc, char **argv)
{
    AddingConfig c = adding_defaults(ADDING_LSTM);
    c.T = 100;
    c.batch = 32;
    c.hidden = 128;
    AddingTrainer *tr = adding_create(&c);
    if (!tr) {
        fprintf(stderr, "bench_lstm_train_step: out of memory\n");
        return 1;
    }
    for (int i = 0; i < 5; i++)
        adding_step(tr);
    enum { MAX_STEPS = 400 };
    double times[MAX_STEPS], walls[MAX_STEPS];
    int n = 0;
    double t0 = bench_now();
    while (n < 20 || (bench_now() - t0 < 4.0 && n < MAX_STEPS)) {
        double t = bench_now(), cpu = bench_cpu_now();
        adding_step(tr);
        times[n] = 1e3 * (bench_cpu_now() - cpu);
        walls[n++] = 1e3 * (bench_now() - t);
    }
    double ms = bench_median(times, n);
    printf("lstm_train_step %.3f ms\n", ms);
    printf("lstm_train_step_wall %.3f ms\n", bench_median(walls, n));
    printf("lstm_train_step_peak_rss %.1f MB\n", bench_peak_rss_mb());
    adding_destroy(tr);
    double peer;
    if (bench_peer("lstm_train_step_torch", argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL,
                   NULL, &peer)) {
        printf("lstm_train_step_torch %.3f ms\n", peer);
        printf("lstm_train_step_speedup %.2f x\n", peer / ms);
        printf("lstm_train_step_speedup_target 4 x\n");
    }
    return 0;
}
