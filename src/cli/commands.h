// commands.h: the subcommands of the gradlab binary. Each takes the
// arguments after its own name (argv[0] is the subcommand) and returns the
// process exit status: 0 success, 1 a check or comparison failed, 2 bad
// input or usage.
#ifndef GRADLAB_COMMANDS_H
#define GRADLAB_COMMANDS_H

int cmd_grad(int argc, char **argv);    // gradlab grad FILE | -e PROGRAM [--json]
int cmd_dot(int argc, char **argv);     // gradlab dot FILE | -e PROGRAM
int cmd_check(int argc, char **argv);   // gradlab check [LESSON...]
int cmd_render(int argc, char **argv);  // gradlab render [LESSON...] --out DIR
int cmd_model(int argc, char **argv);   // gradlab model lstm|rnn --weights DIR ...
int cmd_train(int argc, char **argv);   // gradlab train adding ...
int cmd_train_charrnn(int argc, char **argv); // gradlab train charrnn ... (argv[0] is "charrnn")
int cmd_train_transfer(int argc, char **argv);   // gradlab train transfer ... (argv[1] is "transfer")
int cmd_train_steering(int argc, char **argv);   // gradlab train steering ... (argv[1] is "steering")
int cmd_bptt(int argc, char **argv);    // gradlab bptt --model rnn|lstm ...

#endif
