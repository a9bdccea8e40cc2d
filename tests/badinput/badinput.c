// badinput.c: runs the gradlab binary on every class of bad input listed in
// tests/badinput/TABLE.md and checks what the user sees.
//
//     badinput GRADLAB [TABLE.md] [ROW-ID...]
//
// For every row it builds the input files in a fresh temporary folder, runs
// gradlab with the row's arguments and environment, and requires:
//   - the expected non-zero exit status, and no death by a signal;
//   - an end within ROW_TIMEOUT seconds (no hang) and peak memory under
//     ROW_MAX_RSS_MB (no unbounded allocation);
//   - every expected piece of the message on stderr: the file, the place
//     (line:col, flag or variable) and the fix;
//   - no sanitizer, assertion or Valgrind report in the output.
// With TABLE.md it also checks that every row of the table has a test here
// and every test here has a row in the table. Prints TAP; BADINPUT_VERBOSE=1
// also shows the first line of each message, BADINPUT_KEEP=1 keeps the files.
#define _DEFAULT_SOURCE 1   // wait4, strsignal, mkdtemp
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROW_TIMEOUT 30         // seconds; sanitizer builds are slow
#define ROW_MAX_RSS_MB 1024    // ASan's own overhead included
#define MAX_ARGS 14

// ---------------------------------------------------------------------------
// The rows. "@T" in args, env and want stands for the fixture folder.

typedef struct Row {
    const char *id;                // the first column of TABLE.md
    const char *args[MAX_ARGS];    // after "gradlab"
    const char *env[4];            // "NAME=VALUE" sets, "-NAME" unsets
    int status;                    // expected exit status
    const char *want[5];           // stderr must contain each of these
    const char *pending;           // when stderr contains this, skip (feature not there yet)
    double max_secs;               // a tighter time limit than ROW_TIMEOUT (0 = none)
    const char *known;             // a known bug (reported, not fixed yet): a failure is a TODO
} Row;

#define ANY_STATUS (-1)            // the input is valid but big: any status, within the time

static const Row rows[] = {
    // --- paths that do not exist, and paths of the wrong kind
    {"path-missing-lesson", {"check", "@T/nope.lesson"}, {0}, 2,
     {"@T/nope.lesson", "No such file"}, NULL, 0, NULL},
    {"path-missing-program", {"grad", "@T/nope.expr"}, {0}, 2, {"@T/nope.expr", "No such file"}, NULL, 0, NULL},
    {"path-lesson-is-dir", {"check", "@T/adir.lesson"}, {0}, 2, {"@T/adir.lesson", "directory"}, NULL, 0, NULL},
    {"path-missing-npy", {"model", "lstm", "--weights", "@T/w", "--input", "@T/nope.npy", "--out", "@T/o"},
     {0}, 2, {"@T/nope.npy", "No such file"}, NULL, 0, NULL},
    {"path-missing-weights", {"model", "lstm", "--weights", "@T/nowhere", "--input", "@T/x.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/nowhere/weight_ih_l0.npy", "No such file"}, NULL, 0, NULL},
    {"path-out-unwritable", {"render", "1", "--out", "@T/afile/sub"}, {0}, 2,
     {"@T/afile/sub", "cannot create"}, NULL, 0, NULL},

    // --- malformed and truncated lesson files
    {"lesson-empty", {"check", "@T/empty.lesson"}, {0}, 2,
     {"@T/empty.lesson:", "no title", "add a line 'title: ...'"}, NULL, 0, NULL},
    {"lesson-truncated", {"check", "@T/truncated.lesson"}, {0}, 2,
     {"@T/truncated.lesson:5:1:", "program is empty", "write at least one statement"}, NULL, 0, NULL},
    {"lesson-binary", {"check", "@T/binary.lesson"}, {0}, 2,
     {"@T/binary.lesson:1:", "UTF-8", "save the lesson as UTF-8"}, NULL, 0, NULL},
    {"lesson-unknown-key", {"check", "@T/typo.lesson"}, {0}, 2,
     {"@T/typo.lesson:2:1:", "unknown key 'titles'", "did you mean 'title'"}, NULL, 0, NULL},
    {"lesson-bad-version", {"check", "@T/v3.lesson"}, {0}, 2,
     {"@T/v3.lesson:1:", "lesson formats 1 and 2"}, NULL, 0, NULL},
    {"lesson-unknown-name", {"check", "@T/badname.lesson"}, {0}, 2,
     {"@T/badname.lesson:6:", "unknown name 'w'", "did you mean"}, NULL, 0, NULL},
    {"lesson-bad-step", {"check", "@T/badstep.lesson"}, {0}, 2,
     {"@T/badstep.lesson:7:", "unknown step", "steps are intro"}, NULL, 0, NULL},
    {"lesson-bad-check", {"check", "@T/badcheck.lesson"}, {0}, 2,
     {"@T/badcheck.lesson:8:", "is not a number"}, NULL, 0, NULL},
    {"lesson-unclosed-placeholder", {"check", "@T/brace.lesson"}, {0}, 2,
     {"@T/brace.lesson:8:", "without a closing '}'", "{grad x}"}, NULL, 0, NULL},
    {"lesson-nonutf8", {"check", "@T/latin1.lesson"}, {0}, 2,
     {"@T/latin1.lesson:2:", "not valid UTF-8", "save the lesson as UTF-8"}, NULL, 0, NULL},
    {"lesson-utf16", {"check", "@T/utf16.lesson"}, {0}, 2,
     {"@T/utf16.lesson:1:", "UTF-8"}, NULL, 0, NULL},

    // --- lesson files that are huge, deeply nested or carry absurd sizes
    {"lesson-huge", {"check", "@T/huge.lesson"}, {0}, 2,
     {"@T/huge.lesson", "larger than", "1048576"}, NULL, 0, NULL},
    {"lesson-deep-parens", {"check", "@T/deep.lesson"}, {0}, 2,
     {"@T/deep.lesson:6:", "nest"}, NULL, 0, NULL},
    {"lesson-deep-unary", {"check", "@T/deepneg.lesson"}, {0}, 2,
     {"@T/deepneg.lesson:6:", "nest"}, NULL, 0, NULL},
    {"lesson-long-chain", {"check", "@T/chain.lesson"}, {0}, 2,
     {"@T/chain.lesson:6:", "operations"}, NULL, 0, NULL},
    {"lesson-many-steps", {"check", "@T/steps.lesson"}, {0}, 2,
     {"@T/steps.lesson:", "more than 500 steps", "split the lesson"}, NULL, 0, NULL},
    {"lesson-many-checks", {"check", "@T/checks.lesson"}, {0}, 2,
     {"@T/checks.lesson:", "more than 500 checks"}, NULL, 0, NULL},
    {"lesson-many-names", {"check", "@T/names.lesson"}, {0}, ANY_STATUS, {0}, NULL, 5.0, NULL},
    {"lesson-huge-circuit", {"check", "@T/circuit.lesson"}, {0}, ANY_STATUS, {0}, NULL, 5.0, NULL},
    {"lesson-huge-graph", {"check", "@T/graph.lesson"}, {0}, ANY_STATUS, {0}, NULL, 5.0, NULL},
    {"lesson-absurd-number", {"check", "@T/bignum.lesson"}, {0}, 2,
     {"@T/bignum.lesson:5:", "1e99999"}, NULL, 0, NULL},

    // --- expression programs (gradlab grad / dot)
    {"program-unknown-name", {"grad", "@T/badname.expr"}, {0}, 2,
     {"@T/badname.expr:3:", "unknown name 'w'", "did you mean 'x'"}, NULL, 0, NULL},
    {"program-unclosed", {"grad", "@T/unclosed.expr"}, {0}, 2, {"@T/unclosed.expr:1:", "')'"}, NULL, 0, NULL},
    {"program-nonutf8", {"grad", "@T/latin1.expr"}, {0}, 2, {"@T/latin1.expr:2:1:", "0xe9", "as in f = x * y"}, NULL, 0, NULL},
    {"program-deep", {"dot", "@T/deep.expr"}, {0}, 2, {"@T/deep.expr:1:", "nest"}, NULL, 0, NULL},
    {"program-empty-e", {"grad", "-e", ""}, {0}, 2, {"-e", "program"}, NULL, 0, NULL},

    // --- .npy files: malformed, truncated, wrong dtypes and shapes
    {"npy-empty", {"model", "lstm", "--weights", "@T/w", "--input", "@T/empty.npy", "--out", "@T/o"},
     {0}, 2, {"@T/empty.npy: error:", "npy"}, NULL, 0, NULL},
    {"npy-bad-magic", {"model", "lstm", "--weights", "@T/w", "--input", "@T/magic.npy", "--out", "@T/o"},
     {0}, 2, {"@T/magic.npy: error:"}, NULL, 0, NULL},
    {"npy-truncated-header", {"model", "lstm", "--weights", "@T/w", "--input", "@T/cuthdr.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/cuthdr.npy: error:"}, NULL, 0, NULL},
    {"npy-truncated-data", {"model", "lstm", "--weights", "@T/w", "--input", "@T/cutdata.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/cutdata.npy: error:", "bytes"}, NULL, 0, NULL},
    {"npy-dtype-int", {"model", "lstm", "--weights", "@T/w", "--input", "@T/int64.npy", "--out", "@T/o"},
     {0}, 2, {"@T/int64.npy: error:", "<i8", "<f4"}, NULL, 0, NULL},
    {"npy-dtype-bigendian", {"model", "lstm", "--weights", "@T/w", "--input", "@T/big.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/big.npy: error:", ">f4"}, NULL, 0, NULL},
    {"npy-fortran", {"model", "lstm", "--weights", "@T/w", "--input", "@T/fortran.npy", "--out", "@T/o"},
     {0}, 2, {"@T/fortran.npy: error:", "Fortran", "ascontiguousarray"}, NULL, 0, NULL},
    {"npy-huge-shape", {"model", "lstm", "--weights", "@T/w", "--input", "@T/hugeshape.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/hugeshape.npy: error:"}, NULL, 0, NULL},
    {"npy-negative-dim", {"model", "lstm", "--weights", "@T/w", "--input", "@T/negdim.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/negdim.npy: error:"}, NULL, 0, NULL},
    {"npy-too-many-dims", {"model", "lstm", "--weights", "@T/w", "--input", "@T/dims9.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/dims9.npy: error:"}, NULL, 0, NULL},
    {"npy-header-lies", {"model", "lstm", "--weights", "@T/w", "--input", "@T/hdrlen.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/hdrlen.npy: error:"}, NULL, 0, NULL},
    {"npy-wrong-rank", {"model", "lstm", "--weights", "@T/w", "--input", "@T/rank2.npy", "--out", "@T/o"},
     {0}, 2, {"@T/rank2.npy: error:", "(B, T, I)"}, NULL, 0, NULL},
    {"npy-wrong-input-size", {"model", "lstm", "--weights", "@T/w", "--input", "@T/wrongI.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/wrongI.npy: error:", "I = 1"}, NULL, 0, NULL},
    {"npy-wrong-weight-shape", {"model", "lstm", "--weights", "@T/wbad", "--input", "@T/x.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/wbad/", "error: shape"}, NULL, 0, NULL},
    {"npy-transfer-missing", {"train", "transfer", "--weights", "@T/nowhere"}, {0}, 2,
     {"@T/nowhere/c1w.npy", "No such file"}, NULL, 0, NULL},
    {"npy-transfer-wrong-shape", {"train", "transfer", "--weights", "@T/badcnn"}, {0}, 2,
     {"@T/badcnn/c1w.npy", "the shape must be (8, 1, 5, 5)"}, NULL, 0, NULL},

    // --- the environment: display, data folder, fonts
    {"env-no-display", {NULL}, {"-DISPLAY", "-WAYLAND_DISPLAY", "-SDL_VIDEODRIVER"}, 2,
     {"display", "gradlab render"}, NULL, 0, NULL},
    {"env-no-display-lesson", {"1"}, {"-DISPLAY", "-WAYLAND_DISPLAY", "-SDL_VIDEODRIVER"}, 2,
     {"display", "gradlab check"}, NULL, 0, NULL},
    {"env-data-dir-empty-check", {"check"}, {"GRADLAB_DATA_DIR=@T/emptydata"}, 2,
     {"GRADLAB_DATA_DIR=@T/emptydata", "data folder"}, NULL, 0, NULL},
    {"env-data-dir-empty-render", {"render", "1", "--out", "@T/o"}, {"GRADLAB_DATA_DIR=@T/emptydata"}, 2,
     {"GRADLAB_DATA_DIR=@T/emptydata", "data folder"}, NULL, 0, NULL},
    {"env-fonts-missing", {"render", "@T/ok.lesson", "--out", "@T/o"}, {"GRADLAB_DATA_DIR=@T/nofonts"}, 2,
     {"@T/nofonts/assets/fonts", "font"}, NULL, 0, NULL},
    {"env-lesson-number-unknown", {"check", "99"}, {0}, 2, {"99", "lesson"}, NULL, 0, NULL},

    // --- bad numbers on the command line
    {"cli-size-zero", {"render", "1", "--out", "@T/o", "--size", "0x0"}, {0}, 2,
     {"--size", "'0x0'", "1280x720", "64 to 7680"}, NULL, 0, NULL},
    {"cli-size-huge", {"render", "1", "--out", "@T/o", "--size", "100000x100000"}, {0}, 2,
     {"--size", "64 to 7680"}, NULL, 0, NULL},
    {"cli-size-garbage", {"render", "1", "--out", "@T/o", "--size", "wide"}, {0}, 2,
     {"--size", "'wide'", "WIDTHxHEIGHT"}, NULL, 0, NULL},
    {"cli-scale-abc", {"render", "1", "--out", "@T/o", "--scale", "abc"}, {0}, 2,
     {"--scale", "'abc'", "1e-3"}, NULL, 0, NULL},
    {"cli-scale-nan", {"render", "1", "--out", "@T/o", "--scale", "nan"}, {0}, 2,
     {"--scale", "'nan'", "finite"}, NULL, 0, NULL},
    {"cli-scale-range", {"render", "1", "--out", "@T/o", "--scale", "100"}, {0}, 2,
     {"--scale", "out of range", "0.25 to 4"}, NULL, 0, NULL},
    {"cli-theme-typo", {"render", "1", "--out", "@T/o", "--theme", "darkk"}, {0}, 2,
     {"--theme", "'darkk'", "did you mean 'dark'"}, NULL, 0, NULL},
    {"cli-theme-swap", {"render", "1", "--out", "@T/o", "--theme", "drak"}, {0}, 2,
     {"--theme", "'drak'", "did you mean 'dark'"}, NULL, 0, NULL},
    {"cli-missing-value", {"render", "1", "--out"}, {0}, 2, {"--out", "needs a value"}, NULL, 0, NULL},
    {"cli-unknown-option", {"check", "--frobnicate"}, {0}, 2, {"--frobnicate", "usage"}, NULL, 0, NULL},
    {"cli-train-T-huge", {"train", "adding", "--model", "lstm", "--T", "1000000000"}, {0}, 2,
     {"--T", "1000000000", "out of range", "100000"}, "not implemented", 0, NULL},
    {"cli-train-hidden-huge", {"train", "adding", "--model", "lstm", "--T", "10", "--hidden", "10000000"},
     {0}, 2, {"--hidden", "out of range", "4096"}, "not implemented", 0, NULL},
    {"cli-train-lr-nan", {"train", "adding", "--model", "lstm", "--T", "10", "--lr", "nan"}, {0}, 2,
     {"--lr", "'nan'", "finite"}, "not implemented", 0, NULL},
    {"cli-train-steps-negative", {"train", "adding", "--model", "lstm", "--T", "10", "--steps", "-1"}, {0},
     2, {"--steps", "'-1'", "out of range"}, "not implemented", 0, NULL},
    {"cli-train-batch-float", {"train", "adding", "--model", "lstm", "--T", "10", "--batch", "1e3"}, {0},
     2, {"--batch", "'1e3'", "whole number"}, "not implemented", 0, NULL},
    {"cli-long-overflow", {"train", "adding", "--model", "lstm", "--T", "99999999999999999999999"}, {0}, 2,
     {"--T", "out of range"}, "not implemented", 0, NULL},
    {"cli-model-kind-typo", {"model", "lstn"}, {0}, 2, {"'lstn'", "did you mean 'lstm'"}, NULL, 0, NULL},
    {"charrnn-text-missing", {"train", "charrnn", "--text", "@T/nope.txt"}, {0}, 2,
     {"@T/nope.txt", "No such file"}, NULL, 0, NULL},
    {"charrnn-text-dir", {"train", "charrnn", "--text", "@T/adir.lesson"}, {0}, 2,
     {"@T/adir.lesson", "directory"}, NULL, 0, NULL},
    {"charrnn-text-empty", {"train", "charrnn", "--text", "@T/empty.txt"}, {0}, 2,
     {"@T/empty.txt: error:", "empty", "at least 100"}, NULL, 0, NULL},
    {"charrnn-text-small", {"train", "charrnn", "--text", "@T/small.txt"}, {0}, 2,
     {"@T/small.txt: error:", "too small", "6 characters", "at least 100"}, NULL, 0, NULL},
    {"charrnn-text-one-char", {"train", "charrnn", "--text", "@T/one.txt"}, {0}, 2,
     {"@T/one.txt: error:", "too small", "one distinct character"}, NULL, 0, NULL},
    {"charrnn-text-latin1", {"train", "charrnn", "--text", "@T/latin1.txt"}, {0}, 2,
     {"@T/latin1.txt:2:3: error:", "not UTF-8", "0xef", "save it as UTF-8"}, NULL, 0, NULL},
    {"charrnn-text-nul", {"train", "charrnn", "--text", "@T/nul.txt"}, {0}, 2,
     {"@T/nul.txt:1:7: error:", "NUL"}, NULL, 0, NULL},
    {"charrnn-text-vocab", {"train", "charrnn", "--text", "@T/vocab.txt"}, {0}, 2,
     {"@T/vocab.txt:1:257: error:", "more than 256 distinct characters"}, NULL, 0, NULL},
    {"charrnn-text-large", {"train", "charrnn", "--text", "@T/large.txt"}, {0}, 2,
     {"@T/large.txt", "larger than 4194304 bytes"}, NULL, 5.0, NULL},
    {"charrnn-model-typo", {"train", "charrnn", "--model", "lstn"}, {0}, 2,
     {"--model", "'lstn'", "did you mean 'lstm'"}, NULL, 0, NULL},
    {"charrnn-steps-zero", {"train", "charrnn", "--steps", "0"}, {0}, 2,
     {"--steps", "'0'", "out of range", "1000000"}, NULL, 0, NULL},
    {"charrnn-temperature-zero", {"train", "charrnn", "--temperature", "0"}, {0}, 2,
     {"--temperature", "out of range", "0.05 to 5"}, NULL, 0, NULL},
    {"charrnn-work-limit", {"train", "charrnn", "--steps", "1000000", "--hidden", "512"}, {0}, 2,
     {"multiply-adds", "2^36", "use at most --steps"}, NULL, 5.0, NULL},

    // --- files that are not regular files, and what commands write (issue 8).
    // Rows with a setup, a skip or a look at the files afterwards are in
    // row_extras below.
    {"path-fifo-program", {"grad", "@T/fifo.expr"}, {0}, 2,
     {"@T/fifo.expr", "not a regular file (a FIFO)"}, NULL, 5.0, NULL},
    {"path-fifo-lesson", {"check", "@T/fifo.lesson"}, {0}, 2,
     {"@T/fifo.lesson", "not a regular file (a FIFO)"}, NULL, 5.0, NULL},
    {"path-fifo-npy", {"model", "lstm", "--weights", "@T/w", "--input", "@T/fifo.npy", "--out", "@T/o"},
     {0}, 2, {"@T/fifo.npy: error:", "not a regular file (a FIFO)"}, NULL, 5.0, NULL},
    {"path-fifo-weights", {"model", "lstm", "--weights", "@T/wfifo", "--input", "@T/x.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/wfifo/weight_ih_l0.npy: error:", "not a regular file (a FIFO)"}, NULL, 5.0, NULL},
    {"path-device-program", {"grad", "/dev/zero"}, {0}, 2,
     {"/dev/zero", "not a regular file (a character device)"}, NULL, 5.0, NULL},
    {"render-same-name", {"render", "@T/a/same.lesson", "@T/b/same.lesson", "--out", "@T/rsame"}, {0}, 0,
     {"wrote 2 PNGs", "same-2-stepNN.png"}, NULL, 0, NULL},
    {"render-symlink-output", {"render", "@T/ok.lesson", "--out", "@T/rsym"}, {0}, 0,
     {"wrote 1 PNG"}, NULL, 0, NULL},
    {"render-out-after-validation", {"render", "@T/ok.lesson", "@T/empty.lesson", "--out", "@T/rnever"},
     {0}, 2, {"@T/empty.lesson:", "no title"}, NULL, 0, NULL},
    {"render-out-is-file", {"render", "@T/ok.lesson", "--out", "@T/afile"}, {0}, 2,
     {"cannot create '@T/afile'", "not a folder"}, NULL, 0, NULL},
    {"render-out-broken-symlink", {"render", "@T/ok.lesson", "--out", "@T/dangling"}, {0}, 2,
     {"cannot create '@T/dangling'", "symbolic link to something that does not exist"}, NULL, 0, NULL},
    {"render-out-permission", {"render", "@T/ok.lesson", "--out", "@T/ro/sub"}, {0}, 2,
     {"cannot create '@T/ro/sub'", "Permission denied"}, NULL, 0, NULL},
    {"render-png-is-folder", {"render", "@T/ok.lesson", "--out", "@T/rdir"}, {0}, 2,
     {"cannot write '@T/rdir/ok-step01.png'", "it is a folder"}, NULL, 0, NULL},
    {"render-png-permission", {"render", "@T/ok.lesson", "--out", "@T/ro"}, {0}, 2,
     {"cannot write into '@T/ro'", "Permission denied"}, NULL, 0, NULL},
    {"model-out-is-file", {"model", "lstm", "--weights", "@T/w", "--input", "@T/x.npy", "--out", "@T/afile"},
     {0}, 2, {"--out", "cannot create '@T/afile'", "not a folder"}, NULL, 0, NULL},
    {"model-out-parents", {"model", "lstm", "--weights", "@T/w", "--input", "@T/x.npy", "--out",
     "@T/mnew/a/b"}, {0}, 0, {0}, NULL, 0, NULL},
    {"model-out-npy-is-folder", {"model", "lstm", "--weights", "@T/w", "--input", "@T/x.npy", "--out",
     "@T/mdir"}, {0}, 2, {"cannot write '@T/mdir/grad_input.npy'", "it is a folder"}, NULL, 0, NULL},
    {"model-out-symlink", {"model", "lstm", "--weights", "@T/w", "--input", "@T/x.npy", "--out", "@T/msym"},
     {0}, 0, {0}, NULL, 0, NULL},
    {"model-out-permission", {"model", "lstm", "--weights", "@T/w", "--input", "@T/x.npy", "--out",
     "@T/ro/m"}, {0}, 2, {"cannot create '@T/ro/m'", "Permission denied"}, NULL, 0, NULL},
    {"model-work-limit", {"model", "rnn", "--weights", "@T/wwide", "--input", "@T/xlong.npy", "--out",
     "@T/o"}, {0}, 2, {"@T/xlong.npy: error:", "multiply-adds", "1073741824", "at most 63"}, NULL, 5.0, NULL},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

// ---------------------------------------------------------------------------
// Fixtures

static char tmp[512];

static void die(const char *what)
{
    fprintf(stderr, "badinput: %s: %s\n", what, strerror(errno));
    exit(99);
}

static void put(const char *name, const void *data, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0)
        die(path);
}

// A string literal with its exact length, embedded NUL bytes included.
#define PUT_LIT(name, lit) put((name), (lit), sizeof(lit) - 1)

static void puts_file(const char *name, const char *text)
{
    put(name, text, strlen(text));
}

static void dir(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        die(path);
}

// A growing text buffer for the big fixtures.
typedef struct Buf {
    char *p;
    size_t n, cap;
} Buf;

static void bcat(Buf *b, const char *s)
{
    size_t k = strlen(s);
    if (b->n + k + 1 > b->cap) {
        b->cap = (b->n + k + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            die("realloc");
    }
    memcpy(b->p + b->n, s, k + 1);
    b->n += k;
}

static void put_buf(const char *name, Buf *b)
{
    put(name, b->p, b->n);
    free(b->p);
    *b = (Buf){0};
}

// An .npy file: header dict text padded to 64 bytes, then n data bytes.
static void npy(const char *name, const char *descr, const char *fortran, const char *shape,
                const void *data, size_t n)
{
    char hdr[512];
    int k = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
                     fortran, shape);
    while ((10 + k + 1) % 64)
        hdr[k++] = ' ';
    hdr[k++] = '\n';
    unsigned char *img = malloc(10 + (size_t)k + n);
    if (!img)
        die("malloc");
    memcpy(img, "\x93NUMPY\x01\x00", 8);
    img[8] = (unsigned char)(k & 0xff);
    img[9] = (unsigned char)(k >> 8);
    memcpy(img + 10, hdr, (size_t)k);
    if (n)
        memcpy(img + 10 + k, data, n);
    put(name, img, 10 + (size_t)k + n);
    free(img);
}

static const char lesson_head[] = "gradlab-lesson: 1\ntitle: t\nview: circuit\nprogram:\n    x = 2\n";

static void make_fixtures(void)
{
    dir("adir.lesson");
    puts_file("afile", "not a folder\n");
    dir("emptydata");
    dir("nofonts");
    dir("nofonts/assets");
    dir("nofonts/assets/fonts");
    dir("nofonts/lessons");

    // Lessons, small.
    puts_file("ok.lesson", "gradlab-lesson: 1\ntitle: t\nview: circuit\nprogram:\n    x = 2\n"
                           "    f = x * 2\nstep: done\ncheck: f == 4\n");
    PUT_LIT("empty.lesson", "");
    puts_file("truncated.lesson", "gradlab-lesson: 1\ntitle: t\nview: circuit\nprogram:\n");
    PUT_LIT("binary.lesson", "\x7f" "ELF\x02\x01\x01\x00\x00\x00\xff\xfe\n\x00\x01");
    puts_file("typo.lesson", "gradlab-lesson: 1\ntitles: t\nview: circuit\nprogram:\n    x = 2\nstep: done\n");
    puts_file("v3.lesson", "gradlab-lesson: 3\ntitle: t\nview: circuit\nprogram:\n    x = 2\nstep: done\n");
    puts_file("badname.lesson", "gradlab-lesson: 1\ntitle: t\nview: circuit\nprogram:\n    x = 2\n"
                                "    f = w * 2\nstep: done\n");
    puts_file("badstep.lesson", "gradlab-lesson: 1\ntitle: t\nview: circuit\nprogram:\n    x = 2\n"
                                "    f = x * 2\nstep: sideways f\n");
    puts_file("badcheck.lesson", "gradlab-lesson: 1\ntitle: t\nview: circuit\nprogram:\n    x = 2\n"
                                 "    f = x * 2\nstep: done\ncheck: f == four\n");
    puts_file("brace.lesson", "gradlab-lesson: 1\ntitle: t\nview: circuit\nprogram:\n    x = 2\n"
                              "    f = x * 2\nstep: intro\n    f is {f and so on\n");
    puts_file("latin1.lesson", "gradlab-lesson: 1\ntitle: caf\xe9\nview: circuit\nprogram:\n    x = 2\n"
                               "step: done\n");
    PUT_LIT("utf16.lesson", "\xff\xfeg\0r\0a\0d\0l\0a\0b\0");
    puts_file("bignum.lesson", "gradlab-lesson: 1\ntitle: t\nview: circuit\nprogram:\n    x = 1e99999\n"
                               "    f = x * 2\nstep: done\n");

    // Lessons, big.
    Buf b = {0};
    bcat(&b, lesson_head);
    bcat(&b, "    f = x * 2\nstep: done\n");
    while (b.n <= (1u << 20))
        bcat(&b, "# padding padding padding padding padding padding padding padding padding\n");
    put_buf("huge.lesson", &b);

    bcat(&b, lesson_head);
    bcat(&b, "    f = ");
    for (int i = 0; i < 5000; i++)
        bcat(&b, "(");
    bcat(&b, "x");
    for (int i = 0; i < 5000; i++)
        bcat(&b, ")");
    bcat(&b, "\nstep: done\n");
    put_buf("deep.lesson", &b);

    bcat(&b, lesson_head);
    bcat(&b, "    f = ");
    for (int i = 0; i < 5000; i++)
        bcat(&b, "-");
    bcat(&b, "x\nstep: done\n");
    put_buf("deepneg.lesson", &b);

    bcat(&b, lesson_head);
    bcat(&b, "    f = x");
    for (int i = 0; i < 5000; i++)
        bcat(&b, " + x");
    bcat(&b, "\nstep: done\n");
    put_buf("chain.lesson", &b);

    // 1 MiB of distinct names: a = 1 for 70000 names.
    bcat(&b, lesson_head);
    for (int i = 0; b.n < (1u << 20) - 200; i++) {
        char line[64];
        snprintf(line, sizeof line, "    a%d = 1\n", i);
        bcat(&b, line);
    }
    bcat(&b, "    f = a1 * 2\nstep: done\n");
    put_buf("names.lesson", &b);

    // A chain of 45000 gates, one step: the circuit view must cope (or refuse).
    bcat(&b, lesson_head);
    for (int i = 0; i < 45000; i++)
        bcat(&b, "    x = x * 1\n");
    bcat(&b, "step: done\n");
    put_buf("circuit.lesson", &b);

    // The same chain drawn by the graph widget.
    bcat(&b, "gradlab-lesson: 1\ntitle: t\nview: graph\nprogram:\n    x = 2\n");
    for (int i = 0; i < 45000; i++)
        bcat(&b, "    x = x * 1\n");
    bcat(&b, "step: intro\nstep: done\n");
    put_buf("graph.lesson", &b);

    bcat(&b, lesson_head);
    bcat(&b, "    f = x * 2\n");
    for (int i = 0; i < 600; i++)
        bcat(&b, "step: done\n");
    put_buf("steps.lesson", &b);

    bcat(&b, lesson_head);
    bcat(&b, "    f = x * 2\nstep: done\n");
    for (int i = 0; i < 600; i++)
        bcat(&b, "check: f == 4\n");
    put_buf("checks.lesson", &b);

    // Programs.
    puts_file("badname.expr", "x = 2\ny = 3\nf = w * y\n");
    puts_file("unclosed.expr", "f = (2 + 3\n");
    puts_file("latin1.expr", "x = 2\n\xe9t\xe9 = x * 2\n");
    bcat(&b, "f = ");
    for (int i = 0; i < 5000; i++)
        bcat(&b, "(");
    bcat(&b, "1");
    for (int i = 0; i < 5000; i++)
        bcat(&b, ")");
    bcat(&b, "\n");
    put_buf("deep.expr", &b);

    // .npy: an LSTM with I = 1, H = 1, and inputs (B, T, I) = (1, 2, 1).
    static const float four[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    static const float two[2] = {1, 2};
    static const int64_t ints[2] = {1, 2};
    dir("w");
    dir("wbad");
    const char *params[4] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
    for (int k = 0; k < 4; k++) {
        char name[256];
        snprintf(name, sizeof name, "w/%s.npy", params[k]);
        npy(name, "<f4", "False", k < 2 ? "(4, 1)" : "(4,)", four, sizeof four);
        snprintf(name, sizeof name, "wbad/%s.npy", params[k]);
        npy(name, "<f4", "False", k == 1 ? "(2, 2)" : k < 2 ? "(4, 1)" : "(4,)", four, sizeof four);
    }
    npy("x.npy", "<f4", "False", "(1, 2, 1)", two, sizeof two);
    dir("badcnn"); // a pretrained steering CNN whose first file has the wrong shape
    npy("badcnn/c1w.npy", "<f4", "False", "(1, 2, 1)", two, sizeof two);
    PUT_LIT("empty.npy", "");
    PUT_LIT("magic.npy", "PK\x03\x04 this is a zip file, not npy");
    PUT_LIT("cuthdr.npy", "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_");
    npy("cutdata.npy", "<f4", "False", "(1, 2, 1)", two, 5);
    npy("int64.npy", "<i8", "False", "(1, 2, 1)", ints, sizeof ints);
    npy("big.npy", ">f4", "False", "(1, 2, 1)", two, sizeof two);
    npy("fortran.npy", "<f4", "True", "(1, 2, 1)", two, sizeof two);
    npy("hugeshape.npy", "<f4", "False", "(1000000000, 1000000000, 1)", two, sizeof two);
    npy("negdim.npy", "<f4", "False", "(1, -2, 1)", two, sizeof two);
    npy("dims9.npy", "<f4", "False", "(1, 1, 1, 1, 1, 1, 1, 1, 2)", two, sizeof two);
    PUT_LIT("hdrlen.npy", "\x93NUMPY\x01\x00\xff\xff{'descr': '<f4'}");
    npy("rank2.npy", "<f4", "False", "(2, 1)", two, sizeof two);
    npy("wrongI.npy", "<f4", "False", "(1, 1, 2)", two, sizeof two);

    // Texts for `train charrnn`.
    PUT_LIT("empty.txt", "");
    puts_file("small.txt", "hello\n");
    PUT_LIT("latin1.txt", "line one is fine\nna\xefve in Latin-1\n");
    PUT_LIT("nul.txt", "a text\0with a NUL byte in it");
    puts_file("one.txt", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    {
        char vocab[300 * 2 + 1];  // 300 distinct two-byte code points, U+0100 on
        for (int i = 0; i < 300; i++) {
            vocab[2 * i] = (char)(0xC0 | ((0x100 + i) >> 6));
            vocab[2 * i + 1] = (char)(0x80 | ((0x100 + i) & 0x3F));
        }
        put("vocab.txt", vocab, sizeof vocab - 1);
        static char large[(4u << 20) + 16];  // over the 4 MiB limit
        memset(large, 'a', sizeof large);
        put("large.txt", large, sizeof large);
    }
}

// The fixtures of the issue-8 rows: FIFOs, symlinks, folders in the way of
// outputs, a read-only folder and a legal but very wide RNN.
static void make_file_fixtures(void)
{
    char path[1024], target[1024];
    const char *fifos[] = {"fifo.expr", "fifo.lesson", "fifo.npy", "wfifo/weight_ih_l0.npy"};
    dir("wfifo");
    for (size_t i = 0; i < sizeof fifos / sizeof fifos[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp, fifos[i]);
        if (mkfifo(path, 0644) != 0)
            die(path);
    }
    // Two lessons with one file name, in two folders.
    static const char ok[] = "gradlab-lesson: 1\ntitle: t\nview: circuit\nprogram:\n    x = 2\n"
                             "    f = x * 2\nstep: done\ncheck: f == 4\n";
    dir("a");
    dir("b");
    puts_file("a/same.lesson", ok);
    puts_file("b/same.lesson", ok);
    // Outputs that are symlinks to a file that must survive, and folders.
    puts_file("victim.txt", "keep me\n");
    dir("rsym");
    dir("msym");
    snprintf(target, sizeof target, "%s/victim.txt", tmp);
    snprintf(path, sizeof path, "%s/rsym/ok-step01.png", tmp);
    if (symlink(target, path) != 0)
        die(path);
    snprintf(path, sizeof path, "%s/msym/output.npy", tmp);
    if (symlink(target, path) != 0)
        die(path);
    snprintf(target, sizeof target, "%s/missing", tmp);
    snprintf(path, sizeof path, "%s/dangling", tmp);
    if (symlink(target, path) != 0)
        die(path);
    dir("rdir");
    dir("rdir/ok-step01.png");
    dir("mdir");
    dir("mdir/grad_input.npy");
    dir("ro");
    snprintf(path, sizeof path, "%s/ro", tmp);
    if (chmod(path, 0555) != 0)
        die(path);
    // An RNN with H = 4096 (W_hh is 64 MB, a legal file; sparse here) and a
    // sequence of 2000 steps: about 30 s of work before the limit.
    dir("wwide");
    static float col[4096];
    npy("wwide/weight_ih_l0.npy", "<f4", "False", "(4096, 1)", col, sizeof col);
    npy("wwide/weight_hh_l0.npy", "<f4", "False", "(4096, 4096)", NULL, 0);
    struct stat st;
    snprintf(path, sizeof path, "%s/wwide/weight_hh_l0.npy", tmp);
    if (stat(path, &st) != 0 || truncate(path, st.st_size + (off_t)4096 * 4096 * 4) != 0)
        die(path);
    static float seq[2000];
    npy("xlong.npy", "<f4", "False", "(1, 2000, 1)", seq, sizeof seq);
}

// ---------------------------------------------------------------------------
// Rows that need more than a status and a message: a reason to skip them
// here, and a look at the files they leave behind. Each returns NULL when
// all is well, else the reason.

static const char *skip_as_root(void)
{
    return geteuid() == 0 ? "running as root, which permission checks do not stop (the "
                            "unit test test_npy covers the saved errno)"
                          : NULL;
}

static bool lstat_at(const char *rel, struct stat *st)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    return lstat(path, st) == 0;
}

static bool is_regular(const char *rel)
{
    struct stat st;
    return lstat_at(rel, &st) && S_ISREG(st.st_mode);
}

// The names in folder rel that end in suffix; temporary files count too.
static int count_files(const char *rel, const char *suffix)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t k = strlen(e->d_name), m = strlen(suffix);
        if (e->d_name[0] == '.')
            n += strstr(e->d_name, ".tmp-") != NULL;
        else
            n += k >= m && strcmp(e->d_name + k - m, suffix) == 0;
    }
    if (d)
        closedir(d);
    return n;
}

static const char *victim_intact(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/victim.txt", tmp);
    size_t n;
    FILE *f = fopen(path, "rb");
    char buf[64] = "";
    n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return strcmp(buf, "keep me\n") == 0 ? NULL : "the file the symlink points to was overwritten";
}

static const char *after_render_same_name(void)
{
    if (!is_regular("rsame/same-step01.png") || !is_regular("rsame/same-2-step01.png"))
        return "rsame/ lacks same-step01.png or same-2-step01.png";
    return count_files("rsame", ".png") == 2 ? NULL : "rsame/ does not hold exactly the 2 PNGs reported";
}

static const char *after_render_symlink(void)
{
    if (!is_regular("rsym/ok-step01.png"))
        return "rsym/ok-step01.png is still not a regular file";
    return victim_intact();
}

static const char *after_render_never(void)
{
    struct stat st;
    return lstat_at("rnever", &st) ? "the failed render left its --out folder behind" : NULL;
}

static const char *after_render_png_folder(void)
{
    return count_files("rdir", ".png") == 1 ? NULL : "a temporary file was left in rdir/";
}

static const char *after_model_parents(void)
{
    return is_regular("mnew/a/b/output.npy") && is_regular("mnew/a/b/grad_weight_hh_l0.npy")
               ? NULL
               : "mnew/a/b/ lacks output.npy or grad_weight_hh_l0.npy";
}

static const char *after_model_npy_folder(void)
{
    // Found before computing: nothing written, no temporary file left.
    return count_files("mdir", ".npy") == 1 ? NULL : "files were written to mdir/ (or left there)";
}

static const char *after_model_symlink(void)
{
    if (!is_regular("msym/output.npy"))
        return "msym/output.npy is still not a regular file";
    return victim_intact();
}

typedef struct RowExtra {
    const char *id;
    const char *(*skip)(void);    // a reason to skip the row here, or NULL
    const char *(*after)(void);   // what is wrong with the files after the run, or NULL
} RowExtra;

static const RowExtra row_extras[] = {
    {"render-same-name", NULL, after_render_same_name},
    {"render-symlink-output", NULL, after_render_symlink},
    {"render-out-after-validation", NULL, after_render_never},
    {"render-out-permission", skip_as_root, NULL},
    {"render-png-is-folder", NULL, after_render_png_folder},
    {"render-png-permission", skip_as_root, NULL},
    {"model-out-parents", NULL, after_model_parents},
    {"model-out-npy-is-folder", NULL, after_model_npy_folder},
    {"model-out-symlink", NULL, after_model_symlink},
    {"model-out-permission", skip_as_root, NULL},
};

static const RowExtra *row_extra(const char *id)
{
    for (size_t i = 0; i < sizeof row_extras / sizeof row_extras[0]; i++)
        if (strcmp(row_extras[i].id, id) == 0)
            return &row_extras[i];
    return NULL;
}

// ---------------------------------------------------------------------------
// Running one row

// s with every "@T" replaced by the fixture folder; into out[0..n).
static const char *expand(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++) {
        if (s[0] == '@' && s[1] == 'T') {
            k += (size_t)snprintf(out + k, n - k, "%s", tmp);
            s++;
        } else {
            out[k++] = *s;
        }
    }
    out[k < n ? k : n - 1] = '\0';
    return out;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    Buf b = {0};
    bcat(&b, "");
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk - 1, f)) > 0) {
        chunk[got] = '\0';
        // Keep NULs from hiding what follows: show them as '?'.
        for (size_t i = 0; i < got; i++)
            if (!chunk[i])
                chunk[i] = '?';
        bcat(&b, chunk);
    }
    fclose(f);
    *len = b.n;
    return b.p;
}

static const char *const bad_signs[] = {
    "AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
    "Assertion", "Segmentation fault", "core dumped", "==ERROR",
};

// Returns 1 on pass, 0 on failure, -1 when skipped (pending), -2 for a known
// bug that still fails (reported as TODO; not counted as a failure).
static int run_row(const char *gradlab, const Row *r, int num)
{
    char argbuf[MAX_ARGS][1024], envbuf[4][1024], out_path[1024], err_path[1024];
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = (char *)gradlab;
    for (int i = 0; i < MAX_ARGS && r->args[i]; i++)
        argv[argc++] = (char *)expand(r->args[i], argbuf[i], sizeof argbuf[i]);
    argv[argc] = NULL;
    snprintf(out_path, sizeof out_path, "%s/row.out", tmp);
    snprintf(err_path, sizeof err_path, "%s/row.err", tmp);
    const RowExtra *extra = row_extra(r->id);
    const char *skip = extra && extra->skip ? extra->skip() : NULL;
    if (skip) {
        printf("ok %d - %s # SKIP %s\n", num, r->id, skip);
        return -1;
    }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        for (int i = 0; i < 4 && r->env[i]; i++) {
            const char *e = expand(r->env[i], envbuf[i], sizeof envbuf[i]);
            if (e[0] == '-') {
                unsetenv(e + 1);
            } else {
                char *eq = strchr(envbuf[i], '=');
                *eq = '\0';
                setenv(envbuf[i], eq + 1, 1);
            }
        }
        if (!freopen("/dev/null", "r", stdin) || !freopen(out_path, "w", stdout) ||
            !freopen(err_path, "w", stderr))
            _exit(98);
        execv(gradlab, argv);
        _exit(97);
    }
    int wst = 0;
    struct rusage ru;
    // The wall clock only guards against hangs, generously: the machine may
    // be shared. A row's own limit is checked against the child's CPU time,
    // which other processes cannot inflate.
    long limit = ROW_TIMEOUT;
    bool hung = false;
    for (;;) {
        pid_t w = wait4(pid, &wst, WNOHANG, &ru);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            die("wait4");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > limit && !hung) {
            kill(pid, SIGKILL);
            hung = true;
        }
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 1e-6 * (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    size_t elen = 0, olen = 0;
    char *err = slurp(err_path, &elen);
    char *out = slurp(out_path, &olen);
    if (!err || !out)
        die("reading the output");

    char why[2048] = "";
    size_t wl = 0;
#define WHY(...) (wl += (size_t)snprintf(why + wl, wl < sizeof why ? sizeof why - wl : 0, __VA_ARGS__))
    int result = 1;
    if (r->pending && strstr(err, r->pending)) {
        result = -1;
    } else {
        if (hung)
            WHY("hung: killed after %ld s; ", limit);
        else if (r->max_secs > 0 && cpu > r->max_secs)
            WHY("took %.1f s of CPU, more than %.0f s; ", cpu, r->max_secs);
        if (hung)
            ;
        else if (WIFSIGNALED(wst))
            WHY("crashed: signal %d (%s); ", WTERMSIG(wst), strsignal(WTERMSIG(wst)));
        else if (WEXITSTATUS(wst) == 97)
            WHY("could not run %s; ", gradlab);
        else if (r->status != ANY_STATUS && WEXITSTATUS(wst) != r->status)
            WHY("exit status %d, expected %d; ", WEXITSTATUS(wst), r->status);
        for (int i = 0; i < 5 && r->want[i]; i++) {
            char w[1024];
            expand(r->want[i], w, sizeof w);
            if (!strstr(err, w))
                WHY("message lacks \"%s\"; ", w);
        }
        for (size_t i = 0; i < sizeof bad_signs / sizeof bad_signs[0]; i++)
            if (strstr(err, bad_signs[i]) || strstr(out, bad_signs[i]))
                WHY("output contains \"%s\"; ", bad_signs[i]);
        long rss_mb = ru.ru_maxrss / 1024;
        if (!hung && rss_mb > ROW_MAX_RSS_MB)
            WHY("peak memory %ld MB > %d MB; ", rss_mb, ROW_MAX_RSS_MB);
        if (elen > 64 * 1024)
            WHY("%zu bytes of messages (flooding the terminal); ", elen);
        const char *bad_files = !hung && extra && extra->after ? extra->after() : NULL;
        if (bad_files)
            WHY("%s; ", bad_files);
        if (wl)
            result = r->known ? -2 : 0;
    }
    if (result == -1) {
        printf("ok %d - %s # SKIP pending: \"%s\"\n", num, r->id, r->pending);
    } else if (result == -2) {
        printf("not ok %d - %s (%.2f s) # TODO known bug: %s\n  # %s\n", num, r->id, secs, r->known, why);
    } else {
        printf("%s %d - %s (%.2f s)\n", result ? "ok" : "not ok", num, r->id, secs);
        if (result && getenv("BADINPUT_VERBOSE")) {
            const char *nl = strchr(err, '\n');
            printf("  # %.*s\n", nl ? (int)(nl - err) : (int)strlen(err), err);
        }
        if (!result) {
            printf("  # %s\n  # command: gradlab", why);
            for (int i = 1; i < argc; i++)
                printf(" '%.200s'", argv[i]);
            printf("\n  # stderr:\n");
            const char *line = err;
            for (int n = 0; n < 12 && *line; n++) {
                const char *nl = strchr(line, '\n');
                int k = nl ? (int)(nl - line) : (int)strlen(line);
                printf("  #   %.*s\n", k > 300 ? 300 : k, line);
                line += k + (nl != NULL);
            }
        }
    }
    free(err);
    free(out);
    return result;
}

// ---------------------------------------------------------------------------
// TABLE.md: every row id (the first column, in backticks) must be a row here,
// and every row here must be in the table.

static int check_table(const char *path, int num)
{
    size_t len;
    char *text = slurp(path, &len);
    if (!text) {
        printf("not ok %d - TABLE.md lists exactly the tested rows # cannot read %s\n", num, path);
        return 0;
    }
    bool seen[NROWS] = {0};
    int bad = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, "| `", 3) == 0) {
            char *id = line + 3, *end = strchr(id, '`');
            if (end) {
                *end = '\0';
                size_t i = 0;
                while (i < NROWS && strcmp(rows[i].id, id) != 0)
                    i++;
                if (i == NROWS) {
                    printf("  # TABLE.md row '%s' has no test in badinput.c\n", id);
                    bad++;
                } else {
                    seen[i] = true;
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    for (size_t i = 0; i < NROWS; i++)
        if (!seen[i]) {
            printf("  # test '%s' has no row in TABLE.md\n", rows[i].id);
            bad++;
        }
    free(text);
    printf("%s %d - TABLE.md lists exactly the tested rows\n", bad ? "not ok" : "ok", num);
    return bad == 0;
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[2048];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: badinput GRADLAB [TABLE.md] [ROW-ID...]\n");
        return 2;
    }
    const char *gradlab = argv[1];
    const char *table = argc > 2 && strstr(argv[2], ".md") ? argv[2] : NULL;
    int first_id = table ? 3 : 2;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%s/gradlab-badinput-XXXXXX", base);
    if (!mkdtemp(tmp))
        die("mkdtemp");
    make_fixtures();
    make_file_fixtures();

    printf("TAP version 13\n");
    int num = 0, failed = 0;
    for (size_t i = 0; i < NROWS; i++) {
        bool chosen = argc <= first_id;
        for (int a = first_id; a < argc; a++)
            chosen |= strcmp(argv[a], rows[i].id) == 0;
        if (chosen && run_row(gradlab, &rows[i], ++num) == 0)
            failed++;
    }
    if (table && !check_table(table, ++num))
        failed++;
    printf("1..%d\n", num);
    if (getenv("BADINPUT_KEEP"))
        fprintf(stderr, "badinput: fixtures kept in %s\n", tmp);
    else
        remove_tree(tmp);
    return failed ? 1 : 0;
}
