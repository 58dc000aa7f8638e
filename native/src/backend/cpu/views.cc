// CPU eval of the view primitives: they share the input's buffer with new strides.
#include "tessera/primitives/layout.h"

namespace tessera {

void Reshape::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  const Array& a = in[0];
  if (a.row_contiguous()) {
    out.set_view(a.buffer(), row_major_strides(out.shape()), a.offset());
    return;
  }
  Array c = ctx.contiguous(a);
  out.set_view(c.buffer(), row_major_strides(out.shape()), c.offset());
}

void Transpose::eval_cpu(const std::vector<Array>& in, Array& out, Context&) {
  const Array& a = in[0];
  Strides s(axes_.size());
  for (size_t i = 0; i < axes_.size(); ++i) s[i] = a.strides()[axes_[i]];
  out.set_view(a.buffer(), std::move(s), a.offset());
}

void BroadcastTo::eval_cpu(const std::vector<Array>& in, Array& out, Context&) {
  const Array& a = in[0];
  Strides s(out.ndim(), 0);
  size_t off = out.ndim() - a.ndim();
  for (int i = 0; i < a.ndim(); ++i) s[off + i] = a.shape()[i] == 1 ? 0 : a.strides()[i];
  out.set_view(a.buffer(), std::move(s), a.offset());
}

void Slice::eval_cpu(const std::vector<Array>& in, Array& out, Context&) {
  const Array& a = in[0];
  Strides s(a.ndim());
  int64_t offset = a.offset();
  for (int i = 0; i < a.ndim(); ++i) {
    s[i] = a.strides()[i] * step_[i];
    if (out.shape()[i] > 0) offset += start_[i] * a.strides()[i];
  }
  out.set_view(a.buffer(), std::move(s), offset);
}

}  // namespace tessera
