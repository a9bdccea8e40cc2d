// cmd_train.c: `gradlab train adding`, training an LSTM, a tanh RNN or an
// IRNN on the adding problem from the command line (models/adding.h), with
// a progress bar on stderr when it is a terminal and plain lines otherwise.
// Everything printed on stdout follows from the flags alone, so two runs with
// the same seed print the same bytes; the wall time goes to stderr.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "models/adding.h"

static const char usage[] =
    "usage: gradlab train adding --model lstm|rnn|irnn --T N [--steps N] [--batch N]\n"
    "                            [--lr X] [--hidden N] [--seed N] [--clip X]\n"
    "       gradlab train charrnn [--text FILE] [--steps N] ...  (see gradlab train charrnn --help)\n"
    "       gradlab train steering --model cnn|cnn-lstm [--steps N] [--seed N]\n"
    "                            (see gradlab train steering --help)\n"
    "       gradlab train transfer [--examples N] [--frozen N] [--world day|night] [--pretrain --out DIR]\n"
    "                            (see gradlab train transfer --help)\n"
    "\n"
    "Train on the adding problem (Le, Jaitly and Hinton 2015): T steps of a value\n"
    "from U[0,1] and a marker; the target is the sum of the two marked values.\n"
    "Always predicting 1 scores MSE 1/6 = 0.167; a model that learned the task\n"
    "goes far below. Adam, clipping by global norm, a linear read-out of h_T.\n"
    "\n"
    "  --model M    lstm, rnn (tanh, PyTorch's init) or irnn (relu, W_hh = I)\n"
    "  --T N        sequence length, 2 to 100000, within the limits below\n"
    "  --steps N    training steps, 1 to 1000000 (default 2500)\n"
    "  --batch N    sequences per step, 1 to 4096 (default 32)\n"
    "  --lr X       Adam's learning rate (default: lstm 1e-2, rnn 1e-3, irnn 1e-4)\n"
    "  --hidden N   hidden units, 1 to 4096 (default 64)\n"
    "  --seed N     weights and data follow from it (default 1); same seed, same run\n"
    "  --clip X     clip the gradient's global norm at X, 0 for none (default 1)\n"
    "\n"
    "Limits, checked before anything runs:\n"
    "  memory   all buffers within 512 MB: about batch x T x (14 x hidden + 4)\n"
    "           floats for the lstm and batch x T x (8 x hidden + 4) for the rnns\n"
    "  work     at most 2^39 = 5.5e11 multiply-adds in the whole run, counted as\n"
    "           T x (G x hidden x (hidden + 2) x (3 x batch x steps + 1024)\n"
    "                + 4096 x (3 x steps + 1024 / batch)), G 4 for the lstm, 1 for\n"
    "           the rnns (1024 test sequences; 4096 for each pass's fixed costs)\n"
    "The default lstm run (T 100) counts 4.1e11: 14 s to a minute on two cores. At\n"
    "the other defaults the lstm goes up to T 133 and the rnns up to T 524; T 100000\n"
    "needs small sizes, e.g. --batch 8 --hidden 8 --steps 100. Sizes past a limit\n"
    "are refused with the sizes that fit.\n";

int cmd_train(int argc, char **argv)
{
    static const char *const tasks[] = {"adding", "charrnn"};
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "steering") == 0)
        return cmd_train_steering(argc, argv);
    if (strcmp(argv[1], "transfer") == 0)
        return cmd_train_transfer(argc, argv);
    int task;
    if (!arg_choice("train", argv[1], tasks, 2, &task))
        return 2;
    if (task == 1)
        return cmd_train_charrnn(argc - 1, argv + 1);
    int model = -1;
    long T = -1, steps = -1, batch = -1, hidden = -1, seed = -1;
    double lr = -1, clip = -1;
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        const char *v = NULL;
        bool known = true, ok = true;
        if (strcmp(f, "--model") == 0)
            ok = (v = arg_value(argc, argv, &i)) &&
                 arg_choice(f, v, adding_model_names, ADDING_MODEL_COUNT, &model);
        else if (strcmp(f, "--T") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 2, MODEL_MAX_STEPS, &T);
        else if (strcmp(f, "--steps") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, ADDING_MAX_STEPS, &steps);
        else if (strcmp(f, "--batch") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, ADDING_MAX_BATCH, &batch);
        else if (strcmp(f, "--hidden") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, MODEL_MAX_HIDDEN, &hidden);
        else if (strcmp(f, "--seed") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 0, 2147483647L, &seed);
        else if (strcmp(f, "--lr") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_double(f, v, 1e-9, 10.0, &lr);
        else if (strcmp(f, "--clip") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_double(f, v, 0.0, 1e6, &clip);
        else
            known = false;
        if (!known) {
            fprintf(stderr, "gradlab: error: train: unknown option '%.60s'; see gradlab train --help\n", f);
            return 2;
        }
        if (!ok)
            return 2;
    }
    if (model < 0 || T < 0) {
        fprintf(stderr, "gradlab: error: train: %s is required; see gradlab train --help\n",
                model < 0 ? "--model" : "--T");
        return 2;
    }
    AddingConfig c = adding_defaults((AddingModel)model);
    c.T = (int)T;
    if (steps > 0)
        c.steps = (int)steps;
    if (batch > 0)
        c.batch = (int)batch;
    if (hidden > 0)
        c.hidden = (int)hidden;
    if (seed >= 0)
        c.seed = (uint64_t)seed;
    if (lr > 0)
        c.lr = (float)lr;
    if (clip >= 0)
        c.clip = (float)clip;
    char err[300];
    if (!adding_check(&c, err, sizeof err)) {
        fprintf(stderr, "gradlab: error: train: %s\n", err);
        return 2;
    }
    AddingTrainer *tr = adding_create(&c);
    if (!tr) {
        fprintf(stderr, "gradlab: error: train: out of memory\n");
        return 1;
    }
    printf("adding problem: %s, T %d, hidden %d, batch %d, %d steps, adam lr %g, clip %g, seed %llu\n",
           adding_model_names[model], c.T, c.hidden, c.batch, c.steps, (double)c.lr, (double)c.clip,
           (unsigned long long)c.seed);
    fflush(stdout);
    bool tty = isatty(fileno(stderr));
    double t0 = cli_now(), last_print = 0.0, avg = NAN;
    long every = c.steps / 20 > 0 ? c.steps / 20 : 1;
    for (long s = 1; s <= c.steps; s++) {
        double mse = adding_step(tr);
        avg = isnan(avg) ? mse : 0.95 * avg + 0.05 * mse;
        double el = cli_now() - t0;
        if (tty ? (el - last_print > 0.2 || s == c.steps) : (s % every == 0 || s == c.steps)) {
            cli_progress(tty, s, c.steps, "train mse", avg, "", el);
            last_print = el;
        }
    }
    double train_time = cli_now() - t0;
    double test = adding_test_mse(tr);
    printf("test mse: %.6f on %d sequences\n", test, c.test_size);
    printf("baseline mse: %.6f (always predicting 1)\n", ADDING_BASELINE_MSE);
    printf("%s\n", test < 0.01 ? "solved (test mse < 0.01)"
                   : test < ADDING_BASELINE_MSE * 0.9 ? "learning, not solved (test mse >= 0.01)"
                                                       : "not learned (no better than the baseline)");
    fprintf(stderr, "time: %.1f s training, %.2f ms per step\n", train_time,
            1e3 * train_time / c.steps);
    adding_destroy(tr);
    return 0;
}
