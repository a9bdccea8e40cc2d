// init.c: weight initialisations; see init.h.
#include "models/init.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void init_uniform(float *w, size_t n, float bound, Pcg *rng)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (2.0f * pcg_uniform(rng) - 1.0f) * bound;
}

void init_normal(float *w, size_t n, float std, Pcg *rng)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(pcg_normal(rng) * std);
}

bool init_orthogonal(float *w, int rows, int cols, float scale, Pcg *rng)
{
    // k orthonormal vectors of length len, as the rows of q (k, len).
    int len = rows >= cols ? rows : cols, k = rows >= cols ? cols : rows;
    double *q = malloc((size_t)k * (size_t)len * sizeof(double));
    if (!q)
        return false;
    for (int i = 0; i < k; i++) {
        double *v = q + (size_t)i * len;
        for (;;) {
            for (int j = 0; j < len; j++)
                v[j] = pcg_normal(rng);
            // Modified Gram-Schmidt, twice for accuracy.
            for (int pass = 0; pass < 2; pass++) {
                for (int p = 0; p < i; p++) {
                    const double *u = q + (size_t)p * len;
                    double d = 0.0;
                    for (int j = 0; j < len; j++)
                        d += u[j] * v[j];
                    for (int j = 0; j < len; j++)
                        v[j] -= d * u[j];
                }
            }
            double norm = 0.0;
            for (int j = 0; j < len; j++)
                norm += v[j] * v[j];
            norm = sqrt(norm);
            if (norm > 1e-6) {   // a degenerate draw has probability zero; redraw
                for (int j = 0; j < len; j++)
                    v[j] /= norm;
                break;
            }
        }
    }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            double e = rows >= cols ? q[(size_t)c * len + r] : q[(size_t)r * len + c];
            w[(size_t)r * cols + c] = (float)(scale * e);
        }
    free(q);
    return true;
}

void init_identity(float *w, int rows, int cols, float scale)
{
    memset(w, 0, (size_t)rows * (size_t)cols * sizeof(float));
    for (int i = 0; i < rows && i < cols; i++)
        w[(size_t)i * cols + i] = scale;
}
