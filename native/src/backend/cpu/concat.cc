// CPU kernel of Concatenate: each input is copied into its slab of the output (memcpy'd runs).
#include "backend/cpu/layout_copy.h"
#include "tessera/primitives/layout.h"

namespace tessera {

void Concatenate::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  char* base = static_cast<char*>(out.raw_data());
  int64_t at = 0;  // position along the axis where the next input starts
  for (const Array& x : in) {
    cpu::copy_to_strided(ctx.pool, x, base + at * out.strides()[axis_] * int64_t(out.itemsize()), out.strides());
    at += x.shape()[axis_];
  }
}

}  // namespace tessera
