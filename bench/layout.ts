// Layout copies against a contiguous copy of the same bytes measured in the same run (the memcpy
// ceiling of the native core): bandwidth counted as bytes read + written. Also a KV-cache step
// with the in-place sliceUpdate (disposed input) against the copying one (input still held).
import * as tc from "../packages/core/dist/index.js";
import { report, timeIt } from "./lib.js";
import type { BenchRow } from "./lib.js";

const rows: BenchRow[] = [];
const src = tc.random.normal([2048, 2048]); // 16 MiB float32
await tc.eval(src);
const bytes = src.nbytes;

async function gbps(fn: () => tc.Tensor, moved: number): Promise<number> {
  const secs = await timeIt(async () => {
    const t = fn();
    await tc.eval(t);
    t.dispose();
  }, 10);
  return moved / secs / 1e9;
}

// The ceiling: copying contiguous data (one memcpy per thread's chunk).
const ceiling = await gbps(() => tc.copy(tc.reshape(src, [2048 * 2048])), 2 * bytes);
const half = tc.index(src, [0, 1024]);
const ids = tc.tensor(Int32Array.from({ length: 2048 }, (_, i) => (i * 1237 + 11) % 2048)); // a permutation
const cases: [string, () => tc.Tensor, number][] = [
  ["concatenate 2 x [1024, 2048] axis 1", () => tc.concatenate([half, half], 1), 2 * bytes],
  ["pad [2048, 2048] by 8 per side", () => tc.pad(src, 8), 2 * bytes],
  ["take 2048 rows of [2048, 2048]", () => tc.take(src, ids, 0), 2 * bytes],
  ["takeAlongAxis [2048, 2048] (per element)", () => tc.takeAlongAxis(src, tc.broadcastTo(tc.reshape(ids, [1, 2048]), [2048, 2048]), 1), 3 * bytes],
  ["tile [1024, 2048] x [2, 1]", () => tc.tile(half, [2, 1]), 1.5 * bytes],
  ["repeat [2048, 1024] x 2 axis 1", () => tc.repeat(tc.index(src, null, [0, 1024]), 2, 1), 1.5 * bytes],
];
for (const [name, fn, moved] of cases) {
  const rate = await gbps(fn, moved);
  rows.push({ case: name, value: rate, unit: "GB/s", reference: ceiling, referenceName: "contiguous copy", fraction: rate / ceiling, goal: "near the copy" });
}

// KV cache [1, 8, 4096, 128] float16 (8 MiB), one step of [1, 8, 1, 128] written per call.
let cache = tc.zeros([1, 8, 4096, 128], "float16");
await tc.eval(cache);
const step = tc.astype(tc.ones([1, 8, 1, 128]), "float16");
await tc.eval(step);
let t = 0;
const inPlace = await timeIt(async () => {
  const next = tc.sliceUpdate(cache, step, [0, 0, t++ % 4096, 0]);
  cache.dispose();
  cache = next;
  await tc.eval(cache);
}, 50);
const copying = await timeIt(async () => {
  const next = tc.sliceUpdate(cache, step, [0, 0, t++ % 4096, 0]);
  await tc.eval(next);
  next.dispose();
}, 20);
rows.push({ case: "sliceUpdate KV step, in place", value: inPlace * 1e6, unit: "us", reference: copying * 1e6, referenceName: "copying update", fraction: copying / inPlace, goal: "far below the copy" });

report({ name: "layout", title: "layout and indexing copies", rows, notes: [`${tc.numThreads()} threads`, "GB/s counts bytes read + written"] });
