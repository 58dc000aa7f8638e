import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { expectClose, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefArray, RefCase } from "../../../test/helpers/reference.js";

type Attrs = Record<string, unknown>;
type Pre = ["transpose", number[]] | ["slice", number[], number[], number[]] | ["broadcast", number[]];
const n = (x: unknown) => x as number;
const ns = (x: unknown) => x as number[];

const ops: Record<string, (xs: tc.Tensor[], at: Attrs) => tc.Tensor> = {
  swapaxes: ([a], at) => tc.swapaxes(a, n(at.axis1), n(at.axis2)),
  expandDims: ([a], at) => tc.expandDims(a, at.axis as number | number[]),
  squeeze: ([a], at) => tc.squeeze(a, at.axis as number | number[] | undefined),
  flatten: ([a], at) => tc.flatten(a, n(at.start ?? 0), n(at.end ?? -1)),
  slice: ([a], at) => tc.slice(a, ns(at.start), ns(at.stop), at.step as number[] | undefined),
  index: ([a], at) => tc.index(a, ...(at.spec as tc.IndexSpec[])),
  concatenate: (xs, at) => tc.concatenate(xs, n(at.axis ?? 0)),
  stack: (xs, at) => tc.stack(xs, n(at.axis ?? 0)),
  split: ([a], at) => tc.split(a, at.sections as number | number[], n(at.axis))[0],
  pad: ([a], at) => tc.pad(a, at.widths as tc.PadWidths, n(at.value)),
  take: ([a, i], at) => tc.take(a, i, at.axis as number | undefined),
  takeAlongAxis: ([a, i], at) => tc.takeAlongAxis(a, i, n(at.axis)),
  sliceUpdate: ([a, u], at) => tc.sliceUpdate(a, u, ns(at.start), at.stop as number[] | undefined, at.step as number[] | undefined),
  repeat: ([a], at) => tc.repeat(a, at.repeats as number | number[], at.axis as number | undefined),
  tile: ([a], at) => tc.tile(a, ns(at.reps)),
  broadcastTo: ([a], at) => tc.broadcastTo(a, ns(at.shape)),
};

function applyPre(t: tc.Tensor, pre: Pre[] = []): tc.Tensor {
  for (const p of pre) {
    if (p[0] === "transpose") t = tc.transpose(t, p[1]);
    else if (p[0] === "slice") t = tc.slice(t, p[1], p[2], p[3]);
    else t = tc.broadcastTo(t, p[1]);
  }
  return t;
}

const { cases } = loadFixture<{ cases: (RefCase & { outputs?: RefArray[] })[] }>("core/layout.json");

describe("layout ops match NumPy", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    tc.tidy(() => {
      const inputs = c.inputs.map(fromRef);
      inputs[0] = applyPre(inputs[0], c.attrs.pre as Pre[] | undefined);
      expectClose(ops[c.op](inputs, c.attrs), c.expected, { rtol: 0, atol: 0 });
      if (c.outputs) {
        const parts = tc.split(inputs[0], c.attrs.sections as number | number[], n(c.attrs.axis));
        expect(parts.length).toBe(c.outputs.length);
        parts.forEach((p, i) => expectClose(p, c.outputs![i], { rtol: 0, atol: 0, label: `piece ${i}` }));
      }
    });
  });
});

// Bytes that evaluating `fn`'s result adds to the allocator's live memory.
function addedBytes(fn: () => tc.Tensor[]): number {
  return tc.tidy(() => {
    const before = tc.memory.stats().active;
    tc.evalSync(fn());
    return tc.memory.stats().active - before;
  });
}

describe("views share their input's buffer", () => {
  it("does not copy for swapaxes, expandDims, squeeze, flatten, slice and index", () => {
    const a = tc.tidy(() => tc.add(tc.zeros([64, 32, 16]), 1));
    tc.evalSync(a);
    const nb = a.nbytes;
    const t = () => tc.transpose(a, [2, 0, 1]);
    expect(addedBytes(() => [
      tc.swapaxes(a, 0, 2), tc.expandDims(t(), [0, -1]), tc.squeeze(tc.expandDims(t(), 1), 1),
      tc.flatten(a), tc.flatten(t(), 1, 2), tc.flatten(tc.index(a, 3), 0, 1),
      tc.index(t(), "...", [null, null, -2], "newaxis", 1), tc.slice(t(), [1, 2], [-1, 9], [2, -3]),
      tc.split(a, 4, 1)[2], tc.broadcastTo(tc.index(a, 0), [5, 32, 16]),
    ])).toBe(0);
    // The same measure does see a copy: flattening transposed data must make one.
    expect(addedBytes(() => [tc.flatten(t())])).toBeGreaterThanOrEqual(nb);
    a.dispose();
  });

  it("restrides reshapes of non-contiguous data where possible", () => {
    const a = tc.tidy(() => tc.reshape(tc.astype(tc.tensor(Int32Array.from({ length: 24 }, (_, i) => i)), "int64"), [2, 3, 4]));
    const t = tc.transpose(a, [1, 0, 2]); // [3, 2, 4]: the last axis stays contiguous
    expect(tc.reshape(t, [3, 8]).tolist()).toEqual(
      [0, 1, 2].map((i) => [0, 1].flatMap((j) => [0, 1, 2, 3].map((k) => j * 12 + i * 4 + k))),
    );
    expect(addedBytes(() => [tc.reshape(t, [3, 2, 2, 2]), tc.reshape(t, [1, 3, 1, 2, 4, 1])])).toBe(0);
  });
});

describe("sliceUpdate", () => {
  const rows = (t: tc.Tensor) => t.tolist();

  it("builds a KV cache step by step equal to concatenating the steps, in place", () => {
    const [B, H, S, D] = [1, 2, 6, 256];
    let cache = tc.zeros([B, H, S, D], "float16");
    tc.evalSync(cache);
    const steps: tc.Tensor[] = [];
    for (let t = 0; t < S; t++) {
      const kv = tc.tensor(Float32Array.from({ length: B * H * D }, (_, i) => (t * 37 + i) % 1000), { shape: [B, H, 1, D] });
      steps.push(kv);
      const next = tc.sliceUpdate(cache, kv, [0, 0, t, 0]);
      cache.dispose(); // nothing else holds the old cache: its buffer is reused in place
      cache = next;
      const before = tc.memory.stats().active;
      tc.memory.resetPeak();
      tc.evalSync(cache);
      expect(tc.memory.stats().peak - before, `step ${t} allocated a new cache`).toBeLessThan(cache.nbytes);
      tc.tidy(() => expect(rows(tc.index(cache, "...", [0, t + 1], null))).toEqual(rows(tc.astype(tc.concatenate(steps, 2), "float16"))));
    }
    expect(rows(cache)).toEqual(rows(tc.concatenate(steps, 2)));
  });

  it("writes in place when the input is donatable, with the same values as a copy", () => {
    const make = () => tc.tidy(() => tc.add(tc.zeros([512, 256]), 2));
    const u = tc.tensor([[1, 3, 4, 5]], { dtype: "float32" });
    tc.evalSync(u);
    const run = (donate: boolean) => {
      const a = make();
      tc.evalSync(a);
      const before = tc.memory.stats().active;
      tc.memory.resetPeak();
      const b = tc.sliceUpdate(a, u, [7, 100], [9, 104]);
      if (donate) a.dispose();
      tc.evalSync(b);
      const grew = tc.memory.stats().peak - before;
      const out = { b: b.dataSync() as Float32Array, grew, a: donate ? null : (a.dataSync() as Float32Array) };
      b.dispose();
      if (!donate) a.dispose();
      return out;
    };
    const copied = run(false);
    const donated = run(true);
    expect(copied.grew).toBeGreaterThanOrEqual(512 * 256 * 4);
    expect(donated.grew).toBeLessThan(512 * 256 * 4);
    expect(Array.from(donated.b)).toEqual(Array.from(copied.b));
    for (const row of [7, 8]) expect(Array.from(copied.b.slice(row * 256 + 99, row * 256 + 105))).toEqual([2, 1, 3, 4, 5, 2]);
    expect(copied.b.filter((v) => v !== 2).length).toBe(8);
    // The input held by JS is untouched.
    expect(copied.a!.every((v) => v === 2)).toBe(true);
  });

  it("never writes into a buffer that a live view shares", () => {
    const base = tc.tidy(() => tc.add(tc.zeros([4, 4]), 5));
    tc.evalSync(base);
    const view = tc.reshape(base, [16]); // held by JS, shares base's buffer
    tc.evalSync(view);
    base.dispose();
    const flat = tc.reshape(view, [4, 4]); // not held elsewhere, but its buffer is
    const up = tc.sliceUpdate(flat, 9, [1, 1], [3, 3]);
    tc.evalSync(up);
    expect((view.dataSync() as Float32Array).every((v) => v === 5)).toBe(true);
    expect(tc.index(up, 1, 1).item()).toBe(9);
    expect(tc.index(up, 0, 0).item()).toBe(5);
  });

  it("never writes into memory-mapped weights", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-layout-"));
    try {
      const path = join(dir, "w.safetensors");
      await tc.io.saveSafetensors(path, { w: tc.tidy(() => tc.add(tc.zeros([64, 64]), 3)) });
      const bytes = readFileSync(path);
      const weights = tc.io.loadSafetensors(path);
      const w = weights.tensors.get("w")!;
      weights.tensors.delete("w");
      const up = tc.sliceUpdate(w, 8, [0, 0], [2, 2]);
      w.dispose(); // the mapped buffer is held by nothing else now, but it is not ours to write
      expect(tc.index(up, 1, 1).item()).toBe(8);
      expect(tc.index(up, 2, 2).item()).toBe(3);
      expect(readFileSync(path).equals(bytes)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("take", () => {
  it("wraps negative indices and accepts any integer dtype", () => {
    const a = tc.tensor([[1, 2, 3], [4, 5, 6]]);
    for (const dt of ["int8", "int16", "int32", "int64", "uint8", "uint32"] as const) {
      expect(tc.take(a, tc.tensor([2, 0], { dtype: dt }), 1).tolist()).toEqual([[3, 1], [6, 4]]);
    }
    expect(tc.take(a, [-1, -6]).tolist()).toEqual([6, 1]);
    expect(tc.take(a, 1, 0).tolist()).toEqual([4, 5, 6]);
  });

  it("throws a clear error at evaluation for out-of-range indices (as NumPy)", async () => {
    const a = tc.tensor([1, 2, 3]);
    const bad = tc.take(a, [0, 3]);
    expect(() => bad.dataSync()).toThrow(/take: index 3 is out of bounds for axis 0 with size 3/);
    await expect(tc.take(a, [-4]).data()).rejects.toThrow(/index -4 is out of bounds for axis 0 with size 3/);
    const along = tc.takeAlongAxis(tc.tensor([[1, 2]]), tc.tensor([[2]]), 1);
    expect(() => along.dataSync()).toThrow(/takeAlongAxis: index 2 is out of bounds for axis 1 with size 2/);
    expect(tc.take(a, [2]).tolist()).toEqual([3]); // the runtime is fine afterwards
  });
});

describe("properties", () => {
  const shapes = [[3, 4], [2, 3, 5], [1, 6, 1, 2], [4]];
  const iota = (shape: number[]) =>
    tc.reshape(tc.tensor(Int32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, (_, i) => i)), shape);

  it("split then concatenate is the identity, on every axis", () => {
    for (const shape of shapes) {
      const a = iota(shape);
      for (let ax = -shape.length; ax < shape.length; ax++) {
        const d = shape[(ax + shape.length) % shape.length];
        const parts = tc.split(a, [1, Math.max(1, d - 1)], ax);
        expect(tc.concatenate(parts, ax).tolist()).toEqual(a.tolist());
        expect(tc.concatenate(tc.split(a, 1, ax), ax).tolist()).toEqual(a.tolist());
      }
    }
  });

  it("index with slices equals slice, take with iota indices is the identity, tile equals repeated concatenation", () => {
    for (const shape of shapes) {
      const a = iota(shape);
      const last = shape.length - 1;
      const idx = tc.tensor(Int32Array.from({ length: shape[last] }, (_, i) => i));
      expect(tc.take(a, idx, -1).tolist()).toEqual(a.tolist());
      expect(tc.index(a, "...", [null, null, -1]).tolist()).toEqual(tc.slice(a, [...shape.slice(0, last).map(() => 0), -1], [...shape.slice(0, last), -(shape[last] + 1)], [...shape.slice(0, last).map(() => 1), -1]).tolist());
      expect(tc.tile(a, [2, ...shape.map(() => 1)]).tolist()).toEqual(tc.stack([a, a]).tolist());
      expect(tc.repeat(a, 2, 0).tolist()).toEqual(tc.reshape(tc.stack([a, a], 1), [shape[0] * 2, ...shape.slice(1)]).tolist());
    }
  });
});

describe("bad input", () => {
  const a = tc.ones([2, 3]);
  it("axis out of range", () => {
    expect(() => tc.swapaxes(a, 0, 2)).toThrow(/swapaxes: axis 2 is out of range for an array of 2 dimensions/);
    expect(() => tc.expandDims(a, 3)).toThrow(/expandDims: axis 3 is out of range for an array of 3 dimensions/);
    expect(() => tc.squeeze(a, -3)).toThrow(/squeeze: axis -3 is out of range/);
    expect(() => tc.concatenate([a, a], 2)).toThrow(/concatenate: axis 2 is out of range/);
    expect(() => tc.stack([a, a], -4)).toThrow(/stack: axis -4 is out of range for an array of 3 dimensions/);
    expect(() => tc.take(a, [0], 5)).toThrow(/take: axis 5 is out of range/);
    expect(() => tc.split(a, 2, 2)).toThrow(/split: axis 2 is out of range for a tensor of 2 dimensions/);
    expect(() => tc.repeat(a, 2, 2)).toThrow(/repeat: axis 2 is out of range/);
    expect(() => tc.flatten(a, 0, 2)).toThrow(/flatten: axis 2 is out of range/);
    expect(() => tc.flatten(a, 1, 0)).toThrow(/flatten: start axis 1 comes after end axis 0 for shape \[2, 3\]/);
    expect(() => tc.squeeze(a, 1)).toThrow(/squeeze: cannot squeeze axis 1 of size 3 in shape \[2, 3\]/);
    expect(() => tc.swapaxes(a, 0.5, 1)).toThrow(/swapaxes: axis1 must be an integer, got 0.5/);
  });

  it("mismatched shapes in concatenate and stack name the shapes", () => {
    expect(() => tc.concatenate([a, tc.ones([3, 4])])).toThrow(/concatenate: all arrays must have the same shape except along axis 0; got \[2, 3\] and \[3, 4\]/);
    expect(() => tc.concatenate([a, tc.ones([3])])).toThrow(/got \[2, 3\] and \[3\]/);
    expect(() => tc.stack([a, tc.ones([3, 2])])).toThrow(/stack: all arrays must have the same shape; got \[2, 3\] and \[3, 2\]/);
    expect(() => tc.concatenate([])).toThrow(/concatenate: needs at least one tensor/);
    expect(() => tc.concatenate([tc.scalar(1), tc.scalar(2)])).toThrow(/0-d arrays cannot be concatenated/);
  });

  it("bad pad widths", () => {
    expect(() => tc.pad(a, [[1, 2]])).toThrow(/pad: widths must be a number, a \[before, after\] pair, or one pair per axis \(2 axes\)/);
    expect(() => tc.pad(a, [[1, -2], [0, 0]])).toThrow(/pad: widths must be non-negative; got \[1, -2\] for axis 0/);
    expect(() => tc.pad(a, -1)).toThrow(/pad: widths must be non-negative/);
    expect(() => tc.pad(a, [1.5, 1])).toThrow(/pad: widths must be an integer, got 1.5/);
  });

  it("split not divisible, negative sizes, bad indices", () => {
    expect(() => tc.split(a, 2, 1)).toThrow(/split: an axis of size 3 \(axis 1 of shape \[2, 3\]\) cannot be split into 2 equal sections/);
    expect(() => tc.split(a, 0)).toThrow(/split: the number of sections must be positive, got 0/);
    expect(() => tc.repeat(a, -1)).toThrow(/repeat: repeats must be non-negative, got -1/);
    expect(() => tc.repeat(a, [1, -1, 1], 1)).toThrow(/repeat: repeats must be non-negative, got -1/);
    expect(() => tc.repeat(a, [1, 2], 1)).toThrow(/repeat: got 2 repeat counts for an axis of size 3/);
    expect(() => tc.tile(a, [2, -1])).toThrow(/tile: repetitions must be non-negative, got -1/);
    expect(() => tc.broadcastTo(a, [-2, 3])).toThrow(/broadcastTo: negative dimension in shape \[-2, 3\]/);
    expect(() => tc.reshape(a, [-2, 3])).toThrow(/reshape: negative dimension in shape \[-2, 3\]/);
    expect(() => tc.take(a, tc.tensor([0.5]))).toThrow(/take: indices must have an integer dtype, got float32/);
    expect(() => tc.take(a, tc.tensor([true]))).toThrow(/take: indices must have an integer dtype, got bool/);
    expect(() => tc.takeAlongAxis(a, tc.tensor([0]), 0)).toThrow(/takeAlongAxis: indices must have the same number of dimensions as the array; got shapes \[1\] and \[2, 3\]/);
    expect(() => tc.takeAlongAxis(a, tc.tensor([[0], [1], [1]]), 1)).toThrow(/indices of shape \[3, 1\] do not broadcast with the array's shape \[2, 3\] outside axis 1/);
  });

  it("bad slices and indices", () => {
    expect(() => tc.slice(a, [0, 0], [2, 3], [1, 0])).toThrow(/slice: step cannot be 0 \(axis 1\)/);
    expect(() => tc.slice(a, [0, 0, 0], [1, 1, 1])).toThrow(/slice: got 3 bounds for a tensor of 2 dimensions/);
    expect(() => tc.slice(a, [0], [1, 2])).toThrow(/slice: start, stop and step must have the same length/);
    expect(() => tc.index(a, 0, 0, 0)).toThrow(/index: too many indices for a tensor of 2 dimensions \(got 3\)/);
    expect(() => tc.index(a, 2)).toThrow(/index: index 2 is out of bounds for axis 0 with size 2/);
    expect(() => tc.index(a, null, -4)).toThrow(/index: index -4 is out of bounds for axis 1 with size 3/);
    expect(() => tc.index(a, "...", "...")).toThrow(/index: an index can only have a single ellipsis/);
    expect(() => tc.index(a, [0, 2, 0])).toThrow(/index: slice step cannot be 0 \(axis 0\)/);
    expect(() => tc.index(a, "x" as tc.IndexSpec)).toThrow(/index: each index must be an integer, \[start, stop, step\?\], null, "..." or "newaxis"; got "x"/);
    expect(() => tc.sliceUpdate(a, tc.ones([3]), [0, 0], [2, 2])).toThrow(/sliceUpdate: an update of shape \[3\] cannot be broadcast to the region \[2, 2\] of an array of shape \[2, 3\]/);
    expect(() => tc.sliceUpdate(a, tc.ones([2, 2]), [1, 0])).toThrow(/sliceUpdate: an update of shape \[2, 2\] cannot be broadcast to the region \[1, 2\]/);
    expect(() => tc.sliceUpdate(a, 1, [0, 0, 0])).toThrow(/sliceUpdate: got 3 start indices for a tensor of 2 dimensions/);
  });
});

describe("transposed copies (cache-blocked path)", () => {
  // Values of a row-major array permuted by axes, computed in JS.
  function permute(data: ArrayLike<number>, shape: readonly number[], axes: readonly number[]): number[] {
    const nd = shape.length;
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, s) => p * s, 1));
    const outShape = axes.map((a) => shape[a]);
    const size = shape.reduce((p, s) => p * s, 1);
    const out = new Array<number>(size);
    const idx = new Array<number>(nd).fill(0);
    for (let o = 0; o < size; o++) {
      let src = 0;
      for (let d = 0; d < nd; d++) src += idx[d] * strides[axes[d]];
      out[o] = data[src];
      for (let d = nd - 1; d >= 0; d--) {
        if (++idx[d] < outShape[d]) break;
        idx[d] = 0;
      }
    }
    return out;
  }
  const values = (size: number) => Array.from({ length: size }, (_, i) => ((i * 37) % 2003) - 1001);
  const read = (t: tc.Tensor) => Array.from(t.dataSync() as ArrayLike<number | bigint>, Number);
  const cases: [string, number[], number[], tc.DType][] = [
    ["2-D 33x65 float32", [33, 65], [1, 0], "float32"],
    ["2-D 70x130 float16", [70, 130], [1, 0], "float16"],
    ["2-D 33x65 int64", [33, 65], [1, 0], "int64"],
    ["2-D 40x97 uint8", [40, 97], [1, 0], "uint8"],
    ["3-D batch 3x33x65 swap last two", [3, 33, 65], [0, 2, 1], "float32"],
    ["3-D 8x150x64 swap first two", [8, 150, 64], [1, 0, 2], "float32"],
    ["4-D 2x3x40x50 to 0,3,1,2", [2, 3, 40, 50], [0, 3, 1, 2], "int32"],
  ];
  for (const [name, shape, axes, dtype] of cases) {
    it(name, () => {
      const size = shape.reduce((p, s) => p * s, 1);
      const data = dtype === "uint8" ? values(size).map((v) => v & 255) : values(size);
      const a = tc.tensor(data, { dtype }).reshape(shape);
      const t = tc.transpose(a, axes);
      const want = permute(data, shape, axes);
      expect(read(tc.copy(t))).toEqual(want);
      // Reshape of the transposed view must materialize the same order.
      expect(read(tc.reshape(t, [size]))).toEqual(want);
    });
  }

  it("swapaxes(attn, 1, 2).reshape(b, l, d) as in attention", () => {
    const shape = [2, 4, 37, 16];
    const size = shape.reduce((p, s) => p * s, 1);
    const data = values(size).map((v) => v / 8);
    const out = tc.reshape(tc.swapaxes(tc.tensor(data).reshape(shape), 1, 2), [2, 37, 64]);
    expect(out.shape).toEqual([2, 37, 64]);
    expect(read(out)).toEqual(permute(data, shape, [0, 2, 1, 3]));
  });

  it("astype of a transposed float32 to float16 and int32 rounds like the contiguous path", () => {
    const shape = [45, 67];
    const data = Array.from({ length: 45 * 67 }, (_, i) => Math.sin(i) * 3000 + 0.1 * i);
    const a = tc.tensor(data).reshape(shape);
    for (const dtype of ["float16", "int32", "bfloat16"] as tc.DType[]) {
      const want = permute(read(tc.astype(a, dtype)), shape, [1, 0]);
      expect(read(tc.astype(tc.transpose(a), dtype))).toEqual(want);
    }
    // float16 -> float32 from a transposed half tensor.
    const h = tc.astype(a, "float16");
    expect(read(tc.astype(tc.transpose(h), "float32"))).toEqual(permute(read(h), shape, [1, 0]));
  });
});
