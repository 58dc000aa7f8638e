// Fused fast ops against their composite references (fast.reference.*, plain ops) in the same run,
// and the row-wise ops (norms, rope) against a plain copy of the same bytes (their memory ceiling).
// Attention sizes: a 1B-LLM prefill and decode step with grouped heads, and Whisper-base encoder
// self-attention.
import * as tc from "../packages/core/dist/index.js";
import { report, timeIt } from "./lib.js";
import type { BenchRow } from "./lib.js";

const key = tc.random.key(0);
const rows: BenchRow[] = [];

async function run(fn: () => tc.Tensor, iters = 5): Promise<number> {
  return timeIt(async () => {
    const t = fn();
    await tc.eval(t);
    t.dispose();
  }, iters, 1);
}

function randn(shape: number[]): tc.Tensor {
  const t = tc.random.normal(shape, { key });
  tc.evalSync(t);
  return t;
}

const attention: [string, number[], "causal" | null][] = [
  ["prefill 512, 32/8 heads, D=64", [1, 32, 8, 512, 512, 64], "causal"],
  ["decode at 2048, 32/8 heads, D=64", [1, 32, 8, 1, 2048, 64], null],
  ["Whisper-base encoder 1500, 8 heads, D=64", [1, 8, 8, 1500, 1500, 64], null],
];
for (const [name, [b, hq, hkv, l, s, d], mask] of attention) {
  const q = randn([b, hq, l, d]);
  const k = randn([b, hkv, s, d]);
  const v = randn([b, hkv, s, d]);
  const fused = await run(() => tc.fast.scaledDotProductAttention(q, k, v, { mask }));
  const composite = await run(() => tc.fast.reference.scaledDotProductAttention(q, k, v, { mask }), 3);
  const flops = 4 * b * hq * l * s * d * (mask === "causal" ? 0.5 : 1);
  rows.push({
    case: `sdpa ${name}`, value: flops / fused / 1e9, unit: "GFLOP/s", reference: flops / composite / 1e9,
    referenceName: "composite", fraction: composite / fused, goal: "faster than the composite",
  });
}

const x = randn([2048, 2048]);
const w = randn([2048]);
const copy = await run(() => tc.copy(x));
const bytes = x.nbytes * 2;
const rowOps: [string, () => tc.Tensor, () => tc.Tensor][] = [
  ["rmsNorm [2048, 2048]", () => tc.fast.rmsNorm(x, w, 1e-5), () => tc.fast.reference.rmsNorm(x, w, 1e-5)],
  ["layerNorm [2048, 2048]", () => tc.fast.layerNorm(x, w, w, 1e-5), () => tc.fast.reference.layerNorm(x, w, w, 1e-5)],
  ["rope [1, 16, 256, 64] of x.reshape", () => tc.fast.rope(x.reshape(16, 256, 1024), 64), () => tc.fast.reference.rope(x.reshape(16, 256, 1024), 64)],
  ["groupNorm [1, 64, 64, 1024] / 32", () => tc.fast.groupNorm(x.reshape(1, 64, 64, 1024), 32, null, null), () => tc.fast.reference.groupNorm(x.reshape(1, 64, 64, 1024), 32, null, null)],
];
for (const [name, fused, composite] of rowOps) {
  const t = await run(fused);
  const c = await run(composite, 3);
  rows.push({ case: name, value: bytes / t / 1e9, unit: "GB/s", reference: bytes / copy / 1e9, referenceName: "copy", fraction: copy / t, goal: "near the copy" });
  rows.push({ case: `${name} composite`, value: bytes / c / 1e9, unit: "GB/s", reference: bytes / t / 1e9, referenceName: "fused", fraction: t / c });
}

report({
  name: "fast",
  title: "fused fast ops",
  rows,
  notes: [`${tc.numThreads()} threads`, "sdpa flops: 4 B Hq L S D (halved for causal)", "row ops: bytes read + written over time"],
});
