// init.h: weight initialisations for recurrent models, all driven by a
// seeded Pcg so that a seed gives the same weights bit for bit.
//
//   uniform     U(-bound, bound); PyTorch's default uses bound = 1/sqrt(H)
//   normal      N(0, std^2)
//   orthogonal  a random orthogonal matrix times s: every singular value is s
//   identity    s * I, the IRNN of Le, Jaitly and Hinton 2015
#ifndef GRADLAB_MODELS_INIT_H
#define GRADLAB_MODELS_INIT_H

#include <stdbool.h>
#include <stddef.h>

#include "models/rng.h"

// w[0..n) ~ U(-bound, bound).
void init_uniform(float *w, size_t n, float bound, Pcg *rng);

// w[0..n) ~ N(0, std^2).
void init_normal(float *w, size_t n, float std, Pcg *rng);

// w (rows, cols) = scale * Q, Q with orthonormal columns (rows >= cols) or
// rows (rows < cols), drawn uniformly (Haar): the Q of a Gaussian matrix's
// QR with R's diagonal made positive, as PyTorch's orthogonal_, built from
// Householder reflectors in double (Stewart's method; see init.c). Draws
// about n^2 / 2 normals, n = max(rows, cols), and costs (4/3) n min(rows,
// cols)^2 flops: 4096 x 4096 takes a few seconds. Returns false only when
// out of memory (w is then untouched).
bool init_orthogonal(float *w, int rows, int cols, float scale, Pcg *rng);

// The instruction set init_orthogonal's products use here: "avx512", "avx",
// "sse2" or "scalar". GRADLAB_INIT_KERNEL=scalar|sse2|avx in the environment
// forces a slower one; every path gives the same bits.
const char *init_kernel_name(void);

// w (rows, cols) = scale on the diagonal, zero elsewhere.
void init_identity(float *w, int rows, int cols, float scale);

#endif
