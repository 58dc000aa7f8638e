// GGUF block dequantization.
#pragma once
#include "tessera/array.h"
#include "tessera/primitives/quant_gguf.h"

namespace tessera {

// `blocks`: uint8 [..., row_bytes] holding whole blocks of ggml type `type_id` per row (as GGUF
// stores a tensor whose NumPy-order last axis is the block axis). Returns [..., row_elements] in
// `dtype` (float32 or float16).
Array gguf_dequantize(const Array& blocks, uint32_t type_id, Dtype dtype);

}  // namespace tessera
