// 8-bit KV cache (mlx-lm's QuantizedKVCache): keys and values stored as MLX affine-quantized
// groups, read back dequantized. Against the float16 cache on the tiny qwen3 checkpoints (head_dim
// 32, so groups of 32): the same greedy tokens as transformers, logits within a stated tolerance,
// about half the bytes; and the cache itself against quantize/dequantize of what was written.
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { KVCache, QuantizedKVCache, generateTokens, loadModelFromFolder } from "../src/index.js";
import type { LanguageModel } from "../src/index.js";
import { lmFixture, recordingGreedy, relError } from "./fixtures.js";

async function run(model: LanguageModel, prompt: number[], opts: { kvBits?: number; kvGroupSize?: number; prefillChunk?: number } = {}) {
  const steps: Float32Array[] = [];
  const r = await generateTokens(model, prompt, { maxTokens: 20, sample: recordingGreedy(steps), ...opts });
  return { tokens: r.tokens, steps };
}

const cacheBytes = (c: { state(): tc.Tensor[] }) => c.state().reduce((n, t) => n + t.nbytes, 0);

describe.each(["qwen3", "qwen3-mlx-8bit", "qwen3-mlx-4bit"])("%s with an 8-bit KV cache", (name) => {
  const { dir, ref } = lmFixture(name);
  const { model } = loadModelFromFolder(dir, { dtype: "float32" });

  it("gives transformers' 20 greedy tokens, with logits close to the float16 cache's", async () => {
    const f16 = await run(model, ref.prompt);
    const q8 = await run(model, ref.prompt, { kvBits: 8, kvGroupSize: 32 });
    expect(f16.tokens).toEqual(ref.tokens);
    expect(q8.tokens).toEqual(ref.tokens);
    // 8 bits per group of 32: each key within scale / 2 (its group's range / 510). Measured: at most
    // 0.0087-0.0096 of the largest logit over the 20 steps on these three (the float16 cache is
    // 3e-4-6e-4 from float32); 4 bits is 1.7 off on these random-weight models, so it is not tested.
    for (let i = 0; i < 20; i++) expect(relError(q8.steps[i], f16.steps[i]), `step ${i}`).toBeLessThan(0.02);
  });

  it("chunked prefill (several writes into the quantized buffers) gives the same tokens", async () => {
    expect((await run(model, ref.prompt, { kvBits: 8, kvGroupSize: 32, prefillChunk: 5 })).tokens).toEqual(ref.tokens);
  });
});

describe("QuantizedKVCache", () => {
  it("holds what quantize / dequantize of the written keys and values give, in about half a float16 cache's bytes", () => {
    const q = new QuantizedKVCache({ kvBits: 8, kvGroupSize: 64, step: 16 });
    const f = new KVCache({ step: 16 });
    const written: tc.Tensor[][] = [];
    let view;
    for (const l of [5, 1, 1, 12]) {
      const k = tc.random.normal([1, 2, l, 64]);
      const v = tc.random.normal([1, 2, l, 64]);
      written.push([k, v]);
      view = q.update(k, v);
      f.update(k, v);
    }
    expect(q.offset).toBe(19);
    const all = (i: number) => tc.concatenate(written.map((w) => w[i]), 2).astype("float16");
    for (const [i, got] of [[0, view!.keys], [1, view!.values]] as const) {
      const p = tc.quant.quantize(all(i), { bits: 8, groupSize: 64 });
      const want = tc.quant.dequantize(p.weight, p.scales, p.biases, { bits: 8, groupSize: 64 });
      expect(got.shape).toEqual([1, 2, 19, 64]);
      expect(tc.max(tc.abs(tc.subtract(got, want))).item()).toBe(0);
      // And close to the float values: within half a step of a 255-level grid over each group's range.
      expect(tc.max(tc.abs(tc.subtract(got.astype("float32"), all(i).astype("float32")))).item()).toBeLessThan(0.05);
    }
    // 64 bytes + a float16 scale and bias per 64 values, against 128 bytes: 68 / 128.
    expect(cacheBytes(q) / cacheBytes(f)).toBeCloseTo(68 / 128, 6);
    q.dispose();
    expect(q.state()).toEqual([]);
  });

  it("the model's cache at 8 bits is about half the float16 one", () => {
    const { dir, ref } = lmFixture("qwen3");
    const { model } = loadModelFromFolder(dir, { dtype: "float32" });
    const sizes = [{}, { kvBits: 8, kvGroupSize: 32 }].map((o) => {
      const cache = model.makeCache(o);
      tc.tidy(() => model.forward(tc.tensor([ref.prompt], { dtype: "int32" }), cache));
      const n = cache.reduce((s, c) => s + cacheBytes(c), 0);
      for (const c of cache) c.dispose();
      return n;
    });
    // Groups of 32: (32 + 4) / 64.
    expect(sizes[1] / sizes[0]).toBeCloseTo(36 / 64, 6);
  });

  it("says what is wrong with bad settings", () => {
    expect(() => new QuantizedKVCache({ kvBits: 7 })).toThrow(/bits must be 2, 3, 4, 5, 6 or 8/);
    expect(() => new QuantizedKVCache({ kvGroupSize: 48 })).toThrow(/groupSize must be 32, 64 or 128/);
    const { dir, ref } = lmFixture("llama");
    const { model } = loadModelFromFolder(dir, { dtype: "float32" });
    return expect(generateTokens(model, ref.prompt, { maxTokens: 2, kvBits: 8 })).rejects.toThrow(/kvGroupSize 64 must divide the head_dim of the keys \(16\)/);
  });
});
