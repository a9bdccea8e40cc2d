// elementwise.c: tanh and sigmoid over arrays for the tensor engine, in
// fastmath.h's branch-free forms so that the compiler vectorises them (one
// clone per vector width, picked at load time). libm's scalar tanhf was a
// third of lesson 5's training step. Built on its own (see ../meson.build)
// with -O3 and -fno-trapping-math, without which the loops stay scalar.
#include "engine/tensor/elementwise.h"

#include "engine/fastmath.h"

// The public functions call static clones: Clang 14 emits the resolver of a
// target_clones function only in a translation unit that calls it.
FASTMATH_CLONES
static void tanh_impl(float *restrict y, const float *restrict a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = fast_tanhf(a[i]);
}

FASTMATH_CLONES
static void sigmoid_impl(float *restrict y, const float *restrict a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = fast_sigmoidf(a[i]);
}

void elementwise_tanh(float *restrict y, const float *restrict a, size_t n)
{
    tanh_impl(y, a, n);
}

void elementwise_sigmoid(float *restrict y, const float *restrict a, size_t n)
{
    sigmoid_impl(y, a, n);
}
