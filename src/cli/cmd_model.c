// cmd_model.c: `gradlab model lstm|rnn`, one forward and backward pass of a
// recurrent layer on weights and inputs from .npy files, writing every
// output and gradient back as .npy. This is how gradlab is checked against
// PyTorch (tests/models/test_torch_compare.py) and how a user can feed it
// weights trained elsewhere.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "engine/fileio.h"
#include "engine/npy/npy.h"
#include "models/lstm.h"
#include "models/rnn.h"

// The work of one forward pass, in multiply-adds: B * T * G*H * (I + H).
// The backward pass costs about twice as much. 2^30 keeps the worst shape
// (batch 1 with the widest weights, where every step is a matrix-vector
// product that streams all of W_hh from memory) to seconds on a 2-core
// machine; see the help below.
#define MODEL_MAX_WORK ((int64_t)1 << 30)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gradlab model lstm|rnn --weights DIR --input X.npy [--h0 H0.npy] [--c0 C0.npy]\n"
            "                     [--grad-output G.npy] [--nonlinearity tanh|relu] --out DIR\n"
            "\n"
            "Run one forward and backward pass of a one-layer LSTM or RNN (PyTorch's\n"
            "nn.LSTM / nn.RNN with batch_first=True) and write every result as .npy.\n"
            "\n"
            "  --weights DIR        weight_ih_l0.npy, weight_hh_l0.npy, bias_ih_l0.npy and\n"
            "                       bias_hh_l0.npy, as in PyTorch's state_dict (no bias files:\n"
            "                       a layer without biases, as with bias=False)\n"
            "  --input X.npy        the input, shape (B, T, I)\n"
            "  --h0 H0.npy          initial hidden state (1, B, H) or (B, H); default zeros\n"
            "  --c0 C0.npy          initial cell state, lstm only; default zeros\n"
            "  --grad-output G.npy  dL/doutput (B, T, H); default ones (L = sum of the output)\n"
            "  --nonlinearity F     rnn only: tanh (default) or relu\n"
            "  --out DIR            where to write output.npy (B, T, H), h_n.npy, c_n.npy (lstm),\n"
            "                       grad_input.npy, grad_h0.npy, grad_c0.npy (lstm) and\n"
            "                       grad_<param>.npy for each parameter; created if missing,\n"
            "                       with its parents, and checked before anything is\n"
            "                       computed. Files there are replaced (a symlink itself,\n"
            "                       not the file it points to)\n"
            "\n"
            ".npy files must be regular files, version 1.0 or 2.0, '<f4' or '<f8', C order,\n"
            "with at most %d dimensions and %lld elements (%lld MB as float32).\n"
            "\n"
            "Limits (anything larger is refused before any work, exit status 2):\n"
            "  batch B <= %d, sequence length T <= %d, input size I <= %d,\n"
            "  hidden size H <= %d; all buffers together <= %zu MB; and\n"
            "  B * T * G*H * (I + H) <= %lld multiply-adds (2^30) for the forward pass,\n"
            "  G = 4 for lstm, 1 for rnn: a few seconds of work. For example an rnn with\n"
            "  H = 4096, I = 1 and B = 1 allows T <= %lld; with H = 256, I = 1 it allows\n"
            "  B * T <= %lld.\n",
            NPY_MAX_DIMS, (long long)NPY_MAX_ELEMENTS, (long long)NPY_MAX_ELEMENTS * 4 >> 20,
            MODEL_MAX_BATCH, MODEL_MAX_STEPS, MODEL_MAX_INPUT, MODEL_MAX_HIDDEN,
            MODEL_MAX_FLOATS * sizeof(float) >> 20, (long long)MODEL_MAX_WORK,
            (long long)(MODEL_MAX_WORK / (4096 * 4097)), (long long)(MODEL_MAX_WORK / (256 * 257)));
}

// The names of the output files, without ".npy", in the order written.
enum { OUT_MAX = 10 };

typedef struct ModelArgs {
    bool is_lstm;
    const char *weights, *input, *h0, *c0, *gout, *out;
    int act;   // RNN_TANH or RNN_RELU
} ModelArgs;

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
    int k = snprintf(buf, n, "(");
    for (int d = 0; d < ndim && k > 0 && (size_t)k < n; d++)
        k += snprintf(buf + k, n - (size_t)k, "%lld%s", (long long)shape[d],
                      d + 1 < ndim ? ", " : ndim == 1 ? "," : "");
    if (k > 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, ")");
}

static bool load(const char *path, Npy *a)
{
    char err[NPY_ERR_MAX];
    if (!npy_load(path, a, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return false;
    }
    return true;
}

// Check that a has shape want[0..ndim); print an error naming path otherwise.
static bool expect_shape(const char *path, const Npy *a, int ndim, const int64_t *want,
                         const char *what)
{
    bool ok = a->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++)
        ok = a->shape[d] == want[d];
    if (!ok) {
        char got[128], exp[128];
        shape_str(got, sizeof got, a->ndim, a->shape);
        shape_str(exp, sizeof exp, ndim, want);
        fprintf(stderr, "%s: error: shape %s does not match %s; expected %s\n", path, got, what,
                exp);
    }
    return ok;
}

// A state file (h0, c0, their gradients): (1, B, H) or (B, H).
static bool expect_state(const char *path, const Npy *a, int64_t B, int64_t H)
{
    if (a->ndim == 2)
        return expect_shape(path, a, 2, (int64_t[]){B, H}, "the batch and hidden size");
    return expect_shape(path, a, 3, (int64_t[]){1, B, H}, "the batch and hidden size");
}

// The output files, each created (as a temporary file next to its final
// name) before anything is computed, so that every output problem is found
// up front; written and renamed into place at the end.
typedef struct Outputs {
    int n;
    char names[OUT_MAX][64];      // "output", "grad_h0", ...
    char paths[OUT_MAX][4200];    // DIR/NAME.npy
    char tmps[OUT_MAX][4400];     // the temporary files, "" once renamed or removed
    FILE *files[OUT_MAX];         // open on tmps[k] until written
} Outputs;

// The files to write for this model.
static void outputs_list(Outputs *o, bool is_lstm, bool no_bias)
{
    memset(o, 0, sizeof *o);
    const char *fixed[6] = {"output", "h_n", "c_n", "grad_input", "grad_h0", "grad_c0"};
    for (int k = 0; k < 6; k++)
        if (is_lstm || (k != 2 && k != 5))
            snprintf(o->names[o->n++], sizeof o->names[0], "%s", fixed[k]);
    for (int k = 0; k < (no_bias ? 2 : 4); k++)
        snprintf(o->names[o->n++], sizeof o->names[0], "grad_%s", lstm_param_names[k]);
}

// Remove every temporary file that is left. Safe to call twice.
static void outputs_discard(Outputs *o)
{
    for (int k = 0; k < o->n; k++) {
        if (o->files[k])
            fclose(o->files[k]);
        o->files[k] = NULL;
        file_temp_discard(o->tmps[k]);
        o->tmps[k][0] = '\0';
    }
}

// Create dir (and its parents) and a temporary file for every output.
// Prints the error and returns false (nothing left behind but folders).
static bool outputs_open(Outputs *o, const char *dir)
{
    char why[4600];
    if (!file_make_dir(dir, true, why, sizeof why)) {
        fprintf(stderr, "gradlab: error: --out: %s\n", why);
        return false;
    }
    for (int k = 0; k < o->n; k++) {
        if (snprintf(o->paths[k], sizeof o->paths[k], "%s/%s.npy", dir, o->names[k]) >=
            (int)sizeof o->paths[k]) {
            fprintf(stderr, "gradlab: error: --out: the path '%.100s...' is too long\n", dir);
            outputs_discard(o);
            return false;
        }
        int fd = file_temp_open(o->paths[k], o->tmps[k], sizeof o->tmps[k], why, sizeof why);
        if (fd >= 0 && !(o->files[k] = fdopen(fd, "wb"))) {
            snprintf(why, sizeof why, "%s", strerror(errno));
            close(fd);
        }
        if (!o->files[k]) {
            fprintf(stderr, "gradlab: error: --out: cannot write '%s': %s\n", o->paths[k], why);
            outputs_discard(o);
            return false;
        }
    }
    return true;
}

// Write output name (which outputs_list listed) and rename it into place.
static bool outputs_write(Outputs *o, const char *name, const float *data, int ndim,
                          const int64_t *shape)
{
    int k = 0;
    while (k < o->n && strcmp(o->names[k], name) != 0)
        k++;
    if (k == o->n || !o->files[k])
        return false;   // not listed: a bug here, not the user's
    char err[NPY_ERR_MAX], why[256];
    bool ok = npy_write(o->files[k], o->paths[k], data, ndim, shape, err, sizeof err);
    errno = 0;
    if (fclose(o->files[k]) != 0 && ok) {
        ok = false;
        snprintf(err, sizeof err, "%s: error: cannot write: %s", o->paths[k],
                 strerror(errno ? errno : EIO));
    }
    o->files[k] = NULL;
    if (ok && !file_temp_commit(o->tmps[k], o->paths[k], why, sizeof why)) {
        ok = false;
        snprintf(err, sizeof err, "%s: error: cannot write: %s", o->paths[k], why);
    }
    if (!ok) {
        fprintf(stderr, "%s\n", err);
        file_temp_discard(o->tmps[k]);
    }
    o->tmps[k][0] = '\0';
    return ok;
}

// The forward work B * T * G*H * (I + H) against MODEL_MAX_WORK. All
// factors are bounded by recurrent_check_size, so nothing overflows.
static bool check_work(const char *path, int64_t B, int64_t T, int64_t I, int64_t H, int G)
{
    int64_t per_step = B * G * H * (I + H);
    if (per_step <= MODEL_MAX_WORK / T)
        return true;
    fprintf(stderr,
            "%s: error: batch %lld x length %lld with input %lld and hidden %lld is %.3g "
            "multiply-adds per pass, more than the limit of %lld (2^30) that keeps a run to "
            "seconds; at this input and hidden size, batch x length may be at most %lld\n",
            path, (long long)B, (long long)T, (long long)I, (long long)H,
            (double)per_step * (double)T, (long long)MODEL_MAX_WORK,
            (long long)(MODEL_MAX_WORK / (G * H * (I + H))));
    return false;
}

static int parse(int argc, char **argv, ModelArgs *a)
{
    static const char *const kinds[] = {"lstm", "rnn"};
    static const char *const acts[] = {"tanh", "relu"};
    memset(a, 0, sizeof *a);
    a->act = RNN_TANH;
    bool have_act = false;
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    int kind;
    if (!arg_choice("model", argv[1], kinds, 2, &kind))
        return 2;
    a->is_lstm = kind == 0;
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        const char **slot = strcmp(f, "--weights") == 0       ? &a->weights
                            : strcmp(f, "--input") == 0       ? &a->input
                            : strcmp(f, "--h0") == 0          ? &a->h0
                            : strcmp(f, "--c0") == 0          ? &a->c0
                            : strcmp(f, "--grad-output") == 0 ? &a->gout
                            : strcmp(f, "--out") == 0         ? &a->out
                                                              : NULL;
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (slot) {
            if (!(*slot = arg_value(argc, argv, &i)))
                return 2;
        } else if (strcmp(f, "--nonlinearity") == 0) {
            const char *v = arg_value(argc, argv, &i);
            if (!v || !arg_choice(f, v, acts, 2, &a->act))
                return 2;
            have_act = true;
        } else {
            fprintf(stderr, "gradlab: error: model: unknown option '%.60s'; see gradlab model --help\n", f);
            return 2;
        }
    }
    const char *missing = !a->weights ? "--weights" : !a->input ? "--input" : !a->out ? "--out" : NULL;
    if (missing) {
        fprintf(stderr, "gradlab: error: model: %s is required; see gradlab model --help\n", missing);
        return 2;
    }
    if (a->is_lstm && have_act) {
        fprintf(stderr, "gradlab: error: model: --nonlinearity applies to rnn only\n");
        return 2;
    }
    if (!a->is_lstm && a->c0) {
        fprintf(stderr, "gradlab: error: model: --c0 applies to lstm only (an RNN has no cell state)\n");
        return 2;
    }
    return -1;
}

int cmd_model(int argc, char **argv)
{
    ModelArgs a;
    int rc = parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    // The output folder first, creating nothing: a typo there should not
    // cost a load of 256 MB of weights.
    char why[4600];
    if (!file_check_dir(a.out, true, why, sizeof why)) {
        fprintf(stderr, "gradlab: error: --out: %s\n", why);
        return 2;
    }
    rc = 2;
    const int G = a.is_lstm ? 4 : 1;
    Npy w[4] = {{0}}, x = {0}, h0 = {0}, c0 = {0}, gout = {0};
    char paths[4][4096];
    Lstm *lstm = NULL;
    Rnn *rnn = NULL;
    bool no_bias = false;
    float *out = NULL, *dx = NULL, *ones = NULL;
    Outputs outs = {0};

    for (int k = 0; k < 4; k++) {
        if (snprintf(paths[k], sizeof paths[k], "%s/%s.npy", a.weights, lstm_param_names[k]) >=
            (int)sizeof paths[k]) {
            fprintf(stderr, "gradlab: error: --weights: the path is too long\n");
            goto done;
        }
        // nn.LSTM(bias=False) has no bias entries: when neither bias file
        // exists, the biases are zero and get no gradient files.
        if (k == 2 && access(paths[2], F_OK) != 0 && errno == ENOENT) {
            char other[4096];
            snprintf(other, sizeof other, "%s/%s.npy", a.weights, lstm_param_names[3]);
            if (access(other, F_OK) != 0 && errno == ENOENT) {
                no_bias = true;
                break;
            }
        }
        if (!load(paths[k], &w[k]))
            goto done;
    }
    // Sizes from weight_ih_l0 (G*H, I); everything else must agree.
    if (w[0].ndim != 2 || w[0].shape[0] % G != 0 || w[0].shape[0] == 0 || w[0].shape[1] == 0) {
        char s[128];
        shape_str(s, sizeof s, w[0].ndim, w[0].shape);
        fprintf(stderr, "%s: error: shape %s is not (%sH, I) with H, I >= 1\n", paths[0], s,
                a.is_lstm ? "4*" : "");
        goto done;
    }
    int64_t H = w[0].shape[0] / G, I = w[0].shape[1];
    if (!expect_shape(paths[1], &w[1], 2, (int64_t[]){G * H, H}, "the hidden size of weight_ih_l0") ||
        (!no_bias &&
         (!expect_shape(paths[2], &w[2], 1, (int64_t[]){G * H}, "the hidden size of weight_ih_l0") ||
          !expect_shape(paths[3], &w[3], 1, (int64_t[]){G * H}, "the hidden size of weight_ih_l0"))))
        goto done;
    if (!load(a.input, &x))
        goto done;
    if (x.ndim != 3 || x.shape[2] != I) {
        char s[128];
        shape_str(s, sizeof s, x.ndim, x.shape);
        fprintf(stderr, "%s: error: shape %s is not (B, T, I) with I = %lld as in the weights\n",
                a.input, s, (long long)I);
        goto done;
    }
    int64_t B = x.shape[0], T = x.shape[1];
    char err[256];
    if (!recurrent_check_size(B, T, I, H, G, err, sizeof err)) {
        fprintf(stderr, "%s: error: %s\n", a.input, err);
        goto done;
    }
    if (!check_work(a.input, B, T, I, H, G))
        goto done;
    if (a.h0 && (!load(a.h0, &h0) || !expect_state(a.h0, &h0, B, H)))
        goto done;
    if (a.c0 && (!load(a.c0, &c0) || !expect_state(a.c0, &c0, B, H)))
        goto done;
    if (a.gout && (!load(a.gout, &gout) ||
                   !expect_shape(a.gout, &gout, 3, (int64_t[]){B, T, H}, "the output (B, T, H)")))
        goto done;
    // Every input is good: create the outputs before computing anything.
    outputs_list(&outs, a.is_lstm, no_bias);
    if (!outputs_open(&outs, a.out))
        goto done;

    rc = 1;
    size_t nout = (size_t)(B * T * H);
    out = malloc(nout * sizeof(float));
    dx = malloc((size_t)(B * T * I) * sizeof(float));
    if (!a.gout)
        ones = malloc(nout * sizeof(float));
    if (a.is_lstm)
        lstm = lstm_create((int)I, (int)H);
    else
        rnn = rnn_create((int)I, (int)H, (RnnAct)a.act);
    if (!out || !dx || (!a.gout && !ones) || (!lstm && !rnn)) {
        fprintf(stderr, "gradlab: error: model: out of memory\n");
        goto done;
    }
    for (size_t i = 0; ones && i < nout; i++)
        ones[i] = 1.0f;
    const float *dout = a.gout ? gout.data : ones;
    for (int k = 0; k < (no_bias ? 2 : 4); k++) {   // created with zero biases
        size_t n;
        int r, c;
        float *p = lstm ? lstm_param(lstm, k, false, &n, &r, &c) : rnn_param(rnn, k, false, &n, &r, &c);
        memcpy(p, w[k].data, n * sizeof(float));
    }
    bool ok = lstm ? lstm_forward(lstm, x.data, a.h0 ? h0.data : NULL, a.c0 ? c0.data : NULL,
                                  (int)B, (int)T)
                   : rnn_forward(rnn, x.data, a.h0 ? h0.data : NULL, (int)B, (int)T);
    if (!ok) {
        fprintf(stderr, "gradlab: error: model: out of memory\n");
        goto done;
    }
    if (lstm) {
        lstm_zero_grad(lstm);
        lstm_backward(lstm, dout, NULL, NULL);
    } else {
        rnn_zero_grad(rnn);
        rnn_backward(rnn, dout, NULL);
    }

    rc = 2;   // from here on, only writing the outputs can fail
    int64_t btH[3] = {B, T, H}, btI[3] = {B, T, I}, state[3] = {1, B, H};
    RecurrentStep last = lstm ? lstm_step(lstm, (int)T - 1) : rnn_step(rnn, (int)T - 1);
    if (lstm)
        lstm_output(lstm, out);
    else
        rnn_output(rnn, out);
    if (!outputs_write(&outs, "output", out, 3, btH) || !outputs_write(&outs, "h_n", last.h, 3, state))
        goto done;
    if (lstm && !outputs_write(&outs, "c_n", last.c, 3, state))
        goto done;
    if (lstm)
        lstm_grad_input(lstm, dx);
    else
        rnn_grad_input(rnn, dx);
    if (!outputs_write(&outs, "grad_input", dx, 3, btI) ||
        !outputs_write(&outs, "grad_h0", lstm ? lstm->dh0 : rnn->dh0, 3, state))
        goto done;
    if (lstm && !outputs_write(&outs, "grad_c0", lstm->dc0, 3, state))
        goto done;
    for (int k = 0; k < (no_bias ? 2 : 4); k++) {
        size_t n;
        int r, c;
        const float *g = lstm ? lstm_param(lstm, k, true, &n, &r, &c) : rnn_param(rnn, k, true, &n, &r, &c);
        char name[64];
        snprintf(name, sizeof name, "grad_%s", lstm_param_names[k]);
        int64_t shape[2] = {r, c};
        if (!outputs_write(&outs, name, g, k < 2 ? 2 : 1, shape))   // weights 2-D, biases 1-D
            goto done;
    }
    rc = 0;
done:
    outputs_discard(&outs);
    for (int k = 0; k < 4; k++)
        npy_free(&w[k]);
    npy_free(&x);
    npy_free(&h0);
    npy_free(&c0);
    npy_free(&gout);
    free(out);
    free(dx);
    free(ones);
    lstm_destroy(lstm);
    rnn_destroy(rnn);
    return rc;
}
