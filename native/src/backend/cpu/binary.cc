// CPU kernels of Binary and Where: broadcasting through strides, a fast path for contiguous operands.
#include <cmath>

#include "backend/cpu/strided.h"
#include "tessera/primitives/elementwise.h"

namespace tessera {

namespace {

template <typename C>
inline auto apply(BinaryOp op, C a, C b) {
  switch (op) {
    case BinaryOp::Add: return C(a + b);
    case BinaryOp::Sub: return C(a - b);
    case BinaryOp::Mul: return C(a * b);
    case BinaryOp::Div: return C(a / b);
    case BinaryOp::FloorDiv:
      if constexpr (std::is_floating_point_v<C>) return C(std::floor(a / b));
      else if constexpr (std::is_same_v<C, bool>) return C(a && b);
      else {
        if (b == 0) return C(0);
        C q = C(a / b);
        if constexpr (std::is_signed_v<C>) if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
        return q;
      }
    case BinaryOp::Mod:
      if constexpr (std::is_floating_point_v<C>) {
        C r = std::fmod(a, b);
        return (r != 0 && ((r < 0) != (b < 0))) ? C(r + b) : r;  // sign of the divisor, as NumPy
      } else if constexpr (std::is_same_v<C, bool>) return C(false);
      else {
        if (b == 0) return C(0);
        C r = C(a % b);
        if constexpr (std::is_signed_v<C>) if (r != 0 && ((r < 0) != (b < 0))) r = C(r + b);
        return r;
      }
    case BinaryOp::Pow:
      if constexpr (std::is_floating_point_v<C>) return C(std::pow(a, b));
      else {
        C r = 1, base = a;
        if constexpr (std::is_signed_v<C>) if (b < 0) return C(0);
        for (auto e = b; e > 0; e >>= 1) { if (e & 1) r = C(r * base); base = C(base * base); }
        return r;
      }
    case BinaryOp::Maximum:
      if constexpr (std::is_floating_point_v<C>) if (std::isnan(a) || std::isnan(b)) return C(NAN);
      return a > b ? a : b;
    case BinaryOp::Minimum:
      if constexpr (std::is_floating_point_v<C>) if (std::isnan(a) || std::isnan(b)) return C(NAN);
      return a < b ? a : b;
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
void kernel(ThreadPool& pool, const cpu::StridedPlan<3>& plan, const T* a, const T* b, TOut* o) {
  cpu::for_each_row<3>(pool, plan, [&](int64_t n, std::array<int64_t, 3> off, std::array<int64_t, 3> st) {
    TOut* po = o + off[0];
    const T* pa = a + off[1];
    const T* pb = b + off[2];
    if (st[1] == 1 && st[2] == 1) {
      for (int64_t i = 0; i < n; ++i) po[i] = store<TOut>(apply(OP, load(pa[i]), load(pb[i])));
    } else if (st[1] == 1 && st[2] == 0) {
      auto vb = load(pb[0]);
      for (int64_t i = 0; i < n; ++i) po[i] = store<TOut>(apply(OP, load(pa[i]), vb));
    } else if (st[1] == 0 && st[2] == 1) {
      auto va = load(pa[0]);
      for (int64_t i = 0; i < n; ++i) po[i] = store<TOut>(apply(OP, va, load(pb[i])));
    } else {
      for (int64_t i = 0; i < n; ++i) po[i] = store<TOut>(apply(OP, load(pa[i * st[1]]), load(pb[i * st[2]])));
    }
  });
}

// Instantiates the kernel for a compile-time op so the inner loops vectorize.
template <typename T, typename TOut>
void dispatch_op(BinaryOp op, ThreadPool& pool, const cpu::StridedPlan<3>& plan, const T* a, const T* b, TOut* o) {
  switch (op) {
#define TS_CASE(X) case BinaryOp::X: return kernel<T, TOut, BinaryOp::X>(pool, plan, a, b, o);
    TS_CASE(Add) TS_CASE(Sub) TS_CASE(Mul) TS_CASE(Div) TS_CASE(FloorDiv) TS_CASE(Mod) TS_CASE(Pow) TS_CASE(Maximum)
    TS_CASE(Minimum) TS_CASE(Equal) TS_CASE(NotEqual) TS_CASE(Less) TS_CASE(LessEqual) TS_CASE(Greater)
    TS_CASE(GreaterEqual) TS_CASE(LogicalAnd) TS_CASE(LogicalOr)
#undef TS_CASE
  }
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
  dispatch_all(in[0].dtype(), [&]<typename T>() {
    if (out.dtype() == Dtype::Bool && in[0].dtype() != Dtype::Bool)
      dispatch_op<T, bool>(op_, ctx.pool, plan, in[0].data<T>(), in[1].data<T>(), out.data<bool>());
    else
      dispatch_op<T, T>(op_, ctx.pool, plan, in[0].data<T>(), in[1].data<T>(), out.data<T>());
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
