// GEMM and mat-vec throughput against ceilings measured in the same run: the machine's FMA peak
// (a register-resident FMA loop on every pool thread, the `_benchFmaPeak` op) and a memory copy.
// Run: npx tsx bench/gemm.ts   (build the addon and `tsc -b packages/core` first)
import * as tc from "../packages/core/dist/index.js";
import type { BenchRow } from "./lib.js";
import { report, timeIt } from "./lib.js";

const sizes = [512, 1024, 2048];
const rows: BenchRow[] = [];
const threads = tc.numThreads();

function random(shape: number[], dtype: tc.DType): tc.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
  const t = tc.tensor(data, { shape }).astype(dtype);
  tc.evalSync(t);
  return t;
}

/** GFLOP/s of the FMA loop on all pool threads (median of a few runs). */
async function fmaPeak(): Promise<number> {
  const iterations = 20_000_000;
  let gflop = 0;
  const t = await timeIt(() => {
    const g = tc.callOp("_benchFmaPeak", [], { iterations });
    tc.evalSync(g);
    gflop = g.item();
    g.dispose();
  }, 7, 1);
  return gflop / t;
}

async function gemmRate(n: number, dtype: tc.DType): Promise<number> {
  const a = random([n, n], dtype), b = random([n, n], dtype);
  const iters = n >= 2048 ? 5 : n >= 1024 ? 10 : 30;
  const t = await timeIt(() => {
    const c = tc.matmul(a, b);
    tc.evalSync(c);
    c.dispose();
  }, iters, 2);
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / t / 1e9;
}

const peak = await fmaPeak();
for (const dtype of ["float32", "float16", "bfloat16"] as const) {
  for (const n of sizes) {
    const rate = await gemmRate(n, dtype);
    rows.push({
      case: `${dtype} gemm ${n}x${n}x${n}`,
      value: rate,
      unit: "GFLOP/s",
      reference: peak,
      referenceName: `FMA peak, ${threads} threads`,
      fraction: rate / peak,
      goal: dtype === "float32" ? ">= 70% of peak" : undefined,
    });
  }
}

// Mat-vec (LLM decode): memory-bound, so the ceiling is a copy of the same bytes.
const n = 4096;
const w = random([n, n], "float32");
const x = random([n], "float32");
const xr = x.reshape(1, n);
const bytes = n * n * 4;
const copyT = await timeIt(() => {
  const c = tc.callOp("copy", [w]);
  tc.evalSync(c);
  c.dispose();
}, 10, 2);
const copyRate = (2 * bytes) / copyT / 1e9; // read + write
for (const [label, fn] of [
  ["W @ x (rows dot x)", () => tc.matmul(w, x)],
  ["x @ W (x times rows)", () => tc.matmul(xr, w)],
] as const) {
  const t = await timeIt(() => {
    const y = fn();
    tc.evalSync(y);
    y.dispose();
  }, 20, 3);
  const rate = bytes / t / 1e9;
  rows.push({ case: `float32 mat-vec ${n}x${n}, ${label}`, value: rate, unit: "GB/s", reference: copyRate, referenceName: "copy (read + write)", fraction: rate / copyRate });
}

report({
  name: "gemm",
  title: "GEMM and mat-vec",
  rows,
  notes: [
    `FMA peak: ${peak.toFixed(1)} GFLOP/s on ${threads} threads (12 independent 8-wide FMA chains per thread)`,
    "halves are converted to float32 while packing and accumulate in float32",
  ],
});
