// Softmax and last-axis sum over float32 rows, in GB/s, against the `copy` op (memcpy bandwidth)
// of a tensor of the same size measured in the same run. Run: npx tsx bench/softmax.ts
// The built package (`tsc -b packages/core`): the workspace root does not depend on @tessera/core, and
// tsx cannot load the sources' index.ts (esbuild rejects its re-export named `eval`).
import * as tc from "../packages/core/dist/index.js";
import { report } from "./lib.js";
import type { BenchRow } from "./lib.js";

const GB = 1e9;
const target = 64 << 20; // bytes per input: well past the last-level cache

function randomRows(rows: number, n: number): tc.Tensor {
  const v = new Float32Array(rows * n);
  let s = 12345;
  for (let i = 0; i < v.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = (s / 2 ** 32) * 16 - 8;
  }
  const t = tc.tensor(v, { shape: [rows, n] });
  tc.evalSync(t);
  return t;
}

/** Median seconds per evaluation of each op on x, the ops interleaved round by round so that a
 * change in machine load affects the ceiling and the measured ops alike. */
function timeInterleaved(ops: ((x: tc.Tensor) => tc.Tensor)[], x: tc.Tensor, rounds = 12, warmup = 2): number[] {
  const times = ops.map(() => [] as number[]);
  for (let r = 0; r < warmup + rounds; r++) {
    ops.forEach((op, i) => {
      const t0 = process.hrtime.bigint();
      const y = op(x);
      tc.evalSync(y);
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      y.dispose();
      if (r >= warmup) times[i].push(dt);
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}

const rows: BenchRow[] = [];
for (const n of [4096, 51865]) {
  const x = randomRows(Math.max(1, Math.round(target / 4 / n)), n);
  const bytes = x.nbytes;
  const [tCopy, tSoft, tSum] = timeInterleaved([tc.copy, (t) => tc.softmax(t), (t) => tc.sum(t, -1)], x);
  const copy = (2 * bytes) / tCopy / GB; // read + write
  const soft = (2 * bytes) / tSoft / GB;
  const sum = bytes / tSum / GB; // reads only
  const shape = `[${x.shape.join(", ")}]`;
  rows.push({ case: `copy ${shape}`, value: copy, unit: "GB/s" });
  rows.push({ case: `softmax ${shape}`, value: soft, unit: "GB/s", reference: copy, referenceName: "copy", fraction: soft / copy, goal: ">= 60%" });
  rows.push({ case: `sum(-1) ${shape}`, value: sum, unit: "GB/s", reference: copy, referenceName: "copy", fraction: sum / copy, goal: ">= 60%" });
  x.dispose();
}

report({
  name: "softmax",
  title: `softmax and sum over the last axis, float32, ${tc.numThreads()} threads`,
  rows,
  notes: [
    "GB/s counts the bytes each op moves: copy and softmax read and write the tensor, sum only reads it.",
    "copy is the `copy` op of the same contiguous tensor (the memcpy ceiling), measured in the same run.",
  ],
});
