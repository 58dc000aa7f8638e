// CPU kernels that move or convert data: AsType, Copy, Full, and Context::contiguous.
//
// Conversions: float to integer truncates toward zero and saturates (NaN gives 0; NumPy leaves
// out-of-range values undefined). Integer to integer wraps around. Conversions into float16 and
// bfloat16 round once, to nearest even: wide integers and doubles are first narrowed to float32
// with round-to-odd, which makes the second rounding exact.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

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

template <typename TIn, typename TOut>
void convert(ThreadPool& pool, const Array& a, Array& out) {
  auto plan = cpu::collapse<2>(out.shape(), {row_major_strides(out.shape()), a.strides()});
  const TIn* src = a.data<TIn>();
  TOut* dst = out.data<TOut>();
  cpu::for_each_row<2>(pool, plan, [&](int64_t n, std::array<int64_t, 2> off, std::array<int64_t, 2> st) {
    TOut* o = dst + off[0];
    const TIn* x = src + off[1];
    if constexpr (std::is_same_v<TIn, TOut>) {
      if (st[1] == 1) {
        std::memcpy(o, x, size_t(n) * sizeof(TIn));
        return;
      }
      for (int64_t i = 0; i < n; ++i) o[i] = x[i * st[1]];
    } else if constexpr ((is_half_v<TIn> || std::is_same_v<TIn, float>) && (is_half_v<TOut> || std::is_same_v<TOut, float>)) {
      // Between float types: vectorized through float32 blocks (exact, one rounding).
      if constexpr (std::is_same_v<TOut, float>) return cpu::load_as_f32(x, st[1], o, n);
      float buf[cpu::kF32Block];
      for (int64_t i = 0; i < n; i += cpu::kF32Block) {
        int64_t m = std::min(cpu::kF32Block, n - i);
        cpu::load_as_f32(x + i * st[1], st[1], buf, m);
        cpu::store_from_f32(buf, o + i, m);
      }
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = convert_one<TIn, TOut>(x[i * st[1]]);
    }
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
