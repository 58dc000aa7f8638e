// transcribe(): openai-whisper's long-form loop. 30-second windows are decoded in turn, each seeking
// to where the last complete segment ended, with temperature fallback, no-speech skipping, the
// previous text as prompt, word timestamps and hallucination-silence skipping.
import { tensor } from "@tessera/core";
import type { Tensor } from "@tessera/core";
import { SAMPLE_RATE, loadAudio } from "./audio.js";
import type { AudioInput } from "./audio.js";
import { decode, detectLanguage } from "./decoding/index.js";
import { HOP_LENGTH, N_FRAMES, N_SAMPLES, logMelFrames } from "./mel.js";
import type { MelFrames } from "./mel.js";
import { loadWhisper } from "./pipeline.js";
import type { LoadWhisperPipelineOptions, WhisperPipeline } from "./pipeline.js";
import { refineWordTimes, voicedFrames } from "./refine.js";
import { DEFAULT_APPEND_PUNCTUATIONS, DEFAULT_PREPEND_PUNCTUATIONS, addWordTimestamps } from "./timing.js";
import { WhisperTokenizer, languageCode } from "./tokenizer.js";
import type { DecodingOptions, DecodingResult, Segment, TranscribeOptions, TranscribeResult, Word } from "./types.js";

const FRAMES_PER_SECOND = SAMPLE_RATE / HOP_LENGTH; // 100
const DEFAULT_TEMPERATURES = [0, 0.2, 0.4, 0.6, 0.8, 1];
// openai-whisper's `punctuation`: both default sets, for the anomaly score.
const PUNCTUATION = DEFAULT_PREPEND_PUNCTUATIONS + DEFAULT_APPEND_PUNCTUATIONS;

/** transcribe()'s options plus the model to use and how to load it. */
export interface TranscribeCallOptions extends TranscribeOptions {
  /** A loaded model (reused), or what {@link loadWhisper} takes (default "openai/whisper-base"). */
  model?: string | WhisperPipeline;
  /** How to load `model` when it is a name, repo id or path. */
  load?: LoadWhisperPipelineOptions;
}

/**
 * Transcribes (or translates) speech: a file path, an encoded file in a Buffer/Uint8Array, or
 * 16 kHz mono samples. Follows openai-whisper's `transcribe()`: the audio is cut into 30-second
 * windows decoded in turn, retrying at the next temperature when the text repeats too much
 * (compression ratio) or is improbable (log-probability), skipping windows the model deems silent,
 * and, with `wordTimestamps`, timing every word from cross-attention.
 */
export async function transcribe(audio: AudioInput, options: TranscribeCallOptions = {}): Promise<TranscribeResult> {
  options.signal?.throwIfAborted();
  const given = options.model;
  const pipeline = typeof given === "object" && given !== null ? given : await loadWhisper(given, options.load);
  const samples = await loadAudio(audio);
  return transcribeSamples(pipeline, samples, options);
}

function checkOptions(o: TranscribeOptions): number[] {
  const temperatures = typeof o.temperature === "number" ? [o.temperature] : [...(o.temperature ?? DEFAULT_TEMPERATURES)];
  if (temperatures.length === 0 || temperatures.some((t) => typeof t !== "number" || !Number.isFinite(t) || t < 0))
    throw new Error(`transcribe: temperature must be a non-negative number or a non-empty list of them, got ${JSON.stringify(o.temperature)}`);
  for (const key of ["compressionRatioThreshold", "logprobThreshold", "noSpeechThreshold", "hallucinationSilenceThreshold"] as const) {
    const v = o[key];
    if (v !== undefined && v !== null && (typeof v !== "number" || Number.isNaN(v)))
      throw new Error(`transcribe: ${key} must be a number, got ${JSON.stringify(v)}`);
  }
  return temperatures;
}

/** Seek clips [start, end) in mel frames from clipTimestamps, as openai-whisper reads them. */
function seekClips(clip: string | readonly number[] | undefined, contentFrames: number): [number, number][] {
  let seconds: number[];
  if (clip === undefined) seconds = [0];
  else if (typeof clip === "string") seconds = clip.trim() === "" ? [] : clip.split(",").map((s) => Number(s));
  else seconds = [...clip];
  if (seconds.some((s) => !Number.isFinite(s) || s < 0))
    throw new Error(`transcribe: clipTimestamps must be non-negative seconds ("start,end,start,end,..."), got ${JSON.stringify(clip)}`);
  const points = seconds.map((s) => Math.round(s * FRAMES_PER_SECOND));
  if (points.length === 0) points.push(0);
  if (points.length % 2 === 1) points.push(contentFrames);
  const clips: [number, number][] = [];
  for (let i = 0; i < points.length; i += 2) clips.push([points[i], points[i + 1]]);
  return clips;
}

/** Frames [start, start + count) of the spectrogram, zero-padded to a 30-second window [1, 3000, nMels]. */
function melWindow(mel: MelFrames, start: number, count: number): Tensor {
  const window = new Float32Array(N_FRAMES * mel.nMels);
  window.set(mel.data.subarray(start * mel.nMels, (start + count) * mel.nMels));
  return tensor(window, { shape: [1, N_FRAMES, mel.nMels] });
}

function wordAnomalyScore(word: Word): number {
  const duration = word.end - word.start;
  let score = 0;
  if (word.probability < 0.15) score += 1;
  if (duration < 0.133) score += (0.133 - duration) * 15;
  if (duration > 2) score += duration - 2;
  return score;
}

function isSegmentAnomaly(segment: Segment | undefined): boolean {
  if (!segment?.words?.length) return false;
  const words = segment.words.filter((w) => !PUNCTUATION.includes(w.word)).slice(0, 8);
  const score = words.reduce((s, w) => s + wordAnomalyScore(w), 0);
  return score >= 3 || score + 0.01 >= words.length;
}

const nextWordsSegment = (segments: Segment[]): Segment | undefined => segments.find((s) => s.words?.length);

function lastWordEnd(segments: Segment[]): number | undefined {
  for (let i = segments.length - 1; i >= 0; i--) {
    const words = segments[i].words;
    if (words?.length) return words[words.length - 1].end;
  }
  return undefined;
}

/** transcribe() on samples already loaded, with a loaded model. */
export async function transcribeSamples(pipeline: WhisperPipeline, samples: Float32Array, options: TranscribeOptions = {}): Promise<TranscribeResult> {
  const temperatures = checkOptions(options);
  const { model, dims, tokenizer: baseTokenizer } = pipeline;
  const signal = options.signal;
  const compressionRatioThreshold = options.compressionRatioThreshold === undefined ? 2.4 : options.compressionRatioThreshold;
  const logprobThreshold = options.logprobThreshold === undefined ? -1 : options.logprobThreshold;
  const noSpeechThreshold = options.noSpeechThreshold === undefined ? 0.6 : options.noSpeechThreshold;
  const conditionOnPreviousText = options.conditionOnPreviousText ?? true;
  const hallucinationThreshold = options.hallucinationSilenceThreshold;
  const task = options.task ?? "transcribe";
  if (task !== "transcribe" && task !== "translate") throw new Error(`transcribe: task must be "transcribe" or "translate", got ${JSON.stringify(task)}`);

  // Pad 30 s of silence at the end, for slicing (as openai-whisper).
  const mel = logMelFrames(samples, { padding: N_SAMPLES, filters: pipeline.filters });
  const contentFrames = mel.frames - N_FRAMES;
  const contentDuration = (contentFrames * HOP_LENGTH) / SAMPLE_RATE;
  const clips = seekClips(options.clipTimestamps, contentFrames);

  let language: string;
  if (options.language !== undefined && options.language !== null) language = languageCode(options.language);
  else if (!model.isMultilingual) language = "en";
  else {
    const { languageProbs } = await detectLanguage(model, baseTokenizer, melWindow(mel, 0, Math.min(N_FRAMES, mel.frames)));
    language = Object.entries(languageProbs[0]).reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  }
  const tokenizer = model.isMultilingual
    ? new WhisperTokenizer(baseTokenizer.encoding, baseTokenizer.numLanguages, language, task)
    : new WhisperTokenizer(baseTokenizer.encoding, baseTokenizer.numLanguages);

  const decodeOptions: DecodingOptions = {
    task, language, sampleLen: options.sampleLen, bestOf: options.bestOf, beamSize: options.beamSize,
    patience: options.patience, lengthPenalty: options.lengthPenalty, prefix: options.prefix,
    suppressTokens: options.suppressTokens, suppressBlank: options.suppressBlank,
    maxInitialTimestamp: options.maxInitialTimestamp,
  };
  let windowIndex = 0;
  const decodeWithFallback = async (features: Tensor, prompt: number[]): Promise<DecodingResult> => {
    let result: DecodingResult | undefined;
    for (const [i, t] of temperatures.entries()) {
      const o: DecodingOptions = { ...decodeOptions, prompt, temperature: t, seed: (options.seed ?? 0) + windowIndex * 1009 + i };
      if (t > 0) {
        o.beamSize = undefined;
        o.patience = undefined;
      } else o.bestOf = undefined;
      result = (await decode(model, tokenizer, features, o))[0];
      let needsFallback = false;
      if (compressionRatioThreshold !== null && result.compressionRatio > compressionRatioThreshold) needsFallback = true;
      if (logprobThreshold !== null && result.avgLogprob < logprobThreshold) needsFallback = true;
      if (noSpeechThreshold !== null && result.noSpeechProb > noSpeechThreshold && logprobThreshold !== null && result.avgLogprob < logprobThreshold)
        needsFallback = false; // silence
      if (!needsFallback) break;
    }
    return result as DecodingResult;
  };

  const inputStride = N_FRAMES / dims.n_audio_ctx; // mel frames per output token: 2
  const timePrecision = (inputStride * HOP_LENGTH) / SAMPLE_RATE; // 0.02 s per timestamp token
  const allTokens: number[] = [];
  const allSegments: Segment[] = [];
  let promptResetSince = 0;
  let remainingPromptLength = Math.floor(dims.n_text_ctx / 2) - 1;
  let initialPromptTokens: number[] = [];
  if (options.initialPrompt !== undefined) {
    initialPromptTokens = tokenizer.encode(" " + options.initialPrompt.trim());
    allTokens.push(...initialPromptTokens);
    remainingPromptLength -= initialPromptTokens.length;
  }

  let clipIdx = 0;
  let seek = clips[0][0];
  let lastSpeechTimestamp = 0;
  while (clipIdx < clips.length) {
    signal?.throwIfAborted();
    const [clipStart, clipEnd] = clips[clipIdx];
    if (seek < clipStart) seek = clipStart;
    if (seek >= clipEnd) {
      clipIdx++;
      if (clipIdx < clips.length) seek = clips[clipIdx][0];
      continue;
    }
    const timeOffset = (seek * HOP_LENGTH) / SAMPLE_RATE;
    const windowEndTime = ((seek + N_FRAMES) * HOP_LENGTH) / SAMPLE_RATE;
    const segmentSize = Math.min(N_FRAMES, contentFrames - seek, clipEnd - seek);
    const segmentDuration = (segmentSize * HOP_LENGTH) / SAMPLE_RATE;
    const features = model.embedAudio(melWindow(mel, seek, segmentSize));

    let prompt: number[];
    if (options.carryInitialPrompt) {
      const ignored = Math.max(initialPromptTokens.length, promptResetSince);
      const rest = allTokens.slice(ignored);
      prompt = [...initialPromptTokens, ...(remainingPromptLength > 0 ? rest.slice(-remainingPromptLength) : [])];
    } else prompt = allTokens.slice(promptResetSince);

    const result = await decodeWithFallback(features, prompt);
    windowIndex++;
    const tokens = result.tokens;
    const previousSeek = seek;
    const reportProgress = () =>
      options.onProgress?.({ processed: (Math.min(contentFrames, seek) * HOP_LENGTH) / SAMPLE_RATE, total: contentDuration });

    if (noSpeechThreshold !== null) {
      // No voice activity: skip the window unless the text is probable enough anyway.
      let shouldSkip = result.noSpeechProb > noSpeechThreshold;
      if (logprobThreshold !== null && result.avgLogprob > logprobThreshold) shouldSkip = false;
      if (shouldSkip) {
        seek += segmentSize;
        reportProgress();
        continue;
      }
    }

    const newSegment = (start: number, end: number, segmentTokens: number[]): Segment => ({
      id: 0, seek, start, end,
      text: tokenizer.decode(segmentTokens.filter((t) => t < tokenizer.eot)),
      tokens: segmentTokens, temperature: result.temperature, avgLogprob: result.avgLogprob,
      compressionRatio: result.compressionRatio, noSpeechProb: result.noSpeechProb,
    });
    let currentSegments: Segment[] = [];
    const isTimestamp = tokens.map((t) => t >= tokenizer.timestampBegin);
    const singleTimestampEnding = isTimestamp.length >= 2 && !isTimestamp[isTimestamp.length - 2] && isTimestamp[isTimestamp.length - 1];
    const consecutive: number[] = [];
    for (let i = 1; i < isTimestamp.length; i++) if (isTimestamp[i - 1] && isTimestamp[i]) consecutive.push(i);
    if (consecutive.length > 0) {
      // Segments between pairs of consecutive timestamp tokens.
      const slices = [...consecutive];
      if (singleTimestampEnding) slices.push(tokens.length);
      let lastSlice = 0;
      for (const current of slices) {
        const sliced = tokens.slice(lastSlice, current);
        const startPos = sliced[0] - tokenizer.timestampBegin;
        const endPos = sliced[sliced.length - 1] - tokenizer.timestampBegin;
        currentSegments.push(newSegment(timeOffset + startPos * timePrecision, timeOffset + endPos * timePrecision, sliced));
        lastSlice = current;
      }
      if (singleTimestampEnding) seek += segmentSize; // no speech after the last timestamp
      else seek += (tokens[lastSlice - 1] - tokenizer.timestampBegin) * inputStride; // redo the unfinished segment
    } else {
      let duration = segmentDuration;
      const timestamps = tokens.filter((_, i) => isTimestamp[i]);
      if (timestamps.length > 0 && timestamps[timestamps.length - 1] !== tokenizer.timestampBegin)
        duration = (timestamps[timestamps.length - 1] - tokenizer.timestampBegin) * timePrecision;
      currentSegments.push(newSegment(timeOffset, timeOffset + duration, tokens));
      seek += segmentSize;
    }

    if (options.wordTimestamps) {
      await addWordTimestamps({
        segments: currentSegments, model, tokenizer, audioFeatures: features, numFrames: segmentSize,
        alignmentHeads: pipeline.alignmentHeads, prependPunctuations: options.prependPunctuations,
        appendPunctuations: options.appendPunctuations, lastSpeechTimestamp,
      });
      if (!singleTimestampEnding) {
        const end = lastWordEnd(currentSegments);
        if (end !== undefined && end > timeOffset) seek = Math.round(end * FRAMES_PER_SECOND);
      }
      let skipRest = false;
      if (hallucinationThreshold !== undefined) {
        const threshold = hallucinationThreshold;
        if (!singleTimestampEnding) {
          const end = lastWordEnd(currentSegments);
          if (end !== undefined && end > timeOffset)
            seek = windowEndTime - end > threshold ? Math.round(end * FRAMES_PER_SECOND) : previousSeek + segmentSize;
        }
        // A first segment that may be a hallucination: skip the silence before it.
        const first = nextWordsSegment(currentSegments);
        if (first !== undefined && isSegmentAnomaly(first)) {
          const gap = first.start - timeOffset;
          if (gap > threshold) {
            seek = previousSeek + Math.round(gap * FRAMES_PER_SECOND);
            skipRest = true;
          }
        }
        // Skip silence before any possible hallucination surrounded by silence or more hallucinations.
        let halLastEnd = lastSpeechTimestamp;
        for (let si = 0; !skipRest && si < currentSegments.length; si++) {
          const segment = currentSegments[si];
          if (!segment.words?.length) continue;
          if (isSegmentAnomaly(segment)) {
            const next = nextWordsSegment(currentSegments.slice(si + 1));
            const halNextStart = next !== undefined ? (next.words as Word[])[0].start : timeOffset + segmentDuration;
            const silenceBefore = segment.start - halLastEnd > threshold || segment.start < threshold || segment.start - timeOffset < 2;
            const silenceAfter = halNextStart - segment.end > threshold || isSegmentAnomaly(next) || windowEndTime - segment.end < 2;
            if (silenceBefore && silenceAfter) {
              seek = Math.round(Math.max(timeOffset + 1, segment.start) * FRAMES_PER_SECOND);
              if (contentDuration - segment.end < threshold) seek = contentFrames;
              currentSegments = currentSegments.slice(0, si);
              break;
            }
          }
          halLastEnd = segment.end;
        }
      }
      if (skipRest) {
        reportProgress();
        continue;
      }
      const end = lastWordEnd(currentSegments);
      if (end !== undefined) lastSpeechTimestamp = end;
      // After openai's logic, so seeking and the next window's timing are unchanged.
      const refine = options.refineWordTimestamps;
      if (refine) {
        const opts = refine === true ? {} : refine;
        refineWordTimes(currentSegments, voicedFrames(mel, previousSeek, segmentSize, opts.thresholdDb), timeOffset, opts);
      }
    }

    // An instantaneous segment, or one without text, is cleared.
    for (const segment of currentSegments) {
      if (segment.start === segment.end || segment.text.trim() === "") {
        segment.text = "";
        segment.tokens = [];
        segment.words = [];
      }
    }
    for (const segment of currentSegments) {
      segment.id = allSegments.length;
      allSegments.push(segment);
      allTokens.push(...segment.tokens);
      options.onSegment?.(segment);
    }
    // Do not feed the prompt tokens if a high temperature was used.
    if (!conditionOnPreviousText || result.temperature > 0.5) promptResetSince = allTokens.length;
    reportProgress();
  }
  return { text: tokenizer.decode(allTokens.slice(initialPromptTokens.length)), segments: allSegments, language };
}
