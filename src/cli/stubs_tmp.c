#include "cli/commands.h"
#include "app/app.h"
int cmd_check(int argc, char **argv) { (void)argc; (void)argv; return 2; }
int cmd_render(int argc, char **argv) { (void)argc; (void)argv; return 2; }
int app_main(int argc, char **argv) { (void)argc; (void)argv; return 2; }
