import { afterAll, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { expectClose, fromRef, loadFixture } from "../../../test/helpers/reference.js";

const fixture = loadFixture("core/fft_creation.json");
const threads = tc.numThreads();
afterAll(() => tc.setNumThreads(threads));

describe("fft matches numpy.fft", () => {
  for (const c of fixture.cases.filter((c) => c.op === "rfft" || c.op === "irfft")) {
    it(c.name, () => {
      const { n, axis } = c.attrs as { n?: number; axis: number };
      const x = fromRef(c.inputs[0]);
      const out = c.op === "rfft" ? tc.fft.rfft(x, n, axis) : tc.fft.irfft(x, n, axis);
      expectClose(out, c.expected, { rtol: c.rtol, atol: c.atol, label: c.name });
    });
  }
});

function randomSignal(shape: number[], seed: number): tc.Tensor {
  return tc.random.normal(shape, { key: tc.random.key(seed) });
}

function maxAbsDiff(a: tc.Tensor, b: tc.Tensor): number {
  const x = a.dataSync() as Float32Array, y = b.dataSync() as Float32Array;
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

describe("fft properties", () => {
  it("irfft(rfft(x), n) recovers x for many lengths", () => {
    for (const n of [1, 2, 3, 5, 6, 12, 15, 49, 60, 97, 101, 128, 210, 400, 1013]) {
      const x = randomSignal([2, n], n);
      const back = tc.fft.irfft(tc.fft.rfft(x), n);
      expect(back.shape).toEqual([2, n]);
      expect(maxAbsDiff(back, x), `n=${n}`).toBeLessThan(2e-5 * Math.log2(n + 2));
    }
  });

  it("transforms along a middle axis as along the last one after a transpose", () => {
    const x = randomSignal([3, 20, 4], 7);
    const mid = tc.fft.rfft(x, undefined, 1); // [3, 11, 4, 2]
    expect(mid.shape).toEqual([3, 11, 4, 2]);
    const last = tc.fft.rfft(tc.transpose(x, [0, 2, 1])); // [3, 4, 11, 2]
    expect(maxAbsDiff(mid, tc.transpose(last, [0, 2, 1, 3]))).toBeLessThan(1e-5);
    const back = tc.fft.irfft(mid, 20, 1);
    expect(maxAbsDiff(back, x)).toBeLessThan(1e-5);
  });

  it("gives identical results with one thread and with two (batched rows split across the pool)", () => {
    const x = randomSignal([300, 400], 3);
    tc.setNumThreads(1);
    const a = tc.fft.rfft(x).dataSync() as Float32Array;
    tc.setNumThreads(2);
    const b = tc.fft.rfft(x).dataSync() as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it("takes any input dtype and returns float32", () => {
    const x = tc.tensor([1, 2, 3, 4], { dtype: "float16" });
    const X = tc.fft.rfft(x);
    expect(X.dtype).toBe("float32");
    expect(X.shape).toEqual([3, 2]);
    expect(Array.from(X.dataSync() as Float32Array, (v) => v + 0)).toEqual([10, 0, -2, 2, -2, 0]); // + 0 folds -0
    expect(tc.fft.rfft(tc.tensor([1, 2, 3, 4]), 3).dtype).toBe("float32");
  });
});

describe("fft rejects bad input", () => {
  const x = tc.ones([4, 6]);
  it("rfft", () => {
    expect(() => tc.fft.rfft(x, 0)).toThrow("fft.rfft: n must be a positive integer, got 0");
    expect(() => tc.fft.rfft(x, 2.5)).toThrow("fft.rfft: n must be a positive integer, got 2.5");
    expect(() => tc.fft.rfft(x, undefined, 2)).toThrow("fft.rfft: axis 2 is out of range for an array of 2 dimensions");
    expect(() => tc.fft.rfft(tc.scalar(1))).toThrow("fft.rfft: expected an array with at least one dimension, got a scalar");
    expect(() => tc.fft.rfft(tc.zeros([3, 0]))).toThrow("fft.rfft: the number of points n must be at least 1, got 0 (input shape [3, 0], axis -1)");
    expect(() => tc.fft.rfft(tc.tensor([true, false]))).toThrow("fft.rfft: expected a real float or small integer array, got bool");
    expect(() => tc.fft.rfft([1, 2] as unknown as tc.Tensor)).toThrow("fft.rfft: expected a Tensor");
  });

  it("irfft", () => {
    expect(() => tc.fft.irfft(x)).toThrow("fft.irfft: expected a complex array of shape [..., m, 2] (re, im last), got [4, 6]");
    expect(() => tc.fft.irfft(tc.ones([2]))).toThrow("fft.irfft: expected a complex array of shape [..., m, 2] (re, im last), got [2]");
    expect(() => tc.fft.irfft(tc.ones([4, 2]), 8, -1)).toThrow("fft.irfft: axis -1 is the (re, im) axis of shape [4, 2]; pass the frequency axis (default -2)");
    expect(() => tc.fft.irfft(tc.ones([1, 2]))).toThrow("fft.irfft: the number of output points n must be at least 1, got 0 (input shape [1, 2]; with m = 1 bin pass n explicitly)");
    expect(tc.fft.irfft(tc.ones([1, 2]), 1).tolist()).toEqual([1]);
    expect(() => tc.fft.irfft(tc.ones([3, 2]), -4)).toThrow("fft.irfft: n must be a positive integer, got -4");
  });
});
