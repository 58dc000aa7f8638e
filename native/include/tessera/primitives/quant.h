// MLX-style affine quantization (packed uint32 weights with per-group scales and biases) and the
// quantized matmuls that read packed weights directly (MLX affine and GGUF blocks).
#pragma once
#include <cstdint>

#include "tessera/primitives.h"
#include "tessera/primitives/quant_gguf.h"

namespace tessera {

// Which of the three results of affine quantization a node computes. Each part recomputes the
// group statistics (one pass over w), so a primitive keeps exactly one output.
enum class QuantPart : uint8_t { Weight, Scales, Biases };

// w [..., K] (float) -> weight uint32 [..., K * bits / 32] | scales, biases [..., K / group_size],
// computed exactly as MLX's CPU quantizer (same float operations, same packing).
class AffineQuantize : public Primitive {
 public:
  AffineQuantize(int group_size, int bits, QuantPart part) : group_size_(group_size), bits_(bits), part_(part) {}
  const char* name() const override { return "AffineQuantize"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int group_size_, bits_;
  QuantPart part_;
};

// (weight uint32 [..., Kp], scales, biases [..., K / group_size]) -> [..., K] in the scales' dtype:
// scale * q + bias with MLX's roundings (a product and a sum, each rounded to the output dtype).
class AffineDequantize : public Primitive {
 public:
  AffineDequantize(int group_size, int bits) : group_size_(group_size), bits_(bits) {}
  const char* name() const override { return "AffineDequantize"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int group_size_, bits_;
};

// x [..., K] @ W^T (transpose: w [N, K * bits / 32]) or x @ W (w [K, N * bits / 32]) with W the
// dequantized weight. x, scales and biases are any float dtype (scales and biases alike); the
// output dtype is fixed by the op builder; accumulation is float32.
class QuantizedMatmul : public Primitive {
 public:
  QuantizedMatmul(int group_size, int bits, bool transpose) : group_size_(group_size), bits_(bits), transpose_(transpose) {}
  const char* name() const override { return "QuantizedMatmul"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int group_size_, bits_;
  bool transpose_;
};

// x [..., K] (any float dtype) @ W^T with W [N, K] held as rows of ggml blocks (uint8 [N, row_bytes]).
class GgufMatmul : public Primitive {
 public:
  explicit GgufMatmul(GgmlType type) : type_(type) {}
  const char* name() const override { return "GgufMatmul"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  GgmlType type_;
};

}  // namespace tessera
