// Decoding one 30-second window: openai-whisper's decoding.py (DecodingTask, decode,
// detect_language) on our model. Every batch row and beam runs in one decoder forward per step,
// on a DecoderCache; only the last position's logits come back to JS, where the filters and the
// token choice run on one Float32Array.
import { deflate } from "pako";
import { Tensor, expandDims, index, take, tensor } from "@tessera/core";
import { CHUNK_LENGTH } from "../mel.js";
import type { DecoderCache, Whisper } from "../model/whisper.js";
import { WhisperTokenizer, languageCode } from "../tokenizer.js";
import type { DecodingOptions, DecodingResult } from "../types.js";
import {
  BeamSearchDecoder, GreedyDecoder, MaximumLikelihoodRanker, Random, argmax, roundHalfEven,
} from "./decoders.js";
import type { TokenDecoder } from "./decoders.js";
import { ApplyTimestampRules, SuppressBlank, SuppressTokens, row } from "./filters.js";
import type { LogitFilter, StepLogits } from "./filters.js";

export {
  BeamSearchDecoder, GreedyDecoder, MaximumLikelihoodRanker, Random, logSoftmax, sampleCategorical, topk,
} from "./decoders.js";
export type { TokenDecoder } from "./decoders.js";
export { ApplyTimestampRules, SuppressBlank, SuppressTokens } from "./filters.js";
export type { LogitFilter, StepLogits } from "./filters.js";

/**
 * Compression ratio of the text's UTF-8 bytes, as openai-whisper's `zlib.compress` (level 6). pako
 * ports zlib's reference deflate and gives Python's bytes; Node's zlib (Chromium's fork) picks
 * other matches on repetitive text, which would move results across the 2.4 threshold.
 */
export function compressionRatio(text: string): number {
  const bytes = new TextEncoder().encode(text);
  return bytes.length / deflate(bytes).length;
}

/** The language detected for each audio row. */
export interface LanguageDetection {
  /** The most probable language token of each row. */
  languageTokens: number[];
  /** Probability of every language code, per row. */
  languageProbs: Record<string, number>[];
}

// The tokenizer for the model's vocabulary with the language/task decoding uses.
function tokenizerFor(model: Whisper, tokenizer: WhisperTokenizer, language: string | undefined, task: DecodingOptions["task"]) {
  if (!model.isMultilingual) return new WhisperTokenizer(tokenizer.encoding, model.numLanguages, undefined, undefined);
  return new WhisperTokenizer(tokenizer.encoding, model.numLanguages, language ?? "en", task ?? "transcribe");
}

/**
 * Audio features [B, n_audio_ctx, n_audio_state] of a mel [B?, 2 * n_audio_ctx, n_mels] (run
 * through the encoder) or of features given directly; `single` when the input had no batch axis.
 */
function audioFeatures(model: Whisper, melOrFeatures: Tensor, op: string): { features: Tensor; single: boolean } {
  if (!(melOrFeatures instanceof Tensor)) throw new Error(`${op}: mel must be a Tensor`);
  const d = model.dims;
  const s = melOrFeatures.shape;
  const single = s.length === 2;
  const x = single ? expandDims(melOrFeatures, 0) : melOrFeatures;
  const is = (a: number, b: number) => x.ndim === 3 && x.shape[1] === a && x.shape[2] === b && x.shape[0] > 0;
  if (is(d.n_audio_ctx, d.n_audio_state)) return { features: x, single };
  if (is(2 * d.n_audio_ctx, d.n_mels)) return { features: model.embedAudio(x), single };
  throw new Error(
    `${op}: expected a mel spectrogram [batch?, ${2 * d.n_audio_ctx}, ${d.n_mels}] (frames, mel bins) or audio features ` +
    `[batch?, ${d.n_audio_ctx}, ${d.n_audio_state}], got [${s.join(", ")}]`,
  );
}

// Reads the float32 logits at positions `positions` of every row: [rows][positions] of Float32Array views.
async function readPositions(logits: Tensor, positions: number[]): Promise<{ data: Float32Array; vocab: number }> {
  const [, l, vocab] = logits.shape;
  const picked = positions.length === 1 && positions[0] === l - 1 && l === 1
    ? logits
    : take(logits, tensor(positions, { dtype: "int32" }), 1);
  const data = (await picked.data()) as Float32Array;
  if (picked !== logits) picked.dispose();
  return { data, vocab };
}

function languageProbsOf(tokenizer: WhisperTokenizer, logits: Float32Array): { token: number; probs: Record<string, number> } {
  const tokens = tokenizer.allLanguageTokens, codes = tokenizer.allLanguageCodes;
  const values = tokens.map((t) => logits[t]);
  const best = argmax(values);
  const max = values[best];
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  const probs: Record<string, number> = {};
  codes.forEach((c, j) => { probs[c] = exps[j] / sum; });
  return { token: tokens[best], probs };
}

async function detectFromFeatures(model: Whisper, tokenizer: WhisperTokenizer, features: Tensor): Promise<LanguageDetection> {
  if (tokenizer.language === undefined || !tokenizer.sotSequence.includes(tokenizer.languageToken))
    throw new Error("This model doesn't have language tokens so it can't perform lang id");
  const n = features.shape[0];
  const tokens = tensor(Array.from({ length: n }, () => [tokenizer.sot]), { dtype: "int32" });
  const logits = model.decode(tokens, features).logits;
  const { data, vocab } = await readPositions(logits, [0]);
  logits.dispose();
  const out: LanguageDetection = { languageTokens: [], languageProbs: [] };
  for (let i = 0; i < n; i++) {
    const r = languageProbsOf(tokenizer, data.subarray(i * vocab, (i + 1) * vocab));
    out.languageTokens.push(r.token);
    out.languageProbs.push(r.probs);
  }
  return out;
}

/**
 * The spoken language of each audio row (openai-whisper's `detect_language`): the decoder's first
 * step after <|startoftranscript|>, restricted to the language tokens. `melOrFeatures` is a mel
 * [B?, 2 * n_audio_ctx, n_mels] or audio features [B?, n_audio_ctx, n_audio_state]; the result
 * always has one entry per row.
 */
export async function detectLanguage(model: Whisper, tokenizer: WhisperTokenizer, melOrFeatures: Tensor): Promise<LanguageDetection> {
  const { features } = audioFeatures(model, melOrFeatures, "detectLanguage");
  return detectFromFeatures(model, tokenizer, features);
}

function checkOptions(o: DecodingOptions): void {
  const positiveInt = (v: unknown, name: string) => {
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) throw new Error(`${name} must be a positive integer, got ${String(v)}`);
  };
  positiveInt(o.beamSize, "beamSize");
  positiveInt(o.bestOf, "bestOf");
  positiveInt(o.sampleLen, "sampleLen");
  const temperature = o.temperature ?? 0;
  if (!(Number.isFinite(temperature) && temperature >= 0)) throw new Error(`temperature must be a finite number >= 0, got ${String(o.temperature)}`);
  if (o.task !== undefined && o.task !== "transcribe" && o.task !== "translate")
    throw new Error(`task must be "transcribe" or "translate", got '${String(o.task)}'`);
  // openai-whisper's _verify_options.
  if (o.beamSize !== undefined && o.bestOf !== undefined) throw new Error("beamSize and bestOf can't be given together");
  if (temperature === 0 && o.bestOf !== undefined) throw new Error("bestOf with greedy sampling (temperature 0) is not compatible");
  if (o.patience !== undefined && o.beamSize === undefined) throw new Error("patience requires beamSize to be given");
  if (o.lengthPenalty !== undefined && !(o.lengthPenalty >= 0 && o.lengthPenalty <= 1))
    throw new Error("lengthPenalty (alpha) should be a value between 0 and 1");
}

/** openai-whisper's DecodingTask: the setup of one decode() call. */
class DecodingTask {
  readonly tokenizer: WhisperTokenizer;
  readonly nGroup: number;
  readonly nCtx: number;
  readonly sampleLen: number;
  readonly sotSequence: readonly number[];
  readonly initialTokens: number[];
  readonly sampleBegin: number;
  readonly sotIndex: number;
  readonly ranker: MaximumLikelihoodRanker;
  readonly logitFilters: LogitFilter[] = [];
  readonly temperature: number;
  #cacheRows?: (rows: number[]) => void;

  constructor(readonly model: Whisper, tokenizer: WhisperTokenizer, readonly options: DecodingOptions) {
    checkOptions(options);
    const language = options.language === undefined ? undefined : languageCode(options.language);
    this.tokenizer = tokenizerFor(model, tokenizer, language, options.task);
    this.temperature = options.temperature ?? 0;
    this.nGroup = options.beamSize ?? options.bestOf ?? 1;
    this.nCtx = model.dims.n_text_ctx;
    this.sampleLen = options.sampleLen ?? Math.floor(this.nCtx / 2);
    this.sotSequence = options.withoutTimestamps ? this.tokenizer.sotSequenceIncludingNotimestamps : this.tokenizer.sotSequence;
    this.initialTokens = this.getInitialTokens();
    this.sampleBegin = this.initialTokens.length;
    this.sotIndex = this.initialTokens.indexOf(this.tokenizer.sot);
    this.ranker = new MaximumLikelihoodRanker(options.lengthPenalty);
    if (options.suppressBlank ?? true) this.logitFilters.push(new SuppressBlank(this.tokenizer, this.sampleBegin));
    const suppress = options.suppressTokens ?? "-1";
    if (suppress.length) this.logitFilters.push(new SuppressTokens(this.getSuppressTokens(suppress)));
    if (!options.withoutTimestamps) {
      const precision = CHUNK_LENGTH / model.dims.n_audio_ctx; // usually 0.02 seconds
      const maxInitial = options.maxInitialTimestamp === undefined ? 1.0 : options.maxInitialTimestamp;
      // openai tests the option's truth: 0 means no limit, as null does.
      const index = maxInitial ? roundHalfEven(maxInitial / precision) : undefined;
      this.logitFilters.push(new ApplyTimestampRules(this.tokenizer, this.sampleBegin, index));
    }
  }

  makeDecoder(): TokenDecoder {
    const eot = this.tokenizer.eot;
    if (this.options.beamSize !== undefined)
      return new BeamSearchDecoder(this.options.beamSize, eot, (rows) => this.#cacheRows?.(rows), this.options.patience);
    return new GreedyDecoder(this.temperature, eot, new Random(this.options.seed ?? 0));
  }

  getInitialTokens(): number[] {
    const o = this.options;
    let tokens = [...this.sotSequence];
    const encode = (text: string) => this.tokenizer.encode(" " + text.trim());
    if (o.prefix !== undefined && o.prefix.length) {
      let prefixTokens = typeof o.prefix === "string" ? encode(o.prefix) : [...o.prefix];
      const maxPrefixLen = Math.floor(this.nCtx / 2) - this.sampleLen;
      prefixTokens = prefixTokens.slice(-maxPrefixLen); // Python's [-n:]: n = 0 keeps them all
      tokens = [...tokens, ...prefixTokens];
    }
    if (o.prompt !== undefined && o.prompt.length) {
      const promptTokens = typeof o.prompt === "string" ? encode(o.prompt) : [...o.prompt];
      tokens = [this.tokenizer.sotPrev, ...promptTokens.slice(-(Math.floor(this.nCtx / 2) - 1)), ...tokens];
    }
    for (const t of tokens)
      if (!(Number.isInteger(t) && t >= 0 && t < this.model.dims.n_vocab))
        throw new Error(`prompt and prefix tokens must be integers in [0, ${this.model.dims.n_vocab}), got ${String(t)}`);
    if (tokens.length > this.nCtx)
      throw new Error(`the start sequence, prompt and prefix take ${tokens.length} tokens, more than the text context of ${this.nCtx}`);
    return tokens;
  }

  getSuppressTokens(option: string | readonly number[]): number[] {
    let tokens: number[];
    if (typeof option === "string") {
      tokens = option.split(",").map((t) => {
        const v = Number(t.trim());
        if (t.trim() === "" || !Number.isInteger(v)) throw new Error(`suppressTokens: '${t}' is not an integer token id`);
        return v;
      });
    } else tokens = [...option];
    if (tokens.includes(-1)) tokens = [...tokens.filter((t) => t >= 0), ...this.tokenizer.nonSpeechTokens];
    const t = this.tokenizer;
    tokens.push(t.transcribe, t.translate, t.sot, t.sotPrev, t.sotLm, t.noSpeech);
    return [...new Set(tokens)].sort((a, b) => a - b);
  }

  async run(melOrFeatures: Tensor): Promise<DecodingResult[]> {
    const tokenizer = this.tokenizer;
    const { features } = audioFeatures(this.model, melOrFeatures, "decode");
    const nAudio = features.shape[0];
    const initial = Array.from({ length: nAudio }, () => [...this.initialTokens]);

    // Detect the language if none was given, writing the detected token after <|startoftranscript|>.
    let languages: string[] = Array.from({ length: nAudio }, () => tokenizer.language ?? "en");
    let languageProbs: Record<string, number>[] | undefined;
    if (this.options.language === undefined) {
      const detected = await detectFromFeatures(this.model, tokenizer, features);
      languageProbs = detected.languageProbs;
      languages = languageProbs.map((p) => Object.keys(p).reduce((a, b) => (p[b] > p[a] ? b : a)));
      detected.languageTokens.forEach((token, i) => { initial[i][this.sotIndex + 1] = token; });
    }

    // One decoder row per beam or sample; the rows of one audio share its features and
    // cross-attention keys/values (the cache holds them once per audio).
    const tokens = initial.flatMap((t) => Array.from({ length: this.nGroup }, () => [...t]));
    const cache = this.model.newCache();
    try {
      return await this.#loop(features, cache, tokens, languages, languageProbs);
    } finally {
      cache.dispose();
    }
  }

  async #loop(features: Tensor, cache: DecoderCache, tokens: number[][], languages: string[], languageProbs?: Record<string, number>[]): Promise<DecodingResult[]> {
    const tokenizer = this.tokenizer;
    const nAudio = features.shape[0];
    this.#cacheRows = (rows) => {
      if (rows.some((r, i) => r !== i)) cache.reorder(rows);
    };
    const decoder = this.makeDecoder();
    decoder.reset();
    const nBatch = tokens.length;
    const sumLogprobs = new Array<number>(nBatch).fill(0);
    let noSpeechProbs = new Array<number>(nBatch).fill(NaN);

    for (let i = 0; i < this.sampleLen; i++) {
      const input = i === 0 ? tokens : tokens.map((t) => [t[t.length - 1]]);
      const l = input[0].length;
      // The first step reads two positions of the prompt: the <|startoftranscript|> one and the last.
      const positions = i === 0 ? [this.sotIndex, l - 1] : [0];
      const logits = this.model.decode(input, features, { cache, logitPositions: positions }).logits;
      const data = (await logits.data()) as Float32Array;
      const vocab = logits.shape[2];
      logits.dispose();
      let last: Float32Array;
      if (i === 0) {
        // No-speech probability: softmax at the <|startoftranscript|> position, first step only.
        last = new Float32Array(nBatch * vocab);
        noSpeechProbs = tokens.map((_, k) => {
          const sot = data.subarray((2 * k) * vocab, (2 * k + 1) * vocab);
          last.set(data.subarray((2 * k + 1) * vocab, (2 * k + 2) * vocab), k * vocab);
          let max = -Infinity;
          for (let j = 0; j < vocab; j++) if (sot[j] > max) max = sot[j];
          let s = 0;
          for (let j = 0; j < vocab; j++) s += Math.exp(sot[j] - max);
          return Math.exp(sot[tokenizer.noSpeech] - max) / s;
        });
      } else last = data;
      const step: StepLogits = { data: last, rows: tokens.length, vocab };
      for (const filter of this.logitFilters) filter.apply(step, tokens);
      const r = decoder.update(tokens, step, sumLogprobs);
      tokens = r.tokens;
      if (r.completed || tokens[0].length > this.nCtx) break;
    }

    // Group the rows by audio, pick each group's candidates, cut them between the first sampled
    // token and the end of text.
    const noSpeech = noSpeechProbs.filter((_, k) => k % this.nGroup === 0);
    const grouped = Array.from({ length: nAudio }, (_, a) => tokens.slice(a * this.nGroup, (a + 1) * this.nGroup));
    const groupedLogprobs = Array.from({ length: nAudio }, (_, a) => sumLogprobs.slice(a * this.nGroup, (a + 1) * this.nGroup));
    const fin = decoder.finalize(grouped, groupedLogprobs);
    const candidates = fin.tokens.map((g) => g.map((t) => t.slice(this.sampleBegin, t.indexOf(tokenizer.eot, this.sampleBegin))));
    const selected = this.ranker.rank(candidates, fin.sumLogprobs);
    return selected.map((j, a) => {
      const toks = candidates[a][j];
      const text = tokenizer.decode(toks).trim();
      const lp = fin.sumLogprobs[a][j];
      return {
        audioFeatures: index(features, a),
        language: languages[a],
        ...(languageProbs ? { languageProbs: languageProbs[a] } : {}),
        tokens: toks,
        text,
        avgLogprob: lp / (toks.length + 1),
        noSpeechProb: noSpeech[a],
        temperature: this.temperature,
        compressionRatio: compressionRatio(text),
      };
    });
  }
}

/**
 * Decodes 30-second windows (openai-whisper's `decode`): `mel` is a log-mel spectrogram
 * [B?, 3000, n_mels] (frames, mel bins) or audio features [B?, n_audio_ctx, n_audio_state]; one
 * result per row (an array even for 2-D input). `tokenizer` is any tokenizer of the model's
 * vocabulary: decode uses the one for `options.language` / `options.task`. Greedy by default;
 * `beamSize` for beam search; `temperature` > 0 samples (`bestOf` candidates) from a stream seeded
 * by `seed` (default 0), so runs are reproducible. Without `language`, multilingual models detect it.
 */
export async function decode(model: Whisper, tokenizer: WhisperTokenizer, mel: Tensor, options: DecodingOptions = {}): Promise<DecodingResult[]> {
  return new DecodingTask(model, tokenizer, options).run(mel);
}
