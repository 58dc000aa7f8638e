// CPU kernel of Pad: the borders are filled with the constant, then the input is copied inside.
#include <algorithm>

#include "backend/cpu/layout_copy.h"
#include "tessera/primitives/layout.h"

namespace tessera {

namespace {

// Fills the output rows (last axis) with `v`, skipping the interior span of rows that hold input.
template <typename T>
void fill_borders(ThreadPool& pool, Array& out, const Shape& in_shape, const std::vector<int64_t>& widths, T v) {
  int n = out.ndim();
  int64_t row = n ? out.shape()[n - 1] : 1, rows = out.size() / std::max<int64_t>(row, 1);
  T* o = out.data<T>();
  pool.parallel_for(rows, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(row, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      // Is this row inside the input's region on every outer axis?
      bool inside = true;
      for (int64_t i = n - 2, q = r; i >= 0 && inside; --i) {
        int64_t c = q % out.shape()[i];
        q /= out.shape()[i];
        inside = c >= widths[2 * i] && c < widths[2 * i] + in_shape[i];
      }
      T* p = o + r * row;
      if (!inside || n == 0) {
        std::fill_n(p, row, v);
      } else {
        int64_t before = widths[2 * (n - 1)];
        std::fill_n(p, before, v);
        std::fill(p + before + in_shape[n - 1], p + row, v);
      }
    }
  });
}

}  // namespace

void Pad::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  const Array& a = in[0];
  dispatch_all(out.dtype(), [&]<typename T>() {
    T v;
    if constexpr (is_half_v<T>) v = from_f32<T>(float(value_));
    else if constexpr (std::is_same_v<T, bool>) v = value_ != 0;
    else v = static_cast<T>(value_);
    fill_borders<T>(ctx.pool, out, a.shape(), widths_, v);
  });
  std::vector<int64_t> start(out.ndim());
  for (int i = 0; i < out.ndim(); ++i) start[i] = widths_[2 * i];
  char* inner = static_cast<char*>(out.raw_data()) + cpu::region_offset(out.strides(), start) * int64_t(out.itemsize());
  cpu::copy_to_strided(ctx.pool, a, inner, out.strides());
}

}  // namespace tessera
