// Elementwise ops: unary math, binary arithmetic and comparisons (NumPy broadcasting), where, casts.
#pragma once
#include "tessera/array.h"
#include "tessera/primitives/elementwise.h"

namespace tessera {

Array unary(UnaryOp op, const Array& a);
Array binary(BinaryOp op, const Array& a, const Array& b);
Array where(const Array& cond, const Array& a, const Array& b);
Array astype(const Array& a, Dtype dtype);
// A scalar array of `dtype` holding `value` (0-d).
Array scalar(double value, Dtype dtype);
// Full array of `shape` filled with `value`.
Array full(const Shape& shape, double value, Dtype dtype);
Array clip(const Array& a, const Array& lo, const Array& hi);

}  // namespace tessera
