// Word-level timestamps from the cross-attention of the alignment heads, as openai-whisper's
// whisper/timing.py: find_alignment (DTW over the filtered attention), merge_punctuations and
// add_word_timestamps with its duration heuristics. The numeric pieces are in dtw.ts.
import { Tensor, index, softmax, takeAlongAxis, tensor, tidy } from "@tessera/core";
import { dtwCpu, medianFilterRows, round2 } from "./dtw.js";
import type { Whisper } from "./model/whisper.js";
import type { WhisperTokenizer } from "./tokenizer.js";
import type { Segment, Word } from "./types.js";

export { dtw, dtwCpu, medianFilter, medianFilterRows } from "./dtw.js";
export type { DtwPath } from "./dtw.js";

const HOP_LENGTH = 160;
const SAMPLE_RATE = 16000;
/** Audio positions per second (openai's TOKENS_PER_SECOND: 20 ms each). */
const TOKENS_PER_SECOND = SAMPLE_RATE / HOP_LENGTH / 2;

export const DEFAULT_PREPEND_PUNCTUATIONS = "\"'“¿([{-";
export const DEFAULT_APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、";

/** One word of an alignment: its text, tokens, span in seconds within the window, mean token probability. */
export interface WordTiming {
  word: string;
  tokens: number[];
  start: number;
  end: number;
  probability: number;
}

/** [decoder layer, head] pairs. */
type Heads = readonly (readonly [number, number])[];

export interface FindAlignmentOptions {
  /** The cross-attention heads to align with (the loader's `alignmentHeads`). */
  alignmentHeads: Heads;
  /** Median filter width over frames (default 7). */
  medfiltWidth?: number;
  /** Scale of the attention logits before the softmax over the kept frames (default 1). */
  qkScale?: number;
}

// Python's str.strip() whitespace (str.isspace), which differs a little from JS's trim().
const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");
const pyStrip = (s: string) => s.replace(STRIP, "");

function checkHeads(heads: Heads, model: Whisper): void {
  const d = model.dims;
  if (!Array.isArray(heads) || heads.length === 0)
    throw new Error("findAlignment: alignmentHeads must be a non-empty list of [layer, head] pairs");
  for (const p of heads)
    if (!Array.isArray(p) || p.length !== 2 || !Number.isInteger(p[0]) || !Number.isInteger(p[1]) ||
        p[0] < 0 || p[0] >= d.n_text_layer || p[1] < 0 || p[1] >= d.n_text_head)
      throw new Error(`findAlignment: alignment head ${JSON.stringify(p)} is not a [layer, head] pair within ${d.n_text_layer} layers and ${d.n_text_head} heads`);
}

/**
 * openai-whisper's `find_alignment`: decodes [...sotSequence, noTimestamps, ...textTokens, eot] once
 * on the window's audio features [1, n_audio_ctx, n_audio_state], takes the alignment heads' cross-
 * attention over the first numFrames / 2 positions (renormalized: the softmax of the cropped logits),
 * standardizes it over tokens, median-filters it over frames, averages the heads and aligns tokens to
 * frames by DTW. Words are the tokenizer's splitToWordTokens; each word's probability is the mean of
 * its tokens' probabilities (softmax over the text vocabulary, before eot).
 */
export async function findAlignment(
  model: Whisper, tokenizer: WhisperTokenizer, textTokens: readonly number[], audioFeatures: Tensor,
  numFrames: number, options: FindAlignmentOptions,
): Promise<WordTiming[]> {
  const d = model.dims;
  checkHeads(options.alignmentHeads, model);
  if (!Number.isInteger(numFrames) || numFrames < 2)
    throw new Error(`findAlignment: numFrames must be an integer of at least 2 (mel frames of the window), got ${String(numFrames)}`);
  const medfiltWidth = options.medfiltWidth ?? 7;
  const qkScale = options.qkScale ?? 1;
  if (!(Number.isFinite(qkScale) && qkScale > 0)) throw new Error(`findAlignment: qkScale must be a positive number, got ${String(qkScale)}`);
  const eot = tokenizer.eot;
  for (const t of textTokens)
    if (!Number.isInteger(t) || t < 0 || t >= eot)
      throw new Error(`findAlignment: text tokens must be integers from 0 to ${eot - 1} (below <|endoftext|>), got ${String(t)}`);
  if (textTokens.length === 0) return [];
  const sot = tokenizer.sotSequence;
  const tokens = [...sot, tokenizer.noTimestamps, ...textTokens, eot];
  if (tokens.length > d.n_text_ctx)
    throw new Error(`findAlignment: ${tokens.length} tokens (with the start sequence) exceed the text context of ${d.n_text_ctx}`);
  if (audioFeatures.ndim !== 3 || audioFeatures.shape[0] !== 1 || audioFeatures.shape[1] !== d.n_audio_ctx || audioFeatures.shape[2] !== d.n_audio_state)
    throw new Error(`findAlignment: audioFeatures must be [1, ${d.n_audio_ctx}, ${d.n_audio_state}], got [${audioFeatures.shape.join(", ")}]`);

  const nText = textTokens.length;
  const [probsT, attnT] = tidy(() => {
    const r = model.decode([tokens], audioFeatures, { alignmentHeads: options.alignmentHeads });
    const sampled = index(r.logits, 0, [sot.length, sot.length + nText], [0, eot]);
    const probs = takeAlongAxis(softmax(sampled, -1), tensor(textTokens.map((t) => [t]), { dtype: "int32" }), 1);
    return [probs, r.crossAttention as Tensor];
  });
  const textTokenProbs = Float32Array.from((await probsT.data()) as Float32Array);
  const attn = (await attnT.data()) as Float32Array;
  probsT.dispose();
  attnT.dispose();

  // heads x tokens x frames: crop, renormalize each row (the softmax of the cropped, scaled logits).
  const H = options.alignmentHeads.length, L = tokens.length, A = d.n_audio_ctx;
  const F = Math.min(Math.floor(numFrames / 2), A);
  const w = new Float32Array(H * L * F);
  for (let r = 0; r < H * L; r++) {
    let sum = 0;
    for (let f = 0; f < F; f++) {
      const p = qkScale === 1 ? attn[r * A + f] : attn[r * A + f] ** qkScale;
      w[r * F + f] = p;
      sum += p;
    }
    for (let f = 0; f < F; f++) w[r * F + f] /= sum;
  }
  // Standardize over tokens (population std), per head and frame.
  for (let h = 0; h < H; h++) {
    for (let f = 0; f < F; f++) {
      let mean = 0;
      for (let t = 0; t < L; t++) mean += w[(h * L + t) * F + f];
      mean /= L;
      let v = 0;
      for (let t = 0; t < L; t++) v += (w[(h * L + t) * F + f] - mean) ** 2;
      const std = Math.fround(Math.sqrt(v / L));
      const m = Math.fround(mean);
      for (let t = 0; t < L; t++) w[(h * L + t) * F + f] = Math.fround(w[(h * L + t) * F + f] - m) / std;
    }
  }
  const filtered = medianFilterRows(w, F, medfiltWidth);
  // Mean over heads, rows of the no-timestamps token and the text tokens (not eot), negated for DTW.
  const N = nText + 1;
  const cost = new Float64Array(N * F);
  for (let t = 0; t < N; t++) {
    for (let f = 0; f < F; f++) {
      let s = 0;
      for (let h = 0; h < H; h++) s += filtered[(h * L + sot.length + t) * F + f];
      cost[t * F + f] = -Math.fround(s / H);
    }
  }
  const { textIndices, timeIndices } = dtwCpu(cost, N, F);

  const { words, wordTokens } = tokenizer.splitToWordTokens([...textTokens, eot]);
  if (wordTokens.length <= 1) return [];
  const boundaries = [0];
  for (const wt of wordTokens.slice(0, -1)) boundaries.push(boundaries[boundaries.length - 1] + wt.length);
  const jumpTimes: number[] = [];
  textIndices.forEach((ti, k) => {
    if (k === 0 || ti !== textIndices[k - 1]) jumpTimes.push(timeIndices[k] / TOKENS_PER_SECOND);
  });
  const out: WordTiming[] = [];
  for (let k = 0; k + 1 < boundaries.length; k++) {
    const [i, j] = [boundaries[k], boundaries[k + 1]];
    let p = 0;
    for (let q = i; q < j; q++) p += textTokenProbs[q];
    out.push({ word: words[k], tokens: [...wordTokens[k]], start: jumpTimes[i], end: jumpTimes[j], probability: p / (j - i) });
  }
  return out;
}

/**
 * openai-whisper's `merge_punctuations` (in place): a word that is prepended punctuation (with its
 * leading space) joins the word after it; appended punctuation joins the word before it. Merged-away
 * entries are left with an empty word and no tokens. Membership is Python's substring test.
 */
export function mergePunctuations(alignment: WordTiming[], prepended: string, appended: string): void {
  let i = alignment.length - 2;
  let j = alignment.length - 1;
  while (i >= 0) {
    const previous = alignment[i], following = alignment[j];
    if (previous.word.startsWith(" ") && prepended.includes(pyStrip(previous.word))) {
      following.word = previous.word + following.word;
      following.tokens = [...previous.tokens, ...following.tokens];
      previous.word = "";
      previous.tokens = [];
    } else {
      j = i;
    }
    i--;
  }
  i = 0;
  j = 1;
  while (j < alignment.length) {
    const previous = alignment[i], following = alignment[j];
    if (!previous.word.endsWith(" ") && appended.includes(following.word)) {
      previous.word = previous.word + following.word;
      previous.tokens = [...previous.tokens, ...following.tokens];
      following.word = "";
      following.tokens = [];
    } else {
      i = j;
    }
    j++;
  }
}

export interface AddWordTimestampsOptions {
  /** The segments of one window (mutated: `words`, `start`, `end`). */
  segments: Segment[];
  model: Whisper;
  tokenizer: WhisperTokenizer;
  /** The window's audio features [1, n_audio_ctx, n_audio_state]. */
  audioFeatures: Tensor;
  /** Mel frames of the window that hold audio (openai's segment_size). */
  numFrames: number;
  alignmentHeads: Heads;
  prependPunctuations?: string;
  appendPunctuations?: string;
  /** End of the last word of earlier windows, in seconds. */
  lastSpeechTimestamp: number;
  medfiltWidth?: number;
  qkScale?: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * openai-whisper's `add_word_timestamps`: aligns the text tokens of all the window's segments at once,
 * truncates long words at sentence ends, merges punctuation, then gives each segment its words
 * (times rounded to 10 ms, offset by the window's seek) and adjusts the first and last word of each
 * segment (or the segment's own start/end) by the median word duration.
 *
 * Returns the last speech timestamp as openai's function keeps it internally: the (adjusted) end of
 * the last segment that got words, or `lastSpeechTimestamp` when none did. (openai's transcribe()
 * instead takes the next one from the last word's end: get_end(segments).)
 */
export async function addWordTimestamps(options: AddWordTimestampsOptions): Promise<number> {
  const { segments, model, tokenizer } = options;
  let lastSpeechTimestamp = options.lastSpeechTimestamp;
  if (typeof lastSpeechTimestamp !== "number" || Number.isNaN(lastSpeechTimestamp))
    throw new Error(`addWordTimestamps: lastSpeechTimestamp must be a number (seconds), got ${String(lastSpeechTimestamp)}`);
  if (!Array.isArray(segments)) throw new Error("addWordTimestamps: segments must be an array");
  if (segments.length === 0) return lastSpeechTimestamp;
  const prepended = options.prependPunctuations ?? DEFAULT_PREPEND_PUNCTUATIONS;
  const appended = options.appendPunctuations ?? DEFAULT_APPEND_PUNCTUATIONS;

  const textTokensPerSegment = segments.map((s) => s.tokens.filter((t) => t < tokenizer.eot));
  const textTokens = textTokensPerSegment.flat();
  const alignment = await findAlignment(model, tokenizer, textTokens, options.audioFeatures, options.numFrames, {
    alignmentHeads: options.alignmentHeads, medfiltWidth: options.medfiltWidth, qkScale: options.qkScale,
  });
  const durations = alignment.map((t) => t.end - t.start).filter((x) => x !== 0);
  const medianDuration = Math.min(0.7, durations.length ? median(durations) : 0);
  const maxDuration = medianDuration * 2;

  // Truncate long words at sentence boundaries (openai's hack until a VAD-based segmentation).
  if (durations.length) {
    const sentenceEndMarks = ".。!！?？";
    for (let i = 1; i < alignment.length; i++) {
      if (alignment[i].end - alignment[i].start > maxDuration) {
        if (sentenceEndMarks.includes(alignment[i].word)) alignment[i].end = alignment[i].start + maxDuration;
        else if (sentenceEndMarks.includes(alignment[i - 1].word)) alignment[i].start = alignment[i].end - maxDuration;
      }
    }
  }
  mergePunctuations(alignment, prepended, appended);

  const timeOffset = (segments[0].seek * HOP_LENGTH) / SAMPLE_RATE;
  let wordIndex = 0;
  segments.forEach((segment, s) => {
    const text = textTokensPerSegment[s];
    let savedTokens = 0;
    const words: Word[] = [];
    while (wordIndex < alignment.length && savedTokens < text.length) {
      const timing = alignment[wordIndex];
      if (timing.word)
        words.push({ word: timing.word, start: round2(timeOffset + timing.start), end: round2(timeOffset + timing.end), probability: timing.probability });
      savedTokens += timing.tokens.length;
      wordIndex++;
    }
    if (words.length > 0) {
      const first = words[0], last = words[words.length - 1];
      // The first (and second) word after a pause should not be longer than twice the median.
      if (first.end - lastSpeechTimestamp > medianDuration * 4 &&
          (first.end - first.start > maxDuration || (words.length > 1 && words[1].end - first.start > maxDuration * 2))) {
        if (words.length > 1 && words[1].end - words[1].start > maxDuration) {
          const boundary = Math.max(words[1].end / 2, words[1].end - maxDuration);
          first.end = words[1].start = boundary;
        }
        first.start = Math.max(0, first.end - maxDuration);
      }
      // Prefer the segment's start when the first word is too long.
      if (segment.start < first.end && segment.start - 0.5 > first.start)
        first.start = Math.max(0, Math.min(first.end - medianDuration, segment.start));
      else segment.start = first.start;
      // Prefer the segment's end when the last word is too long.
      if (segment.end > last.start && segment.end + 0.5 < last.end)
        last.end = Math.max(last.start + medianDuration, segment.end);
      else segment.end = last.end;
      lastSpeechTimestamp = segment.end;
    }
    segment.words = words;
  });
  return lastSpeechTimestamp;
}
