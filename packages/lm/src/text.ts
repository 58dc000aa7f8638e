// Text generation on top of the token loop: options checked up front, the sampler (greedy on the
// device when nothing needs the logits on the host), a JSON constraint, stop strings, streaming
// detokenization, log-probabilities, and the result object that lm.generate, the server and
// @tessera/vlm all return. The token loop itself is pluggable (`run`), so a vision-language model
// hands in its image-aware prefill and gets the same text side.
import type { FinishReason, GenerateTokensOptions, GenerateTokensResult, Sampler as TokenSampler } from "./generate.js";
import { JsonConstraint } from "./grammar/constraint.js";
import type { TokenVocabulary } from "./grammar/constraint.js";
import type { JsonSchema } from "./grammar/schema.js";
import { resolveSamplingOptions } from "./sample/options.js";
import type { SamplingOptions } from "./sample/options.js";
import { makeSampler } from "./sample/sampler.js";
import type { Sample } from "./sample/sampler.js";
import { StopMatcher } from "./sample/stop.js";
import { StreamingDetokenizer } from "./tokenizer/detokenize.js";
import type { Tokenizer } from "./tokenizer/tokenizer.js";

/** Constrains the output's format (OpenAI's `response_format`). */
export type ResponseFormat =
  | { type: "text" }
  /** Any JSON object. */
  | { type: "json_object" }
  /** JSON that validates against `schema` (the subset compileJsonSchema supports). */
  | { type: "json_schema"; schema: JsonSchema };

/** One token's log-probability, with its text (OpenAI's logprobs content entry). */
export interface TokenLogprobInfo {
  token: number;
  text: string;
  logprob: number;
  /** The most likely tokens at this step, most likely first (when `logprobs` is a number). */
  topLogprobs?: { token: number; text: string; logprob: number }[];
}

/** A piece of streamed output: the text completed by one generated token (may be ""). */
export interface TextChunk {
  text: string;
  token: number;
  logprob?: TokenLogprobInfo;
}

/** Options of lm.generate / stream / chat (and vlm's). */
export interface GenerateOptions extends SamplingOptions {
  /**
   * Softmax temperature; 0 picks the most likely token. Default 0 (greedy, as mlx-lm's generate);
   * pass e.g. 0.7 to sample.
   */
  temperature?: number;
  /** Most tokens to generate (default 256). Generation also ends at the context's end ("length"). */
  maxTokens?: number;
  /** Strings that end the output (not included in it), as OpenAI's `stop`. */
  stop?: string | readonly string[];
  /** true: each token's log-probability; a number n: also the n most likely tokens per step. */
  logprobs?: boolean | number;
  /** Aborts generation (finishReason "abort"; the text so far is returned). */
  signal?: AbortSignal;
  /** Called with each chunk as it is decoded; return false to stop ("stop"). */
  onToken?: (chunk: TextChunk) => void | boolean;
  /** Constrains the output to JSON (a schema, or any object). */
  responseFormat?: ResponseFormat;
  /** Prompt tokens per forward pass (default 512). */
  prefillChunk?: number;
}

/** What generate and chat resolve to (and stream returns when it ends). */
export interface GenerateResult {
  text: string;
  /** The generated token ids (an end-of-sequence token is not included). */
  tokens: number[];
  finishReason: FinishReason;
  usage: {
    promptTokens: number;
    completionTokens: number;
    /** Prompt tokens whose keys and values came from a prompt cache instead of being recomputed. */
    cachedTokens?: number;
  };
  /** Per generated token, when `logprobs` was asked for. */
  logprobs?: TokenLogprobInfo[];
  /** The stop string that ended the output, if one did. */
  stop?: string;
}

/** What streamText needs from a model: its tokenizer, its logits' size and a token loop to drive. */
export interface TextGeneration {
  tokenizer: Tokenizer;
  /** Length of the model's logits (at least the tokenizer's vocabulary; padded tables are longer). */
  vocabSize: number;
  /** Prompt length for `usage`. */
  promptTokens: number;
  /** Prompt tokens served from a cache (for `usage.cachedTokens`). */
  cachedTokens?: number;
  /** The token vocabulary for JSON constraints (built once per tokenizer by the caller). */
  vocabulary: () => TokenVocabulary;
  /** Runs the token loop with these options (generateTokens, or a VLM's image-aware version). */
  run(options: GenerateTokensOptions): Promise<GenerateTokensResult>;
}

interface Checked {
  maxTokens: number;
  stops: string[];
  topLogprobs: number;
  wantLogprobs: boolean;
  sampling: SamplingOptions;
  greedyOnDevice: boolean;
  format: ResponseFormat | undefined;
}

/** Validates options before anything runs (a clear Error naming the bad one). */
export function checkGenerateOptions(opts: GenerateOptions): Checked {
  if (typeof opts !== "object" || opts === null) throw new Error("generate: options must be an object");
  const maxTokens = opts.maxTokens ?? 256;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new Error(`generate: maxTokens must be a non-negative integer, got ${String(opts.maxTokens)}`);
  const stops = opts.stop === undefined ? [] : typeof opts.stop === "string" ? [opts.stop] : opts.stop;
  if (!Array.isArray(stops) || stops.some((s) => typeof s !== "string" || s === ""))
    throw new Error("generate: stop must be a non-empty string or an array of non-empty strings");
  const lp = opts.logprobs;
  if (lp !== undefined && typeof lp !== "boolean" && !(Number.isInteger(lp) && lp >= 0 && lp <= 20))
    throw new Error(`generate: logprobs must be true, false or a number of top tokens from 0 to 20, got ${String(lp)}`);
  const wantLogprobs = lp !== undefined && lp !== false;
  const topLogprobs = typeof lp === "number" ? lp : 0;
  const sampling: SamplingOptions = { ...opts, temperature: opts.temperature ?? 0, topLogprobs };
  const r = resolveSamplingOptions(sampling);
  const format = opts.responseFormat;
  if (format !== undefined) {
    const t = (format as { type?: unknown } | null)?.type;
    if (t !== "text" && t !== "json_object" && t !== "json_schema") throw new Error(`generate: responseFormat.type must be "text", "json_object" or "json_schema", got ${JSON.stringify(t)}`);
    if (t === "json_schema" && (format as { schema?: unknown }).schema === undefined) throw new Error("generate: responseFormat json_schema needs a schema");
  }
  const json = format !== undefined && format.type !== "text";
  const plain = r.repetitionPenalty === 1 && r.frequencyPenalty === 0 && r.presencePenalty === 0 && r.logitBias.length === 0;
  return { maxTokens, stops: [...stops], topLogprobs, wantLogprobs, sampling, greedyOnDevice: r.temperature === 0 && plain && !wantLogprobs && !json, format: json ? format : undefined };
}

function constraint(format: ResponseFormat, gen: TextGeneration): JsonConstraint {
  if (gen.tokenizer.eosTokenIds.size === 0) throw new Error("generate: JSON output needs a model with an end-of-sequence token");
  const schema: JsonSchema = format.type === "json_schema" ? format.schema : { type: "object" };
  return new JsonConstraint(schema, gen.vocabulary());
}

/**
 * Generates text, yielding chunks as tokens are decoded (never splitting a character; a stop
 * string is held back until it cannot be one); returns the result when generation ends.
 */
export async function* streamText(gen: TextGeneration, opts: GenerateOptions = {}): AsyncGenerator<TextChunk, GenerateResult> {
  const o = checkGenerateOptions(opts);
  const tok = gen.tokenizer;
  const json = o.format ? constraint(o.format, gen) : undefined;
  const textOf = (id: number): string => (id < tok.vocabSize && tok.idToToken(id) !== undefined ? tok.decode([id]) : "");
  let last: Sample | undefined;
  let sample: TokenSampler | undefined;
  if (!o.greedyOnDevice) {
    const s = makeSampler(o.sampling);
    sample = (logits, history) => {
      last = s(logits, history, json?.allowedTokens());
      json?.accept(last.token);
      return last;
    };
  }
  const detok = new StreamingDetokenizer(tok, { skipSpecialTokens: true });
  const stop = new StopMatcher(o.stops);
  const logprobs: TokenLogprobInfo[] = [];
  let text = "";
  let stopString: string | undefined;
  const chunks: TextChunk[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let userStop = false;

  const emit = (chunk: TextChunk): boolean => {
    text += chunk.text;
    chunks.push(chunk);
    wake?.();
    if (opts.onToken?.(chunk) === false) userStop = true;
    return !userStop;
  };
  const onToken = (token: number): boolean => {
    let info: TokenLogprobInfo | undefined;
    if (o.wantLogprobs && last) {
      info = { token, text: textOf(token), logprob: last.logprob };
      if (o.topLogprobs > 0) info.topLogprobs = (last.topLogprobs ?? []).map((t) => ({ ...t, text: textOf(t.token) }));
      logprobs.push(info);
    }
    // Ids past the tokenizer's vocabulary (padded embedding tables) decode to nothing.
    const piece = token < tok.vocabSize ? detok.push(token) : "";
    const r = stop.push(piece);
    if (r.stop !== undefined) stopString = r.stop;
    const more = emit({ text: r.text, token, ...(info ? { logprob: info } : {}) });
    return more && r.stop === undefined;
  };
  // A consumer that stops iterating early stops the generation too.
  const quit = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, quit.signal]) : quit.signal;
  const done = gen.run({ maxTokens: o.maxTokens, eosIds: tok.eosTokenIds, sample, onToken, signal, prefillChunk: opts.prefillChunk })
    .finally(() => { finished = true; wake?.(); });
  // Keep the rejection handled while chunks are handed out; it is rethrown below.
  done.catch(() => undefined);
  try {
    while (!finished || chunks.length) {
      if (chunks.length) {
        yield chunks.shift()!;
        continue;
      }
      await new Promise<void>((r) => { wake = r; });
      wake = undefined;
    }
  } finally {
    if (!finished) {
      quit.abort();
      await done.catch(() => undefined);
    }
  }
  const result = await done;
  if (stopString === undefined) {
    const tail = stop.push(detok.flush());
    const rest = tail.text + (tail.stop === undefined ? stop.flush() : "");
    if (tail.stop !== undefined) stopString = tail.stop;
    if (rest) {
      text += rest;
      yield { text: rest, token: result.tokens[result.tokens.length - 1] };
    }
  }
  const finishReason: FinishReason = stopString !== undefined || userStop ? "stop" : result.finishReason;
  return {
    text,
    tokens: result.tokens,
    finishReason,
    usage: { promptTokens: gen.promptTokens, completionTokens: result.tokens.length, ...(gen.cachedTokens ? { cachedTokens: gen.cachedTokens } : {}) },
    ...(o.wantLogprobs ? { logprobs } : {}),
    ...(stopString !== undefined ? { stop: stopString } : {}),
  };
}

/** Runs a stream to its end and returns its result. */
export async function drainText(stream: AsyncGenerator<TextChunk, GenerateResult>): Promise<GenerateResult> {
  for (;;) {
    const r = await stream.next();
    if (r.done) return r.value;
  }
}
