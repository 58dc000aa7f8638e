// CPU kernel of QuantizedMatmul (MLX affine weights read directly, never expanded as a whole).
//
// Decoding in SIMD order: a packed row is cut into chunks of 8 "units" (a uint32 word for 2/4/8 bits,
// a 3-byte pack of 8 (3-bit) or 4 (6-bit) values, a 5-byte pack of 8 5-bit values). Unit i of a chunk
// goes to vector lane i and its s-th value is one shift-and-mask away, so slot s of all 8 lanes is
// one vector: values {i * epl + s}. Instead of shuffling the weights into order, the activations are
// permuted once per call to that order (x'[s * 8 + i] = x[i * epl + s] per chunk), and outputs along
// a packed axis are un-permuted at the end. Every lane lies inside one quantization group, so scales
// and biases are per-lane vectors.
//
// Paths (transpose=true), weight rows split across threads: up to kInt4Rows activation rows of 4-bit
// weights with K a multiple of 64: the integer kernel of affine4_dot.h (int16 activations, tiles of
// up to 4 rows over L1-sized blocks of weight rows; vpdpwssd on the avx512_vnni level). Other widths, up to kFusedRows rows: the fused float
// kernel per weight row (decode in registers, FMA with x', scale per group, bias term as
// sum_g bias_g * sum(x in group g)) on tiles of up to 4 activation rows, blocks of weight rows reused
// from L1 by every tile. More rows: panels of weight rows decoded to float32 (L2-resident) and
// reused by dot_panel. transpose=false (x @ W with W [K, N] packed along N, as a model's embedding
// used as an output head is not): column tiles of W decoded to float panels and axpy'd into
// permuted outputs; no fused or integer kernel (the goal cases are all transpose=true).
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#include "backend/cpu/affine4_dot.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/qmatmul_common.h"
#include "tessera/primitives/quant.h"

namespace tessera {

namespace {

using namespace cpu::qmm;

struct Layout {
  int bits, epl, unit_bytes;
  int chunk() const { return 8 * epl; }
  int chunk_bytes() const { return 8 * unit_bytes; }
};

Layout layout_of(int bits) {
  switch (bits) {
    case 2: return {2, 16, 4};
    case 3: return {3, 8, 3};
    case 4: return {4, 8, 4};
    case 5: return {5, 8, 5};
    case 6: return {6, 4, 3};
    default: return {8, 4, 4};
  }
}

// Position of value j (of a packed axis) in the permuted order.
inline int64_t permuted_index(int64_t j, const Layout& L) {
  const int64_t c = j / L.chunk(), r = j % L.chunk();
  return c * L.chunk() + (r % L.epl) * 8 + r / L.epl;
}

// Chunk c of a packed row, or a zero-padded copy when reading it whole (plus the 4 bytes the 3/6-bit
// loads over-read) would pass the end of the row.
inline const uint8_t* chunk_ptr(const uint8_t* row, int64_t row_bytes, int64_t c, const Layout& L, uint8_t* pad) {
  const int64_t off = c * L.chunk_bytes();
  if (off + L.chunk_bytes() + 8 <= row_bytes) return row + off;
  std::memset(pad, 0, 64);
  std::memcpy(pad, row + off, size_t(std::min<int64_t>(L.chunk_bytes(), row_bytes - off)));
  return pad;
}

// Scales and biases of groups [g0, g1) of one row as float, padded with 8 zeros (lanes of a
// partial chunk may index past the last group).
template <typename S>
void row_params(const S* s, const S* b, int64_t g0, int64_t g1, std::vector<float>& sf, std::vector<float>& bf) {
  sf.assign(size_t(g1 - g0 + 8), 0.0f);
  bf.assign(size_t(g1 - g0 + 8), 0.0f);
  for (int64_t g = g0; g < g1; ++g) sf[size_t(g - g0)] = to_f32(s[g]), bf[size_t(g - g0)] = to_f32(b[g]);
}

#if defined(__AVX2__) && defined(__FMA__)

struct Lanes {
  __m256i a, b;  // b: only 5-bit (bits 8..39 of each 5-byte unit)
};

template <int BITS>
inline Lanes load_lanes(const uint8_t* p) {
  if constexpr (BITS == 2 || BITS == 4 || BITS == 8) {
    return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), _mm256_setzero_si256()};
  } else if constexpr (BITS == 3 || BITS == 6) {
    // Units 0-3 are bytes 0-11, units 4-7 bytes 12-23: one 3-byte unit per 32-bit lane.
    const __m256i v = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 12)), 1);
    const __m256i shuf = _mm256_setr_epi8(0, 1, 2, -128, 3, 4, 5, -128, 6, 7, 8, -128, 9, 10, 11, -128, 0, 1, 2, -128, 3,
                                          4, 5, -128, 6, 7, 8, -128, 9, 10, 11, -128);
    return {_mm256_shuffle_epi8(v, shuf), _mm256_setzero_si256()};
  } else {
    auto ld = [p](int o) {
      int32_t u;
      std::memcpy(&u, p + o, 4);
      return u;
    };
    return {_mm256_setr_epi32(ld(0), ld(5), ld(10), ld(15), ld(20), ld(25), ld(30), ld(35)),
            _mm256_setr_epi32(ld(1), ld(6), ld(11), ld(16), ld(21), ld(26), ld(31), ld(36))};
  }
}

// Slot S of every lane as float.
template <int BITS, int S>
inline __m256 slot(const Lanes& l) {
  const __m256i mask = _mm256_set1_epi32((1 << BITS) - 1);
  __m256i v;
  if constexpr (BITS == 5 && S >= 6) v = _mm256_srli_epi32(l.b, 5 * S - 8);
  else v = _mm256_srli_epi32(l.a, S * BITS);
  return _mm256_cvtepi32_ps(_mm256_and_si256(v, mask));
}

constexpr int epl_of(int bits) { return bits == 2 ? 16 : (bits == 6 || bits == 8) ? 4 : 8; }

// Per-lane scale (or bias) vector of chunk c: lane i lies in group (c * chunk + i * epl) / gs.
inline __m256 lane_params(const float* f, int64_t c, int chunk, int gs, int64_t g_lo, __m256i lane_group) {
  return _mm256_permutevar8x32_ps(_mm256_loadu_ps(f + (c * chunk) / gs - g_lo), lane_group);
}

inline __m256i lane_groups(const Layout& L, int gs) {
  alignas(32) int32_t idx[8];
  for (int i = 0; i < 8; ++i) idx[i] = L.chunk() > gs ? (i * L.epl) / gs : 0;
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(idx));
}

template <int BITS, int MR, int... S>
inline void chunk_dot(const Lanes& l, const float* const* xp, __m256* part, std::integer_sequence<int, S...>) {
  (
      [&] {
        const __m256 q = slot<BITS, S>(l);
        for (int m = 0; m < MR; ++m)
          part[(S & 1) * MR + m] = _mm256_fmadd_ps(q, _mm256_loadu_ps(xp[m] + 8 * S), part[(S & 1) * MR + m]);
      }(),
      ...);
}

template <int BITS, int... S>
inline void chunk_decode(const Lanes& l, __m256 sv, __m256 bv, float* dst, std::integer_sequence<int, S...>) {
  (_mm256_storeu_ps(dst + 8 * S, _mm256_fmadd_ps(slot<BITS, S>(l), sv, bv)), ...);
}

#endif

// What one call works on: activations permuted (Xp [M, Kp]) plus their group sums (Xg [M, K / gs]).
struct Problem {
  Layout L;
  int gs;
  int64_t M, N, K;
  int64_t chunks;  // per packed row
  int64_t row_bytes;
  const uint8_t* w;
};

// Decodes chunks [c0, c1) of packed row `row` (with params from group g_lo) to dst in permuted order.
template <int BITS>
void decode_chunks(const Problem& P, const uint8_t* row, int64_t c0, int64_t c1, const float* sf, const float* bf,
                   int64_t g_lo, float* dst) {
  const Layout& L = P.L;
  alignas(32) uint8_t pad[64];
#if defined(__AVX2__) && defined(__FMA__)
  const __m256i lg = lane_groups(L, P.gs);
  for (int64_t c = c0; c < c1; ++c) {
    const Lanes l = load_lanes<BITS>(chunk_ptr(row, P.row_bytes, c, L, pad));
    chunk_decode<BITS>(l, lane_params(sf, c, L.chunk(), P.gs, g_lo, lg), lane_params(bf, c, L.chunk(), P.gs, g_lo, lg),
                       dst + (c - c0) * L.chunk(), std::make_integer_sequence<int, epl_of(BITS)>());
  }
#else
  for (int64_t c = c0; c < c1; ++c) {
    const uint8_t* p = chunk_ptr(row, P.row_bytes, c, L, pad);
    for (int i = 0; i < 8; ++i)
      for (int s = 0; s < L.epl; ++s) {
        const int64_t bit = int64_t(i * L.epl + s) * BITS;
        const uint32_t v = (uint32_t(p[bit >> 3]) | (uint32_t(p[(bit >> 3) + 1]) << 8)) >> (bit & 7);
        const int64_t g = (c * L.chunk() + i * L.epl) / P.gs - g_lo;
        dst[(c - c0) * L.chunk() + s * 8 + i] = float(v & ((1u << BITS) - 1)) * sf[g] + bf[g];
      }
  }
#endif
}

// Fused mat-vec over weight rows [n0, n1) for MR activation rows starting at m0 (transpose=true).
template <int BITS, int MR, typename S>
void matvec_rows(const Problem& P, const S* scales, const S* biases, const float* Xp, int64_t Kp, const float* Xg,
                 int64_t m0, int64_t n0, int64_t n1, float* Y) {
  const Layout& L = P.L;
  const int64_t groups = P.K / P.gs;
  std::vector<float> sf, bf;
#if defined(__AVX2__) && defined(__FMA__)
  alignas(32) uint8_t pad[64];
  const __m256i lg = lane_groups(L, P.gs);
  const float* xp[MR];
  for (int n = int(n0); n < n1; ++n) {
    row_params(scales + n * groups, biases + n * groups, 0, groups, sf, bf);
    const uint8_t* row = P.w + n * P.row_bytes;
    __m256 acc[MR];
    for (int m = 0; m < MR; ++m) acc[m] = _mm256_setzero_ps();
    for (int64_t c = 0; c < P.chunks; ++c) {
      const Lanes l = load_lanes<BITS>(chunk_ptr(row, P.row_bytes, c, L, pad));
      __m256 part[2 * MR];
      for (int m = 0; m < 2 * MR; ++m) part[m] = _mm256_setzero_ps();
      for (int m = 0; m < MR; ++m) xp[m] = Xp + (m0 + m) * Kp + c * L.chunk();
      chunk_dot<BITS, MR>(l, xp, part, std::make_integer_sequence<int, epl_of(BITS)>());
      const __m256 sv = lane_params(sf.data(), c, L.chunk(), P.gs, 0, lg);
      for (int m = 0; m < MR; ++m) acc[m] = _mm256_fmadd_ps(sv, _mm256_add_ps(part[m], part[MR + m]), acc[m]);
    }
    for (int m = 0; m < MR; ++m)
      Y[(m0 + m) * P.N + n] = hsum(acc[m]) + dot(bf.data(), Xg + (m0 + m) * groups, groups);
  }
#else
  std::vector<float> wrow(size_t(Kp));
  for (int64_t n = n0; n < n1; ++n) {
    row_params(scales + n * groups, biases + n * groups, 0, groups, sf, bf);
    decode_chunks<BITS>(P, P.w + n * P.row_bytes, 0, P.chunks, sf.data(), bf.data(), 0, wrow.data());
    for (int m = 0; m < MR; ++m) Y[(m0 + m) * P.N + n] = dot(wrow.data(), Xp + (m0 + m) * Kp, Kp);
  }
#endif
}

// Up to this many activation rows the fused kernels run (tiles of up to 4 rows sharing each weight
// row's decode); more rows decode float panels for the GEMM.
// Measured at 4096 x 4096, 2 threads: 0.6x the panel path's time at 8 rows, about equal at 16.
constexpr int64_t kFusedRows = 16;
constexpr int64_t kInt4Rows = 64;

#if defined(__AVX2__) && defined(__FMA__)
template <typename S>
void run_int4(const Problem& P, const S* scales, const S* biases, const std::vector<float>& X, float* Y,
              const Context& ctx) {
  ThreadPool& pool = ctx.pool;
  cpu::affine4::Act a;
  cpu::affine4::quantize(X.data(), P.M, P.K, P.gs, a, pool);
  const Dtype sdt = std::is_same_v<S, float> ? Dtype::Float32 : std::is_same_v<S, float16_t> ? Dtype::Float16 : Dtype::BFloat16;
  const cpu::Affine4Job job{P.w, P.row_bytes, scales, biases, sdt, P.gs, &a, P.K / 64, Y, P.N};
  auto tile = cpu::kernels(ctx.isa).quant->affine4_tile;
  // Several activation rows: blocks of weight rows small enough for L1 while every tile of up to 4
  // activation rows passes over them (the tile's int16 activations stream from L2).
  pool.parallel_for_dynamic(P.N, 8, [&](int64_t n0, int64_t n1) {
    const int64_t rows = P.M <= 4 ? n1 - n0 : std::max<int64_t>(1, 16384 / P.row_bytes);
    for (int64_t r0 = n0; r0 < n1; r0 += rows) {
      const int64_t r1 = std::min(n1, r0 + rows);
      for (int64_t m0 = 0; m0 < P.M; m0 += 4) tile(job, int(std::min<int64_t>(4, P.M - m0)), m0, r0, r1);
    }
  });
}
#endif

template <int BITS, typename S>
void run_transposed(const Problem& P, const S* scales, const S* biases, const std::vector<float>& X, float* Y,
                    const Context& ctx) {
  ThreadPool& pool = ctx.pool;
#if defined(__AVX2__) && defined(__FMA__)
  // The integer kernel up to kInt4Rows activation rows: measured at 4096 x 4096, 2 threads, 1.9x the
  // float kernel's speed at 8 and 16 rows, 2x the panel path's at 32 and 1.5x at 64 (equal at 128).
  if (BITS == 4 && P.K % 64 == 0 && P.M <= kInt4Rows) {
    return run_int4(P, scales, biases, X, Y, ctx);
  }
#endif
  const Layout& L = P.L;
  const int64_t Kp = P.chunks * L.chunk(), groups = P.K / P.gs, M = P.M;
  // Activations in the weights' SIMD order, zero-padded, and their per-group sums.
  std::vector<float> Xp(size_t(M * Kp), 0.0f), Xg(size_t(M * groups), 0.0f);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < P.K; ++k) {
      Xp[size_t(m * Kp + permuted_index(k, L))] = X[size_t(m * P.K + k)];
      Xg[size_t(m * groups + k / P.gs)] += X[size_t(m * P.K + k)];
    }
  if (M <= kFusedRows) {
    // Tiles of up to 4 activation rows over blocks of weight rows small enough to stay in L1.
    pool.parallel_for_dynamic(P.N, 8, [&](int64_t n0, int64_t n1) {
      const int64_t rows = M <= 4 ? n1 - n0 : std::max<int64_t>(1, 16384 / P.row_bytes);
      for (int64_t r0 = n0; r0 < n1; r0 += rows) {
        const int64_t r1 = std::min(n1, r0 + rows);
        for (int64_t m0 = 0; m0 < M; m0 += 4) {
          switch (std::min<int64_t>(4, M - m0)) {
            case 1: matvec_rows<BITS, 1>(P, scales, biases, Xp.data(), Kp, Xg.data(), m0, r0, r1, Y); break;
            case 2: matvec_rows<BITS, 2>(P, scales, biases, Xp.data(), Kp, Xg.data(), m0, r0, r1, Y); break;
            case 3: matvec_rows<BITS, 3>(P, scales, biases, Xp.data(), Kp, Xg.data(), m0, r0, r1, Y); break;
            default: matvec_rows<BITS, 4>(P, scales, biases, Xp.data(), Kp, Xg.data(), m0, r0, r1, Y); break;
          }
        }
      }
    });
    return;
  }
  // Panels of nb weight rows (about 256 KB of float32) decoded once, reused for all M rows.
  const int64_t nb = std::clamp<int64_t>(65536 / Kp, 16, 64) & ~int64_t(15);
  const int64_t tiles = (P.N + nb - 1) / nb;
  pool.parallel_for(tiles, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> panel(size_t(nb * Kp)), sf, bf;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n0 = t * nb, rows = std::min(nb, P.N - n0);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t n = n0 + r;
        row_params(scales + n * groups, biases + n * groups, 0, groups, sf, bf);
        decode_chunks<BITS>(P, P.w + n * P.row_bytes, 0, P.chunks, sf.data(), bf.data(), 0, panel.data() + r * Kp);
      }
      dot_panel(ctx, M, rows, Kp, Xp.data(), Kp, panel.data(), Kp, Y + n0, P.N);
    }
  });
}

// x @ W with W [K, N] packed along N: column tiles of whole chunks, W rows decoded in blocks of kb.
template <int BITS, typename S>
void run_plain(const Problem& P, const S* scales, const S* biases, const std::vector<float>& X, float* Y,
               ThreadPool& pool) {
  const Layout& L = P.L;
  const int64_t M = P.M, K = P.K, N = P.N, groups = N / P.gs, chunk = L.chunk();
  const int64_t tc = std::max<int64_t>(1, 128 / chunk), tiles = (P.chunks + tc - 1) / tc, kb = 128;
  pool.parallel_for(tiles, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> panel, acc, sf, bf;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t c0 = t * tc, c1 = std::min(P.chunks, c0 + tc), tw = (c1 - c0) * chunk;
      const int64_t g_lo = (c0 * chunk) / P.gs, g_hi = std::min(groups, (c1 * chunk + P.gs - 1) / P.gs);
      panel.assign(size_t(kb * tw), 0.0f);
      acc.assign(size_t(M * tw), 0.0f);
      for (int64_t k0 = 0; k0 < K; k0 += kb) {
        const int64_t kn = std::min(kb, K - k0);
        for (int64_t r = 0; r < kn; ++r) {
          const int64_t k = k0 + r;
          row_params(scales + k * groups, biases + k * groups, g_lo, g_hi, sf, bf);
          decode_chunks<BITS>(P, P.w + k * P.row_bytes, c0, c1, sf.data(), bf.data(), g_lo, panel.data() + r * tw);
        }
        for (int64_t m = 0; m < M; ++m) {
          float* a = acc.data() + m * tw;
          for (int64_t r = 0; r < kn; ++r) {
            const float xv = X[size_t(m * K + k0 + r)];
            const float* p = panel.data() + r * tw;
            for (int64_t j = 0; j < tw; ++j) a[j] += xv * p[j];
          }
        }
      }
      for (int64_t m = 0; m < M; ++m)
        for (int64_t j = c0 * chunk; j < std::min(N, c1 * chunk); ++j)
          Y[m * N + j] = acc[size_t(m * tw + permuted_index(j, L) - c0 * chunk)];
    }
  });
}

}  // namespace

void QuantizedMatmul::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array w = ctx.contiguous(in[1]), scales = ctx.contiguous(in[2]), biases = ctx.contiguous(in[3]);
  std::vector<float> X = rows_as_float(in[0], ctx.pool);
  Problem P;
  P.L = layout_of(bits_);
  P.gs = group_size_;
  P.K = in[0].shape().back();
  P.M = in[0].size() / std::max<int64_t>(P.K, 1);
  P.N = out.shape().back();
  const int64_t packed = transpose_ ? P.K : P.N;  // values per packed row
  P.row_bytes = packed * bits_ / 8;
  P.chunks = (packed / P.L.epl + 7) / 8;
  P.w = static_cast<const uint8_t*>(w.raw_data());
  ctx.alloc_output(out);
  std::vector<float> tmp;
  float* Y = out.dtype() == Dtype::Float32 ? out.data<float>() : (tmp.resize(size_t(out.size())), tmp.data());
  if (out.size() == 0) return;
  if (P.K == 0) {
    std::fill(Y, Y + out.size(), 0.0f);
  } else {
    dispatch_float(scales.dtype(), "quantizedMatmul", [&]<typename S>() {
      const S* s = scales.data<S>();
      const S* b = biases.data<S>();
      auto run = [&]<int BITS>() {
        if (transpose_) run_transposed<BITS>(P, s, b, X, Y, ctx);
        else run_plain<BITS>(P, s, b, X, Y, ctx.pool);
      };
      switch (bits_) {
        case 2: run.template operator()<2>(); break;
        case 3: run.template operator()<3>(); break;
        case 4: run.template operator()<4>(); break;
        case 5: run.template operator()<5>(); break;
        case 6: run.template operator()<6>(); break;
        default: run.template operator()<8>(); break;
      }
    });
  }
  if (out.dtype() != Dtype::Float32) store_output(Y, out, ctx.pool);
}

}  // namespace tessera
