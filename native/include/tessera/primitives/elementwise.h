// Elementwise primitives. Each op is an enum value inside one primitive per arity, so the compile
// fuser can run chains of them over a tile without materializing intermediates.
#pragma once
#include "tessera/primitives.h"

namespace tessera {

enum class UnaryOp {
  Abs, Neg, Sign, Square, Exp, Log, Log1p, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Erf,
  GeluExact, GeluTanh, Silu, Relu, Softplus, Round, Floor, Ceil, Reciprocal, LogicalNot,
};
enum class BinaryOp {
  Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Maximum, Minimum,
  Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual, LogicalAnd, LogicalOr,
};
const char* unary_op_name(UnaryOp op);
const char* binary_op_name(BinaryOp op);
bool is_comparison(BinaryOp op);  // produces bool

// Float-only math: integer inputs are promoted to float32 by the op builder.
bool unary_needs_float(UnaryOp op);

class Unary : public Primitive {
 public:
  explicit Unary(UnaryOp op) : op_(op) {}
  const char* name() const override { return unary_op_name(op_); }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
  UnaryOp op() const { return op_; }

 private:
  UnaryOp op_;
};

// Inputs share the output's dtype (the builder casts); broadcasting is by strides.
class Binary : public Primitive {
 public:
  explicit Binary(BinaryOp op) : op_(op) {}
  const char* name() const override { return binary_op_name(op_); }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
  BinaryOp op() const { return op_; }

 private:
  BinaryOp op_;
};

class Where : public Primitive {
 public:
  const char* name() const override { return "Where"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
};

class AsType : public Primitive {
 public:
  const char* name() const override { return "AsType"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
};

// A constant fill (scalars, zeros, ones, full).
class Full : public Primitive {
 public:
  explicit Full(double value) : value_(value) {}
  const char* name() const override { return "Full"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
  double value() const { return value_; }

 private:
  double value_;
};

}  // namespace tessera
