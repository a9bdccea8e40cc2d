// rng.h: a small seeded random number generator (PCG32, O'Neill 2014) for
// weight initialisation and synthetic data. The same seed gives the same
// stream on every machine, so seeded runs are reproducible bit for bit.
#ifndef GRADLAB_MODELS_RNG_H
#define GRADLAB_MODELS_RNG_H

#include <stdint.h>

typedef struct Pcg {
    uint64_t state;
    uint64_t inc;
} Pcg;

// Start a stream from a seed; different seeds give independent-looking streams.
void pcg_seed(Pcg *r, uint64_t seed);

// The next 32 random bits.
uint32_t pcg_u32(Pcg *r);

// A float uniform in [0, 1), with 24 random bits.
float pcg_uniform(Pcg *r);

// A whole number uniform in [0, n) (n > 0), without modulo bias.
uint32_t pcg_below(Pcg *r, uint32_t n);

// A standard normal sample (Box-Muller in double).
double pcg_normal(Pcg *r);

#endif
