// CPU kernels that move or convert data: AsType, Copy, Full, and Context::contiguous.
#include "backend/cpu/strided.h"
#include "tessera/primitives/elementwise.h"
#include "tessera/primitives/layout.h"

namespace tessera {

namespace {

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
    } else if constexpr (is_half_v<TIn> || is_half_v<TOut>) {
      for (int64_t i = 0; i < n; ++i) o[i] = store<TOut>(float(load(x[i * st[1]])));
    } else if constexpr (std::is_floating_point_v<TIn> && std::is_integral_v<TOut> && !std::is_same_v<TOut, bool>) {
      // Float to int truncates toward zero as NumPy does; NaN and out-of-range give 0 rather than UB.
      for (int64_t i = 0; i < n; ++i) {
        float v = x[i * st[1]];
        o[i] = (v == v && v > -9.3e18f && v < 9.3e18f) ? TOut(int64_t(v)) : TOut(0);
      }
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = store<TOut>(load(x[i * st[1]]));
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
    if constexpr (is_half_v<T>) v = from_f32<T>(float(value_));
    else if constexpr (std::is_same_v<T, bool>) v = value_ != 0;
    else v = static_cast<T>(value_);
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
