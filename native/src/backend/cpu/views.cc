// CPU eval of the view primitives: they share the input's buffer with new strides (Reshape copies
// only when no strides can describe the new shape).
#include <optional>

#include "tessera/primitives/layout.h"

namespace tessera {

namespace {

// Strides that view `a`'s data with shape `to` without copying, when they exist (NumPy's
// attempt_nocopy_reshape): groups of old axes that merge into or split from new axes must be
// contiguous among themselves. Adding or removing size-1 axes always succeeds.
std::optional<Strides> restride(const Array& a, const Shape& to) {
  if (shape_size(to) == 0) return row_major_strides(to);
  Shape od;
  Strides os;
  for (int i = 0; i < a.ndim(); ++i)
    if (a.shape()[i] != 1) {
      od.push_back(a.shape()[i]);
      os.push_back(a.strides()[i]);
    }
  int n_old = int(od.size()), n_new = int(to.size());
  Strides ns(n_new, 1);
  int oi = 0, oj = 1, ni = 0, nj = 1;
  while (ni < n_new && oi < n_old) {
    int64_t np = to[ni], op = od[oi];
    while (np != op) {
      if (np < op) np *= to[nj++];
      else op *= od[oj++];
    }
    for (int k = oi; k < oj - 1; ++k)
      if (os[k] != od[k + 1] * os[k + 1]) return std::nullopt;
    ns[nj - 1] = os[oj - 1];
    for (int k = nj - 1; k > ni; --k) ns[k - 1] = ns[k] * to[k];
    ni = nj++;
    oi = oj++;
  }
  return ns;  // trailing size-1 axes keep stride 1 (never stepped)
}

}  // namespace

void Reshape::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  const Array& a = in[0];
  if (a.row_contiguous()) {
    out.set_view(a.buffer(), row_major_strides(out.shape()), a.offset());
    return;
  }
  if (auto s = restride(a, out.shape())) {
    out.set_view(a.buffer(), std::move(*s), a.offset());
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
