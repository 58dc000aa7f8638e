// The 60-s clip of bench/whisper_transcribe.ts: jfk.flac (shared/data/audio) and the four
// espeak-ng sentences of test/fixtures/whisper/speech, each followed by 1 s of silence, repeated
// until 60 s (cut there), written once as a 16-kHz mono 16-bit WAV every system reads.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadAudio } from "../packages/whisper/dist/index.js";
import { fixturesDir, sharedDataFile } from "../test/helpers/paths.js";

export const CLIP_SECONDS = 60;
const RATE = 16000;

/** 16-bit mono WAV bytes of `samples` at 16 kHz. */
function wav(samples: Float32Array): Buffer {
  const b = Buffer.alloc(44 + samples.length * 2);
  b.write("RIFF", 0);
  b.writeUInt32LE(36 + samples.length * 2, 4);
  b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(RATE, 24);
  b.writeUInt32LE(RATE * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36);
  b.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767))), 44 + 2 * i);
  return b;
}

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
  writeFileSync(file, wav(out));
  return file;
}
