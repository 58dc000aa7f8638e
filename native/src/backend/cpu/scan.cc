// CPU kernel of Cumsum. The input is made row-major and seen as [outer, n, inner]: each task runs a
// block of up to 256 inner columns down the axis with one accumulator per column, so the inner
// loop is contiguous whatever the axis (inner = 1 is the plain per-row scan).
#include <algorithm>
#include <array>

#include "tessera/primitives/reduce.h"

namespace tessera {

namespace {

// Halves accumulate in float; ints in their unsigned twin so overflow wraps as NumPy's does.
template <typename T, bool Int = std::is_integral_v<T>> struct scan_acc { using type = compute_t<T>; };
template <typename T> struct scan_acc<T, true> { using type = std::make_unsigned_t<T>; };

template <typename T>
void scan(const T* x, T* out, int64_t outer, int64_t n, int64_t inner, bool reverse, bool inclusive, ThreadPool& pool) {
  using A = typename scan_acc<T>::type;
  constexpr int64_t kBlock = 256;
  int64_t blocks = (inner + kBlock - 1) / kBlock, tasks = outer * blocks;
  int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(n * std::min(inner, kBlock), 1));
  if (inner == 1) {  // the scan runs along contiguous rows: one accumulator per row
    pool.parallel_for(outer, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const T* src = x + o * n;
        T* dst = out + o * n;
        A acc = A(0);
        for (int64_t s = 0; s < n; ++s) {
          int64_t i = reverse ? n - 1 - s : s;
          A v = A(load(src[i]));
          if (inclusive) acc += v;
          dst[i] = store<T>(acc);
          if (!inclusive) acc += v;
        }
      }
    });
    return;
  }
  pool.parallel_for(tasks, grain, [&](int64_t b, int64_t e) {
    std::array<A, kBlock> acc;
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / blocks, j0 = (t % blocks) * kBlock, m = std::min(kBlock, inner - j0);
      std::fill(acc.begin(), acc.begin() + m, A(0));
      for (int64_t s = 0; s < n; ++s) {
        int64_t i = reverse ? n - 1 - s : s;
        const T* src = x + (o * n + i) * inner + j0;
        T* dst = out + (o * n + i) * inner + j0;
        for (int64_t j = 0; j < m; ++j) {
          A v = A(load(src[j]));
          if (inclusive) acc[j] += v;
          dst[j] = store<T>(acc[j]);
          if (!inclusive) acc[j] += v;
        }
      }
    }
  });
}

}  // namespace

void Cumsum::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array x = ctx.contiguous(in[0]);
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  const Shape& s = out.shape();
  int64_t outer = 1, inner = 1, n = s[axis_];
  for (int i = 0; i < axis_; ++i) outer *= s[i];
  for (int i = axis_ + 1; i < out.ndim(); ++i) inner *= s[i];
  dispatch_all(out.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw std::invalid_argument("cumsum: bool input should have been cast to int32");
    } else {
      scan(x.data<T>(), out.data<T>(), outer, n, inner, reverse_, inclusive_, ctx.pool);
    }
  });
}

}  // namespace tessera
