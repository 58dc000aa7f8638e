// Accuracy of the SIMD float32 math kernels (native/src/backend/cpu/simd_math.h) against float64
// math, over dense grids and log-spaced magnitudes of both signs (~100k inputs per function). Error
// is measured in float32 ulps of the exact result (a correctly rounded result is within 0.5 ulp);
// results below 2^-120 (near float32's subnormal range) only need to be within 2^-120.
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";

// ---------------------------------------------------------------------------------------------
// float64 references where JS has none: erf by its Taylor series below 2.5, erfc by its continued
// fraction above (both to ~1e-13 relative).
function erfSeries(x: number): number {
  let term = x, sum = x;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
function erfcFraction(x: number): number {
  // erfc(x) = exp(-x^2) / sqrt(pi) * 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), x > 0
  let f = x;
  for (let k = 120; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}
const erfc = (x: number): number => (Math.abs(x) < 2.5 ? 1 - erfSeries(x) : x > 0 ? erfcFraction(x) : 2 - erfcFraction(-x));
const erf = (x: number): number => (Math.abs(x) < 2.5 ? erfSeries(x) : Math.sign(x) * (1 - erfcFraction(Math.abs(x))));

const REF: Record<string, (x: number) => number> = {
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  erf,
  silu: (x) => x / (1 + Math.exp(-x)),
  softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  geluExact: (x) => 0.5 * x * erfc(-x / Math.SQRT2),
  geluTanh: (x) => x / (1 + Math.exp(-2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
};
const OPS: Record<string, (a: tc.Tensor) => tc.Tensor> = {
  exp: tc.exp, log: tc.log, log1p: tc.log1p, sin: tc.sin, cos: tc.cos, tanh: tc.tanh, sigmoid: tc.sigmoid, erf: tc.erf,
  silu: tc.silu, softplus: tc.softplus, geluExact: (a) => tc.gelu(a), geluTanh: (a) => tc.gelu(a, "tanh"),
};

const f32 = Math.fround;
/** A float32 ulp at |v| (the subnormal step below the normal range). */
function ulp(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** Dense linear grid on [lo, hi] plus log-spaced magnitudes in [minMag, maxMag] of both signs (filtered). */
function inputs(lo: number, hi: number, minMag: number, maxMag: number, keep: (x: number) => boolean = () => true): Float32Array {
  const out: number[] = [];
  const dense = 60000;
  for (let i = 0; i <= dense; i++) out.push(f32(lo + ((hi - lo) * i) / dense));
  const decades = Math.log10(maxMag / minMag);
  const perDecade = 2000;
  for (let i = 0; i <= decades * perDecade; i++) {
    const m = f32(minMag * 10 ** (i / perDecade));
    out.push(m, -m);
  }
  return Float32Array.from(out.filter(keep));
}

interface Spec {
  grid: [number, number]; // dense linear grid
  mags: [number, number]; // log-spaced magnitudes, both signs
  ulps: number; // max error in float32 ulps of the exact result
  keep?: (x: number) => boolean; // domain filter
  // Below `tailFrom`, a relative tolerance instead (see geluTanh).
  tailFrom?: number;
  tailRtol?: number;
}

interface Worst { err: number; x: number; got: number; want: number }

// Below this, results (or the exponentials inside silu and the GELUs) are subnormal: absolute tolerance.
const TINY = 2 ** -120;

/** Worst error over xs: in ulps, or relative / tailRtol below spec.tailFrom (so 1 = at tolerance). */
function measure(name: string, xs: Float32Array, spec: Spec): Worst {
  const got = OPS[name](tc.tensor(xs)).dataSync() as Float32Array;
  const worst: Worst = { err: 0, x: 0, got: 0, want: 0 };
  for (let i = 0; i < xs.length; i++) {
    const want = REF[name](xs[i]);
    if (!Number.isFinite(want)) {
      if (got[i] !== f32(want) && !(Number.isNaN(want) && Number.isNaN(got[i]))) return { err: Infinity, x: xs[i], got: got[i], want };
      continue;
    }
    const diff = Math.abs(got[i] - want);
    let e: number;
    if (Math.abs(want) < TINY) e = diff <= TINY ? 0 : Infinity;
    else if (spec.tailFrom !== undefined && xs[i] < spec.tailFrom) e = (spec.ulps * diff) / Math.abs(want) / spec.tailRtol!;
    else e = diff / ulp(want);
    if (Number.isNaN(e)) e = Infinity;
    if (e > worst.err) Object.assign(worst, { err: e, x: xs[i], got: got[i], want });
  }
  return worst;
}

const SPECS: Record<string, Spec> = {
  exp: { grid: [-103, 88.7], mags: [1e-30, 88.7], ulps: 2 },
  log: { grid: [1e-3, 100], mags: [1e-45, 3e38], ulps: 2, keep: (x) => x > 0 },
  log1p: { grid: [-0.999, 10], mags: [1e-30, 3e38], ulps: 3, keep: (x) => x > -1 },
  sin: { grid: [-100, 100], mags: [1e-30, 1e30], ulps: 2 },
  cos: { grid: [-100, 100], mags: [1e-30, 1e30], ulps: 2 },
  tanh: { grid: [-12, 12], mags: [1e-30, 1e30], ulps: 2 },
  sigmoid: { grid: [-105, 90], mags: [1e-30, 1e30], ulps: 3 },
  erf: { grid: [-5, 5], mags: [1e-30, 1e30], ulps: 3 },
  silu: { grid: [-105, 90], mags: [1e-30, 1e30], ulps: 4 },
  softplus: { grid: [-105, 90], mags: [1e-30, 1e30], ulps: 4 },
  geluExact: { grid: [-14, 14], mags: [1e-30, 1e30], ulps: 7 },
  // The tanh form's argument 2u = 2c (x + 0.044715 x^3) is rounded in float32, and e^-|2u| scales
  // that error by |2u| (any float32 evaluation of the formula does): 32 ulp (2e-6) down to x = -5,
  // 2e-5 relative further out where the values are below 1e-6.
  geluTanh: { grid: [-10, 10], mags: [1e-30, 1e30], ulps: 32, tailFrom: -5, tailRtol: 2e-5 },
};

describe("SIMD float32 math against float64", () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    const { grid, mags, ulps } = spec;
    it(`${name} is within ${ulps} ulp on [${grid}] and at magnitudes ${mags[0]}..${mags[1]}`, () => {
      const w = measure(name, inputs(grid[0], grid[1], mags[0], mags[1], spec.keep), spec);
      expect(w.err, `worst at x=${w.x}: got ${w.got}, want ${w.want}`).toBeLessThanOrEqual(ulps);
    });
  }

  it("is exact at special values", () => {
    const x = tc.tensor([NaN, Infinity, -Infinity, 0]);
    const want: Record<string, number[]> = {
      exp: [NaN, Infinity, 0, 1], log: [NaN, Infinity, NaN, -Infinity], log1p: [NaN, Infinity, NaN, 0],
      sin: [NaN, NaN, NaN, 0], cos: [NaN, NaN, NaN, 1], tanh: [NaN, 1, -1, 0], sigmoid: [NaN, 1, 0, 0.5],
      erf: [NaN, 1, -1, 0], silu: [NaN, Infinity, -0, 0], softplus: [NaN, Infinity, 0, Math.LN2],
      geluExact: [NaN, Infinity, -0, 0], geluTanh: [NaN, Infinity, -0, 0],
    };
    for (const [name, w] of Object.entries(want)) expect(OPS[name](x).tolist(), name).toEqual(w.map(f32));
    expect(tc.log(tc.tensor([-1, -0, 2 ** -149, 1])).tolist()).toEqual([NaN, -Infinity, f32(Math.log(2 ** -149)), 0]);
    expect(tc.log1p(tc.tensor([-1, -2, 1e-30])).tolist()).toEqual([-Infinity, NaN, f32(1e-30)]);
    // Overflow just past float32's largest exp, 0 past its smallest subnormal, 1 for tiny x.
    expect(tc.exp(tc.tensor([88.73, 1000, -104, -1000, 1e-30, -1e-30])).tolist()).toEqual([Infinity, Infinity, 0, 0, 1, 1]);
    expect(Number.isFinite(tc.exp(tc.tensor([88.72])).item())).toBe(true);
  });
});
