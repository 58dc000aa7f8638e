import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { forEachIsaLevel } from "../../../test/helpers/isa.js";
import { expectClose, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";

type Attrs = Record<string, unknown> & { transpose?: [boolean, boolean] };

// Swaps the last two axes (fixtures store transposed operands as contiguous transposes).
function swapLast(t: tc.Tensor): tc.Tensor {
  const axes = t.shape.map((_, i) => i);
  [axes[t.ndim - 2], axes[t.ndim - 1]] = [axes[t.ndim - 1], axes[t.ndim - 2]];
  return tc.transpose(t, axes);
}

function runCase(op: string, inputs: tc.Tensor[], attrs: Attrs): tc.Tensor {
  switch (op) {
    case "matmul": {
      const [ta, tb] = attrs.transpose ?? [false, false];
      return tc.matmul(ta ? swapLast(inputs[0]) : inputs[0], tb ? swapLast(inputs[1]) : inputs[1]);
    }
    case "conv1d":
      return tc.conv1d(inputs[0], inputs[1], attrs as tc.Conv1dOptions);
    case "conv2d":
      return tc.conv2d(inputs[0], inputs[1], attrs as tc.Conv2dOptions);
    case "avgPool2d":
      return tc.avgPool2d(inputs[0], attrs.kernel as tc.PerDim2, attrs as tc.AvgPool2dOptions);
    case "upsampleNearest":
      return tc.upsampleNearest(inputs[0], attrs.scale as tc.PerDim2);
    default:
      throw new Error(`unknown op ${op}`);
  }
}

// Deterministic pseudo-random values in [-1, 1).
function randoms(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 31 - 1;
  });
}

// Row-major A [M, K] @ B [K, N] in float64.
function naiveMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += av * b[p * n + j];
    }
  return c;
}

function ref(shape: number[], data: ArrayLike<number>, dtype: tc.DType = "float32"): RefArray {
  return { shape, dtype, data: Array.from(data) };
}

// A [rows, cols] tensor holding `data`, built either directly or as the transpose of a contiguous
// [cols, rows] tensor (a strided view, which the GEMM packing must read in place).
function matrix(data: Float32Array, rows: number, cols: number, transposed: boolean, dtype: tc.DType = "float32"): tc.Tensor {
  if (!transposed) return tc.tensor(data, { shape: [rows, cols] }).astype(dtype);
  const t = new Float32Array(data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = data[i * cols + j];
  const base = tc.tensor(t, { shape: [cols, rows] }).astype(dtype);
  tc.evalSync(base);
  return base.T;
}

// The values a float32 array takes once rounded to `dtype`.
function rounded(data: Float32Array, dtype: tc.DType): Float32Array {
  return dtype === "float32" ? data : (tc.tensor(data).astype(dtype).astype("float32").dataSync() as Float32Array);
}

describe("linalg fixtures (NumPy references)", () => {
  const { cases } = loadFixture("core/linalg.json");
  for (const c of cases) {
    it(c.name, () => {
      const out = runCase(c.op, c.inputs.map(fromRef), c.attrs as Attrs);
      expectClose(out, c.expected, { rtol: c.rtol ?? 1e-5, atol: c.atol ?? 1e-5, label: c.name });
    });
  }
});

forEachIsaLevel("matmul against a float64 reference", () => {
  // Sizes around the microkernel tiles (AVX2 6x16, AVX-512 12x32), the row blocks (144, 288), the
  // 256-deep k blocks and the column panels (4080, 4096).
  const shapes: [number, number, number][] = [
    [1, 1, 1], [7, 7, 7], [17, 17, 17], [33, 33, 33], [65, 65, 65], [129, 129, 129],
    [129, 7, 65], [7, 129, 33], [65, 17, 300], [150, 33, 513], [5, 4100, 3], [1, 129, 600], [129, 1, 600], [2, 3, 1000],
  ];
  for (const [m, n, k] of shapes) {
    it(`${m}x${k} @ ${k}x${n}, every operand layout`, () => {
      const a = randoms(m * k, m * 7 + k), b = randoms(k * n, n * 13 + k);
      const expected = ref([m, n], naiveMatmul(a, b, m, n, k));
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const out = tc.matmul(matrix(a, m, k, ta), matrix(b, k, n, tb));
          expectClose(out, expected, { rtol: 1e-4, atol: 2e-5 * Math.sqrt(k), label: `transposed a=${ta} b=${tb}` });
        }
    });
  }

  for (const dtype of ["float16", "bfloat16"] as const) {
    for (const [m, n, k] of [[33, 65, 129], [1, 70, 300], [70, 1, 300], [7, 17, 260]] as [number, number, number][]) {
      it(`${dtype} ${m}x${k} @ ${k}x${n} accumulates in float32`, () => {
        const a = rounded(randoms(m * k, 3 + k), dtype), b = rounded(randoms(k * n, 5 + n), dtype);
        const exact = naiveMatmul(a, b, m, n, k);
        const tol = dtype === "float16" ? 2e-3 : 1.6e-2; // one rounding of the result
        for (const tb of [false, true]) {
          const out = tc.matmul(matrix(a, m, k, false, dtype), matrix(b, k, n, tb, dtype));
          expect(out.dtype).toBe(dtype);
          expectClose(out.astype("float32"), ref([m, n], exact), { rtol: tol, atol: tol, label: `b transposed ${tb}` });
        }
      });
    }
  }

  it("broadcasts batch dimensions, folding a shared b into one GEMM", () => {
    const [m, n, k] = [5, 9, 20];
    const a = randoms(2 * 3 * m * k, 1), b = randoms(3 * k * n, 2);
    const ta = tc.tensor(a, { shape: [2, 3, m, k] }), tb = tc.tensor(b, { shape: [3, k, n] });
    const out = tc.matmul(ta, tb);
    expect(out.shape).toEqual([2, 3, m, n]);
    const got = out.dataSync();
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) {
        const e = naiveMatmul(a.subarray((i * 3 + j) * m * k, (i * 3 + j + 1) * m * k), b.subarray(j * k * n, (j + 1) * k * n), m, n, k);
        for (let q = 0; q < m * n; q++) expect(got[((i * 3 + j) * m * n) + q]).toBeCloseTo(e[q], 4);
      }
    // b shared by every batch (a Linear layer on [B, L, D]); a both contiguous and a strided view.
    const w = randoms(k * n, 3);
    const tw = tc.tensor(w, { shape: [k, n] });
    for (const view of [ta, tc.transpose(tc.tensor(a, { shape: [3, 2, m, k] }), [1, 0, 2, 3])]) {
      const src = view.dataSync() as Float32Array;
      const y = tc.matmul(view, tw).dataSync();
      for (let bi = 0; bi < 6; bi++) {
        const e = naiveMatmul(src.subarray(bi * m * k, (bi + 1) * m * k), w, m, n, k);
        for (let q = 0; q < m * n; q++) expect(y[bi * m * n + q]).toBeCloseTo(e[q], 4);
      }
    }
  });

  it("handles empty and degenerate shapes", () => {
    expect(tc.matmul(tc.zeros([0, 4]), tc.zeros([4, 3])).shape).toEqual([0, 3]);
    expect(tc.matmul(tc.zeros([2, 0, 4]), tc.zeros([4, 3])).shape).toEqual([2, 0, 3]);
    expect(Array.from(tc.matmul(tc.ones([2, 0]), tc.ones([0, 3])).dataSync() as Float32Array)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(tc.matmul(tc.ones([3]), tc.ones([3])).item()).toBe(3);
  });

  it("rejects bad shapes naming both", () => {
    expect(() => tc.matmul(tc.ones([2, 3]), tc.ones([4, 5]))).toThrow(
      "matmul: shapes [2, 3] and [4, 5] are not aligned: the last dimension of a (3) must equal the second-to-last dimension of b (4)",
    );
    expect(() => tc.matmul(tc.ones([2, 3]), tc.ones([4]))).toThrow(/shapes \[2, 3\] and \[4\] are not aligned.*the length of b \(4\)/);
    expect(() => tc.matmul(tc.ones([2, 3, 4]), tc.ones([3, 4, 5]))).toThrow(
      /batch dimensions of shapes \[2, 3, 4\] and \[3, 4, 5\] cannot be broadcast together/,
    );
    expect(() => tc.matmul(tc.scalar(2), tc.ones([2]))).toThrow(/at least 1 dimension, got shapes \[\] and \[2\]/);
    expect(() => tc.matmul(tc.ones([2]), 3 as unknown as tc.Tensor)).toThrow(/matmul: b must be a Tensor/);
  });
});

// x [N, H, W, C], w [O, KH, KW, C / g], symmetric padding; float64.
function naiveConv2d(x: Float32Array, xs: number[], w: Float32Array, ws: number[], stride: number, pad: number, groups: number) {
  const [n, h, wd, c] = xs, [o, kh, kw, cg] = ws;
  const ho = Math.floor((h + 2 * pad - kh) / stride) + 1, wo = Math.floor((wd + 2 * pad - kw) / stride) + 1;
  const og = o / groups;
  const out = new Float64Array(n * ho * wo * o);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let oc = 0; oc < o; oc++) {
          const g = Math.floor(oc / og);
          let s = 0;
          for (let p = 0; p < kh; p++) {
            const ih = i * stride - pad + p;
            if (ih < 0 || ih >= h) continue;
            for (let q = 0; q < kw; q++) {
              const iw = j * stride - pad + q;
              if (iw < 0 || iw >= wd) continue;
              const xo = ((b * h + ih) * wd + iw) * c + g * cg, wo2 = ((oc * kh + p) * kw + q) * cg;
              for (let ci = 0; ci < cg; ci++) s += x[xo + ci] * w[wo2 + ci];
            }
          }
          out[((b * ho + i) * wo + j) * o + oc] = s;
        }
  return { out, shape: [n, ho, wo, o] };
}

forEachIsaLevel("convolutions against a direct float64 reference", () => {
  const specs: { name: string; xs: number[]; ws: number[]; stride: number; pad: number; groups: number }[] = [
    { name: "im2col in several row chunks", xs: [1, 128, 128, 64], ws: [2, 3, 3, 64], stride: 1, pad: 1, groups: 1 },
    { name: "channels past one microkernel tile", xs: [2, 9, 11, 19], ws: [33, 3, 3, 19], stride: 2, pad: 1, groups: 1 },
    { name: "pointwise over many rows", xs: [3, 17, 13, 40], ws: [70, 1, 1, 40], stride: 1, pad: 0, groups: 1 },
    { name: "depthwise 5x5", xs: [1, 12, 10, 24], ws: [24, 5, 5, 1], stride: 1, pad: 2, groups: 24 },
    { name: "grouped, strided", xs: [1, 10, 10, 12], ws: [8, 3, 3, 3], stride: 2, pad: 1, groups: 4 },
  ];
  for (const s of specs) {
    it(s.name, () => {
      const nx = s.xs.reduce((a, b) => a * b), nw = s.ws.reduce((a, b) => a * b);
      const x = randoms(nx, nx), w = randoms(nw, nw + 1);
      const e = naiveConv2d(x, s.xs, w, s.ws, s.stride, s.pad, s.groups);
      const out = tc.conv2d(tc.tensor(x, { shape: s.xs }), tc.tensor(w, { shape: s.ws }), { stride: s.stride, padding: s.pad, groups: s.groups });
      const k = s.ws[1] * s.ws[2] * s.ws[3];
      expectClose(out, ref(e.shape, e.out), { rtol: 1e-4, atol: 2e-5 * Math.sqrt(k) });
    });
  }

  it("reads a strided (transposed) input", () => {
    const x = randoms(2 * 6 * 5 * 3, 9), w = randoms(4 * 3 * 3 * 3, 10);
    const xt = tc.transpose(tc.tensor(x, { shape: [2, 6, 5, 3] }), [0, 2, 1, 3]); // [2, 5, 6, 3] view
    const xtData = xt.dataSync() as Float32Array;
    const e = naiveConv2d(xtData, [2, 5, 6, 3], w, [4, 3, 3, 3], 1, 1, 1);
    expectClose(tc.conv2d(xt, tc.tensor(w, { shape: [4, 3, 3, 3] }), { padding: 1 }), ref(e.shape, e.out), { rtol: 1e-5, atol: 1e-5 });
  });

  it("computes halves in float32 with a half result", () => {
    const x = rounded(randoms(1 * 7 * 7 * 8, 11), "float16"), w = rounded(randoms(5 * 3 * 3 * 8, 12), "float16");
    const e = naiveConv2d(x, [1, 7, 7, 8], w, [5, 3, 3, 8], 1, 1, 1);
    const out = tc.conv2d(tc.tensor(x, { shape: [1, 7, 7, 8] }).astype("float16"), tc.tensor(w, { shape: [5, 3, 3, 8] }).astype("float16"), { padding: 1 });
    expect(out.dtype).toBe("float16");
    expectClose(out.astype("float32"), ref(e.shape, e.out), { rtol: 2e-3, atol: 2e-3 });
  });

  it("promotes integer inputs to float32", () => {
    const out = tc.conv1d(tc.tensor([[[1], [2], [3]]]), tc.tensor([[[1], [1]]]));
    expect(out.dtype).toBe("float32");
    expect(out.tolist()).toEqual([[[3], [5]]]);
  });

  it("rejects bad shapes and options with clear errors", () => {
    const x = tc.ones([1, 5, 5, 4]);
    expect(() => tc.conv2d(tc.ones([5, 5, 4]), tc.ones([2, 3, 3, 4]))).toThrow(
      "conv2d: input must have 4 dimensions ([N, H, W, Cin]), got shape [5, 5, 4]",
    );
    expect(() => tc.conv2d(x, tc.ones([2, 3, 4]))).toThrow(/conv2d: weight must have 4 dimensions \(\[Cout, KH, KW, Cin \/ groups\]\), got shape \[2, 3, 4\]/);
    expect(() => tc.conv2d(x, tc.ones([2, 3, 3, 3]))).toThrow(
      "conv2d: weight shape [2, 3, 3, 3] does not match input shape [1, 5, 5, 4]: its last dimension must be Cin / groups = 4",
    );
    expect(() => tc.conv2d(x, tc.ones([3, 3, 3, 2]), { groups: 2 })).toThrow(
      /groups \(2\) must divide both the input channels \(4\) and the output channels \(3\)/,
    );
    expect(() => tc.conv2d(x, tc.ones([2, 7, 3, 4]))).toThrow(/kernel \(extent 7 with dilation\) is larger than the padded input \(5\)/);
    expect(() => tc.conv2d(x, tc.ones([2, 3, 3, 4]), { dilation: 3 })).toThrow(/extent 7 with dilation/);
    expect(() => tc.conv2d(x, tc.ones([2, 3, 3, 4]), { stride: 0 })).toThrow("conv2d: stride must be an integer >= 1, got 0");
    expect(() => tc.conv2d(x, tc.ones([2, 3, 3, 4]), { padding: -1 })).toThrow("conv2d: padding must be an integer >= 0, got -1");
    expect(() => tc.conv2d(x, tc.ones([2, 3, 3, 4]), { padding: [1, 2, 3] as unknown as [number, number] })).toThrow(
      /padding must be a number or \[h, w\]/,
    );
    expect(() => tc.conv1d(tc.ones([1, 5, 4]), tc.ones([2, 3, 3]))).toThrow(
      "conv1d: weight shape [2, 3, 3] does not match input shape [1, 5, 4]: its last dimension must be Cin / groups = 4",
    );
    expect(() => tc.conv1d(tc.ones([1, 5, 4]), tc.ones([2, 3, 4]), { groups: 1.5 })).toThrow("conv1d: groups must be an integer >= 1, got 1.5");
  });
});

describe("avgPool2d and upsampleNearest", () => {
  it("averages with padded zeros counted, as PyTorch's default", () => {
    const x = tc.ones([1, 2, 2, 1]);
    // 3x3 windows at stride 1 with padding 1: every window holds 4 ones out of 9 cells.
    const out = tc.avgPool2d(x, 3, { stride: 1, padding: 1 });
    expect(out.shape).toEqual([1, 2, 2, 1]);
    for (const v of out.dataSync()) expect(v).toBeCloseTo(4 / 9, 6);
  });

  it("keeps half dtypes and promotes integers", () => {
    expect(tc.avgPool2d(tc.ones([1, 4, 4, 2], "bfloat16"), 2).dtype).toBe("bfloat16");
    const i = tc.avgPool2d(tc.tensor([[[[1], [2]], [[3], [5]]]]), 2);
    expect(i.dtype).toBe("float32");
    expect(i.item()).toBeCloseTo(2.75, 6);
  });

  it("upsamples int and strided inputs exactly", () => {
    const x = tc.tensor([[[[1, 2], [3, 4]]]], { dtype: "int32" }); // [1, 1, 2, 2]
    expect(tc.upsampleNearest(x, [2, 1]).tolist()).toEqual([[[[1, 2], [3, 4]], [[1, 2], [3, 4]]]]);
    const t = tc.transpose(tc.tensor([[[[1], [2]], [[3], [4]]]]), [0, 2, 1, 3]); // [[1, 3], [2, 4]] spatially
    expect(tc.upsampleNearest(t, [1, 2]).reshape(2, 4).tolist()).toEqual([[1, 1, 3, 3], [2, 2, 4, 4]]);
  });

  it("rejects bad arguments", () => {
    expect(() => tc.avgPool2d(tc.ones([4, 4, 1]), 2)).toThrow("avgPool2d: input must have 4 dimensions [N, H, W, C], got shape [4, 4, 1]");
    expect(() => tc.avgPool2d(tc.ones([1, 4, 4, 1]), 2, { padding: 2 })).toThrow(/padding \[2, 2\] must be at most half the kernel \[2, 2\]/);
    expect(() => tc.avgPool2d(tc.ones([1, 2, 2, 1]), 3)).toThrow(/kernel \[3, 3\] is larger than the padded input of shape \[1, 2, 2, 1\]/);
    expect(() => tc.avgPool2d(tc.ones([1, 4, 4, 1]), 0)).toThrow("avgPool2d: kernel must be an integer >= 1, got 0");
    expect(() => tc.upsampleNearest(tc.ones([1, 2, 2, 1]), 1.5)).toThrow("upsampleNearest: scale must be an integer >= 1, got 1.5");
    expect(() => tc.upsampleNearest(tc.ones([2, 2, 1]), 2)).toThrow(/input must have 4 dimensions \[N, H, W, C\]/);
  });
});

describe("_benchFmaPeak", () => {
  it("reports the GFLOP it ran on every pool thread", () => {
    const g = tc.callOp("_benchFmaPeak", [], { iterations: 1000 });
    const expected = (1000 * 192 * tc.numThreads()) / 1e9;
    expect(Math.abs(g.item() / expected - 1)).toBeLessThan(1e-6); // float32 result
    expect(() => tc.callOp("_benchFmaPeak", [], { iterations: 0 })).toThrow(/iterations must be >= 1/);
  });
});
