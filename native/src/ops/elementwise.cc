#include "tessera/ops/elementwise.h"

#include "tessera/ops/common.h"
#include "tessera/ops/layout.h"

namespace tessera {

Array astype(const Array& a, Dtype dtype) {
  if (a.dtype() == dtype) return a;
  return Array(a.shape(), dtype, std::make_shared<AsType>(), {a});
}

Array scalar(double value, Dtype dtype) { return full({}, value, dtype); }

Array full(const Shape& shape, double value, Dtype dtype) {
  for (auto d : shape)
    if (d < 0) op_error("full", "negative dimension in shape " + shape_str(shape));
  return Array(shape, dtype, std::make_shared<Full>(value), {});
}

Array unary(UnaryOp op, const Array& a) {
  Dtype dt = a.dtype();
  if (unary_needs_float(op) && !is_floating(dt)) dt = Dtype::Float32;
  if (op == UnaryOp::LogicalNot) dt = Dtype::Bool;
  if (op == UnaryOp::Neg && dt == Dtype::Bool) op_error("neg", "cannot negate a bool array; use logicalNot");
  Array x = op == UnaryOp::LogicalNot ? a : astype(a, dt);
  return Array(a.shape(), dt, std::make_shared<Unary>(op), {x});
}

Array binary(BinaryOp op, const Array& a, const Array& b) {
  const char* name = binary_op_name(op);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Dtype dt = promote_types(a.dtype(), b.dtype());
  if (op == BinaryOp::Sub && dt == Dtype::Bool)
    op_error(name, "cannot subtract bool arrays; use notEqual (logical xor) or astype to an integer dtype first");
  if (op == BinaryOp::LogicalAnd || op == BinaryOp::LogicalOr) dt = Dtype::Bool;
  if (op == BinaryOp::Div && !is_floating(dt)) dt = Dtype::Float32;  // true division
  Dtype out_dt = is_comparison(op) ? Dtype::Bool : dt;
  return Array(shape, out_dt, std::make_shared<Binary>(op), {astype(a, dt), astype(b, dt)});
}

Array where(const Array& cond, const Array& a, const Array& b) {
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Dtype dt = promote_types(a.dtype(), b.dtype());
  return Array(shape, dt, std::make_shared<Where>(), {astype(cond, Dtype::Bool), astype(a, dt), astype(b, dt)});
}

Array clip(const Array& a, const Array& lo, const Array& hi) {
  return binary(BinaryOp::Minimum, binary(BinaryOp::Maximum, a, lo), hi);
}

}  // namespace tessera
