// Activations of the integer kernel for MLX affine 4-bit weights (affine4_dot.h) (transpose=true, K a multiple of 64), AVX2.
//
// y = sum_g scale_g * dot(q_g, x_g) + bias_g * sum(x_g). The sums of x per group are exact floats
// computed once; dot(q_g, x_g) runs in integers: x is quantized once per call to int16 in blocks of
// 32 (dx = amax / 32767, each value within amax / 65534 of its block: 15 bits, finer than float16's
// 11 or bfloat16's 8 bits of activations), and 32 packed bytes (64 weights, 16 uint16 words of 4
// nibbles each) become 4 vectors of 16 int16 with one shift and one AND each. Nibble n of word i
// holds element 4i + n of the chunk, so the int16 activations are stored in that order
// (q[64c + 16n + i] = x[64c + 4i + n]) and _mm256_madd_epi16 multiplies 16 pairs at a time into
// int32 (|15 * 32767 * 8| < 2^31). int32 lanes 0-3 of a chunk's sum cover elements 0..31, lanes 4-7
// elements 32..63: one float (scale * dx) per half applies the scales.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "backend/cpu/simd_math.h"
#include "tessera/dtype.h"
#include "tessera/thread_pool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

namespace tessera::cpu::affine4 {

struct Act {
  int64_t M = 0, K = 0, groups = 0;
  std::vector<int16_t> q;   // [M, K], chunk order as above
  std::vector<float> dx;    // [M, K / 32 * 4]: each block's scale repeated 4 times (one per lane)
  std::vector<float> gsum;  // [M, groups]: sum of x over each weight group
};

inline void quantize(const float* X, int64_t M, int64_t K, int64_t gs, Act& a, ThreadPool& pool) {
  a.M = M, a.K = K, a.groups = K / gs;
  a.q.resize(size_t(M * K));
  a.dx.resize(size_t(M * K / 8));
  a.gsum.assign(size_t(M * a.groups), 0.0f);
  // Threads only for many rows: a single row's few microseconds cost less than waking a worker.
  pool.parallel_for(M * (K / 64), 1024, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* x = X + c * 64;  // rows are whole chunks: c indexes [M, K / 64]
      int16_t* q = a.q.data() + c * 64;
      for (int h = 0; h < 2; ++h) {
        const float* xh = x + 32 * h;
        const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
        __m256 mx = _mm256_and_ps(_mm256_loadu_ps(xh), abs_mask);
        for (int j = 8; j < 32; j += 8) mx = _mm256_max_ps(mx, _mm256_and_ps(_mm256_loadu_ps(xh + j), abs_mask));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        const float amax = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
        const float id = amax > 0 ? 32767.0f / amax : 0.0f;
        _mm_storeu_ps(a.dx.data() + c * 8 + 4 * h, _mm_set1_ps(amax / 32767.0f));
        // Round to nearest even (the default mode), in natural order; then to the nibble order.
        alignas(32) int32_t qi[32];
        for (int j = 0; j < 32; j += 8)
          _mm256_store_si256(reinterpret_cast<__m256i*>(qi + j), _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xh + j), _mm256_set1_ps(id))));
        for (int j = 0; j < 32; ++j) {
          const int e = 32 * h + j;
          q[16 * (e % 4) + e / 4] = int16_t(qi[j]);
        }
      }
    }
  });
  for (int64_t g = 0; g < M * a.groups; ++g) {
    float sum = 0;
    for (int64_t k = 0; k < gs; ++k) sum += X[g * gs + k];  // groups tile the rows: g indexes [M, groups]
    a.gsum[size_t(g)] = sum;
  }
}

}  // namespace tessera::cpu::affine4

#endif
