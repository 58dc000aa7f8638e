import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { loadFixture } from "../../../test/helpers/reference.js";

const { quant, io } = tc;

// Arrays as gen_quant.py writes them: raw little-endian bytes in base64 (bfloat16 as its bits).
interface B64Array {
  shape: number[];
  dtype: tc.DType;
  b64: string;
}
interface MatmulCase {
  transpose: boolean;
  x: B64Array;
  y: B64Array;
}
interface QuantCase {
  bits: number;
  group_size: number;
  w: B64Array;
  weight: B64Array;
  scales: B64Array;
  biases: B64Array;
  dequantized: B64Array;
  matmuls: MatmulCase[];
}
const fx = loadFixture<{ mlx_version: string; cases: QuantCase[] }>("core/quant.json");

const bytesOf = (a: B64Array): Uint8Array => new Uint8Array(Buffer.from(a.b64, "base64"));
const fromB64 = (a: B64Array): tc.Tensor => tc.tensor(bytesOf(a), { dtype: a.dtype, shape: a.shape });

/** The raw bits of a tensor's elements (uint32 words, float32 bits or half bits). */
function bitsOf(t: tc.Tensor): number[] {
  if (t.dtype === "float16" || t.dtype === "bfloat16") return Array.from(t.rawHalfBits());
  const d = t.dataSync();
  return Array.from(new Uint32Array(d.buffer, d.byteOffset, d.byteLength / 4));
}
function refBits(a: B64Array): number[] {
  const b = bytesOf(a);
  return a.dtype === "float16" || a.dtype === "bfloat16"
    ? Array.from(new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2))
    : Array.from(new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4));
}
function refValues(a: B64Array): number[] {
  return Array.from(refF32(a));
}
function refF32(a: B64Array): Float32Array {
  return fromB64(a).astype("float32").dataSync() as Float32Array;
}
function expectBitsEqual(t: tc.Tensor, a: B64Array, label: string): void {
  expect(t.shape, `${label} shape`).toEqual(a.shape);
  expect(t.dtype, `${label} dtype`).toBe(a.dtype);
  const got = bitsOf(t), want = refBits(a);
  const bad = got.findIndex((v, i) => v !== want[i]);
  expect(bad, `${label}: first differing element ${bad} (got bits ${got[bad]}, MLX ${want[bad]})`).toBe(-1);
}
function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, label: string): void {
  expect(got.length, `${label} length`).toBe(want.length);
  for (let i = 0; i < want.length; i++)
    if (!(Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]))) expect.fail(`${label}[${i}]: got ${got[i]}, want ${want[i]}`);
}

const name = (c: QuantCase) => `${c.w.dtype} bits=${c.bits} group=${c.group_size}`;

describe("affine quantization vs MLX", () => {
  it("the fixture covers every bits and group size", () => {
    for (const bits of quant.QUANT_BITS)
      for (const gs of quant.GROUP_SIZES) expect(fx.cases.some((c) => c.bits === bits && c.group_size === gs && c.w.dtype === "float32")).toBe(true);
  });

  it.each(fx.cases.map((c) => [name(c), c] as const))("quantize is bit-exact: %s", (_, c) => {
    const q = quant.quantize(fromB64(c.w), { bits: c.bits, groupSize: c.group_size });
    expectBitsEqual(q.weight, c.weight, "weight");
    expectBitsEqual(q.scales, c.scales, "scales");
    expectBitsEqual(q.biases, c.biases, "biases");
  });

  it.each(fx.cases.map((c) => [name(c), c] as const))("dequantize is bit-exact: %s", (_, c) => {
    const d = quant.dequantize(fromB64(c.weight), fromB64(c.scales), fromB64(c.biases), { bits: c.bits, groupSize: c.group_size });
    expectBitsEqual(d, c.dequantized, "dequantized");
  });

  it.each(fx.cases.map((c) => [name(c), c] as const))("quantizedMatmul matches MLX: %s", (_, c) => {
    const [w, s, b] = [fromB64(c.weight), fromB64(c.scales), fromB64(c.biases)];
    for (const mm of c.matmuls) {
      const y = quant.quantizedMatmul(fromB64(mm.x), w, s, b, { bits: c.bits, groupSize: c.group_size, transpose: mm.transpose });
      const label = `transpose=${mm.transpose} x ${JSON.stringify(mm.x.shape)}`;
      expect(y.shape, label).toEqual(mm.y.shape);
      expect(y.dtype, label).toBe(mm.y.dtype);
      const got = y.astype("float32").dataSync() as Float32Array;
      const [M, K] = mm.x.shape;
      if (c.w.dtype === "float32" && int4Kernel(c.bits, K, M, mm.transpose)) {
        // The integer kernel rounds x to int16 (see int16Model): MLX's float32 result within that
        // rounding's bound.
        const { bound } = int16Model(refF32(mm.x), w, s, b, c.group_size, M, c.dequantized.shape[0], K);
        const want = refValues(mm.y);
        for (let i = 0; i < want.length; i++)
          if (!(Math.abs(got[i] - want[i]) <= bound[i] * (1 + 1e-4) + 1e-4 * (1 + Math.abs(want[i])))) expect.fail(`${label}[${i}]: got ${got[i]}, MLX ${want[i]}, bound ${bound[i]}`);
      } else if (c.w.dtype === "float32") {
        expectNear(got, refValues(mm.y), 1e-4, 1e-4, label);
      } else {
        // MLX's CPU kernel accumulates in the half type itself (bfloat16 keeps 8 bits), so its own
        // result is off by up to a few percent; ours accumulates in float32. Compare with MLX's
        // (bit-exact) dequantized weights times x in float64, to within the output's rounding.
        const N = c.dequantized.shape[0];
        const ref = refMatmulT(Float32Array.from(refValues(mm.x)), Float32Array.from(refValues(c.dequantized)), M, N, K);
        expectMatmulClose(got, ref, c.w.dtype === "bfloat16" ? 2 ** -8 : 2 ** -11, label);
      }
    }
  });
});

// A reproducible stream of floats in [-1, 1).
function randoms(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** y[m, n] = sum_k x[m, k] * W[n, k] in float64, plus sum |x||W| for a tolerance. */
function refMatmulT(x: Float32Array, W: Float32Array, M: number, N: number, K: number): { y: number[]; mag: number[] } {
  const y: number[] = [], mag: number[] = [];
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let a = 0, b = 0;
      for (let k = 0; k < K; k++) {
        a += x[m * K + k] * W[n * K + k];
        b += Math.abs(x[m * K + k] * W[n * K + k]);
      }
      y.push(a);
      mag.push(b);
    }
  return { y, mag };
}

function expectMatmulClose(got: Float32Array, ref: { y: number[]; mag: number[] }, rel: number, label: string): void {
  for (let i = 0; i < ref.y.length; i++)
    if (!(Math.abs(got[i] - ref.y[i]) <= rel * ref.mag[i] + 1e-6)) expect.fail(`${label}[${i}]: got ${got[i]}, want ${ref.y[i]} (scale ${ref.mag[i]})`);
}

describe("quantizedMatmul kernels against dequantize", () => {
  // K with a partial last SIMD chunk for every bit width, N not a multiple of any tile, M on both paths.
  const K = 416, N = 37;
  for (const bits of quant.QUANT_BITS) {
    it(`bits=${bits}: mat-vec and mat-mat paths, transpose true and false`, () => {
      const gs = 32;
      const w = tc.tensor(randoms(N * K, bits), { shape: [N, K] });
      const q = quant.quantize(w, { bits, groupSize: gs });
      const W = quant.dequantize(q.weight, q.scales, q.biases, { bits, groupSize: gs }).dataSync() as Float32Array;
      for (const M of [1, 2, 3, 4, 9]) {
        const x = randoms(M * K, 100 + M);
        const y = quant.quantizedMatmul(tc.tensor(x, { shape: [M, K] }), q.weight, q.scales, q.biases, { bits, groupSize: gs });
        expectMatmulClose(y.dataSync() as Float32Array, refMatmulT(x, W, M, N, K), 1e-5, `transpose M=${M}`);
      }
      // x [M, N] @ W [N, K] (w packed along K, the output axis here).
      const M = 3, x = randoms(M * N, 7);
      const Wt = new Float32Array(K * N);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) Wt[k * N + n] = W[n * K + k];
      const y = quant.quantizedMatmul(tc.tensor(x, { shape: [M, N] }), q.weight, q.scales, q.biases, { bits, groupSize: gs, transpose: false });
      expect(y.shape).toEqual([M, K]);
      expectMatmulClose(y.dataSync() as Float32Array, refMatmulT(x, Wt, M, K, N), 1e-5, "plain");
    });
  }

  it("4-bit, K a multiple of 64 (integer mat-vec kernel with int16 activations, tiled float kernel, panels): every group size", () => {
    const K = 384, N = 21;
    for (const gs of quant.GROUP_SIZES) {
      const w = tc.tensor(randoms(N * K, gs), { shape: [N, K] });
      const q = quant.quantize(w, { bits: 4, groupSize: gs });
      const W = quant.dequantize(q.weight, q.scales, q.biases, { bits: 4, groupSize: gs }).dataSync() as Float32Array;
      for (const M of [1, 3, 4, 9, 33, 70]) {
        // Activations of mixed magnitudes (the integer kernel quantizes them per 32 values).
        const x = randoms(M * K, 200 + M).map((v, i) => v * (i % 7 === 0 ? 50 : 1));
        const y = quant.quantizedMatmul(tc.tensor(x, { shape: [M, K] }), q.weight, q.scales, q.biases, { bits: 4, groupSize: gs });
        const got = y.dataSync() as Float32Array;
        const ref = refMatmulT(x, W, M, N, K);
        if (!int4Kernel(4, K, M, true)) {
          expectMatmulClose(got, ref, 1e-5, `gs=${gs} M=${M}`);
          continue;
        }
        const label = `gs=${gs} M=${M}`;
        const { model, bound } = int16Model(x, q.weight, q.scales, q.biases, gs, M, N, K);
        expectMatmulClose(got, model, 1e-5, `${label} (x rounded to int16)`);
        for (let i = 0; i < M * N; i++)
          if (!(Math.abs(got[i] - ref.y[i]) <= bound[i] * (1 + 1e-4) + 1e-5 * ref.mag[i])) expect.fail(`${label} [${i}]: got ${got[i]}, exact ${ref.y[i]}, bound ${bound[i]}`);
      }
    }
  });

  it("keeps leading axes of x and reads strided x", () => {
    const q = quant.quantize(tc.tensor(randoms(8 * 64, 3), { shape: [8, 64] }));
    const x = tc.tensor(randoms(2 * 64 * 3, 4), { shape: [2, 3, 64] });
    const y = quant.quantizedMatmul(x, q.weight, q.scales, q.biases);
    expect(y.shape).toEqual([2, 3, 8]);
    const xt = tc.transpose(tc.tensor(randoms(64 * 3, 5), { shape: [64, 3] }));
    const a = quant.quantizedMatmul(xt, q.weight, q.scales, q.biases).dataSync() as Float32Array;
    const b = quant.quantizedMatmul(tc.copy(xt), q.weight, q.scales, q.biases).dataSync() as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

// GGUF blocks with random quants and sane f16 scales (d in [0.005, 0.05)), for each block type.
const SCALE_FIELDS: Record<string, number[]> = {
  Q4_0: [0], Q4_1: [0, 2], Q5_0: [0], Q5_1: [0, 2], Q8_0: [0], Q2_K: [80, 82], Q3_K: [108],
  Q4_K: [0, 2], Q5_K: [0, 2], Q6_K: [208],
};
function randomBlocks(type: string, rows: number, k: number, seed: number): tc.Tensor {
  const t = io.ggmlType(type)!;
  const nBlocks = (rows * k) / t.blockSize;
  const bytes = Uint8Array.from(randoms(nBlocks * t.typeSize, seed), (v) => Math.floor((v + 1) * 128));
  const fields = SCALE_FIELDS[type];
  const d = tc.tensor(Float32Array.from(randoms(nBlocks * fields.length, seed + 1), (v) => 0.005 + 0.0225 * (v + 1))).astype("float16").rawHalfBits();
  for (let b = 0; b < nBlocks; b++)
    fields.forEach((off, j) => {
      const h = d[b * fields.length + j];
      bytes[b * t.typeSize + off] = h & 0xff;
      bytes[b * t.typeSize + off + 1] = h >> 8;
    });
  return tc.tensor(bytes, { shape: [rows, ((k / t.blockSize) * t.typeSize)] });
}

// Types whose kernels quantize the activations to int8 blocks first (as llama.cpp), the block
// length, and the most activation rows they take (more rows use float panels and exact x).
const Q8_BLOCK: Record<string, number> = { Q4_0: 32, Q4_1: 32, Q5_0: 32, Q5_1: 32, Q8_0: 32, Q4_K: 256, Q5_K: 256, Q6_K: 256 };
const Q8_MAX_ROWS = 128;
/** Whether quantizedMatmul takes the integer kernel: 4-bit, K a multiple of 64, up to 64 rows. */
const int4Kernel = (bits: number, K: number, M: number, transpose: boolean) => bits === 4 && transpose && K % 64 === 0 && M <= 64;

/**
 * What the integer kernel computes: x rounded to int16 per 32 values (amax / 32767 steps) in the
 * scale term, sum_k scale q_k x_k, while the bias term, bias * sum_k x_k, keeps x exact (float64
 * here, with float32 noise for tolerances); and the bound of its error against the exact product,
 * sum_k |W[n, k] - bias| amax(block of k) / 65534.
 */
function int16Model(x: Float32Array, w: tc.Tensor, scales: tc.Tensor, biases: tc.Tensor, gs: number, M: number, N: number, K: number) {
  const opts = { bits: 4, groupSize: gs };
  const W = quant.dequantize(w, scales, biases, opts).astype("float32").dataSync() as Float32Array;
  const B = quant.dequantize(tc.zerosLike(w), scales, biases, opts).astype("float32").dataSync() as Float32Array;
  const WmB = W.map((v, i) => v - B[i]);
  const scaled = refMatmulT(q8Roundtrip(x, 32, 32767), WmB, M, N, K), biasPart = refMatmulT(x, B, M, N, K);
  const bound: number[] = [];
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let b = 0; b < K; b += 32) {
        let amax = 0, wsum = 0;
        for (let k = b; k < b + 32; k++) amax = Math.max(amax, Math.abs(x[m * K + k])), wsum += Math.abs(WmB[n * K + k]);
        sum += (wsum * amax) / 65534;
      }
      bound.push(sum);
    }
  const model = { y: scaled.y.map((v, i) => v + biasPart.y[i]), mag: scaled.mag.map((v, i) => v + biasPart.mag[i]) };
  return { model, bound };
}

/** Round half to even, as the kernels' _mm256_cvtps_epi32. */
function rint(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 ? 2 * Math.round(v / 2) : r;
}

/** x as the kernels see it: each block of `bs` values as d * q with d = amax / levels (float32 steps). */
function q8Roundtrip(x: Float32Array, bs: number, levels = 127): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < x.length; b += bs) {
    let amax = 0;
    for (let j = b; j < b + bs; j++) amax = Math.max(amax, Math.abs(x[j]));
    const d = Math.fround(amax / levels), id = amax > 0 ? Math.fround(levels / amax) : 0;
    for (let j = b; j < b + bs; j++) out[j] = d * rint(Math.fround(x[j] * id));
  }
  return out;
}

describe("quantizedMatmul with many rows (weights expanded for the float GEMM)", () => {
  it("gives the per-row kernel's results, with float16 scales too", () => {
    const w = tc.random.normal([96, 128], { key: tc.random.key(11) });
    const x = tc.random.normal([600, 128], { key: tc.random.key(12) });
    for (const dtype of ["float32", "float16"] as const) {
      const q = quant.quantize(w.astype(dtype), { bits: 4, groupSize: 64 });
      const opts = { bits: 4, groupSize: 64 };
      const many = quant.quantizedMatmul(x, q.weight, q.scales, q.biases, opts);
      expect([many.shape, many.dtype]).toEqual([[600, 96], "float32"]);
      // Rows 0-3 and 596-599 through the integer kernel (4 rows: below the expanding threshold),
      // which rounds x to int16: equal within that rounding's bound.
      for (const start of [0, 596]) {
        const rows = tc.slice(x, [start, 0], [start + 4, 128]);
        const few = quant.quantizedMatmul(rows, q.weight, q.scales, q.biases, opts).dataSync() as Float32Array;
        const ref = tc.slice(many, [start, 0], [start + 4, 96]).dataSync() as Float32Array;
        const { bound } = int16Model(rows.dataSync() as Float32Array, q.weight, q.scales, q.biases, 64, 4, 96, 128);
        for (let i = 0; i < ref.length; i++)
          if (!(Math.abs(few[i] - ref[i]) <= bound[i] * (1 + 1e-4) + 1e-4)) expect.fail(`${dtype} rows ${start} [${i}]: ${few[i]} vs ${ref[i]}, bound ${bound[i]}`);
      }
    }
  });
});

describe("ggufMatmul against dequantize + matmul", () => {
  const N = 19;
  // Row lengths in blocks: 16; 1 and 3 (odd: a block without a pair, scales without a full group of
  // 8); 25; 520 (more scales than the kernels keep on the stack).
  const cases = (type: string): [number, number[]][] =>
    io.ggmlType(type)!.blockSize === 32
      ? [[512, [1, 2, 4, 6, 9, 40, 130]], [32, [1, 5]], [96, [1, 3, 5]], [800, [1, 2, 6]], [16640, [1, 5]]]
      : [[512, [1, 2, 4, 6, 9, 40, 130]], [256, [1, 5]], [768, [1, 3, 5]]];
  for (const type of Object.keys(SCALE_FIELDS)) for (const [K, rows] of cases(type)) {
    it(`${type}: mat-vec and mat-mat, K=${K}`, () => {
      const blocks = randomBlocks(type, N, K, type.length * 31 + type.charCodeAt(1) + K);
      const W = io.dequantize(blocks, type).dataSync() as Float32Array;
      for (const M of rows) {
        const x = randoms(M * K, M);
        const y = quant.ggufMatmul(tc.tensor(x, { shape: [M, K] }), blocks, type);
        expect(y.shape).toEqual([M, N]);
        const got = y.dataSync() as Float32Array;
        const bs = Q8_BLOCK[type];
        if (bs && M <= Q8_MAX_ROWS) {
          // Exact up to float32 summation against the int8-rounded activations...
          expectMatmulClose(got, refMatmulT(q8Roundtrip(x, bs), W, M, N, K), 1e-5, `${type} M=${M} (x rounded to Q8)`);
          // ...and within the rounding's bound of the exact product: |x - d q| <= d / 2 = amax / 254
          // per block, so |error| <= sum_k |W[n, k]| amax(block of k) / 254 (plus float32 noise).
          const ref = refMatmulT(x, W, M, N, K);
          for (let m = 0; m < M; m++)
            for (let n = 0; n < N; n++) {
              let bound = 0;
              for (let b = 0; b < K; b += bs) {
                let amax = 0, wsum = 0;
                for (let k = b; k < b + bs; k++) amax = Math.max(amax, Math.abs(x[m * K + k])), wsum += Math.abs(W[n * K + k]);
                bound += (wsum * amax) / 254;
              }
              const i = m * N + n;
              if (!(Math.abs(got[i] - ref.y[i]) <= bound * (1 + 1e-4) + 1e-5 * ref.mag[i]))
                expect.fail(`${type} M=${m} [${i}]: got ${got[i]}, exact ${ref.y[i]}, bound ${bound}`);
            }
        } else {
          expectMatmulClose(got, refMatmulT(x, W, M, N, K), 1e-5, `${type} M=${M}`);
        }
      }
    });
  }

  it("float16 activations give float16 results", () => {
    const blocks = randomBlocks("Q4_K", 4, 256, 9);
    const W = io.dequantize(blocks, "Q4_K").dataSync() as Float32Array;
    const x16 = tc.tensor(randoms(256, 2), { shape: [1, 256] }).astype("float16");
    const y = quant.ggufMatmul(x16, blocks, "Q4_K");
    expect(y.dtype).toBe("float16");
    const x = q8Roundtrip(x16.astype("float32").dataSync() as Float32Array, 256);
    expectMatmulClose(y.astype("float32").dataSync() as Float32Array, refMatmulT(x, W, 1, 4, 256), 1e-3, "f16");
  });
});

describe("bad input", () => {
  const w = tc.tensor(randoms(4 * 128, 1), { shape: [4, 128] });
  const q = quant.quantize(w);
  it("quantize", () => {
    expect(() => quant.quantize(w, { bits: 7 })).toThrow("quantize: bits must be 2, 3, 4, 5, 6 or 8, got 7");
    expect(() => quant.quantize(w, { groupSize: 16 })).toThrow("quantize: groupSize must be 32, 64 or 128, got 16");
    expect(() => quant.quantize(tc.zeros([2, 100]))).toThrow("quantize: the last axis of w [2, 100] (100) must be a multiple of group_size 64");
    expect(() => quant.quantize(tc.zeros([128]))).toThrow("quantize: w must have at least 2 dimensions, got shape [128]");
    expect(() => quant.quantize(tc.zeros([2, 64], "int32"))).toThrow("quantize: w must be float32, float16 or bfloat16, got int32");
  });
  it("dequantize", () => {
    expect(() => quant.dequantize(q.weight, q.scales, q.biases, { bits: 1 })).toThrow("dequantize: bits must be 2, 3, 4, 5, 6 or 8, got 1");
    expect(() => quant.dequantize(w, q.scales, q.biases)).toThrow("dequantize: w must be uint32 (packed), got float32");
    expect(() => quant.dequantize(q.weight, q.scales, q.biases, { groupSize: 32 })).toThrow(
      "dequantize: scales [4, 2] and biases [4, 2] must have shape [4, 4] for w [4, 16] with bits=4 and group_size=32",
    );
    expect(() => quant.dequantize(q.weight, q.scales, q.biases.astype("float16"))).toThrow(
      "dequantize: scales and biases must have the same dtype, got float32 and float16",
    );
  });
  it("quantizedMatmul", () => {
    expect(() => quant.quantizedMatmul(tc.zeros([2, 100]), q.weight, q.scales, q.biases)).toThrow(
      "quantizedMatmul: x [2, 100] has 100 features but w [4, 16] (bits=4, transpose=true) expects 128",
    );
    expect(() => quant.quantizedMatmul(tc.zeros([2, 128]), q.weight, q.scales, q.biases, { transpose: false })).toThrow(
      "quantizedMatmul: x [2, 128] has 128 features but w [4, 16] (bits=4, transpose=false) expects 4",
    );
    expect(() => quant.quantizedMatmul(tc.zeros([2, 128]), q.weight, q.scales, q.biases, { bits: 8 })).toThrow(
      "quantizedMatmul: scales [4, 2] and biases [4, 2] must have shape [4, 1] for w [4, 16] with bits=8 and group_size=64",
    );
    expect(() => quant.quantizedMatmul(tc.zeros([2, 128], "int32"), q.weight, q.scales, q.biases)).toThrow(
      "quantizedMatmul: x must be float32, float16 or bfloat16, got int32",
    );
    expect(() => quant.quantizedMatmul(tc.zeros([2, 128]), tc.reshape(q.weight, [2, 2, 16]), q.scales, q.biases)).toThrow(
      "quantizedMatmul: w must be 2-D (packed rows), got shape [2, 2, 16]",
    );
  });
  it("ggufMatmul", () => {
    const blocks = randomBlocks("Q4_0", 3, 64, 1);
    expect(() => quant.ggufMatmul(tc.zeros([1, 64]), blocks, "Q9_9")).toThrow("ggufMatmul: unknown ggml type Q9_9");
    expect(() => quant.ggufMatmul(tc.zeros([1, 64]), blocks, "F16")).toThrow("ggufMatmul: F16 is not a block-quantized type");
    expect(() => quant.ggufMatmul(tc.zeros([1, 64]), blocks, "IQ2_XXS")).toThrow("ggufMatmul: ggml type IQ2_XXS is not supported yet");
    expect(() => quant.ggufMatmul(tc.zeros([1, 32]), blocks, "Q4_0")).toThrow(
      "ggufMatmul: x [1, 32] has 32 features but the Q4_0 weight [3, 36] holds rows of 64",
    );
    expect(() => quant.ggufMatmul(tc.zeros([1, 64]), blocks, "Q8_0")).toThrow(
      "ggufMatmul: rows of 36 bytes (blocks [3, 36]) are not a whole number of Q8_0 blocks of 34 bytes",
    );
    expect(() => quant.ggufMatmul(tc.zeros([1, 64]), blocks.astype("int8"), "Q4_0")).toThrow("ggufMatmul: blocks must be uint8, got int8");
  });
});

describe("config.json quantization blocks", () => {
  const config = {
    model_type: "llama",
    quantization: { group_size: 64, bits: 4, "model.embed_tokens": { group_size: 32, bits: 8 }, lm_head: false },
  };
  it("reads defaults and per-layer overrides", () => {
    const cfg = quant.readQuantizationConfig(config)!;
    expect(cfg).toMatchObject({ groupSize: 64, bits: 4, mode: "affine" });
    expect(quant.quantizationFor(cfg, "model.layers.0.mlp.up_proj")).toEqual({ groupSize: 64, bits: 4 });
    expect(quant.quantizationFor(cfg, "model.embed_tokens")).toEqual({ groupSize: 32, bits: 8 });
    expect(quant.quantizationFor(cfg, "lm_head")).toBe(false);
    expect(quant.quantizationFor(cfg, "model.layers.0.mlp.up_proj", false)).toBe(false);
    expect(quant.readQuantizationConfig({ model_type: "llama" })).toBeUndefined();
    expect(quant.readQuantizationConfig({ quantization_config: { group_size: 32, bits: 3 } })).toMatchObject({ groupSize: 32, bits: 3 });
  });
  it("rejects what it cannot load", () => {
    expect(() => quant.readQuantizationConfig({ quantization: { group_size: 64, bits: 7 } })).toThrow(
      'config.json "quantization": bits must be 2, 3, 4, 5, 6 or 8, got 7',
    );
    expect(() => quant.readQuantizationConfig({ quantization: { group_size: 64, bits: 4, mode: "mxfp4" } })).toThrow(
      'config.json "quantization": quantization mode \'mxfp4\' is not supported (only "affine")',
    );
    expect(() => quant.readQuantizationConfig({ quantization: { group_size: 64, bits: 4, "a.b": { bits: "4" } } })).toThrow(
      'config.json "quantization" entry "a.b": needs numeric "group_size" and "bits"',
    );
  });
});

describe("nn quantized layers", () => {
  const { nn } = tc;
  const maxAbsDiff = (a: tc.Tensor, b: tc.Tensor): number => {
    const x = a.astype("float32").dataSync() as Float32Array, y = b.astype("float32").dataSync() as Float32Array;
    return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
  };

  it("QuantizedLinear.fromLinear computes quantizedMatmul plus the bias, close to the float layer", () => {
    const lin = new nn.Linear(128, 24);
    const q = nn.QuantizedLinear.fromLinear(lin, { bits: 8, groupSize: 32 });
    expect(q.weight.shape).toEqual([24, 32]);
    expect(q.scales.shape).toEqual([24, 4]);
    expect(Object.keys(q.namedParameters())).toEqual(["weight", "scales", "biases", "bias"]);
    const x = tc.tensor(randoms(3 * 128, 11), { shape: [3, 128] });
    const w = quant.quantize(lin.weight, { bits: 8, groupSize: 32 });
    const want = tc.add(quant.quantizedMatmul(x, w.weight, w.scales, w.biases, { bits: 8, groupSize: 32 }), lin.bias!);
    expect(maxAbsDiff(q.forward(x), want)).toBe(0);
    expect(maxAbsDiff(q.forward(x), lin.forward(x))).toBeLessThan(0.01);
  });

  it("QuantizedEmbedding looks up dequantized rows and ties as a linear head", () => {
    const emb = new nn.Embedding(10, 64);
    const q = nn.QuantizedEmbedding.fromEmbedding(emb, { bits: 4, groupSize: 32 });
    const ids = tc.tensor([[1, 7], [0, 9]]);
    const rows = q.forward(ids);
    expect(rows.shape).toEqual([2, 2, 64]);
    const full = quant.dequantize(q.weight, q.scales, q.biases, { bits: 4, groupSize: 32 });
    expect(maxAbsDiff(rows, tc.take(full, ids, 0))).toBe(0);
    expect(maxAbsDiff(rows, emb.forward(ids))).toBeLessThan(0.2);
    const x = tc.tensor(randoms(64, 3), { shape: [1, 64] });
    expect(q.asLinear(x).shape).toEqual([1, 10]);
  });

  class Block extends nn.Module {
    proj = new nn.Linear(64, 64);
    norm = new nn.RMSNorm(64);
  }
  class Tiny extends nn.Module {
    embed_tokens = new nn.Embedding(16, 64);
    layers = [new Block(), new Block()];
    odd = new nn.Linear(48, 8);
    lm_head = new nn.Linear(64, 16, { bias: false });
  }

  it("nn.quantize swaps Linear and Embedding leaves, skipping sizes the group does not divide", () => {
    const m = nn.quantize(new Tiny(), { bits: 4, groupSize: 32 });
    expect(m.embed_tokens).toBeInstanceOf(nn.QuantizedEmbedding);
    expect(m.layers[1].proj).toBeInstanceOf(nn.QuantizedLinear);
    expect(m.layers[1].norm).toBeInstanceOf(nn.RMSNorm);
    expect(m.odd).toBeInstanceOf(nn.Linear);
    const p = nn.quantize(new Tiny(), { predicate: (path) => (path === "lm_head" ? { bits: 8 } : false) });
    expect(p.lm_head).toBeInstanceOf(nn.QuantizedLinear);
    expect((p.lm_head as unknown as tc.nn.QuantizedLinear).bits).toBe(8);
    expect(p.layers[0].proj).toBeInstanceOf(nn.Linear);
    expect(() => nn.quantize(new Tiny(), { predicate: (path) => path === "layers.0.norm" })).toThrow(
      "nn.quantize: cannot quantize 'layers.0.norm' (RMSNorm); only Linear and Embedding layers can be",
    );
    expect(() => nn.quantize(new Tiny(), { bits: 9 })).toThrow("nn.quantize: bits must be 2, 3, 4, 5, 6 or 8, got 9");
    expect(() => new nn.QuantizedLinear(100, 8)).toThrow("QuantizedLinear: inputDims (100) must be a multiple of groupSize (64)");
  });

  it("an mlx-community style checkpoint (per-layer overrides, false entries) loads straight in", () => {
    const config = {
      model_type: "tiny",
      quantization: { group_size: 32, bits: 4, "layers.1.proj": { group_size: 64, bits: 8 }, lm_head: false },
    };
    // The checkpoint as mlx-lm would save it: quantized where the config says, float elsewhere.
    const src = new Tiny();
    const floatWeights = src.namedParameters();
    const ckpt: Record<string, tc.Tensor> = {};
    for (const [name, t] of Object.entries(floatWeights)) {
      const path = name.slice(0, name.lastIndexOf("."));
      const key = name.slice(name.lastIndexOf(".") + 1);
      const params = path === "layers.1.proj" ? { groupSize: 64, bits: 8 } : { groupSize: 32, bits: 4 };
      if (key === "weight" && path !== "lm_head" && path !== "odd" && !path.endsWith("norm")) {
        const q = quant.quantize(t, params);
        Object.assign(ckpt, { [`${path}.weight`]: q.weight, [`${path}.scales`]: q.scales, [`${path}.biases`]: q.biases });
      } else {
        ckpt[name] = t;
      }
    }
    const model = new Tiny();
    expect(nn.quantizeFromConfig(model, config, Object.keys(ckpt))).toBe(true);
    expect(model.odd).toBeInstanceOf(nn.Linear); // no odd.scales in the checkpoint
    expect(model.lm_head).toBeInstanceOf(nn.Linear);
    expect((model.layers[1].proj as unknown as tc.nn.QuantizedLinear).bits).toBe(8);
    model.loadWeights(ckpt); // strict: every key present, shapes equal
    const x = tc.tensor(randoms(2 * 64, 5), { shape: [2, 64] });
    const want = quant.quantizedMatmul(x, ckpt["layers.1.proj.weight"], ckpt["layers.1.proj.scales"], ckpt["layers.1.proj.biases"], { groupSize: 64, bits: 8 });
    expect(maxAbsDiff(model.layers[1].proj.forward(x), tc.add(want, ckpt["layers.1.proj.bias"]))).toBe(0);
    expect(nn.quantizeFromConfig(new Tiny(), { model_type: "tiny" })).toBe(false);
  });
});
