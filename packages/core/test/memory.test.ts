import { afterEach, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { memory } from "@tessera/core";

const MB = 1 << 20;
const N64 = 16 * MB; // float32 elements in 64 MB

afterEach(() => memory.setLimit(0));

// Stats may move by a few bytes when the GC collects small handles dropped by earlier tests; every
// buffer these tests allocate is at least 4 MB, so a 1 MB tolerance still catches any leak of one.
function expectNear(actual: number, expected: number) {
  expect(Math.abs(actual - expected)).toBeLessThan(MB);
}

describe("memory: flat loops", () => {
  it("builds and evaluates a 64 MB tensor 1,000 times with flat RSS and active bytes", async () => {
    const step = async (i: number) => {
      const t = tc.full([N64], i);
      await tc.eval(t);
      t.dispose();
    };
    for (let i = 0; i < 3; i++) await step(i); // the allocator's cache now holds the block
    const active0 = memory.stats().active;
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 1000; i++) await step(i);
    const grown = process.memoryUsage().rss - rss0;
    // A leak of three iterations' buffers would add 192 MB.
    expect(grown).toBeLessThan(3 * 64 * MB);
    expectNear(memory.stats().active, active0);
  });
});

describe("memory: stats, cache and limit", () => {
  it("returns active bytes to the baseline after dispose and frees intermediates during eval", async () => {
    const base = memory.stats().active;
    const a = tc.ones([MB]); // 4 MB
    // The add result is an intermediate (tidy drops its JS handle, which would keep it alive).
    const b = tc.tidy(() => tc.exp(tc.add(a, 1)));
    await tc.eval(b);
    expectNear(memory.stats().active - base, 8 * MB); // a and b; the add result and the scalar are freed
    a.dispose();
    b.dispose();
    expectNear(memory.stats().active, base);
  });

  it("tracks the peak and resets it", async () => {
    memory.resetPeak();
    const s0 = memory.stats();
    expectNear(s0.peak, s0.active);
    const t = tc.zeros([2 * MB]);
    await tc.eval(t);
    t.dispose();
    const s1 = memory.stats();
    expect(s1.peak).toBeGreaterThanOrEqual(s0.active + 8 * MB);
    expectNear(s1.active, s0.active);
    memory.resetPeak();
    const s2 = memory.stats();
    expect(s2.peak).toBe(s2.active);
  });

  it("keeps freed blocks in a cache that clearCache() empties", async () => {
    const t = tc.zeros([3 * MB]);
    await tc.eval(t);
    t.dispose();
    expect(memory.stats().cache).toBeGreaterThanOrEqual(12 * MB);
    memory.clearCache();
    expect(memory.stats().cache).toBe(0);
    // the cached block is reused for the same size
    const u = tc.zeros([3 * MB]);
    await tc.eval(u);
    u.dispose();
    const cached = memory.stats().cache;
    const v = tc.zeros([3 * MB]);
    await tc.eval(v);
    expectNear(memory.stats().cache, cached - 12 * MB);
    v.dispose();
  });

  it("makes an allocation past the limit reject with a clear Error and stays usable", async () => {
    const base = memory.stats().active;
    memory.setLimit(base + 16 * MB);
    expect(memory.stats().limit).toBe(base + 16 * MB);
    const big = tc.tidy(() => tc.add(tc.ones([N64]), 1));
    await expect(tc.eval(big)).rejects.toThrow(/would exceed the memory limit of .* raise it with memory.setLimit\(\)/);
    expect(() => tc.evalSync(big)).toThrow(/exceed the memory limit/);
    expect(() => big.dataSync()).toThrow(/exceed the memory limit/);
    expectNear(memory.stats().active, base); // nothing leaked by the failed evals
    const small = tc.multiply(tc.ones([1000]), 3);
    expect((await small.data())[999]).toBe(3);
    memory.setLimit(0);
    await tc.eval(big); // the same graph evaluates once the limit is lifted
    expect((await big.data())[N64 - 1]).toBe(2);
    big.dispose();
    small.dispose();
    expect(() => memory.setLimit(-1)).toThrow(/non-negative/);
    expect(() => memory.setLimit(Number.NaN)).toThrow(/non-negative/);
  });
});

describe("memory: deterministic release", () => {
  it("tidy disposes inner tensors and keeps returned ones", () => {
    const x = tc.tensor([1, 2, 3], { dtype: "float32" });
    let inner: tc.Tensor | undefined;
    let nested: tc.Tensor | undefined;
    const out = tc.tidy(() => {
      inner = tc.exp(x);
      const kept = tc.tidy(() => {
        nested = tc.sqrt(inner!);
        return tc.add(nested, 1);
      });
      return { r: [tc.multiply(kept, 2)], n: 3 };
    });
    expect(inner!.disposed).toBe(true);
    expect(nested!.disposed).toBe(true);
    expect(x.disposed).toBe(false);
    expect(out.n).toBe(3);
    const got = out.r[0].dataSync();
    [1, 2, 3].forEach((v, i) => expect(got[i]).toBeCloseTo(2 * (Math.sqrt(Math.exp(v)) + 1), 4));
    let leaked: tc.Tensor | undefined;
    expect(() =>
      tc.tidy(() => {
        leaked = tc.ones([2]);
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(leaked!.disposed).toBe(true);
    expect(() => tc.tidy(async () => tc.ones([1]))).toThrow(/synchronous function/);
  });

  it("disposes with `using` (Symbol.dispose)", () => {
    let held: tc.Tensor;
    {
      using t = tc.ones([4]);
      held = t;
      expect(t.disposed).toBe(false);
    }
    expect(held.disposed).toBe(true);
    expect(typeof held[Symbol.dispose]).toBe("function");
  });

  it("throws a clear Error when a disposed tensor is read or used", async () => {
    const t = tc.ones([3]);
    t.dispose();
    t.dispose(); // idempotent
    expect(() => t.dataSync()).toThrow(/disposed/);
    await expect(t.data()).rejects.toThrow(/disposed/);
    expect(() => t.item()).toThrow(/disposed/);
    expect(() => t.shape).toThrow(/disposed/);
    expect(() => tc.exp(t)).toThrow(/disposed/);
    await expect(tc.eval(t)).rejects.toThrow(/disposed/);
  });
});

describe("event loop", () => {
  it("evaluates overlapping graphs concurrently and builds graphs while an eval runs", async () => {
    let x = tc.ones([1 << 18]);
    for (let i = 0; i < 50; i++) x = tc.tanh(tc.add(x, 0.01));
    const y = tc.multiply(x, 2);
    const pending = tc.eval(y);
    const z = tc.subtract(x, 1); // shares x with the graph being evaluated
    const p2 = tc.eval(z);
    y.dispose(); // the worker keeps what it needs
    await Promise.all([pending, p2]);
    const xv = Number((await x.data())[0]);
    expect((await z.data())[0]).toBeCloseTo(xv - 1, 6);
  });
});

// Last: the handles it drops are collected at unpredictable times, which would blur exact stats above.
describe("memory: garbage collection", () => {
  it("keeps RSS bounded when handles are dropped without dispose (native memory is reported to V8)", async () => {
    // A guard, not the measure: without GC this loop would need 6.4 GB; past the limit eval rejects.
    memory.setLimit(1536 * MB);
    const rss0 = process.memoryUsage().rss;
    let maxGrowth = 0;
    for (let i = 0; i < 100; i++) {
      const t = tc.full([N64], i); // never disposed: only the GC can release it
      await tc.eval(t);
      maxGrowth = Math.max(maxGrowth, process.memoryUsage().rss - rss0);
    }
    expect(maxGrowth).toBeLessThan(1536 * MB);
  });
});
