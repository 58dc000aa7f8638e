import { afterAll, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";

const { random } = tc;
const threads = tc.numThreads();
afterAll(() => tc.setNumThreads(threads));

const u32 = (t: tc.Tensor) => Array.from(t.dataSync() as Uint32Array);
const f32 = (t: tc.Tensor) => Array.from(t.dataSync() as Float32Array);
const keyOf = (k0: number, k1: number) => tc.tensor(new Uint32Array([k0, k1]));

function meanStd(v: ArrayLike<number>): [number, number] {
  let s = 0, s2 = 0;
  for (let i = 0; i < v.length; i++) { s += v[i]; s2 += v[i] * v[i]; }
  const m = s / v.length;
  return [m, Math.sqrt(s2 / v.length - m * m)];
}

// Pearson's chi-square statistic of observed counts against expected probabilities.
function chiSquare(counts: number[], probs: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.reduce((acc, c, i) => acc + (c - n * probs[i]) ** 2 / (n * probs[i]), 0);
}

// Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), for the normal CDF's bin probabilities.
function erf(x: number): number {
  const s = Math.sign(x), a = Math.abs(x), t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
const normalCdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));

// chi-square critical values at p = 1e-4 (a correct generator fails one test in ~10^4 runs; a
// wrong distribution or broken stream lands far above them).
const CHI2_1E4 = { 3: 21.1, 9: 33.7, 19: 48.0, 29: 59.7 } as const;

describe("threefry2x32", () => {
  it("matches the Random123 / JAX known-answer vectors (20 rounds)", () => {
    const cases: [number, number, number, number, number, number][] = [
      [0, 0, 0, 0, 0x6b200159, 0x99ba4efe],
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x1cb996fc, 0xbb002be7],
      [0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3, 0xc4923a9c, 0x483df7a0],
    ];
    for (const [k0, k1, c0, c1, e0, e1] of cases) {
      const out = random.threefry2x32(keyOf(k0, k1), tc.tensor(new Uint32Array([c0, c1])));
      expect(u32(out)).toEqual([e0, e1]);
    }
    // Batched counters hash pair by pair.
    const counts = tc.tensor(new Uint32Array([0, 0, 0x243f6a88, 0x85a308d3]), { shape: [2, 2] });
    expect(u32(random.threefry2x32(keyOf(0x13198a2e, 0x03707344), counts))[2]).toBe(0xc4923a9c);
  });

  it("is the stream every draw reads: word 2b, 2b + 1 hash the counter (b, 0)", () => {
    const k = random.key(42);
    const words = u32(random.bits([7], { key: k }));
    const counts = tc.tensor(new Uint32Array([0, 0, 1, 0, 2, 0, 3, 0]), { shape: [4, 2] });
    expect(words).toEqual(u32(random.threefry2x32(k, counts)).slice(0, 7));
    expect(u32(random.split(k, 3))).toEqual(u32(random.bits([6], { key: k })));
  });
});

describe("keys", () => {
  it("key(seed) is [seed / 2^32, seed mod 2^32] as in JAX and MLX", () => {
    expect(u32(random.key(0))).toEqual([0, 0]);
    expect(u32(random.key(7))).toEqual([0, 7]);
    expect(u32(random.key(2 ** 32 + 5))).toEqual([1, 5]);
    expect(random.key(1).dtype).toBe("uint32");
  });

  it("split gives [num, 2] keys with distinct, uncorrelated streams", () => {
    const ks = random.split(random.key(1), 4);
    expect(ks.shape).toEqual([4, 2]);
    const rows = (u32(ks) as number[]);
    const draws = [0, 1, 2, 3].map((i) => f32(random.uniform([20000], { key: keyOf(rows[2 * i], rows[2 * i + 1]) })));
    for (let i = 0; i < 4; i++) {
      for (let j = i + 1; j < 4; j++) {
        expect(draws[i].slice(0, 10)).not.toEqual(draws[j].slice(0, 10));
        let c = 0;
        for (let t = 0; t < 20000; t++) c += (draws[i][t] - 0.5) * (draws[j][t] - 0.5);
        expect(Math.abs(c / 20000 / (1 / 12))).toBeLessThan(0.04); // correlation; 4.0 sigma is 0.028
      }
    }
  });
});

describe("counter-based determinism", () => {
  it("same key gives the same numbers with one thread or two", () => {
    const k = random.key(123);
    const draw = () => [
      f32(random.uniform([100001], { key: k })),
      f32(random.normal([100001], { key: k })),
      Array.from(random.categorical(tc.zeros([3000, 10]), { key: k }).dataSync() as Int32Array),
    ];
    tc.setNumThreads(1);
    const one = draw();
    tc.setNumThreads(2);
    const two = draw();
    expect(two).toEqual(one);
  });

  it("an element depends only on its index: prefixes and reshapes agree", () => {
    const k = random.key(9);
    const big = f32(random.normal([2 * 50001], { key: k }));
    expect(f32(random.normal([50001], { key: k }))).toEqual(big.slice(0, 50001));
    expect(f32(random.uniform([2, 3], { key: k }))).toEqual(f32(random.uniform([6], { key: k })));
    expect(u32(random.bits([33333], { key: k }))).toEqual(u32(random.bits([40001], { key: k })).slice(0, 33333));
  });

  it("the default key: seed() reproduces, successive calls differ, tidy scopes keep it alive", () => {
    random.seed(5);
    const a = f32(random.uniform([4]));
    const b = f32(random.uniform([4]));
    expect(a).not.toEqual(b);
    random.seed(5);
    const a2 = tc.tidy(() => f32(random.uniform([4])));
    const b2 = tc.tidy(() => f32(random.normal([4])) && f32(random.uniform([4])));
    expect(a2).toEqual(a);
    expect(b2).not.toEqual(b); // the normal draw advanced the default key once more
    random.seed(5);
    random.uniform([1]);
    random.uniform([1]);
    expect(f32(random.uniform([4]))).toEqual(b2);
    expect(() => random.seed(-2)).toThrow("random.seed: seed must be a non-negative integer below 2^53, got -2");
  });

  it("the default key advances as split(key)[0] and draws with split(key)[1], as MLX", () => {
    random.seed(2 ** 40 + 11);
    const d1 = f32(random.normal([3]));
    const d2 = f32(random.uniform([3]));
    const s1 = u32(random.split(random.key(2 ** 40 + 11)));
    expect(d1).toEqual(f32(random.normal([3], { key: keyOf(s1[2], s1[3]) })));
    const s2 = u32(random.split(keyOf(s1[0], s1[1])));
    expect(d2).toEqual(f32(random.uniform([3], { key: keyOf(s2[2], s2[3]) })));
  });
});

describe("distributions", () => {
  const N = 100000;

  it("uniform: in [low, high), right mean and std, flat histogram", () => {
    const v = f32(random.uniform([N], { key: random.key(1) }));
    const [m, s] = meanStd(v);
    expect(Math.abs(m - 0.5)).toBeLessThan(0.005); // 5.5 sigma
    expect(Math.abs(s - Math.sqrt(1 / 12))).toBeLessThan(0.004);
    const counts = new Array(20).fill(0);
    for (const x of v) counts[Math.floor(x * 20)]++;
    expect(chiSquare(counts, new Array(20).fill(1 / 20))).toBeLessThan(CHI2_1E4[19]);
    const w = f32(random.uniform([N], { low: -3, high: -1, key: random.key(2) }));
    expect(w.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(-3);
    expect(w.reduce((a, b) => Math.max(a, b))).toBeLessThan(-1);
    expect(Math.abs(meanStd(w)[0] + 2)).toBeLessThan(0.01);
  });

  it("uniform halves stay below high after the cast", () => {
    for (const dtype of ["float16", "bfloat16"] as const) {
      const v = random.uniform([200000], { dtype, key: random.key(3) });
      expect(v.dtype).toBe(dtype);
      const x = f32(v);
      // Without the clamp ~1 in 2^12 (float16) / 2^9 (bfloat16) draws would round up to 1.
      expect(x.reduce((a, b) => Math.max(a, b))).toBeLessThan(1);
      expect(x.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(0);
      expect(Math.abs(meanStd(x)[0] - 0.5)).toBeLessThan(0.01);
    }
  });

  it("normal: mean, std, symmetric tails, chi-square against the normal CDF", () => {
    const v = f32(random.normal([N], { key: random.key(4) }));
    const [m, s] = meanStd(v);
    expect(Math.abs(m)).toBeLessThan(0.016); // 5 sigma
    expect(Math.abs(s - 1)).toBeLessThan(0.012);
    const edges = [-Infinity, ...Array.from({ length: 29 }, (_, i) => -3.5 + (7 * i) / 28), Infinity];
    const probs = edges.slice(1).map((e, i) => normalCdf(e) - normalCdf(edges[i]));
    const counts = new Array(30).fill(0);
    for (const x of v) {
      let b = 0;
      while (x >= edges[b + 1]) b++;
      counts[b]++;
    }
    expect(chiSquare(counts, probs)).toBeLessThan(CHI2_1E4[29]);
    const shifted = f32(random.normal([N], { loc: 3, scale: 0.5, key: random.key(4) }));
    expect(shifted[17]).toBeCloseTo(3 + 0.5 * v[17], 5);
    const half = random.normal([1000], { dtype: "bfloat16", key: random.key(4) });
    expect(half.dtype).toBe("bfloat16");
    expect(f32(half)[5]).toBeCloseTo(v[5], 1);
  });

  it("categorical: frequencies follow softmax(logits), per row and along any axis", () => {
    const p = [0.1, 0.2, 0.3, 0.4];
    const logits = tc.log(tc.tensor([p]));
    const s = random.categorical(logits, { numSamples: 40000, key: random.key(5) });
    expect(s.shape).toEqual([1, 40000]);
    expect(s.dtype).toBe("int32");
    const counts = [0, 0, 0, 0];
    for (const c of s.dataSync() as Int32Array) counts[c]++;
    expect(chiSquare(counts, p)).toBeLessThan(CHI2_1E4[3]);
    // Classes on axis 0 of [4, 3]; -inf never drawn; a dominant logit always wins.
    const cols = tc.tensor([[0, -Infinity, 0], [0, 50, -Infinity], [0, -Infinity, 0], [0, -Infinity, -Infinity]]);
    const d = random.categorical(cols, { axis: 0, numSamples: 2000, key: random.key(6) });
    expect(d.shape).toEqual([3, 2000]);
    const rows = d.tolist() as number[][];
    expect(rows[1].every((c) => c === 1)).toBe(true);
    expect(rows[2].every((c) => c === 0 || c === 2)).toBe(true);
    const n2 = rows[2].filter((c) => c === 2).length;
    expect(Math.abs(n2 - 1000)).toBeLessThan(200); // 9 sigma
    const uniform10 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (const c of random.categorical(tc.zeros([20000, 10]), { key: random.key(7) }).dataSync() as Int32Array) uniform10[c]++;
    expect(chiSquare(uniform10, new Array(10).fill(0.1))).toBeLessThan(CHI2_1E4[9]);
    expect(random.categorical(tc.zeros([2, 3, 5]), { axis: 1, key: random.key(1) }).shape).toEqual([2, 5]);
  });

  it("bernoulli: true with probability p, broadcast over shape", () => {
    const b = random.bernoulli(0.3, { shape: [N], key: random.key(8) });
    expect(b.dtype).toBe("bool");
    const mean = (b.dataSync() as Uint8Array).reduce((a, x) => a + x, 0) / N;
    expect(Math.abs(mean - 0.3)).toBeLessThan(0.0075); // 5 sigma
    const m = random.bernoulli(tc.tensor([0, 1, 0.5]), { shape: [10000, 3], key: random.key(9) }).tolist() as number[][];
    expect(m.every((r) => r[0] === 0 && r[1] === 1)).toBe(true);
    expect(Math.abs(m.reduce((a, r) => a + r[2], 0) - 5000)).toBeLessThan(300);
    expect(random.bernoulli(tc.full([2, 2], 0.5)).shape).toEqual([2, 2]);
  });
});

describe("random rejects bad input", () => {
  const k = random.key(0);
  it("keys and seeds", () => {
    expect(() => random.key(-1)).toThrow("random.key: seed must be a non-negative integer below 2^53, got -1");
    expect(() => random.key(1.5)).toThrow("random.key: seed must be a non-negative integer below 2^53, got 1.5");
    expect(() => random.uniform([2], { key: tc.tensor([1, 2]) })).toThrow(
      "random.uniform: key must be a uint32 tensor of shape [2] (from random.key() or random.split()), got int32 [2]");
    expect(() => random.split(random.split(k), 2)).toThrow(/random.split: key must be a uint32 tensor of shape \[2\].*got uint32 \[2, 2\]/);
    expect(() => random.split(k, 0)).toThrow("random.split: num must be a positive integer, got 0");
    expect(() => random.threefry2x32(k, tc.tensor(new Uint32Array([1, 2, 3])))).toThrow(
      "random.threefry2x32: counts must be a uint32 array of shape [..., 2], got uint32 [3]");
  });

  it("distribution parameters", () => {
    expect(() => random.uniform([2], { low: 1, high: 1, key: k })).toThrow("random.uniform: low and high must be numbers with low < high, got low = 1, high = 1");
    expect(() => random.uniform([2], { dtype: "int32", key: k })).toThrow("random.uniform: dtype must be float32, float16 or bfloat16, got int32");
    expect(() => random.uniform([-1], { key: k })).toThrow("random.uniform: shape must be an array of non-negative integers, got [-1]");
    expect(() => random.normal([2], { scale: -1, key: k })).toThrow("random.normal: scale must be a finite non-negative number, got -1");
    expect(() => random.normal([2], { loc: NaN, key: k })).toThrow("random.normal: loc must be a finite number, got NaN");
    expect(() => random.categorical(tc.zeros([2, 3]), { numSamples: -1, key: k })).toThrow("random.categorical: numSamples must be a non-negative integer, got -1");
    expect(() => random.categorical(tc.zeros([2, 3]), { axis: 2, key: k })).toThrow("random.categorical: axis 2 is out of range for an array of 2 dimensions");
    expect(() => random.categorical(tc.zeros([2, 0]), { key: k })).toThrow("random.categorical: logits have no classes: axis -1 of shape [2, 0] is empty");
    expect(() => random.categorical(tc.tensor([1, 2]), { key: k })).toThrow("random.categorical: logits must be floating, got int32");
    expect(() => random.bernoulli(1.5)).toThrow("random.bernoulli: p must be in [0, 1], got 1.5");
    expect(() => random.bernoulli(tc.full([3], 0.5), { shape: [2], key: k })).toThrow(
      "random.bernoulli: p of shape [3] does not broadcast to shape [2]");
    expect(() => random.bernoulli(tc.full([3], 0.5), { shape: [2, 1], key: k })).toThrow(
      "random.bernoulli: p of shape [3] does not broadcast to shape [2, 1]");
  });
});
