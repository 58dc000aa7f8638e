// nn: Module (a named tree of parameters) and the layers model code is built from, as MLX's mlx.nn.
export { Module } from "./module.js";
export type { ParameterTree, WeightMap, LoadWeightsOptions } from "./module.js";
export { Linear, Embedding, Conv1d, Conv2d } from "./layers.js";
export type { LinearOptions, ConvOptions } from "./layers.js";
export { LayerNorm, RMSNorm, GroupNorm } from "./norm.js";
export { Sequential } from "./sequential.js";
export type { UnaryLayer, SequentialLayer } from "./sequential.js";
export { GELU, SiLU, ReLU, Tanh, Sigmoid, gelu, geluApprox, geluFastApprox, silu, relu, tanh, sigmoid } from "./activations.js";
export type { GeluApprox } from "./activations.js";
export { QuantizedLinear, QuantizedEmbedding, quantize, quantizeFromConfig, type QuantizedLayerOptions, type QuantizePredicate, type QuantizeModelOptions } from "./quantized.js";
export { GgmlLinear, GgmlEmbedding, quantizeGgmlModel, useGgmlWeights } from "./ggml.js";
export type { QuantizeGgmlModelOptions } from "./ggml.js";
export { isLowRankTarget, checkLowRank, lowRankDelta, fuseLowRank, setLowRank, lowRankOf, weightShape, dequantizedWeight, fusedLinear } from "./lora.js";
export type { LowRankUpdate, LowRankTarget, LinearTarget } from "./lora.js";
