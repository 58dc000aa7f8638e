// Affine quantization as MLX stores it, and matmuls over quantized weights (MLX affine, GGUF blocks).
#pragma once
#include "tessera/array.h"
#include "tessera/primitives/quant.h"

namespace tessera {

// Throws naming `op` unless bits is 2, 3, 4, 5, 6 or 8 and group_size 32, 64 or 128.
void check_quant_params(const char* op, int group_size, int bits);

// w (float32/float16/bfloat16, at least 2-D, last axis a multiple of group_size) ->
// one of weight (uint32 [..., K * bits / 32]), scales or biases ([..., K / group_size], w's dtype).
Array affine_quantize(const Array& w, int group_size, int bits, QuantPart part);

// The inverse: [..., Kp * 32 / bits] in the scales' dtype.
Array affine_dequantize(const Array& w, const Array& scales, const Array& biases, int group_size, int bits);

// x [..., K] times the dequantized w: transpose (MLX's linear layers) w [N, K * bits / 32], scales and
// biases [N, K / group_size] -> [..., N]; otherwise w [K, N * bits / 32], scales [K, N / group_size].
// The result has the promoted dtype of x and scales.
Array quantized_matmul(const Array& x, const Array& w, const Array& scales, const Array& biases, bool transpose,
                       int group_size, int bits);

// x [..., K] @ W^T with W [N, K] as ggml blocks of `type_id` (uint8 [N, K / block * type_size]) -> [..., N]
// in x's dtype.
Array gguf_matmul(const Array& x, const Array& blocks, uint32_t type_id);

}  // namespace tessera
