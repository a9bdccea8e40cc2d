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
// rows (rows < cols), drawn uniformly (Gram-Schmidt on a Gaussian matrix,
// in double). Returns false only when out of memory (w is then untouched).
bool init_orthogonal(float *w, int rows, int cols, float scale, Pcg *rng);

// w (rows, cols) = scale on the diagonal, zero elsewhere.
void init_identity(float *w, int rows, int cols, float scale);

#endif
