#include "backend/cpu/q8_rows.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace tessera::cpu::q8 {

namespace {

// One block of n values (n a multiple of 32): quants to q, returns the scale.
float quantize_block(const float* x, int64_t n, int8_t* q) {
  float amax = 0;
  for (int64_t j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
#if defined(__AVX2__)
  const __m256 vid = _mm256_set1_ps(id);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t j = 0; j < n; j += 32) {
    // Round to nearest even (the default MXCSR mode), pack 32 int32 -> int8 (saturating; |v| <= 127).
    const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j), vid));
    const __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8), vid));
    const __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 16), vid));
    const __m256i e = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 24), vid));
    // packs work within 128-bit lanes: the permute puts the 8 groups of 4 back in order.
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, e));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + j), _mm256_permutevar8x32_epi32(p, order));
  }
#else
  for (int64_t j = 0; j < n; ++j) q[j] = int8_t(std::nearbyint(x[j] * id));
#endif
  return d;
}

}  // namespace

void quantize_rows(const float* X, int64_t M, int64_t K, int64_t bs, Rows& out, ThreadPool& pool) {
  out.M = M, out.K = K, out.bs = bs;
  const int64_t nb = K / bs;
  out.q.resize(size_t(M * K));
  out.d.resize(size_t(M * nb));
  out.s32.resize(size_t(M * (K / 32)));
  out.s16.resize(size_t(M * (K / 16)));
  // Threads only for several rows' worth: one row of a few thousand values takes microseconds.
  pool.parallel_for(M * nb, std::max<int64_t>(1, 16384 / bs), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      int8_t* q = out.q.data() + b * bs;
      out.d[size_t(b)] = quantize_block(X + b * bs, bs, q);
      for (int64_t j = 0; j < bs; j += 16) {
        int32_t s = 0;
        for (int64_t l = 0; l < 16; ++l) s += q[j + l];
        out.s16[size_t((b * bs + j) / 16)] = int16_t(s);
      }
      for (int64_t j = 0; j < bs; j += 32)
        out.s32[size_t((b * bs + j) / 32)] = int16_t(out.s16[size_t((b * bs + j) / 16)] + out.s16[size_t((b * bs + j) / 16 + 1)]);
    }
  });
}

void interleave_pairs(Rows& rows) {
  for (int64_t m = 0; m < rows.M; ++m)
    for (int64_t j = 0; j + 64 <= rows.K; j += 64) {
      int8_t* p = rows.q.data() + m * rows.K + j;
      int8_t tmp[16];
      std::memcpy(tmp, p + 16, 16);
      std::memcpy(p + 16, p + 32, 16);
      std::memcpy(p + 32, tmp, 16);
    }
}

}  // namespace tessera::cpu::q8
