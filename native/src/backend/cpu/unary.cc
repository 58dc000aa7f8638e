// CPU kernels of the Unary primitive: every op in float (halves convert on load/store) or natively for ints.
#include <cmath>

#include "backend/cpu/strided.h"
#include "tessera/primitives/elementwise.h"

namespace tessera {

namespace {

template <typename C>
inline C apply(UnaryOp op, C x) {
  switch (op) {
    case UnaryOp::Abs: if constexpr (std::is_unsigned_v<C> || std::is_same_v<C, bool>) return x; else return x < C(0) ? C(-x) : x;
    case UnaryOp::Neg: if constexpr (std::is_same_v<C, bool>) return x; else return C(-x);
    case UnaryOp::Sign: return C((C(0) < x) - (x < C(0)));
    case UnaryOp::Square: return C(x * x);
    case UnaryOp::LogicalNot: return C(!x);
    default: break;
  }
  if constexpr (std::is_floating_point_v<C>) {
    switch (op) {
      case UnaryOp::Exp: return std::exp(x);
      case UnaryOp::Log: return std::log(x);
      case UnaryOp::Log1p: return std::log1p(x);
      case UnaryOp::Sqrt: return std::sqrt(x);
      case UnaryOp::Rsqrt: return C(1) / std::sqrt(x);
      case UnaryOp::Sin: return std::sin(x);
      case UnaryOp::Cos: return std::cos(x);
      case UnaryOp::Tanh: return std::tanh(x);
      case UnaryOp::Sigmoid: return C(1) / (C(1) + std::exp(-x));
      case UnaryOp::Erf: return std::erf(x);
      case UnaryOp::GeluExact: return C(0.5) * x * (C(1) + std::erf(x * C(0.70710678118654752)));
      case UnaryOp::GeluTanh: return C(0.5) * x * (C(1) + std::tanh(C(0.7978845608028654) * (x + C(0.044715) * x * x * x)));
      case UnaryOp::Silu: return x / (C(1) + std::exp(-x));
      case UnaryOp::Relu: return x > C(0) ? x : C(0);
      case UnaryOp::Softplus: return x > C(20) ? x : std::log1p(std::exp(x));
      case UnaryOp::Round: return std::nearbyint(x);  // half to even, as NumPy
      case UnaryOp::Floor: return std::floor(x);
      case UnaryOp::Ceil: return std::ceil(x);
      case UnaryOp::Reciprocal: return C(1) / x;
      default: break;
    }
  } else {
    switch (op) {
      case UnaryOp::Relu: return x > C(0) ? x : C(0);
      case UnaryOp::Round: case UnaryOp::Floor: case UnaryOp::Ceil: return x;
      default: break;
    }
  }
  throw std::invalid_argument(std::string(unary_op_name(op)) + " is not defined for integer arrays");
}

}  // namespace

void Unary::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  const Array& a = in[0];
  ctx.alloc_output(out);
  auto plan = cpu::collapse<2>(out.shape(), {row_major_strides(out.shape()), a.strides()});
  UnaryOp op = op_;
  auto run = [&]<typename TIn, typename TOut>() {
    const TIn* src = a.data<TIn>();
    TOut* dst = out.data<TOut>();
    cpu::for_each_row<2>(ctx.pool, plan, [&](int64_t n, std::array<int64_t, 2> off, std::array<int64_t, 2> st) {
      TOut* o = dst + off[0];
      const TIn* x = src + off[1];
      for (int64_t i = 0; i < n; ++i) o[i] = store<TOut>(apply(op, load(x[i * st[1]])));
    });
  };
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
  dispatch_all(out.dtype(), [&]<typename T>() { run.template operator()<T, T>(); });
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
