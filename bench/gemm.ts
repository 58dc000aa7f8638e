// GEMM and mat-vec throughput against ceilings measured in the same run: the machine's FMA peak
// (a register-resident FMA loop on every pool thread, the `_benchFmaPeak` op) and a memory copy.
// Besides wall-clock rates, GEMMs are also rated per CPU-second of the process against the FMA
// loop's rate per CPU-second: on a shared, loaded machine that ratio still shows the kernel's
// efficiency while the wall-clock one also shows how much of the cores we got.
// Run: npx tsx bench/gemm.ts   (build the addon and `tsc -b packages/core` first)
import { loadavg } from "node:os";
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

/** Seconds of CPU (all threads of the process) that fn takes. */
function cpuSeconds(fn: () => void): number {
  const u0 = process.cpuUsage();
  fn();
  const u = process.cpuUsage(u0);
  return (u.user + u.system) / 1e6;
}

interface Rate {
  wall: number; // GFLOP/s
  cpu: number; // GFLOP per CPU-second
}

/** The FMA loop on all pool threads: median wall rate, and its rate per CPU-second. */
async function fmaPeak(): Promise<Rate> {
  const iterations = 20_000_000;
  let gflop = 0;
  const run = () => {
    const g = tc.callOp("_benchFmaPeak", [], { iterations });
    tc.evalSync(g);
    gflop = g.item();
    g.dispose();
  };
  const t = await timeIt(run, 7, 1);
  return { wall: gflop / t, cpu: gflop / cpuSeconds(run) };
}

async function gemmRate(n: number, dtype: tc.DType): Promise<Rate> {
  const a = random([n, n], dtype), b = random([n, n], dtype);
  const iters = n >= 2048 ? 5 : n >= 1024 ? 10 : 30;
  const run = () => {
    const c = tc.matmul(a, b);
    tc.evalSync(c);
    c.dispose();
  };
  const t = await timeIt(run, iters, 2);
  const cpu = cpuSeconds(() => {
    for (let i = 0; i < 3; i++) run();
  }) / 3;
  a.dispose();
  b.dispose();
  return { wall: (2 * n ** 3) / t / 1e9, cpu: (2 * n ** 3) / cpu / 1e9 };
}

const peak = await fmaPeak();
const cpuRows: BenchRow[] = [];
for (const dtype of ["float32", "float16", "bfloat16"] as const) {
  for (const n of sizes) {
    const rate = await gemmRate(n, dtype);
    rows.push({
      case: `${dtype} gemm ${n}x${n}x${n}`,
      value: rate.wall,
      unit: "GFLOP/s",
      reference: peak.wall,
      referenceName: `FMA peak, ${threads} threads`,
      fraction: rate.wall / peak.wall,
      goal: dtype === "float32" ? ">= 70% of peak" : undefined,
    });
    cpuRows.push({
      case: `${dtype} gemm ${n}, per CPU-second`,
      value: rate.cpu,
      unit: "GFLOP/CPU-s",
      reference: peak.cpu,
      referenceName: "FMA loop per CPU-second",
      fraction: rate.cpu / peak.cpu,
    });
  }
}
rows.push(...cpuRows);

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
    `FMA peak: ${peak.wall.toFixed(1)} GFLOP/s on ${threads} threads (12 independent 8-wide FMA chains per thread), ${peak.cpu.toFixed(1)} GFLOP per CPU-second`,
    `load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(", ")} (wall-clock fractions are only meaningful on an idle machine)`,
    "halves are converted to float32 while packing and accumulate in float32",
  ],
});
