import { afterEach, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { compile, compileStats, disableCompile, enableCompile } from "@tessera/core";
import type { Tensor } from "@tessera/core";

// Deterministic inputs in [-range, range].
function randn(shape: number[], seed: number, range = 3): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * range;
  }
  return tc.tensor(out, { shape });
}

// The exact bytes of a result: float32 bit patterns, or the raw bits of a half.
function bits(t: Tensor): number[] {
  if (t.dtype === "float16" || t.dtype === "bfloat16") return Array.from(t.rawHalfBits());
  const d = t.dataSync();
  return Array.from(new Uint32Array(d.buffer, d.byteOffset, d.byteLength / 4));
}

type Tree = Tensor | Tree[] | { [k: string]: Tree };
function leaves(x: Tree): Tensor[] {
  if (Array.isArray(x)) return x.flatMap(leaves);
  if ("handle" in x) return [x as Tensor];
  return Object.values(x).flatMap(leaves);
}

// Compiled (traced, then replayed) results equal fn's own, bit for bit.
function expectSame<A extends unknown[]>(fn: (...a: A) => Tree, ...args: A) {
  const want = leaves(fn(...args)).map(bits);
  const cf = compile(fn);
  const first = leaves(cf(...args));
  const second = leaves(cf(...args));
  expect(first.map(bits)).toEqual(want);
  expect(second.map(bits)).toEqual(want);
  expect(compileStats(cf)).toMatchObject({ traces: 1, replays: 1 });
  return compileStats(cf).graphs[0];
}

const geluTanh = (x: Tensor) =>
  tc.multiply(tc.multiply(x, 0.5), tc.add(1, tc.tanh(tc.multiply(0.7978845608, tc.add(x, tc.multiply(0.044715, tc.power(x, 3)))))));

afterEach(() => enableCompile());

describe("compile: results equal the uncompiled function", () => {
  it("fuses a gelu-like chain into one kernel", () => {
    const g = expectSame(geluTanh, randn([64, 100], 1));
    expect(g.fused).toBe(1);
    expect(g.steps).toBe(1);
    expect(g.fusedOps).toBe(g.tracedNodes);
    expect(g.nodes[0]).toMatch(/^Fused\[.*tanh.*\] \[64, 100\] float32$/);
  });

  it("handles transcendental chains over several blocks and threads", () => {
    const fn = (x: Tensor, y: Tensor) =>
      tc.add(tc.sigmoid(tc.multiply(tc.exp(tc.neg(x)), y)), tc.log1p(tc.abs(tc.sin(tc.subtract(x, y)))));
    const g = expectSame(fn, randn([300, 1000], 2), randn([300, 1000], 3));
    expect(g.fused).toBe(1);
    expectSame((x: Tensor) => tc.silu(tc.erf(tc.sqrt(tc.square(tc.divide(x, 3))))), randn([70001], 4));
    expectSame((x: Tensor) => tc.remainder(tc.floorDivide(tc.gelu(x), 0.3), tc.maximum(tc.minimum(x, 0.5), -2)), randn([5000], 5));
  });

  it("broadcasts inputs of any shape, including non-contiguous views", () => {
    const fn = (x: Tensor, row: Tensor, col: Tensor, s: Tensor) =>
      tc.tanh(tc.add(tc.multiply(tc.exp(x), row), tc.subtract(col, s)));
    const g = expectSame(fn, randn([37, 513], 6), randn([513], 7), randn([37, 1], 8), randn([], 9));
    expect(g.fused).toBe(1);
    // a transposed (strided) input and a broadcast in the middle axis
    expectSame((x: Tensor, m: Tensor) => tc.sqrt(tc.abs(tc.multiply(x, m))), randn([40, 3, 60], 10).transpose(2, 1, 0), randn([60, 1, 40], 11));
    expectSame((x: Tensor) => tc.exp(tc.add(x, 1)), tc.broadcastTo(randn([1, 9000], 12), [3, 9000]));
  });

  it("rounds half-precision steps as the unfused ops do (mixed dtypes)", () => {
    const h = randn([50, 70], 13).astype("float16");
    const b = randn([70], 14).astype("bfloat16");
    const f = randn([50, 1], 15);
    expectSame((x: Tensor) => tc.multiply(tc.exp(tc.multiply(x, x)), tc.add(x, 0.1)), h);
    expectSame((x: Tensor, y: Tensor) => tc.add(tc.tanh(x), y), h, b); // f16 + bf16 -> f32
    expectSame((x: Tensor, y: Tensor, z: Tensor) => tc.sigmoid(tc.add(tc.multiply(x, y), z)).astype("float16"), h, b, f);
    const g = expectSame((x: Tensor) => tc.sqrt(tc.abs(tc.add(x.astype("float32"), 2))), tc.tensor([[1, -2, 3], [4, 5, -6]]));
    expect(g.fused).toBe(1); // the int32 -> float32 cast is read by the fused kernel
  });

  it("leaves integer and boolean ops unfused and still equal", () => {
    const fn = (x: Tensor) => {
      const i = tc.add(tc.multiply(x, 3), 1); // int32
      const mask = tc.greater(i, 4);
      return tc.where(mask, tc.exp(i.astype("float32")), tc.neg(tc.sqrt(tc.abs(i))));
    };
    expectSame(fn, tc.tensor([[1, 2, -3], [4, -5, 6]]));
  });

  it("returns several outputs, in arrays and objects, and keeps shared intermediates", () => {
    const fn = (x: Tensor, y: Tensor) => {
      const s = tc.exp(tc.add(x, y)); // used by both outputs: materialized once
      return { a: tc.multiply(s, 2), b: [tc.tanh(s), s], c: tc.sigmoid(tc.sin(x)) };
    };
    const g = expectSame(fn, randn([16, 33], 16), randn([16, 33], 17));
    expect(g.steps).toBeLessThan(g.tracedNodes);
    const cf = compile(fn);
    const r = cf(randn([2, 2], 1), randn([2, 2], 2));
    expect(Object.keys(r)).toEqual(["a", "b", "c"]);
    expect(r.b[1].shape).toEqual([2, 2]);
  });

  it("keeps constants: evaluated and lazy closed-over tensors, scalars built inside fn", async () => {
    const w = randn([8], 18);
    await tc.eval(w);
    const lazy = tc.exp(randn([8], 19)); // not evaluated yet
    const fn = (x: Tensor) => tc.add(tc.multiply(x, w), tc.multiply(lazy, 0.25));
    const g = expectSame(fn, randn([4, 8], 20));
    expect(g.constants).toBeGreaterThanOrEqual(2);
    // identity and constant outputs
    const same = compile((x: Tensor) => [x, w]);
    const x = randn([3], 21);
    const [a, b] = same(x) as Tensor[];
    expect(bits(a)).toEqual(bits(x));
    expect(bits(b)).toEqual(bits(w));
  });

  it("retraces when shapes, dtypes or non-tensor arguments change, and replays without calling fn", () => {
    let calls = 0;
    const fn = (x: Tensor, k: number, mode: string) => {
      calls++;
      const y = tc.multiply(tc.exp(x), k);
      return mode === "tanh" ? tc.tanh(y) : tc.sigmoid(y);
    };
    const cf = compile(fn);
    const x1 = randn([4, 5], 22);
    const x2 = randn([7], 23);
    const check = (x: Tensor, k: number, mode: string) => expect(bits(cf(x, k, mode))).toEqual(bits(fn(x, k, mode)));
    const before = calls;
    cf(x1, 2, "tanh");
    cf(x1, 2, "tanh");
    cf(randn([4, 5], 24), 2, "tanh");
    expect(calls - before).toBe(1);
    check(x2, 2, "tanh");
    check(x1.astype("float16"), 2, "tanh");
    check(x1, 3, "tanh");
    check(x1, 2, "sigmoid");
    check(x1, 2, "tanh");
    expect(compileStats(cf).traces).toBe(5);
  });

  it("handles empty, one-element and argument-free graphs", () => {
    const chain = (x: Tensor) => tc.exp(tc.multiply(tc.add(x, 1), 2));
    expect(expectSame(chain, randn([0, 5], 31)).fused).toBe(1);
    expect(chain(randn([0, 5], 31)).shape).toEqual([0, 5]);
    expectSame(chain, randn([1], 32));
    expectSame(chain, randn([], 33));
    const noArgs = compile(() => tc.sqrt(tc.add(tc.ones([3]), 3)));
    expect(noArgs().tolist()).toEqual([2, 2, 2]);
    expect(noArgs().tolist()).toEqual([2, 2, 2]);
    expect(compileStats(noArgs).traces).toBe(1);
  });

  it("accepts nested arrays and objects of tensors as arguments", () => {
    const fn = (p: { w: Tensor; b: Tensor[] }, x: Tensor) => tc.add(tc.multiply(x, p.w), tc.add(p.b[0], p.b[1]));
    const p = { w: randn([6], 25), b: [randn([6], 26), randn([1], 27)] };
    expectSame(fn, p, randn([2, 6], 28));
  });

  it("works inside tidy and nested in another compiled function", () => {
    const inner = compile((x: Tensor) => tc.exp(tc.neg(tc.square(x))));
    const outer = (x: Tensor) => tc.add(inner(x), tc.sin(x));
    const x = randn([10, 10], 29);
    const want = bits(outer(x));
    const cOuter = compile(outer);
    const kept = tc.tidy(() => cOuter(x));
    expect(bits(kept)).toEqual(want);
    expect(bits(cOuter(x))).toEqual(want);
  });

  it("disableCompile() makes compiled functions call fn directly", () => {
    let calls = 0;
    const cf = compile((x: Tensor) => {
      calls++;
      return tc.exp(x);
    });
    const x = randn([3], 30);
    disableCompile();
    cf(x);
    cf(x);
    expect(calls).toBe(2);
    expect(compileStats(cf).traces).toBe(0);
    enableCompile();
    cf(x);
    cf(x);
    expect(calls).toBe(3);
  });
});

describe("compile: bad input", () => {
  it("rejects functions that read data, async functions and unsupported arguments", async () => {
    const reads = compile((x: Tensor) => tc.multiply(x, x.item()));
    expect(() => reads(tc.tensor([1.5]))).toThrow(/read tensor data while being traced/);
    const asyncFn = compile(async (x: Tensor) => tc.exp(x));
    expect(() => asyncFn(tc.tensor([1]))).toThrow(/synchronous function/);
    const cf = compile((x: Tensor, _f: unknown) => x);
    expect(() => cf(tc.tensor([1]), () => 1)).toThrow(/argument 1 is a function/);
    expect(() => cf(tc.tensor([1]), new Map())).toThrow(/argument 1 is a Map/);
    expect(() => compile(3 as unknown as () => void)).toThrow(/compile\(\) takes a function, got number/);
    expect(() => compileStats(() => 1)).toThrow(/function returned by compile/);
    const t = tc.tensor([1]);
    t.dispose();
    expect(() => compile((x: Tensor) => tc.exp(x))(t)).toThrow(/disposed/);
  });
});
