import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { expectClose, loadFixture } from "../../../test/helpers/reference.js";
import type { RefCase } from "../../../test/helpers/reference.js";

const fixture = loadFixture("core/fft_creation.json");

function build(c: RefCase): tc.Tensor {
  const a = c.attrs as Record<string, never>;
  switch (c.op) {
    case "arange": {
      const args = a.args as number[];
      if (args.length === 1) return tc.arange(args[0], a.dtype);
      if (args.length === 2) return tc.arange(args[0], args[1], a.dtype);
      return tc.arange(args[0], args[1], args[2], a.dtype);
    }
    case "linspace": return tc.linspace(a.start, a.stop, a.num, a.dtype);
    case "eye": return tc.eye(a.n, a.m, a.k, a.dtype);
    case "tri": return tc.tri(a.n, a.m, a.k, a.dtype);
  }
  throw new Error(`unknown op ${c.op}`);
}

describe("creation ops match NumPy", () => {
  for (const c of fixture.cases.filter((c) => ["arange", "linspace", "eye", "tri"].includes(c.op))) {
    it(c.name, () => expectClose(build(c), c.expected, { rtol: c.rtol, atol: c.atol }));
  }
});

describe("creation op properties", () => {
  it("arange picks int32 for integer bounds and float32 otherwise, and takes dtype last", () => {
    expect(tc.arange(4).dtype).toBe("int32");
    expect(tc.arange(0, 2, 0.5).dtype).toBe("float32");
    expect(tc.arange(0.5, 3).dtype).toBe("float32");
    expect(tc.arange(4, "float16").dtype).toBe("float16");
    expect(tc.arange(1, 4, "int64").tolist()).toEqual([1, 2, 3]);
    expect(tc.arange(0, 1, 0.1).shape).toEqual([10]); // ceil(1 / 0.1) as NumPy
    expect(tc.arange(5, 1).shape).toEqual([0]);
  });

  it("linspace ends exactly at stop and spaces evenly", () => {
    const v = Array.from(tc.linspace(0.1, 0.7, 7).dataSync() as Float32Array);
    expect(v[6]).toBe(Math.fround(0.7));
    for (let i = 1; i < 7; i++) expect(v[i] - v[i - 1]).toBeCloseTo(0.1, 6);
    expect(tc.linspace(3, 9, 1).tolist()).toEqual([3]);
  });

  it("tri(k) - tri(k - 1) is eye(k) and tri + its flipped complement cover everything", () => {
    for (const k of [-2, 0, 1, 3]) {
      const d = tc.subtract(tc.tri(4, 6, k), tc.tri(4, 6, k - 1));
      expect(d.tolist()).toEqual(tc.eye(4, 6, k).tolist());
    }
    const upper = tc.subtract(1, tc.tri(3, 3, -1));
    expect(tc.add(tc.tri(3, 3, -1), upper).tolist()).toEqual(tc.ones([3, 3]).tolist());
  });

  it("large outputs are filled in parallel chunks correctly", () => {
    tc.setNumThreads(2);
    const v = tc.arange(0, 200000, 1, "float32").dataSync();
    expect(v[123457]).toBe(123457);
    expect(v[199999]).toBe(199999);
  });
});

describe("creation ops reject bad input", () => {
  it("arange", () => {
    expect(() => tc.arange(0, 5, 0)).toThrow("arange: step must be non-zero");
    expect(() => tc.arange(NaN)).toThrow("arange: stop must be a finite number, got NaN");
    expect(() => tc.arange(0, Infinity)).toThrow("arange: stop must be a finite number, got Infinity");
    expect(() => tc.arange(5, "float64" as tc.DType)).toThrow(/dtype must be one of/);
    expect(() => tc.arange(5, "bool")).toThrow("arange: bool is not a valid dtype for a range");
    expect(() => tc.arange(0, 1e300, 1e-300)).toThrow(/arange: the range from 0 to .* is too long/);
    const f = tc.arange as unknown as (...a: unknown[]) => tc.Tensor;
    expect(() => f(1, 2, 3, 4)).toThrow("arange: expected (stop), (start, stop) or (start, stop, step), got 4 numbers");
    expect(() => f("5")).toThrow(/dtype must be one of/);
  });

  it("linspace", () => {
    expect(() => tc.linspace(0, 1, -1)).toThrow("linspace: num must be a non-negative integer, got -1");
    expect(() => tc.linspace(0, 1, 2.5)).toThrow("linspace: num must be a non-negative integer, got 2.5");
    expect(() => tc.linspace(0, NaN, 3)).toThrow("linspace: stop must be a finite number, got NaN");
  });

  it("eye and tri", () => {
    expect(() => tc.eye(-1)).toThrow("eye: n must be a non-negative integer, got -1");
    expect(() => tc.eye(2, 1.5)).toThrow("eye: m must be a non-negative integer, got 1.5");
    expect(() => tc.tri(2, 2, 0.5)).toThrow("tri: k must be an integer, got 0.5");
    expect(() => tc.tri(2, 2, 0, "f32" as tc.DType)).toThrow(/dtype must be one of/);
  });
});
