// Sampling options and their validation (a clear Error naming the bad value).

/** How the next token is chosen from a step's logits. Every field is optional; the defaults sample plainly. */
export interface SamplingOptions {
  /** Softmax temperature; 0 picks the most likely token (greedy). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (ties with the k-th kept, as transformers); 0 = off. Default 0. */
  topK?: number;
  /** Keep the most likely tokens until their probability mass reaches p (nucleus); 1 = off. Default 1. */
  topP?: number;
  /** Drop tokens less likely than minP × the top token's probability; 0 = off. Default 0. */
  minP?: number;
  /**
   * transformers' / CTRL's repetition penalty on every token in the history: a positive logit is
   * divided by it, a negative one multiplied. 1 = off. Default 1.
   */
  repetitionPenalty?: number;
  /** OpenAI's frequency penalty: logit −= penalty × (times the token occurs in the history). Default 0. */
  frequencyPenalty?: number;
  /** OpenAI's presence penalty: logit −= penalty if the token occurs in the history at all. Default 0. */
  presencePenalty?: number;
  /** Only the last `penaltyWindow` tokens of the history count for the penalties; default: all of it. */
  penaltyWindow?: number;
  /** Added to the logits of the given token ids before anything else (OpenAI's `logit_bias`; −100 bans a token). */
  logitBias?: Readonly<Record<number, number>> | ReadonlyMap<number, number>;
  /** Seed of the sampler's generator: the same seed gives the same tokens. Default: a random seed. */
  seed?: number;
  /** Also return this many most likely tokens with their log-probabilities (OpenAI's `top_logprobs`). Default 0. */
  topLogprobs?: number;
}

/** The options with defaults filled in and the bias as a list. */
export interface ResolvedSamplingOptions {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repetitionPenalty: number;
  frequencyPenalty: number;
  presencePenalty: number;
  penaltyWindow: number;
  logitBias: [number, number][];
  seed: number | undefined;
  topLogprobs: number;
}

function num(name: string, v: unknown, dflt: number, ok: (x: number) => boolean, rule: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) throw new Error(`Invalid sampling option ${name}: ${String(v)} (${rule})`);
  return v;
}

function bias(v: SamplingOptions["logitBias"]): [number, number][] {
  if (v === undefined) return [];
  if (typeof v !== "object" || v === null) throw new Error("Invalid sampling option logitBias: expected an object or Map of token id → bias");
  const entries: [unknown, unknown][] = v instanceof Map ? [...v.entries()] : Object.entries(v);
  return entries.map(([k, b]) => {
    const id = typeof k === "string" ? Number(k) : k;
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) throw new Error(`Invalid sampling option logitBias: key ${String(k)} is not a token id`);
    if (typeof b !== "number" || !Number.isFinite(b)) throw new Error(`Invalid sampling option logitBias: bias for token ${id} must be a finite number, got ${String(b)}`);
    return [id, b];
  });
}

/** Validates `opts` and fills in the defaults; throws a clear Error for an invalid value. */
export function resolveSamplingOptions(opts: SamplingOptions = {}): ResolvedSamplingOptions {
  if (typeof opts !== "object" || opts === null) throw new Error("Sampling options must be an object");
  const int = (x: number): boolean => Number.isInteger(x) && x >= 0;
  const seed = opts.seed;
  if (seed !== undefined && (typeof seed !== "number" || !Number.isSafeInteger(seed))) throw new Error(`Invalid sampling option seed: ${String(seed)} (a safe integer)`);
  return {
    temperature: num("temperature", opts.temperature, 1, (x) => x >= 0, "a number >= 0"),
    topK: num("topK", opts.topK, 0, int, "an integer >= 0; 0 = off"),
    topP: num("topP", opts.topP, 1, (x) => x > 0 && x <= 1, "in (0, 1]; 1 = off"),
    minP: num("minP", opts.minP, 0, (x) => x >= 0 && x <= 1, "in [0, 1]; 0 = off"),
    repetitionPenalty: num("repetitionPenalty", opts.repetitionPenalty, 1, (x) => x > 0, "a number > 0; 1 = off"),
    frequencyPenalty: num("frequencyPenalty", opts.frequencyPenalty, 0, () => true, "a finite number"),
    presencePenalty: num("presencePenalty", opts.presencePenalty, 0, () => true, "a finite number"),
    penaltyWindow: num("penaltyWindow", opts.penaltyWindow, Number.MAX_SAFE_INTEGER, int, "an integer >= 0"),
    logitBias: bias(opts.logitBias),
    seed,
    topLogprobs: num("topLogprobs", opts.topLogprobs, 0, int, "an integer >= 0"),
  };
}
