// The token-level generation loop: prefill the prompt in chunks into the cache, then one token per
// step until an end-of-sequence id, maxTokens, the context's end or an abort. Sampling is a
// pluggable function of the last position's logits (greedy by default). Each step's graph is built
// inside tidy(), so its intermediates (and the cache views) are released before the next step and
// the cache buffers can be written in place.
import { Tensor, argmax, astype, evaluate, tensor, tidy } from "@tessera/core";
import type { DType } from "@tessera/core";
import type { LayerCache } from "./cache.js";
import type { LanguageModel } from "./models/base.js";

/** A sampler's choice with what it knows about it (lm-text's samplers return this shape). */
export interface TokenChoice {
  token: number;
  logprob?: number;
  topLogprobs?: { token: number; logprob: number }[];
}

/**
 * Picks the next token from one step's logits (float32, one per vocabulary entry); `history` is
 * the prompt and the tokens generated so far.
 */
export type Sampler = (logits: Float32Array, history: readonly number[]) => number | TokenChoice | Promise<number | TokenChoice>;

export interface GenerateTokensOptions {
  /** Most tokens to generate (default 256). */
  maxTokens?: number;
  /** Token ids that end generation (not included in the result). */
  eosIds?: Iterable<number>;
  /** Default: greedy (argmax). */
  sample?: Sampler;
  /** Called with each generated token (before the next is computed); return false to stop. */
  onToken?: (token: number, index: number) => void | boolean;
  signal?: AbortSignal;
  /** Prompt tokens evaluated per forward pass (default 512). */
  prefillChunk?: number;
  /**
   * A cache to extend (e.g. the previous chat turn's): the prompt ids must then be only the new
   * tokens. Default: a fresh cache, disposed at the end. A given cache ends holding a prefix of
   * prompt + tokens + [eosToken] (its offset says how long; greedy decoding runs one step ahead).
   */
  cache?: LayerCache[];
  /** dtype of a fresh cache's keys and values (default float16; a quantized cache's scales and biases). */
  kvDtype?: DType;
  /**
   * Quantize a fresh cache's full-attention keys and values to this many bits (mlx-lm's
   * `kv_bits`; 8 keeps greedy output as the float16 cache's on the tested models and halves the
   * cache). Default: a float cache.
   */
  kvBits?: number;
  /** Features per scale of a quantized cache (default 64; must divide head_dim). */
  kvGroupSize?: number;
}

export type FinishReason = "stop" | "length" | "abort";

export interface GenerateTokensResult {
  tokens: number[];
  /** What the sampler returned for each token, when it returned objects (log-probabilities). */
  choices?: TokenChoice[];
  finishReason: FinishReason;
  promptTokens: number;
  /** The end-of-sequence id that ended generation (finishReason "stop" from `eosIds`). */
  eosToken?: number;
}

// Greedy decoding without reading the logits back: the highest logit (the first one on ties).
async function argmaxToken(logits: Tensor): Promise<number> {
  const t = argmax(logits, -1);
  const v = (await t.data())[0];
  t.dispose();
  return Number(v);
}

async function choose(logits: Tensor, sample: Sampler | undefined, history: readonly number[]): Promise<TokenChoice> {
  if (!sample) return { token: await argmaxToken(logits) };
  const c = await sample((await logits.data()) as Float32Array, history);
  const choice = typeof c === "number" ? { token: c } : c;
  if (!choice || !Number.isInteger(choice.token) || choice.token < 0 || choice.token >= logits.size)
    throw new Error(`generateTokens: the sampler returned ${JSON.stringify(c)}, not a token id below ${logits.size}`);
  return choice;
}

function checkOptions(model: LanguageModel, promptIds: readonly number[], opts: GenerateTokensOptions) {
  const maxTokens = opts.maxTokens ?? 256;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new Error(`generateTokens: maxTokens must be a non-negative integer, got ${String(opts.maxTokens)}`);
  const chunk = opts.prefillChunk ?? 512;
  if (!Number.isInteger(chunk) || chunk <= 0) throw new Error(`generateTokens: prefillChunk must be a positive integer, got ${String(opts.prefillChunk)}`);
  if (!Array.isArray(promptIds) || promptIds.length === 0) throw new Error("generateTokens: the prompt must be a non-empty array of token ids");
  const bad = promptIds.find((t) => !Number.isInteger(t) || t < 0 || t >= model.vocabSize);
  if (bad !== undefined) throw new Error(`generateTokens: prompt token ${String(bad)} is not an id of this model's vocabulary (0 .. ${model.vocabSize - 1})`);
  const offset = opts.cache?.[0]?.offset ?? 0;
  const context = model.contextLength;
  if (context !== undefined && offset + promptIds.length >= context)
    throw new Error(`generateTokens: the prompt (${offset + promptIds.length} tokens${offset ? `, ${offset} of them cached` : ""}) does not fit the model's context of ${context} tokens`);
  return { maxTokens, chunk, context, offset };
}

/** Runs the prompt through the model in chunks; returns the last position's logits [vocab]. */
async function prefill(model: LanguageModel, ids: readonly number[], cache: LayerCache[], chunk: number, signal?: AbortSignal): Promise<Tensor | undefined> {
  for (let start = 0; start < ids.length; start += chunk) {
    if (signal?.aborted) return undefined;
    const part = ids.slice(start, start + chunk);
    if (start + chunk < ids.length) {
      // Only the caches are needed from an inner chunk: the head is never computed.
      const states = tidy(() => {
        model.forward(tensor([part], { dtype: "int32" }), cache, { lastTokenOnly: true });
        return cache.flatMap((c) => c.state());
      });
      await evaluate(states);
      continue;
    }
    const logits = tidy(() => model.forward(tensor([part], { dtype: "int32" }), cache, { lastTokenOnly: true }).reshape([model.vocabSize]));
    await evaluate(logits);
    return logits;
  }
  return undefined;
}

// One decoding step's logits [vocab] for `token` (a JS id, or an int32 [1, 1] tensor not yet read).
function step(model: LanguageModel, token: number | Tensor, cache: LayerCache[]): Tensor {
  return tidy(() => {
    const ids = typeof token === "number" ? tensor([[token]], { dtype: "int32" }) : token;
    return model.forward(ids, cache, { lastTokenOnly: true }).reshape([model.vocabSize]);
  });
}

/**
 * Generates tokens after `promptIds`: greedy unless `sample` is given; stops at an `eosIds` token
 * ("stop"), after `maxTokens` or at the end of the context ("length"), or when `signal` aborts or
 * `onToken` returns false ("abort" / "stop").
 *
 * Greedy decoding is pipelined: step t + 1's graph is built on step t's argmax (a tensor) while
 * step t evaluates, so graph building costs no wall time; the one step built past the end is
 * discarded with a fresh cache (a given one keeps it: see `cache`).
 */
export async function generateTokens(model: LanguageModel, promptIds: readonly number[], opts: GenerateTokensOptions = {}): Promise<GenerateTokensResult> {
  const { maxTokens, chunk, context, offset } = checkOptions(model, promptIds, opts);
  const eos = new Set(opts.eosIds ?? []);
  const cache = opts.cache ?? model.makeCache({ dtype: opts.kvDtype, kvBits: opts.kvBits, kvGroupSize: opts.kvGroupSize });
  const history = [...promptIds];
  const tokens: number[] = [];
  const choices: TokenChoice[] = [];
  let eosToken: number | undefined;
  const result = (finishReason: FinishReason): GenerateTokensResult =>
    ({ tokens, finishReason, promptTokens: promptIds.length, ...(choices.length ? { choices } : {}), ...(eosToken !== undefined ? { eosToken } : {}) });
  // Takes one chosen token; says why generation ends, if it does.
  const accept = (choice: TokenChoice): FinishReason | undefined => {
    if (eos.has(choice.token)) {
      eosToken = choice.token;
      return "stop";
    }
    tokens.push(choice.token);
    if (choice.logprob !== undefined) choices.push(choice);
    history.push(choice.token);
    if (opts.onToken?.(choice.token, tokens.length - 1) === false) return "stop";
    // The token just taken would sit at this position; the next one needs room after it.
    const position = offset + promptIds.length + tokens.length - 1;
    if (tokens.length >= maxTokens || (context !== undefined && position + 1 >= context)) return "length";
    return opts.signal?.aborted ? "abort" : undefined;
  };
  let current: Tensor | undefined;
  let ahead: Tensor | undefined;
  try {
    if (maxTokens === 0) return result("length");
    current = await prefill(model, promptIds, cache, chunk, opts.signal);
    if (!current) return result("abort");
    if (!opts.sample) {
      const logits = current;
      current = tidy(() => astype(argmax(logits, -1), "int32").reshape([1, 1]));
      logits.dispose();
      for (;;) {
        const tok: Tensor = current;
        const pending = tok.data();
        ahead = tidy((): Tensor => astype(argmax(step(model, tok, cache), -1), "int32").reshape([1, 1]));
        const done = accept({ token: Number((await pending)[0]) });
        if (done) return result(done);
        tok.dispose();
        current = ahead;
        ahead = undefined;
      }
    }
    for (;;) {
      const done = accept(await choose(current, opts.sample, history));
      if (done) return result(done);
      current.dispose();
      current = step(model, tokens[tokens.length - 1], cache);
      await evaluate(current);
    }
  } finally {
    current?.dispose();
    ahead?.dispose();
    if (!opts.cache) for (const c of cache) c.dispose();
  }
}
