// CPU kernels of Binary and Where: broadcasting through strides. Floating dtypes run the SIMD
// float32 kernels (halves and strided rows converted in L1-sized blocks); integers a generic loop.
#include <algorithm>
#include <cmath>

#include "backend/cpu/elementwise_kernels.h"
#include "backend/cpu/int_math.h"
#include "backend/cpu/strided.h"
#include "tessera/primitives/elementwise.h"

namespace tessera {

namespace {

template <typename C>
inline auto apply_int(BinaryOp op, C a, C b) {
  switch (op) {
    case BinaryOp::Add: return cpu::wrap_add(a, b);
    case BinaryOp::Sub: return cpu::wrap_sub(a, b);
    case BinaryOp::Mul: return cpu::wrap_mul(a, b);
    case BinaryOp::Div: return C(b == 0 ? 0 : a / b);  // not reached: the builder makes division float
    case BinaryOp::FloorDiv: return cpu::floor_div(a, b);
    case BinaryOp::Mod: return cpu::remainder(a, b);
    case BinaryOp::Pow: return cpu::int_pow(a, b);
    case BinaryOp::Maximum: return a > b ? a : b;
    case BinaryOp::Minimum: return a < b ? a : b;
    case BinaryOp::Equal: return C(a == b);
    case BinaryOp::NotEqual: return C(a != b);
    case BinaryOp::Less: return C(a < b);
    case BinaryOp::LessEqual: return C(a <= b);
    case BinaryOp::Greater: return C(a > b);
    case BinaryOp::GreaterEqual: return C(a >= b);
    case BinaryOp::LogicalAnd: return C(a && b);
    case BinaryOp::LogicalOr: return C(a || b);
  }
  return C(0);
}

template <typename T, typename TOut, BinaryOp OP>
void int_kernel(ThreadPool& pool, const cpu::StridedPlan<3>& plan, const T* a, const T* b, TOut* o) {
  cpu::for_each_row<3>(pool, plan, [&](int64_t n, std::array<int64_t, 3> off, std::array<int64_t, 3> st) {
    TOut* po = o + off[0];
    const T* pa = a + off[1];
    const T* pb = b + off[2];
    if (st[1] == 1 && st[2] == 1) {
      for (int64_t i = 0; i < n; ++i) po[i] = TOut(apply_int(OP, pa[i], pb[i]));
    } else if (st[1] == 1 && st[2] == 0) {
      for (int64_t i = 0; i < n; ++i) po[i] = TOut(apply_int(OP, pa[i], pb[0]));
    } else if (st[1] == 0 && st[2] == 1) {
      for (int64_t i = 0; i < n; ++i) po[i] = TOut(apply_int(OP, pa[0], pb[i]));
    } else {
      for (int64_t i = 0; i < n; ++i) po[i] = TOut(apply_int(OP, pa[i * st[1]], pb[i * st[2]]));
    }
  });
}

// Instantiates the kernel for a compile-time op so the inner loops vectorize.
template <typename T, typename TOut>
void int_dispatch(BinaryOp op, ThreadPool& pool, const cpu::StridedPlan<3>& plan, const T* a, const T* b, TOut* o) {
  switch (op) {
#define TS_CASE(X) case BinaryOp::X: return int_kernel<T, TOut, BinaryOp::X>(pool, plan, a, b, o);
    TS_CASE(Add) TS_CASE(Sub) TS_CASE(Mul) TS_CASE(Div) TS_CASE(FloorDiv) TS_CASE(Mod) TS_CASE(Pow) TS_CASE(Maximum)
    TS_CASE(Minimum) TS_CASE(Equal) TS_CASE(NotEqual) TS_CASE(Less) TS_CASE(LessEqual) TS_CASE(Greater)
    TS_CASE(GreaterEqual) TS_CASE(LogicalAnd) TS_CASE(LogicalOr)
#undef TS_CASE
  }
}

// An operand row as the float32 kernel wants it: stride 0 or 1, converted into `buf` if needed.
template <typename T>
const float* operand_f32(const T* p, int64_t stride, int64_t i, int64_t m, float* buf, int64_t& s) {
  if (stride == 0) {
    buf[0] = to_f32(p[0]);
    s = 0;
    return buf;
  }
  s = 1;
  if constexpr (std::is_same_v<T, float>) {
    if (stride == 1) return p + i;
  }
  cpu::load_as_f32(p + i * stride, stride, buf, m);
  return buf;
}

template <typename T>
void float_kernel(BinaryOp op, ThreadPool& pool, const cpu::StridedPlan<3>& plan, const T* a, const T* b, void* o,
                  bool to_bool) {
  cpu::for_each_row<3>(pool, plan, [&](int64_t n, std::array<int64_t, 3> off, std::array<int64_t, 3> st) {
    const T* pa = a + off[1];
    const T* pb = b + off[2];
    if constexpr (std::is_same_v<T, float>) {
      if (!to_bool && st[1] <= 1 && st[1] >= 0 && st[2] <= 1 && st[2] >= 0)
        return cpu::binary_f32(op, pa, st[1], pb, st[2], static_cast<float*>(o) + off[0], n);
    }
    float ba[cpu::kF32Block], bb[cpu::kF32Block], bo[cpu::kF32Block];
    for (int64_t i = 0; i < n; i += cpu::kF32Block) {
      int64_t m = std::min(cpu::kF32Block, n - i), sa, sb;
      const float* xa = operand_f32(pa, st[1], i, m, ba, sa);
      const float* xb = operand_f32(pb, st[2], i, m, bb, sb);
      cpu::binary_f32(op, xa, sa, xb, sb, bo, m);
      if (to_bool) {
        bool* ob = static_cast<bool*>(o) + off[0] + i;
        for (int64_t k = 0; k < m; ++k) ob[k] = bo[k] != 0.f;
      } else {
        cpu::store_from_f32(bo, static_cast<T*>(o) + off[0] + i, m);
      }
    }
  });
}

Strides broadcast_strides(const Array& a, const Shape& shape) {
  Strides s(shape.size(), 0);
  size_t off = shape.size() - a.ndim();
  for (int i = 0; i < a.ndim(); ++i) s[off + i] = a.shape()[i] == 1 ? 0 : a.strides()[i];
  return s;
}

}  // namespace

void Binary::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  auto plan = cpu::collapse<3>(out.shape(), {row_major_strides(out.shape()), broadcast_strides(in[0], out.shape()),
                                             broadcast_strides(in[1], out.shape())});
  bool to_bool = out.dtype() == Dtype::Bool && in[0].dtype() != Dtype::Bool;
  dispatch_all(in[0].dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, float> || is_half_v<T>) {
      float_kernel<T>(op_, ctx.pool, plan, in[0].data<T>(), in[1].data<T>(), out.raw_data(), to_bool);
    } else if (to_bool) {
      int_dispatch<T, bool>(op_, ctx.pool, plan, in[0].data<T>(), in[1].data<T>(), out.data<bool>());
    } else {
      int_dispatch<T, T>(op_, ctx.pool, plan, in[0].data<T>(), in[1].data<T>(), out.data<T>());
    }
  });
}

void Where::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  auto plan = cpu::collapse<4>(out.shape(), {row_major_strides(out.shape()), broadcast_strides(in[0], out.shape()),
                                             broadcast_strides(in[1], out.shape()), broadcast_strides(in[2], out.shape())});
  const bool* c = in[0].data<bool>();
  dispatch_all(out.dtype(), [&]<typename T>() {
    const T* a = in[1].data<T>();
    const T* b = in[2].data<T>();
    T* o = out.data<T>();
    cpu::for_each_row<4>(ctx.pool, plan, [&](int64_t n, std::array<int64_t, 4> off, std::array<int64_t, 4> st) {
      for (int64_t i = 0; i < n; ++i)
        o[off[0] + i] = c[off[1] + i * st[1]] ? a[off[2] + i * st[2]] : b[off[3] + i * st[3]];
    });
  });
}

const char* binary_op_name(BinaryOp op) {
  static const char* names[] = {"add", "subtract", "multiply", "divide", "floorDivide", "remainder", "power", "maximum",
                                "minimum", "equal", "notEqual", "less", "lessEqual", "greater", "greaterEqual",
                                "logicalAnd", "logicalOr"};
  return names[int(op)];
}

bool is_comparison(BinaryOp op) { return op >= BinaryOp::Equal && op <= BinaryOp::GreaterEqual; }

}  // namespace tessera
