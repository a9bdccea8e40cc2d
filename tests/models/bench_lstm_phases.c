// bench_lstm_phases.c: the LSTM step of bench_lstm_train_step (B = 32,
// T = 100, I = 2, H = 128) split into its forward and its backward, each
// timed alone over many repetitions, with the fraction of this core's FMA
// peak (measured in the same run) each one reaches. On a shared machine the
// other core's traffic through L3 and memory slows these kernels by 10 to
// 30 % from one run to the next, so besides the median this prints the
// 10th percentile and the fastest repetition: the closest this machine
// comes to running them alone. Times are the thread's CPU time.
//
// Flops as in bench_lstm_train_step (2 per multiply-add of the products):
//   forward   [x_t, h_{t-1}] (B, I + H) @ (I + H, 4H) for each step
//   backward  da_t (B, 4H) @ W_hh (4H, H) for each step, and the weight
//             gradients [x, h]^T (I + H, B T) @ da (B T, 4H)
//
// usage: bench_lstm_phases
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "models/lstm.h"
#include "models/rng.h"

enum { REPS = 120, WARM = 5 };

// Print NAME's min, p10 and median (sorts v) and its fraction of peak.
static void report(const char *name, double *v, int n, double flops, double peak)
{
    double med = bench_median(v, n);   // sorts v
    printf("%s_min %.3f ms\n", name, v[0]);
    printf("%s_p10 %.3f ms\n", name, v[n / 10]);
    printf("%s %.3f ms\n", name, med);
    if (peak > 0) {
        printf("%s_of_peak_min %.1f %%\n", name, 100.0 * flops / v[0] / 1e6 / peak);
        printf("%s_of_peak %.1f %%\n", name, 100.0 * flops / med / 1e6 / peak);
    }
}

int main(void)
{
    const int B = 32, T = 100, I = 2, H = 128;
    const double fwd_flops = 2.0 * B * T * (I + H) * 4 * H;
    const double bwd_flops = 2.0 * B * T * 4 * H * H + 2.0 * B * T * (I + H) * 4 * H;
    const char *isa;
    double peak = bench_fma_peak(&isa);
    Lstm *m = lstm_create(I, H);
    float *x = malloc(sizeof(float) * (size_t)B * T * I);
    float *dh = malloc(sizeof(float) * (size_t)B * H);
    double *fwd = malloc(REPS * sizeof(double)), *bwd = malloc(REPS * sizeof(double));
    if (!m || !x || !dh || !fwd || !bwd) {
        fprintf(stderr, "bench_lstm_phases: out of memory\n");
        return 1;
    }
    Pcg r;
    pcg_seed(&r, 1);
    lstm_init_uniform(m, &r);
    m->skip_dx = true;   // as in training: dx is not needed
    for (int i = 0; i < B * T * I; i++)
        x[i] = pcg_uniform(&r);
    for (int i = 0; i < B * H; i++)
        dh[i] = pcg_uniform(&r) - 0.5f;
    for (int i = 0; i < REPS + WARM; i++) {
        double t0 = bench_cpu_now();
        if (!lstm_forward(m, x, NULL, NULL, B, T)) {
            fprintf(stderr, "bench_lstm_phases: out of memory\n");
            return 1;
        }
        double t1 = bench_cpu_now();
        lstm_zero_grad(m);
        lstm_backward(m, NULL, dh, NULL);
        double t2 = bench_cpu_now();
        if (i >= WARM) {
            fwd[i - WARM] = 1e3 * (t1 - t0);
            bwd[i - WARM] = 1e3 * (t2 - t1);
        }
    }
    const char *path = m->fused_fwd ? "fused" : "generic";
    const char *isa2;
    double peak2 = bench_fma_peak(&isa2);
    peak = peak2 > peak ? peak2 : peak;
    printf("lstm_phases_path %s\n", path);
    if (peak > 0)
        printf("lstm_phases_fma_peak %.1f GFLOP/s (%s, this core, same run)\n", peak, isa);
    report("lstm_forward", fwd, REPS, fwd_flops, peak);
    report("lstm_backward", bwd, REPS, bwd_flops, peak);
    // fwd and bwd are sorted now: the fastest of each together.
    if (peak > 0)
        printf("lstm_fwd_bwd_of_peak_min %.1f %%\n",
               100.0 * (fwd_flops + bwd_flops) / (fwd[0] + bwd[0]) / 1e6 / peak);
    lstm_destroy(m);
    free(x);
    free(dh);
    free(fwd);
    free(bwd);
    return 0;
}
