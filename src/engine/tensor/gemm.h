// gemm.h: single-precision matrix multiply, the hot loop under every tensor
// model. Row-major throughout.
#ifndef GRADLAB_GEMM_H
#define GRADLAB_GEMM_H

#include <stdbool.h>

// C = alpha * op(A) @ op(B) + beta * C, where op(X) is X or X^T.
//   op(A) is (M, K): A is (M, K) with row stride lda, or (K, M) when trans_a.
//   op(B) is (K, N): B is (K, N) with row stride ldb, or (N, K) when trans_b.
//   C is (M, N) with row stride ldc.
// beta == 0 overwrites C without reading it (NaN in C does not leak through).
// The caller owns A, B and C. Packing buffers are per thread and kept between
// calls (see gemm_free_buffers), so threads may call gemm_f32 concurrently.
void gemm_f32(bool trans_a, bool trans_b, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc);

// Name of the micro-kernel chosen for this CPU: "avx512", "avx2", "neon" or
// "generic" (always "generic" in a -Dsimd=portable build). GRADLAB_GEMM=generic
// (or =avx2 on x86) in the environment forces a slower one (tests).
const char *gemm_kernel_name(void);

// Free the calling thread's packing buffers (gemm_f32 keeps them between
// calls and regrows them on demand). Optional: for a tidy exit under leak checkers.
void gemm_free_buffers(void);

#endif
