// CPU kernels of the Unary primitive. Floating dtypes run the SIMD float32 kernels (halves and
// strided rows are converted in L1-sized blocks); integer and bool arrays take a generic loop.
#include <algorithm>
#include <cmath>

#include "backend/cpu/elementwise_kernels.h"
#include "backend/cpu/int_math.h"
#include "backend/cpu/strided.h"
#include "tessera/primitives/elementwise.h"

namespace tessera {

namespace {

// The ops defined on integers and bool (the builder turns every other op's input into float32).
template <typename C>
inline C apply_int(UnaryOp op, C x) {
  switch (op) {
    case UnaryOp::Abs:
      if constexpr (std::is_unsigned_v<C> || std::is_same_v<C, bool>) return x; else return x < C(0) ? cpu::wrap_neg(x) : x;
    case UnaryOp::Neg: if constexpr (std::is_same_v<C, bool>) return x; else return cpu::wrap_neg(x);
    case UnaryOp::Sign: if constexpr (std::is_unsigned_v<C>) return C(x != 0); else return C((C(0) < x) - (x < C(0)));
    case UnaryOp::Square: if constexpr (std::is_same_v<C, bool>) return x; else return cpu::wrap_mul(x, x);
    case UnaryOp::Relu: if constexpr (std::is_unsigned_v<C>) return x; else return x > C(0) ? x : C(0);
    default: return x;  // round, floor, ceil: integers are already whole
  }
}

void eval_float(UnaryOp op, const Array& a, Array& out, const cpu::StridedPlan<2>& plan, ThreadPool& pool) {
  dispatch_float(out.dtype(), unary_op_name(op), [&]<typename T>() {
    const T* src = a.data<T>();
    T* dst = out.data<T>();
    cpu::for_each_row<2>(pool, plan, [&](int64_t n, std::array<int64_t, 2> off, std::array<int64_t, 2> st) {
      const T* x = src + off[1];
      T* o = dst + off[0];
      if constexpr (std::is_same_v<T, float>) {
        if (st[1] == 1) return cpu::unary_f32(op, x, o, n);
      }
      float buf[cpu::kF32Block];
      for (int64_t i = 0; i < n; i += cpu::kF32Block) {
        int64_t m = std::min(cpu::kF32Block, n - i);
        cpu::load_as_f32(x + i * st[1], st[1], buf, m);
        cpu::unary_f32(op, buf, buf, m);
        cpu::store_from_f32(buf, o + i, m);
      }
    });
  });
}

}  // namespace

void Unary::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  const Array& a = in[0];
  UnaryOp op = op_;
  // Checked here, not inside the pool's tasks, so the error reaches the caller.
  if (op != UnaryOp::LogicalNot && unary_needs_float(op) && !is_floating(a.dtype()))
    throw std::invalid_argument(std::string(unary_op_name(op)) + " is not defined for " + dtype_name(a.dtype()) + " arrays");
  ctx.alloc_output(out);
  auto plan = cpu::collapse<2>(out.shape(), {row_major_strides(out.shape()), a.strides()});
  if (op == UnaryOp::LogicalNot) {
    dispatch_all(a.dtype(), [&]<typename T>() {
      const T* src = a.data<T>();
      bool* dst = out.data<bool>();
      cpu::for_each_row<2>(ctx.pool, plan, [&](int64_t n, std::array<int64_t, 2> off, std::array<int64_t, 2> st) {
        for (int64_t i = 0; i < n; ++i) dst[off[0] + i] = !(load(src[off[1] + i * st[1]]) != 0);
      });
    });
    return;
  }
  if (is_floating(out.dtype())) return eval_float(op, a, out, plan, ctx.pool);
  dispatch_all(out.dtype(), [&]<typename T>() {
    if constexpr (!is_half_v<T> && !std::is_floating_point_v<T>) {
      const T* src = a.data<T>();
      T* dst = out.data<T>();
      cpu::for_each_row<2>(ctx.pool, plan, [&](int64_t n, std::array<int64_t, 2> off, std::array<int64_t, 2> st) {
        T* o = dst + off[0];
        const T* x = src + off[1];
        for (int64_t i = 0; i < n; ++i) o[i] = apply_int(op, x[i * st[1]]);
      });
    }
  });
}

const char* unary_op_name(UnaryOp op) {
  static const char* names[] = {"abs", "neg", "sign", "square", "exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tanh",
                                "sigmoid", "erf", "geluExact", "geluTanh", "silu", "relu", "softplus", "round", "floor",
                                "ceil", "reciprocal", "logicalNot"};
  return names[int(op)];
}

bool unary_needs_float(UnaryOp op) {
  switch (op) {
    case UnaryOp::Abs: case UnaryOp::Neg: case UnaryOp::Sign: case UnaryOp::Square: case UnaryOp::Relu:
    case UnaryOp::Round: case UnaryOp::Floor: case UnaryOp::Ceil: case UnaryOp::LogicalNot:
      return false;
    default:
      return true;
  }
}

}  // namespace tessera
