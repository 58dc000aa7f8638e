// Contiguous float32 row kernels: several independent accumulators hide the add latency; exp is the
// shared vector exp of simd_math.h.
#include "backend/cpu/reduce_rows.h"

#include "backend/cpu/simd_math.h"

#include <cmath>
#include <limits>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TESSERA_REDUCE_AVX2 1
#endif

namespace tessera::cpu {

namespace {

#if TESSERA_REDUCE_AVX2
using simd::hsum;

template <bool Max>
float row_extreme(const float* x, int64_t n) {
  const float init = Max ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  __m256 a0 = _mm256_set1_ps(init), a1 = a0, a2 = a0, a3 = a0;
  __m256 nan = _mm256_setzero_ps();  // any NaN seen, lane-wise
  int64_t i = 0;
  auto f = [](__m256 a, __m256 v) { return Max ? _mm256_max_ps(a, v) : _mm256_min_ps(a, v); };
  for (; i + 32 <= n; i += 32) {
    __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
    __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
    a0 = f(a0, v0); a1 = f(a1, v1); a2 = f(a2, v2); a3 = f(a3, v3);
    nan = _mm256_or_ps(nan, _mm256_or_ps(_mm256_cmp_ps(v0, v1, _CMP_UNORD_Q), _mm256_cmp_ps(v2, v3, _CMP_UNORD_Q)));
  }
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    a0 = f(a0, v);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  a0 = f(f(a0, a1), f(a2, a3));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, a0);
  float r = init;
  for (float v : lanes) r = Max ? (v > r ? v : r) : (v < r ? v : r);
  if (_mm256_movemask_ps(nan)) return std::numeric_limits<float>::quiet_NaN();
  for (; i < n; ++i) {
    if (x[i] != x[i]) return x[i];
    r = Max ? (x[i] > r ? x[i] : r) : (x[i] < r ? x[i] : r);
  }
  return r;
}
#endif

}  // namespace

float row_sum_f32(const float* x, int64_t n) {
  int64_t i = 0;
  float s = 0.f;
#if TESSERA_REDUCE_AVX2
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
  s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
#endif
  for (; i < n; ++i) s += x[i];
  return s;
}

float row_sqdev_sum_f32(const float* x, float mean, int64_t n) {
  int64_t i = 0;
  float s = 0.f;
#if TESSERA_REDUCE_AVX2
  __m256 m = _mm256_set1_ps(mean), a0 = _mm256_setzero_ps(), a1 = a0;
  for (; i + 16 <= n; i += 16) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), m), d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m);
    a0 = _mm256_fmadd_ps(d0, d0, a0);
    a1 = _mm256_fmadd_ps(d1, d1, a1);
  }
  s = hsum(_mm256_add_ps(a0, a1));
#endif
  for (; i < n; ++i) s += (x[i] - mean) * (x[i] - mean);
  return s;
}

float row_max_f32(const float* x, int64_t n) {
#if TESSERA_REDUCE_AVX2
  return row_extreme<true>(x, n);
#else
  float r = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] != x[i]) return x[i];
    r = x[i] > r ? x[i] : r;
  }
  return r;
#endif
}

float row_min_f32(const float* x, int64_t n) {
#if TESSERA_REDUCE_AVX2
  return row_extreme<false>(x, n);
#else
  float r = std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] != x[i]) return x[i];
    r = x[i] < r ? x[i] : r;
  }
  return r;
#endif
}

float row_exp_sum_f32(const float* x, float m, float* out, int64_t n, const float* prefetch) {
  int64_t i = 0;
  float s = 0.f;
#if TESSERA_REDUCE_AVX2
  __m256 vm = _mm256_set1_ps(m), a0 = _mm256_setzero_ps(), a1 = a0;
  for (; i + 16 <= n; i += 16) {
    if (prefetch) _mm_prefetch(reinterpret_cast<const char*>(prefetch + i), _MM_HINT_T0);  // 16 floats: a line
    __m256 e0 = simd::exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    __m256 e1 = simd::exp(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm));
    if (out) {
      _mm256_storeu_ps(out + i, e0);
      _mm256_storeu_ps(out + i + 8, e1);
    }
    a0 = _mm256_add_ps(a0, e0);
    a1 = _mm256_add_ps(a1, e1);
  }
  s = hsum(_mm256_add_ps(a0, a1));
#endif
  for (; i < n; ++i) {
    float e = std::exp(x[i] - m);
    if (out) out[i] = e;
    s += e;
  }
  return s;
}

void row_scale_f32(float* x, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] *= s;  // auto-vectorized
}

}  // namespace tessera::cpu
