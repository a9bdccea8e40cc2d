// cmd_train_transfer.c: `gradlab train transfer`, lesson 12's transfer
// learning from the command line (models/transfer.h): the new task learned
// from scratch, on frozen pretrained features, and by fine-tuning, with
// their test accuracies; and `--pretrain`, which makes the pretrained CNN
// that ships in assets/pretrained/steering-cnn. stdout follows from the
// flags alone; progress and wall time go to stderr.
#include <stdio.h>
#include <string.h>

#include "app/platform.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "engine/npy/npy.h"
#include "models/transfer.h"

static const char usage[] =
    "usage: gradlab train transfer [--weights DIR] [--examples N] [--steps N] [--frozen N]\n"
    "                              [--world day|night] [--seed N]\n"
    "       gradlab train transfer --pretrain --out DIR [--steps N] [--seed N]\n"
    "\n"
    "Transfer learning (lesson 12). The steering CNN of lesson 11, trained to\n"
    "steer on day-time roads, is reused for a new task with few examples: from\n"
    "one frame, steer left, keep straight or steer right (a third of the frames\n"
    "each, so guessing scores 33%), on roads at night by default. Three runs:\n"
    "  scratch   every weight random, all trained\n"
    "  frozen    the pretrained conv1, conv2 and fc kept, a new head trained\n"
    "  finetune  the pretrained weights as the start, the first --frozen layers\n"
    "            kept, the rest trained\n"
    "Each prints its accuracy on 300 held-out frames.\n"
    "\n"
    "  --weights DIR   the pretrained CNN (c1w.npy c1b.npy c2w.npy c2b.npy fcw.npy\n"
    "                  fcb.npy); default assets/pretrained/steering-cnn in the data folder\n"
    "  --examples N    labelled frames of the new task, 1 to 4096 (default 40)\n"
    "  --steps N       training steps of 16 frames, 1 to 100000 (default 150)\n"
    "  --frozen N      finetune keeps the first N of conv1, conv2, fc, 0 to 3 (default 0)\n"
    "  --world W       day or night (default night)\n"
    "  --seed N        examples, test frames and new weights follow from it (default 1)\n"
    "\n"
    "  --pretrain      train the steering CNN instead (as `gradlab train steering\n"
    "                  --model cnn` does, --steps of 8 sequences of 16 frames,\n"
    "                  default 200) and save its feature layers as .npy in --out\n"
    "                  (made if missing). The same flags give the same bytes on the\n"
    "                  same build and CPU.\n";

static int pretrain(const char *out, long steps, long seed)
{
    char err[NPY_ERR_MAX + 64];
    if (!out) {
        fprintf(stderr, "gradlab: error: train transfer --pretrain: --out DIR is required\n");
        return 2;
    }
    if (!platform_is_dir(out) && !platform_mkdir(out, err, sizeof(err))) {
        fprintf(stderr, "gradlab: error: train transfer: %s\n", err);
        return 2;
    }
    double t0 = cli_now();
    TensorBlock *cnn = transfer_pretrain(seed < 0 ? 1 : (uint64_t)seed, steps > 0 ? (int)steps : 200);
    if (!cnn) {
        fprintf(stderr, "gradlab: error: train transfer: out of memory\n");
        return 1;
    }
    bool ok = transfer_save(cnn, out, err, sizeof(err));
    tensor_block_destroy(cnn);
    if (!ok) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    printf("pretrained steering CNN (%ld steps, seed %ld) saved in %s\n", steps > 0 ? steps : 200,
           seed < 0 ? 1 : seed, out);
    fprintf(stderr, "time: %.1f s\n", cli_now() - t0);
    return 0;
}

int cmd_train_transfer(int argc, char **argv)
{
    static const char *const worlds[] = {"day", "night"};
    const char *weights = NULL, *out = NULL;
    long examples = -1, steps = -1, frozen = -1, seed = -1;
    int world = -1;
    bool pre = false;
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i], *v = NULL;
        bool known = true, ok = true;
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(f, "--pretrain") == 0)
            pre = true;
        else if (strcmp(f, "--out") == 0)
            ok = (out = arg_value(argc, argv, &i)) != NULL;
        else if (strcmp(f, "--weights") == 0)
            ok = (weights = arg_value(argc, argv, &i)) != NULL;
        else if (strcmp(f, "--examples") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, TRANSFER_MAX_EXAMPLES, &examples);
        else if (strcmp(f, "--steps") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 1, 100000, &steps);
        else if (strcmp(f, "--frozen") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 0, TRANSFER_LAYERS, &frozen);
        else if (strcmp(f, "--world") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_choice(f, v, worlds, 2, &world);
        else if (strcmp(f, "--seed") == 0)
            ok = (v = arg_value(argc, argv, &i)) && arg_long(f, v, 0, 2147483647L, &seed);
        else
            known = false;
        if (!known) {
            fprintf(stderr, "gradlab: error: train transfer: unknown option '%.60s'; see gradlab train transfer --help\n", f);
            return 2;
        }
        if (!ok)
            return 2;
    }
    if (pre)
        return pretrain(out, steps, seed);
    char dir[4096], err[NPY_ERR_MAX + 64];
    if (!weights) {
        char data[4000];
        if (!platform_data_dir(data, sizeof(data))) {
            fprintf(stderr, "gradlab: error: train transfer: no data folder found (%s); give --weights DIR\n", data);
            return 2;
        }
        snprintf(dir, sizeof(dir), "%s/assets/pretrained/steering-cnn", data);
        weights = dir;
    }
    TensorBlock *cnn = transfer_load(weights, err, sizeof(err));
    if (!cnn) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    TransferConfig c = transfer_defaults();
    if (examples > 0)
        c.examples = (int)examples;
    if (steps > 0)
        c.steps = (int)steps;
    if (frozen >= 0)
        c.frozen = (int)frozen;
    if (world >= 0)
        c.night = world == 1;
    if (seed >= 0)
        c.seed = (uint64_t)seed;
    printf("transfer: %d examples (%s roads), %d steps of %d frames, finetune keeps %d layer%s, seed %llu\n",
           c.examples, c.night ? "night" : "day", c.steps, c.batch, c.frozen, c.frozen == 1 ? "" : "s",
           (unsigned long long)c.seed);
    double t0 = cli_now();
    int status = 0;
    for (int m = 0; m < TRANSFER_METHOD_COUNT; m++) {
        TransferRun *r = transfer_create(&c, (TransferMethod)m, cnn);
        if (!r) {
            fprintf(stderr, "gradlab: error: train transfer: out of memory\n");
            status = 1;
            break;
        }
        for (int s = 0; s < c.steps; s++)
            transfer_step(r);
        printf("%-9s test accuracy %.3f (loss %.4f)\n", transfer_method_names[m], transfer_accuracy(r), r->last_loss);
        fflush(stdout);
        transfer_destroy(r);
    }
    tensor_block_destroy(cnn);
    fprintf(stderr, "time: %.1f s\n", cli_now() - t0);
    return status;
}
