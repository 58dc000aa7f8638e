// @tessera/lm: LLM text generation on Tessera (see issue "@tessera/lm").

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
export type { Sampler, Sample, TokenLogprob } from "./sample/sampler.js";
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
