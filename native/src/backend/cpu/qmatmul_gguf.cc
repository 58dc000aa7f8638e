// CPU kernel of GgufMatmul: x @ W^T with W held as rows of ggml blocks, read directly.
//
// Weights are decoded to float32 (exactly ggml's values: integer quants times the block scales),
// never the activations quantized to Q8 as llama.cpp does: results equal dequantize + matmul up to
// float32 summation order. Mat-vec (up to kMatVecRows activation rows): per-type AVX2 kernels for
// Q4_0, Q8_0, Q4_K, Q5_K, Q6_K decode a block in registers and fold its scales in per (sub-)block,
// with min/offset terms applied through precomputed sums of x over each sub-block; other block
// types decode a block to a small buffer with the reference decoders. Mat-mat: panels of weight
// rows decoded to float32 and reused for all activation rows (dot_panel).
#include <algorithm>
#include <cstring>

#include "backend/cpu/gguf_blocks.h"
#include "backend/cpu/qmatmul_common.h"
#include "tessera/primitives/quant.h"

namespace tessera {

namespace {

using namespace cpu::qmm;
using gguf::DecodeFn;

struct Problem {
  int64_t M, N, K, row_bytes, bs, ts;
  const uint8_t* w;
  const float* X;    // [M, K]
  const float* X32;  // sums of x over 32-element blocks [M, K / 32]
  float* Y;          // [M, N]
};

#if defined(__AVX2__) && defined(__FMA__)

// The block kernels must inline into the row loop so accumulators stay in registers.
#define QMM_INLINE inline __attribute__((always_inline))

QMM_INLINE __m256 i8_to_ps(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)); }

// Dot products of 32 signed byte quants with x[m][0..32) for MR rows: out[m] (not yet scaled).
template <int MR>
QMM_INLINE void dot32(__m256i q, const float* const* x, int64_t off, __m256* out) {
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  const __m256 f0 = i8_to_ps(lo), f1 = i8_to_ps(_mm_srli_si128(lo, 8)), f2 = i8_to_ps(hi),
               f3 = i8_to_ps(_mm_srli_si128(hi, 8));
  for (int m = 0; m < MR; ++m) {
    const float* xm = x[m] + off;
    __m256 p0 = _mm256_mul_ps(f0, _mm256_loadu_ps(xm));
    __m256 p1 = _mm256_mul_ps(f2, _mm256_loadu_ps(xm + 16));
    p0 = _mm256_fmadd_ps(f1, _mm256_loadu_ps(xm + 8), p0);
    p1 = _mm256_fmadd_ps(f3, _mm256_loadu_ps(xm + 24), p1);
    out[m] = _mm256_add_ps(p0, p1);
  }
}

// Two 16-element halves of 32 signed byte quants, separately (for Q6_K's 16-element scales).
template <int MR>
QMM_INLINE void dot16x2(__m256i q, const float* const* x, int64_t off, __m256* lo_out, __m256* hi_out) {
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  const __m256 f0 = i8_to_ps(lo), f1 = i8_to_ps(_mm_srli_si128(lo, 8)), f2 = i8_to_ps(hi),
               f3 = i8_to_ps(_mm_srli_si128(hi, 8));
  for (int m = 0; m < MR; ++m) {
    const float* xm = x[m] + off;
    lo_out[m] = _mm256_fmadd_ps(f1, _mm256_loadu_ps(xm + 8), _mm256_mul_ps(f0, _mm256_loadu_ps(xm)));
    hi_out[m] = _mm256_fmadd_ps(f3, _mm256_loadu_ps(xm + 24), _mm256_mul_ps(f2, _mm256_loadu_ps(xm + 16)));
  }
}

QMM_INLINE __m256i nibbles_lo(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi8(0x0F)); }
QMM_INLINE __m256i nibbles_hi(__m256i v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F)); }

// One block for MR rows: x[m] points at the block's first element, acc[m] gathers scaled sums,
// corr[m] the scalar offset terms (sub-block sums of x times mins).
template <int MR>
QMM_INLINE void block_q4_0(const uint8_t* b, const float* const* x, const float* const*, __m256* acc, float*) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2));
  const __m256i q = _mm256_sub_epi8(
      nibbles_lo(_mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1)), _mm256_set1_epi8(8));
  __m256 part[MR];
  dot32<MR>(q, x, 0, part);
  const __m256 d = _mm256_set1_ps(gguf::f16_at(b));
  for (int m = 0; m < MR; ++m) acc[m] = _mm256_fmadd_ps(d, part[m], acc[m]);
}

template <int MR>
QMM_INLINE void block_q8_0(const uint8_t* b, const float* const* x, const float* const*, __m256* acc, float*) {
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
  __m256 part[MR];
  dot32<MR>(q, x, 0, part);
  const __m256 d = _mm256_set1_ps(gguf::f16_at(b));
  for (int m = 0; m < MR; ++m) acc[m] = _mm256_fmadd_ps(d, part[m], acc[m]);
}

// Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins; value = d * sc * q - dmin * mn.
template <int MR, bool FIVE>
QMM_INLINE void block_q45_k(const uint8_t* b, const float* const* x, const float* const* xs, __m256* acc, float* corr) {
  const float d = gguf::f16_at(b), dmin = gguf::f16_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* ql = b + (FIVE ? 48 : 16);
  const __m256i qh = FIVE ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16)) : _mm256_setzero_si256();
  const __m256i one = _mm256_set1_epi8(1);
  for (int j = 0; j < 4; ++j) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32 * j));
    __m256i qa = nibbles_lo(v), qb = nibbles_hi(v);
    if constexpr (FIVE) {
      qa = _mm256_or_si256(qa, _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * j)), one), 4));
      qb = _mm256_or_si256(qb, _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * j + 1)), one), 4));
    }
    int sc0, mn0, sc1, mn1;
    gguf::k4_scale_min(2 * j, scales, sc0, mn0);
    gguf::k4_scale_min(2 * j + 1, scales, sc1, mn1);
    __m256 pa[MR], pb[MR];
    dot32<MR>(qa, x, 64 * j, pa);
    dot32<MR>(qb, x, 64 * j + 32, pb);
    const __m256 da = _mm256_set1_ps(d * float(sc0)), db = _mm256_set1_ps(d * float(sc1));
    const float ma = dmin * float(mn0), mb = dmin * float(mn1);
    for (int m = 0; m < MR; ++m) {
      acc[m] = _mm256_fmadd_ps(db, pb[m], _mm256_fmadd_ps(da, pa[m], acc[m]));
      corr[m] += ma * xs[m][2 * j] + mb * xs[m][2 * j + 1];
    }
  }
}

// Q6_K: two halves of 128, each 4 runs of 32 values (sub-blocks of 16 with int8 scales); q - 32.
template <int MR>
QMM_INLINE void block_q6_k(const uint8_t* b, const float* const* x, const float* const* xs, __m256* acc, float*) {
  const float d = gguf::f16_at(b + 208);
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3), off = _mm256_set1_epi8(32);
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b + 64 * h;
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 128 + 32 * h));
    const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
    const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
    const __m256i q[4] = {
        _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4)),
        _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4)),
        _mm256_or_si256(nibbles_hi(l0), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4)),
        _mm256_or_si256(nibbles_hi(l1), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4)),
    };
    for (int r = 0; r < 4; ++r) {
      __m256 lo[MR], hi[MR];
      dot16x2<MR>(_mm256_sub_epi8(q[r], off), x, 128 * h + 32 * r, lo, hi);
      const int s = 8 * h + 2 * r;  // sub-block index of the run's first 16 values
      const __m256 d0 = _mm256_set1_ps(d * float(sc[s])), d1 = _mm256_set1_ps(d * float(sc[s + 1]));
      for (int m = 0; m < MR; ++m) acc[m] = _mm256_fmadd_ps(d1, hi[m], _mm256_fmadd_ps(d0, lo[m], acc[m]));
    }
  }
  (void)xs;
}

template <int MR, typename Block>
void matvec_fused(const Problem& P, int64_t m0, int64_t n0, int64_t n1, const float* sums, int64_t sums_per_block,
                  Block block) {
  const int64_t nblocks = P.K / P.bs, ns = P.K / P.bs * sums_per_block;
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = P.w + n * P.row_bytes;
    __m256 acc[MR];
    float corr[MR];
    for (int m = 0; m < MR; ++m) acc[m] = _mm256_setzero_ps(), corr[m] = 0;
    const float* x[MR];
    const float* xs[MR];
    for (int64_t i = 0; i < nblocks; ++i) {
      for (int m = 0; m < MR; ++m) {
        x[m] = P.X + (m0 + m) * P.K + i * P.bs;
        xs[m] = sums ? sums + (m0 + m) * ns + i * sums_per_block : nullptr;
      }
      block(row + i * P.ts, x, xs, acc, corr);
    }
    for (int m = 0; m < MR; ++m) P.Y[(m0 + m) * P.N + n] = hsum(acc[m]) - corr[m];
  }
}

template <int MR>
bool matvec_simd(GgmlType t, const Problem& P, int64_t m0, int64_t n0, int64_t n1) {
  switch (t) {
    // Lambdas (not function pointers) so each block kernel inlines into its row loop.
    case GgmlType::Q4_0: matvec_fused<MR>(P, m0, n0, n1, nullptr, 0, [](auto... a) __attribute__((always_inline)) { block_q4_0<MR>(a...); }); return true;
    case GgmlType::Q8_0: matvec_fused<MR>(P, m0, n0, n1, nullptr, 0, [](auto... a) __attribute__((always_inline)) { block_q8_0<MR>(a...); }); return true;
    case GgmlType::Q4_K: matvec_fused<MR>(P, m0, n0, n1, P.X32, 8, [](auto... a) __attribute__((always_inline)) { block_q45_k<MR, false>(a...); }); return true;
    case GgmlType::Q5_K: matvec_fused<MR>(P, m0, n0, n1, P.X32, 8, [](auto... a) __attribute__((always_inline)) { block_q45_k<MR, true>(a...); }); return true;
    case GgmlType::Q6_K: matvec_fused<MR>(P, m0, n0, n1, nullptr, 0, [](auto... a) __attribute__((always_inline)) { block_q6_k<MR>(a...); }); return true;
    default: return false;
  }
}
#endif

// Any block type: decode one block to floats, dot with each activation row.
void matvec_generic(DecodeFn decode, const Problem& P, int64_t m0, int64_t mr, int64_t n0, int64_t n1) {
  float buf[gguf::QK_K];
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = P.w + n * P.row_bytes;
    float acc[kMatVecRows] = {};
    for (int64_t i = 0; i < P.K / P.bs; ++i) {
      decode(row + i * P.ts, buf);
      for (int64_t m = 0; m < mr; ++m) acc[m] += dot(buf, P.X + (m0 + m) * P.K + i * P.bs, P.bs);
    }
    for (int64_t m = 0; m < mr; ++m) P.Y[(m0 + m) * P.N + n] = acc[m];
  }
}

// Sums of each row of X over consecutive runs of `len` values.
std::vector<float> run_sums(const float* X, int64_t M, int64_t K, int64_t len) {
  std::vector<float> s(size_t(M * (K / len)));
  for (int64_t i = 0; i < M * (K / len); ++i) {
    float a = 0;
    for (int64_t j = 0; j < len; ++j) a += X[i * len + j];
    s[size_t(i)] = a;
  }
  return s;
}

}  // namespace

void GgufMatmul::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  GgmlTypeTraits tr = ggml_block_traits(uint32_t(type_));
  DecodeFn decode = gguf::decoder(type_, "ggufMatmul");
  Array blocks = ctx.contiguous(in[1]);
  std::vector<float> X = rows_as_float(in[0], ctx.pool);
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  Problem P;
  P.K = in[0].shape().back();
  P.M = in[0].size() / std::max<int64_t>(P.K, 1);
  P.N = out.shape().back();
  P.row_bytes = blocks.shape(1);
  P.bs = tr.block_size;
  P.ts = tr.type_size;
  P.w = blocks.data<uint8_t>();
  P.X = X.data();
  std::vector<float> tmp;
  P.Y = out.dtype() == Dtype::Float32 ? out.data<float>() : (tmp.resize(size_t(out.size())), tmp.data());
  if (P.K == 0) {
    std::fill(P.Y, P.Y + out.size(), 0.0f);
  } else if (P.M <= kMatVecRows) {
    std::vector<float> x32 = run_sums(P.X, P.M, P.K, 32);
    P.X32 = x32.data();
    ctx.pool.parallel_for(P.N, 8, [&](int64_t n0, int64_t n1) {
#if defined(__AVX2__) && defined(__FMA__)
      bool done = false;
      switch (P.M) {
        case 1: done = matvec_simd<1>(type_, P, 0, n0, n1); break;
        case 2: done = matvec_simd<2>(type_, P, 0, n0, n1); break;
        case 3: done = matvec_simd<3>(type_, P, 0, n0, n1); break;
        default: done = matvec_simd<4>(type_, P, 0, n0, n1); break;
      }
      if (done) return;
#endif
      matvec_generic(decode, P, 0, P.M, n0, n1);
    });
  } else {
    // Panels of nb decoded weight rows (about 256 KB of float32), reused for all M rows.
    const int64_t nb = std::clamp<int64_t>(65536 / P.K, 16, 64) & ~int64_t(15);
    const int64_t tiles = (P.N + nb - 1) / nb, nblocks = P.K / P.bs;
    ctx.pool.parallel_for(tiles, 1, [&](int64_t t0, int64_t t1) {
      std::vector<float> panel(size_t(nb * P.K));
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n0 = t * nb, rows = std::min(nb, P.N - n0);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t i = 0; i < nblocks; ++i)
            decode(P.w + (n0 + r) * P.row_bytes + i * P.ts, panel.data() + r * P.K + i * P.bs);
        dot_panel(ctx.pool, P.M, rows, P.K, P.X, P.K, panel.data(), P.K, P.Y + n0, P.N);
      }
    });
  }
  if (out.dtype() != Dtype::Float32) store_output(P.Y, out, ctx.pool);
}

}  // namespace tessera
