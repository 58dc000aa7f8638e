// The float GEMM of the CPU backend, for matmul, convolutions and any kernel that needs one
// (attention, quantized matmul): C = alpha * A @ B (+ C), A and B strided, in float32, float16
// or bfloat16 (halves are converted to float32 while packing; accumulation is float32).
#pragma once
#include <cstdint>

#include "tessera/context.h"
#include "tessera/dtype.h"
#include "tessera/thread_pool.h"

namespace tessera::cpu {

// A strided matrix operand: element (i, j) is at ptr[i * rs + j * cs] (in elements of dtype).
// Transposed views are just swapped strides; the packing reads them without a copy.
struct MatRef {
  const void* ptr;
  Dtype dtype;  // Float32, Float16 or BFloat16
  int64_t rs, cs;
};

// The output: row-major rows of `ld` elements of dtype (Float32, Float16 or BFloat16).
struct OutRef {
  void* ptr;
  Dtype dtype;
  int64_t ld;
};

struct GemmKernels;  // backend/cpu/kernels.h

// C[M, N] = alpha * A[M, K] @ B[K, N], plus the previous C when `accumulate`. Threads over ctx.pool
// (runs inline when called from inside a parallel region) with the microkernel of ctx.isa.
// M == 1 or N == 1 take the mat-vec path.
void gemm(const Context& ctx, int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, const OutRef& C,
          float alpha = 1.0f, bool accumulate = false);
// The same with the level-specific pieces given (the C++ tests compare levels and tiles with it).
void gemm(ThreadPool& pool, const GemmKernels& g, int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B,
          const OutRef& C, float alpha = 1.0f, bool accumulate = false);

// float32 convenience form: A with strides (rsa, csa), B with (rsb, csb), C row-major with ldc.
inline void sgemm(const Context& ctx, int64_t M, int64_t N, int64_t K, const float* A, int64_t rsa, int64_t csa,
                  const float* B, int64_t rsb, int64_t csb, float* C, int64_t ldc, float alpha = 1.0f,
                  bool accumulate = false) {
  gemm(ctx, M, N, K, {A, Dtype::Float32, rsa, csa}, {B, Dtype::Float32, rsb, csb}, {C, Dtype::Float32, ldc}, alpha,
       accumulate);
}

// Half forms: A and B of one half dtype, C in the same dtype (float32 accumulation inside).
inline void hgemm(const Context& ctx, int64_t M, int64_t N, int64_t K, const float16_t* A, int64_t rsa, int64_t csa,
                  const float16_t* B, int64_t rsb, int64_t csb, float16_t* C, int64_t ldc) {
  gemm(ctx, M, N, K, {A, Dtype::Float16, rsa, csa}, {B, Dtype::Float16, rsb, csb}, {C, Dtype::Float16, ldc});
}
inline void bgemm(const Context& ctx, int64_t M, int64_t N, int64_t K, const bfloat16_t* A, int64_t rsa, int64_t csa,
                  const bfloat16_t* B, int64_t rsb, int64_t csb, bfloat16_t* C, int64_t ldc) {
  gemm(ctx, M, N, K, {A, Dtype::BFloat16, rsa, csa}, {B, Dtype::BFloat16, rsb, csb}, {C, Dtype::BFloat16, ldc});
}

}  // namespace tessera::cpu
