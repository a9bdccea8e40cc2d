// cmd_train_steering.c: `gradlab train steering`, the two steering models
// of lesson 11 (models/steering.h) trained from the command line: the
// single-frame CNN, and for cnn-lstm that CNN's features fed to an LSTM.
// It prints the test MSE on held-out sequences with degraded frames. As for
// `train adding`, stdout follows from the flags alone (the same seed prints
// the same bytes); the progress and the wall time go to stderr.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "models/steering.h"

static const char usage[] =
    "usage: gradlab train steering --model cnn|cnn-lstm [--steps N] [--lstm-steps N] [--seed N]\n"
    "\n"
    "Steering through time (lesson 11). A seeded road of changing curvature seen\n"
    "as 64x32 grayscale frames; about 45% of the frames are degraded (a shadow,\n"
    "heavy noise, or dropped). The target is the steering angle at every frame.\n"
    "\n"
    "  --model M       cnn: one frame -> angle. cnn-lstm: the same CNN is trained\n"
    "                  first, then its features per frame feed an LSTM that\n"
    "                  predicts the angle sequence (the CNN's score is printed too)\n"
    "  --steps N       CNN training steps, 1 to 1000000 (default 200)\n"
    "  --lstm-steps N  LSTM training steps after them, 1 to 1000000 (default 200)\n"
    "  --seed N        weights, batches and test set follow from it (default 1)\n"
    "\n"
    "Each step is a fresh batch of 8 sequences of 16 frames; Adam. The test set\n"
    "is 64 held-out sequences (1024 frames). Always predicting 0 scores the\n"
    "variance of the angle, printed as the baseline.\n";

static void print_score(const char *name, SteerScore s)
{
    printf("%s test mse: %.6f (clean frames %.6f, degraded frames %.6f)\n", name, s.mse, s.clean, s.degraded);
}

int cmd_train_steering(int argc, char **argv)
{
    static const char *const models[] = {"cnn", "cnn-lstm"};
    int model = -1;
    long steps = -1, lstm_steps = -1, seed = -1;
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        const char *v = NULL;
        bool known = true, ok = true;
        if (strcmp(f, "--model") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_choice(f, v, models, 2, &model);
        else if (strcmp(f, "--steps") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, 1000000, &steps);
        else if (strcmp(f, "--lstm-steps") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, 1000000, &lstm_steps);
        else if (strcmp(f, "--seed") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 0, 2147483647L, &seed);
        else
            known = false;
        if (!known) {
            fprintf(stderr, "gradlab: error: train steering: unknown option '%.60s'; see gradlab train steering --help\n", f);
            return 2;
        }
        if (!ok)
            return 2;
    }
    if (model < 0) {
        fprintf(stderr, "gradlab: error: train steering: --model is required; see gradlab train steering --help\n");
        return 2;
    }
    SteerConfig c = steer_defaults();
    if (steps > 0)
        c.cnn_steps = (int)steps;
    if (lstm_steps > 0)
        c.lstm_steps = (int)lstm_steps;
    if (model == 0)
        c.lstm_steps = 0;
    if (seed >= 0)
        c.seed = (uint64_t)seed;
    SteerTrainer *tr = steer_create(&c);
    if (!tr) {
        fprintf(stderr, "gradlab: error: train steering: out of memory\n");
        return 1;
    }
    printf("steering: %s, %d x %d frames, T %d, batch %d, %d CNN steps", models[model], STEER_W, STEER_H, c.T,
           c.batch, c.cnn_steps);
    if (model == 1)
        printf(" + %d LSTM steps", c.lstm_steps);
    printf(", seed %llu\n", (unsigned long long)c.seed);
    fflush(stdout);
    bool tty = isatty(fileno(stderr));
    double t0 = cli_now(), last = 0;
    int total = c.cnn_steps + c.lstm_steps;
    while (steer_phase(tr) != STEER_DONE) {
        SteerPhase ph = steer_phase(tr);
        double mse = steer_step(tr);
        double el = cli_now() - t0;
        if ((tty && (el - last > 0.2 || tr->steps == total)) || (!tty && tr->steps % 100 == 0)) {
            fprintf(stderr, "%sstep %d/%d (%s) train mse %.4f  %.1f s%s", tty ? "\r" : "", tr->steps, total,
                    ph == STEER_TRAIN_CNN ? "cnn" : "lstm", mse, el, tty ? " " : "\n");
            last = el;
        }
    }
    if (tty)
        fputc('\n', stderr);
    double train_time = cli_now() - t0;
    double var = 0;
    size_t nt = (size_t)c.test_size * c.T;
    for (size_t i = 0; i < nt; i++)
        var += (double)tr->test_angles[i] * tr->test_angles[i];
    print_score("cnn", tr->test_cnn);
    if (model == 1) {
        print_score("cnn-lstm", tr->test_lstm);
        printf("ratio cnn-lstm / cnn: %.4f (lesson 11 checks < 0.7)\n", tr->test_lstm.mse / tr->test_cnn.mse);
    }
    printf("baseline mse: %.6f (always predicting 0)\n", var / (double)nt);
    fprintf(stderr, "time: %.1f s training (%.1f ms per step)\n", train_time, 1e3 * train_time / total);
    steer_destroy(tr);
    return 0;
}
