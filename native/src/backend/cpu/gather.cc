// CPU kernel of Gather (take, takeAlongAxis): a strided walk over the output with a's gathered
// axis at stride 0; rows with one index (take's trailing dims) are memcpy'd.
#include <atomic>
#include <string>

#include "backend/cpu/layout_copy.h"
#include "tessera/primitives/layout.h"

namespace tessera {

namespace {

// a's strides seen from the output: 0 for the gathered axis and for broadcast dims.
Strides broadcast_strides(const Array& x, const Shape& out, int gathered_axis) {
  Strides s(out.size(), 0);
  for (int i = 0; i < x.ndim(); ++i)
    if (i != gathered_axis && !(x.shape()[i] == 1 && out[i] != 1)) s[i] = x.strides()[i];
  return s;
}

template <typename I, typename W>
void gather(ThreadPool& pool, const Array& a, const Array& idx, Array& out, int axis, const char* op_name) {
  const int64_t dim = a.shape()[axis], axis_stride = a.strides()[axis];
  auto plan = cpu::collapse<3>(out.shape(), {row_major_strides(out.shape()), broadcast_strides(idx, out.shape(), -1),
                                             broadcast_strides(a, out.shape(), axis)});
  const I* ip = idx.data<I>();
  const W* ap = a.data<W>();
  W* op = out.data<W>();
  // Kernels cannot throw from pool threads: the first bad index is recorded and thrown after.
  std::atomic<bool> bad{false};
  std::atomic<int64_t> bad_value{0};
  auto resolve = [&](I raw, int64_t& v) {
    v = int64_t(raw);
    if constexpr (std::is_signed_v<I>) if (v < 0) v += dim;
    if (v < 0 || v >= dim) {
      if (!bad.exchange(true)) bad_value = int64_t(raw);
      return false;
    }
    return true;
  };
  cpu::for_each_row<3>(pool, plan, [&](int64_t n, std::array<int64_t, 3> off, std::array<int64_t, 3> st) {
    W* o = op + off[0];
    const W* x = ap + off[2];
    int64_t v;
    if (st[1] == 0) {  // one index for the whole row
      if (!resolve(ip[off[1]], v)) return;
      x += v * axis_stride;
      if (st[0] == 1 && st[2] == 1) std::memcpy(o, x, size_t(n) * sizeof(W));
      else for (int64_t i = 0; i < n; ++i) o[i * st[0]] = x[i * st[2]];
      return;
    }
    const I* ix = ip + off[1];
    for (int64_t i = 0; i < n; ++i) {
      if (!resolve(ix[i * st[1]], v)) return;
      o[i * st[0]] = x[i * st[2] + v * axis_stride];
    }
  });
  if (bad)
    throw std::out_of_range(std::string(op_name) + ": index " + std::to_string(bad_value.load()) +
                            " is out of bounds for axis " + std::to_string(axis) + " with size " + std::to_string(dim));
}

}  // namespace

void Gather::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  const Array& a = in[0];
  const Array& idx = in[1];
  cpu::dispatch_word(a.itemsize(), [&]<typename W>() {
    switch (idx.dtype()) {
      case Dtype::UInt8: return gather<uint8_t, W>(ctx.pool, a, idx, out, axis_, op_);
      case Dtype::Int8: return gather<int8_t, W>(ctx.pool, a, idx, out, axis_, op_);
      case Dtype::Int16: return gather<int16_t, W>(ctx.pool, a, idx, out, axis_, op_);
      case Dtype::Int32: return gather<int32_t, W>(ctx.pool, a, idx, out, axis_, op_);
      case Dtype::UInt32: return gather<uint32_t, W>(ctx.pool, a, idx, out, axis_, op_);
      case Dtype::Int64: return gather<int64_t, W>(ctx.pool, a, idx, out, axis_, op_);
      default: throw std::invalid_argument(std::string(op_) + ": indices must have an integer dtype, got " + dtype_name(idx.dtype()));
    }
  });
}

}  // namespace tessera
