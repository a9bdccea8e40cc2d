// charlstm_driver.c: trains models/charlstm.h on a text for the PyTorch
// comparison (test_charlstm_torch.py): saves the initial parameters as .npy,
// prints the loss of every step, saves the parameters after the last step.
//
// usage: charlstm_driver TEXT OUTDIR HIDDEN T STEPS SEED [EPS]
//   EPS replaces Adagrad's 1e-8 (see test_charlstm_torch.py);
//   OUTDIR/init_{weight_ih,weight_hh,bias_ih,bias_hh,why,by}.npy, then the
//   same with final_; stdout: "V N" then one loss per line.
#include <stdio.h>
#include <stdlib.h>

#include "engine/npy/npy.h"
#include "models/charlstm.h"
#include "models/chartext.h"

static int save(const CharLstm *m, const char *dir, const char *stage)
{
    const char *names[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "why", "by"};
    const int V = m->V, H = m->H;
    const float *data[] = {m->lstm->p.w_ih, m->lstm->p.w_hh, m->lstm->p.b_ih, m->lstm->p.b_hh, m->head,
                           m->head + (size_t)V * H};
    int64_t shapes[][2] = {{4 * H, V}, {4 * H, H}, {4 * H, 0}, {4 * H, 0}, {V, H}, {V, 0}};
    int ndims[] = {2, 2, 1, 1, 2, 1};
    for (int k = 0; k < 6; k++) {
        char path[4096], err[4300];
        snprintf(path, sizeof(path), "%s/%s_%s.npy", dir, stage, names[k]);
        if (!npy_save(path, data[k], ndims[k], shapes[k], err, sizeof(err))) {
            fprintf(stderr, "charlstm_driver: %s\n", err);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: charlstm_driver TEXT OUTDIR HIDDEN T STEPS SEED [EPS]\n");
        return 2;
    }
    CharText t;
    char err[4300];
    if (!chartext_load(argv[1], &t, err, sizeof(err))) {
        fprintf(stderr, "charlstm_driver: %s\n", err);
        return 2;
    }
    int H = atoi(argv[3]), T = atoi(argv[4]), steps = atoi(argv[5]);
    CharLstm *m = charlstm_create(t.ids, t.len, H, T, 0.1f, 5.0f, (uint64_t)atoll(argv[6]));
    if (!m) {
        fprintf(stderr, "charlstm_driver: cannot create the model\n");
        return 1;
    }
    if (argc == 8)
        m->opt_lstm->cfg.eps = m->opt_head->cfg.eps = (float)atof(argv[7]);
    int rc = save(m, argv[2], "init");
    printf("%d %zu\n", t.V, t.len);
    for (int s = 0; s < steps && !rc; s++)
        printf("%.9g\n", charlstm_step(m));
    rc = rc ? rc : save(m, argv[2], "final");
    charlstm_destroy(m);
    chartext_free(&t);
    return rc;
}
