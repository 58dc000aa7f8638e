// Integer kernel for MLX affine 4-bit weights (transpose=true, K a multiple of 64): the row loop
// over activations quantized by affine4_act.h (which explains the layout). TESSERA_AFF4_VNNI
// (qmatmul_vnni_avx512.cc, inside an AVX512-VNNI target region) compiles it into namespace
// affine4_vnni with each madd_epi16 + add_epi32 as one vpdpwssd: the same int32 lanes, so the
// same results as AVX2.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "backend/cpu/affine4_act.h"
#include "backend/cpu/quant_kernels.h"
#include "backend/cpu/simd_math.h"
#include "tessera/dtype.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#ifndef TESSERA_AFF4_NS
#define TESSERA_AFF4_NS affine4
#endif

namespace tessera::cpu::TESSERA_AFF4_NS {

#ifdef TESSERA_AFF4_VNNI
using ::tessera::cpu::affine4::Act;
#endif

#ifndef AFF4_INLINE
#define AFF4_INLINE inline __attribute__((always_inline))
#endif

// Float scales of one chunk's two halves (GS: the weight group size).
template <int GS, typename S>
AFF4_INLINE __m256 chunk_scales(const S* s, int64_t c) {
  if constexpr (GS == 32) return _mm256_setr_m128(_mm_set1_ps(to_f32(s[2 * c])), _mm_set1_ps(to_f32(s[2 * c + 1])));
  else return _mm256_set1_ps(to_f32(s[(c * 64) / GS]));
}

// Weights are requested this far ahead of use (and scales and biases kParamRowsAhead rows ahead):
// the hardware prefetchers stop at 4 KB pages and alone leave a thread well short of the DRAM
// bandwidth (as in gguf_q8_dot.h).
constexpr int64_t kPrefetchAhead = 8192, kParamRowsAhead = 4;

// out[(m0 + m) * ldo + n] for weight rows [n0, n1) and activation rows m0..m0+MR over the chunks
// [c0, c1) of 64 values: the first chunk range writes (with the bias term), later ones add.
// sf/bf: the scales and biases [N, groups]. Even and odd chunks accumulate apart (two fmadd chains).
template <int MR, int GS, typename S>
void rows_dot(const uint8_t* w, int64_t row_bytes, const S* sf, const S* bf, const Act& a, int64_t m0,
              int64_t n0, int64_t n1, int64_t c0, int64_t c1, float* out, int64_t ldo) {
  const int64_t G = a.groups;
  const __m256i m4 = _mm256_set1_epi16(0x0F);
  const int16_t* xq[MR];
  const float* dx[MR];
  for (int m = 0; m < MR; ++m) xq[m] = a.q.data() + (m0 + m) * a.K, dx[m] = a.dx.data() + (m0 + m) * a.K / 8;
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = w + n * row_bytes;
    const S* s = sf + n * G;
    for (int64_t o = 0; o < G * int64_t(sizeof(S)); o += 64)
      _mm_prefetch(reinterpret_cast<const char*>(s + kParamRowsAhead * G) + o, _MM_HINT_T0),
          _mm_prefetch(reinterpret_cast<const char*>(bf + (n + kParamRowsAhead) * G) + o, _MM_HINT_T0);
    __m256 acc[2][MR];
    for (int m = 0; m < MR; ++m) acc[0][m] = acc[1][m] = _mm256_setzero_ps();
    auto chunk = [&](int64_t c, __m256* ac) __attribute__((always_inline)) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 32 * c));
      const __m256i q0 = _mm256_and_si256(v, m4), q1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4),
                    q2 = _mm256_and_si256(_mm256_srli_epi16(v, 8), m4), q3 = _mm256_srli_epi16(v, 12);
      const __m256 sv = chunk_scales<GS>(s, c);
      for (int m = 0; m < MR; ++m) {
        const __m256i* x = reinterpret_cast<const __m256i*>(xq[m] + 64 * c);
#ifdef TESSERA_AFF4_VNNI
        const __m256i p = _mm256_dpwssd_epi32(
            _mm256_dpwssd_epi32(_mm256_dpwssd_epi32(_mm256_madd_epi16(q0, _mm256_loadu_si256(x)), q1, _mm256_loadu_si256(x + 1)),
                                q2, _mm256_loadu_si256(x + 2)),
            q3, _mm256_loadu_si256(x + 3));
#else
        const __m256i p = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_madd_epi16(q0, _mm256_loadu_si256(x)), _mm256_madd_epi16(q1, _mm256_loadu_si256(x + 1))),
            _mm256_add_epi32(_mm256_madd_epi16(q2, _mm256_loadu_si256(x + 2)), _mm256_madd_epi16(q3, _mm256_loadu_si256(x + 3))));
#endif
        ac[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(sv, _mm256_loadu_ps(dx[m] + 8 * c)), ac[m]);
      }
    };
    int64_t c = c0;
    for (; c + 2 <= c1; c += 2) {
      _mm_prefetch(reinterpret_cast<const char*>(row + 32 * c + kPrefetchAhead), _MM_HINT_T0);
      chunk(c, acc[0]), chunk(c + 1, acc[1]);
    }
    if (c < c1) chunk(c, acc[0]);
    const S* b = bf + n * G;
    for (int m = 0; m < MR; ++m) {
      const float part = simd::hsum(_mm256_add_ps(acc[0][m], acc[1][m]));
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

// One tile of the job: activation rows [m0, m0 + mr), weight rows [r0, r1), all chunks.
inline void tile(const Affine4Job& J, int mr, int64_t m0, int64_t r0, int64_t r1) {
  auto go = [&]<int MR, int GS, typename S>() {
    rows_dot<MR, GS>(J.w, J.row_bytes, static_cast<const S*>(J.scales), static_cast<const S*>(J.biases), *J.act, m0, r0,
                     r1, 0, J.chunks, J.Y, J.N);
  };
  auto by_mr = [&]<int GS, typename S>() {
    switch (mr) {
      case 1: go.template operator()<1, GS, S>(); break;
      case 2: go.template operator()<2, GS, S>(); break;
      case 3: go.template operator()<3, GS, S>(); break;
      default: go.template operator()<4, GS, S>(); break;
    }
  };
  auto by_gs = [&]<typename S>() {
    switch (J.gs) {
      case 32: by_mr.template operator()<32, S>(); break;
      case 64: by_mr.template operator()<64, S>(); break;
      default: by_mr.template operator()<128, S>(); break;
    }
  };
  switch (J.sdt) {
    case Dtype::Float16: by_gs.template operator()<float16_t>(); break;
    case Dtype::BFloat16: by_gs.template operator()<bfloat16_t>(); break;
    default: by_gs.template operator()<float>(); break;
  }
}

}  // namespace tessera::cpu::TESSERA_AFF4_NS

#endif
