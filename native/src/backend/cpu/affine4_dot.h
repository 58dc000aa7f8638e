// Integer kernel for MLX affine 4-bit weights (transpose=true, K a multiple of 64), AVX2.
//
// y = sum_g scale_g * dot(q_g, x_g) + bias_g * sum(x_g). The sums of x per group are exact floats
// computed once; dot(q_g, x_g) runs in integers: x is quantized once per call to int16 in blocks of
// 32 (dx = amax / 32767, each value within amax / 65534 of its block: far below float16 or
// bfloat16 rounding), and 32 packed bytes (64 weights, 16 uint16 words of 4 nibbles each) become 4
// vectors of 16 int16 with one shift and one AND each. Nibble n of word i holds element 4i + n of
// the chunk, so the int16 activations are stored in that order (q[64c + 16n + i] = x[64c + 4i + n])
// and _mm256_madd_epi16 multiplies 16 pairs at a time into int32 (|15 * 32767 * 8| < 2^31).
// int32 lanes 0-3 of a chunk's sum cover elements 0..31, lanes 4-7 elements 32..63: one float
// (scale * dx) per half applies the scales.
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
  std::vector<int16_t> lo;  // [M, K], same order: the rounding residual x / dx - q in units of 1 / 65534
  std::vector<float> dx;    // [M, K / 32 * 4]: each block's scale repeated 4 times (one per lane)
  std::vector<float> gsum;  // [M, groups]: sum of x over each weight group
};

inline void quantize(const float* X, int64_t M, int64_t K, int64_t gs, Act& a, ThreadPool& pool) {
  a.M = M, a.K = K, a.groups = K / gs;
  a.q.resize(size_t(M * K));
  a.lo.resize(size_t(M * K));
  a.dx.resize(size_t(M * K / 8));
  a.gsum.assign(size_t(M * a.groups), 0.0f);
  pool.parallel_for(M * (K / 64), 16, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* x = X + c * 64;  // rows are whole chunks: c indexes [M, K / 64]
      int16_t* q = a.q.data() + c * 64;
      int16_t* lo = a.lo.data() + c * 64;
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
        alignas(32) int32_t hi[32], lo32[32];
        for (int j = 0; j < 32; j += 8) {
          const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(xh + j), _mm256_set1_ps(id));
          const __m256 r = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          _mm256_store_si256(reinterpret_cast<__m256i*>(hi + j), _mm256_cvtps_epi32(r));
          _mm256_store_si256(reinterpret_cast<__m256i*>(lo32 + j),
                             _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_sub_ps(v, r), _mm256_set1_ps(65534.0f))));
        }
        for (int j = 0; j < 32; ++j) {
          const int e = 32 * h + j;
          q[16 * (e % 4) + e / 4] = int16_t(hi[j]);
          lo[16 * (e % 4) + e / 4] = int16_t(lo32[j]);
        }
      }
    }
  });
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) a.gsum[size_t(m * a.groups + k / gs)] += X[m * K + k];
}

#define AFF4_INLINE inline __attribute__((always_inline))

// Float scales of one chunk's two halves (GS: the weight group size).
template <int GS, typename S>
AFF4_INLINE __m256 chunk_scales(const S* s, int64_t c) {
  if constexpr (GS == 32) return _mm256_setr_m128(_mm_set1_ps(to_f32(s[2 * c])), _mm_set1_ps(to_f32(s[2 * c + 1])));
  else return _mm256_set1_ps(to_f32(s[(c * 64) / GS]));
}

// out[(m0 + m) * ldo + n] for weight rows [n0, n1) and activation rows m0..m0+MR over the chunks
// [c0, c1) of 64 values: the first chunk range writes (with the bias term), later ones add.
// sf/bf: the scales and biases [N, groups].
template <int MR, int GS, typename S>
void rows_dot(const uint8_t* w, int64_t row_bytes, const S* sf, const S* bf, const Act& a, int64_t m0,
              int64_t n0, int64_t n1, int64_t c0, int64_t c1, float* out, int64_t ldo) {
  const int64_t G = a.groups;
  const __m256i m4 = _mm256_set1_epi16(0x0F);
  const int16_t* xq[MR];
  const int16_t* xl[MR];
  const float* dx[MR];
  for (int m = 0; m < MR; ++m)
    xq[m] = a.q.data() + (m0 + m) * a.K, xl[m] = a.lo.data() + (m0 + m) * a.K, dx[m] = a.dx.data() + (m0 + m) * a.K / 8;
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = w + n * row_bytes;
    const S* s = sf + n * G;
    __m256 acc[MR], accl[MR];
    for (int m = 0; m < MR; ++m) acc[m] = accl[m] = _mm256_setzero_ps();
    for (int64_t c = c0; c < c1; ++c) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 32 * c));
      const __m256i q0 = _mm256_and_si256(v, m4), q1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4),
                    q2 = _mm256_and_si256(_mm256_srli_epi16(v, 8), m4), q3 = _mm256_srli_epi16(v, 12);
      const __m256 sv = chunk_scales<GS>(s, c);
      for (int m = 0; m < MR; ++m) {
        const __m256i* x = reinterpret_cast<const __m256i*>(xq[m] + 64 * c);
        const __m256i p = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_madd_epi16(q0, _mm256_loadu_si256(x)), _mm256_madd_epi16(q1, _mm256_loadu_si256(x + 1))),
            _mm256_add_epi32(_mm256_madd_epi16(q2, _mm256_loadu_si256(x + 2)), _mm256_madd_epi16(q3, _mm256_loadu_si256(x + 3))));
        const __m256i* l = reinterpret_cast<const __m256i*>(xl[m] + 64 * c);
        const __m256i pl = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_madd_epi16(q0, _mm256_loadu_si256(l)), _mm256_madd_epi16(q1, _mm256_loadu_si256(l + 1))),
            _mm256_add_epi32(_mm256_madd_epi16(q2, _mm256_loadu_si256(l + 2)), _mm256_madd_epi16(q3, _mm256_loadu_si256(l + 3))));
        const __m256 f = _mm256_mul_ps(sv, _mm256_loadu_ps(dx[m] + 8 * c));
        acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), f, acc[m]);
        accl[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(pl), f, accl[m]);
      }
    }
    const S* b = bf + n * G;
    for (int m = 0; m < MR; ++m) {
      const float part = simd::hsum(acc[m]) + simd::hsum(accl[m]) * (1.0f / 65534.0f);
      if (c0 > 0) {
        out[(m0 + m) * ldo + n] += part;
        continue;
      }
      const float* gs = a.gsum.data() + (m0 + m) * G;
      float bias = 0;
      int64_t g = 0;
      if constexpr (std::is_same_v<S, float>) {
        __m256 bv = _mm256_setzero_ps();
        for (; g + 8 <= G; g += 8) bv = _mm256_fmadd_ps(_mm256_loadu_ps(b + g), _mm256_loadu_ps(gs + g), bv);
        bias = simd::hsum(bv);
      }
      for (; g < G; ++g) bias += to_f32(b[g]) * gs[g];
      out[(m0 + m) * ldo + n] = part + bias;
    }
  }
}

}  // namespace tessera::cpu::affine4

#endif
