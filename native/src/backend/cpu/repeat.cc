// CPU kernel of Repeat: for each element along the axis, its block of trailing elements is written
// `repeats` times (memcpy per block, a fill when the block is one element).
#include <algorithm>

#include "backend/cpu/layout_copy.h"
#include "tessera/primitives/layout.h"

namespace tessera {

void Repeat::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  Array a = ctx.contiguous(in[0]);
  int64_t blocks = 1, inner = 1, r = repeats_;
  for (int i = 0; i <= axis_; ++i) blocks *= a.shape()[i];
  for (int i = axis_ + 1; i < a.ndim(); ++i) inner *= a.shape()[i];
  cpu::dispatch_word(a.itemsize(), [&]<typename W>() {
    const W* x = a.data<W>();
    W* o = out.data<W>();
    int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(inner * r, 1));
    ctx.pool.parallel_for(blocks, grain, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        W* dst = o + b * r * inner;
        if (inner == 1) {
          std::fill_n(dst, r, x[b]);
        } else {
          for (int64_t k = 0; k < r; ++k) std::memcpy(dst + k * inner, x + b * inner, size_t(inner) * sizeof(W));
        }
      }
    });
  });
}

}  // namespace tessera
