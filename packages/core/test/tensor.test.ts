import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";

describe("tensor creation and reading", () => {
  it("infers dtypes and shapes from nested arrays as MLX does", async () => {
    const a = tc.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe("int32");
    expect(a.tolist()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tc.tensor([1.5, 2]).dtype).toBe("float32");
    expect(tc.tensor([true, false]).dtype).toBe("bool");
    expect(Array.from((await tc.tensor([1, 2], { dtype: "float16" }).data()) as Float32Array)).toEqual([1, 2]);
  });

  it("reads typed arrays, buffers and scalars", () => {
    const f = tc.tensor(new Float32Array([1, 2, 3, 4]), { shape: [2, 2] });
    expect(f.shape).toEqual([2, 2]);
    const raw = Buffer.from(new Int32Array([7, -8]).buffer);
    expect(tc.tensor(raw, { dtype: "int32" }).tolist()).toEqual([7, -8]);
    expect(tc.tensor(3).item()).toBe(3);
    expect(tc.tensor(new BigInt64Array([5n, -6n])).tolist()).toEqual([5, -6]);
  });

  it("round-trips every dtype through astype", () => {
    for (const dt of tc.DTYPES) {
      const t = tc.tensor([0, 1, 2, 3]).astype(dt);
      expect(t.dtype).toBe(dt);
      const back = t.tolist() as number[];
      expect(back).toEqual(dt === "bool" ? [0, 1, 1, 1] : [0, 1, 2, 3]);
    }
  });

  it("rejects bad input with clear errors", () => {
    expect(() => tc.tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => tc.tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/needs 4 elements/);
    expect(() => tc.zeros([2, -1])).toThrow(/non-negative/);
    expect(() => tc.tensor([1], { dtype: "float64" as tc.DType })).toThrow(/dtype must be one of/);
    expect(() => tc.add(tc.ones([2, 3]), tc.ones([4]))).toThrow(/shapes \[2, 3\] and \[4\] cannot be broadcast/);
    expect(() => tc.reshape(tc.ones([2, 3]), [4, 2])).toThrow(/cannot reshape an array of shape \[2, 3\]/);
    const t = tc.ones([2]);
    t.dispose();
    expect(() => t.dataSync()).toThrow(/disposed/);
    expect(() => tc.add(t, 1)).toThrow(/disposed/);
  });
});

describe("lazy evaluation", () => {
  it("builds graphs lazily and evaluates on demand", async () => {
    const a = tc.tensor([1, 2, 3, 4], { dtype: "float32" }).reshape(2, 2);
    const b = tc.add(tc.exp(a), a).T;
    expect(b.handle.evaluated()).toBe(false);
    await tc.eval(b);
    expect(b.handle.evaluated()).toBe(true);
    const v = Array.from((await b.data()) as Float32Array);
    const e = Math.exp;
    expect(v[0]).toBeCloseTo(e(1) + 1, 5);
    expect(v[1]).toBeCloseTo(e(3) + 3, 5);
    expect(v[2]).toBeCloseTo(e(2) + 2, 5);
  });

  it("keeps the event loop running during a long eval", async () => {
    // One eval of a few hundred ms of matmuls: if it ran on the JS thread the timer could not fire.
    // (It runs before the 200,000-op test below, whose wrappers' finalizers would load the GC.)
    const a = tc.multiply(tc.ones([1024, 1024]), 1e-3);
    tc.evalSync(a);
    let x = a;
    for (let i = 0; i < 12; i++) x = tc.matmul(x, a);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const start = Date.now();
    await tc.eval(x);
    const elapsed = Date.now() - start;
    clearInterval(timer);
    expect(elapsed).toBeGreaterThan(50); // long enough for the timer to matter
    expect(ticks).toBeGreaterThanOrEqual(Math.min(5, Math.floor(elapsed / 50)));
  });

  it("evaluates and frees a 200,000-op chain without deep recursion", () => {
    let x = tc.zeros([1]);
    for (let i = 0; i < 200_000; i++) x = tc.add(x, 1);
    expect(x.item()).toBe(200_000);
    let y = tc.ones([1]);
    for (let i = 0; i < 200_000; i++) y = tc.multiply(y, 1);
    y.dispose(); // drops the whole unevaluated chain at once
  });
});
