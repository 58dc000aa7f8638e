// Transcribes a generated hour of audio (a WAV file: jfk.flac repeated with silences, or a tone
// pattern without it) with word timestamps and reports the peak memory, to check that memory stays
// bounded on long input. Uses the tiny random 30-s-window test model unless a model is given.
//   npx tsx tools/whisper_long_audio.ts [minutes=60] [model folder]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAudio, loadWhisper, transcribe } from "../packages/whisper/src/index.js";
import { fixturesDir, sharedDataFile } from "../test/helpers/paths.js";
import { wav16 } from "../test/helpers/wav.js";

const minutes = Number(process.argv[2] ?? 60);
const model = process.argv[3] ?? join(fixturesDir, "whisper", "models", "tiny30s-mlx");
const rate = 16000;

const jfkPath = sharedDataFile("audio/jfk.flac");
const speech = jfkPath ? await loadAudio(jfkPath) : Float32Array.from({ length: 8 * rate }, (_, i) => 0.3 * Math.sin(i * 0.05) * Math.sin(i * 0.0007));
const total = Math.round(minutes * 60 * rate);
const samples = new Float32Array(total);
for (let at = 0; at < total; at += speech.length + rate) samples.set(speech.subarray(0, Math.min(speech.length, total - at)), at);
const dir = mkdtempSync(join(tmpdir(), "tessera-long-"));
const file = join(dir, "long.wav");
writeFileSync(file, wav16(samples, rate));

const pipeline = await loadWhisper(model);
let peak = 0;
const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
const timer = setInterval(sample, 200);
const start = Date.now();
let windows = 0;
const result = await transcribe(file, {
  model: pipeline, language: "en", temperature: 0, wordTimestamps: true,
  onProgress: (p) => {
    sample();
    if (++windows % 20 === 0) console.log(`${(p.processed / 60).toFixed(1)} / ${(p.total / 60).toFixed(1)} min, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  },
});
clearInterval(timer);
rmSync(dir, { recursive: true, force: true });
const maxRss = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({
  minutes, model, windows, segments: result.segments.length, seconds: (Date.now() - start) / 1000,
  peakRssMiB: Math.round(Math.max(peak, maxRss) / 2 ** 20), audioMiB: Math.round((samples.byteLength) / 2 ** 20),
}));
