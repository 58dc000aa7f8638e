// AVX2 dot products of ggml's Q4_1, Q5_0 and Q5_1 blocks (32 values) with int8 activations
// (q8_rows.h, blocks of 32), after llama.cpp's ggml_vec_dot_q{4_1,5_0,5_1}_q8_{0,1}, in the form of
// gguf_q8_dot.h's kernels (same Act rows, same call from rows_dot).
//
// Q5_0 (d * (q - 16)) is made signed as llama.cpp does: the fifth bits spread to bytes, and where
// a bit is clear the byte gets 0xF0 (nibble - 16 as int8); then |w| meets y * sign(w) as in Q8_0.
// Q4_1 / Q5_1 (d * q + m) keep q unsigned for _mm256_maddubs_epi16; the m term is m * d_y * sum(q_y)
// over the block (the activations' precomputed 32-value sums), so it sees the same rounded x.
#pragma once
#include <cstdint>
#include <cstring>

#include "backend/cpu/gguf_q8_dot.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

namespace tessera::cpu::q8 {

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

// The 16 bytes of nibbles at p as 32 bytes in element order: low nibbles (0..15), high (16..31).
Q8_INLINE __m256i nibbles32(const uint8_t* p) {
  const __m128i v = load16(p);
  return low4(_mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1));
}

// Q5_0 block i (22 bytes): d (f16), 32 fifth bits, 16 bytes of low nibbles; value d * (q - 16).
template <int MR>
Q8_INLINE void block_q5_0(const uint8_t* b, int64_t i, const Act<MR>& x, __m256* acc, __m128*) {
  const float dw = gguf::f16_at(b);
  const __m256i q = _mm256_or_si256(nibbles32(b + 6), _mm256_andnot_si256(bits_to_bytes(b + 2), _mm256_set1_epi8(int8_t(0xF0))));
  const __m256i aq = _mm256_sign_epi8(q, q);
  for (int m = 0; m < MR; ++m) {
    // int16 pair sums of at most 2 * 16 * 127: no saturation.
    const __m256i p = mul_sum_u8i8(aq, _mm256_sign_epi8(load32(x.q[m] + 32 * i), q));
    acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(dw * x.d[m][i]), _mm256_cvtepi32_ps(p), acc[m]);
  }
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

}  // namespace tessera::cpu::q8

#endif
