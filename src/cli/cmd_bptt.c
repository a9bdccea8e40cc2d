// cmd_bptt.c: `gradlab bptt`, the norm of dL/dh_t at every step of one
// sequence (models/bptt.h): the data behind the vanishing and exploding
// gradient plots, as a table or as CSV.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "models/bptt.h"

static const char usage[] =
    "usage: gradlab bptt --model rnn|lstm --activation tanh|sigmoid|relu|linear\n"
    "                    --init orthogonal|normal|uniform --scale S --T N --hidden H\n"
    "                    --seed N [--csv]\n"
    "\n"
    "Run one sequence of random inputs with L = sum of the last hidden state and\n"
    "print ||dL/dh_t|| for every step t: watch it vanish or explode going back.\n"
    "\n"
    "  --model M        rnn or lstm (default rnn)\n"
    "  --activation F   the RNN's activation (default tanh); the LSTM takes tanh only\n"
    "  --init I         how W_hh is drawn (default orthogonal), with S about its\n"
    "                   spectral radius: orthogonal = every singular value is S;\n"
    "                   normal = N(0, S^2/H); uniform = U(-a, a), a = S*sqrt(3/H)\n"
    "  --scale S        0 to 100 (default 1)\n"
    "  --T N            steps, 1 to 100000 (default 50), within the limits below\n"
    "  --hidden H       hidden units, 1 to 4096 (default 64), within the limits below\n"
    "  --seed N         weights and inputs follow from it (default 1)\n"
    "  --csv            print \"t,grad_norm\" lines instead of a table\n"
    "\n"
    "Limits, checked before anything runs: all buffers within 512 MB, and at most\n"
    "2^32 = 4.3e9 multiply-adds, counted as 3 x T x hidden x (hidden + 4), times 4\n"
    "for the lstm. So the rnn runs T 100000 up to hidden 117 and hidden 4096 up to\n"
    "T 85; the lstm runs T 100000 up to hidden 57, hidden 64 up to T 82241, and\n"
    "hidden 2892 at most (at T 1; 2673 at T 50). Each takes seconds; sizes past a\n"
    "limit are refused with the sizes that fit.\n";

int cmd_bptt(int argc, char **argv)
{
    static const char *const models[] = {"rnn", "lstm"};
    int model = 0, act = RNN_TANH, init = BPTT_ORTHOGONAL;
    long T = 50, hidden = 64, seed = 1;
    double scale = 1.0;
    bool csv = false;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        const char *v = NULL;
        bool ok = true;
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(f, "--csv") == 0) {
            csv = true;
        } else if (strcmp(f, "--model") == 0) {
            ok = (v = arg_value(argc, argv, &i)) && arg_choice(f, v, models, 2, &model);
        } else if (strcmp(f, "--activation") == 0) {
            ok = (v = arg_value(argc, argv, &i)) && arg_choice(f, v, rnn_act_names, RNN_ACT_COUNT, &act);
        } else if (strcmp(f, "--init") == 0) {
            ok = (v = arg_value(argc, argv, &i)) && arg_choice(f, v, bptt_init_names, BPTT_INIT_COUNT, &init);
        } else if (strcmp(f, "--scale") == 0) {
            ok = (v = arg_value(argc, argv, &i)) && arg_double(f, v, 0.0, 100.0, &scale);
        } else if (strcmp(f, "--T") == 0) {
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, MODEL_MAX_STEPS, &T);
        } else if (strcmp(f, "--hidden") == 0) {
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, MODEL_MAX_HIDDEN, &hidden);
        } else if (strcmp(f, "--seed") == 0) {
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 0, 2147483647L, &seed);
        } else {
            fprintf(stderr, "gradlab: error: bptt: unknown option '%.60s'; see gradlab bptt --help\n", f);
            return 2;
        }
        if (!ok)
            return 2;
    }
    if (model == 1 && act != RNN_TANH) {
        fprintf(stderr, "gradlab: error: bptt: --activation %s applies to --model rnn only; "
                        "the LSTM's nonlinearities are fixed (sigmoid gates, tanh)\n",
                rnn_act_names[act]);
        return 2;
    }
    BpttConfig c = {
        .lstm = model == 1,
        .act = (RnnAct)act,
        .init = (BpttInit)init,
        .scale = (float)scale,
        .T = (int)T,
        .H = (int)hidden,
        .seed = (uint64_t)seed,
    };
    char err[300];
    if (!bptt_check(&c, err, sizeof err)) {
        fprintf(stderr, "gradlab: error: bptt: %s\n", err);
        return 2;
    }
    double *norms = malloc((size_t)T * sizeof(double));
    if (!norms || !bptt_grad_norms(&c, norms)) {
        free(norms);
        fprintf(stderr, "gradlab: error: bptt: out of memory\n");
        return 1;
    }
    // An exploding gradient can leave float range: say so once, and print
    // every NaN the same way ("nan", whatever its sign bit).
    long overflow = -1;
    for (long t = T - 1; t >= 0; t--) {
        if (!isfinite(norms[t]) && overflow < 0)
            overflow = t + 1;
        if (isnan(norms[t]))
            norms[t] = NAN;
    }
    if (overflow > 0)
        fprintf(stderr, "gradlab: note: bptt: the gradient left float range at t = %ld "
                        "(going back from t = %ld)\n", overflow, T);
    if (csv) {
        printf("t,grad_norm\n");
        for (long t = 0; t < T; t++)
            printf("%ld,%.9g\n", t + 1, norms[t]);
    } else {
        printf("# %s%s%s, W_hh %s scale %g, T %ld, hidden %ld, seed %ld; L = sum(h_T)\n",
               models[model], model == 0 ? " " : "", model == 0 ? rnn_act_names[act] : "",
               bptt_init_names[init], scale, T, hidden, seed);
        printf("%6s  %s\n", "t", "||dL/dh_t||");
        for (long t = 0; t < T; t++)
            printf("%6ld  %.6e\n", t + 1, norms[t]);
    }
    free(norms);
    return 0;
}
