// rng.c: PCG32 (XSH RR variant); see rng.h.
#include "models/rng.h"

#include <math.h>

void pcg_seed(Pcg *r, uint64_t seed)
{
    r->state = 0;
    r->inc = (seed << 1u) | 1u;
    pcg_u32(r);
    r->state += 0x853c49e6748fea9bULL ^ seed;
    pcg_u32(r);
}

uint32_t pcg_u32(Pcg *r)
{
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

float pcg_uniform(Pcg *r)
{
    return (float)(pcg_u32(r) >> 8) * (1.0f / 16777216.0f);
}

uint32_t pcg_below(Pcg *r, uint32_t n)
{
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t x = pcg_u32(r);
        if (x >= threshold)
            return x % n;
    }
}

double pcg_normal(Pcg *r)
{
    // Two uniforms in (0, 1]: never log(0).
    double u1 = ((double)pcg_u32(r) + 1.0) / 4294967296.0;
    double u2 = (double)pcg_u32(r) / 4294967296.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
