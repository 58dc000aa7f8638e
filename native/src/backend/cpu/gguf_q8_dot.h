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
#include <vector>

#include "backend/cpu/gguf_blocks.h"
#include "backend/cpu/q8_rows.h"
#include "backend/cpu/simd_math.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

// TESSERA_Q8_VNNI (defined by qmatmul_vnni_avx512.cc, which includes this header inside an
// AVX512-VNNI target region) compiles the same kernels into namespace q8_vnni with the integer
// steps on VNNI: vpdpbusd (u8 x i8, 4 products summed into each int32 lane) for maddubs + madd(1),
// vpdpwssd for madd + add. The int32 lanes hold the same integers as the AVX2 forms (whose int16
// pair sums never saturate here), so both levels give bit-identical results.
#ifndef TESSERA_Q8_NS
#define TESSERA_Q8_NS q8
#endif

namespace tessera::cpu::TESSERA_Q8_NS {

#ifdef TESSERA_Q8_VNNI
using ::tessera::cpu::q8::Rows;
#endif

#ifndef Q8_INLINE
#define Q8_INLINE inline __attribute__((always_inline))
#endif

// The MR activation rows a kernel reads (row pointers, offset by the caller's m0).
template <int MR>
struct Act {
  const int8_t* q[MR];
  const float* d[MR];
  const int16_t* s32[MR];
  const int16_t* s16[MR];
  Act(const Rows& x, int64_t m0) {
    for (int m = 0; m < MR; ++m)
      q[m] = x.qrow(m0 + m), d[m] = x.drow(m0 + m), s32[m] = x.s32row(m0 + m), s16[m] = x.s16row(m0 + m);
  }
};

Q8_INLINE __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
Q8_INLINE __m128i load16(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
#ifdef TESSERA_Q8_VNNI
// int32 lane i: sum of the 4 products u[4i + j] * s[4i + j] (u unsigned, s signed).
Q8_INLINE __m256i mul_sum_u8i8(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }
// The same over two vector pairs: lane i sums 8 products.
Q8_INLINE __m256i mul_sum2_u8i8(__m256i u0, __m256i s0, __m256i u1, __m256i s1) {
  return _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), u0, s0), u1, s1);
}
// acc + madd_epi16(a, b).
Q8_INLINE __m256i madd_acc(__m256i acc, __m256i a, __m256i b) { return _mm256_dpwssd_epi32(acc, a, b); }
#else
Q8_INLINE __m256i mul_sum_u8i8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
// int16 lanes: pair sums of each maddubs added (callers keep them within int16), then widened.
Q8_INLINE __m256i mul_sum2_u8i8(__m256i u0, __m256i s0, __m256i u1, __m256i s1) {
  return _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(u0, s0), _mm256_maddubs_epi16(u1, s1)), _mm256_set1_epi16(1));
}
Q8_INLINE __m256i madd_acc(__m256i acc, __m256i a, __m256i b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }
#endif
Q8_INLINE __m256i low4(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi8(0x0F)); }
Q8_INLINE __m256i high4(__m256i v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F)); }
Q8_INLINE float hsum128(__m128 s) {
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
// The float16 scales of 8 blocks `stride` bytes apart, as floats (gathered in two 64-bit integers).
Q8_INLINE __m256 halves8(const uint8_t* p, int64_t stride) {
  uint64_t a = 0, b = 0;
  for (int j = 0; j < 4; ++j) {
    uint16_t h0, h1;
    std::memcpy(&h0, p + j * stride, 2);
    std::memcpy(&h1, p + (4 + j) * stride, 2);
    a |= uint64_t(h0) << (16 * j), b |= uint64_t(h1) << (16 * j);
  }
  return _mm256_cvtph_ps(_mm_set_epi64x(int64_t(b), int64_t(a)));
}
// Weight bytes are requested this far ahead of use. The hardware prefetchers stop at 4 KB page
// boundaries and run too few requests for one thread to reach the DRAM bandwidth; with 8 KB ahead
// a 2-thread mat-vec streams 20-40% faster than with next-row or no prefetching (Zen 3, 2 cores).
constexpr int64_t kPrefetchAhead = 8192;
Q8_INLINE void prefetch(const uint8_t* p) { _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetchAhead), _MM_HINT_T0); }

// Broadcasts int16 lane s (0..7) of each 128-bit half of v to all 8 lanes of that half.
Q8_INLINE __m256i bcast16(__m256i v, int s) { return _mm256_shuffle_epi8(v, _mm256_set1_epi16(int16_t(0x0100 + 0x0202 * s))); }

// The per-row pass of rows_q4_0 / rows_q5_0 (blocks of BYTES bytes, each led by its f16 scale):
// sc[m * ld + i] = d_w(i) * d_x(m, i), and the sums of sc times the activations' 32-value sums
// that the blocks' constant offset (-8 or -16) contributes, in corr (8 at a time) and corr1.
template <int MR, int BYTES>
Q8_INLINE void block_scales(const uint8_t* row, int64_t nb, const Act<MR>& x, float* sc, int64_t ld, __m256* corr,
                            float* corr1) {
  for (int m = 0; m < MR; ++m) corr[m] = _mm256_setzero_ps(), corr1[m] = 0;
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    const __m256 dw = halves8(row + BYTES * i, BYTES);
    for (int m = 0; m < MR; ++m) {
      const __m256 s = _mm256_mul_ps(dw, _mm256_loadu_ps(x.d[m] + i));
      _mm256_storeu_ps(sc + m * ld + i, s);
      corr[m] = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(load16(x.s32[m] + i))), corr[m]);
    }
  }
  for (; i < nb; ++i)
    for (int m = 0; m < MR; ++m) sc[m * ld + i] = gguf::f16_at(row + BYTES * i) * x.d[m][i], corr1[m] += sc[m * ld + i] * x.s32[m][i];
}

// The 16 bytes of nibbles at p as 32 bytes in element order: low nibbles (0..15), high (16..31).
Q8_INLINE __m256i nibbles32(const uint8_t* p) {
  const __m128i v = load16(p);
  return low4(_mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1));
}

// Q4_0 rows (18-byte blocks: f16 d, 16 bytes of nibbles, value d * (q - 8)), blocks read in pairs:
// the two blocks' 16 nibble bytes fill one 256-bit vector, low nibbles are elements 0..15 of each
// block and high nibbles 16..31, matching activations reordered by interleave_pairs. Per row, a
// first pass turns the 8-at-a-time gathered block scales into products with the activation scales
// (sc) and sums the -8 offset as 8 * sum_i sc_i * sum(y_i); the main pass is then 12 vector
// instructions per pair and two fmadd chains.
template <int MR>
void rows_q4_0(const uint8_t* w, int64_t row_bytes, int64_t nb, const Rows& xr, int64_t m0, int64_t n0, int64_t n1,
               float* out, int64_t ldo) {
  const Act<MR> x(xr, m0);
  const int64_t ld = (nb + 7) & ~int64_t(7);
  float local[MR * 512];  // rows of up to 512 blocks (K = 16384) need no allocation
  std::vector<float> heap(ld > 512 ? size_t(MR * ld) : 0);
  float* sc = ld > 512 ? heap.data() : local;
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = w + n * row_bytes;
    __m256 corr[MR];
    float corr1[MR];
    block_scales<MR, 18>(row, nb, x, sc, ld, corr, corr1);
    __m256 acc[MR], acc1[MR];
    for (int m = 0; m < MR; ++m) acc[m] = acc1[m] = _mm256_setzero_ps();
    auto pair = [&](int64_t j, __m256* a) __attribute__((always_inline)) {
      const uint8_t* b = row + 36 * j;
      const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(load16(b + 2)), load16(b + 20), 1);
      const __m256i lo = low4(v), hi = high4(v);
      for (int m = 0; m < MR; ++m) {
        const int8_t* y = x.q[m] + 64 * j;
        // int16 lanes (AVX2): two pair sums of at most 2 * 15 * 127 each, no overflow.
        const __m256i p = mul_sum2_u8i8(lo, load32(y), hi, load32(y + 32));
        const float* s = sc + m * ld + 2 * j;
        const __m256 f = _mm256_set_m128(_mm_broadcast_ss(s + 1), _mm_broadcast_ss(s));
        a[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), f, a[m]);
      }
    };
    const int64_t pairs = nb / 2;
    int64_t j = 0;
    // 72 bytes per step: two prefetches so that every 64-byte line ahead is requested.
    for (; j + 2 <= pairs; j += 2) prefetch(row + 36 * j), prefetch(row + 36 * j + 64), pair(j, acc), pair(j + 1, acc1);
    if (j < pairs) pair(j, acc);
    if (nb % 2) {  // the last block alone, activations in natural order
      const __m256i q = nibbles32(row + 18 * (nb - 1) + 2);
      for (int m = 0; m < MR; ++m)
        acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mul_sum_u8i8(q, load32(x.q[m] + 32 * (nb - 1)))),
                                 _mm256_set1_ps(sc[m * ld + nb - 1]), acc[m]);
    }
    for (int m = 0; m < MR; ++m)
      out[(m0 + m) * ldo + n] = simd::hsum(_mm256_add_ps(acc[m], acc1[m])) - 8.0f * (simd::hsum(corr[m]) + corr1[m]);
  }
}

// Q8_0 block i (34 bytes): signed quants; maddubs wants one unsigned side: |w| times y * sign(w).
template <int MR>
Q8_INLINE void block_q8_0(const uint8_t* b, int64_t i, const Act<MR>& x, __m256* acc, __m128*) {
  const float dw = gguf::f16_at(b);
  const __m256i q = load32(b + 2), aq = _mm256_sign_epi8(q, q);
  for (int m = 0; m < MR; ++m) {
    const __m256i p = mul_sum_u8i8(aq, _mm256_sign_epi8(load32(x.q[m] + 32 * i), q));
    acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(dw * x.d[m][i]), _mm256_cvtepi32_ps(p), acc[m]);
  }
}

// The 8 six-bit scales (int16 lanes 0..7) and mins (lanes 8..15) of a Q4_K / Q5_K super-block,
// unpacked from its 12 bytes as ggml's get_scale_min_k4.
Q8_INLINE __m256i k4_scales_mins(const uint8_t* s) {
  uint32_t u0, u1, u2;
  std::memcpy(&u0, s, 4), std::memcpy(&u1, s + 4, 4), std::memcpy(&u2, s + 8, 4);
  const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
  const uint32_t sc03 = u0 & m6, mn03 = u1 & m6;
  const uint32_t sc47 = (u2 & m4) | (((u0 >> 6) & m2) << 4), mn47 = ((u2 >> 4) & m4) | (((u1 >> 6) & m2) << 4);
  return _mm256_cvtepu8_epi16(_mm_set_epi64x(int64_t(uint64_t(mn47) << 32 | mn03), int64_t(uint64_t(sc47) << 32 | sc03)));
}

// Q4_K / Q5_K super-block i: d * sc_j * q - dmin * mn_j on sub-blocks j of 32. The mins meet the
// activations' sub-block sums in one madd and accumulate in corr (subtracted at the end).
template <int MR, bool FIVE>
Q8_INLINE void block_q45_k(const uint8_t* b, int64_t i, const Act<MR>& x, __m256* acc, __m128* corr) {
  const float d = gguf::f16_at(b), dmin = gguf::f16_at(b + 2);
  const __m256i sm = k4_scales_mins(b + 4);
  const __m256i scales = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm));
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
    const __m256i sa = bcast16(scales, 2 * j), sb = bcast16(scales, 2 * j + 1);
    for (int m = 0; m < MR; ++m) {
      const int8_t* y = x.q[m] + 256 * i + 64 * j;
      sumi[m] = madd_acc(madd_acc(sumi[m], sa, _mm256_maddubs_epi16(qa, load32(y))), sb, _mm256_maddubs_epi16(qb, load32(y + 32)));
    }
  }
  const __m128i mins = _mm256_extracti128_si256(sm, 1);
  for (int m = 0; m < MR; ++m) {
    const float dy = x.d[m][i];
    acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(d * dy), _mm256_cvtepi32_ps(sumi[m]), acc[m]);
    const __m128i mp = _mm_madd_epi16(mins, load16(x.s32[m] + 8 * i));
    corr[m] = _mm_fmadd_ps(_mm_set1_ps(dmin * dy), _mm_cvtepi32_ps(mp), corr[m]);
  }
}

// Q6_K super-block i: d * sc_s * (q - 32) on sub-blocks s of 16 (int8 scales).
template <int MR>
Q8_INLINE void block_q6_k(const uint8_t* b, int64_t i, const Act<MR>& x, __m256* acc, __m128*) {
  const float d = gguf::f16_at(b + 208);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
  // int16 lanes 0..7: scales 0..7, lanes 8..15: scales 8..15.
  const __m256i sc16 = _mm256_cvtepi8_epi16(load16(b + 192));
  __m256i sumi[MR];
  // The -32 offset: 32 * sum_s sc_s * (sum of y over sub-block s), from the 16-value sums.
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
    // This half's 8 scales in both 128-bit halves.
    const __m256i sch = h ? _mm256_permute2x128_si256(sc16, sc16, 0x11) : _mm256_permute2x128_si256(sc16, sc16, 0x00);
    for (int r = 0; r < 4; ++r) {
      // int16 lanes 0..7 hold elements 0..15 of the run (sub-block s = 8h + 2r), lanes 8..15 the next 16.
      const __m256i sv = _mm256_shuffle_epi8(sch, _mm256_setr_epi8(4 * r, 4 * r + 1, 4 * r, 4 * r + 1, 4 * r, 4 * r + 1, 4 * r, 4 * r + 1,
                                                                   4 * r, 4 * r + 1, 4 * r, 4 * r + 1, 4 * r, 4 * r + 1, 4 * r, 4 * r + 1,
                                                                   4 * r + 2, 4 * r + 3, 4 * r + 2, 4 * r + 3, 4 * r + 2, 4 * r + 3, 4 * r + 2, 4 * r + 3,
                                                                   4 * r + 2, 4 * r + 3, 4 * r + 2, 4 * r + 3, 4 * r + 2, 4 * r + 3, 4 * r + 2, 4 * r + 3));
      for (int m = 0; m < MR; ++m) {
        const __m256i p = _mm256_maddubs_epi16(q[r], load32(x.q[m] + 256 * i + 128 * h + 32 * r));
        sumi[m] = madd_acc(sumi[m], sv, p);
      }
    }
  }
  for (int m = 0; m < MR; ++m)
    acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(d * x.d[m][i]), _mm256_cvtepi32_ps(sumi[m]), acc[m]);
}

// out[m * ldo + n] = row n . x[m0 + m] for weight rows [n0, n1): MR activation rows per pass.
// `block` is a lambda so each kernel inlines into the loop; it accumulates float corrections (the
// k-quants' mins) in corr, subtracted at the end.
template <int MR, typename Block>
void rows_dot(const uint8_t* w, int64_t row_bytes, int64_t type_size, int64_t nblocks, const Rows& xr, int64_t m0,
              int64_t n0, int64_t n1, float* out, int64_t ldo, Block block) {
  const Act<MR> x(xr, m0);
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = w + n * row_bytes;
    // Two accumulators (even and odd blocks): one fmadd chain would wait on its latency each block.
    __m256 acc[MR], acc1[MR];
    __m128 corr[MR];
    for (int m = 0; m < MR; ++m) acc[m] = acc1[m] = _mm256_setzero_ps(), corr[m] = _mm_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= nblocks; i += 2) {
      for (int64_t o = 0; o < 2 * type_size; o += 64) prefetch(row + i * type_size + o);
      block(row + i * type_size, i, x, acc, corr);
      block(row + (i + 1) * type_size, i + 1, x, acc1, corr);
    }
    if (i < nblocks) block(row + i * type_size, i, x, acc, corr);
    for (int m = 0; m < MR; ++m) out[(m0 + m) * ldo + n] = simd::hsum(_mm256_add_ps(acc[m], acc1[m])) - hsum128(corr[m]);
  }
}

}  // namespace tessera::cpu::TESSERA_Q8_NS

#endif
