// bench_charrnn_iter.c: min-char-rnn's training iteration (vanilla RNN,
// hidden 100, sequence 25, Adagrad 0.1, clip 5) on a generated text of 71
// distinct characters, in ms per iteration (median of the thread's CPU time;
// the _wall line: of the wall clock); then the NumPy version
// of the same loop (bench_charrnn_numpy.py) on the same text, and the ratio.
//
// usage: bench_charrnn_iter [PYTHON PEER_SCRIPT]
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_util.h"
#include "models/charrnn.h"
#include "models/rng.h"

// Pseudo-words over letters and digits, with punctuation, spaces and
// newlines: 26 + 26 + 10 + 9 = 71 distinct characters.
static unsigned char *make_text(size_t len)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static const char punct[] = ".,;:!?'";
    unsigned char *t = malloc(len);
    Pcg r;
    pcg_seed(&r, 2015);
    size_t i = 0;
    while (i < len) {
        int w = 1 + (int)pcg_below(&r, 8);
        for (int k = 0; k < w && i < len; k++)
            t[i++] = (unsigned char)alnum[pcg_below(&r, 62)];
        if (i < len && pcg_below(&r, 5) == 0)
            t[i++] = (unsigned char)punct[pcg_below(&r, 7)];
        if (i < len)
            t[i++] = pcg_below(&r, 12) == 0 ? '\n' : ' ';
    }
    return t;
}

int main(int argc, char **argv)
{
    const size_t len = 20000;
    unsigned char *text = make_text(len);
    CharRnn *m = charrnn_create(text, len, 100, 25, 0.1f, 5.0f, 1);
    if (!m) {
        fprintf(stderr, "bench_charrnn_iter: out of memory\n");
        return 1;
    }
    for (int i = 0; i < 50; i++)
        charrnn_step(m);
    enum { MAX_ITERS = 20000 };
    double *times = malloc(MAX_ITERS * sizeof(double));
    double *walls = malloc(MAX_ITERS * sizeof(double));
    int n = 0;
    double t0 = bench_now(), loss = 0.0, smooth = 0.0;
    while (n < 2000 || (bench_now() - t0 < 2.0 && n < MAX_ITERS)) {
        double t = bench_now(), c = bench_cpu_now();
        loss = charrnn_step(m);
        times[n] = 1e3 * (bench_cpu_now() - c);
        walls[n++] = 1e3 * (bench_now() - t);
        smooth = n == 1 ? loss : 0.999 * smooth + 0.001 * loss;
    }
    double ms = bench_median(times, n);
    printf("charrnn_iter %.4f ms\n", ms);
    printf("charrnn_iter_wall %.4f ms\n", bench_median(walls, n));
    printf("charrnn_vocabulary %d chars\n", m->V);
    fprintf(stderr, "charrnn: %d iterations, smooth loss %.3f\n", n, smooth);
    charrnn_destroy(m);
    free(times);
    free(walls);

    // The peer reads the same text from a file.
    char path[] = "/tmp/gradlab_charrnn_XXXXXX";
    int fd = mkstemp(path);
    double peer;
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        printf("charrnn_iter_numpy skipped: cannot write the text to %s\n", path);
    } else if (bench_peer("charrnn_iter_numpy", argc > 1 ? argv[1] : NULL,
                          argc > 2 ? argv[2] : NULL, path, &peer)) {
        printf("charrnn_iter_numpy %.4f ms\n", peer);
        printf("charrnn_iter_speedup %.1f x\n", peer / ms);
        printf("charrnn_iter_speedup_target 20 x\n");
    }
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    free(text);
    return 0;
}
