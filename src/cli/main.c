// main.c: the gradlab binary. With no subcommand it opens the app; otherwise
// it dispatches to one of the commands in commands.h.
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "app/app.h"
#include "cli/commands.h"
#include "config.h"
#include "engine/diag.h"

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
    {"train", cmd_train, "train a recurrent model on the adding problem, or a char-RNN on a text"},
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

// A first argument that names no command is a lesson for the app: a number,
// or a path. A word with no '/' or '.' that names no file is neither, so it
// was meant as a command: say so, with the nearest one ("grd" -> "grad"),
// and return 2. Returns 0 when word may be a lesson.
static int check_command_word(const char *word)
{
    if (word[0] == '-' || word[0] == '\0' || strspn(word, "0123456789") == strlen(word) ||
        strpbrk(word, "/.") || access(word, F_OK) == 0)
        return 0;
    const char *names[NCOMMANDS];
    for (size_t i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    const char *guess = diag_suggest(word, names, NCOMMANDS);
    if (guess) {
        fprintf(stderr, "gradlab: error: unknown command '%s'; did you mean '%s'?\n", word, guess);
    } else {
        fprintf(stderr, "gradlab: error: '%s' is neither a command nor a lesson file; the commands are", word);
        for (size_t i = 0; i < NCOMMANDS; i++)
            fprintf(stderr, "%s %s", i == 0 ? "" : i + 1 == NCOMMANDS ? " and" : ",", commands[i].name);
        fprintf(stderr, " (see 'gradlab --help'), and a lesson is a .lesson file or a number\n");
    }
    return 2;
}

int main(int argc, char **argv)
{
#if defined(__GLIBC__)
    // A block of 256 KB or more is mapped on its own and given back when
    // freed, in the window and in check and render alike. Left to itself
    // glibc raises this threshold to the size of the largest block freed so
    // far (up to 32 MB: sources free blocks of several MB when a lesson
    // closes or a slider remakes them), and from then on such blocks come
    // from the heap, where the holes they leave stay resident: eight steering
    // sources remade once peaked at 271 MB instead of 174 MB.
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
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
        int rc = check_command_word(argv[1]);
        if (rc)
            return rc;
    }
    return app_main(argc - 1, argv + 1);
}
