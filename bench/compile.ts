// compile(): a 10-op elementwise chain on 16M floats compiled (one fused pass) vs uncompiled (ten
// passes), as effective GB/s (input read + output written) against a parallel memcpy measured in
// the same run; and the per-call overhead of a compiled 100-op graph vs building it op by op.
// Run: npx tsx bench/compile.ts [--n=16777216] [--iters=8]
import * as tc from "../packages/core/src/index.js";
import { report, timeIt } from "./lib.js";
import type { BenchRow } from "./lib.js";

const arg = (name: string, dflt: number): number => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : dflt;
};
const n = arg("n", 16 * 1024 * 1024);
const iters = arg("iters", 8);

const data = new Float32Array(n);
for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.001) * 2;
const x = tc.tensor(data);
tc.evalSync(x);

/**
 * Seconds per evaluation of fn's result. tidy drops the JS handles of intermediates before the
 * eval, so the scheduler frees each as soon as it is consumed; the result is disposed each time.
 */
async function time(fn: () => tc.Tensor, k = iters): Promise<number> {
  return timeIt(() => {
    const y = tc.tidy(fn);
    tc.evalSync(y);
    y.dispose();
  }, k, 2);
}

// Ten cheap arithmetic ops: bandwidth-bound unfused, one pass fused.
const arith = (t: tc.Tensor) => {
  let y = tc.multiply(t, 1.5);
  y = tc.add(y, 0.25);
  y = tc.maximum(y, -1);
  y = tc.subtract(y, 0.5);
  y = tc.multiply(y, y);
  y = tc.minimum(y, 4);
  y = tc.add(y, t);
  y = tc.multiply(y, 0.75);
  y = tc.abs(y);
  return tc.neg(y);
};
// GELU (tanh) written out in ten ops, as a model file would.
const geluChain = (t: tc.Tensor) => {
  const cube = tc.multiply(tc.multiply(t, t), t);
  const inner = tc.multiply(tc.add(t, tc.multiply(cube, 0.044715)), 0.7978845608);
  return tc.multiply(tc.multiply(t, 0.5), tc.add(tc.tanh(inner), 1));
};

const rows: BenchRow[] = [];
const memcpy = (2 * 4 * n) / (await time(() => tc.copy(x))) / 1e9;
for (const [name, fn] of [["10-op arithmetic chain", arith], ["gelu-tanh as 10 ops", geluChain]] as const) {
  const compiled = tc.compile(fn);
  const eager = (2 * 4 * n) / (await time(() => fn(x))) / 1e9;
  const fused = (2 * 4 * n) / (await time(() => compiled(x))) / 1e9;
  const g = tc.compileStats(compiled).graphs[0];
  if (g.fused !== 1 || g.steps !== 1) throw new Error(`${name} did not fuse into one kernel: ${g.nodes.join("; ")}`);
  const ref = { reference: memcpy, referenceName: "memcpy (copy op)" };
  rows.push({ case: `${name}, uncompiled, 16M f32`, value: eager, unit: "GB/s", ...ref, fraction: eager / memcpy });
  rows.push({ case: `${name}, compiled, 16M f32`, value: fused, unit: "GB/s", ...ref, fraction: fused / memcpy, goal: "near memcpy" });
  rows.push({ case: `${name}, compiled speed-up`, value: fused / eager, unit: "x" });
}

// Per-call overhead: a 100-op chain over a 16-element tensor, built op by op vs replayed.
const small = tc.tensor(new Float32Array(16).fill(0.5));
const bias = tc.tensor(new Float32Array(16).fill(0.001));
tc.evalSync(small, bias);
const chain100 = (t: tc.Tensor) => {
  let y = t;
  for (let i = 0; i < 50; i++) y = tc.tanh(tc.add(y, bias));
  return y;
};
const compiled100 = tc.compile(chain100);
const buildOnly = async (fn: (t: tc.Tensor) => tc.Tensor) =>
  timeIt(() => {
    for (let i = 0; i < 20; i++) tc.tidy(() => void fn(small));
  }, 20, 3).then((s) => (s / 20) * 1e6);
const eagerBuild = await buildOnly(chain100);
const replayBuild = await buildOnly(compiled100);
const eagerEval = (await time(() => chain100(small), 50)) * 1e6;
const compiledEval = (await time(() => compiled100(small), 50)) * 1e6;
rows.push({ case: "100-op graph: build op by op", value: eagerBuild, unit: "µs/call" });
rows.push({
  case: "100-op graph: compiled call (replay)", value: replayBuild, unit: "µs/call",
  reference: eagerBuild, referenceName: "op by op", fraction: eagerBuild / replayBuild,
});
rows.push({ case: "100-op graph: build + evalSync, op by op", value: eagerEval, unit: "µs/call" });
rows.push({
  case: "100-op graph: build + evalSync, compiled", value: compiledEval, unit: "µs/call",
  reference: eagerEval, referenceName: "op by op", fraction: eagerEval / compiledEval,
});

report({
  name: "compile",
  title: "compile(): fused elementwise chains and replay overhead",
  rows,
  notes: [
    "GB/s counts the input read and the output written once (what a single fused pass moves).",
    "fraction for the overhead rows is the speed-up over building the graph op by op.",
  ],
});
