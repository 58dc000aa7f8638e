// Indexing ops: strided slices (views), slice updates, and gathers along an axis.
#include <algorithm>

#include "tessera/ops/common.h"
#include "tessera/ops/elementwise.h"
#include "tessera/ops/layout.h"
#include "tessera/primitives/layout.h"

namespace tessera {

namespace {

struct SliceRegion {
  Shape shape;
  std::vector<int64_t> start;  // first index per axis, in range whenever the axis is non-empty
};

// Python slice semantics per axis: negative indices count from the end, bounds clamp.
SliceRegion slice_region(const Array& a, const std::vector<int64_t>& start, const std::vector<int64_t>& stop,
                         const std::vector<int64_t>& step, const char* op) {
  int n = a.ndim();
  if (int(start.size()) != n || int(stop.size()) != n || int(step.size()) != n)
    op_error(op, "start, stop and step need one entry per axis of shape " + shape_str(a.shape()) + " (" +
                     std::to_string(n) + "), got " + std::to_string(start.size()) + ", " + std::to_string(stop.size()) +
                     " and " + std::to_string(step.size()));
  SliceRegion r{Shape(n), std::vector<int64_t>(n)};
  auto clampi = [](int64_t v, int64_t lo, int64_t hi) { return std::min(std::max(v, lo), hi); };
  for (int i = 0; i < n; ++i) {
    int64_t d = a.shape()[i], s = step[i];
    if (s == 0) op_error(op, "step cannot be 0 (axis " + std::to_string(i) + ")");
    int64_t b = start[i] < 0 ? start[i] + d : start[i];
    int64_t e = stop[i] < 0 ? stop[i] + d : stop[i];
    if (s > 0) {
      b = clampi(b, 0, d);
      e = clampi(e, 0, d);
      r.shape[i] = e > b ? (e - b + s - 1) / s : 0;
    } else {
      b = clampi(b, -1, d - 1);
      e = clampi(e, -1, d - 1);
      r.shape[i] = b > e ? (b - e + (-s) - 1) / (-s) : 0;
    }
    r.start[i] = b;
  }
  return r;
}

void check_index_dtype(const Array& indices, const char* op) {
  if (!is_integral(indices.dtype()) || indices.dtype() == Dtype::Bool)
    op_error(op, std::string("indices must have an integer dtype, got ") + dtype_name(indices.dtype()));
}

}  // namespace

Array slice(const Array& a, const std::vector<int64_t>& start, const std::vector<int64_t>& stop,
            const std::vector<int64_t>& step) {
  SliceRegion r = slice_region(a, start, stop, step, "slice");
  if (r.shape == a.shape() && std::all_of(step.begin(), step.end(), [](int64_t s) { return s == 1; })) return a;
  return Array(std::move(r.shape), a.dtype(), std::make_shared<Slice>(std::move(r.start), step), {a});
}

Array slice_update(const Array& a, const Array& update, const std::vector<int64_t>& start,
                   const std::vector<int64_t>& stop, const std::vector<int64_t>& step) {
  SliceRegion r = slice_region(a, start, stop, step, "sliceUpdate");
  bool fits = update.ndim() <= a.ndim();
  for (int i = 0; fits && i < update.ndim(); ++i) {
    int64_t du = update.shape()[i], dr = r.shape[a.ndim() - update.ndim() + i];
    fits = du == dr || du == 1;
  }
  if (!fits)
    op_error("sliceUpdate", "an update of shape " + shape_str(update.shape()) + " cannot be broadcast to the region " +
                                shape_str(r.shape) + " of an array of shape " + shape_str(a.shape()));
  Array u = broadcast_to(astype(update, a.dtype()), r.shape);
  return Array(a.shape(), a.dtype(), std::make_shared<SliceUpdate>(std::move(r.start), step), {a, u});
}

Array take(const Array& a, const Array& indices, std::optional<int64_t> axis) {
  check_index_dtype(indices, "take");
  if (!axis) return take(flatten(a), indices, 0);
  int ax = normalize_axis(*axis, a.ndim(), "take");
  if (a.shape()[ax] == 0 && indices.size() > 0)
    op_error("take", "cannot take from an empty axis " + std::to_string(ax) + " of shape " + shape_str(a.shape()));
  if (indices.ndim() == 0) return squeeze(take(a, reshape(indices, {1}), ax), {ax});
  // Line the dims up: a gets size-1 axes where the indices' extra dims go, indices get size-1
  // axes for a's other dims. Both are views.
  int k = indices.ndim();
  Shape a_shape(a.shape().begin(), a.shape().begin() + ax + 1), i_shape(ax, 1), out(a.shape().begin(), a.shape().begin() + ax);
  a_shape.insert(a_shape.end(), k - 1, 1);
  a_shape.insert(a_shape.end(), a.shape().begin() + ax + 1, a.shape().end());
  i_shape.insert(i_shape.end(), indices.shape().begin(), indices.shape().end());
  i_shape.insert(i_shape.end(), a.ndim() - ax - 1, 1);
  out.insert(out.end(), indices.shape().begin(), indices.shape().end());
  out.insert(out.end(), a.shape().begin() + ax + 1, a.shape().end());
  return Array(std::move(out), a.dtype(), std::make_shared<Gather>(ax, "take"), {reshape(a, a_shape), reshape(indices, i_shape)});
}

Array take_along_axis(const Array& a, const Array& indices, int64_t axis) {
  check_index_dtype(indices, "takeAlongAxis");
  int ax = normalize_axis(axis, a.ndim(), "takeAlongAxis");
  if (indices.ndim() != a.ndim())
    op_error("takeAlongAxis", "indices must have the same number of dimensions as the array; got shapes " +
                                  shape_str(indices.shape()) + " and " + shape_str(a.shape()));
  Shape out(a.ndim());
  for (int i = 0; i < a.ndim(); ++i) {
    int64_t da = a.shape()[i], di = indices.shape()[i];
    if (i == ax) out[i] = di;
    else if (da == di || da == 1 || di == 1) out[i] = da == 1 ? di : da;
    else
      op_error("takeAlongAxis", "indices of shape " + shape_str(indices.shape()) + " do not broadcast with the array's shape " +
                                    shape_str(a.shape()) + " outside axis " + std::to_string(ax));
  }
  if (a.shape()[ax] == 0 && shape_size(out) > 0)
    op_error("takeAlongAxis", "cannot take from an empty axis " + std::to_string(ax) + " of shape " + shape_str(a.shape()));
  return Array(std::move(out), a.dtype(), std::make_shared<Gather>(ax, "takeAlongAxis"), {a, indices});
}

}  // namespace tessera
