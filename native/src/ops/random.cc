#include "tessera/ops/random.h"

#include <cmath>

#include "tessera/ops/common.h"
#include "tessera/ops/elementwise.h"
#include "tessera/primitives/random.h"

namespace tessera {

namespace {

void check_key(const Array& key, const char* op) {
  if (key.dtype() != Dtype::UInt32 || key.shape() != Shape{2})
    op_error(op, std::string("key must be a uint32 array of shape [2] (from random.key or random.split), got ") +
                     dtype_name(key.dtype()) + " " + shape_str(key.shape()));
}

void check_shape(const Shape& shape, const char* op) {
  for (auto d : shape)
    if (d < 0) op_error(op, "negative dimension in shape " + shape_str(shape));
}

void check_float(Dtype dtype, const char* op) {
  if (!is_floating(dtype)) op_error(op, std::string("dtype must be floating (float32, float16, bfloat16), got ") + dtype_name(dtype));
}

}  // namespace

Array threefry2x32(const Array& key, const Array& counts) {
  check_key(key, "random.threefry2x32");
  if (counts.dtype() != Dtype::UInt32 || counts.ndim() == 0 || counts.shape().back() != 2)
    op_error("random.threefry2x32", std::string("counts must be a uint32 array of shape [..., 2], got ") +
                                        dtype_name(counts.dtype()) + " " + shape_str(counts.shape()));
  return Array(counts.shape(), Dtype::UInt32, std::make_shared<Threefry>(), {key, counts});
}

Array random_bits(const Shape& shape, const Array& key) {
  check_key(key, "random.bits");
  check_shape(shape, "random.bits");
  return Array(shape, Dtype::UInt32, std::make_shared<RandomBits>(), {key});
}

Array random_uniform(const Shape& shape, double low, double high, Dtype dtype, const Array& key) {
  const char* op = "random.uniform";
  check_key(key, op);
  check_shape(shape, op);
  check_float(dtype, op);
  if (!std::isfinite(low) || !std::isfinite(high) || !(low < high))
    op_error(op, "low and high must be finite with low < high, got low = " + std::to_string(low) + ", high = " + std::to_string(high));
  return Array(shape, dtype, std::make_shared<RandomUniform>(low, high), {key});
}

Array random_normal(const Shape& shape, double loc, double scale, Dtype dtype, const Array& key) {
  const char* op = "random.normal";
  check_key(key, op);
  check_shape(shape, op);
  check_float(dtype, op);
  if (!std::isfinite(loc) || !std::isfinite(scale) || scale < 0)
    op_error(op, "loc must be finite and scale finite and non-negative, got loc = " + std::to_string(loc) +
                     ", scale = " + std::to_string(scale));
  return Array(shape, dtype, std::make_shared<RandomNormal>(loc, scale), {key});
}

Array random_categorical(const Array& logits, int64_t axis, int64_t num_samples, const Array& key) {
  const char* op = "random.categorical";
  check_key(key, op);
  if (logits.ndim() == 0) op_error(op, "logits must have at least one dimension, got a scalar");
  int ax = normalize_axis(axis, logits.ndim(), op);
  if (logits.shape(ax) == 0) op_error(op, "logits have no classes: axis " + std::to_string(axis) + " of shape " + shape_str(logits.shape()) + " is empty");
  if (!is_floating(logits.dtype()))
    op_error(op, std::string("logits must be floating, got ") + dtype_name(logits.dtype()));
  Shape shape = logits.shape();
  shape.erase(shape.begin() + ax);
  if (num_samples >= 0) shape.push_back(num_samples);
  return Array(shape, Dtype::Int32, std::make_shared<RandomCategorical>(ax, num_samples),
               {astype(logits, Dtype::Float32), key});
}

}  // namespace tessera
