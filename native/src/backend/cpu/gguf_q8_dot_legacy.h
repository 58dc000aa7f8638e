// AVX2 dot products of ggml's Q4_1, Q5_0 and Q5_1 blocks (32 values) with int8 activations
// (q8_rows.h, blocks of 32), after llama.cpp's ggml_vec_dot_q{4_1,5_0,5_1}_q8_{0,1}, in the form of
// gguf_q8_dot.h's kernels (same Act rows, same call from rows_dot).
//
// Q5_0 (d * (q - 16)) reads its blocks in pairs as Q4_0 does (rows_q5_0). Q4_1 / Q5_1
// (d * q + m) keep q unsigned for _mm256_maddubs_epi16; the m term is m * d_y * sum(q_y) over the
// block (the activations' precomputed 32-value sums), so it sees the same rounded x.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "backend/cpu/gguf_q8_dot.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

namespace tessera::cpu::TESSERA_Q8_NS {

// Byte j of the result is 0xFF where bit j of the 32-bit little-endian word at p is set, else 0.
Q8_INLINE __m256i bits_to_bytes(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  // Bytes 0..7 take the word's byte 0, 8..15 byte 1, ... (the shuffle works per 128-bit half).
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(int32_t(v)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
  // All bits but bit (j % 8) set: the byte is all ones exactly when that bit was set.
  const __m256i others = _mm256_set1_epi64x(int64_t(0x7fbfdfeff7fbfdfe));
  return _mm256_cmpeq_epi8(_mm256_or_si256(spread, others), _mm256_set1_epi64x(-1));
}

// Q4_1 (20 bytes: d, m, 16 bytes of nibbles) and Q5_1 (24 bytes: d, m, 32 fifth bits, nibbles)
// block i: value d * q + m with q unsigned. The m term goes into corr (subtracted by rows_dot).
template <int MR, bool FIVE>
Q8_INLINE void block_q45_1(const uint8_t* b, int64_t i, const Act<MR>& x, __m256* acc, __m128* corr) {
  const float dw = gguf::f16_at(b), mw = gguf::f16_at(b + 2);
  __m256i q = nibbles32(b + (FIVE ? 8 : 4));
  if constexpr (FIVE) q = _mm256_or_si256(q, _mm256_and_si256(bits_to_bytes(b + 4), _mm256_set1_epi8(0x10)));
  for (int m = 0; m < MR; ++m) {
    const float dy = x.d[m][i];
    const __m256i p = mul_sum_u8i8(q, load32(x.q[m] + 32 * i));
    acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(dw * dy), _mm256_cvtepi32_ps(p), acc[m]);
    corr[m] = _mm_sub_ss(corr[m], _mm_set_ss(mw * dy * float(x.s32[m][i])));
  }
}

// Q5_0 rows, blocks read in pairs as rows_q4_0 reads Q4_0 (activations reordered by
// interleave_pairs; a per-row pass turns the gathered scales into products with the activation
// scales and sums the offset): q = nibble | fifth bit << 4 stays unsigned (0..31) for
// _mm256_maddubs_epi16 and the -16 goes through the activations' 32-value sums. The two blocks'
// fifth bits for elements 0..15 (low nibbles) and 16..31 (high nibbles) are regrouped into one
// 32-bit word each, spread to bytes like the nibbles they extend. Measured on a 4096 x 4096
// mat-vec, 2 threads: 1.13 ms, against 1.39 ms for llama.cpp's per-block form (signed q via
// andnot, sign trick) in rows_dot and 0.71 ms for Q4_0 (18 of Q5_0's 22 bytes per block).
template <int MR>
void rows_q5_0(const uint8_t* w, int64_t row_bytes, int64_t nb, const Rows& xr, int64_t m0, int64_t n0, int64_t n1,
               float* out, int64_t ldo) {
  const Act<MR> x(xr, m0);
  const int64_t ld = (nb + 7) & ~int64_t(7);
  float local[MR * 512];
  std::vector<float> heap(ld > 512 ? size_t(MR * ld) : 0);
  float* sc = ld > 512 ? heap.data() : local;
  const __m256i five = _mm256_set1_epi8(0x10);
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = w + n * row_bytes;
    __m256 corr[MR];
    float corr1[MR];
    block_scales<MR, 22>(row, nb, x, sc, ld, corr, corr1);
    __m256 acc[MR], acc1[MR];
    for (int m = 0; m < MR; ++m) acc[m] = acc1[m] = _mm256_setzero_ps();
    auto pair = [&](int64_t j, __m256* a) __attribute__((always_inline)) {
      const uint8_t* b = row + 44 * j;
      uint32_t h0, h1;
      std::memcpy(&h0, b + 2, 4), std::memcpy(&h1, b + 24, 4);
      const uint32_t wl = (h0 & 0xFFFF) | (h1 << 16), wh = (h0 >> 16) | (h1 & 0xFFFF0000u);
      const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(load16(b + 6)), load16(b + 28), 1);
      const __m256i lo = _mm256_or_si256(low4(v), _mm256_and_si256(bits_to_bytes(reinterpret_cast<const uint8_t*>(&wl)), five));
      const __m256i hi = _mm256_or_si256(high4(v), _mm256_and_si256(bits_to_bytes(reinterpret_cast<const uint8_t*>(&wh)), five));
      for (int m = 0; m < MR; ++m) {
        const int8_t* y = x.q[m] + 64 * j;
        // int16 lanes (AVX2): two pair sums of at most 2 * 31 * 127 each, no overflow.
        const __m256i p = mul_sum2_u8i8(lo, load32(y), hi, load32(y + 32));
        const float* s = sc + m * ld + 2 * j;
        const __m256 f = _mm256_set_m128(_mm_broadcast_ss(s + 1), _mm_broadcast_ss(s));
        a[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), f, a[m]);
      }
    };
    const int64_t pairs = nb / 2;
    int64_t j = 0;
    for (; j + 2 <= pairs; j += 2) prefetch(row + 44 * j), prefetch(row + 44 * j + 64), pair(j, acc), pair(j + 1, acc1);
    if (j < pairs) pair(j, acc);
    if (nb % 2) {  // the last block alone, activations in natural order
      const uint8_t* b = row + 22 * (nb - 1);
      const __m256i q = _mm256_or_si256(nibbles32(b + 6), _mm256_and_si256(bits_to_bytes(b + 2), five));
      for (int m = 0; m < MR; ++m)
        acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mul_sum_u8i8(q, load32(x.q[m] + 32 * (nb - 1)))),
                                 _mm256_set1_ps(sc[m * ld + nb - 1]), acc[m]);
    }
    for (int m = 0; m < MR; ++m)
      out[(m0 + m) * ldo + n] = simd::hsum(_mm256_add_ps(acc[m], acc1[m])) - 16.0f * (simd::hsum(corr[m]) + corr1[m]);
  }
}

}  // namespace tessera::cpu::TESSERA_Q8_NS

#endif
