// fastmath.h: exp, sigmoid and tanh over arrays, written as straight-line
// float code (Cephes polynomials) that the compiler vectorises. Accurate to
// a few float32 ulps in relative terms for exp and sigmoid, and to about
// 1e-7 in absolute terms for tanh; libm's scalar calls were the bottleneck
// of the recurrent models' pointwise steps.
#ifndef GRADLAB_ENGINE_FASTMATH_H
#define GRADLAB_ENGINE_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

// Put on a function whose loops use these: on x86-64 with GCC or Clang it is
// compiled for AVX-512, AVX2 and baseline SSE2 and the best one is picked at
// load time. (The loops only vectorise with -fno-trapping-math, which
// src/models/meson.build passes.) Without -ffp-contract the clones compute
// the same bits, so results do not depend on the machine's vector width.
// -Dsimd=portable (GRADLAB_SIMD_PORTABLE) leaves the baseline build only.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && defined(__linux__) && \
    !defined(GRADLAB_SIMD_PORTABLE)
#define FASTMATH_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FASTMATH_CLONES
#endif

// e^x for x in float range; clamps to [e^-87.3, e^88.3]. Written without
// branches (selects only) so that GCC and Clang vectorise loops over it.
static inline float fast_expf(float x)
{
    x = x > 88.3762626647949f ? 88.3762626647949f : x;
    x = x < -87.3365447504019f ? -87.3365447504019f : x;
    // n = round(x / ln 2) with the 1.5 * 2^23 trick; then e^x = 2^n e^r.
    float fn = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    // A NaN x must not reach the int conversion (undefined behaviour); the
    // polynomial below still turns it into a NaN result.
    fn = fn == fn ? fn : 0.0f;
    int n = (int)fn;
    float r = x - fn * 0.693359375f;
    r = r + fn * 2.12194440e-4f;
    float r2 = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r2 + r + 1.0f;
    int32_t bits = (int32_t)((uint32_t)(n + 127) << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float fast_sigmoidf(float x)
{
    return 1.0f / (1.0f + fast_expf(-x));
}

static inline float fast_tanhf(float x)
{
    float ax = fabsf(x);
    // Small |x|: odd polynomial (Cephes tanhf), keeps relative accuracy near 0.
    float z = x * x;
    float s = -5.70498872745e-3f;
    s = s * z + 2.06390887954e-2f;
    s = s * z - 5.37397155531e-2f;
    s = s * z + 1.33314422036e-1f;
    s = s * z - 3.33332819422e-1f;
    s = s * z * x + x;
    // Large |x|: 1 - 2 / (e^{2|x|} + 1), with the sign of x.
    float e = fast_expf(2.0f * ax);
    float l = copysignf(1.0f - 2.0f / (e + 1.0f), x);
    return ax < 0.625f ? s : l;
}

#endif
