// Token selection (openai-whisper's GreedyDecoder, BeamSearchDecoder, MaximumLikelihoodRanker), on
// the filtered logits of one step held in JS. Log-probabilities are computed in float64.
import { row } from "./filters.js";
import type { StepLogits } from "./filters.js";

/** log(sum(exp(x))) of one row, in float64: log_softmax(x)[i] is x[i] - logSumExp(x). */
export function logSumExp(x: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - max);
  return max + Math.log(s);
}

/** log_softmax of one row, in float64. */
export function logSoftmax(x: Float32Array): Float64Array {
  const lse = logSumExp(x);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] - lse;
  return out;
}

/** Index of the largest value (the first one on ties, as torch.argmax). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** The k largest values and their indices, largest first (ties: lower index first). */
export function topk(x: ArrayLike<number>, k: number): { values: number[]; indices: number[] } {
  const values: number[] = [], indices: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (values.length === k && !(v > values[k - 1])) continue;
    let j = values.length === k ? k - 1 : values.length;
    while (j > 0 && v > values[j - 1]) j--;
    values.splice(j, 0, v);
    indices.splice(j, 0, i);
    if (values.length > k) { values.pop(); indices.pop(); }
  }
  return { values, indices };
}

/** Python's round(): halves to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * A small seeded generator (mulberry32): uniform floats in [0, 1), the same stream for the same
 * seed on every platform.
 */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** The next uniform number in [0, 1) (53 random bits from two draws). */
  next(): number {
    const a = this.#next32() >>> 5, b = this.#next32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  #next32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
}

/** Draws an index from softmax(x / temperature) (torch's Categorical(logits=x / T).sample()). */
export function sampleCategorical(x: Float32Array, temperature: number, random: Random): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  const p = new Float64Array(x.length);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += p[i] = Math.exp((x[i] - max) / temperature);
  let u = random.next() * s;
  let last = 0;
  for (let i = 0; i < x.length; i++) {
    if (p[i] === 0) continue;
    last = i;
    u -= p[i];
    if (u < 0) return i;
  }
  return last; // rounding left u a hair above 0: the last possible token
}

/** Picks the next token of every row; `sumLogprobs` (one per row) is updated in place. */
export interface TokenDecoder {
  reset(): void;
  /** Appends one token to every row (beam search may replace the rows); true when all are done. */
  update(tokens: number[][], logits: StepLogits, sumLogprobs: number[]): { tokens: number[][]; completed: boolean };
  /** Candidate sequences per audio (each ending in end of text) and their summed log-probabilities. */
  finalize(tokens: number[][][], sumLogprobs: number[][]): { tokens: number[][][]; sumLogprobs: number[][] };
}

/** Argmax (temperature 0) or sampling from the tempered distribution, row by row. */
export class GreedyDecoder implements TokenDecoder {
  constructor(readonly temperature: number, readonly eot: number, readonly random?: Random) {}

  reset(): void {}

  update(tokens: number[][], logits: StepLogits, sumLogprobs: number[]) {
    let completed = true;
    const next = tokens.map((seq, k) => {
      const r = row(logits, k);
      const last = seq[seq.length - 1];
      let token = this.temperature === 0 ? argmax(r) : sampleCategorical(r, this.temperature, this.random as Random);
      if (last !== this.eot) sumLogprobs[k] += r[token] - logSumExp(r);
      else token = this.eot;
      if (token !== this.eot) completed = false;
      return [...seq, token];
    });
    return { tokens: next, completed };
  }

  finalize(tokens: number[][][], sumLogprobs: number[][]) {
    // Every sequence gets at least one end-of-text token at the end.
    return { tokens: tokens.map((g) => g.map((s) => [...s, this.eot])), sumLogprobs };
  }
}

/** The rows a beam search step keeps, so the caller can reorder the decoder cache. */
export type Rearrange = (sourceIndices: number[]) => void;

/** Beam search with patience (arxiv:2204.05424), as openai-whisper's BeamSearchDecoder. */
export class BeamSearchDecoder implements TokenDecoder {
  readonly patience: number;
  readonly maxCandidates: number;
  #finished?: Map<string, { tokens: number[]; score: number }>[];

  constructor(readonly beamSize: number, readonly eot: number, readonly rearrange: Rearrange, patience?: number) {
    this.patience = patience || 1.0;
    this.maxCandidates = roundHalfEven(beamSize * this.patience);
    if (!(this.maxCandidates > 0)) throw new Error(`Invalid beam size (${beamSize}) or patience (${String(patience)})`);
  }

  reset(): void {
    this.#finished = undefined;
  }

  update(tokens: number[][], logits: StepLogits, sumLogprobs: number[]) {
    if (tokens.length % this.beamSize !== 0) throw new Error(`${tokens.length} rows are not a multiple of the beam size ${this.beamSize}`);
    const nAudio = tokens.length / this.beamSize;
    this.#finished ??= Array.from({ length: nAudio }, () => new Map());
    const nextTokens: number[][] = [], sourceIndices: number[] = [];
    const newlyFinished: Map<string, { tokens: number[]; score: number }>[] = [];
    for (let i = 0; i < nAudio; i++) {
      // STEP 1: cumulative log-probabilities of the candidates (a Map keeps the first insertion
      // order and the last value, as openai's dict does for the identical beams of the first step).
      const candidates = new Map<string, { tokens: number[]; score: number; source: number }>();
      for (let j = 0; j < this.beamSize; j++) {
        const idx = i * this.beamSize + j;
        // log_softmax keeps the order of the logits: the top candidates of the row, then their log-probabilities.
        const r = row(logits, idx);
        const lse = logSumExp(r);
        const { values, indices } = topk(r, this.beamSize + 1);
        values.forEach((x, n) => {
          const lp = x - lse;
          const seq = [...tokens[idx], indices[n]];
          // openai adds in float32 (its sum_logprobs tensor) and stores back into float32.
          const key = seq.join(",");
          const prev = candidates.get(key);
          const entry = { tokens: seq, score: Math.fround(Math.fround(sumLogprobs[idx]) + Math.fround(lp)), source: idx };
          if (prev) Object.assign(prev, { score: entry.score, source: idx });
          else candidates.set(key, entry);
        });
      }
      // STEP 2: keep the best beamSize unfinished sequences; finished ones are set aside.
      const finished = new Map<string, { tokens: number[]; score: number }>();
      let saved = 0;
      for (const [key, c] of stableSortDesc([...candidates])) {
        if (c.tokens[c.tokens.length - 1] === this.eot) {
          finished.set(key, { tokens: c.tokens, score: c.score });
        } else {
          sumLogprobs[nextTokens.length] = c.score;
          nextTokens.push(c.tokens);
          sourceIndices.push(c.source);
          if (++saved === this.beamSize) break;
        }
      }
      newlyFinished.push(finished);
    }
    this.rearrange(sourceIndices);
    this.#finished.forEach((previously, i) => {
      for (const [key, c] of stableSortDesc([...newlyFinished[i]])) {
        if (previously.size >= this.maxCandidates) break; // the candidate list is full
        previously.set(key, c);
      }
    });
    const completed = this.#finished.every((s) => s.size >= this.maxCandidates);
    return { tokens: nextTokens, completed };
  }

  finalize(precedingTokens: number[][][], sumLogprobs: number[][]) {
    const finished = this.#finished ?? precedingTokens.map(() => new Map<string, { tokens: number[]; score: number }>());
    finished.forEach((sequences, i) => {
      if (sequences.size >= this.beamSize) return;
      // Not enough finished: add unfinished beams, best first (np.argsort reversed).
      const order = sumLogprobs[i].map((_, j) => j).sort((a, b) => sumLogprobs[i][a] - sumLogprobs[i][b] || a - b).reverse();
      for (const j of order) {
        const seq = [...precedingTokens[i][j], this.eot];
        const key = seq.join(",");
        const prev = sequences.get(key);
        if (prev) prev.score = sumLogprobs[i][j];
        else sequences.set(key, { tokens: seq, score: sumLogprobs[i][j] });
        if (sequences.size >= this.beamSize) break;
      }
    });
    return {
      tokens: finished.map((s) => [...s.values()].map((c) => c.tokens)),
      sumLogprobs: finished.map((s) => [...s.values()].map((c) => c.score)),
    };
  }
}

// Python's sorted(d, key=d.get, reverse=True): descending by score, stable.
function stableSortDesc<T extends { score: number }>(entries: [string, T][]): [string, T][] {
  return entries.map((e, i) => ({ e, i })).sort((a, b) => b.e[1].score - a.e[1].score || a.i - b.i).map((x) => x.e);
}

/**
 * Ranks a group of candidates by summed log-probability over length (or the Google NMT length
 * penalty ((5 + length) / 6) ** alpha when `lengthPenalty` is set) and returns each group's best.
 */
export class MaximumLikelihoodRanker {
  constructor(readonly lengthPenalty?: number) {}

  rank(tokens: readonly (readonly (readonly number[])[])[], sumLogprobs: readonly (readonly number[])[]): number[] {
    return tokens.map((group, g) => {
      const scores = group.map((t, j) => {
        const penalty = this.lengthPenalty === undefined ? t.length : ((5 + t.length) / 6) ** this.lengthPenalty;
        return sumLogprobs[g][j] / penalty;
      });
      return argmax(scores);
    });
  }
}
