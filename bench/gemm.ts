// GEMM and mat-vec throughput against ceilings and a peer measured in the same run: the machine's
// FMA peak (a register-resident loop of the widest FMA of the runtime's ISA level on every pool
// thread, the `_benchFmaPeak` op), NumPy's float32 matmul (OpenBLAS, its kernel named by
// threadpoolctl: bench/peers/numpy_sgemm.py) on the same thread count, and a memory copy.
// Besides wall-clock rates, GEMMs are also rated per CPU-second of the process against the FMA
// loop's rate per CPU-second: on a shared, loaded machine that ratio still shows the kernel's
// efficiency while the wall-clock one also shows how much of the cores we got.
// Run: npx tsx bench/gemm.ts   (build the addon and `tsc -b packages/core` first; the peer needs
// `pip install -r bench/peers/requirements.txt`, else its rows are skipped with a note)
// TESSERA_ISA=avx2 (read here only) measures a lower ISA level than the machine's best.
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tc from "../packages/core/dist/index.js";
import type { BenchRow } from "./lib.js";
import { report, timeIt } from "./lib.js";

if (process.env.TESSERA_ISA) tc.setIsaLevel(process.env.TESSERA_ISA as tc.IsaLevel);
const isa = tc.isaLevel();
const sizes = [512, 1024, 2048];
const rows: BenchRow[] = [];
const threads = tc.numThreads();
const lanes = isa === "avx2" ? 8 : 16;

interface NumpyRun {
  numpy: string;
  blas: { internal_api?: string; version?: string; architecture?: string } | null;
  rows: { n: number; gflops: number }[];
}

/** NumPy's sgemm on the same sizes and threads, or the reason it could not run. */
function numpySgemm(): NumpyRun | string {
  const script = join(dirname(fileURLToPath(import.meta.url)), "peers", "numpy_sgemm.py");
  const python = process.env.PYTHON ?? "python3";
  const r = spawnSync(python, [script, "--sizes", sizes.join(","), "--threads", String(threads), "--json"], { encoding: "utf8" });
  if (r.status !== 0) return `NumPy peer skipped: ${(r.stderr || r.error?.message || "failed").trim().split("\n").pop()}`;
  return JSON.parse(r.stdout.trim().split("\n").pop() as string) as NumpyRun;
}

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
const ours = new Map<number, number>();
for (const dtype of ["float32", "float16", "bfloat16"] as const) {
  for (const n of sizes) {
    const rate = await gemmRate(n, dtype);
    if (dtype === "float32") ours.set(n, rate.wall);
    rows.push({
      case: `${dtype} gemm ${n}x${n}x${n} (${isa})`,
      value: rate.wall,
      unit: "GFLOP/s",
      reference: peak.wall,
      referenceName: `${isa} FMA peak, ${threads} threads`,
      fraction: rate.wall / peak.wall,
      goal: dtype === "float32" && n >= 1024 ? ">= 85% of peak" : undefined,
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
const peer = numpySgemm();
const peerNotes: string[] = [];
if (typeof peer === "string") {
  peerNotes.push(peer);
} else {
  const b = peer.blas ?? {};
  peerNotes.push(`NumPy ${peer.numpy} float32 matmul through ${b.internal_api ?? "?"} ${b.version ?? ""} (kernel ${b.architecture ?? "?"}), ${threads} threads, in the same run`);
  for (const r of peer.rows) {
    const mine = ours.get(r.n) as number;
    rows.push({
      case: `float32 gemm ${r.n}x${r.n}x${r.n} (${isa}) vs NumPy`,
      value: mine,
      unit: "GFLOP/s",
      reference: r.gflops,
      referenceName: `NumPy/${b.internal_api ?? "BLAS"} ${b.architecture ?? ""}`.trim(),
      fraction: mine / r.gflops,
      goal: "> 100% (ahead of OpenBLAS)",
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
  title: `GEMM and mat-vec, ISA level ${isa} (of ${tc.supportedIsaLevels().join(", ")})`,
  rows,
  notes: [
    `ISA level ${isa}: FMA peak ${peak.wall.toFixed(1)} GFLOP/s on ${threads} threads (12 independent ${lanes}-wide FMA chains per thread), ${peak.cpu.toFixed(1)} GFLOP per CPU-second`,
    ...peerNotes,
    `load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(", ")} (wall-clock fractions are only meaningful on an idle machine)`,
    "halves are converted to float32 while packing and accumulate in float32",
  ],
});
