// quant: MLX affine quantization (quantize, dequantize, quantizedMatmul), matmuls over GGUF blocks,
// and reading the `quantization` block of an mlx-community config.json.
export { quantize, dequantize, quantizedMatmul, quantParams, QUANT_BITS, GROUP_SIZES } from "./affine.js";
export type { QuantizeOptions, QuantizedMatmulOptions, QuantizedWeight } from "./affine.js";
export { ggufMatmul, quantizeGgml, GGUF_MATMUL_TYPES, GGUF_QUANTIZE_TYPES } from "./gguf.js";
export { readQuantizationConfig, quantizationFor } from "./config.js";
export type { QuantizationConfig, LayerQuantization } from "./config.js";
