// app.h: the interactive window: lesson menu, stepping, presenter keys.
#ifndef GRADLAB_APP_H
#define GRADLAB_APP_H

// Open the app on the given lessons (files or numbers); with none, on the
// bundled lessons, lesson 1 first. Returns the exit status: 0 after a normal
// quit, 2 when a lesson, font or display is missing (with a message).
int app_main(int argc, char **argv);

#endif
