// elementwise.c: tanh and sigmoid over arrays for the tensor engine, in
// fastmath.h's branch-free forms so that the compiler vectorises them (one
// clone per vector width, picked at load time). libm's scalar tanhf was a
// third of lesson 5's training step. Built on its own (see ../meson.build)
// with -O3 and -fno-trapping-math, without which the loops stay scalar.
#include "engine/tensor/elementwise.h"

#include "engine/fastmath.h"

FASTMATH_CLONES
void elementwise_tanh(float *restrict y, const float *restrict a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = fast_tanhf(a[i]);
}

FASTMATH_CLONES
void elementwise_sigmoid(float *restrict y, const float *restrict a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = fast_sigmoidf(a[i]);
}
