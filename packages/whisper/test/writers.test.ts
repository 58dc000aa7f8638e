import { readFileSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { formatResult, formatTimestamp, getWriter } from "../src/writers.js";
import type { OutputFormat, WriterOptions } from "../src/writers.js";
import { npArange, pyFloatRepr, pyJsonString } from "../src/pyformat.js";
import type { Segment, TranscribeResult } from "../src/types.js";

interface PyWord { word: string; start: number; end: number; probability: number }
interface PySegment {
  id: number; seek: number; start: number; end: number; text: string; tokens: number[]; temperature: number;
  avg_logprob: number; compression_ratio: number; no_speech_prob: number; words?: PyWord[];
}
interface PyResult { text: string; segments: PySegment[]; language: string }
interface Fixture {
  results: Record<string, PyResult>;
  cases: { result: string; format: OutputFormat; options: Record<string, number | boolean>; text: string }[];
  timestamps: { seconds: number; hours: boolean; marker: string; text: string }[];
  floats: { value: number; json: string }[];
  temperatures: { start: number; increment: number; values: number[] }[];
  strings: { value: string; json: string }[];
}
// Read directly rather than through test/helpers/reference.ts, which loads the native addon these tests don't need.
const fixture = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "test", "fixtures", "whisper", "writers.json");
const fx = JSON.parse(readFileSync(fixture, "utf8")) as Fixture;

/** openai's result dict as our TranscribeResult. */
function fromPy(r: PyResult): TranscribeResult {
  const segments = r.segments.map((s): Segment => ({
    id: s.id, seek: s.seek, start: s.start, end: s.end, text: s.text, tokens: s.tokens, temperature: s.temperature,
    avgLogprob: s.avg_logprob, compressionRatio: s.compression_ratio, noSpeechProb: s.no_speech_prob,
    ...(s.words ? { words: s.words.map((w) => ({ ...w })) } : {}),
  }));
  return { text: r.text, segments, language: r.language };
}
const toOptions = (o: Record<string, number | boolean>): WriterOptions => ({
  highlightWords: o.highlight_words as boolean | undefined, maxLineWidth: o.max_line_width as number | undefined,
  maxLineCount: o.max_line_count as number | undefined, maxWordsPerLine: o.max_words_per_line as number | undefined,
});

describe("formatResult matches openai-whisper's writers byte for byte", () => {
  it.each(fx.cases.map((c) => [`${c.result} ${c.format} ${JSON.stringify(c.options)}`, c] as const))("%s", (_, c) => {
    const result = fromPy(fx.results[c.result]);
    const before = JSON.stringify(result);
    expect(formatResult(c.format, result, toOptions(c.options))).toBe(c.text);
    expect(JSON.stringify(result)).toBe(before); // the result is not modified
  });

  it("covers the word options and formats it claims to", () => {
    expect(fx.cases.length).toBe(3 * 3 + 2 + 2 + 2 * 2 * 3 * 3 * 2);
    expect(new Set(fx.cases.map((c) => c.text)).size).toBeGreaterThan(40);
  });
});

describe("Python formatting", () => {
  it("formatTimestamp as format_timestamp (halves to even)", () => {
    for (const t of fx.timestamps) expect(formatTimestamp(t.seconds, t.hours, t.marker), String(t.seconds)).toBe(t.text);
  });
  it("rejects negative times", () => {
    expect(() => formatTimestamp(-0.5)).toThrow("formatTimestamp: non-negative timestamp expected, got -0.5");
    expect(() => formatTimestamp(NaN)).toThrow("non-negative timestamp expected");
  });
  it("float repr and json strings as json.dumps", () => {
    for (const f of fx.floats) expect(pyFloatRepr(f.value)).toBe(f.json);
    expect([pyFloatRepr(Infinity), pyFloatRepr(-Infinity), pyFloatRepr(NaN)]).toEqual(["Infinity", "-Infinity", "NaN"]);
    for (const s of fx.strings) expect(pyJsonString(s.value)).toBe(s.json);
  });
  it("temperatures as numpy.arange", () => {
    for (const t of fx.temperatures) expect(npArange(t.start, 1 + 1e-6, t.increment)).toEqual(t.values);
  });
});

describe("getWriter", () => {
  const dirs: string[] = [];
  afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
  const result = fromPy(fx.results.words);

  it("writes <basename>.<ext> for every format with 'all', the same text as formatResult", async () => {
    const dir = await mkdtemp(join(tmpdir(), "writers-"));
    dirs.push(dir);
    const out = join(dir, "nested", "out");
    const options = { maxLineWidth: 42, maxLineCount: 2, highlightWords: true };
    const paths = await getWriter("all", out)(result, "/x/y/audio.file.mp3", options);
    expect(paths).toEqual(["txt", "vtt", "srt", "tsv", "json"].map((e) => join(out, `audio.file.${e}`)));
    expect((await readdir(out)).sort()).toEqual(["audio.file.json", "audio.file.srt", "audio.file.tsv", "audio.file.txt", "audio.file.vtt"]);
    for (const f of ["txt", "vtt", "srt", "tsv", "json"] as const) {
      expect(await readFile(join(out, `audio.file.${f}`), "utf8")).toBe(formatResult(f, result, options));
    }
  });

  it("writes one format, replacing an older file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "writers-"));
    dirs.push(dir);
    await getWriter("srt", dir)(fromPy(fx.results.no_words), "talk.wav");
    await getWriter("srt", dir)(result, "talk.wav");
    expect(await readdir(dir)).toEqual(["talk.srt"]);
    expect(await readFile(join(dir, "talk.srt"), "utf8")).toBe(formatResult("srt", result));
  });

  it("rejects unknown formats", () => {
    expect(() => getWriter("doc" as OutputFormat, ".")).toThrow('getWriter: unknown format "doc" (expected one of txt, vtt, srt, tsv, json, all)');
    expect(() => formatResult("doc" as OutputFormat, result)).toThrow('formatResult: unknown format "doc"');
  });
});
