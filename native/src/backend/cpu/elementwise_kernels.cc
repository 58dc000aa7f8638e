// Scalar reference versions of the contiguous float32 kernels (the SIMD work replaces these).
#include "backend/cpu/elementwise_kernels.h"

#include <cmath>
#include <stdexcept>

namespace tessera::cpu {

void unary_f32(UnaryOp op, const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    switch (op) {
      case UnaryOp::Abs: out[i] = std::fabs(v); break;
      case UnaryOp::Neg: out[i] = -v; break;
      case UnaryOp::Sign: out[i] = float((0.f < v) - (v < 0.f)); break;
      case UnaryOp::Square: out[i] = v * v; break;
      case UnaryOp::Exp: out[i] = std::exp(v); break;
      case UnaryOp::Log: out[i] = std::log(v); break;
      case UnaryOp::Log1p: out[i] = std::log1p(v); break;
      case UnaryOp::Sqrt: out[i] = std::sqrt(v); break;
      case UnaryOp::Rsqrt: out[i] = 1.f / std::sqrt(v); break;
      case UnaryOp::Sin: out[i] = std::sin(v); break;
      case UnaryOp::Cos: out[i] = std::cos(v); break;
      case UnaryOp::Tanh: out[i] = std::tanh(v); break;
      case UnaryOp::Sigmoid: out[i] = 1.f / (1.f + std::exp(-v)); break;
      case UnaryOp::Erf: out[i] = std::erf(v); break;
      case UnaryOp::GeluExact: out[i] = 0.5f * v * (1.f + std::erf(v * 0.70710678118654752f)); break;
      case UnaryOp::GeluTanh: out[i] = 0.5f * v * (1.f + std::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v))); break;
      case UnaryOp::Silu: out[i] = v / (1.f + std::exp(-v)); break;
      case UnaryOp::Relu: out[i] = v > 0.f ? v : 0.f; break;
      case UnaryOp::Softplus: out[i] = v > 20.f ? v : std::log1p(std::exp(v)); break;
      case UnaryOp::Round: out[i] = std::nearbyint(v); break;
      case UnaryOp::Floor: out[i] = std::floor(v); break;
      case UnaryOp::Ceil: out[i] = std::ceil(v); break;
      case UnaryOp::Reciprocal: out[i] = 1.f / v; break;
      case UnaryOp::LogicalNot: out[i] = v == 0.f ? 1.f : 0.f; break;
    }
  }
}

void binary_f32(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float x = a[i * sa], y = b[i * sb], r = 0.f;
    switch (op) {
      case BinaryOp::Add: r = x + y; break;
      case BinaryOp::Sub: r = x - y; break;
      case BinaryOp::Mul: r = x * y; break;
      case BinaryOp::Div: r = x / y; break;
      case BinaryOp::FloorDiv: r = std::floor(x / y); break;
      case BinaryOp::Mod: { r = std::fmod(x, y); if (r != 0.f && ((r < 0.f) != (y < 0.f))) r += y; break; }
      case BinaryOp::Pow: r = std::pow(x, y); break;
      case BinaryOp::Maximum: r = (std::isnan(x) || std::isnan(y)) ? NAN : (x > y ? x : y); break;
      case BinaryOp::Minimum: r = (std::isnan(x) || std::isnan(y)) ? NAN : (x < y ? x : y); break;
      case BinaryOp::Equal: r = x == y; break;
      case BinaryOp::NotEqual: r = x != y; break;
      case BinaryOp::Less: r = x < y; break;
      case BinaryOp::LessEqual: r = x <= y; break;
      case BinaryOp::Greater: r = x > y; break;
      case BinaryOp::GreaterEqual: r = x >= y; break;
      case BinaryOp::LogicalAnd: r = (x != 0.f) && (y != 0.f); break;
      case BinaryOp::LogicalOr: r = (x != 0.f) || (y != 0.f); break;
    }
    out[i] = r;
  }
}

}  // namespace tessera::cpu
