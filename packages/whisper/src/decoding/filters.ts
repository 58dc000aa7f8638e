// Logit filters (openai-whisper's decoding.py LogitFilter subclasses), applied in place to the
// last position's logits of every row, read once per step into one Float32Array [rows, vocab].
import type { WhisperTokenizer } from "../tokenizer.js";

/** One decoding step's logits: `data` holds `rows` rows of `vocab` float32 values. */
export interface StepLogits {
  data: Float32Array;
  rows: number;
  vocab: number;
}

/** The row `k` of a step's logits (a view). */
export function row(logits: StepLogits, k: number): Float32Array {
  return logits.data.subarray(k * logits.vocab, (k + 1) * logits.vocab);
}

/** Masks or reweights logits given the tokens so far (initial tokens included), in place. */
export interface LogitFilter {
  apply(logits: StepLogits, tokens: readonly (readonly number[])[]): void;
}

/** Forbids a blank start (a lone space or end of text) at the first sampled position. */
export class SuppressBlank implements LogitFilter {
  readonly #blank: number[];

  constructor(tokenizer: WhisperTokenizer, readonly sampleBegin: number) {
    this.#blank = [...tokenizer.encode(" "), tokenizer.eot];
  }

  apply(logits: StepLogits, tokens: readonly (readonly number[])[]): void {
    if (tokens[0].length !== this.sampleBegin) return;
    for (let k = 0; k < logits.rows; k++) {
      const r = row(logits, k);
      for (const t of this.#blank) r[t] = -Infinity;
    }
  }
}

/** Forbids a fixed set of tokens at every step. */
export class SuppressTokens implements LogitFilter {
  readonly suppressTokens: readonly number[];

  constructor(suppressTokens: readonly number[]) {
    this.suppressTokens = [...suppressTokens];
  }

  apply(logits: StepLogits): void {
    for (let k = 0; k < logits.rows; k++) {
      const r = row(logits, k);
      for (const t of this.suppressTokens) if (t >= 0 && t < r.length) r[t] = -Infinity;
    }
  }
}

/** log(sum(exp(x[from..to)))) - log(sum(exp(x))) and max(x[from..to)) - log(sum(exp(x))), in float64. */
function logsumexp(x: Float32Array, from: number, to: number): { lse: number; max: number } {
  let max = -Infinity;
  for (let i = from; i < to; i++) if (x[i] > max) max = x[i];
  if (max === -Infinity) return { lse: -Infinity, max };
  let s = 0;
  for (let i = from; i < to; i++) s += Math.exp(x[i] - max);
  return { lse: max + Math.log(s), max };
}

/**
 * Timestamp rules: no <|notimestamps|>; timestamps in pairs (except right before the end); never
 * decreasing, and each segment of nonzero length; the first sampled token a timestamp no later than
 * `maxInitialTimestampIndex`; a timestamp whenever their total probability beats every text token.
 */
export class ApplyTimestampRules implements LogitFilter {
  constructor(
    readonly tokenizer: WhisperTokenizer,
    readonly sampleBegin: number,
    readonly maxInitialTimestampIndex: number | undefined,
  ) {}

  apply(logits: StepLogits, tokens: readonly (readonly number[])[]): void {
    const { noTimestamps, timestampBegin: tb, eot } = this.tokenizer;
    const vocab = logits.vocab;
    for (let k = 0; k < logits.rows; k++) {
      const r = row(logits, k);
      r[noTimestamps] = -Infinity;
      const seq = tokens[k].slice(this.sampleBegin);
      const n = seq.length;
      const lastWasTimestamp = n >= 1 && seq[n - 1] >= tb;
      const penultimateWasTimestamp = n < 2 || seq[n - 2] >= tb;
      if (lastWasTimestamp) {
        if (penultimateWasTimestamp) r.fill(-Infinity, tb, vocab); // has to be non-timestamp
        else r.fill(-Infinity, 0, eot); // cannot be normal text tokens
      }
      let lastTimestamp = -1;
      for (const t of seq) if (t >= tb) lastTimestamp = t;
      if (lastTimestamp >= 0) {
        // Timestamps must not decrease, and a segment must have nonzero length (no endless loops).
        const timestampLast = lastWasTimestamp && !penultimateWasTimestamp ? lastTimestamp : lastTimestamp + 1;
        r.fill(-Infinity, tb, Math.min(Math.max(timestampLast, tb), vocab));
      }
    }
    if (tokens[0].length === this.sampleBegin) {
      for (let k = 0; k < logits.rows; k++) {
        const r = row(logits, k);
        r.fill(-Infinity, 0, tb); // the first sampled token is a timestamp
        if (this.maxInitialTimestampIndex !== undefined) r.fill(-Infinity, Math.min(tb + this.maxInitialTimestampIndex + 1, vocab), vocab);
      }
    }
    // When the timestamps together are likelier than any one text token, sample a timestamp.
    for (let k = 0; k < logits.rows; k++) {
      const r = row(logits, k);
      const all = logsumexp(r, 0, vocab).lse;
      const timestampLogprob = logsumexp(r, tb, vocab).lse - all;
      const maxTextLogprob = logsumexp(r, 0, tb).max - all;
      if (timestampLogprob > maxTextLogprob) r.fill(-Infinity, 0, tb);
    }
  }
}
