#include "tessera/ops/quant.h"

#include "tessera/ops/common.h"
#include "tessera/ops/quant_gguf.h"

namespace tessera {

namespace {

void check_float(const char* op, const char* what, const Array& a) {
  if (!is_floating(a.dtype()))
    op_error(op, std::string(what) + " must be float32, float16 or bfloat16, got " + dtype_name(a.dtype()));
}

// Checks scales and biases of a packed matrix w [rows, packed] holding `cols` values per row.
void check_scales(const char* op, const Array& w, const Array& scales, const Array& biases, int64_t cols,
                  int group_size, int bits) {
  check_float(op, "scales", scales);
  if (biases.dtype() != scales.dtype())
    op_error(op, std::string("scales and biases must have the same dtype, got ") + dtype_name(scales.dtype()) + " and " +
                     dtype_name(biases.dtype()));
  Shape expect = w.shape();
  expect.back() = cols / group_size;
  if (scales.shape() != expect || biases.shape() != expect)
    op_error(op, "scales " + shape_str(scales.shape()) + " and biases " + shape_str(biases.shape()) + " must have shape " +
                     shape_str(expect) + " for w " + shape_str(w.shape()) + " with bits=" + std::to_string(bits) +
                     " and group_size=" + std::to_string(group_size));
}

}  // namespace

void check_quant_params(const char* op, int group_size, int bits) {
  if (bits != 2 && bits != 3 && bits != 4 && bits != 5 && bits != 6 && bits != 8)
    op_error(op, "bits must be 2, 3, 4, 5, 6 or 8, got " + std::to_string(bits));
  if (group_size != 32 && group_size != 64 && group_size != 128)
    op_error(op, "group_size must be 32, 64 or 128, got " + std::to_string(group_size));
}

Array affine_quantize(const Array& w, int group_size, int bits, QuantPart part) {
  const char* op = "quantize";
  check_quant_params(op, group_size, bits);
  check_float(op, "w", w);
  if (w.ndim() < 2) op_error(op, "w must have at least 2 dimensions, got shape " + shape_str(w.shape()));
  int64_t k = w.shape().back();
  if (k % group_size != 0)
    op_error(op, "the last axis of w " + shape_str(w.shape()) + " (" + std::to_string(k) +
                     ") must be a multiple of group_size " + std::to_string(group_size));
  Shape shape = w.shape();
  Dtype dt = w.dtype();
  if (part == QuantPart::Weight) {
    shape.back() = k * bits / 32;
    dt = Dtype::UInt32;
  } else {
    shape.back() = k / group_size;
  }
  return Array(std::move(shape), dt, std::make_shared<AffineQuantize>(group_size, bits, part), {w});
}

Array affine_dequantize(const Array& w, const Array& scales, const Array& biases, int group_size, int bits) {
  const char* op = "dequantize";
  check_quant_params(op, group_size, bits);
  if (w.dtype() != Dtype::UInt32) op_error(op, std::string("w must be uint32 (packed), got ") + dtype_name(w.dtype()));
  if (w.ndim() < 1) op_error(op, "w must have at least 1 dimension");
  int64_t k = w.shape().back() * 32 / bits;
  if (k % group_size != 0)
    op_error(op, "w " + shape_str(w.shape()) + " packs " + std::to_string(k) + " values per row with bits=" +
                     std::to_string(bits) + ", not a multiple of group_size " + std::to_string(group_size));
  check_scales(op, w, scales, biases, k, group_size, bits);
  Shape shape = w.shape();
  shape.back() = k;
  return Array(std::move(shape), scales.dtype(), std::make_shared<AffineDequantize>(group_size, bits),
               {w, scales, biases});
}

Array quantized_matmul(const Array& x, const Array& w, const Array& scales, const Array& biases, bool transpose,
                       int group_size, int bits) {
  const char* op = "quantizedMatmul";
  check_quant_params(op, group_size, bits);
  check_float(op, "x", x);
  if (w.dtype() != Dtype::UInt32) op_error(op, std::string("w must be uint32 (packed), got ") + dtype_name(w.dtype()));
  if (w.ndim() != 2) op_error(op, "w must be 2-D (packed rows), got shape " + shape_str(w.shape()));
  if (x.ndim() < 1) op_error(op, "x must have at least 1 dimension");
  int64_t packed = w.shape(1) * 32 / bits;  // values per packed row
  if (packed % group_size != 0)
    op_error(op, "w " + shape_str(w.shape()) + " packs " + std::to_string(packed) + " values per row with bits=" +
                     std::to_string(bits) + ", not a multiple of group_size " + std::to_string(group_size));
  check_scales(op, w, scales, biases, packed, group_size, bits);
  int64_t k = transpose ? packed : w.shape(0);
  int64_t n = transpose ? w.shape(0) : packed;
  if (x.shape().back() != k)
    op_error(op, "x " + shape_str(x.shape()) + " has " + std::to_string(x.shape().back()) +
                     " features but w " + shape_str(w.shape()) + " (bits=" + std::to_string(bits) + ", transpose=" +
                     (transpose ? "true" : "false") + ") expects " + std::to_string(k));
  Shape shape = x.shape();
  shape.back() = n;
  return Array(std::move(shape), promote_types(x.dtype(), scales.dtype()),
               std::make_shared<QuantizedMatmul>(group_size, bits, transpose), {x, w, scales, biases});
}

Array gguf_matmul(const Array& x, const Array& blocks, uint32_t type_id) {
  const char* op = "ggufMatmul";
  GgmlTypeTraits tr = ggml_block_traits(type_id);
  check_float(op, "x", x);
  if (blocks.dtype() != Dtype::UInt8)
    op_error(op, std::string("blocks must be uint8, got ") + dtype_name(blocks.dtype()));
  if (blocks.ndim() != 2) op_error(op, "blocks must be 2-D [N, row_bytes], got shape " + shape_str(blocks.shape()));
  if (x.ndim() < 1) op_error(op, "x must have at least 1 dimension");
  int64_t row_bytes = blocks.shape(1);
  if (row_bytes % tr.type_size != 0)
    op_error(op, "rows of " + std::to_string(row_bytes) + " bytes (blocks " + shape_str(blocks.shape()) +
                     ") are not a whole number of " + tr.name + " blocks of " + std::to_string(tr.type_size) + " bytes");
  int64_t k = row_bytes / tr.type_size * tr.block_size;
  if (x.shape().back() != k)
    op_error(op, "x " + shape_str(x.shape()) + " has " + std::to_string(x.shape().back()) + " features but the " +
                     tr.name + " weight " + shape_str(blocks.shape()) + " holds rows of " + std::to_string(k));
  Shape shape = x.shape();
  shape.back() = blocks.shape(0);
  return Array(std::move(shape), x.dtype(), std::make_shared<GgufMatmul>(GgmlType(type_id)), {x, blocks});
}

}  // namespace tessera
