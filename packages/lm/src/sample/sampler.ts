// makeSampler: options in, a function from one step's logits to the chosen token out.
import { Prng } from "./prng.js";
import { resolveSamplingOptions } from "./options.js";
import type { SamplingOptions } from "./options.js";
import { applyBiasAndPenalties, argmax, candidates } from "./processors.js";

/** A token with its log-probability. */
export interface TokenLogprob {
  token: number;
  logprob: number;
}

/** What a sampler returns for one step. */
export interface Sample {
  /** The chosen token id. */
  token: number;
  /** Its log-probability under the model's own distribution (log-softmax of the raw logits, as vLLM and OpenAI report it). */
  logprob: number;
  /** The `topLogprobs` most likely tokens of the raw distribution, most likely first (only when asked for). */
  topLogprobs?: TokenLogprob[];
}

/**
 * Chooses the next token. `history`: the tokens the penalties look at (typically the generated ones, or
 * prompt + generated for transformers-style repetition penalty). `allowed`: an optional mask (nonzero =
 * allowed) over the vocabulary, e.g. from a grammar; masked tokens are never chosen.
 */
export type Sampler = (logits: Float32Array, history: readonly number[], allowed?: Uint8Array) => Sample;

/** log(sum(exp(x))) over the finite entries. */
export function logSumExp(x: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - max);
  return max + Math.log(s);
}

/** The n largest entries of `x` as (index, value), largest first (ties: lower index first). */
export function topN(x: Float32Array, n: number): [number, number][] {
  const best: [number, number][] = [];
  if (n <= 0) return best;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (best.length === n && v <= best[n - 1][1]) continue;
    let j = best.length < n ? best.length : n - 1;
    if (best.length < n) best.push([i, v]);
    while (j > 0 && best[j - 1][1] < v) {
      best[j] = best[j - 1];
      j--;
    }
    best[j] = [i, v];
  }
  return best;
}

/** Draws an index of `probs` (summing to 1). */
function draw(probs: Float64Array, u: number): number {
  let acc = 0;
  for (let k = 0; k < probs.length; k++) {
    acc += probs[k];
    if (u < acc) return k;
  }
  return probs.length - 1; // rounding: u within the last ulp of the total
}

/**
 * A sampler for `opts` (validated here: an invalid value throws). Seeded samplers are reproducible:
 * the same seed, logits and history give the same tokens. Each sampler keeps its own generator state,
 * so use one per generated sequence.
 */
export function makeSampler(opts: SamplingOptions = {}): Sampler {
  const o = resolveSamplingOptions(opts);
  const prng = new Prng(o.seed ?? Math.floor(Math.random() * Number.MAX_SAFE_INTEGER));
  return (logits, history, allowed) => {
    if (!(logits instanceof Float32Array) || logits.length === 0) throw new Error("A sampler needs a non-empty Float32Array of logits");
    if (allowed !== undefined && allowed.length !== logits.length) {
      throw new Error(`The allowed-token mask has ${allowed.length} entries for ${logits.length} logits`);
    }
    const lse = logSumExp(logits);
    const scores = logits.slice();
    if (allowed !== undefined) for (let i = 0; i < scores.length; i++) if (allowed[i] === 0) scores[i] = -Infinity;
    applyBiasAndPenalties(scores, history, o);
    let token: number;
    if (o.temperature === 0) {
      token = argmax(scores);
      if (token < 0) throw new Error("No token is possible: every logit is -Infinity (check logitBias and the grammar mask)");
    } else {
      const c = candidates(scores, o);
      token = c.ids[draw(c.probs, prng.next())];
    }
    const out: Sample = { token, logprob: logits[token] - lse };
    if (o.topLogprobs > 0) out.topLogprobs = topN(logits, o.topLogprobs).map(([t, v]) => ({ token: t, logprob: v - lse }));
    return out;
  };
}
