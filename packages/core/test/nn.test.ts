// nn: the Module tree (walks, loading, updating, freezing) and layers against composite ops.
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { join } from "node:path";
import { expectClose, fixturesDir } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";

const { nn, io } = tc;

const maxAbsDiff = (a: tc.Tensor, b: tc.Tensor): number => tc.max(tc.abs(tc.subtract(a, b))).item() as number;

function seq(shape: number[], scale = 0.1, dtype: tc.DType = "float32"): tc.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const t = tc.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + shape.length) * scale * 10), { shape });
  return dtype === "float32" ? t : t.astype(dtype);
}

function asRef(t: tc.Tensor): RefArray {
  return { shape: [...t.shape], dtype: t.dtype, data: Array.from(t.dataSync() as Float32Array) };
}

function expectSame(actual: tc.Tensor, expected: tc.Tensor, label?: string, rtol = 1e-5, atol = 1e-5): void {
  expectClose(actual, asRef(expected), { rtol, atol, label });
}

class Block extends nn.Module {
  attn = new nn.Linear(4, 4);
  norm = new nn.RMSNorm(4);
  _cache = tc.zeros([3]);  // private: not a parameter
  scale = 2;               // config: not a parameter
}

class Model extends nn.Module {
  embed = new nn.Embedding(10, 4);
  layers = [new Block(), new Block()];
  head = new nn.Linear(4, 3, { bias: false });
  extra = { gate: tc.ones([2]) };
}

describe("Module tree", () => {
  it("names parameters by attribute path, arrays by index", () => {
    const m = new Model();
    expect(Object.keys(m.namedParameters())).toEqual([
      "embed.weight",
      "layers.0.attn.weight", "layers.0.attn.bias", "layers.0.norm.weight",
      "layers.1.attn.weight", "layers.1.attn.bias", "layers.1.norm.weight",
      "head.weight",
      "extra.gate",
    ]);
    const p = m.parameters();
    expect(Object.keys(p)).toEqual(["embed", "layers", "head", "extra"]);
    expect(Array.isArray(p.layers)).toBe(true);
    const layers = p.layers as tc.nn.ParameterTree[];
    expect((layers[1].attn as tc.nn.ParameterTree).weight).toBe(m.layers[1].attn.weight);
    expect(((p.head as tc.nn.ParameterTree).weight as tc.Tensor).shape).toEqual([3, 4]);
  });

  it("lists children and modules depth first", () => {
    const m = new Model();
    expect(m.children().map(([n]) => n)).toEqual(["embed", "layers.0", "layers.1", "head"]);
    expect(m.namedModules().map(([n]) => n)).toEqual(["", "embed", "layers.0", "layers.0.attn", "layers.0.norm", "layers.1", "layers.1.attn", "layers.1.norm", "head"]);
    expect(m.modules()[3]).toBe(m.layers[0].attn);
  });

  it("loads weights from a record, a Map or pairs, keeping their dtype", () => {
    const m = new Model();
    const weights = Object.fromEntries(Object.entries(m.namedParameters()).map(([k, v]) => [k, tc.full(v.shape, 0.5, "float16")]));
    m.loadWeights(weights);
    expect(m.layers[1].norm.weight.dtype).toBe("float16");
    expect(m.extra.gate.tolist()).toEqual([0.5, 0.5]);
    const m2 = new Model().loadWeights(new Map(Object.entries(weights)));
    expect(m2.head.weight).toBe(weights["head.weight"]);
    const m3 = new Model().loadWeights(Object.entries(weights));
    expect(m3.layers[0].attn.bias).toBe(weights["layers.0.attn.bias"]);
  });

  it("names every missing key, unexpected key and shape mismatch", () => {
    const m = new Model();
    const weights: Record<string, tc.Tensor> = { ...m.namedParameters() };
    delete weights["layers.1.norm.weight"];
    delete weights["head.weight"];
    weights["layers.2.attn.weight"] = tc.zeros([4, 4]);
    weights["embed.weight"] = tc.zeros([10, 5]);
    const before = m.embed.weight;
    expect(() => m.loadWeights(weights)).toThrow(
      "loadWeights (Model): missing keys: layers.1.norm.weight, head.weight. unexpected keys: layers.2.attn.weight. " +
        "shape mismatch: 'embed.weight' expects shape [10, 4] but the weight has [10, 5]",
    );
    expect(m.embed.weight).toBe(before);  // nothing loaded on failure
    expect(() => m.loadWeights({ "head.weight": tc.zeros([3, 4]), bogus: tc.zeros([1]) })).toThrow(/missing keys: embed\.weight, .*unexpected keys: bogus$/);
    expect(() => m.loadWeights({ "head.weight": tc.zeros([4, 3]) }, { strict: false })).toThrow(
      "loadWeights (Model): shape mismatch: 'head.weight' expects shape [3, 4] but the weight has [4, 3]",
    );
    expect(() => m.loadWeights({ "head.weight": [1, 2] as unknown as tc.Tensor })).toThrow("loadWeights: the value of 'head.weight' is not a Tensor");
  });

  it("loads a subset without strict and ignores unknown keys", () => {
    const m = new Model();
    const w = tc.ones([3, 4]);
    m.loadWeights({ "head.weight": w, "not.a.key": tc.zeros([1]) }, { strict: false });
    expect(m.head.weight).toBe(w);
  });

  it("updates from a nested tree and rejects unknown names", () => {
    const m = new Model();
    const w = tc.ones([4]);
    m.update({ layers: [{}, { norm: { weight: w } }] });
    expect(m.layers[1].norm.weight).toBe(w);
    expect(() => m.update({ layers: [{ nope: tc.ones([1]) }] })).toThrow("update (Model): not parameters of this module: layers.0.nope");
    expect(() => m.update({ head: { weight: tc.ones([2, 2]) } })).toThrow(/shape mismatch: 'head.weight' expects shape \[3, 4\]/);
  });

  it("applies a function to every parameter", () => {
    const m = new Model();
    const seen: string[] = [];
    m.apply((p, name) => {
      seen.push(name);
      return p.astype("bfloat16");
    });
    expect(seen.length).toBe(9);
    expect(Object.values(m.namedParameters()).every((p) => p.dtype === "bfloat16")).toBe(true);
    expect(() => m.apply(() => 1 as unknown as tc.Tensor)).toThrow("apply: the function returned a non-Tensor for 'embed.weight'");
  });

  it("freezes and unfreezes parameters", () => {
    const m = new Model();
    const names = (t: tc.nn.ParameterTree): string[] => {
      const out: string[] = [];
      const walk = (v: unknown, p: string) => {
        if (v instanceof tc.Tensor) out.push(p);
        else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, p ? `${p}.${k}` : k);
      };
      walk(t, "");
      return out;
    };
    expect(names(m.trainableParameters()).length).toBe(9);
    m.freeze();
    expect(names(m.trainableParameters())).toEqual([]);
    m.layers[1].unfreeze({ keys: [] });
    m.layers[1].attn.unfreeze({ keys: "bias" });
    expect(names(m.trainableParameters())).toEqual(["layers.1.attn.bias"]);
    m.unfreeze();
    m.embed.freeze();
    m.layers[0].freeze({ recurse: false });  // Block itself holds no parameters
    expect(names(m.trainableParameters())).not.toContain("embed.weight");
    expect(names(m.trainableParameters()).length).toBe(8);
    expect(Object.keys(m.namedParameters()).length).toBe(9);
    expect(() => m.head.freeze({ keys: "bias" })).toThrow("freeze: 'bias' is not a parameter of this Linear (has: weight)");
  });
});

describe("layers against composite ops", () => {
  it("Linear: x W^T + b, with and without bias", () => {
    const l = new nn.Linear(5, 3).update({ weight: seq([3, 5]), bias: seq([3], 0.3) });
    const x = seq([2, 4, 5], 0.2);
    expectSame(l.forward(x), tc.add(tc.matmul(x, tc.transpose(l.weight)), l.bias!));
    const nb = new nn.Linear(5, 3, { bias: false });
    expect(Object.keys(nb.namedParameters())).toEqual(["weight"]);
    expect(nb.forward(x).shape).toEqual([2, 4, 3]);
  });

  it("Embedding: rows by id, and asLinear for a tied head", () => {
    const e = new nn.Embedding(6, 4).update({ weight: seq([6, 4]) });
    const ids = tc.tensor([[0, 5], [2, 2]]);
    const rows = e.weight.tolist() as number[][];
    expect(e.forward(ids).tolist()).toEqual([[rows[0], rows[5]], [rows[2], rows[2]]]);
    const x = seq([3, 4]);
    expectSame(e.asLinear(x), tc.matmul(x, tc.transpose(e.weight)));
  });

  it("Conv1d and Conv2d: channels-last weights, bias added per channel", () => {
    const c1 = new nn.Conv1d(4, 6, 3, { padding: 1, stride: 2, groups: 2 });
    expect(c1.weight.shape).toEqual([6, 3, 2]);
    c1.update({ weight: seq([6, 3, 2]), bias: seq([6], 0.5) });
    const x1 = seq([2, 9, 4]);
    expectSame(c1.forward(x1), tc.add(tc.conv1d(x1, c1.weight, { stride: 2, padding: 1, groups: 2 }), c1.bias!));
    const c2 = new nn.Conv2d(3, 4, [3, 1], { padding: [1, 0] });
    expect(c2.weight.shape).toEqual([4, 3, 1, 3]);
    c2.update({ weight: seq([4, 3, 1, 3]), bias: seq([4], 0.5) });
    const x2 = seq([1, 5, 4, 3]);
    expectSame(c2.forward(x2), tc.add(tc.conv2d(x2, c2.weight, { padding: [1, 0] }), c2.bias!));
  });

  it("LayerNorm, RMSNorm and GroupNorm call the fused ops with their parameters", () => {
    const x = seq([2, 3, 8], 0.4);
    const ln = new nn.LayerNorm(8, { eps: 1e-6 }).update({ weight: seq([8]), bias: seq([8], 0.2) });
    expectSame(ln.forward(x), tc.fast.reference.layerNorm(x, ln.weight!, ln.bias!, 1e-6), "LayerNorm", 1e-4, 1e-5);
    expect(Object.keys(new nn.LayerNorm(8, { affine: false }).namedParameters())).toEqual([]);
    expect(Object.keys(new nn.LayerNorm(8, { bias: false }).namedParameters())).toEqual(["weight"]);
    const rms = new nn.RMSNorm(8).update({ weight: seq([8]) });
    expectSame(rms.forward(x), tc.fast.reference.rmsNorm(x, rms.weight, 1e-5), "RMSNorm", 1e-4, 1e-5);
    const gn = new nn.GroupNorm(2, 8).update({ weight: seq([8]), bias: seq([8], 0.2) });
    expectSame(gn.forward(x), tc.fast.reference.groupNorm(x, 2, gn.weight!, gn.bias!, 1e-5), "GroupNorm", 1e-4, 1e-5);
  });

  it("GroupNorm without pytorchCompatible groups channels by c % groups", () => {
    const x = seq([2, 3, 8], 0.4);
    const gn = new nn.GroupNorm(2, 8, { pytorchCompatible: false, affine: false });
    // Channel c belongs to group c % 2: gather each group's channels and normalize them together.
    const y = gn.forward(x).tolist() as number[][][];
    const xs = x.tolist() as number[][][];
    for (let b = 0; b < 2; b++) {
      for (let g = 0; g < 2; g++) {
        const vals = xs[b].flatMap((row) => row.filter((_, c) => c % 2 === g));
        const mean = vals.reduce((a, v) => a + v, 0) / vals.length;
        const v = vals.reduce((a, x) => a + (x - mean) ** 2, 0) / vals.length;
        for (let p = 0; p < 3; p++) for (let c = g; c < 8; c += 2) expect(y[b][p][c]).toBeCloseTo((xs[b][p][c] - mean) / Math.sqrt(v + 1e-5), 4);
      }
    }
  });

  it("activations as functions and modules", () => {
    const x = seq([12], 0.3);
    expectSame(new nn.GELU().forward(x), tc.gelu(x));
    expectSame(new nn.GELU("tanh").forward(x), tc.gelu(x, "tanh"));
    expectSame(new nn.GELU("precise").forward(x), tc.gelu(x, "tanh"));
    expectSame(new nn.GELU("fast").forward(x), tc.multiply(x, tc.sigmoid(tc.multiply(x, 1.702))));
    expectSame(new nn.SiLU().forward(x), tc.multiply(x, tc.sigmoid(x)));
    expectSame(new nn.ReLU().forward(x), tc.maximum(x, 0));
    expectSame(new nn.Tanh().forward(x), tc.tanh(x));
    expectSame(new nn.Sigmoid().forward(x), tc.sigmoid(x));
    expectSame(nn.silu(x), tc.silu(x));
    expect(() => new nn.GELU("erf" as tc.nn.GeluApprox)).toThrow('GELU: approx must be "none", "precise", "tanh" or "fast", got erf');
  });

  it("Sequential chains modules and functions and names parameters by index", () => {
    const a = new nn.Linear(4, 6);
    const b = new nn.Linear(6, 2);
    const s = new nn.Sequential(a, new nn.ReLU(), (t: tc.Tensor) => tc.multiply(t, 2), b);
    expect(Object.keys(s.namedParameters())).toEqual(["layers.0.weight", "layers.0.bias", "layers.3.weight", "layers.3.bias"]);
    const x = seq([3, 4]);
    expectSame(s.forward(x), b.forward(tc.multiply(tc.relu(a.forward(x)), 2)));
    expect(() => new nn.Sequential(42 as unknown as tc.nn.SequentialLayer)).toThrow("Sequential: layer 0 must be a Module with forward() or a function");
  });

  it("rejects bad layer sizes", () => {
    expect(() => new nn.Linear(0, 3)).toThrow("Linear: inputDims must be a positive integer, got 0");
    expect(() => new nn.Conv1d(3, 4, 3, { groups: 2 })).toThrow("Conv1d: inChannels (3) and outChannels (4) must be multiples of groups (2)");
    expect(() => new nn.GroupNorm(3, 8)).toThrow("GroupNorm: dims (8) must be a multiple of groups (3)");
    expect(() => new nn.Embedding(10, 2.5)).toThrow("Embedding: dims must be a positive integer, got 2.5");
  });
});

describe("GgmlLinear, GgmlEmbedding, useGgmlWeights", () => {
  const g = io.readGGUF(join(fixturesDir, "io", "model.gguf"));
  const blocks = g.tensor("quant.Q4_K"); // [2, 144]: 2 rows of 256 values
  const dense = io.dequantize(blocks, "Q4_K");

  it("matmul the blocks and expand looked-up rows as the dequantized float layers would", () => {
    const lin = new nn.GgmlLinear(256, 2, "Q4_K");
    lin.loadWeights([["weight", blocks], ["bias", tc.tensor([1, -2])]]);
    const x = tc.random.normal([3, 256], { key: tc.random.key(1) });
    const want = tc.add(tc.matmul(x, dense.T), tc.tensor([1, -2]));
    expect(maxAbsDiff(lin.forward(x), want)).toBeLessThan(1e-3);
    const emb = new nn.GgmlEmbedding(2, 256, "Q4_K", { dtype: "float16" });
    emb.loadWeights([["weight", blocks]]);
    const rows = emb.forward(tc.tensor([[1, 0, 1]], { dtype: "int32" }));
    expect([rows.shape, rows.dtype]).toEqual([[1, 3, 256], "float16"]);
    expect(rows.astype("float32").tolist()).toEqual(tc.take(dense, tc.tensor([[1, 0, 1]], { dtype: "int32" }), 0).astype("float16").astype("float32").tolist());
    expect(maxAbsDiff(emb.asLinear(x), tc.matmul(x, dense.T))).toBeLessThan(1e-3);
  });

  it("useGgmlWeights swaps named Linear / Embedding leaves in place and refuses others", () => {
    class M extends nn.Module {
      proj = new nn.Linear(256, 2);
      table = new nn.Embedding(2, 256);
      norm = new nn.LayerNorm(256);
    }
    const m = nn.useGgmlWeights(new M(), new Map([["proj", "Q4_K"], ["table", "Q8_0"]]));
    expect(m.proj).toBeInstanceOf(nn.GgmlLinear);
    expect(m.table).toBeInstanceOf(nn.GgmlEmbedding);
    expect((m.proj as unknown as tc.nn.GgmlLinear).weight.shape).toEqual([2, 144]);
    expect((m.table as unknown as tc.nn.GgmlEmbedding).weight.shape).toEqual([2, 272]);
    expect(() => nn.useGgmlWeights(new M(), new Map([["norm", "Q4_0"]]))).toThrow("'norm' (LayerNorm) cannot hold ggml blocks");
    expect(() => nn.useGgmlWeights(new M(), new Map([["nope", "Q4_0"]]))).toThrow("no Linear or Embedding layer named 'nope'");
    expect(() => new nn.GgmlLinear(100, 2, "Q4_0")).toThrow("rows of 100 elements are not whole Q4_0 blocks of 32");
    expect(() => new nn.GgmlLinear(256, 2, "IQ4_NL")).toThrow("'IQ4_NL' is not a ggml block type this library reads");
  });
});
