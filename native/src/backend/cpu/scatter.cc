// CPU kernel of SliceUpdate: the output is `a` with a strided region overwritten by `update`.
// When `a` is donatable (nothing else holds it or its buffer), its buffer becomes the output and
// only the region is written: a KV cache updated step by step then costs one step, not the cache.
#include "backend/cpu/layout_copy.h"
#include "tessera/primitives/layout.h"

namespace tessera {

void SliceUpdate::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  const Array& a = in[0];
  const Array& update = in[1];
  if (a.is_donatable()) {
    out.set_view(a.buffer(), a.strides(), a.offset());
  } else {
    ctx.alloc_output(out);
    cpu::copy_to_strided(ctx.pool, a, out.raw_data(), out.strides());
  }
  if (update.size() == 0) return;
  Strides region(out.ndim());
  for (int i = 0; i < out.ndim(); ++i) region[i] = out.strides()[i] * step_[i];
  char* base = static_cast<char*>(out.raw_data()) + cpu::region_offset(out.strides(), start_) * int64_t(out.itemsize());
  cpu::copy_to_strided(ctx.pool, update, base, region);
}

}  // namespace tessera
