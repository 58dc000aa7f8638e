// transcribe() against openai-whisper's transcribe() on the same tiny random model and samples
// (tools/reference/gen_whisper_transcribe.py), plus its options, callbacks and bad input.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadAudio, loadWhisper, transcribe, transcribeSamples } from "@tessera/whisper";
import type { Segment, TranscribeOptions, TranscribeResult, WhisperPipeline } from "@tessera/whisper";
import { fixturesDir, loadFixture, sharedDataFile } from "../../../test/helpers/reference.js";

interface RefWord { word: string; start: number; end: number; probability: number }
interface RefSegment {
  id: number; seek: number; start: number; end: number; text: string; tokens: number[]; temperature: number;
  avg_logprob: number; compression_ratio: number; no_speech_prob: number; words?: RefWord[];
}
interface RefCase {
  name: string;
  audio: "jfk" | "long";
  options: Record<string, unknown>;
  result: { text: string; language: string; segments: RefSegment[] };
}
const fixture = loadFixture<{ model: string; audio: Record<string, { samples: number; sha256: string }>; cases: RefCase[] }>("whisper/transcribe.json");
const jfkFile = sharedDataFile("audio/jfk.flac");
if (!jfkFile) console.warn("transcribe.test.ts: shared/data/audio/jfk.flac not found beside the checkout: the comparisons with openai-whisper are skipped");
const haveJfk = jfkFile !== undefined;
const jfkPath = jfkFile ?? "";

async function samplesFor(name: "jfk" | "long"): Promise<Float32Array> {
  const jfk = await loadAudio(jfkPath);
  if (name === "jfk") return jfk;
  // 10 x (jfk, then 1 s of silence), as the generator builds it.
  const out = new Float32Array(10 * (jfk.length + 16000));
  for (let i = 0; i < 10; i++) out.set(jfk, i * (jfk.length + 16000));
  return out;
}

const sha256 = (s: Float32Array) => createHash("sha256").update(Buffer.from(s.buffer, s.byteOffset, s.byteLength)).digest("hex");

/** openai-whisper's snake_case options to ours. */
function optionsOf(o: Record<string, unknown>): TranscribeOptions {
  const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null) out[camel(k)] = v;
  return out as TranscribeOptions;
}

function expectSameResult(ours: TranscribeResult, ref: RefCase["result"], name: string): void {
  expect(ours.language, name).toBe(ref.language);
  expect(ours.segments.map((s) => s.tokens), name).toEqual(ref.segments.map((s) => s.tokens));
  expect(ours.text, name).toBe(ref.text);
  ours.segments.forEach((s: Segment, i) => {
    const r = ref.segments[i];
    const where = `${name} segment ${i}`;
    expect([s.id, s.seek, s.text, s.temperature], where).toEqual([r.id, r.seek, r.text, r.temperature]);
    expect(s.start, where).toBeCloseTo(r.start, 2);
    expect(s.end, where).toBeCloseTo(r.end, 2);
    expect(Math.abs(s.avgLogprob - r.avg_logprob), where).toBeLessThan(2e-3);
    expect(s.compressionRatio, where).toBeCloseTo(r.compression_ratio, 6);
    expect(Math.abs(s.noSpeechProb - r.no_speech_prob), where).toBeLessThan(1e-3);
    expect(s.words?.map((w) => w.word), where).toEqual(r.words?.map((w) => w.word));
    s.words?.forEach((w, j) => {
      const rw = (r.words as RefWord[])[j];
      // Within 20 ms of openai-whisper (the bar); they are normally equal.
      expect(Math.abs(w.start - rw.start), `${where} word ${j} start`).toBeLessThanOrEqual(0.02 + 1e-9);
      expect(Math.abs(w.end - rw.end), `${where} word ${j} end`).toBeLessThanOrEqual(0.02 + 1e-9);
      expect(Math.abs(w.probability - rw.probability), `${where} word ${j} probability`).toBeLessThan(1e-3);
    });
  });
}

describe.skipIf(!haveJfk)("transcribe() matches openai-whisper's transcribe()", () => {
  let pipeline: WhisperPipeline;
  const audio: Partial<Record<"jfk" | "long", Float32Array>> = {};

  it("loads the model and rebuilds the reference samples exactly", async () => {
    pipeline = await loadWhisper(join(fixturesDir, "whisper", "models", fixture.model), { dtype: "float32" });
    for (const name of ["jfk", "long"] as const) {
      audio[name] = await samplesFor(name);
      expect(audio[name]!.length).toBe(fixture.audio[name].samples);
      expect(sha256(audio[name]!)).toBe(fixture.audio[name].sha256);
    }
  });

  for (const c of fixture.cases) {
    it(`${c.name}: ${JSON.stringify(c.options)}`, async () => {
      const ours = await transcribeSamples(pipeline, audio[c.audio]!, optionsOf(c.options));
      expectSameResult(ours, c.result, c.name);
    }, 60_000);
  }

  it("reports every segment and progress up to the audio's length, and stops on abort", async () => {
    const seen: Segment[] = [];
    const progress: number[] = [];
    const result = await transcribeSamples(pipeline, audio.long!, {
      temperature: 0, language: "en", onSegment: (s) => seen.push(s), onProgress: (p) => progress.push(p.processed / p.total),
    });
    expect(seen).toEqual(result.segments);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1])).toBe(true);
    expect(progress[progress.length - 1]).toBeCloseTo(1, 6);

    const controller = new AbortController();
    const run = transcribeSamples(pipeline, audio.long!, {
      temperature: 0, language: "en", signal: controller.signal, onProgress: () => controller.abort(new Error("stop here")),
    });
    await expect(run).rejects.toThrow("stop here");
  }, 60_000);

  it("takes a path, an encoded buffer, or samples, and a model path", async () => {
    const { readFileSync } = await import("node:fs");
    const modelDir = join(fixturesDir, "whisper", "models", fixture.model);
    const ref = fixture.cases.find((c) => c.name === "jfk_en")!;
    const opts = { ...optionsOf(ref.options), model: pipeline };
    expectSameResult(await transcribe(jfkPath, opts), ref.result, "path");
    expectSameResult(await transcribe(readFileSync(jfkPath), { ...opts, model: modelDir }), ref.result, "buffer, model folder");
  }, 60_000);
});

describe("transcribe() edge cases and bad input", () => {
  const modelDir = join(fixturesDir, "whisper", "models", "tiny30s-mlx");

  it("zero-length audio gives an empty result", async () => {
    const r = await transcribe(new Float32Array(0), { model: modelDir, language: "en" });
    expect(r).toEqual({ text: "", segments: [], language: "en" });
  });

  it("bad input is a clear Error", async () => {
    await expect(transcribe("/nonexistent/audio.mp3", { model: modelDir })).rejects.toThrow("/nonexistent/audio.mp3");
    await expect(transcribe(new Uint8Array([1, 2, 3, 4, 5]), { model: modelDir })).rejects.toThrow(/audio buffer \(5 bytes\)/);
    await expect(transcribe(new Float32Array(10), { model: "/nonexistent/model" })).rejects.toThrow(/does not exist/);
    const pipeline = await loadWhisper(modelDir);
    const s = new Float32Array(1600);
    await expect(transcribeSamples(pipeline, s, { temperature: -1 })).rejects.toThrow("temperature must be a non-negative number");
    await expect(transcribeSamples(pipeline, s, { temperature: [] })).rejects.toThrow("temperature must be a non-negative number");
    await expect(transcribeSamples(pipeline, s, { clipTimestamps: "1,x" })).rejects.toThrow("clipTimestamps must be non-negative seconds");
    await expect(transcribeSamples(pipeline, s, { language: "klingon" })).rejects.toThrow(/klingon/);
    await expect(transcribeSamples(pipeline, s, { task: "summarize" as never })).rejects.toThrow('task must be "transcribe" or "translate"');
    await expect(transcribeSamples(pipeline, s, { logprobThreshold: "low" as never })).rejects.toThrow("logprobThreshold must be a number");
    const aborted = AbortSignal.abort(new Error("cancelled"));
    await expect(transcribe(s, { model: pipeline, signal: aborted })).rejects.toThrow("cancelled");
  });
});
