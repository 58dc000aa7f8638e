// CPU kernels that move or convert data: AsType, Copy, Full, and Context::contiguous.
//
// Conversions: float to integer truncates toward zero and saturates (NaN gives 0; NumPy leaves
// out-of-range values undefined). Integer to integer wraps around. Conversions into float16 and
// bfloat16 round once, to nearest even: wide integers and doubles are first narrowed to float32
// with round-to-odd, which makes the second rounding exact.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "backend/cpu/elementwise_kernels.h"
#include "backend/cpu/strided.h"
#include "tessera/primitives/elementwise.h"
#include "tessera/primitives/layout.h"

namespace tessera {

namespace {

template <typename TOut>
inline TOut float_to_int(float v) {
  using L = std::numeric_limits<TOut>;
  if (v != v) return TOut(0);
  if (v <= double(L::min())) return L::min();
  if (v >= double(L::max())) return L::max();
  return TOut(v);
}

// An integer as float32 rounded to odd (truncate, then set the last bit if anything was cut off).
template <typename TIn>
inline float int_to_f32_odd(TIn v) {
  bool neg = false;
  if constexpr (std::is_signed_v<TIn>) neg = v < 0;
  uint64_t mag = neg ? uint64_t(0) - uint64_t(v) : uint64_t(v);
  int shift = std::max(0, int(std::bit_width(mag)) - 24);
  uint64_t m = mag >> shift;
  if (shift && (mag & ((uint64_t(1) << shift) - 1))) m |= 1;
  float f = std::ldexp(float(m), shift);
  return neg ? -f : f;
}

// A double as float32 rounded to odd.
inline float double_to_f32_odd(double d) {
  float f = float(d);
  if (std::isfinite(f) && double(f) != d) {
    uint32_t bits = std::bit_cast<uint32_t>(f);
    if (std::fabs(double(f)) > std::fabs(d)) --bits;  // rounded away from zero: step back
    f = std::bit_cast<float>(bits | 1u);
  }
  return f;
}

// One element of TIn as TOut.
template <typename TIn, typename TOut>
inline TOut convert_one(TIn x) {
  if constexpr (std::is_same_v<TOut, bool>) {
    return load(x) != 0;
  } else if constexpr ((is_half_v<TIn> || std::is_same_v<TIn, float>) && !is_half_v<TOut> &&
                       !std::is_same_v<TOut, float>) {
    return float_to_int<TOut>(to_f32(x));
  } else if constexpr (is_half_v<TOut> && !is_half_v<TIn> && !std::is_same_v<TIn, float>) {
    return from_f32<TOut>(int_to_f32_odd(x));
  } else if constexpr (is_half_v<TIn> || is_half_v<TOut>) {
    return from_f32<TOut>(to_f32(x));
  } else {
    return static_cast<TOut>(x);
  }
}

// One output row of n elements from x (input stride sx), converting TIn to TOut.
template <typename TIn, typename TOut>
inline void convert_row(TOut* o, const TIn* x, int64_t sx, int64_t n) {
  if constexpr (std::is_same_v<TIn, TOut>) {
    if (sx == 1) {
      std::memcpy(o, x, size_t(n) * sizeof(TIn));
      return;
    }
    for (int64_t i = 0; i < n; ++i) o[i] = x[i * sx];
  } else if constexpr ((is_half_v<TIn> || std::is_same_v<TIn, float>) && (is_half_v<TOut> || std::is_same_v<TOut, float>)) {
    // Between float types: vectorized through float32 blocks (exact, one rounding).
    if constexpr (std::is_same_v<TOut, float>) return cpu::load_as_f32(x, sx, o, n);
    float buf[cpu::kF32Block];
    for (int64_t i = 0; i < n; i += cpu::kF32Block) {
      int64_t m = std::min(cpu::kF32Block, n - i);
      cpu::load_as_f32(x + i * sx, sx, buf, m);
      cpu::store_from_f32(buf, o + i, m);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = convert_one<TIn, TOut>(x[i * sx]);
  }
}

#if defined(__AVX2__)
// An 8x8 block of 32-bit elements: out[r * so + c] = in[c * si + r]. Moves and shuffles only, so
// any 32-bit type goes through unchanged as float bits.
inline void transpose8x8_32(const void* in_v, int64_t si, void* out_v, int64_t so) {
  const float* in = static_cast<const float*>(in_v);
  float* out = static_cast<float*>(out_v);
  __m256 r0 = _mm256_loadu_ps(in), r1 = _mm256_loadu_ps(in + si), r2 = _mm256_loadu_ps(in + 2 * si),
         r3 = _mm256_loadu_ps(in + 3 * si), r4 = _mm256_loadu_ps(in + 4 * si), r5 = _mm256_loadu_ps(in + 5 * si),
         r6 = _mm256_loadu_ps(in + 6 * si), r7 = _mm256_loadu_ps(in + 7 * si);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  _mm256_storeu_ps(out, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(out + so, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(out + 2 * so, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(out + 3 * so, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(out + 4 * so, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(out + 5 * so, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(out + 6 * so, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(out + 7 * so, _mm256_permute2f128_ps(s3, s7, 0x31));
}
// The same for 16-bit elements, in 128-bit registers.
inline void transpose8x8_16(const void* in_v, int64_t si, void* out_v, int64_t so) {
  const uint16_t* in = static_cast<const uint16_t*>(in_v);
  uint16_t* out = static_cast<uint16_t*>(out_v);
  __m128i r[8];
  for (int k = 0; k < 8; ++k) r[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + k * si));
  __m128i a0 = _mm_unpacklo_epi16(r[0], r[1]), a1 = _mm_unpackhi_epi16(r[0], r[1]);
  __m128i a2 = _mm_unpacklo_epi16(r[2], r[3]), a3 = _mm_unpackhi_epi16(r[2], r[3]);
  __m128i a4 = _mm_unpacklo_epi16(r[4], r[5]), a5 = _mm_unpackhi_epi16(r[4], r[5]);
  __m128i a6 = _mm_unpacklo_epi16(r[6], r[7]), a7 = _mm_unpackhi_epi16(r[6], r[7]);
  __m128i b0 = _mm_unpacklo_epi32(a0, a2), b1 = _mm_unpackhi_epi32(a0, a2);
  __m128i b2 = _mm_unpacklo_epi32(a1, a3), b3 = _mm_unpackhi_epi32(a1, a3);
  __m128i b4 = _mm_unpacklo_epi32(a4, a6), b5 = _mm_unpackhi_epi32(a4, a6);
  __m128i b6 = _mm_unpacklo_epi32(a5, a7), b7 = _mm_unpackhi_epi32(a5, a7);
  __m128i o[8] = {_mm_unpacklo_epi64(b0, b4), _mm_unpackhi_epi64(b0, b4), _mm_unpacklo_epi64(b1, b5),
                  _mm_unpackhi_epi64(b1, b5), _mm_unpacklo_epi64(b2, b6), _mm_unpackhi_epi64(b2, b6),
                  _mm_unpacklo_epi64(b3, b7), _mm_unpackhi_epi64(b3, b7)};
  for (int k = 0; k < 8; ++k) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k * so), o[k]);
}
constexpr bool kHave8x8 = true;
#else
inline void transpose8x8_32(const void*, int64_t, void*, int64_t) {}
inline void transpose8x8_16(const void*, int64_t, void*, int64_t) {}
constexpr bool kHave8x8 = false;
#endif

// Copies a transpose in square tiles. Walking the output row by row reads the input with a large
// stride, touching a new cache line (and often a new page) per element; a tile keeps both the
// input lines (contiguous along dim `a`) and the output lines (contiguous along the last dim) in
// L1 while it is copied. Dim `a` is the one whose input stride is 1; every other dim but the last
// is an outer batch dim. Returns false (doing nothing) when the plan is not such a transpose.
template <typename TIn, typename TOut>
bool convert_tiled(ThreadPool& pool, const cpu::StridedPlan<2>& p, const TIn* src, TOut* dst) {
  int nd = int(p.shape.size());
  if (nd < 2 || p.strides[1][nd - 1] == 1 || p.strides[1][nd - 1] == 0) return false;
  int a = -1;
  for (int i = nd - 2; i >= 0 && a < 0; --i)
    if (p.strides[1][i] == 1) a = i;
  if (a < 0) return false;
  int64_t na = p.shape[a], nb = p.shape[nd - 1];
  if (na < 4 || nb < 4) return false;  // nothing to gain: the row walk reuses every line anyway
  // Tiles span ~128 bytes of the smaller element type along each axis (at least 32 elements).
  constexpr int64_t kTile = std::max<int64_t>(32, 128 / int64_t(std::min(sizeof(TIn), sizeof(TOut))));
  int64_t ta = (na + kTile - 1) / kTile, tb = (nb + kTile - 1) / kTile;
  // Batch dims: all but `a` and the last, walked by decomposing a flat index.
  std::vector<int> bdims;
  for (int i = 0; i < nd - 1; ++i)
    if (i != a) bdims.push_back(i);
  int64_t batches = 1;
  for (int d : bdims) batches *= p.shape[d];
  const int64_t so_a = p.strides[0][a], si_b = p.strides[1][nd - 1];
  int64_t tiles = batches * ta * tb;
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / (kTile * kTile));
  pool.parallel_for(tiles, grain, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      int64_t ib = t % tb, rest = t / tb;
      int64_t ia = rest % ta, bi = rest / ta;
      int64_t off_o = 0, off_i = 0;
      for (int k = int(bdims.size()) - 1; k >= 0; --k) {
        int d = bdims[k];
        int64_t idx = bi % p.shape[d];
        bi /= p.shape[d];
        off_o += idx * p.strides[0][d];
        off_i += idx * p.strides[1][d];
      }
      int64_t a0 = ia * kTile, a1 = std::min(na, a0 + kTile);
      int64_t b0 = ib * kTile, n = std::min(nb, b0 + kTile) - b0;
      const TIn* x = src + off_i + b0 * si_b;
      TOut* o = dst + off_o + b0;
      int64_t i = a0;
      if constexpr (kHave8x8 && std::is_same_v<TIn, TOut> && (sizeof(TIn) == 4 || sizeof(TIn) == 2)) {
        int64_t n8 = n & ~int64_t(7);
        for (; i + 8 <= a1; i += 8) {
          for (int64_t j = 0; j < n8; j += 8) {
            if constexpr (sizeof(TIn) == 4) transpose8x8_32(x + i + j * si_b, si_b, o + i * so_a + j, so_a);
            else transpose8x8_16(x + i + j * si_b, si_b, o + i * so_a + j, so_a);
          }
          for (int64_t r = i; r < i + 8 && n8 < n; ++r)
            convert_row<TIn, TOut>(o + r * so_a + n8, x + r + n8 * si_b, si_b, n - n8);
        }
      }
      if constexpr (kHave8x8 && std::is_same_v<TIn, float> && is_half_v<TOut>) {
        // float32 to a half type: transpose 8x8 blocks into a buffer, then round its rows.
        int64_t n8 = n & ~int64_t(7);
        float buf[64];
        for (; i + 8 <= a1; i += 8) {
          for (int64_t j = 0; j < n8; j += 8) {
            transpose8x8_32(x + i + j * si_b, si_b, buf, 8);
            for (int r = 0; r < 8; ++r) cpu::store_from_f32(buf + r * 8, o + (i + r) * so_a + j, 8);
          }
          for (int64_t r = i; r < i + 8 && n8 < n; ++r)
            convert_row<TIn, TOut>(o + r * so_a + n8, x + r + n8 * si_b, si_b, n - n8);
        }
      }
      for (; i < a1; ++i) convert_row<TIn, TOut>(o + i * so_a, x + i, si_b, n);
    }
  });
  return true;
}

template <typename TIn, typename TOut>
void convert(ThreadPool& pool, const Array& a, Array& out) {
  auto plan = cpu::collapse<2>(out.shape(), {row_major_strides(out.shape()), a.strides()});
  const TIn* src = a.data<TIn>();
  TOut* dst = out.data<TOut>();
  if (convert_tiled<TIn, TOut>(pool, plan, src, dst)) return;
  cpu::for_each_row<2>(pool, plan, [&](int64_t n, std::array<int64_t, 2> off, std::array<int64_t, 2> st) {
    convert_row<TIn, TOut>(dst + off[0], src + off[1], st[1], n);
  });
}

void copy_into(ThreadPool& pool, const Array& a, Array& out) {
  dispatch_all(a.dtype(), [&]<typename TIn>() {
    dispatch_all(out.dtype(), [&]<typename TOut>() { convert<TIn, TOut>(pool, a, out); });
  });
}

}  // namespace

void AsType::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  copy_into(ctx.pool, in[0], out);
}

void Copy::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  copy_into(ctx.pool, in[0], out);
}

void Full::eval_cpu(const std::vector<Array>&, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  dispatch_all(out.dtype(), [&]<typename T>() {
    T v;
    if constexpr (is_half_v<T>) v = from_f32<T>(double_to_f32_odd(value_));
    else if constexpr (std::is_same_v<T, bool>) v = value_ != 0;
    else if constexpr (std::is_same_v<T, float>) v = float(value_);
    else if constexpr (std::is_same_v<T, int64_t>) v = value_ != value_ ? 0 : value_ >= 0x1p63 ? INT64_MAX : value_ <= -0x1p63 ? INT64_MIN : int64_t(value_);
    else v = value_ != value_ ? T(0) : T(int64_t(std::clamp(value_, -0x1p62, 0x1p62)));  // wraps like an int64 cast
    T* o = out.data<T>();
    ctx.pool.parallel_for(out.size(), 1 << 16, [&](int64_t b, int64_t e) { std::fill(o + b, o + e, v); });
  });
}

Array Context::contiguous(const Array& a) {
  if (a.row_contiguous()) return a;
  Array out(a.shape(), a.dtype(), std::make_shared<Copy>(), {});
  alloc_output(out);
  copy_into(pool, a, out);
  out.finish_eval();
  return out;
}

}  // namespace tessera
