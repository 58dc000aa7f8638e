// @tessera/lm: LLM text generation on Tessera (see issue "@tessera/lm").

// Models, KV caches, generation, loading (folders and GGUF files).
export { KVCache, RotatingKVCache } from "./cache.js";
export { QuantizedKVCache } from "./quantized_cache.js";
export type { CacheView, KVCacheOptions, LayerCache } from "./cache.js";
export { generateTokens } from "./generate.js";
export type { FinishReason, GenerateTokensOptions, GenerateTokensResult, Sampler as GenerateSampler, TokenChoice } from "./generate.js";
export { buildModel, loadModelFromFolder } from "./load.js";
export type { BuildModelOptions, LoadModelOptions, LoadedModel } from "./load.js";
export { SUPPORTED_MODEL_TYPES, modelFromConfig } from "./models/registry.js";
export type { Config, ForwardOptions, LanguageModel } from "./models/base.js";
export { GGUF_ARCHITECTURES, loadModelFromGguf, readGgufCheckpoint } from "./gguf/index.js";
export type { GgufCheckpoint, LoadedGguf } from "./gguf/index.js";
export { readAdapter } from "./lora/adapter.js";
export type { Adapter, AdapterLayer } from "./lora/adapter.js";
export { applyAdapters } from "./lora/apply.js";
export { ConfigReader, mergeHeads, splitHeads, windowMask } from "./models/base.js";
export { RMSNorm as GemmaRMSNorm } from "./models/gemma3_text.js";

// Tokenizers, streaming detokenization, chat templates.
export { Tokenizer } from "./tokenizer/tokenizer.js";
export type { EncodeOptions, DecodeOptions } from "./tokenizer/tokenizer.js";
export { readTokenizerFolder, specialTokenContent } from "./tokenizer/config.js";
export type {
  AddedTokenJson,
  TokenizerJson,
  TokenizerConfigJson,
  GenerationConfigJson,
  TokenizerFiles,
  SpecialTokenValue,
  NamedChatTemplate,
} from "./tokenizer/config.js";
export { StreamingDetokenizer } from "./tokenizer/detokenize.js";
export { ChatTemplate, validateMessages } from "./tokenizer/template.js";
export type { ChatMessage, ChatTool, ToolCall, TextPart, MediaPart, RenderOptions, TemplateTokens } from "./tokenizer/template.js";

// Sampling and stop strings.
export { makeSampler, logSumExp, topN } from "./sample/sampler.js";
// (generate.ts's Sampler is the generation hook; lm-text's sampler type keeps its own name here.)
export type { Sampler as TextSampler, Sample, TokenLogprob } from "./sample/sampler.js";
export { resolveSamplingOptions } from "./sample/options.js";
export type { SamplingOptions, ResolvedSamplingOptions } from "./sample/options.js";
export { candidates, applyBiasAndPenalties } from "./sample/processors.js";
export type { Candidates } from "./sample/processors.js";
export { StopMatcher } from "./sample/stop.js";
export type { StopResult } from "./sample/stop.js";
export { Prng } from "./sample/prng.js";

// JSON-schema constrained decoding.
export { compileJsonSchema } from "./grammar/schema.js";
export type { JsonSchema, ValueNode, PropertyNode } from "./grammar/schema.js";
export { JsonConstraint, TokenVocabulary } from "./grammar/constraint.js";

// The user-facing API: loadLm (generate / stream / chat), prompt caches, the text-generation driver.
export { loadLm, PromptCache } from "./lm.js";
export type { Lm, LmGenerateOptions, LoadLmOptions, Prompt } from "./lm.js";
export { checkGenerateOptions, drainText, streamText } from "./text.js";
export type { GenerateOptions, GenerateResult, ResponseFormat, TextChunk, TextGeneration, TokenLogprobInfo } from "./text.js";

// The OpenAI-compatible server.
export { createServer } from "./server/server.js";
export type { ServerOptions } from "./server/server.js";
export { servedLm } from "./server/model.js";
export type { ServedModel, ServedPrompt } from "./server/model.js";
export { RequestError } from "./server/errors.js";
export { JobQueue } from "./server/queue.js";
export { runCli } from "./cli.js";
// The pieces the `vlm` command shares.
export { UsageError as CliUsageError, canonicalArgs, generateOptions as cliGenerateOptions, samplingOptions as cliSamplingOptions, speed as cliSpeedReport } from "./cli.js";
export type { SamplingFlags as CliSamplingFlags } from "./cli.js";
export type { CliDeps, CliStream } from "./cli.js";
