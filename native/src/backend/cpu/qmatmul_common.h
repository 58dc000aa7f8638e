// Pieces shared by the quantized matmul kernels (MLX affine and GGUF): activations as float32 rows,
// a float dot-product tile for the mat-mat paths (weights decoded into an L2-resident float panel),
// and storing float32 results in the output dtype.
//
// The mat-mat paths decode a panel of weight rows once and reuse it for every activation row; the
// panel product is the project's float GEMM (backend/cpu/gemm.h), run inline on the calling thread.
#pragma once
#include <cstdint>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "tessera/array.h"
#include "tessera/context.h"
#include "backend/cpu/simd_math.h"
#include "tessera/thread_pool.h"

namespace tessera::cpu::qmm {

// Matrices with at most this many activation rows take the fused mat-vec path (weights decoded
// in registers per row, streamed once); more rows decode weight panels and reuse them.
constexpr int64_t kMatVecRows = 4;

// x [..., K] (any float dtype, any strides) as row-major float32 [M, K].
std::vector<float> rows_as_float(const Array& x, ThreadPool& pool);

// out[m * ldo + n] = sum_k X[m * ldx + k] * P[n * ldp + k] for m < M, n < nb (X @ P^T by the GEMM;
// called from inside a parallel region, it runs on the calling thread).
void dot_panel(const Context& ctx, int64_t M, int64_t nb, int64_t K, const float* X, int64_t ldx, const float* P,
               int64_t ldp, float* out, int64_t ldo);

// Writes float32 results y (row-major, out's shape) into out, converting to its dtype.
void store_output(const float* y, Array& out, ThreadPool& pool);

#if defined(__AVX2__) && defined(__FMA__)
using simd::hsum;
#endif

inline float dot(const float* a, const float* b, int64_t n) {
#if defined(__AVX2__) && defined(__FMA__)
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), acc1);
  }
  float s = hsum(_mm256_add_ps(acc0, acc1));
#else
  float s = 0;
  int64_t k = 0;
#endif
  for (; k < n; ++k) s += a[k] * b[k];
  return s;
}

}  // namespace tessera::cpu::qmm
