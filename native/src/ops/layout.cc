#include "tessera/ops/layout.h"

#include <algorithm>

#include "tessera/ops/common.h"
#include "tessera/primitives/layout.h"

namespace tessera {

Array reshape(const Array& a, Shape shape) {
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) op_error("reshape", "only one dimension can be -1, got " + shape_str(shape));
      infer = int(i);
    } else if (shape[i] < 0) {
      op_error("reshape", "negative dimension in shape " + shape_str(shape));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || a.size() % known != 0)
      op_error("reshape", "cannot reshape an array of shape " + shape_str(a.shape()) + " into " + shape_str(shape));
    shape[infer] = a.size() / known;
  }
  if (shape_size(shape) != a.size())
    op_error("reshape", "cannot reshape an array of shape " + shape_str(a.shape()) + " (" + std::to_string(a.size()) +
                            " elements) into " + shape_str(shape));
  if (shape == a.shape()) return a;
  return Array(std::move(shape), a.dtype(), std::make_shared<Reshape>(), {a});
}

Array transpose(const Array& a, std::vector<int64_t> axes) {
  int n = a.ndim();
  if (axes.empty())
    for (int i = n - 1; i >= 0; --i) axes.push_back(i);
  if (int(axes.size()) != n)
    op_error("transpose", "expected " + std::to_string(n) + " axes for shape " + shape_str(a.shape()) + ", got " +
                              std::to_string(axes.size()));
  auto ax = normalize_axes(axes, n, "transpose");
  Shape shape(n);
  for (int i = 0; i < n; ++i) shape[i] = a.shape()[ax[i]];
  return Array(std::move(shape), a.dtype(), std::make_shared<Transpose>(std::move(ax)), {a});
}

Array broadcast_to(const Array& a, const Shape& shape) {
  Shape b = broadcast_shapes(a.shape(), shape, "broadcastTo");
  if (b != shape)
    op_error("broadcastTo", "cannot broadcast shape " + shape_str(a.shape()) + " to " + shape_str(shape));
  if (shape == a.shape()) return a;
  return Array(shape, a.dtype(), std::make_shared<BroadcastTo>(), {a});
}

Array slice(const Array& a, const std::vector<int64_t>& start, const std::vector<int64_t>& stop,
            const std::vector<int64_t>& step) {
  int n = a.ndim();
  if (int(start.size()) != n || int(stop.size()) != n || int(step.size()) != n)
    op_error("slice", "start, stop and step need one entry per axis (" + std::to_string(n) + ")");
  Shape shape(n);
  std::vector<int64_t> st(n);
  for (int i = 0; i < n; ++i) {
    int64_t d = a.shape()[i], s = step[i];
    if (s == 0) op_error("slice", "step cannot be 0 (axis " + std::to_string(i) + ")");
    // Python slice semantics: negative indices count from the end, bounds clamp.
    auto clampi = [&](int64_t v, int64_t lo, int64_t hi) { return std::min(std::max(v, lo), hi); };
    int64_t b = start[i] < 0 ? start[i] + d : start[i];
    int64_t e = stop[i] < 0 ? stop[i] + d : stop[i];
    if (s > 0) {
      b = clampi(b, 0, d);
      e = clampi(e, 0, d);
      shape[i] = e > b ? (e - b + s - 1) / s : 0;
    } else {
      b = clampi(b, -1, d - 1);
      e = clampi(e, -1, d - 1);
      shape[i] = b > e ? (b - e + (-s) - 1) / (-s) : 0;
    }
    st[i] = b;
  }
  return Array(std::move(shape), a.dtype(), std::make_shared<Slice>(std::move(st), step), {a});
}

Array copy(const Array& a) { return Array(a.shape(), a.dtype(), std::make_shared<Copy>(), {a}); }

}  // namespace tessera
