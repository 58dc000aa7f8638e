// Vector helpers of the fused kernels (attention, norms, rope): row conversion to and from float,
// sums, a vectorized exp, and the register-blocked tiles of attention. AVX2+FMA with portable fallbacks.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "tessera/dtype.h"
#include "backend/cpu/simd_math.h"
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TESSERA_FAST_AVX2 1
#endif

namespace tessera::cpu {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// dst[i] = float(src[i * stride]) for i < n.
template <typename T>
inline void load_row(const T* src, int64_t stride, float* dst, int64_t n) {
  int64_t i = 0;
#if defined(TESSERA_FAST_AVX2) && defined(__F16C__)
  if (stride == 1) {
    if constexpr (std::is_same_v<T, float16_t>) {
      for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
    } else if constexpr (std::is_same_v<T, bfloat16_t>) {
      for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
      }
    }
  }
#endif
  for (; i < n; ++i) dst[i] = float(load(src[i * stride]));
}

// dst[i] = T(src[i]) for i < n (contiguous).
template <typename T>
inline void store_row(const float* src, T* dst, int64_t n) {
  int64_t i = 0;
#if defined(TESSERA_FAST_AVX2) && defined(__F16C__)
  if constexpr (std::is_same_v<T, float16_t>) {
    for (; i + 8 <= n; i += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  }
#endif
  for (; i < n; ++i) dst[i] = store<T>(src[i]);
}

#if defined(TESSERA_FAST_AVX2)
using simd::hsum;

// exp with a Cephes polynomial (about 2 ulp); inputs below -87.3 (including -inf) give exactly 0.
inline __m256 exp256(__m256 x) {
  __m256 zero_mask = _mm256_cmp_ps(x, _mm256_set1_ps(-87.3f), _CMP_GE_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.37f));
  __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(e)), zero_mask);
}
#endif

// x[i] = exp(x[i] - shift) for i < n; returns their sum.
inline float exp_shift_sum(float* x, int64_t n, float shift) {
  int64_t i = 0;
  float sum = 0;
#if defined(TESSERA_FAST_AVX2)
  __m256 acc = _mm256_setzero_ps(), sh = _mm256_set1_ps(shift);
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  sum = hsum(acc);
#endif
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

inline float max_of(const float* x, int64_t n) {
  float m = kNegInf;
  int64_t i = 0;
#if defined(TESSERA_FAST_AVX2)
  // _mm256_max_ps returns its second operand when either is NaN: NaNs in x are skipped, as below.
  __m256 a = _mm256_set1_ps(kNegInf), b = a;
  for (; i + 16 <= n; i += 16) a = _mm256_max_ps(_mm256_loadu_ps(x + i), a), b = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), b);
  for (; i + 8 <= n; i += 8) a = _mm256_max_ps(_mm256_loadu_ps(x + i), a);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_max_ps(a, b));
  for (float v : lanes) m = v > m ? v : m;
#endif
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// Sum of (x[i] - c)^2, accumulated in float lanes then combined in double.
inline double sum_sq_dev(const float* x, int64_t n, float c) {
  int64_t i = 0;
  double sum = 0;
#if defined(TESSERA_FAST_AVX2)
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), cv = _mm256_set1_ps(c);
  for (; i + 16 <= n; i += 16) {
    __m256 a = _mm256_sub_ps(_mm256_loadu_ps(x + i), cv), b = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), cv);
    acc0 = _mm256_fmadd_ps(a, a, acc0);
    acc1 = _mm256_fmadd_ps(b, b, acc1);
  }
  sum = hsum(_mm256_add_ps(acc0, acc1));
#endif
  for (; i < n; ++i) sum += double(x[i] - c) * double(x[i] - c);
  return sum;
}

inline double sum_of(const float* x, int64_t n) {
  int64_t i = 0;
  double sum = 0;
#if defined(TESSERA_FAST_AVX2)
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_add_ps(acc0, _mm256_loadu_ps(x + i));
    acc1 = _mm256_add_ps(acc1, _mm256_loadu_ps(x + i + 8));
  }
  sum = hsum(_mm256_add_ps(acc0, acc1));
#endif
  for (; i < n; ++i) sum += x[i];
  return sum;
}

inline float dot(const float* a, const float* b, int64_t n) {
  int64_t i = 0;
  float sum = 0;
#if defined(TESSERA_FAST_AVX2)
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  sum = hsum(_mm256_add_ps(acc0, acc1));
#endif
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// s[i * ls + j] = sum_d q[i * d_n + d] * kt[d * lk + j] for i < rows, j < cols (cols a multiple of 8).
// q is a packed block of query rows, kt a key block transposed to [D][lk].
inline void scores_tile(const float* q, int64_t rows, int64_t dn, const float* kt, int64_t lk, int64_t cols, float* s,
                        int64_t ls) {
  int64_t i = 0;
#if defined(TESSERA_FAST_AVX2)
  for (; i + 2 <= rows; i += 2) {
    const float* q0 = q + i * dn;
    const float* q1 = q0 + dn;
    int64_t j = 0;
    for (; j + 32 <= cols; j += 32) {
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      for (int64_t d = 0; d < dn; ++d) {
        const float* k = kt + d * lk + j;
        __m256 k0 = _mm256_loadu_ps(k), k1 = _mm256_loadu_ps(k + 8), k2 = _mm256_loadu_ps(k + 16), k3 = _mm256_loadu_ps(k + 24);
        __m256 x = _mm256_broadcast_ss(q0 + d), y = _mm256_broadcast_ss(q1 + d);
        a0 = _mm256_fmadd_ps(x, k0, a0); a1 = _mm256_fmadd_ps(x, k1, a1);
        a2 = _mm256_fmadd_ps(x, k2, a2); a3 = _mm256_fmadd_ps(x, k3, a3);
        b0 = _mm256_fmadd_ps(y, k0, b0); b1 = _mm256_fmadd_ps(y, k1, b1);
        b2 = _mm256_fmadd_ps(y, k2, b2); b3 = _mm256_fmadd_ps(y, k3, b3);
      }
      float* s0 = s + i * ls + j;
      float* s1 = s0 + ls;
      _mm256_storeu_ps(s0, a0); _mm256_storeu_ps(s0 + 8, a1); _mm256_storeu_ps(s0 + 16, a2); _mm256_storeu_ps(s0 + 24, a3);
      _mm256_storeu_ps(s1, b0); _mm256_storeu_ps(s1 + 8, b1); _mm256_storeu_ps(s1 + 16, b2); _mm256_storeu_ps(s1 + 24, b3);
    }
    for (; j < cols; j += 8) {
      __m256 a = _mm256_setzero_ps(), b = a;
      for (int64_t d = 0; d < dn; ++d) {
        __m256 k = _mm256_loadu_ps(kt + d * lk + j);
        a = _mm256_fmadd_ps(_mm256_broadcast_ss(q0 + d), k, a);
        b = _mm256_fmadd_ps(_mm256_broadcast_ss(q1 + d), k, b);
      }
      _mm256_storeu_ps(s + i * ls + j, a);
      _mm256_storeu_ps(s + (i + 1) * ls + j, b);
    }
  }
#endif
  for (; i < rows; ++i) {
    float* si = s + i * ls;
    for (int64_t j = 0; j < cols; ++j) si[j] = 0;
    for (int64_t d = 0; d < dn; ++d) {
      float x = q[i * dn + d];
      const float* k = kt + d * lk;
      for (int64_t j = 0; j < cols; ++j) si[j] += x * k[j];
    }
  }
}

// o[i * dv + :] += sum_j p[i * lp + j] * v[j * lv + :] for i < rows, j < cols.
inline void pv_tile(const float* p, int64_t lp, int64_t rows, int64_t cols, const float* v, int64_t lv, float* o,
                    int64_t dv) {
  int64_t i = 0;
#if defined(TESSERA_FAST_AVX2)
  // Two rows at a time: each loaded value vector feeds two FMAs, and 8 accumulators cover the FMA
  // latency (one row's 4 chains left half the FMA issue slots idle).
  for (; i + 2 <= rows; i += 2) {
    const float* p0 = p + i * lp;
    const float* p1 = p0 + lp;
    float* o0 = o + i * dv;
    float* o1 = o0 + dv;
    int64_t c = 0;
    for (; c + 32 <= dv; c += 32) {
      __m256 a0 = _mm256_loadu_ps(o0 + c), a1 = _mm256_loadu_ps(o0 + c + 8), a2 = _mm256_loadu_ps(o0 + c + 16),
             a3 = _mm256_loadu_ps(o0 + c + 24);
      __m256 b0 = _mm256_loadu_ps(o1 + c), b1 = _mm256_loadu_ps(o1 + c + 8), b2 = _mm256_loadu_ps(o1 + c + 16),
             b3 = _mm256_loadu_ps(o1 + c + 24);
      for (int64_t j = 0; j < cols; ++j) {
        const float* vj = v + j * lv + c;
        const __m256 v0 = _mm256_loadu_ps(vj), v1 = _mm256_loadu_ps(vj + 8), v2 = _mm256_loadu_ps(vj + 16),
                     v3 = _mm256_loadu_ps(vj + 24);
        const __m256 x = _mm256_broadcast_ss(p0 + j), y = _mm256_broadcast_ss(p1 + j);
        a0 = _mm256_fmadd_ps(x, v0, a0); a1 = _mm256_fmadd_ps(x, v1, a1);
        a2 = _mm256_fmadd_ps(x, v2, a2); a3 = _mm256_fmadd_ps(x, v3, a3);
        b0 = _mm256_fmadd_ps(y, v0, b0); b1 = _mm256_fmadd_ps(y, v1, b1);
        b2 = _mm256_fmadd_ps(y, v2, b2); b3 = _mm256_fmadd_ps(y, v3, b3);
      }
      _mm256_storeu_ps(o0 + c, a0); _mm256_storeu_ps(o0 + c + 8, a1);
      _mm256_storeu_ps(o0 + c + 16, a2); _mm256_storeu_ps(o0 + c + 24, a3);
      _mm256_storeu_ps(o1 + c, b0); _mm256_storeu_ps(o1 + c + 8, b1);
      _mm256_storeu_ps(o1 + c + 16, b2); _mm256_storeu_ps(o1 + c + 24, b3);
    }
    for (; c + 8 <= dv; c += 8) {
      __m256 a = _mm256_loadu_ps(o0 + c), b = _mm256_loadu_ps(o1 + c);
      for (int64_t j = 0; j < cols; ++j) {
        const __m256 vj = _mm256_loadu_ps(v + j * lv + c);
        a = _mm256_fmadd_ps(_mm256_broadcast_ss(p0 + j), vj, a);
        b = _mm256_fmadd_ps(_mm256_broadcast_ss(p1 + j), vj, b);
      }
      _mm256_storeu_ps(o0 + c, a);
      _mm256_storeu_ps(o1 + c, b);
    }
    for (; c < dv; ++c) {
      float a = o0[c], b = o1[c];
      for (int64_t j = 0; j < cols; ++j) a += p0[j] * v[j * lv + c], b += p1[j] * v[j * lv + c];
      o0[c] = a, o1[c] = b;
    }
  }
#endif
  for (; i < rows; ++i) {
    const float* pi = p + i * lp;
    float* oi = o + i * dv;
    int64_t c = 0;
#if defined(TESSERA_FAST_AVX2)
    for (; c + 32 <= dv; c += 32) {
      __m256 a0 = _mm256_loadu_ps(oi + c), a1 = _mm256_loadu_ps(oi + c + 8), a2 = _mm256_loadu_ps(oi + c + 16),
             a3 = _mm256_loadu_ps(oi + c + 24);
      for (int64_t j = 0; j < cols; ++j) {
        __m256 w = _mm256_broadcast_ss(pi + j);
        const float* vj = v + j * lv + c;
        a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj), a0);
        a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 8), a1);
        a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 16), a2);
        a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 24), a3);
      }
      _mm256_storeu_ps(oi + c, a0); _mm256_storeu_ps(oi + c + 8, a1);
      _mm256_storeu_ps(oi + c + 16, a2); _mm256_storeu_ps(oi + c + 24, a3);
    }
    for (; c + 8 <= dv; c += 8) {
      __m256 a = _mm256_loadu_ps(oi + c);
      for (int64_t j = 0; j < cols; ++j) a = _mm256_fmadd_ps(_mm256_broadcast_ss(pi + j), _mm256_loadu_ps(v + j * lv + c), a);
      _mm256_storeu_ps(oi + c, a);
    }
#endif
    for (; c < dv; ++c) {
      float a = oi[c];
      for (int64_t j = 0; j < cols; ++j) a += pi[j] * v[j * lv + c];
      oi[c] = a;
    }
  }
}

}  // namespace tessera::cpu
