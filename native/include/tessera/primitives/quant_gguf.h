// GGUF / ggml block-quantized types and the primitive that expands their blocks to floats.
#pragma once
#include <cstdint>

#include "tessera/primitives.h"

namespace tessera {

// ggml's type ids, as stored in GGUF tensor infos and whisper.cpp's legacy files.
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30,
};

struct GgmlTypeTraits {
  const char* name;
  int64_t block_size;  // elements per block
  int64_t type_size;   // bytes per block
};

// The block-quantized types this build can dequantize (the float types are plain dtypes).
bool ggml_is_block_quantized(GgmlType t);
// Traits of a supported block type; throws naming the id (and "not supported yet" for IQ types).
GgmlTypeTraits ggml_block_traits(uint32_t type_id);

// Expands rows of blocks ([..., row_bytes] uint8) to float32 or float16 ([..., row_elements]).
class GgufDequantize : public Primitive {
 public:
  explicit GgufDequantize(GgmlType type) : type_(type) {}
  const char* name() const override { return "GgufDequantize"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
  GgmlType type() const { return type_; }

 private:
  GgmlType type_;
};

}  // namespace tessera
