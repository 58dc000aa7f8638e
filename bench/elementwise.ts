// Elementwise throughput on 16M-element arrays, against the memory bandwidth of a parallel memcpy
// (the `copy` op of a contiguous tensor) measured in the same run.
// Run: npx tsx bench/elementwise.ts [--n=16777216] [--iters=10]
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

/** Seconds per evaluation of fn's result; the output is disposed each time so its buffer is reused. */
async function time(fn: () => tc.Tensor): Promise<number> {
  return timeIt(() => {
    const y = fn();
    tc.evalSync(y);
    y.dispose();
  }, iters, 2);
}

const x = input("float32", 0);
const y = input("float32", 1);
const xh = input("float16", 0);
const yh = input("float16", 1);

const memcpySeconds = await time(() => tc.copy(x));
const memcpyGBs = (2 * 4 * n) / memcpySeconds / 1e9;

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

const rows: BenchRow[] = [
  { case: `memcpy (copy op) ${n} f32`, value: memcpyGBs, unit: "GB/s", goal: "ceiling" },
];
for (const [name, bytes, fn] of cases) {
  const s = await time(fn);
  const gbs = bytes / s / 1e9;
  rows.push({
    case: `${name}, ${(s * 1e3).toFixed(2)} ms`,
    value: gbs,
    unit: "GB/s",
    reference: memcpyGBs,
    referenceName: "memcpy",
    fraction: gbs / memcpyGBs,
    goal: ">= 60% of memcpy",
  });
}

report({
  name: "elementwise",
  title: `Elementwise throughput, ${n} elements, ${tc.numThreads()} threads (bytes read + written per second)`,
  rows,
  notes: [
    "memcpy = the copy op of a contiguous float32 tensor (a parallel memcpy), same run, same threads.",
    "Each op's output buffer is disposed after each run, so the caching allocator reuses it (no page faults timed).",
  ],
});
