// @tessera/lm: LLM text generation on Tessera.
export { KVCache, RotatingKVCache } from "./cache.js";
export type { CacheView, KVCacheOptions, LayerCache } from "./cache.js";
export { generateTokens } from "./generate.js";
export type { FinishReason, GenerateTokensOptions, GenerateTokensResult, Sampler, TokenChoice } from "./generate.js";
export { buildModel, loadModelFromFolder } from "./load.js";
export type { BuildModelOptions, LoadModelOptions, LoadedModel } from "./load.js";
export { SUPPORTED_MODEL_TYPES, modelFromConfig } from "./models/registry.js";
export type { Config, ForwardOptions, LanguageModel } from "./models/base.js";
export { ConfigReader, mergeHeads, splitHeads, windowMask } from "./models/base.js";
export { RMSNorm as GemmaRMSNorm } from "./models/gemma3_text.js";
