// elementwise.h: the tensor engine's element-wise transcendental functions
// over float arrays, vectorised (internal to src/engine/tensor).
#ifndef GRADLAB_ENGINE_TENSOR_ELEMENTWISE_H
#define GRADLAB_ENGINE_TENSOR_ELEMENTWISE_H

#include <stddef.h>

// y[i] = tanh(a[i]) for i < n, within about 1e-7 of libm's tanhf (fastmath.h).
// y and a must not overlap.
void elementwise_tanh(float *y, const float *a, size_t n);

// y[i] = 1 / (1 + e^-a[i]) for i < n, within a few float32 ulps. y and a must
// not overlap.
void elementwise_sigmoid(float *y, const float *a, size_t n);

#endif
