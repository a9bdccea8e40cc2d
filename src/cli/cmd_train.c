// cmd_train.c: `gradlab train`. NOT YET IMPLEMENTED: being written for issue 3.
#include <stdio.h>

#include "cli/commands.h"

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "gradlab: error: 'train' is not implemented yet\n");
    return 2;
}
