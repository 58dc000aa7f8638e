// Per-op overhead: building and evaluating graphs of 1, 10 and 1000 adds on a 1-element tensor,
// where kernels cost nothing and what is left is graph building, scheduling and the N-API calls.
// With and without compile(). Goal: < 5 µs per op, build + eval.
// Run: npx tsx bench/overhead.ts [--iters=30]
import * as tc from "../packages/core/src/index.js";
import { report, timeIt } from "./lib.js";
import type { BenchRow } from "./lib.js";

const arg = (name: string, dflt: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : dflt;
};
const iters = arg("iters", 30);
const GOAL_US = 5;

const x = tc.tensor(new Float32Array([0.5]));
const one = tc.tensor(new Float32Array([1e-3]));
tc.evalSync(x, one);

// `adds` chained adds of an evaluated tensor: one graph node per op.
const chain = (adds: number) => (t: tc.Tensor) => {
  let y = t;
  for (let i = 0; i < adds; i++) y = tc.add(y, one);
  return y;
};

// Microseconds per op of build + eval, repeated enough to time a small graph.
async function perOp(fn: (t: tc.Tensor) => tc.Tensor, adds: number, sync: boolean): Promise<number> {
  const reps = Math.max(1, Math.floor(2000 / adds));
  const s = await timeIt(async () => {
    for (let r = 0; r < reps; r++) {
      const y = fn(x);
      if (sync) tc.evalSync(y);
      else await tc.eval(y);
      y.dispose();
    }
  }, iters, 3);
  return (s / (reps * adds)) * 1e6;
}

// The floor: one trivial call into the addon, measured in the same run.
const napiUs = (await timeIt(() => {
  for (let i = 0; i < 10000; i++) tc.numThreads();
}, iters, 3)) / 10000 * 1e6;

const rows: BenchRow[] = [];
for (const adds of [1, 10, 1000]) {
  const plain = chain(adds);
  const compiled = tc.compile(plain);
  for (const [mode, fn] of [["op by op", plain], ["compiled", compiled]] as const) {
    for (const sync of [true, false]) {
      const us = await perOp(fn, adds, sync);
      rows.push({
        case: `${adds} add${adds > 1 ? "s" : ""}, ${mode}, build + ${sync ? "evalSync" : "await eval"}`,
        value: us, unit: "µs/op", reference: GOAL_US, referenceName: "goal", fraction: GOAL_US / us, goal: `< ${GOAL_US} µs/op`,
      });
    }
  }
}
const opsPerSecond = rows.map((r) => ({ ...r, case: `${r.case} (ops/s)`, value: 1e6 / r.value, unit: "ops/s" }));
rows.push({ case: "one N-API call (numThreads)", value: napiUs, unit: "µs/op" });

report({
  name: "overhead",
  title: "Per-op overhead of building and evaluating 1-element graphs",
  rows: [...rows, ...opsPerSecond.map(({ reference, referenceName, fraction, goal, ...r }) => r)],
  notes: [
    "fraction = goal / measured (above 100% meets the goal).",
    "compiled: the chain of adds is traced once and replayed, fused into one kernel per call.",
  ],
});
