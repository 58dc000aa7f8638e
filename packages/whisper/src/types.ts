// The shapes decoding, word timing, transcribe() and the writers share (openai-whisper's, in camelCase).
import type { Tensor } from "@tessera/core";
import type { Task } from "./tokenizer.js";

/** How to decode one 30-second window (openai-whisper's `DecodingOptions`). */
export interface DecodingOptions {
  /** "transcribe" (default) or "translate" (to English). */
  task?: Task;
  /** Language code or name; undefined: detected from the audio (multilingual models). */
  language?: string;
  /** 0 (default): greedy, or beam search when `beamSize` is set; above 0: sampling, `bestOf` candidates. */
  temperature?: number;
  /** Most tokens to sample (default: half the text context, 224). */
  sampleLen?: number;
  /** Independent samples to draw when temperature > 0 (default 1). */
  bestOf?: number;
  /** Beams for beam search when temperature is 0 (default: greedy). */
  beamSize?: number;
  /** Beam search patience (default 1.0): finished candidates to collect = round(beamSize * patience). */
  patience?: number;
  /** Length penalty alpha for ranking candidates; undefined: plain length normalization. */
  lengthPenalty?: number;
  /** Previous text as context (after <|startofprev|>): text, or token ids. */
  prompt?: string | readonly number[];
  /** Forced start of the current window's text: text, or token ids. */
  prefix?: string | readonly number[];
  /** Token ids to suppress, or a comma-separated list; "-1" (default) means the non-speech symbols. */
  suppressTokens?: string | readonly number[];
  /** Suppress blank outputs at the start of sampling (default true). */
  suppressBlank?: boolean;
  /** Decode text only (<|notimestamps|>). */
  withoutTimestamps?: boolean;
  /** Latest allowed first timestamp in seconds (default 1.0); null: no limit. */
  maxInitialTimestamp?: number | null;
  /** Seed of the sampling random stream (temperature > 0), for reproducible runs. */
  seed?: number;
}

/** The outcome of decoding one window (openai-whisper's `DecodingResult`). */
export interface DecodingResult {
  /** Encoder output [n_audio_ctx, n_audio_state] this was decoded from. */
  audioFeatures: Tensor;
  language: string;
  /** Probability of every language code, when the language was detected. */
  languageProbs?: Record<string, number>;
  /** Sampled tokens (timestamps included), without the start sequence and end token. */
  tokens: number[];
  text: string;
  avgLogprob: number;
  noSpeechProb: number;
  temperature: number;
  compressionRatio: number;
}

/** A word with its time span in seconds and the mean probability of its tokens. */
export interface Word {
  word: string;
  start: number;
  end: number;
  probability: number;
}

/** A segment of transcript between two timestamp tokens. */
export interface Segment {
  id: number;
  /** Start of the 30-second window it was decoded from, in mel frames (10 ms). */
  seek: number;
  start: number;
  end: number;
  text: string;
  tokens: number[];
  temperature: number;
  avgLogprob: number;
  compressionRatio: number;
  noSpeechProb: number;
  /** Present when word timestamps were asked for. */
  words?: Word[];
}

/** What transcribe() returns (openai-whisper's result dict). */
export interface TranscribeResult {
  text: string;
  segments: Segment[];
  language: string;
}

/** Progress of a transcription, in seconds of audio. */
export interface TranscribeProgress {
  /** Audio processed so far. */
  processed: number;
  /** Audio length. */
  total: number;
}

/** transcribe()'s options: openai-whisper's `transcribe` arguments and decode options, in camelCase. */
export interface TranscribeOptions extends Omit<DecodingOptions, "temperature" | "prompt" | "withoutTimestamps"> {
  /** Temperatures to try in turn when a window fails the thresholds (default [0, 0.2, 0.4, 0.6, 0.8, 1]). */
  temperature?: number | readonly number[];
  /** Retry hotter when the text's gzip compression ratio is above this (default 2.4); null: never. */
  compressionRatioThreshold?: number | null;
  /** Retry hotter when the average log-probability is below this (default -1); null: never. */
  logprobThreshold?: number | null;
  /** A window is silent when noSpeechProb is above this and the log-probability below logprobThreshold (default 0.6). */
  noSpeechThreshold?: number | null;
  /** Give the previous window's text as the prompt of the next (default true). */
  conditionOnPreviousText?: boolean;
  /** Text to prompt the first window with (names, spelling, style). */
  initialPrompt?: string;
  /** Keep the initial prompt before the previous text in every window (default false). */
  carryInitialPrompt?: boolean;
  /** Find the start and end of every word (default false). */
  wordTimestamps?: boolean;
  /**
   * With word timestamps, move word times onto the speech in the audio: no word starts or ends in
   * silence, and a pause next to a boundary becomes the gap between the two words (default false:
   * openai-whisper's times, which run each word on from the previous one and come out early).
   * Options tune what counts as silence.
   */
  refineWordTimestamps?: boolean | { thresholdDb?: number; minGap?: number; reach?: number };
  /** Punctuation merged into the next word (default `"'“¿([{-`). */
  prependPunctuations?: string;
  /** Punctuation merged into the previous word (default `"'.。,，!！?？:：”)]}、`). */
  appendPunctuations?: string;
  /** Clips to transcribe: "start,end,start,end..." in seconds or the numbers; the last end may be left out (default "0"). */
  clipTimestamps?: string | readonly number[];
  /** With word timestamps, skip silent stretches longer than this many seconds around a likely hallucination. */
  hallucinationSilenceThreshold?: number;
  /** Called with each segment as it is decided. */
  onSegment?: (segment: Segment) => void;
  /** Called after each window. */
  onProgress?: (progress: TranscribeProgress) => void;
  /** Stops the transcription: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}
