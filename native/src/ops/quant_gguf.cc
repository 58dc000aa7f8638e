#include "tessera/ops/quant_gguf.h"

#include "tessera/ops/common.h"

namespace tessera {

namespace {

struct Entry {
  GgmlType type;
  GgmlTypeTraits traits;
};

// Block sizes and byte sizes as in ggml's type traits (QK_K = 256).
constexpr Entry kBlockTypes[] = {
    {GgmlType::Q4_0, {"Q4_0", 32, 18}},   {GgmlType::Q4_1, {"Q4_1", 32, 20}},
    {GgmlType::Q5_0, {"Q5_0", 32, 22}},   {GgmlType::Q5_1, {"Q5_1", 32, 24}},
    {GgmlType::Q8_0, {"Q8_0", 32, 34}},   {GgmlType::Q2_K, {"Q2_K", 256, 84}},
    {GgmlType::Q3_K, {"Q3_K", 256, 110}}, {GgmlType::Q4_K, {"Q4_K", 256, 144}},
    {GgmlType::Q5_K, {"Q5_K", 256, 176}}, {GgmlType::Q6_K, {"Q6_K", 256, 210}},
    {GgmlType::Q8_K, {"Q8_K", 256, 292}},
};

const char* unsupported_name(uint32_t id) {
  switch (id) {
    case 9: return "Q8_1";
    case 16: return "IQ2_XXS";
    case 17: return "IQ2_XS";
    case 18: return "IQ3_XXS";
    case 19: return "IQ1_S";
    case 20: return "IQ4_NL";
    case 21: return "IQ3_S";
    case 22: return "IQ2_S";
    case 23: return "IQ4_XS";
    case 29: return "IQ1_M";
    case 34: return "TQ1_0";
    case 35: return "TQ2_0";
    case 39: return "MXFP4";
    default: return nullptr;
  }
}

}  // namespace

bool ggml_is_block_quantized(GgmlType t) {
  for (auto& e : kBlockTypes)
    if (e.type == t) return true;
  return false;
}

GgmlTypeTraits ggml_block_traits(uint32_t type_id) {
  for (auto& e : kBlockTypes)
    if (uint32_t(e.type) == type_id) return e.traits;
  if (const char* n = unsupported_name(type_id))
    op_error("ggufDequantize", std::string("ggml type ") + n + " is not supported yet");
  op_error("ggufDequantize", "ggml type " + std::to_string(type_id) + " is not a block-quantized type");
}

Array gguf_dequantize(const Array& blocks, uint32_t type_id, Dtype dtype) {
  GgmlTypeTraits tr = ggml_block_traits(type_id);
  if (blocks.dtype() != Dtype::UInt8)
    op_error("ggufDequantize", std::string("blocks must be uint8, got ") + dtype_name(blocks.dtype()));
  if (dtype != Dtype::Float32 && dtype != Dtype::Float16)
    op_error("ggufDequantize", std::string("output dtype must be float32 or float16, got ") + dtype_name(dtype));
  if (blocks.ndim() == 0) op_error("ggufDequantize", "blocks must have at least one dimension");
  Shape shape = blocks.shape();
  int64_t row_bytes = shape.back();
  if (row_bytes % tr.type_size != 0)
    op_error("ggufDequantize", "the last axis of " + shape_str(shape) + " (" + std::to_string(row_bytes) +
                                   " bytes) is not a whole number of " + tr.name + " blocks of " +
                                   std::to_string(tr.type_size) + " bytes");
  shape.back() = row_bytes / tr.type_size * tr.block_size;
  return Array(std::move(shape), dtype, std::make_shared<GgufDequantize>(GgmlType(type_id)), {blocks});
}

}  // namespace tessera
