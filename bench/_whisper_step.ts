// Where a decoder step's time goes (issue 13): per token, the JS time building the step's graph
// (Whisper.decode up to its return: ops created, nothing computed), the evaluation (evalSync of the
// logits), reading the logits back, and the whole step through `await logits.data()` as decoding
// does it. Real weights: --model=<openai/whisper-base HF folder> (tools/weights).
//   npx tsx bench/_whisper_step.ts --model=DIR [--dtype=float32] [--rows=1] [--tokens=50] [--threads=2]
import * as tc from "../packages/core/dist/index.js";
import { loadWhisper } from "../packages/whisper/dist/index.js";

const option = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=").slice(1).join("=");
const modelDir = option("model");
if (!modelDir) throw new Error("bench/_whisper_step.ts: --model=DIR is required");
const rows = Number(option("rows") ?? 1);
const tokens = Number(option("tokens") ?? 50);
tc.setNumThreads(Number(option("threads") ?? 2));
const dtype = option("dtype") as "float32" | undefined;
const { model } = await loadWhisper(modelDir, dtype ? { dtype } : {});
const prompt = [50258, 50259, 50359, 50363];
const features = model.embedAudio(tc.random.normal([1, 3000, 80], { key: tc.random.key(0) }));
tc.evalSync(features);

const ms = (t0: number) => performance.now() - t0;
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];

/** One run of `tokens` steps after the prompt; per-step times in ms. */
async function run(mode: "split" | "await") {
  const cache = model.newCache();
  let logits = model.decode(Array.from({ length: rows }, () => prompt), features, { cache, logitPositions: [prompt.length - 1] }).logits;
  await logits.data();
  logits.dispose();
  const build: number[] = [], evaluate: number[] = [], read: number[] = [], total: number[] = [];
  for (let i = 0; i < tokens; i++) {
    const input = Array.from({ length: rows }, (_, r) => [440 + ((i + r) % 50)]);
    const t0 = performance.now();
    logits = model.decode(input, features, { cache }).logits;
    if (mode === "split") {
      build.push(ms(t0));
      const t1 = performance.now();
      tc.evalSync(logits);
      evaluate.push(ms(t1));
      const t2 = performance.now();
      await logits.data();
      read.push(ms(t2));
    } else await logits.data();
    total.push(ms(t0));
    logits.dispose();
  }
  cache.dispose();
  return { build: build.length ? median(build) : NaN, evaluate: evaluate.length ? median(evaluate) : NaN, read: read.length ? median(read) : NaN, total: median(total) };
}

await run("await");
const split = await run("split");
const whole = await run("await");
console.log(JSON.stringify({
  dtype: model.dtype, rows, tokens,
  msPerStep: { awaitDataTotal: whole.total, buildGraph: split.build, evalSync: split.evaluate, readLogits: split.read, splitTotal: split.total },
}));
