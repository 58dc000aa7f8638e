// @tessera/whisper: speech recognition with Whisper on @tessera/core.
export { SAMPLE_RATE, loadAudio, sniffFormat } from "./audio.js";
export type { AudioFormat, AudioInput, LoadAudioOptions } from "./audio.js";
export { downmix, resample } from "./resample.js";
export { findFfmpeg } from "./ffmpeg.js";
export { BpeEncoding } from "./bpe.js";
export { bytesToUnicode } from "@tessera/core";
export {
  LANGUAGES, TO_LANGUAGE_CODE, WhisperTokenizer, getTokenizer, languageCode, loadTokenizer, whisperSpecialTokens,
} from "./tokenizer.js";
export type { SpecialOptions, Task, TokenizerOptions, WordTokens } from "./tokenizer.js";
export { ASSETS_DIR } from "./assets.js";
export { CHUNK_LENGTH, HOP_LENGTH, N_FFT, N_FRAMES, N_SAMPLES, logMelFrames, logMelSpectrogram, melFilters, padOrTrim } from "./mel.js";
export type { LogMelOptions, MelBins, MelFrames } from "./mel.js";
export * from "./model/index.js";
export type {
  DecodingOptions, DecodingResult, Segment, TranscribeOptions, TranscribeProgress, TranscribeResult, Word,
} from "./types.js";
export { compressionRatio, decode, detectLanguage } from "./decoding/index.js";
export { OUTPUT_FORMATS, formatResult, formatTimestamp, getWriter, resultToJson, subtitleCues } from "./writers.js";
export type { OutputFormat, ResultWriter, WriterOptions } from "./writers.js";
export { DEFAULT_MODEL, MODEL_NAMES, loadWhisper, modelSource } from "./pipeline.js";
export type { LoadWhisperPipelineOptions, WhisperPipeline } from "./pipeline.js";
export { transcribe, transcribeSamples } from "./transcribe.js";
export type { TranscribeCallOptions } from "./transcribe.js";
export {
  DEFAULT_APPEND_PUNCTUATIONS, DEFAULT_PREPEND_PUNCTUATIONS, addWordTimestamps, dtw, findAlignment, medianFilter, mergePunctuations,
} from "./timing.js";
export type { AddWordTimestampsOptions, FindAlignmentOptions, WordTiming } from "./timing.js";
export { refineWordTimes, voicedFrames } from "./refine.js";
export type { RefineWordOptions } from "./refine.js";
