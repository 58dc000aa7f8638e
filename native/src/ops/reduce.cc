#include "tessera/ops/reduce.h"

#include <algorithm>

#include "tessera/ops/common.h"
#include "tessera/ops/elementwise.h"
#include "tessera/ops/layout.h"

namespace tessera {

namespace {

Dtype reduce_dtype(ReduceOp op, Dtype in) {
  switch (op) {
    case ReduceOp::Sum: case ReduceOp::Prod:
      if (is_floating(in) || in == Dtype::Int64 || in == Dtype::UInt32) return in;
      return Dtype::Int32;
    case ReduceOp::Mean: case ReduceOp::Var: case ReduceOp::LogSumExp: return is_floating(in) ? in : Dtype::Float32;
    case ReduceOp::ArgMax: case ReduceOp::ArgMin: return Dtype::Int32;
    case ReduceOp::Max: case ReduceOp::Min: return in;
  }
  return in;
}

// Sorted unique axes; nullopt means all of them.
std::vector<int> reduce_axes(const Array& a, const OptAxes& axes, const char* name) {
  std::vector<int> ax;
  if (!axes) {
    for (int i = 0; i < a.ndim(); ++i) ax.push_back(i);
  } else {
    ax = normalize_axes(*axes, a.ndim(), name);
    std::sort(ax.begin(), ax.end());
  }
  return ax;
}

Shape kept_shape(const Shape& shape, const std::vector<int>& axes, bool keepdims) {
  Shape out;
  for (int i = 0; i < int(shape.size()); ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!reduced) out.push_back(shape[i]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

int64_t reduced_count(const Shape& shape, const std::vector<int>& axes) {
  int64_t n = 1;
  for (int ax : axes) n *= shape[ax];
  return n;
}

Array reduce(ReduceOp op, const Array& a, const OptAxes& axes, bool keepdims, int64_t ddof = 0) {
  const char* name = reduce_op_name(op);
  auto ax = reduce_axes(a, axes, name);
  Shape kd = kept_shape(a.shape(), ax, true);
  bool needs_value = op == ReduceOp::Max || op == ReduceOp::Min || op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  if (needs_value && reduced_count(a.shape(), ax) == 0)
    op_error(name, "cannot reduce an empty axis of an array of shape " + shape_str(a.shape()) + " (no identity)");
  Array out(kd, reduce_dtype(op, a.dtype()), std::make_shared<Reduce>(op, ax, ddof), {a});
  return keepdims ? out : reshape(out, kept_shape(a.shape(), ax, false));
}

Array arg_reduce(ReduceOp op, const Array& a, std::optional<int64_t> axis, bool keepdims) {
  if (axis) return reduce(op, a, std::vector<int64_t>{*axis}, keepdims);
  // The flat index over every axis: reduce the flattened array, keepdims gives all-ones dims.
  Array r = reduce(op, reshape(a, {a.size()}), std::vector<int64_t>{0}, false);
  return keepdims ? reshape(r, Shape(a.ndim(), 1)) : r;
}

Dtype float_compute(Dtype dt) { return dt == Dtype::Float32 ? dt : Dtype::Float32; }
Dtype float_result(Dtype dt) { return is_floating(dt) ? dt : Dtype::Float32; }

}  // namespace

const char* reduce_op_name(ReduceOp op) {
  static const char* names[] = {"sum", "prod", "max", "min", "mean", "var", "argmax", "argmin", "logsumexp"};
  return names[int(op)];
}

Array sum(const Array& a, const OptAxes& axes, bool keepdims) { return reduce(ReduceOp::Sum, a, axes, keepdims); }
Array prod(const Array& a, const OptAxes& axes, bool keepdims) { return reduce(ReduceOp::Prod, a, axes, keepdims); }
Array max(const Array& a, const OptAxes& axes, bool keepdims) { return reduce(ReduceOp::Max, a, axes, keepdims); }
Array min(const Array& a, const OptAxes& axes, bool keepdims) { return reduce(ReduceOp::Min, a, axes, keepdims); }
Array mean(const Array& a, const OptAxes& axes, bool keepdims) { return reduce(ReduceOp::Mean, a, axes, keepdims); }
Array logsumexp(const Array& a, const OptAxes& axes, bool keepdims) {
  return reduce(ReduceOp::LogSumExp, a, axes, keepdims);
}
Array argmax(const Array& a, std::optional<int64_t> axis, bool keepdims) {
  return arg_reduce(ReduceOp::ArgMax, a, axis, keepdims);
}
Array argmin(const Array& a, std::optional<int64_t> axis, bool keepdims) {
  return arg_reduce(ReduceOp::ArgMin, a, axis, keepdims);
}

Array var(const Array& a, const OptAxes& axes, bool keepdims, int64_t ddof) {
  return reduce(ReduceOp::Var, a, axes, keepdims, ddof);
}

// The last axis has its own kernel; other axes compose max, exp, sum and divide in float32.
Array softmax(const Array& a, const std::vector<int64_t>& axes) {
  auto ax = normalize_axes(axes, a.ndim(), "softmax");
  Dtype out_dt = float_result(a.dtype());
  if (ax.size() == 1 && ax[0] == a.ndim() - 1)
    return Array(a.shape(), out_dt, std::make_shared<Softmax>(), {astype(a, out_dt)});
  if (a.size() == 0 || ax.empty()) {
    if (a.size() == 0) return astype(a, out_dt);
    return full(a.shape(), 1.0, out_dt);  // softmax over no axes: each element alone
  }
  Array x = astype(a, float_compute(a.dtype()));
  std::vector<int64_t> ax64(ax.begin(), ax.end());
  Array e = unary(UnaryOp::Exp, binary(BinaryOp::Sub, x, max(x, ax64, true)));
  return astype(binary(BinaryOp::Div, e, sum(e, ax64, true)), out_dt);
}

Array cumsum(const Array& a, std::optional<int64_t> axis, bool reverse, bool inclusive) {
  if (!axis) return cumsum(reshape(a, {a.size()}), 0, reverse, inclusive);
  int ax = normalize_axis(*axis, a.ndim(), "cumsum");
  Array x = a.dtype() == Dtype::Bool ? astype(a, Dtype::Int32) : a;
  return Array(x.shape(), x.dtype(), std::make_shared<Cumsum>(ax, reverse, inclusive), {x});
}

Array sort(const Array& a, int64_t axis) {
  int ax = normalize_axis(axis, a.ndim(), "sort");
  return Array(a.shape(), a.dtype(), std::make_shared<Sort>(ax, false), {a});
}

Array argsort(const Array& a, int64_t axis) {
  int ax = normalize_axis(axis, a.ndim(), "argsort");
  return Array(a.shape(), Dtype::Int32, std::make_shared<Sort>(ax, true), {a});
}

Array topk(const Array& a, int64_t k, int64_t axis) {
  int ax = normalize_axis(axis, a.ndim(), "topk");
  int64_t n = a.shape()[ax];
  if (k < 0 || k > n)
    op_error("topk", "k = " + std::to_string(k) + " is out of range for axis " + std::to_string(axis) + " of size " +
                         std::to_string(n) + " (shape " + shape_str(a.shape()) + ")");
  Shape shape = a.shape();
  shape[ax] = k;
  return Array(shape, a.dtype(), std::make_shared<TopK>(ax, k), {a});
}

Array argpartition(const Array& a, int64_t kth, int64_t axis) {
  int ax = normalize_axis(axis, a.ndim(), "argpartition");
  int64_t n = a.shape()[ax];
  if (kth < -n || kth >= n)
    op_error("argpartition", "kth = " + std::to_string(kth) + " is out of range for axis " + std::to_string(axis) +
                                 " of size " + std::to_string(n) + " (shape " + shape_str(a.shape()) + ")");
  return Array(a.shape(), Dtype::Int32, std::make_shared<ArgPartition>(ax, kth < 0 ? kth + n : kth), {a});
}

}  // namespace tessera
