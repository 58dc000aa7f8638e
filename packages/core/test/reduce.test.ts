import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { expectClose, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefCase } from "../../../test/helpers/reference.js";

type Attrs = {
  axis?: number | number[];
  keepdims?: boolean;
  ddof?: number;
  k?: number;
  reverse?: boolean;
  inclusive?: boolean;
  transpose?: number[];
};

function runOp(op: string, input: tc.Tensor, at: Attrs): tc.Tensor {
  const x = at.transpose ? tc.transpose(input, at.transpose) : input;
  const kd = at.keepdims ?? false;
  const one = at.axis as number | undefined;
  switch (op) {
    case "sum": case "mean": case "max": case "min": case "prod": case "logsumexp":
      return tc[op](x, at.axis, kd);
    case "var": return tc.var(x, at.axis, kd, at.ddof ?? 0);
    case "argmax": case "argmin": return tc[op](x, one, kd);
    case "softmax": return tc.softmax(x, at.axis ?? -1);
    case "cumsum": return tc.cumsum(x, one, { reverse: at.reverse, inclusive: at.inclusive });
    case "sort": case "argsort": return tc[op](x, one ?? -1);
    case "topk": return tc.topk(x, at.k ?? 1, one ?? -1);
    default: throw new Error(`unknown fixture op ${op}`);
  }
}

describe("reductions, softmax, cumsum and sorting vs NumPy", () => {
  const { cases } = loadFixture<{ cases: RefCase[] }>("core/reduce.json");
  for (const c of cases) {
    it(c.name, () => {
      const out = runOp(c.op, fromRef(c.inputs[0]), c.attrs as Attrs);
      expectClose(out, c.expected, { rtol: c.rtol, atol: c.atol, label: c.name });
    });
  }
});

// Deterministic pseudo-random numbers (no dependence on Math.random).
function randoms(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

function close(a: number, e: number, rtol: number, atol = 0): boolean {
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol = 0, what = ""): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    if (!close(actual[i], expected[i], rtol, atol)) expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
}

describe("long rows (SIMD, threading, row splitting)", () => {
  it("sum, mean, max, min and logsumexp of rows match a float64 reference", () => {
    for (const [rows, n] of [[5, 4099], [1, 200_001]] as const) {
      const v = randoms(rows * n, n);
      const x = tc.tensor(v, { shape: [rows, n] });
      const ref = { sum: [] as number[], max: [] as number[], min: [] as number[], lse: [] as number[], var: [] as number[] };
      for (let r = 0; r < rows; r++) {
        const row = v.subarray(r * n, (r + 1) * n);
        let s = 0, m = -Infinity, lo = Infinity;
        for (const y of row) { s += y; m = Math.max(m, y); lo = Math.min(lo, y); }
        let e = 0;
        for (const y of row) e += Math.exp(y - m);
        let ss = 0;
        for (const y of row) ss += (y - s / n) ** 2;
        ref.sum.push(s); ref.max.push(m); ref.min.push(lo); ref.lse.push(m + Math.log(e)); ref.var.push(ss / (n - 1));
      }
      expectAllClose(tc.sum(x, -1).dataSync() as Float32Array, ref.sum, 1e-5, 0, `sum ${n}`);
      expectAllClose(tc.mean(x, 1).dataSync() as Float32Array, ref.sum.map((s) => s / n), 1e-5, 0, `mean ${n}`);
      expectAllClose(tc.max(x, 1).dataSync() as Float32Array, ref.max, 0, 0, `max ${n}`);
      expectAllClose(tc.min(x, 1).dataSync() as Float32Array, ref.min, 0, 0, `min ${n}`);
      expectAllClose(tc.logsumexp(x, 1).dataSync() as Float32Array, ref.lse, 1e-5, 0, `logsumexp ${n}`);
      expectAllClose(tc.var(x, 1, false, 1).dataSync() as Float32Array, ref.var, 1e-4, 0, `var ${n}`);
      // The same numbers as columns of a row-major [n, rows] (the column loop, its range split) and as
      // strided rows of its transposed view.
      const cols = tc.copy(x.T);
      expectAllClose(tc.var(cols, 0, false, 1).dataSync() as Float32Array, ref.var, 1e-4, 0, `var of columns ${n}`);
      expectAllClose(tc.sum(cols, 0).dataSync() as Float32Array, ref.sum, 1e-5, 0, `sum of columns ${n}`);
      expectAllClose(tc.logsumexp(cols.T, 1).dataSync() as Float32Array, ref.lse, 1e-5, 0, `logsumexp strided ${n}`);
      // Every axis at once of a contiguous array is one long row too.
      expect(tc.sum(x).item()).toBeCloseTo(ref.sum.reduce((a, b) => a + b, 0), -Math.log10(n * rows * 1e-6));
    }
  });

  it("float16 and bfloat16 rows accumulate in float32", () => {
    const n = 3001;
    const ones = tc.ones([2, n]);
    for (const dt of ["float16", "bfloat16"] as const) {
      // 3001 in float16 accumulation would stall at 2048; float32 accumulation then rounding gives 3000/3008.
      const s = tc.sum(ones.astype(dt), 1);
      expect(s.dtype).toBe(dt);
      expect(close((s.dataSync() as Float32Array)[0], n, dt === "float16" ? 1e-3 : 8e-3)).toBe(true);
      expect(Array.from(tc.mean(ones.astype(dt), 1).dataSync() as Float32Array)).toEqual([1, 1]);
    }
  });

  it("softmax of long rows sums to one and matches a float64 reference", () => {
    for (const n of [4096, 51865]) {
      const v = randoms(2 * n, 3).map((y) => 20 * y - 10);
      const out = tc.softmax(tc.tensor(v, { shape: [2, n] })).dataSync() as Float32Array;
      for (let r = 0; r < 2; r++) {
        const row = v.subarray(r * n, (r + 1) * n);
        const m = row.reduce((a, b) => Math.max(a, b), -Infinity);
        let s = 0;
        for (const y of row) s += Math.exp(y - m);
        const ref = Array.from(row, (y) => Math.exp(y - m) / s);
        expectAllClose(out.subarray(r * n, (r + 1) * n), ref, 1e-5, 1e-12, `softmax ${n} row ${r}`);
      }
    }
  });

  it("column reductions (blocks of outputs, split reduced ranges) match", () => {
    for (const [rows, cols] of [[7, 5000], [300, 70], [64, 1]] as const) {
      const v = randoms(rows * cols, rows);
      v[(rows - 1) * cols] = v[0] = 2; // a tie in column 0: the first row wins
      const x = tc.tensor(v, { shape: [rows, cols] });
      const ref = Array.from({ length: cols }, (_, j) => { let s = 0; for (let i = 0; i < rows; i++) s += v[i * cols + j]; return s; });
      expectAllClose(tc.sum(x, 0).dataSync() as Float32Array, ref, 1e-5, 0, `sum axis 0 of [${rows}, ${cols}]`);
      const am = tc.argmax(x, 0).dataSync() as Int32Array;
      const mx = tc.max(x.reshape(1, rows, cols), 1).dataSync() as Float32Array;
      for (let j = 0; j < cols; j++) {
        let best = 0;
        for (let i = 1; i < rows; i++) if (v[i * cols + j] > v[best * cols + j]) best = i;
        if (am[j] !== best || mx[j] !== v[best * cols + j]) expect.fail(`argmax/max column ${j} of [${rows}, ${cols}]`);
      }
    }
  });

  it("argmax and argmin return the first occurrence", () => {
    const x = tc.tensor([[1, 3, 3, 0, 0], [2, 2, 2, 2, 2]]);
    expect(tc.argmax(x, 1).tolist()).toEqual([1, 0]);
    expect(tc.argmin(x, 1).tolist()).toEqual([3, 0]);
    expect(tc.argmax(x).tolist()).toBe(1);
    expect(tc.argmax(x, undefined, true).shape).toEqual([1, 1]);
    const big = new Float32Array(100_000).fill(1);
    big[77_777] = 5;
    big[88_888] = 5;
    expect(tc.argmax(tc.tensor(big)).item()).toBe(77_777);
  });
});

describe("dtypes", () => {
  it("follows the documented result dtypes", () => {
    const want: Record<string, [string, string, string]> = {
      bool: ["int32", "float32", "bool"], uint8: ["int32", "float32", "uint8"], int8: ["int32", "float32", "int8"],
      int16: ["int32", "float32", "int16"], int32: ["int32", "float32", "int32"], uint32: ["uint32", "float32", "uint32"],
      int64: ["int64", "float32", "int64"], float16: ["float16", "float16", "float16"],
      bfloat16: ["bfloat16", "bfloat16", "bfloat16"], float32: ["float32", "float32", "float32"],
    };
    for (const dt of tc.DTYPES) {
      const x = tc.ones([2, 3]).astype(dt);
      expect([tc.sum(x).dtype, tc.mean(x).dtype, tc.max(x).dtype], dt).toEqual(want[dt]);
      expect(tc.prod(x).dtype).toBe(want[dt][0]);
      expect(tc.argmax(x, 1).dtype).toBe("int32");
      expect(tc.argsort(x).dtype).toBe("int32");
      expect(tc.sort(x).dtype).toBe(dt);
      expect(tc.cumsum(x, 1).dtype).toBe(dt === "bool" ? "int32" : dt);
    }
    expect(tc.var(tc.tensor([1, 2, 3, 4])).dtype).toBe("float32");
    expect(tc.softmax(tc.tensor([1, 2, 3])).dtype).toBe("float32");
  });

  it("wraps int32 sums and cumsums like NumPy with dtype=int32", () => {
    const x = tc.tensor([2147483647, 1, 5]);
    expect(tc.sum(x).item()).toBe(-2147483648 + 5);
    expect(tc.cumsum(x).tolist()).toEqual([2147483647, -2147483648, -2147483643]);
    expect(tc.sum(tc.tensor([100, 100, 100], { dtype: "int8" })).item()).toBe(300);
  });

  it("reduces empty axes to identities", () => {
    const e = tc.zeros([0, 4]);
    expect(tc.sum(e, 0).tolist()).toEqual([0, 0, 0, 0]);
    expect(tc.prod(e, 0).tolist()).toEqual([1, 1, 1, 1]);
    expect(Number.isNaN(tc.mean(e).item())).toBe(true);
    expect(tc.max(e, 1).shape).toEqual([0]);
  });
});

describe("sorting", () => {
  it("sorts long rows like JS and argsort is stable", () => {
    const v = randoms(5000, 11).map((y) => Math.floor(y * 50));
    const x = tc.tensor(v, { shape: [1, 5000] });
    const sorted = Array.from(v).sort((a, b) => a - b);
    expect(Array.from(tc.sort(x).dataSync() as Float32Array)).toEqual(sorted);
    const idx = tc.argsort(x).dataSync() as Int32Array;
    for (let i = 1; i < idx.length; i++) {
      const a = v[idx[i - 1]], b = v[idx[i]];
      expect(a < b || (a === b && idx[i - 1] < idx[i])).toBe(true);
    }
    expect(Array.from(tc.topk(x, 7).dataSync() as Float32Array)).toEqual(sorted.slice(-7).reverse());
  });

  it("argpartition puts kth in place with smaller before and larger after", () => {
    const v = randoms(4 * 9 * 5, 5).map((y) => Math.floor(y * 6));
    const x = tc.tensor(v, { shape: [4, 9, 5] });
    for (const [kth, axis] of [[0, 1], [4, 1], [-1, 1], [2, 0], [3, -1]]) {
      const idx = tc.argpartition(x, kth, axis);
      expect(idx.dtype).toBe("int32");
      const ix = idx.dataSync() as Int32Array;
      const shape = [4, 9, 5];
      const ax = axis < 0 ? axis + 3 : axis;
      const n = shape[ax];
      const k = kth < 0 ? kth + n : kth;
      const stride = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
      const outer = shape.slice(0, ax).reduce((a, b) => a * b, 1);
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < stride; j++) {
          const at = (i: number) => o * n * stride + i * stride + j;
          const line = Array.from({ length: n }, (_, i) => v[at(i)]);
          const perm = Array.from({ length: n }, (_, i) => ix[at(i)]);
          expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
          const pivot = line[perm[k]];
          expect(pivot).toBe([...line].sort((a, b) => a - b)[k]);
          for (let i = 0; i < n; i++) {
            if (i < k) expect(line[perm[i]]).toBeLessThanOrEqual(pivot);
            if (i > k) expect(line[perm[i]]).toBeGreaterThanOrEqual(pivot);
          }
        }
      }
    }
  });
});

describe("bad input", () => {
  const x = tc.ones([2, 3]);
  it("rejects bad axes", () => {
    expect(() => tc.sum(x, 2)).toThrow("sum: axis 2 is out of range for an array of 2 dimensions");
    expect(() => tc.mean(x, -3)).toThrow("mean: axis -3 is out of range for an array of 2 dimensions");
    expect(() => tc.max(x, [0, 0])).toThrow("max: axis 0 is repeated");
    expect(() => tc.sum(x, [1, -1])).toThrow("sum: axis -1 is repeated");
    expect(() => tc.sum(x, 1.5)).toThrow("sum: axis must be an integer, got 1.5");
    expect(() => tc.sum(x, "0" as unknown as number)).toThrow("sum: axis must be an integer or an array of integers, got 0");
    expect(() => tc.argmax(x, 2)).toThrow("argmax: axis 2 is out of range for an array of 2 dimensions");
    expect(() => tc.softmax(x, [1, 1])).toThrow("softmax: axis 1 is repeated");
    expect(() => tc.cumsum(x, 2)).toThrow("cumsum: axis 2 is out of range for an array of 2 dimensions");
    expect(() => tc.sort(tc.scalar(1))).toThrow("sort: axis -1 is out of range for an array of 0 dimensions");
    expect(() => tc.argsort(x, 5)).toThrow("argsort: axis 5 is out of range for an array of 2 dimensions");
  });

  it("rejects bad options", () => {
    expect(() => tc.sum(x, 0, "yes" as unknown as boolean)).toThrow("sum: keepdims must be a boolean, got yes");
    expect(() => tc.var(x, 0, false, 0.5)).toThrow("var: ddof must be an integer, got 0.5");
    expect(() => tc.cumsum(x, 0, { reverse: 1 as unknown as boolean })).toThrow("cumsum: reverse must be a boolean, got 1");
  });

  it("rejects empty reductions without an identity", () => {
    expect(() => tc.max(tc.zeros([0, 3]), 0)).toThrow("max: cannot reduce an empty axis of an array of shape [0, 3] (no identity)");
    expect(() => tc.argmin(tc.zeros([0]))).toThrow("argmin: cannot reduce an empty axis of an array of shape [0] (no identity)");
  });

  it("rejects k and kth out of range", () => {
    expect(() => tc.topk(x, 4)).toThrow("topk: k = 4 is out of range for axis -1 of size 3 (shape [2, 3])");
    expect(() => tc.topk(x, -1, 0)).toThrow("topk: k = -1 is out of range for axis 0 of size 2 (shape [2, 3])");
    expect(() => tc.topk(x, 1.5)).toThrow("topk: k must be an integer, got 1.5");
    expect(() => tc.argpartition(x, 3)).toThrow("argpartition: kth = 3 is out of range for axis -1 of size 3 (shape [2, 3])");
    expect(() => tc.argpartition(x, -4)).toThrow("argpartition: kth = -4 is out of range for axis -1 of size 3 (shape [2, 3])");
  });
});
