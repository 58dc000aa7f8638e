#include "tessera/ops/layout.h"

#include <algorithm>
#include <numeric>

#include "tessera/ops/common.h"
#include "tessera/ops/elementwise.h"
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
  for (auto d : shape)
    if (d < 0) op_error("broadcastTo", "negative dimension in shape " + shape_str(shape));
  Shape b = broadcast_shapes(a.shape(), shape, "broadcastTo");
  if (b != shape)
    op_error("broadcastTo", "cannot broadcast shape " + shape_str(a.shape()) + " to " + shape_str(shape));
  if (shape == a.shape()) return a;
  return Array(shape, a.dtype(), std::make_shared<BroadcastTo>(), {a});
}

Array copy(const Array& a) { return Array(a.shape(), a.dtype(), std::make_shared<Copy>(), {a}); }

Array swapaxes(const Array& a, int64_t axis1, int64_t axis2) {
  int n = a.ndim();
  int x = normalize_axis(axis1, n, "swapaxes"), y = normalize_axis(axis2, n, "swapaxes");
  std::vector<int64_t> axes(n);
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[x], axes[y]);
  return transpose(a, std::move(axes));
}

Array expand_dims(const Array& a, const std::vector<int64_t>& axes) {
  int n = a.ndim() + int(axes.size());
  auto ax = normalize_axes(axes, n, "expandDims");
  std::vector<bool> inserted(n, false);
  for (int x : ax) inserted[x] = true;
  Shape shape;
  int k = 0;
  for (int i = 0; i < n; ++i) shape.push_back(inserted[i] ? 1 : a.shape()[k++]);
  return reshape(a, std::move(shape));
}

Array squeeze(const Array& a, const std::vector<int64_t>& axes) {
  auto ax = normalize_axes(axes, a.ndim(), "squeeze");
  std::vector<bool> drop(a.ndim(), false);
  for (int x : ax) {
    if (a.shape()[x] != 1)
      op_error("squeeze", "cannot squeeze axis " + std::to_string(x) + " of size " + std::to_string(a.shape()[x]) +
                              " in shape " + shape_str(a.shape()) + " (only size-1 axes can be removed)");
    drop[x] = true;
  }
  Shape shape;
  for (int i = 0; i < a.ndim(); ++i)
    if (!drop[i]) shape.push_back(a.shape()[i]);
  return reshape(a, std::move(shape));
}

Array squeeze(const Array& a) {
  Shape shape;
  for (auto d : a.shape())
    if (d != 1) shape.push_back(d);
  return reshape(a, std::move(shape));
}

Array flatten(const Array& a, int64_t start, int64_t end) {
  if (a.ndim() == 0) return reshape(a, {1});
  int s = normalize_axis(start, a.ndim(), "flatten"), e = normalize_axis(end, a.ndim(), "flatten");
  if (s > e)
    op_error("flatten", "start axis " + std::to_string(start) + " comes after end axis " + std::to_string(end) +
                            " for shape " + shape_str(a.shape()));
  Shape shape(a.shape().begin(), a.shape().begin() + s);
  int64_t merged = 1;
  for (int i = s; i <= e; ++i) merged *= a.shape()[i];
  shape.push_back(merged);
  shape.insert(shape.end(), a.shape().begin() + e + 1, a.shape().end());
  return reshape(a, std::move(shape));
}

Array concatenate(const std::vector<Array>& arrays, int64_t axis) {
  if (arrays.empty()) op_error("concatenate", "needs at least one array");
  const Array& first = arrays[0];
  if (first.ndim() == 0) op_error("concatenate", "0-d arrays cannot be concatenated (use stack)");
  int ax = normalize_axis(axis, first.ndim(), "concatenate");
  Shape shape = first.shape();
  Dtype dt = first.dtype();
  for (size_t k = 1; k < arrays.size(); ++k) {
    const Shape& s = arrays[k].shape();
    bool ok = int(s.size()) == first.ndim();
    for (int i = 0; ok && i < first.ndim(); ++i) ok = i == ax || s[i] == shape[i];
    if (!ok)
      op_error("concatenate", "all arrays must have the same shape except along axis " + std::to_string(ax) + "; got " +
                                  shape_str(first.shape()) + " and " + shape_str(s) + " (array " + std::to_string(k) + ")");
    shape[ax] += s[ax];
    dt = promote_types(dt, arrays[k].dtype());
  }
  if (arrays.size() == 1) return first;
  std::vector<Array> inputs;
  for (auto& x : arrays) inputs.push_back(astype(x, dt));
  return Array(std::move(shape), dt, std::make_shared<Concatenate>(ax), std::move(inputs));
}

Array stack(const std::vector<Array>& arrays, int64_t axis) {
  if (arrays.empty()) op_error("stack", "needs at least one array");
  for (size_t k = 1; k < arrays.size(); ++k)
    if (arrays[k].shape() != arrays[0].shape())
      op_error("stack", "all arrays must have the same shape; got " + shape_str(arrays[0].shape()) + " and " +
                            shape_str(arrays[k].shape()) + " (array " + std::to_string(k) + ")");
  int ax = normalize_axis(axis, arrays[0].ndim() + 1, "stack");
  std::vector<Array> expanded;
  for (auto& x : arrays) expanded.push_back(expand_dims(x, {ax}));
  if (expanded.size() == 1) return expanded[0];
  return concatenate(expanded, ax);
}

Array pad(const Array& a, const std::vector<int64_t>& widths, double value) {
  int n = a.ndim();
  if (int(widths.size()) != 2 * n)
    op_error("pad", "expected a [before, after] pair for each of the " + std::to_string(n) + " axes of shape " +
                        shape_str(a.shape()) + ", got " + std::to_string(widths.size()) + " widths");
  Shape shape = a.shape();
  for (int i = 0; i < n; ++i) {
    if (widths[2 * i] < 0 || widths[2 * i + 1] < 0)
      op_error("pad", "widths must be non-negative; got [" + std::to_string(widths[2 * i]) + ", " +
                          std::to_string(widths[2 * i + 1]) + "] for axis " + std::to_string(i));
    shape[i] += widths[2 * i] + widths[2 * i + 1];
  }
  if (shape == a.shape()) return a;
  return Array(std::move(shape), a.dtype(), std::make_shared<Pad>(widths, value), {a});
}

Array repeat(const Array& a, int64_t repeats, std::optional<int64_t> axis) {
  if (repeats < 0) op_error("repeat", "repeats must be non-negative, got " + std::to_string(repeats));
  if (!axis) return repeat(flatten(a), repeats, 0);
  int ax = normalize_axis(*axis, a.ndim(), "repeat");
  if (repeats == 1) return a;
  Shape out = a.shape();
  out[ax] *= repeats;
  return Array(std::move(out), a.dtype(), std::make_shared<Repeat>(ax, repeats), {a});
}

// tile is a broadcast made contiguous: a size-r axis of stride 0 goes before each axis, the Copy
// kernel writes it out with memcpy'd runs, and a reshape merges the pairs.
Array tile(const Array& a, const std::vector<int64_t>& reps) {
  for (auto r : reps)
    if (r < 0) op_error("tile", "repetitions must be non-negative, got " + std::to_string(r));
  size_t n = std::max(reps.size(), size_t(a.ndim()));
  Shape shape(n - a.ndim(), 1), r(n - reps.size(), 1);
  shape.insert(shape.end(), a.shape().begin(), a.shape().end());
  r.insert(r.end(), reps.begin(), reps.end());
  if (std::all_of(r.begin(), r.end(), [](int64_t x) { return x == 1; })) return reshape(a, std::move(shape));
  Shape interleaved, wide, out;
  for (size_t i = 0; i < n; ++i) {
    interleaved.insert(interleaved.end(), {1, shape[i]});
    wide.insert(wide.end(), {r[i], shape[i]});
    out.push_back(r[i] * shape[i]);
  }
  return reshape(copy(broadcast_to(reshape(a, interleaved), wide)), std::move(out));
}

}  // namespace tessera
