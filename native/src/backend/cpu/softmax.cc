// CPU kernel of Softmax over the last axis: per row, max; exp(x - max) stored while summing; scale.
// A row of 4096 floats stays in L1/L2 between the passes, so memory sees one read and one write, and
// the next row is prefetched during the exp pass so its reads overlap this row's arithmetic.
// Halves go through a float32 row buffer. Rows whose max is not finite (NaN, all -inf, +inf) are NaN,
// which is what exp(x - max) / sum gives in float arithmetic.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/reduce_rows.h"
#include "tessera/primitives/reduce.h"

namespace tessera {

namespace {

void softmax_row(const float* x, float* out, int64_t n, const float* next = nullptr) {
  float m = cpu::row_max_f32(x, n);
  if (!std::isfinite(m)) {
    std::fill(out, out + n, std::numeric_limits<float>::quiet_NaN());
    return;
  }
  float s = cpu::row_exp_sum_f32(x, m, out, n, next);
  cpu::row_scale_f32(out, 1.f / s, n);
}

}  // namespace

void Softmax::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array x = ctx.contiguous(in[0]);
  ctx.alloc_output(out);
  int64_t n = out.ndim() ? out.shape().back() : 1;
  if (out.size() == 0) return;
  int64_t rows = out.size() / n;
  // Rows are handed out dynamically in several chunks per thread: exp makes this compute-heavy, and
  // a thread that is slowed down (a busy machine) should not hold the others back.
  int64_t chunk = std::max<int64_t>({1, (1 << 14) / n, rows / (8 * ctx.pool.size())});
  dispatch_float(out.dtype(), "softmax", [&]<typename T>() {
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    ctx.pool.parallel_tasks((rows + chunk - 1) / chunk, [&](int64_t t) {
      int64_t b = t * chunk, e = std::min(rows, b + chunk);
      if constexpr (std::is_same_v<T, float>) {
        for (int64_t r = b; r < e; ++r) softmax_row(src + r * n, dst + r * n, n, r + 1 < e ? src + (r + 1) * n : nullptr);
      } else {
        std::vector<float> buf(size_t(2 * n));
        for (int64_t r = b; r < e; ++r) {
          for (int64_t i = 0; i < n; ++i) buf[i] = to_f32(src[r * n + i]);
          softmax_row(buf.data(), buf.data() + n, n);
          for (int64_t i = 0; i < n; ++i) dst[r * n + i] = from_f32<T>(buf[n + i]);
        }
      }
    });
  });
}

}  // namespace tessera
