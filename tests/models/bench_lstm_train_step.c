// bench_lstm_train_step.c: one LSTM training step at B = 32, T = 100, I = 2,
// H = 128 (forward, backward, clipping, Adam) on the adding problem, in ms,
// with peak memory and the fraction of this core's FMA peak it runs at (the
// peak measured in the same run); then the same step in PyTorch
// (bench_lstm_torch.py) and the ratio. Times are medians over single steps
// of the thread's CPU time (the _wall line: of the wall clock), for gradlab
// and the peer alike.
//
// The step's work, counted as multiply-adds of its products (2 flops each;
// the pointwise work, the read-out and Adam come on top, uncounted):
//   forward   [x_t, h_{t-1}] (B, I + H) @ (I + H, 4H) for each step
//   backward  da_t (B, 4H) @ W_hh (4H, H) for each step (dx is not needed)
//   gradients [x, h]^T (I + H, B T) @ da (B T, 4H)
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
    const double B = c.batch, T = c.T, I = 2, H = c.hidden;
    const double flops = 2 * B * T * (I + H) * 4 * H * 2 + 2 * B * T * 4 * H * H;
    const char *isa;
    double peak = bench_fma_peak(&isa);
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
    double ms = bench_median(times, n);   // sorts times: times[0] is the fastest step
    const char *path = tr->lstm->fused_fwd ? "fused" : "generic";
    adding_destroy(tr);
    // The peak again after the steps: the better of the two.
    const char *isa2;
    double peak2 = bench_fma_peak(&isa2);
    peak = peak2 > peak ? peak2 : peak;
    printf("lstm_train_step %.3f ms\n", ms);
    printf("lstm_train_step_min %.3f ms (the fastest of %d steps)\n", times[0], n);
    printf("lstm_train_step_wall %.3f ms\n", bench_median(walls, n));
    printf("lstm_train_step_peak_rss %.1f MB\n", bench_peak_rss_mb());
    printf("lstm_train_step_gflop %.3f GFLOP (%s path)\n", flops / 1e9, path);
    printf("lstm_train_step_gflops %.1f GFLOP/s\n", flops / ms / 1e6);
    if (peak > 0) {
        printf("lstm_train_step_fma_peak %.1f GFLOP/s (%s, this core, same run)\n", peak, isa);
        printf("lstm_train_step_of_peak %.1f %%\n", 100.0 * flops / ms / 1e6 / peak);
        printf("lstm_train_step_of_peak_target 80 %%\n");
        printf("lstm_train_step_of_peak_min %.1f %% (the fastest step)\n",
               100.0 * flops / times[0] / 1e6 / peak);
    } else {
        printf("lstm_train_step_of_peak skipped: no FMA peak measured on this machine or build\n");
    }
    double peer;
    if (bench_peer("lstm_train_step_torch", argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL,
                   NULL, &peer)) {
        printf("lstm_train_step_torch %.3f ms\n", peer);
        printf("lstm_train_step_speedup %.2f x\n", peer / ms);
    }
    return 0;
}
