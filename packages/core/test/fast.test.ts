// Fused fast ops against NumPy fixtures (tools/reference/gen_fast.py) and against their composite
// references (fast.reference.*) over shapes, masks, head groupings, dtypes and rope variants.
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { expectClose, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefArray, RefCase } from "../../../test/helpers/reference.js";

const { fast } = tc;

// Deterministic standard-normal-ish values (Box-Muller over a small LCG), so tests need no random module.
function randn(shape: number[], seed: number, dtype: tc.DType = "float32", scale = 1): tc.Tensor {
  let s = seed * 2654435761 + 1;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) + 1) / 2147483649;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next()) * scale);
  const t = tc.tensor(data, { shape });
  return dtype === "float32" ? t : t.astype(dtype);
}

function asRef(t: tc.Tensor): RefArray {
  return { shape: [...t.shape], dtype: t.dtype, data: Array.from(t.dataSync() as Float32Array) };
}

const tol: Record<string, { rtol: number; atol: number }> = {
  float32: { rtol: 1e-4, atol: 2e-5 },
  float16: { rtol: 1e-2, atol: 4e-3 },
  bfloat16: { rtol: 3e-2, atol: 3e-2 },
};

function expectMatch(actual: tc.Tensor, expected: tc.Tensor, label: string, t = tol[expected.dtype]): void {
  expectClose(actual, asRef(expected), { ...t, label });
}

describe("fast ops against NumPy fixtures", () => {
  const cases = loadFixture<{ cases: (RefCase & { attrs: Record<string, unknown> })[] }>("core/fast.json").cases;

  it("has cases for every rope scaling variant", () => {
    const names = cases.map((c) => c.name).join("\n");
    for (const v of ["default", "linear", "llama3", "yarn", "yarn-mscale", "yarn-notrunc", "freqs"]) expect(names).toContain(`rope ${v}`);
  });

  for (const c of cases) {
    it(c.name, () => {
      const inputs = c.inputs.map(fromRef);
      const a = c.attrs;
      let out: tc.Tensor;
      if (c.op === "rope") {
        const scaling = fast.ropeScalingFromConfig(a.scaling as Record<string, unknown> | null);
        if (a.invFreq) {
          const p = fast.ropeParameters(a.dims as number, a.base as number, scaling);
          expectClose(tc.tensor(Float32Array.from(p.invFreq)), { shape: [p.invFreq.length], dtype: "float32", data: a.invFreq as number[] }, { rtol: 2e-6, atol: 0, label: "invFreq" });
          expect(p.attentionFactor).toBeCloseTo(a.attentionFactor as number, 6);
        }
        const opts = {
          base: a.base as number | undefined, offset: a.offset as number, traditional: a.traditional as boolean | undefined,
          scale: a.scale as number | undefined, scaling, freqs: inputs[1],
        };
        expectClose(fast.rope(inputs[0], a.dims as number, opts), c.expected, { rtol: c.rtol, atol: c.atol, label: "fused" });
        out = fast.reference.rope(inputs[0], a.dims as number, opts);
      } else if (c.op === "sdpa" || c.op === "sdpaWeights") {
        const mask = a.mask === "causal" ? "causal" : inputs[3] ?? null;
        const r = fast.scaledDotProductAttention(inputs[0], inputs[1], inputs[2], { mask, returnWeights: true });
        if (c.op === "sdpa") expectClose(fast.scaledDotProductAttention(inputs[0], inputs[1], inputs[2], { mask }), c.expected, { rtol: c.rtol, atol: c.atol, label: "fused" });
        out = c.op === "sdpa" ? r.output : r.weights;
      } else if (c.op === "rmsNorm") {
        out = fast.rmsNorm(inputs[0], inputs[1], a.eps as number);
      } else if (c.op === "layerNorm") {
        out = fast.layerNorm(inputs[0], inputs[1], inputs[2], a.eps as number);
      } else {
        out = fast.groupNorm(inputs[0], a.groups as number, inputs[1], inputs[2], a.eps as number);
      }
      expectClose(out, c.expected, { rtol: c.rtol, atol: c.atol });
    });
  }
});

describe("scaledDotProductAttention against the composite reference", () => {
  // [B, Hq, Hkv, L, S, D, Dv]
  const shapes: number[][] = [
    [1, 1, 1, 1, 1, 4, 4],
    [2, 4, 4, 7, 7, 16, 16],
    [1, 8, 2, 3, 130, 32, 24],  // keys span two blocks; Dv not a multiple of 8
    [2, 6, 2, 33, 40, 64, 64],  // several query-row blocks per head
    [1, 2, 2, 70, 300, 64, 64], // prefill: row blocks share keys transposed once, 3 key blocks, S % 8 = 4
    [1, 4, 1, 1, 300, 8, 8],    // decoding with a KV cache, one key/value head
    [1, 2, 1, 1, 1100, 16, 8],  // decoding a long cache: keys split across threads, partials combined
    [1, 2, 1, 3, 1000, 16, 8],  // the same with a causal mask cutting the last split short
    [1, 2, 1, 6, 4, 8, 5],      // more queries than keys
    [1, 3, 3, 5, 9, 3, 7],      // head size below a vector
  ];
  const masks = (b: number, hq: number, l: number, s: number, seed: number): [string, "causal" | tc.Tensor | null][] => [
    ["none", null],
    ["causal", "causal"],
    ["additive [L, S]", randn([l, s], seed)],
    ["bool [B, 1, L, S]", tc.greater(randn([b, 1, l, s], seed + 1), -0.5)],
    ["additive float16 [1, Hq, 1, S]", randn([1, hq, 1, s], seed + 2, "float16")],
  ];
  let seed = 1;
  for (const [b, hq, hkv, l, s, d, dv] of shapes) {
    for (const dtype of ["float32", "float16", "bfloat16"] as const) {
      it(`B=${b} Hq=${hq} Hkv=${hkv} L=${l} S=${s} D=${d} Dv=${dv} ${dtype}`, () => {
        const q = randn([b, hq, l, d], seed++, dtype);
        const k = randn([b, hkv, s, d], seed++, dtype);
        const v = randn([b, hkv, s, dv], seed++, dtype);
        for (const [name, mask] of masks(b, hq, l, s, seed++)) {
          if (dtype !== "float32" && name.startsWith("bool")) continue;
          const expected = fast.reference.scaledDotProductAttention(q, k, v, { mask, returnWeights: true });
          expectMatch(fast.scaledDotProductAttention(q, k, v, { mask }), expected.output, `output, mask ${name}`);
          const got = fast.scaledDotProductAttention(q, k, v, { mask, returnWeights: true });
          expectMatch(got.weights, expected.weights, `weights, mask ${name}`);
          expectMatch(got.output, expected.output, `output with weights, mask ${name}`);
        }
      });
    }
  }

  it("reads strided q, k and v (transposed from [B, L, H, D], sliced from a cache)", () => {
    const q = tc.transpose(randn([2, 5, 4, 16], 91), [0, 2, 1, 3]);
    const cache = randn([2, 2, 12, 16], 92);
    const k = tc.slice(cache, [0, 0, 0, 0], [2, 2, 9, 16]);
    const v = tc.transpose(randn([2, 9, 2, 16], 93), [0, 2, 1, 3]);
    for (const mask of [null, "causal"] as const) {
      const expected = fast.reference.scaledDotProductAttention(q, k, v, { mask, scale: 0.3 });
      expectMatch(fast.scaledDotProductAttention(q, k, v, { mask, scale: 0.3 }), expected, `mask ${mask}`);
    }
  });

  it("gives zeros to queries that see no key, and weights that sum to one otherwise", () => {
    const q = randn([1, 1, 4, 8], 5);
    const k = randn([1, 1, 2, 8], 6);
    const v = randn([1, 1, 2, 8], 7);
    const { output, weights } = fast.scaledDotProductAttention(q, k, v, { mask: "causal", returnWeights: true });
    const o = output.tolist() as number[][][][];
    expect(o[0][0][0].every((x) => x === 0)).toBe(true);
    expect(o[0][0][1].every((x) => x === 0)).toBe(true);
    const w = weights.tolist() as number[][][][];
    expect(w[0][0][2][0]).toBeCloseTo(1, 6);
    expect(w[0][0][3][0] + w[0][0][3][1]).toBeCloseTo(1, 6);
  });

  it("rejects bad input with clear errors", () => {
    const q = randn([1, 4, 3, 8], 1);
    const k = randn([1, 2, 5, 8], 2);
    const v = randn([1, 2, 5, 8], 3);
    const sdpa = fast.scaledDotProductAttention;
    expect(() => sdpa(randn([4, 3, 8], 1), k, v)).toThrow(/q, k and v must be 4-D/);
    expect(() => sdpa(q, randn([1, 3, 5, 8], 1), randn([1, 3, 5, 8], 1))).toThrow(/query heads \(4\) must be a multiple of the key\/value heads \(3\)/);
    expect(() => sdpa(q, randn([1, 2, 5, 6], 1), v)).toThrow(/need the same batch and head size/);
    expect(() => sdpa(q, k, randn([1, 2, 4, 8], 1))).toThrow(/need the same batch, heads and length/);
    expect(() => sdpa(q, k, v, { mask: randn([2, 5], 1) })).toThrow(/mask of shape \[2, 5\] does not broadcast to the scores' shape \[1, 4, 3, 5\]/);
    expect(() => sdpa(q, k, v, { mask: tc.tensor([[1, 2, 3, 4, 5]]) })).toThrow(/mask must be bool \(true keeps\) or floating/);
    expect(() => sdpa(q, k, v, { mask: "upper" as "causal" })).toThrow(/mask must be "causal", a Tensor or null/);
    expect(() => sdpa(q, k, v, { scale: NaN })).toThrow(/scale must be a finite number/);
    expect(() => sdpa(q.astype("int32"), k, v)).toThrow(/q must be float32, float16 or bfloat16, got int32/);
  });
});

describe("norms against the composite reference", () => {
  const shapes = [[7], [3, 5, 33], [2, 300], [4, 1, 8]];
  let seed = 100;
  for (const shape of shapes) {
    for (const dtype of ["float32", "float16", "bfloat16"] as const) {
      it(`rmsNorm and layerNorm ${JSON.stringify(shape)} ${dtype}`, () => {
        const n = shape[shape.length - 1];
        const x = randn(shape, seed++, dtype, 2);
        const w = randn([n], seed++, dtype);
        const b = randn([n], seed++, dtype);
        for (const weight of [w, null]) {
          expectMatch(fast.rmsNorm(x, weight, 1e-5), fast.reference.rmsNorm(x, weight, 1e-5), `rmsNorm weight=${!!weight}`);
          for (const bias of [b, null])
            expectMatch(fast.layerNorm(x, weight, bias, 1e-4), fast.reference.layerNorm(x, weight, bias, 1e-4), `layerNorm weight=${!!weight} bias=${!!bias}`);
        }
      });
    }
  }

  it("normalizes strided input and large offsets accurately", () => {
    const x = tc.add(tc.transpose(randn([16, 3, 4], 7), [1, 2, 0]), 1000);
    expectMatch(fast.layerNorm(x, null, null, 1e-5), fast.reference.layerNorm(x, null, null, 1e-5), "layerNorm", { rtol: 2e-3, atol: 2e-3 });
    expectMatch(fast.rmsNorm(x, null, 1e-5), fast.reference.rmsNorm(x, null, 1e-5), "rmsNorm");
  });

  it("promotes a float16 input with a float32 weight to float32", () => {
    const x = randn([2, 8], 1, "float16");
    expect(fast.rmsNorm(x, randn([8], 2), 1e-5).dtype).toBe("float32");
    expect(fast.layerNorm(x, null, null).dtype).toBe("float16");
  });

  for (const [shape, groups] of [[[2, 4, 4, 8], 2], [[2, 4, 4, 8], 4], [[1, 5, 6], 3], [[3, 12], 4], [[1, 3, 3, 32], 32]] as [number[], number][]) {
    for (const dtype of ["float32", "float16", "bfloat16"] as const) {
      it(`groupNorm ${JSON.stringify(shape)} groups=${groups} ${dtype}`, () => {
        const c = shape[shape.length - 1];
        const x = randn(shape, seed++, dtype, 3);
        const w = randn([c], seed++, dtype);
        const b = randn([c], seed++, dtype);
        for (const [weight, bias] of [[w, b], [null, null], [w, null]] as [tc.Tensor | null, tc.Tensor | null][])
          expectMatch(fast.groupNorm(x, groups, weight, bias, 1e-5), fast.reference.groupNorm(x, groups, weight, bias, 1e-5), `weight=${!!weight} bias=${!!bias}`);
      });
    }
  }

  it("rejects bad input with clear errors", () => {
    const x = randn([2, 6], 1);
    expect(() => fast.rmsNorm(x, randn([5], 1), 1e-5)).toThrow(/rmsNorm: weight must have shape \[6\], got \[5\]/);
    expect(() => fast.layerNorm(x, null, randn([6, 1], 1))).toThrow(/layerNorm: bias must have shape \[6\], got \[6, 1\]/);
    expect(() => fast.layerNorm(x.astype("int32"), null, null)).toThrow(/layerNorm: x must be float32, float16 or bfloat16, got int32/);
    expect(() => fast.rmsNorm(x, null, Infinity)).toThrow(/rmsNorm: eps must be a finite number/);
    expect(() => fast.groupNorm(x, 4, null, null)).toThrow(/groupNorm: the channels \(6\) must be a positive multiple of groups \(4\)/);
    expect(() => fast.groupNorm(randn([6], 1), 2, null, null)).toThrow(/groupNorm: x must be \[N, \.\.\., C\]/);
    expect(() => fast.groupNorm(x, 0, null, null)).toThrow(/groupNorm: groups must be a positive integer, got 0/);
  });
});

describe("rope against the composite reference", () => {
  const variants: [string, tc.fast.RopeOptions][] = [
    ["default", {}],
    ["traditional", { traditional: true }],
    ["offset and base", { offset: 17, base: 500000 }],
    ["position scale", { scale: 0.25, offset: 3 }],
    ["linear", { scaling: { type: "linear", factor: 2 } }],
    ["llama3", { scaling: { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 32 } }],
    ["yarn", { scaling: { type: "yarn", factor: 4, originalMaxPositionEmbeddings: 64, mscale: 1, mscaleAllDim: 0.5 }, offset: 9 }],
    ["freqs", { freqs: tc.tensor([1, 3, 10, 30, 100, 300, 1000, 3000]) }],
  ];
  const shapes: [number[], number][] = [[[2, 3, 5, 16], 16], [[2, 3, 5, 24], 16], [[7, 16], 16], [[1, 4, 130, 64], 64]];
  let seed = 300;
  for (const [name, opts] of variants) {
    for (const dtype of ["float32", "float16", "bfloat16"] as const) {
      it(`${name} ${dtype}`, () => {
        for (const [shape, dims] of shapes) {
          const o = opts.freqs && dims !== 16 ? { ...opts, freqs: tc.tensor(Array.from({ length: dims / 2 }, (_, i) => 1 + i * i)) } : opts;
          const x = randn(shape, seed++, dtype);
          expectMatch(fast.rope(x, dims, o), fast.reference.rope(x, dims, o), `${JSON.stringify(shape)} dims=${dims}`);
        }
      });
    }
  }

  it("leaves the features past dims untouched and keeps position 0 fixed", () => {
    const x = randn([1, 3, 12], 1);
    const y = fast.rope(x, 8).tolist() as number[][][];
    const xs = x.tolist() as number[][][];
    for (let l = 0; l < 3; l++) for (let i = 8; i < 12; i++) expect(y[0][l][i]).toBe(xs[0][l][i]);
    for (let i = 0; i < 12; i++) expect(y[0][0][i]).toBeCloseTo(xs[0][0][i], 6);
  });

  it("rejects bad input with clear errors", () => {
    const x = randn([2, 4, 8], 1);
    expect(() => fast.rope(x, 7)).toThrow(/rope: dims must be a positive even integer, got 7/);
    expect(() => fast.rope(x, 10)).toThrow(/rope: dims must be even and in \[2, 8\]/);
    expect(() => fast.rope(x, 8, { offset: -1 })).toThrow(/rope: offset must be a non-negative integer, got -1/);
    expect(() => fast.rope(x, 8, { base: 0 })).toThrow(/rope: base must be a positive number, got 0/);
    expect(() => fast.rope(x, 8, { freqs: tc.tensor([1, 2, 3]) })).toThrow(/rope: freqs must have shape \[4\] \(dims \/ 2\), got \[3\]/);
    expect(() => fast.rope(x, 8, { freqs: tc.tensor([1, 2, 3, 4]), scaling: { type: "linear", factor: 2 } })).toThrow(/either freqs or scaling/);
    expect(() => fast.rope(x, 8, { scaling: { type: "dynamic" } as unknown as tc.fast.RopeScaling })).toThrow(/unknown scaling type "dynamic"/);
    expect(() => fast.rope(x, 8, { scaling: { type: "linear", factor: -2 } })).toThrow(/scaling.factor must be a positive number/);
    expect(() => fast.ropeScalingFromConfig({ rope_type: "longrope" })).toThrow(/"longrope" is not supported/);
    expect(fast.ropeScalingFromConfig({ rope_type: "default" })).toBeUndefined();
  });
});
