// Loads reference fixtures written by tools/reference/*.py and compares tensors with them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import * as tc from "@tessera/core";

export { fixturesDir, sharedDataFile } from "./paths.js";
import { fixturesDir } from "./paths.js";

/** An array as the Python side writes it: shape, dtype and flat row-major data (NaN/Inf as strings). */
export interface RefArray {
  shape: number[];
  dtype: tc.DType;
  data: (number | string)[];
}

export interface RefCase {
  name: string;
  op: string;
  inputs: RefArray[];
  attrs: Record<string, unknown>;
  expected: RefArray;
  rtol?: number;
  atol?: number;
}

export function loadFixture<T = { cases: RefCase[] }>(relPath: string): T {
  return JSON.parse(readFileSync(join(fixturesDir, relPath), "utf8")) as T;
}

function num(v: number | string): number {
  if (typeof v === "number") return v;
  if (v === "nan") return NaN;
  if (v === "inf") return Infinity;
  if (v === "-inf") return -Infinity;
  throw new Error(`bad fixture value ${v}`);
}

/** Builds the tensor a fixture array describes (exactly its dtype). */
export function fromRef(r: RefArray): tc.Tensor {
  const data = r.data.map(num);
  if (r.dtype === "float16" || r.dtype === "bfloat16") return tc.tensor(Float32Array.from(data), { shape: r.shape }).astype(r.dtype);
  if (r.dtype === "int64") return tc.tensor(BigInt64Array.from(data.map((x) => BigInt(x))), { shape: r.shape });
  return tc.tensor(data.length ? data : [], { shape: r.shape, dtype: r.dtype });
}

/**
 * Asserts shape, dtype and values: |a - e| <= atol + rtol * |e| elementwise, NaN matching NaN.
 * The message names the first mismatching index.
 */
export function expectClose(actual: tc.Tensor, expected: RefArray, opts: { rtol?: number; atol?: number; label?: string } = {}): void {
  const label = opts.label ? `${opts.label}: ` : "";
  expect(actual.shape, `${label}shape`).toEqual(expected.shape);
  expect(actual.dtype, `${label}dtype`).toBe(expected.dtype);
  const a = Array.from(actual.dataSync() as ArrayLike<number | bigint>, Number);
  const e = expected.data.map(num);
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-6;
  for (let i = 0; i < e.length; i++) {
    const ok = Number.isNaN(e[i]) ? Number.isNaN(a[i]) : e[i] === a[i] || Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]);
    if (!ok) expect.fail(`${label}element ${i}: got ${a[i]}, expected ${e[i]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** max |actual - expected| / max |expected|: one relative bound over the whole tensor (shapes must match). */
export function relError(actual: tc.Tensor, expected: RefArray): number {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.astype("float32").dataSync() as Float32Array;
  const e = expected.data as number[];
  let scale = 0;
  let err = 0;
  for (let i = 0; i < e.length; i++) {
    scale = Math.max(scale, Math.abs(e[i]));
    err = Math.max(err, Math.abs(a[i] - e[i]));
  }
  return err / scale;
}
