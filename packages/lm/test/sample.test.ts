// Sampling: the kept tokens and probabilities of temperature / top-k / top-p / min-p / repetition
// penalty equal transformers' warpers on fixed logits (tools/reference/gen_lm_sampling.py); OpenAI's
// frequency/presence penalties and logit bias by their definition; seeds; logprobs; masks; validation.
import { describe, expect, it } from "vitest";
import { applyBiasAndPenalties, candidates, makeSampler, Prng, resolveSamplingOptions } from "@tessera/lm";
import type { SamplingOptions } from "@tessera/lm";
import { loadFixture } from "../../../test/helpers/reference.js";

interface SamplingCase {
  name: string;
  set: number;
  options: SamplingOptions;
  kept: number[];
  probs: number[];
}
const fx = loadFixture<{ sets: { logits: number[]; history: number[] }[]; cases: SamplingCase[] }>("lm/sampling.json");

function distribution(logits: Float32Array, history: number[], opts: SamplingOptions): { ids: number[]; probs: number[] } {
  const o = resolveSamplingOptions(opts);
  const s = Float32Array.from(logits);
  applyBiasAndPenalties(s, history, o);
  const c = candidates(s, o);
  return { ids: [...c.ids], probs: [...c.probs] };
}

describe("filters match transformers' logits warpers", () => {
  it.each(fx.cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const { logits, history } = fx.sets[c.set];
    const d = distribution(Float32Array.from(logits), history, c.options);
    expect(d.ids).toEqual(c.kept);
    d.probs.forEach((p, i) => expect(Math.abs(p - c.probs[i])).toBeLessThanOrEqual(1e-6 + 1e-4 * c.probs[i]));
  });
});

describe("penalties and bias", () => {
  const logits = Float32Array.from([2, -1, 0.5, 3, -2]);
  it("frequency and presence penalties follow OpenAI's definition", () => {
    const s = Float32Array.from(logits);
    // mu[j] -= c[j] * frequency + (c[j] > 0) * presence
    applyBiasAndPenalties(s, [0, 0, 3, 1, 0], resolveSamplingOptions({ frequencyPenalty: 0.5, presencePenalty: 0.25 }));
    expect([...s]).toEqual([2 - 1.5 - 0.25, -1 - 0.5 - 0.25, 0.5, 3 - 0.5 - 0.25, -2]);
  });
  it("repetition penalty divides positive and multiplies negative logits, once per distinct token", () => {
    const s = Float32Array.from(logits);
    applyBiasAndPenalties(s, [0, 0, 1], resolveSamplingOptions({ repetitionPenalty: 2 }));
    expect([...s]).toEqual([1, -2, 0.5, 3, -2]);
  });
  it("penaltyWindow only counts the last tokens of the history", () => {
    const s = Float32Array.from(logits);
    applyBiasAndPenalties(s, [3, 3, 0], resolveSamplingOptions({ presencePenalty: 1, penaltyWindow: 1 }));
    expect([...s]).toEqual([1, -1, 0.5, 3, -2]);
  });
  it("logit bias is added (a Map or an object with string keys), and can flip greedy choice", () => {
    const greedy = makeSampler({ temperature: 0, logitBias: { 1: 10 } });
    expect(greedy(logits, []).token).toBe(1);
    expect(makeSampler({ temperature: 0, logitBias: new Map([[3, -100]]) })(logits, []).token).toBe(0);
    expect(makeSampler({ temperature: 0 })(logits, []).token).toBe(3);
  });
});

describe("makeSampler", () => {
  const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i * 1.7) * 3);
  const run = (opts: SamplingOptions, n = 200): number[] => {
    const s = makeSampler(opts);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(s(logits, out).token);
    return out;
  };
  it("repeats with the same seed and differs with another", () => {
    const opts = { temperature: 0.9, topP: 0.95, repetitionPenalty: 1.1, seed: 42 };
    expect(run(opts)).toEqual(run(opts));
    expect(run(opts)).not.toEqual(run({ ...opts, seed: 43 }));
  });
  it("draws tokens with their probabilities", () => {
    const opts = { temperature: 0.7, topK: 8 };
    const { ids, probs } = distribution(logits, [], opts);
    const s = makeSampler({ ...opts, seed: 7 });
    const n = 20000;
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const t = s(logits, []).token;
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    expect([...counts.keys()].every((t) => ids.includes(t))).toBe(true);
    ids.forEach((t, k) => expect(Math.abs((counts.get(t) ?? 0) / n - probs[k])).toBeLessThan(4 * Math.sqrt(probs[k] / n) + 1e-3));
  });
  it("never picks a masked token, and greedy picks the best allowed one", () => {
    const mask = new Uint8Array(50);
    mask[4] = mask[9] = mask[17] = 1;
    const s = makeSampler({ seed: 1 });
    for (let i = 0; i < 300; i++) expect([4, 9, 17]).toContain(s(logits, [], mask).token);
    const best = [4, 9, 17].reduce((a, b) => (logits[b] > logits[a] ? b : a));
    expect(makeSampler({ temperature: 0 })(logits, [], mask).token).toBe(best);
    expect(() => makeSampler({ temperature: 0 })(logits, [], new Uint8Array(50))).toThrow(/No token is possible/);
    expect(() => s(logits, [], new Uint8Array(3))).toThrow(/mask has 3 entries for 50 logits/);
  });
  it("reports raw log-probabilities and the top-n", () => {
    const l = Float32Array.from([1, 3, 2, 3]);
    const lse = Math.log(Math.E + Math.exp(3) * 2 + Math.exp(2));
    const r = makeSampler({ temperature: 0, topLogprobs: 3, repetitionPenalty: 5 })(l, [1]);
    expect(r.token).toBe(3);
    expect(r.logprob).toBeCloseTo(3 - lse, 6);
    expect(r.topLogprobs?.map((x) => x.token)).toEqual([1, 3, 2]);
    r.topLogprobs?.forEach((x) => expect(x.logprob).toBeCloseTo(l[x.token] - lse, 6));
  });
  it("rejects invalid options with clear errors", () => {
    const bad: [SamplingOptions, RegExp][] = [
      [{ temperature: -1 }, /temperature: -1/],
      [{ temperature: NaN }, /temperature: NaN/],
      [{ topK: 2.5 }, /topK: 2.5/],
      [{ topP: 0 }, /topP: 0 \(in \(0, 1\]/],
      [{ topP: 1.5 }, /topP: 1.5/],
      [{ minP: -0.1 }, /minP/],
      [{ repetitionPenalty: 0 }, /repetitionPenalty: 0/],
      [{ frequencyPenalty: Infinity }, /frequencyPenalty/],
      [{ seed: 1.5 }, /seed: 1.5/],
      [{ topLogprobs: -1 }, /topLogprobs/],
      [{ logitBias: { abc: 1 } as never }, /key abc is not a token id/],
      [{ logitBias: { 3: "x" } as never }, /bias for token 3/],
      [{ temperature: "hot" } as never, /temperature: hot/],
    ];
    for (const [o, re] of bad) expect(() => makeSampler(o), JSON.stringify(o)).toThrow(re);
    expect(() => makeSampler({ logitBias: { 99: 1 } })(Float32Array.from([1, 2]), [])).toThrow(/logitBias names token 99/);
    expect(() => makeSampler({ presencePenalty: 1 })(Float32Array.from([1, 2]), [5])).toThrow(/History token 5/);
    expect(() => makeSampler()(new Float32Array(0), [])).toThrow(/non-empty Float32Array/);
  });
});

describe("Prng", () => {
  it("is deterministic per seed and roughly uniform", () => {
    const a = new Prng(123);
    const b = new Prng(123);
    const xs = Array.from({ length: 10000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 10000 }, () => b.next()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(new Prng(124).next()).not.toBe(new Prng(123).next());
    expect(new Prng(2 ** 40).next()).not.toBe(new Prng(0).next());
  });
});
