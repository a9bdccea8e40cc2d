// main.c: the gradlab binary. With no subcommand it opens the app; otherwise
// it dispatches to one of the commands in commands.h.
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "cli/commands.h"
#include "config.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"grad", cmd_grad, "run a program forward and backward; print values and gradients"},
    {"dot", cmd_dot, "print a program's graph as Graphviz DOT"},
    {"check", cmd_check, "run lesson checks headless; print TAP"},
    {"render", cmd_render, "write one PNG per lesson step, headless"},
    {"model", cmd_model, "run an LSTM or RNN from .npy weights, forward and backward"},
    {"train", cmd_train, "train a recurrent model on the adding problem"},
    {"bptt", cmd_bptt, "print the gradient norm at every step of backprop through time"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gradlab [LESSON...]          open the app (LESSON: a .lesson file or a number)\n"
            "       gradlab COMMAND [ARGS...]\n"
            "       gradlab --help | --version\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun 'gradlab COMMAND --help' for a command's options. See also gradlab(1).\n");
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
            strcmp(argv[1], "help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[1], "--version") == 0) {
            printf("gradlab %s\n", GRADLAB_VERSION);
            return 0;
        }
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (strcmp(argv[1], commands[i].name) == 0)
                return commands[i].run(argc - 1, argv + 1);
    }
    return app_main(argc - 1, argv + 1);
}
