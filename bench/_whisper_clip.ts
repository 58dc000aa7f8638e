// The 60-s clip of bench/whisper_transcribe.ts: jfk.flac (shared/data/audio) and the four
// espeak-ng sentences of test/fixtures/whisper/speech, each followed by 1 s of silence, repeated
// until 60 s (cut there), written once as a 16-kHz mono 16-bit WAV every system reads.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadAudio } from "../packages/whisper/dist/index.js";
import { fixturesDir, sharedDataFile } from "../test/helpers/paths.js";
import { wav16 } from "../test/helpers/wav.js";

export const CLIP_SECONDS = 60;
const RATE = 16000;

/** Writes `<dir>/speech60.wav` if it is missing and returns its path. */
export async function ensureSpeechClip(dir: string): Promise<string> {
  const file = join(dir, "speech60.wav");
  if (existsSync(file)) return file;
  const jfk = sharedDataFile("audio/jfk.flac");
  if (!jfk) throw new Error("bench/_whisper_clip.ts: shared/data/audio/jfk.flac not found");
  const speech = join(fixturesDir, "whisper", "speech");
  const parts = [jfk, ...["garden", "library", "phone", "weather"].map((n) => join(speech, `${n}.flac`))];
  const audio = await Promise.all(parts.map((p) => loadAudio(p)));
  const total = CLIP_SECONDS * RATE;
  const out = new Float32Array(total);
  for (let at = 0, i = 0; at < total; i++) {
    const a = audio[i % audio.length];
    out.set(a.subarray(0, Math.min(a.length, total - at)), at);
    at += a.length + RATE;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, wav16(out, RATE));
  return file;
}
