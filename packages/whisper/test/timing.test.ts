// Word timing against openai-whisper's whisper/timing.py (fixtures from tools/reference/gen_whisper_timing.py):
// median_filter, dtw_cpu, merge_punctuations, and find_alignment / add_word_timestamps on the tiny
// random checkpoint (tiny-mlx) with a fixed mel.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { expectClose, fixturesDir, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";
import { getTokenizer, loadWhisperModel } from "../src/index.js";
import type { Segment } from "../src/index.js";
import { round2 } from "../src/dtw.js";
import { addWordTimestamps, dtw, findAlignment, medianFilter, mergePunctuations } from "../src/timing.js";
import type { WordTiming } from "../src/timing.js";

interface SegmentRef { seek: number; start: number; end: number; tokens: number[] }
interface WordRef { word: string; start: number; end: number; probability: number }
interface Fixture {
  median_filter: { name: string; width: number; x: RefArray; expected: RefArray }[];
  dtw: { name: string; x: RefArray; text_indices: number[]; time_indices: number[] }[];
  merge_punctuations: { name: string; prepended: string; appended: string; alignment: WordTiming[]; expected: WordTiming[] }[];
  model: string;
  alignment_heads: [number, number][];
  mel: RefArray;
  find_alignment: { language: string; text: string; text_tokens: number[]; num_frames: number; words: WordTiming[] }[];
  add_word_timestamps: {
    name: string; prepend?: string; append?: string; num_frames: number; last_speech_timestamp: number; segments: SegmentRef[];
    expected: { start: number; end: number; words: WordRef[] }[]; new_last_speech_timestamp: number;
  }[];
  add_word_timestamps_30s: { model: string; cases: Fixture["add_word_timestamps"] };
}

const fx = loadFixture<Fixture>("whisper/timing.json");
const loaded = loadWhisperModel(join(fixturesDir, "whisper", "models", fx.model), { dtype: "float32" });
const { model, alignmentHeads } = loaded;
const [nMels, frames] = fx.mel.shape;
// The fixture's mel is openai's [n_mels, frames]; ours is channels-last.
const features = model.embedAudio(tc.transpose(tc.reshape(fromRef(fx.mel), [1, nMels, frames]), [0, 2, 1]));
const tokenizers = new Map<string, ReturnType<typeof getTokenizer>>();
const tokenizer = (language: string) => {
  if (!tokenizers.has(language)) tokenizers.set(language, getTokenizer({ multilingual: true, language, task: "transcribe" }));
  return tokenizers.get(language) as ReturnType<typeof getTokenizer>;
};

// Times are multiples of 20 ms (or heuristics over them): they should match exactly; probabilities
// are float32 softmax values.
function expectWord(actual: WordRef | WordTiming, expected: WordRef | WordTiming, label: string) {
  expect(actual.word, `${label} word`).toBe(expected.word);
  expect(Math.abs(actual.start - expected.start), `${label} start ${actual.start} vs ${expected.start}`).toBeLessThan(1e-9);
  expect(Math.abs(actual.end - expected.end), `${label} end ${actual.end} vs ${expected.end}`).toBeLessThan(1e-9);
  expect(Math.abs(actual.probability - expected.probability), `${label} probability ${actual.probability} vs ${expected.probability}`)
    .toBeLessThanOrEqual(1e-4 * Math.abs(expected.probability) + 1e-12);
}

describe("medianFilter", () => {
  for (const c of fx.median_filter)
    it(`matches openai's median_filter: ${c.name}`, () => {
      expectClose(medianFilter(fromRef(c.x), c.width), c.expected, { rtol: 0, atol: 0 });
    });

  it("keeps a constant row and takes the middle of each window", () => {
    expect(medianFilter(tc.tensor([2, 2, 2, 2, 2]), 3).tolist()).toEqual([2, 2, 2, 2, 2]);
    // reflect: [1 | 5 1 3 | 1] -> medians of (1,5,1) (5,1,3) (1,3,1)
    expect(medianFilter(tc.tensor([5, 1, 3]), 3).tolist()).toEqual([1, 3, 1]);
  });

  it("rejects bad widths", () => {
    expect(() => medianFilter(tc.tensor([1, 2, 3]), 4)).toThrow("medianFilter: filterWidth must be a positive odd integer, got 4");
    expect(() => medianFilter(tc.tensor([1, 2, 3]), 0)).toThrow("medianFilter: filterWidth must be a positive odd integer, got 0");
    expect(() => medianFilter(tc.scalar(1), 3)).toThrow("medianFilter: x must have at least one dimension, got a scalar");
  });
});

describe("dtw", () => {
  for (const c of fx.dtw)
    it(`matches openai's dtw_cpu path: ${c.name}`, () => {
      const [n, m] = c.x.shape;
      const data = c.x.data as number[];
      const rows = Array.from({ length: n }, (_, i) => data.slice(i * m, (i + 1) * m));
      const path = dtw(rows);
      expect(path.textIndices).toEqual(c.text_indices);
      expect(path.timeIndices).toEqual(c.time_indices);
      expect(path.textIndices[0]).toBe(0);
      expect(path.timeIndices[path.timeIndices.length - 1]).toBe(m - 1);
    });

  it("takes a Tensor too", () => {
    const c = fx.dtw.find((d) => d.name === "ties012") as Fixture["dtw"][number]; // integers: exact in float32
    const path = dtw(tc.tensor(c.x.data as number[], { shape: c.x.shape, dtype: "float32" }));
    expect(path.textIndices).toEqual(c.text_indices);
    expect(path.timeIndices).toEqual(c.time_indices);
  });

  it("rejects bad matrices", () => {
    expect(() => dtw(tc.tensor([1, 2, 3]))).toThrow("dtw: x must be 2-D [tokens, frames], got shape [3]");
    expect(() => dtw([[1, 2], [3]])).toThrow("dtw: every row of x must have the same length");
    expect(() => dtw([])).toThrow("dtw: expected a non-empty [n, m] cost matrix, got 0 values for [0, 0]");
  });
});

describe("mergePunctuations", () => {
  for (const c of fx.merge_punctuations)
    it(`matches openai's merge_punctuations: ${c.name}`, () => {
      const alignment = c.alignment.map((w) => ({ ...w, tokens: [...w.tokens] }));
      mergePunctuations(alignment, c.prepended, c.appended);
      expect(alignment).toEqual(c.expected);
    });
});

describe("round2", () => {
  it("rounds as Python's round(x, 2), ties to even", () => {
    expect([0.125, 0.375, 2.625, 1.005, 0.014999, 15.06 + 0.02].map(round2)).toEqual([0.12, 0.38, 2.62, 1, 0.01, 15.08]);
  });
});

describe("findAlignment", () => {
  it("reads the fixture's alignment heads", () => {
    expect(alignmentHeads).toEqual(fx.alignment_heads);
  });

  for (const c of fx.find_alignment)
    it(`matches openai's find_alignment: ${c.language} "${c.text}" (${c.num_frames} frames)`, async () => {
      const tok = tokenizer(c.language);
      expect(tok.encode(c.text)).toEqual(c.text_tokens);
      const words = await findAlignment(model, tok, c.text_tokens, features, c.num_frames, { alignmentHeads });
      expect(words.map((w) => w.word)).toEqual(c.words.map((w) => w.word));
      words.forEach((w, i) => {
        expect(w.tokens).toEqual(c.words[i].tokens);
        expectWord(w, c.words[i], `word ${i}`);
      });
    });

  it("returns no words for no text", async () => {
    expect(await findAlignment(model, tokenizer("en"), [], features, 32, { alignmentHeads })).toEqual([]);
  });

  it("rejects bad inputs", async () => {
    const tok = tokenizer("en");
    const call = (tokens: number[], feats: tc.Tensor, numFrames: number, heads: [number, number][] = alignmentHeads) =>
      findAlignment(model, tok, tokens, feats, numFrames, { alignmentHeads: heads });
    await expect(call([1, tok.eot], features, 32)).rejects.toThrow(`findAlignment: text tokens must be integers from 0 to ${tok.eot - 1} (below <|endoftext|>), got ${tok.eot}`);
    await expect(call(Array(20).fill(1), features, 32)).rejects.toThrow("findAlignment: 25 tokens (with the start sequence) exceed the text context of 24");
    await expect(call([1], tc.zeros([1, 8, 8]), 32)).rejects.toThrow("findAlignment: audioFeatures must be [1, 16, 8], got [1, 8, 8]");
    await expect(call([1], features, 1)).rejects.toThrow("findAlignment: numFrames must be an integer of at least 2 (mel frames of the window), got 1");
    await expect(call([1], features, 32, [])).rejects.toThrow("findAlignment: alignmentHeads must be a non-empty list of [layer, head] pairs");
    await expect(call([1], features, 32, [[2, 0]])).rejects.toThrow("findAlignment: alignment head [2,0] is not a [layer, head] pair within 2 layers and 2 heads");
  });
});

// gen_whisper_timing.py's hash_mel, channels-last [1, frames, nMels]: element i is
// ((i * 2654435761) mod 2^32) / 2^31 - 1 in float32.
function hashMel(frames: number, mels: number): tc.Tensor {
  const v = new Float32Array(frames * mels);
  for (let i = 0; i < v.length; i++) v[i] = (Math.imul(i, 2654435761 | 0) >>> 0) / 2 ** 31 - 1;
  return tc.tensor(v, { shape: [1, frames, mels] });
}

describe("addWordTimestamps", () => {
  const segmentOf = (s: SegmentRef, id: number): Segment => ({
    id, seek: s.seek, start: s.start, end: s.end, text: "", tokens: [...s.tokens], temperature: 0, avgLogprob: 0, compressionRatio: 1, noSpeechProb: 0,
  });
  const long = loadWhisperModel(join(fixturesDir, "whisper", "models", fx.add_word_timestamps_30s.model), { dtype: "float32" });
  const longFeatures = long.model.embedAudio(hashMel(2 * long.dims.n_audio_ctx, long.dims.n_mels));
  const runs = [
    ...fx.add_word_timestamps.map((c) => ({ c, w: loaded, feats: features, label: "" })),
    ...fx.add_word_timestamps_30s.cases.map((c) => ({ c, w: long, feats: longFeatures, label: " (30 s window)" })),
  ];

  for (const { c, w, feats, label } of runs)
    it(`matches openai's add_word_timestamps: ${c.name}${label}`, async () => {
      const segments = c.segments.map(segmentOf);
      const last = await addWordTimestamps({
        segments, model: w.model, tokenizer: tokenizer("en"), audioFeatures: feats, numFrames: c.num_frames,
        alignmentHeads: w.alignmentHeads, lastSpeechTimestamp: c.last_speech_timestamp,
        prependPunctuations: c.prepend, appendPunctuations: c.append,
      });
      expect(last).toBe(c.new_last_speech_timestamp);
      segments.forEach((s, i) => {
        const e = c.expected[i];
        expect(s.start, `segment ${i} start`).toBeCloseTo(e.start, 9);
        expect(s.end, `segment ${i} end`).toBeCloseTo(e.end, 9);
        expect(s.words?.map((w) => w.word)).toEqual(e.words.map((w) => w.word));
        s.words?.forEach((w, j) => expectWord(w, e.words[j], `segment ${i} word ${j}`));
      });
    });

  it("leaves no segments alone and rejects a bad last speech timestamp", async () => {
    const base = { model, tokenizer: tokenizer("en"), audioFeatures: features, numFrames: 32, alignmentHeads };
    expect(await addWordTimestamps({ ...base, segments: [], lastSpeechTimestamp: 3 })).toBe(3);
    await expect(addWordTimestamps({ ...base, segments: [], lastSpeechTimestamp: NaN }))
      .rejects.toThrow("addWordTimestamps: lastSpeechTimestamp must be a number (seconds), got NaN");
  });
});
