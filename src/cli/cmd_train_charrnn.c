// cmd_train_charrnn.c: `gradlab train charrnn`, a character-level RNN
// (models/charrnn.h, min-char-rnn with its fused fast path; or with --model
// lstm models/charlstm.h, the same loop with an LSTM) training on a
// UTF-8 text from the command line (models/chartext.h), with a progress bar
// on stderr when it is a terminal and plain lines otherwise. At the end it
// prints the loss per character and a sample. Everything on stdout follows
// from the flags and the text alone, so two runs with the same seed on one
// machine print the same bytes; the wall time goes to stderr.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/platform.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "models/charlstm.h"
#include "models/charrnn.h"
#include "models/chartext.h"

#define CHARRNN_CLI_MAX_STEPS 1000000
#define CHARRNN_CLI_MAX_SAMPLE 10000
#define CHARRNN_CLI_SMOOTH 0.99
#define CHARRNN_CLI_MAX_WORK 68719476736.0 // 2^36 multiply-adds, about a minute or two

static const char usage[] =
    "usage: gradlab train charrnn [--text FILE] [--model rnn|lstm] [--steps N] [--seed N]\n"
    "                             [--sample N] [--temperature T] [--hidden N]\n"
    "\n"
    "Train a character-level language model, min-char-rnn's way: a tanh RNN reads\n"
    "a text one character at a time and, at every step, predicts the next one\n"
    "(softmax over the V distinct characters, cross-entropy, sequences of 25,\n"
    "Adagrad at 0.1, gradients clipped to [-5, 5]). Then it writes a sample.\n"
    "\n"
    "  --text FILE      a UTF-8 text of 100 characters to 4 MiB, at most 256 distinct\n"
    "                   ones (default: the bundled assets/text/gradlab-corpus.txt)\n"
    "  --model M        rnn (min-char-rnn's tanh RNN, default) or lstm (an LSTM in its\n"
    "                   place: PyTorch's gates and init, the same read-out and loop)\n"
    "  --steps N        training steps of 25 characters, 1 to 1000000 (default 5000)\n"
    "  --seed N         weights and the sample follow from it (default 1)\n"
    "  --sample N       characters to generate at the end, 1 to 10000 (default 400)\n"
    "  --temperature T  divides the logits before the softmax when sampling, 0.05\n"
    "                   to 5 (default 1): below 1 safer and more repetitive, above 1\n"
    "                   more surprising and more often wrong\n"
    "  --hidden N       hidden units, 1 to 512 (default 100)\n"
    "\n"
    "Limit, checked before training: steps x 25 x hidden x (hidden + V), times 4\n"
    "for the lstm, at most 2^36 = 6.9e10 multiply-adds (at hidden 100 and V 55:\n"
    "177304 rnn steps, 44326 lstm steps).\n"
    "\n"
    "The loss is printed per character. It starts near ln V, what a model that\n"
    "gives every character the same probability scores (min-char-rnn's first\n"
    "figure); the smoothed figure moves 1% of the way to each step's loss.\n";

int cmd_train_charrnn(int argc, char **argv)
{
    static const char *const models[] = {"rnn", "lstm"};
    const char *text_path = NULL;
    int model = 0;
    long steps = 5000, seed = 1, nsample = 400, hidden = 100;
    double temperature = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        const char *v = NULL;
        bool known = true, ok = true;
        if (strcmp(f, "--text") == 0)
            ok = (text_path = arg_value(argc, argv, &i)) != NULL;
        else if (strcmp(f, "--model") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_choice(f, v, models, 2, &model);
        else if (strcmp(f, "--steps") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, CHARRNN_CLI_MAX_STEPS, &steps);
        else if (strcmp(f, "--seed") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 0, 2147483647L, &seed);
        else if (strcmp(f, "--sample") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, CHARRNN_CLI_MAX_SAMPLE, &nsample);
        else if (strcmp(f, "--hidden") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, 512, &hidden);
        else if (strcmp(f, "--temperature") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_double(f, v, 0.05, 5.0, &temperature);
        else
            known = false;
        if (!known) {
            fprintf(stderr, "gradlab: error: train charrnn: unknown option '%.60s'; see gradlab train charrnn --help\n",
                    f);
            return 2;
        }
        if (!ok)
            return 2;
    }
    char path[4200], err[4600];
    if (!text_path) {
        char data[4096];
        if (!platform_data_dir(data, sizeof(data))) {
            fprintf(stderr, "gradlab: error: cannot find gradlab's data folder for the bundled text; looked in %s; "
                            "or give --text FILE\n", data);
            return 2;
        }
        snprintf(path, sizeof(path), "%s/assets/text/gradlab-corpus.txt", data);
        text_path = path;
    }
    CharText text;
    if (!chartext_load(text_path, &text, err, sizeof(err))) {
        // Messages about the text's contents start "FILE:" already.
        size_t pl = strlen(text_path);
        bool located = strncmp(err, text_path, pl) == 0 && err[pl] == ':';
        fprintf(stderr, "%s%s\n", located ? "" : "gradlab: error: ", err);
        return 2;
    }
    const int T = 25;
    // The work: about steps x T x hidden x (hidden + V) multiply-adds per
    // pass, three passes; refused past CHARRNN_CLI_MAX_WORK before training.
    const double G = model == 1 ? 4 : 1; // an LSTM does four gates' work
    double work = G * (double)steps * T * (double)hidden * (double)(hidden + text.V);
    if (work > CHARRNN_CLI_MAX_WORK) {
        long fit = (long)(CHARRNN_CLI_MAX_WORK / (G * T * (double)hidden * (double)(hidden + text.V)));
        fprintf(stderr, "gradlab: error: train charrnn: --steps %ld with --model %s --hidden %ld on a text of V = %d counts "
                        "%.2g multiply-adds, more than 2^36 = %.2g, the limit; at hidden %ld use at most "
                        "--steps %ld\n", steps, models[model], hidden, text.V, work, CHARRNN_CLI_MAX_WORK, hidden, fit);
        chartext_free(&text);
        return 2;
    }
    CharRnn *m = model == 0 ? charrnn_create(text.ids, text.len, (int)hidden, T, 0.1f, 5.0f, (uint64_t)seed) : NULL;
    CharLstm *lm = model == 1 ? charlstm_create(text.ids, text.len, (int)hidden, T, 0.1f, 5.0f, (uint64_t)seed)
                              : NULL;
    int *ids = malloc((size_t)nsample * sizeof(int)), *top = malloc((size_t)nsample * sizeof(int));
    float *prob = malloc((size_t)nsample * sizeof(float));
    if ((!m && !lm) || !ids || !top || !prob) {
        fprintf(stderr, "gradlab: error: train charrnn: out of memory\n");
        charrnn_destroy(m), charlstm_destroy(lm), chartext_free(&text), free(ids), free(top), free(prob);
        return 1;
    }
    printf("charrnn: %zu characters, V = %d distinct; %s, hidden %ld, sequences of %d, adagrad lr 0.1, "
           "clip 5, %ld steps, seed %ld\n",
           text.len, text.V, models[model], hidden, T, steps, seed);
    fflush(stdout);
    bool tty = isatty(fileno(stderr));
    double t0 = cli_now(), last_print = 0.0, smoothed = log((double)text.V), first = NAN, last = NAN;
    long every = steps / 20 > 0 ? steps / 20 : 1;
    for (long s = 1; s <= steps; s++) {
        last = (lm ? charlstm_step(lm) : charrnn_step(m)) / T;
        if (s == 1)
            first = last;
        smoothed = CHARRNN_CLI_SMOOTH * smoothed + (1 - CHARRNN_CLI_SMOOTH) * last;
        double el = cli_now() - t0;
        if (tty ? (el - last_print > 0.2 || s == steps) : (s % every == 0 || s == steps)) {
            cli_progress(tty, s, steps, "loss", smoothed, " per char", el);
            last_print = el;
        }
    }
    double train_time = cli_now() - t0;
    printf("first loss: %.4f per character (ln V = %.4f)\n", first, log((double)text.V));
    printf("loss: %.4f per character, smoothed (last step %.4f)\n", smoothed, last);
    Pcg rng;
    pcg_seed(&rng, (uint64_t)seed * 1000003u + (uint64_t)steps);
    bool sampled = lm ? charlstm_sample(lm, text.ids[0], (int)nsample, temperature, &rng, ids, 1, top, prob, NULL)
                      : charrnn_sample(m, NULL, text.ids[0], (int)nsample, temperature, &rng, ids, 1, top, prob, NULL);
    if (!sampled) {
        fprintf(stderr, "gradlab: error: train charrnn: out of memory\n");
        charrnn_destroy(m), charlstm_destroy(lm), chartext_free(&text), free(ids), free(top), free(prob);
        return 1;
    }
    printf("sample (temperature %g, %ld characters after '", temperature, nsample);
    char buf[8];
    chartext_utf8(text.cps[text.ids[0]], buf);
    printf("%s'):\n", buf);
    for (long i = 0; i < nsample; i++) {
        chartext_utf8(text.cps[ids[i]], buf);
        fputs(buf, stdout);
    }
    fputc('\n', stdout);
    fprintf(stderr, "time: %.1f s training, %.3f ms per step%s\n", train_time, 1e3 * train_time / (double)steps,
            m && m->fused ? (m->fused_avx512 ? " (fused AVX-512 loop)" : " (fused AVX2 loop)") : "");
    charrnn_destroy(m);
    charlstm_destroy(lm);
    chartext_free(&text);
    free(ids), free(top), free(prob);
    return 0;
}
