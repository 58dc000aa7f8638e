// quant.quantizeGgml / nn.quantizeGgmlModel: writing Q8_0 blocks as ggml and gguf-py do.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { fixturesDir } from "../../../test/helpers/reference.js";

const { io, nn, quant } = tc;

describe("quantizeGgml (Q8_0)", () => {
  it("re-quantizing gguf-py's dequantized Q8_0 values gives gguf-py's block bytes", () => {
    const g = io.readGGUF(join(fixturesDir, "io", "model.gguf"));
    try {
      const bytes = Array.from(g.tensor("quant.Q8_0").dataSync() as Uint8Array);
      const again = quant.quantizeGgml(g.dequantize("quant.Q8_0"), "Q8_0");
      expect(again.shape).toEqual([4, 68]);
      expect(Array.from(again.dataSync() as Uint8Array)).toEqual(bytes);
    } finally {
      g.close();
    }
  });

  it("each value comes back within half a step (amax / 254, and the step's float16 rounding) of its block; zero blocks stay zero", () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 4;
    const x = Float32Array.from({ length: 3 * 96 }, (_, i) => (i < 32 ? 0 : rand()));
    const w = tc.tensor(x, { shape: [3, 96] });
    const back = io.dequantize(quant.quantizeGgml(w), "Q8_0").dataSync() as Float32Array;
    for (let b = 0; b < 9; b++) {
      const block = x.subarray(b * 32, b * 32 + 32);
      const amax = Math.max(...block.map(Math.abs));
      // Half a step, plus 127 times the float16 rounding of the step (amax / 2048).
      block.forEach((v, i) => expect(Math.abs(back[b * 32 + i] - v)).toBeLessThanOrEqual(amax / 254 + amax / 2048 + 1e-7));
    }
    expect(Array.from(back.subarray(0, 32))).toEqual(new Array(32).fill(0));
  });

  it("names what is wrong with its input", () => {
    expect(() => quant.quantizeGgml(tc.zeros([2, 40]))).toThrow("K a multiple of 32");
    expect(() => quant.quantizeGgml(tc.zeros([2, 32], "int32"))).toThrow("must be a float tensor");
    expect(() => quant.quantizeGgml(tc.zeros([2, 32]), "Q4_0" as "Q8_0")).toThrow("can write Q8_0, not Q4_0");
  });
});

describe("nn.quantizeGgmlModel", () => {
  it("swaps Linear and Embedding for Q8_0 layers whose outputs match the dequantized weights", () => {
    class Tiny extends nn.Module {
      emb = new nn.Embedding(10, 64);
      proj = new nn.Linear(64, 48);
      odd = new nn.Linear(40, 8);
    }
    const m = new Tiny();
    const x = tc.random.normal([3, 64], { key: tc.random.key(1) });
    const ids = tc.tensor([1, 7], { dtype: "int32" });
    nn.quantizeGgmlModel(m);
    expect(m.proj).toBeInstanceOf(nn.GgmlLinear);
    expect(m.emb).toBeInstanceOf(nn.GgmlEmbedding);
    expect(m.odd).toBeInstanceOf(nn.Linear); // 40 is not whole blocks
    const proj = m.proj as tc.nn.GgmlLinear;
    const want = tc.add(tc.matmul(x, io.dequantize(proj.weight, "Q8_0").T), proj.bias!);
    const got = proj.forward(x).dataSync() as Float32Array;
    const ref = want.dataSync() as Float32Array;
    // The kernel rounds x to int8 blocks too: within a small fraction of the output scale.
    const scale = Math.max(...ref.map(Math.abs));
    ref.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(0.02 * scale));
    const rows = (m.emb as tc.nn.GgmlEmbedding).forward(ids);
    expect(rows.shape).toEqual([2, 64]);
    expect(() => nn.quantizeGgmlModel(m, { type: "Q2_K" as "Q8_0" })).toThrow("type must be one of Q8_0");
  });
});
