// AVX2 dot products of ggml weight blocks with int8-quantized activations (q8_rows.h), after
// llama.cpp's ggml_vec_dot_<type>_q8_<0|K>: the weight quants are unpacked to unsigned bytes, meet
// the int8 activations in _mm256_maddubs_epi16 (u8 x i8, pair sums in int16), then
// _mm256_madd_epi16 widens (times 1, or times the k-quants' integer sub-block scales) to int32.
// A block's integer sum is scaled once; offsets (Q4_0's -8, Q6_K's -32) and the k-quants' mins go
// through the activations' precomputed block sums. Each kernel handles MR activation rows per
// weight block read, so a batch of rows shares one pass over the (L1-resident) weight row.
#pragma once
#include <cstdint>
#include <cstring>

#include "backend/cpu/gguf_blocks.h"
#include "backend/cpu/q8_rows.h"
#include "backend/cpu/simd_math.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

namespace tessera::cpu::q8 {

#define Q8_INLINE inline __attribute__((always_inline))

// The MR activation rows a kernel reads (row pointers, offset by the caller's m0).
template <int MR>
struct Act {
  const int8_t* q[MR];
  const float* d[MR];
  const float* ds[MR];
  const int32_t* s32[MR];
  const int16_t* s16[MR];
  Act(const Rows& x, int64_t m0) {
    for (int m = 0; m < MR; ++m)
      q[m] = x.qrow(m0 + m), d[m] = x.drow(m0 + m), ds[m] = x.dsrow(m0 + m), s32[m] = x.s32row(m0 + m),
      s16[m] = x.s16row(m0 + m);
  }
};

Q8_INLINE __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
Q8_INLINE __m256i mul_sum_u8i8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
Q8_INLINE __m256i low4(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi8(0x0F)); }
Q8_INLINE __m256i high4(__m256i v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F)); }

// Q4_0 block i (18 bytes): d * (q - 8); sum (q - 8) y = sum q y - 8 sum y.
template <int MR>
Q8_INLINE void block_q4_0(const uint8_t* b, int64_t i, const Act<MR>& x, __m256* acc, float* corr) {
  const float dw = gguf::f16_at(b);
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2));
  // Low nibbles are elements 0..15, high nibbles 16..31: the same order as the activations.
  const __m256i q = low4(_mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1));
  for (int m = 0; m < MR; ++m) {
    const __m256i p = mul_sum_u8i8(q, load32(x.q[m] + 32 * i));
    acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(dw * x.d[m][i]), _mm256_cvtepi32_ps(p), acc[m]);
    corr[m] += dw * x.ds[m][i];
  }
}

// Q8_0 block i (34 bytes): signed quants; maddubs wants one unsigned side: |w| times y * sign(w).
template <int MR>
Q8_INLINE void block_q8_0(const uint8_t* b, int64_t i, const Act<MR>& x, __m256* acc, float*) {
  const float dw = gguf::f16_at(b);
  const __m256i q = load32(b + 2), aq = _mm256_sign_epi8(q, q);
  for (int m = 0; m < MR; ++m) {
    const __m256i p = mul_sum_u8i8(aq, _mm256_sign_epi8(load32(x.q[m] + 32 * i), q));
    acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(dw * x.d[m][i]), _mm256_cvtepi32_ps(p), acc[m]);
  }
}

// The 8 six-bit scales (bytes 0..7) and mins (8..15) of a Q4_K / Q5_K super-block (12 bytes).
Q8_INLINE void k4_scales_mins(const uint8_t* s, uint8_t out[16]) {
  uint32_t u[4];
  std::memcpy(u, s, 12);
  const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
  u[3] = ((u[2] >> 4) & m4) | (((u[1] >> 6) & m2) << 4);  // mins 4..7
  const uint32_t mins03 = u[1] & m6;
  u[1] = (u[2] & m4) | (((u[0] >> 6) & m2) << 4);  // scales 4..7
  u[2] = mins03;
  u[0] &= m6;  // scales 0..3
  std::memcpy(out, u, 16);
}

// Q4_K / Q5_K super-block i: d * sc_j * q - dmin * mn_j on sub-blocks j of 32.
template <int MR, bool FIVE>
Q8_INLINE void block_q45_k(const uint8_t* b, int64_t i, const Act<MR>& x, __m256* acc, float* corr) {
  const float d = gguf::f16_at(b), dmin = gguf::f16_at(b + 2);
  alignas(16) uint8_t sm[16];
  k4_scales_mins(b + 4, sm);
  const uint8_t* ql = b + (FIVE ? 48 : 16);
  const __m256i qh = FIVE ? load32(b + 16) : _mm256_setzero_si256();
  const __m256i one = _mm256_set1_epi8(1);
  __m256i sumi[MR];
  for (int m = 0; m < MR; ++m) sumi[m] = _mm256_setzero_si256();
  for (int j = 0; j < 4; ++j) {
    const __m256i v = load32(ql + 32 * j);
    __m256i qa = low4(v), qb = high4(v);
    if constexpr (FIVE) {
      qa = _mm256_or_si256(qa, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), one), 4));
      qb = _mm256_or_si256(qb, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), one), 4));
    }
    const __m256i sa = _mm256_set1_epi16(sm[2 * j]), sb = _mm256_set1_epi16(sm[2 * j + 1]);
    for (int m = 0; m < MR; ++m) {
      const int8_t* y = x.q[m] + 256 * i + 64 * j;
      const __m256i pa = _mm256_madd_epi16(sa, _mm256_maddubs_epi16(qa, load32(y)));
      const __m256i pb = _mm256_madd_epi16(sb, _mm256_maddubs_epi16(qb, load32(y + 32)));
      sumi[m] = _mm256_add_epi32(sumi[m], _mm256_add_epi32(pa, pb));
    }
  }
  const __m256i mins = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm + 8)));
  for (int m = 0; m < MR; ++m) {
    const float dy = x.d[m][i];
    acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(d * dy), _mm256_cvtepi32_ps(sumi[m]), acc[m]);
    // mins . (sums of y over the 8 sub-blocks), an int32 dot of 8 lanes.
    const __m256i mp = _mm256_mullo_epi32(mins, load32(x.s32[m] + 8 * i));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(mp), _mm256_extracti128_si256(mp, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    corr[m] += dmin * dy * float(_mm_cvtsi128_si32(s));
  }
}

// Q6_K super-block i: d * sc_s * (q - 32) on sub-blocks s of 16 (int8 scales).
template <int MR>
Q8_INLINE void block_q6_k(const uint8_t* b, int64_t i, const Act<MR>& x, __m256* acc, float*) {
  const float d = gguf::f16_at(b + 208);
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
  __m256i sumi[MR];
  // The -32 offset: 32 * sum_s sc_s * (sum of y over sub-block s), from the 16-value sums.
  const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
  for (int m = 0; m < MR; ++m)
    sumi[m] = _mm256_sub_epi32(_mm256_setzero_si256(),
                               _mm256_slli_epi32(_mm256_madd_epi16(sc16, load32(x.s16[m] + 16 * i)), 5));
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b + 64 * h;
    const __m256i qh = load32(b + 128 + 32 * h), l0 = load32(ql), l1 = load32(ql + 32);
    const __m256i q[4] = {
        _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4)),
        _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4)),
        _mm256_or_si256(high4(l0), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4)),
        _mm256_or_si256(high4(l1), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4)),
    };
    for (int r = 0; r < 4; ++r) {
      // int16 lanes 0..7 hold elements 0..15 of the run (sub-block s), lanes 8..15 the next 16.
      const int s = 8 * h + 2 * r;
      const __m256i sv = _mm256_setr_m128i(_mm_set1_epi16(sc[s]), _mm_set1_epi16(sc[s + 1]));
      for (int m = 0; m < MR; ++m) {
        const __m256i p = _mm256_maddubs_epi16(q[r], load32(x.q[m] + 256 * i + 128 * h + 32 * r));
        sumi[m] = _mm256_add_epi32(sumi[m], _mm256_madd_epi16(sv, p));
      }
    }
  }
  for (int m = 0; m < MR; ++m)
    acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(d * x.d[m][i]), _mm256_cvtepi32_ps(sumi[m]), acc[m]);
}

// out[m * ldo + n] = row n . x[m0 + m] for weight rows [n0, n1): MR activation rows per pass.
// `block` is a lambda so each kernel inlines into the loop; `offset` scales corr (Q4_0: 8).
template <int MR, typename Block>
void rows_dot(const uint8_t* w, int64_t row_bytes, int64_t type_size, int64_t nblocks, const Rows& xr, int64_t m0,
              int64_t n0, int64_t n1, float* out, int64_t ldo, float offset, Block block) {
  const Act<MR> x(xr, m0);
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = w + n * row_bytes;
    // The next row's cache lines, requested while this row computes (the hardware prefetcher
    // alone lags at the start of each thread's range and on a busy machine).
    if (n + 1 < n1)
      for (int64_t o = 0; o < row_bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(row + row_bytes + o), _MM_HINT_T0);
    __m256 acc[MR];
    float corr[MR];
    for (int m = 0; m < MR; ++m) acc[m] = _mm256_setzero_ps(), corr[m] = 0;
    for (int64_t i = 0; i < nblocks; ++i) block(row + i * type_size, i, x, acc, corr);
    for (int m = 0; m < MR; ++m) out[(m0 + m) * ldo + n] = simd::hsum(acc[m]) - offset * corr[m];
  }
}

}  // namespace tessera::cpu::q8

#endif
