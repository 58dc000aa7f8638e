#include "tessera/ops/linalg.h"

#include "tessera/ops/common.h"
#include "tessera/ops/elementwise.h"
#include "tessera/ops/layout.h"

namespace tessera {

namespace {

std::string ints_str(const std::vector<int64_t>& v) { return shape_str(v); }

// Batch shape of two operands (all but the last two dims), broadcast as NumPy does.
Shape matmul_batch(const Array& a, const Array& b, const Shape& sa, const Shape& sb) {
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  size_t n = std::max(ba.size(), bb.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - ba.size() ? 1 : ba[i - (n - ba.size())];
    int64_t db = i < n - bb.size() ? 1 : bb[i - (n - bb.size())];
    if (da != db && da != 1 && db != 1)
      op_error("matmul", "batch dimensions of shapes " + shape_str(sa) + " and " + shape_str(sb) +
                             " cannot be broadcast together (" + shape_str(ba) + " vs " + shape_str(bb) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace

Array matmul(const Array& a0, const Array& b0) {
  const Shape &sa = a0.shape(), &sb = b0.shape();
  if (a0.ndim() == 0 || b0.ndim() == 0)
    op_error("matmul", "operands must have at least 1 dimension, got shapes " + shape_str(sa) + " and " + shape_str(sb));
  Array a = a0.ndim() == 1 ? reshape(a0, {1, sa[0]}) : a0;
  Array b = b0.ndim() == 1 ? reshape(b0, {sb[0], 1}) : b0;
  int64_t k = a.shape().back(), kb = b.shape()[b.ndim() - 2];
  if (k != kb)
    op_error("matmul", "shapes " + shape_str(sa) + " and " + shape_str(sb) + " are not aligned: the last dimension of a (" +
                           std::to_string(k) + ") must equal " +
                           (b0.ndim() == 1 ? "the length of b (" : "the second-to-last dimension of b (") +
                           std::to_string(kb) + ")");
  Shape shape = matmul_batch(a, b, sa, sb);
  int64_t m = a.shape()[a.ndim() - 2], n = b.shape().back();
  shape.push_back(m);
  shape.push_back(n);
  Dtype dt = promote_types(a.dtype(), b.dtype());
  // Float operands keep their dtype (the GEMM converts halves while packing); the rest are cast.
  if (!is_floating(dt) || !is_floating(a.dtype())) a = astype(a, dt);
  if (!is_floating(dt) || !is_floating(b.dtype())) b = astype(b, dt);
  Array out(shape, dt, std::make_shared<Matmul>(), {a, b});
  if (a0.ndim() == 1 || b0.ndim() == 1) {
    Shape s(shape.begin(), shape.end() - 2);
    if (a0.ndim() != 1) s.push_back(m);
    if (b0.ndim() != 1) s.push_back(n);
    out = reshape(out, s);
  }
  return out;
}

namespace {

// Expands a per-dim option of `dims` values (one value means all dims).
std::array<int64_t, 2> per_dim(const std::vector<int64_t>& v, int dims, const char* op, const char* what, int64_t min) {
  if (v.size() != 1 && int(v.size()) != dims)
    op_error(op, std::string(what) + " must be a number or " + std::to_string(dims) + " numbers, got " + ints_str(v));
  std::array<int64_t, 2> out{1, 1};
  for (int i = 0; i < dims; ++i) {
    out[i] = v.size() == 1 ? v[0] : v[i];
    if (out[i] < min) op_error(op, std::string(what) + " must be >= " + std::to_string(min) + ", got " + ints_str(v));
  }
  return out;
}

// x [N, H, W, Cin], w [Cout, KH, KW, Cg] with `dims` spatial dims in use (conv1d has H = 1).
Array conv(const char* op, const Array& x0, const Array& w0, const ConvOptions& o, int dims) {
  int nd = dims + 2;
  if (x0.ndim() != nd)
    op_error(op, std::string("input must have ") + std::to_string(nd) + " dimensions (" +
                     (dims == 1 ? "[N, L, Cin]" : "[N, H, W, Cin]") + "), got shape " + shape_str(x0.shape()));
  if (w0.ndim() != nd)
    op_error(op, std::string("weight must have ") + std::to_string(nd) + " dimensions (" +
                     (dims == 1 ? "[Cout, K, Cin / groups]" : "[Cout, KH, KW, Cin / groups]") + "), got shape " +
                     shape_str(w0.shape()));
  ConvParams p;
  p.stride = per_dim(o.stride, dims, op, "stride", 1);
  p.dilation = per_dim(o.dilation, dims, op, "dilation", 1);
  const auto& pad = o.padding;
  if (pad.size() == size_t(2 * dims) && dims == 2) {
    p.pad_lo = {pad[0], pad[2]};
    p.pad_hi = {pad[1], pad[3]};
  } else if (dims == 1 && pad.size() == 2) {
    p.pad_lo = {pad[0], 0};
    p.pad_hi = {pad[1], 0};
  } else {
    p.pad_lo = p.pad_hi = per_dim(pad, dims, op, "padding", 0);
  }
  for (int i = 0; i < dims; ++i)
    if (p.pad_lo[i] < 0 || p.pad_hi[i] < 0) op_error(op, "padding must be >= 0, got " + ints_str(pad));
  p.groups = o.groups;
  int64_t cin = x0.shape().back(), cout = w0.shape()[0], cg = w0.shape().back();
  if (p.groups < 1) op_error(op, "groups must be >= 1, got " + std::to_string(p.groups));
  if (cin % p.groups != 0 || cout % p.groups != 0)
    op_error(op, "groups (" + std::to_string(p.groups) + ") must divide both the input channels (" + std::to_string(cin) +
                     ") and the output channels (" + std::to_string(cout) + ")");
  if (cg != cin / p.groups)
    op_error(op, "weight shape " + shape_str(w0.shape()) + " does not match input shape " + shape_str(x0.shape()) +
                     ": its last dimension must be Cin / groups = " + std::to_string(cin / p.groups));
  // Work in 2-D: conv1d is a conv2d of height 1.
  Array x = dims == 1 ? reshape(x0, {x0.shape()[0], 1, x0.shape()[1], cin}) : x0;
  Array w = dims == 1 ? reshape(w0, {cout, 1, w0.shape()[1], cg}) : w0;
  if (dims == 1) {
    p.stride = {1, p.stride[0]};
    p.dilation = {1, p.dilation[0]};
    p.pad_lo = {0, p.pad_lo[0]};
    p.pad_hi = {0, p.pad_hi[0]};
  }
  Shape shape{x.shape()[0], 0, 0, cout};
  for (int i = 0; i < 2; ++i) {
    int64_t in = x.shape()[1 + i] + p.pad_lo[i] + p.pad_hi[i], k = (w.shape()[1 + i] - 1) * p.dilation[i] + 1;
    if (w.shape()[1 + i] < 1) op_error(op, "kernel size must be >= 1, got weight shape " + shape_str(w0.shape()));
    if (k > in)
      op_error(op, "the kernel (extent " + std::to_string(k) + " with dilation) is larger than the padded input (" +
                       std::to_string(in) + ") for input shape " + shape_str(x0.shape()) + " and weight shape " +
                       shape_str(w0.shape()));
    shape[1 + i] = (in - k) / p.stride[i] + 1;
  }
  Dtype dt = promote_types(x.dtype(), w.dtype());
  if (!is_floating(dt)) dt = Dtype::Float32;
  Array out(shape, dt, std::make_shared<Conv2d>(p), {astype(x, dt), astype(w, dt)});
  return dims == 1 ? reshape(out, {shape[0], shape[2], cout}) : out;
}

}  // namespace

Array conv1d(const Array& x, const Array& w, const ConvOptions& opts) { return conv("conv1d", x, w, opts, 1); }
Array conv2d(const Array& x, const Array& w, const ConvOptions& opts) { return conv("conv2d", x, w, opts, 2); }

Array avg_pool2d(const Array& x, std::vector<int64_t> kernel, std::vector<int64_t> stride, std::vector<int64_t> padding) {
  const char* op = "avgPool2d";
  if (x.ndim() != 4) op_error(op, "input must have 4 dimensions [N, H, W, C], got shape " + shape_str(x.shape()));
  auto k = per_dim(kernel, 2, op, "kernel", 1);
  auto s = stride.empty() ? k : per_dim(stride, 2, op, "stride", 1);
  auto p = per_dim(padding.empty() ? std::vector<int64_t>{0} : padding, 2, op, "padding", 0);
  Shape shape{x.shape()[0], 0, 0, x.shape()[3]};
  for (int i = 0; i < 2; ++i) {
    if (2 * p[i] > k[i])
      op_error(op, "padding " + ints_str(padding) + " must be at most half the kernel " + ints_str(kernel));
    int64_t in = x.shape()[1 + i] + 2 * p[i];
    if (k[i] > in)
      op_error(op, "kernel " + ints_str(kernel) + " is larger than the padded input of shape " + shape_str(x.shape()));
    shape[1 + i] = (in - k[i]) / s[i] + 1;
  }
  Dtype dt = is_floating(x.dtype()) ? x.dtype() : Dtype::Float32;
  return Array(shape, dt, std::make_shared<AvgPool2d>(k, s, p), {astype(x, dt)});
}

Array upsample_nearest(const Array& x, std::vector<int64_t> scale) {
  const char* op = "upsampleNearest";
  if (x.ndim() != 4) op_error(op, "input must have 4 dimensions [N, H, W, C], got shape " + shape_str(x.shape()));
  auto s = per_dim(scale, 2, op, "scale", 1);
  Shape shape{x.shape()[0], x.shape()[1] * s[0], x.shape()[2] * s[1], x.shape()[3]};
  return Array(shape, x.dtype(), std::make_shared<UpsampleNearest>(s), {x});
}

Array bench_fma_peak(int64_t iterations) {
  if (iterations < 1) op_error("_benchFmaPeak", "iterations must be >= 1, got " + std::to_string(iterations));
  return Array({}, Dtype::Float32, std::make_shared<BenchFmaPeak>(iterations), {});
}

}  // namespace tessera
