// optim_driver.c: a test helper that runs gradlab's optimizers on arrays
// from .npy files, for test_optim_torch.py to compare with torch.optim.
//
// usage: optim_driver KIND PARAMS.npy GRADS.npy OUT.npy [lr momentum nesterov
//                     alpha beta1 beta2 eps weight_decay]
// GRADS holds one gradient per step, shape (steps, n); PARAMS is (n,).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/npy/npy.h"
#include "engine/optim/optim.h"

int main(int argc, char **argv)
{
    if (argc != 13) {
        fprintf(stderr, "usage: optim_driver KIND PARAMS GRADS OUT lr momentum nesterov alpha beta1 beta2 eps wd\n");
        return 2;
    }
    int kind = -1;
    for (int k = 0; k < OPTIM_COUNT; k++)
        if (strcmp(argv[1], optim_names[k]) == 0)
            kind = k;
    if (kind < 0) {
        fprintf(stderr, "optim_driver: unknown optimizer %s\n", argv[1]);
        return 2;
    }
    OptimConfig c = optim_defaults((OptimKind)kind);
    c.lr = strtof(argv[5], NULL);
    c.momentum = strtof(argv[6], NULL);
    c.nesterov = atoi(argv[7]) != 0;
    c.alpha = strtof(argv[8], NULL);
    c.beta1 = strtof(argv[9], NULL);
    c.beta2 = strtof(argv[10], NULL);
    c.eps = strtof(argv[11], NULL);
    c.weight_decay = strtof(argv[12], NULL);
    Npy p, g;
    char err[NPY_ERR_MAX];
    if (!npy_load(argv[2], &p, err, sizeof err) || !npy_load(argv[3], &g, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (p.ndim != 1 || g.ndim != 2 || g.shape[1] != p.shape[0]) {
        fprintf(stderr, "optim_driver: shapes do not fit\n");
        return 2;
    }
    size_t n = (size_t)p.count;
    Optim *o = optim_create(&c, n);
    for (int64_t s = 0; s < g.shape[0]; s++)
        optim_step(o, p.data, g.data + (size_t)s * n);
    int rc = npy_save(argv[4], p.data, 1, p.shape, err, sizeof err) ? 0 : 1;
    if (rc)
        fprintf(stderr, "%s\n", err);
    optim_destroy(o);
    npy_free(&p);
    npy_free(&g);
    return rc;
}
