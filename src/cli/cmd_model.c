// cmd_model.c: `gradlab model`. NOT YET IMPLEMENTED: being written for issue 3.
#include <stdio.h>

#include "cli/commands.h"

int cmd_model(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "gradlab: error: 'model' is not implemented yet\n");
    return 2;
}
