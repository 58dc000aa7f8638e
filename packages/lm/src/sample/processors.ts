// The logit transforms of sampling, in transformers' generate() order: logit bias, repetition penalty,
// (OpenAI's frequency/presence penalties), then temperature, top-k, top-p, min-p. All work on a
// vocabulary-sized Float32Array on the host in O(vocab), sorting only the few tokens that matter.
import type { ResolvedSamplingOptions } from "./options.js";

/** The tokens still possible after filtering, with their probabilities (summing to 1). */
export interface Candidates {
  ids: Int32Array;
  probs: Float64Array;
}

/** Applies logit bias and the penalties to `scores` in place. */
export function applyBiasAndPenalties(scores: Float32Array, history: readonly number[], o: ResolvedSamplingOptions): void {
  const v = scores.length;
  for (const [id, b] of o.logitBias) {
    if (id >= v) throw new Error(`logitBias names token ${id}, but the vocabulary has ${v} tokens`);
    scores[id] += b;
  }
  const usesPenalty = o.repetitionPenalty !== 1 || o.frequencyPenalty !== 0 || o.presencePenalty !== 0;
  if (!usesPenalty || history.length === 0) return;
  const counts = new Map<number, number>();
  for (let i = Math.max(0, history.length - o.penaltyWindow); i < history.length; i++) {
    const t = history[i];
    if (!Number.isInteger(t) || t < 0 || t >= v) throw new Error(`History token ${t} is out of range for ${v} logits`);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  for (const [t, c] of counts) {
    let s = scores[t];
    if (o.repetitionPenalty !== 1) s = s < 0 ? s * o.repetitionPenalty : s / o.repetitionPenalty;
    scores[t] = s - o.frequencyPenalty * c - o.presencePenalty;
  }
}

/** The index of the largest finite score (the first on ties); -1 if none is finite. */
export function argmax(scores: Float32Array): number {
  let best = -1;
  let bv = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] > bv) {
      bv = scores[i];
      best = i;
    }
  }
  return best;
}

/** The k-th largest of `values` (1-based k <= length), by quickselect on a copy. */
function kthLargest(values: Float32Array, k: number): number {
  const a = values.slice();
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

function finiteIds(scores: Float32Array, min: number): Int32Array {
  const ids = new Int32Array(scores.length);
  let n = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] >= min && scores[i] > -Infinity) ids[n++] = i;
  return ids.subarray(0, n);
}

/**
 * The tokens that survive temperature, top-k, top-p and min-p, with their renormalized probabilities
 * (the distribution transformers' warpers give), ids ascending. `scores` must already carry bias and
 * penalties; temperature must be > 0.
 */
export function candidates(scores: Float32Array, o: ResolvedSamplingOptions): Candidates {
  let threshold = -Infinity;
  if (o.topK > 0 && o.topK < scores.length) threshold = kthLargest(scores, o.topK);
  let ids = finiteIds(scores, threshold);
  if (ids.length === 0) throw new Error("No token is possible: every logit is -Infinity (check logitBias and the grammar mask)");
  let max = -Infinity;
  for (const i of ids) if (scores[i] > max) max = scores[i];
  const invT = 1 / o.temperature;
  // Unnormalized probabilities, as a sparse map over the vocabulary.
  const z = new Float64Array(scores.length);
  let total = 0;
  for (const i of ids) total += z[i] = Math.exp((scores[i] - max) * invT);
  if (o.topP < 1) ids = topP(ids, scores, z, total, o.topP, invT, max);
  if (o.minP > 0) {
    // p_i >= minP * p_max, with p_max from the distribution left after top-k/top-p (as transformers): z[max] = 1.
    const keep = ids.filter((i) => z[i] >= o.minP);
    ids = keep.length > 0 ? keep : Int32Array.of(ids.reduce((a, b) => (z[b] > z[a] ? b : a)));
  }
  let sum = 0;
  for (const i of ids) sum += z[i];
  const probs = new Float64Array(ids.length);
  for (let k = 0; k < ids.length; k++) probs[k] = z[ids[k]] / sum;
  return { ids, probs };
}

/**
 * Top-p: keeps the most likely tokens (score descending, then id ascending) until their mass reaches p,
 * at least one. Only the tokens above a cut-off whose mass already reaches p are sorted (cut-offs widen
 * until it does), and only their scores, as a typed array; the kept set is then the scores above the
 * last kept value and, of the ties at it, the lowest ids.
 */
function topP(ids: Int32Array, scores: Float32Array, z: Float64Array, total: number, p: number, invT: number, max: number): Int32Array {
  const goal = p * total;
  for (const logRatio of [-8, -16, -32, -Infinity]) {
    const cut = max + logRatio / invT;
    const head = logRatio === -Infinity ? ids : ids.filter((i) => scores[i] >= cut);
    let mass = 0;
    for (const i of head) mass += z[i];
    if (mass < goal && logRatio !== -Infinity) continue;
    const sorted = Float32Array.from(head, (i) => scores[i]).sort();
    let n = 0;
    let acc = 0;
    let last = sorted[sorted.length - 1];
    for (let k = sorted.length - 1; k >= 0 && (n === 0 || acc < goal); k--) {
      last = sorted[k];
      acc += Math.exp((last - max) * invT);
      n++;
    }
    let ties = n - head.filter((i) => scores[i] > last).length;
    return head.filter((i) => scores[i] > last || (scores[i] === last && ties-- > 0));
  }
  return ids;
}
