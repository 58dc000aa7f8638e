// One transcription by ours in a process of its own (bench/whisper_transcribe.ts spawns it per system, so
// each peak RSS is that system's alone): loads the model, transcribes the clip with word timestamps,
// and prints one JSON line: load and transcribe seconds, the process's peak RSS, the text and words.
//   npx tsx bench/_whisper_one.ts --model=DIR --audio=FILE [--dtype=float32|float16] [--compute=int8] [--beam=5]
//        [--threads=2] [--iters=1]
import * as tc from "../packages/core/dist/index.js";
import { loadAudio, loadWhisper, transcribe } from "../packages/whisper/dist/index.js";

const option = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=").slice(1).join("=");
const model = option("model");
const audioFile = option("audio");
if (!model || !audioFile) throw new Error("bench/_whisper_one.ts: --model=DIR and --audio=FILE are required");
const dtype = option("dtype") as "float32" | "float16" | undefined;
const computeType = option("compute") as "int8" | undefined;
const beam = option("beam") ? Number(option("beam")) : undefined;
const iters = Number(option("iters") ?? 1);
tc.setNumThreads(Number(option("threads") ?? 2));

const audio = await loadAudio(audioFile);
const t0 = performance.now();
const pipeline = await loadWhisper(model, { ...(dtype ? { dtype } : {}), ...(computeType ? { computeType } : {}) });
const loadS = (performance.now() - t0) / 1e3;
const times: number[] = [];
let result: Awaited<ReturnType<typeof transcribe>> | undefined;
for (let i = 0; i < iters; i++) {
  const t1 = performance.now();
  result = await transcribe(audio, {
    model: pipeline, language: "en", wordTimestamps: true, temperature: 0, ...(beam ? { beamSize: beam } : {}),
  });
  times.push((performance.now() - t1) / 1e3);
}
times.sort((a, b) => a - b);
const r = result as NonNullable<typeof result>;
const words = r.segments.flatMap((s) => s.words ?? []).map((w) => [w.word, w.start, w.end]);
console.log(JSON.stringify({
  system: "ours", dtype: pipeline.model.dtype, computeType: computeType ?? "default", beam: beam ?? 1, loadS, transcribeS: times[Math.floor(times.length / 2)],
  maxRssMiB: process.resourceUsage().maxRSS / 1024, tokens: r.segments.reduce((n, s) => n + s.tokens.length, 0),
  text: r.text, words,
}));
