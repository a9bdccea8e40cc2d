// cmd_bptt.c: `gradlab bptt`. NOT YET IMPLEMENTED: being written for issue 3.
#include <stdio.h>

#include "cli/commands.h"

int cmd_bptt(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "gradlab: error: 'bptt' is not implemented yet\n");
    return 2;
}
