// The Whisper model layer: definition, checkpoint layouts, loading.
export {
  Whisper, AudioEncoder, TextDecoder, ResidualAttentionBlock, MultiHeadAttention, DecoderCache,
  sinusoids, checkDimensions, DIMENSION_KEYS,
} from "./whisper.js";
export type {
  ModelDimensions, KeyValue, DecodeOptions, DecodeResult, AttentionOutput,
} from "./whisper.js";
export { sanitizeHf, sanitizeMlx, sanitizeGgml, dimsFromHfConfig } from "./sanitize.js";
export {
  b85decode, decodeAlignmentHeads, officialAlignmentHeads, officialModelName, defaultAlignmentHeads,
  checkAlignmentHeads,
} from "./alignment.js";
export type { AlignmentHeads } from "./alignment.js";
export { readMlxQuantization, dequantizeAffine, dequantizeMlxWeights } from "./quantized.js";
export type { MlxQuantization } from "./quantized.js";
export { COMPUTE_TYPES, loadWhisperModel } from "./load.js";
export type { LoadWhisperOptions, LoadedWhisperModel, TokenizerFiles, WhisperComputeType, WhisperLayout } from "./load.js";
