// KV caches: in-place writes (no new buffer per step), and a rotating cache that attends exactly as
// a full cache under a sliding-window mask, for prompt chunks and single steps mixed.
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { KVCache, RotatingKVCache } from "../src/index.js";
import { windowMask } from "../src/models/base.js";

const B = 1, H = 2, D = 8;

function rand(l: number, seed: number): tc.Tensor {
  return tc.random.normal([B, H, l, D], { key: tc.random.key(seed) });
}

describe("KVCache", () => {
  it("writes decoding steps in place once allocated", () => {
    const cache = new KVCache({ dtype: "float32", step: 64 });
    const step = (i: number) => {
      const out = tc.tidy(() => {
        const v = cache.update(rand(1, i), rand(1, 1000 + i));
        return tc.sum(v.keys);
      });
      tc.evalSync(out, ...cache.state());
      out.dispose();
    };
    step(0);
    const bytes = cache.keys!.nbytes;
    for (let i = 1; i < 10; i++) {
      tc.memory.resetPeak();
      const before = tc.memory.stats().active;
      step(i);
      expect(tc.memory.stats().peak - before, `step ${i} copied the cache`).toBeLessThan(bytes);
    }
    expect(cache.offset).toBe(10);
    expect(cache.keys!.shape).toEqual([B, H, 64, D]);
    cache.dispose();
  });

  it("keeps what was written when it grows", () => {
    const cache = new KVCache({ dtype: "float32", step: 4 });
    const parts = [rand(3, 1), rand(2, 2), rand(1, 3)];
    let view;
    for (const p of parts) view = cache.update(p, p);
    expect(view!.keys.shape).toEqual([B, H, 6, D]);
    expect(Array.from(view!.keys.dataSync() as Float32Array)).toEqual(Array.from(tc.concatenate(parts, 2).dataSync() as Float32Array));
    expect(cache.keys!.shape[2]).toBe(8);
  });

  it("rejects keys that do not match the cache", () => {
    const cache = new KVCache();
    cache.update(rand(2, 1), rand(2, 2));
    expect(() => cache.update(tc.zeros([B, 3, 1, D]), tc.zeros([B, 3, 1, D]))).toThrow(/do not match the cached/);
  });
});

describe("RotatingKVCache", () => {
  it("attends as a full cache with a sliding-window mask", () => {
    const W = 5;
    const rot = new RotatingKVCache(W, { dtype: "float32", step: 2 });
    const full = new KVCache({ dtype: "float32" });
    let seed = 0;
    for (const l of [3, 1, 1, 4, 1, 1, 1, 6, 1, 2, 1, 1]) {
      const q = rand(l, seed++), k = rand(l, seed++), v = rand(l, seed++);
      const offset = full.offset;
      const a = rot.update(k, v);
      const b = full.update(k, v);
      const got = tc.fast.scaledDotProductAttention(q, a.keys, a.values, { mask: a.mask });
      const mask = windowMask(l, b.keys.shape[2], offset, W);
      const want = tc.fast.reference.scaledDotProductAttention(q, b.keys, b.values, { mask });
      const g = got.dataSync() as Float32Array, w = want.dataSync() as Float32Array;
      for (let i = 0; i < w.length; i++) expect(Math.abs(g[i] - w[i]), `chunk of ${l} at ${offset}`).toBeLessThan(1e-5);
      expect(rot.keys!.shape[2]).toBeLessThanOrEqual(W);
    }
    expect(rot.offset).toBe(full.offset);
  });
});
