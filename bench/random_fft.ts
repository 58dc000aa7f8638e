// Random generation and real FFTs: throughput of uniform/normal/categorical against the memory
// bandwidth of a plain fill of the same bytes (measured in the same run), and Whisper-sized STFT
// frames (rfft of [3000, 400]) against other lengths, in the conventional 2.5 n log2 n flops.
import * as tc from "../packages/core/dist/index.js";
import { report, timeIt } from "./lib.js";
import type { BenchRow } from "./lib.js";

const N = 1 << 22;
const key = tc.random.key(0);
const rows: BenchRow[] = [];

async function run(fn: () => tc.Tensor, iters = 10): Promise<number> {
  return timeIt(async () => {
    const t = fn();
    await tc.eval(t);
    t.dispose();
  }, iters);
}

const fillSecs = await run(() => tc.full([N], 1.5));
const fillRate = (N * 4) / fillSecs / 1e9;
for (const [name, fn] of [
  ["random.uniform 4M float32", () => tc.random.uniform([N], { key })],
  ["random.normal 4M float32", () => tc.random.normal([N], { key })],
  ["random.bits 4M", () => tc.random.bits([N], { key })],
] as [string, () => tc.Tensor][]) {
  const secs = await run(fn);
  const rate = (N * 4) / secs / 1e9;
  rows.push({ case: name, value: rate, unit: "GB/s", reference: fillRate, referenceName: "fill", fraction: rate / fillRate, goal: "near the fill" });
}
const logits = tc.zeros([4096, 1024]);
await tc.eval(logits);
const catSecs = await run(() => tc.random.categorical(logits, { key }));
rows.push({ case: "random.categorical [4096, 1024]", value: (4096 * 1024) / catSecs / 1e6, unit: "M classes/s" });

for (const n of [400, 512, 401, 1000]) {
  const frames = Math.round((3000 * 400) / n);
  const x = tc.random.normal([frames, n], { key });
  await tc.eval(x);
  const secs = await run(() => tc.fft.rfft(x));
  const gflops = (frames * 2.5 * n * Math.log2(n)) / secs / 1e9;
  rows.push({ case: `fft.rfft [${frames}, ${n}]`, value: gflops, unit: "GFLOP/s", goal: n === 400 ? "Whisper n_fft" : undefined });
}

report({
  name: "random_fft",
  title: "random and fft",
  rows,
  notes: [`${tc.numThreads()} threads`, "rfft flops counted as 2.5 n log2 n per row (half a complex FFT)"],
});
