// Elementwise throughput on 16M-element arrays, against the memory bandwidth of a parallel memcpy
// (the `copy` op of a contiguous tensor) measured in the same run.
// Run: npx tsx bench/elementwise.ts [--n=16777216] [--iters=10]
// (imports the built package: `pnpm install` or `npx tsc -b packages/core` first)
import * as tc from "../packages/core/dist/index.js";
import { report, timeIt } from "./lib.js";
import type { BenchRow } from "./lib.js";

const arg = (name: string, dflt: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : dflt;
};
const n = arg("n", 16 * 1024 * 1024);
const iters = arg("iters", 10);

function input(dtype: tc.DType, seed: number): tc.Tensor {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.001 + seed) * 4;
  const t = tc.tensor(data).astype(dtype);
  tc.evalSync(t);
  return t;
}

interface Timing {
  wall: number; // median seconds per evaluation
  cpu: number; // mean CPU seconds per evaluation per pool thread
}

/**
 * Times evaluations of fn's result (the output is disposed each time, so its buffer is reused).
 * CPU time is reported beside wall time: on a shared machine, wall time of compute-bound ops grows
 * with other processes' load while CPU time shows what the kernel itself costs.
 */
async function time(fn: () => tc.Tensor): Promise<Timing> {
  const once = (): void => {
    const y = fn();
    tc.evalSync(y);
    y.dispose();
  };
  once();
  once();
  const c0 = process.cpuUsage();
  const wall = await timeIt(once, iters, 0);
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 / iters / tc.numThreads() };
}

const x = input("float32", 0);
const y = input("float32", 1);
const xh = input("float16", 0);
const yh = input("float16", 1);

const memcpy = await time(() => tc.copy(x));
const memcpyGBs = (2 * 4 * n) / memcpy.wall / 1e9;
const memcpyCpuGBs = (2 * 4 * n) / memcpy.cpu / 1e9;

// name, bytes moved (inputs read + output written), op
const cases: [string, number, () => tc.Tensor][] = [
  ["add f32", 3 * 4 * n, () => tc.add(x, y)],
  ["multiply f32 by scalar", 2 * 4 * n, () => tc.multiply(x, 1.5)],
  ["exp f32", 2 * 4 * n, () => tc.exp(x)],
  ["gelu f32 (erf)", 2 * 4 * n, () => tc.gelu(x)],
  ["gelu f32 (tanh)", 2 * 4 * n, () => tc.gelu(x, "tanh")],
  ["silu f32", 2 * 4 * n, () => tc.silu(x)],
  ["tanh f32", 2 * 4 * n, () => tc.tanh(x)],
  ["add f16", 3 * 2 * n, () => tc.add(xh, yh)],
  ["gelu f16 (erf)", 2 * 2 * n, () => tc.gelu(xh)],
];

const ms = (s: number): string => `${(s * 1e3).toFixed(1)} ms`;
const rows: BenchRow[] = [
  { case: `memcpy (copy op), ${ms(memcpy.wall)} wall, ${ms(memcpy.cpu)} CPU`, value: memcpyGBs, unit: "GB/s", goal: "ceiling" },
];
const cpuNotes: string[] = [];
for (const [name, bytes, fn] of cases) {
  const t = await time(fn);
  const gbs = bytes / t.wall / 1e9;
  rows.push({
    case: `${name}, ${ms(t.wall)} wall, ${ms(t.cpu)} CPU`,
    value: gbs,
    unit: "GB/s",
    reference: memcpyGBs,
    referenceName: "memcpy",
    fraction: gbs / memcpyGBs,
    goal: ">= 60% of memcpy",
  });
  const cpuGBs = bytes / t.cpu / 1e9;
  cpuNotes.push(`${name}: ${cpuGBs.toFixed(2)} GB/s per CPU-second of each thread = ${((100 * cpuGBs) / memcpyCpuGBs).toFixed(0)}% of memcpy's ${memcpyCpuGBs.toFixed(2)}`);
}

report({
  name: "elementwise",
  title: `Elementwise throughput, ${n} elements, ${tc.numThreads()} threads (bytes read + written per second)`,
  rows,
  notes: [
    "memcpy = the copy op of a contiguous float32 tensor (a parallel memcpy), same run, same threads.",
    "Each op's output buffer is disposed after each run, so the caching allocator reuses it (no page faults timed).",
    "CPU-time basis (robust to other load on the machine; wall time is what the table shows):",
    ...cpuNotes,
  ],
});
