// decode() / detectLanguage() against openai-whisper's decode on small random checkpoints
// (fixtures from tools/reference/gen_whisper_decode.py, which checks every decision has a clear margin).
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { fixturesDir, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";
import { compressionRatio, decode, detectLanguage } from "../src/decoding/index.js";
import { loadWhisperModel } from "../src/model/index.js";
import type { Whisper } from "../src/model/index.js";
import { getTokenizer } from "../src/tokenizer.js";
import type { WhisperTokenizer } from "../src/tokenizer.js";
import type { DecodingOptions, DecodingResult } from "../src/types.js";

interface OpenaiResult {
  tokens: number[];
  text: string;
  avg_logprob: number;
  no_speech_prob: number;
  compression_ratio: number;
  language: string;
  language_probs: Record<string, number> | null;
  temperature: number;
}
interface Case {
  options: Record<string, unknown>;
  batch: number | null;
  results: OpenaiResult[];
}
interface Refs {
  mel: RefArray;
  tiny_mel: RefArray;
  cases: Record<string, Case>;
  tiny: Record<string, Case>;
  detect_language: { language_tokens: number[]; language_probs: Record<string, number>[] };
  transformers: Record<string, { kwargs: Record<string, unknown>; sequences: number[][] }>;
}

const refs = loadFixture<Refs>("whisper/decoding/reference.json");
const models = join(fixturesDir, "whisper", "models");
// openai's mels are [batch, n_mels, frames]; ours are channels-last.
const mels = tc.transpose(fromRef(refs.mel), [0, 2, 1]);
const firstMel = tc.index(mels, [0, 1]);
const tinyMel = tc.transpose(fromRef(refs.tiny_mel), [0, 2, 1]);

// openai's option names -> ours.
function optionsOf(o: Record<string, unknown>): DecodingOptions {
  const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [camel(k), v])) as DecodingOptions;
}

const closeRatio = (a: number, b: number) => a === b;

function expectSame(actual: DecodingResult[], expected: OpenaiResult[], label: string) {
  expect(actual.length, label).toBe(expected.length);
  actual.forEach((r, i) => {
    const e = expected[i];
    const l = `${label}[${i}]`;
    expect(r.tokens, l).toEqual(e.tokens);
    expect(r.text, l).toBe(e.text);
    expect(r.language, l).toBe(e.language);
    expect(Math.abs(r.avgLogprob - e.avg_logprob), `${l} avgLogprob ${r.avgLogprob} vs ${e.avg_logprob}`).toBeLessThan(1e-3);
    expect(Math.abs(r.noSpeechProb - e.no_speech_prob), `${l} noSpeechProb`).toBeLessThan(1e-3);
    // Exactly: pako deflates as Python's zlib does.
    expect(closeRatio(r.compressionRatio, e.compression_ratio), `${l} compressionRatio ${r.compressionRatio} vs ${e.compression_ratio}`).toBe(true);
    expect(r.temperature, l).toBe(e.temperature);
    // openai's decode() drops the detected probabilities; ours keeps them (those of detect_language).
    const probs = e.language_probs ?? (r.languageProbs ? refs.detect_language.language_probs[i] : null);
    if (probs) {
      // openai orders its dict by its special-token table; compare as sets.
      expect(Object.keys(r.languageProbs ?? {}).sort(), l).toEqual(Object.keys(probs).sort());
      for (const [c, p] of Object.entries(probs)) expect(Math.abs((r.languageProbs ?? {})[c] - p), `${l} ${c}`).toBeLessThan(1e-3);
    } else expect(r.languageProbs, l).toBeUndefined();
  });
}

let model: Whisper;
let tokenizer: WhisperTokenizer;
beforeAll(() => {
  model = loadWhisperModel(join(fixturesDir, "whisper", "decoding", "dec-hf"), { dtype: "float32" }).model;
  tokenizer = getTokenizer({ multilingual: true });
});

describe("decode vs openai-whisper", () => {
  for (const [name, c] of Object.entries(refs.cases)) {
    it(name, async () => {
      const mel = c.batch === 1 ? firstMel : mels;
      expectSame(await decode(model, tokenizer, mel, optionsOf(c.options)), c.results, name);
    });
  }

  it("a 2-D mel gives one result, as its batch row does", async () => {
    const r = await decode(model, tokenizer, tc.index(mels, 0), { language: "en" });
    expectSame(r, refs.cases.greedy.results.slice(0, 1), "2-D");
    expect(r[0].audioFeatures.shape).toEqual([model.dims.n_audio_ctx, model.dims.n_audio_state]);
  });

  it("audio features instead of a mel", async () => {
    const features = model.embedAudio(mels);
    expectSame(await decode(model, tokenizer, features, { language: "en", beamSize: 5 }), refs.cases.beam5.results, "features");
  });

  it("detectLanguage", async () => {
    const r = await detectLanguage(model, tokenizer, mels);
    expect(r.languageTokens).toEqual(refs.detect_language.language_tokens);
    r.languageProbs.forEach((p, i) => {
      for (const [c, v] of Object.entries(refs.detect_language.language_probs[i])) expect(Math.abs(p[c] - v)).toBeLessThan(1e-4);
    });
  });
});

describe("decode vs transformers' generate", () => {
  // Greedy decoding: transformers' WhisperForConditionalGeneration.generate on the same model and
  // mels (start sequence removed). Without timestamps transformers runs on to max_length 64 where
  // openai-whisper (and we) stop at sample_len = n_text_ctx / 2: the first sampleLen tokens agree.
  // Beam search differs by design (transformers scores and stops beams otherwise: see gen_whisper_decode.py).
  it("greedy with timestamps: the same sequences", async () => {
    const r = await decode(model, tokenizer, mels, { language: "en" });
    expect(r.map((x) => x.tokens)).toEqual(refs.transformers.greedy.sequences.map((s) => s.filter((t) => t !== tokenizer.eot)));
  });

  it("greedy without timestamps: the same first sampleLen tokens", async () => {
    const r = await decode(model, tokenizer, mels, { language: "en", withoutTimestamps: true });
    const n = model.dims.n_text_ctx / 2;
    r.forEach((x, i) => {
      expect(x.tokens.length).toBe(n);
      expect(x.tokens).toEqual(refs.transformers.no_timestamps.sequences[i].slice(0, n));
    });
  });
});

describe("the same tiny model in three layouts", () => {
  for (const file of ["tiny-hf", "tiny-mlx", "tiny-ggml.bin"]) {
    it(file, async () => {
      const m = loadWhisperModel(join(models, file), { dtype: "float32" }).model;
      for (const name of ["greedy", "no_timestamps"]) {
        const c = refs.tiny[name];
        expectSame(await decode(m, tokenizer, tinyMel, optionsOf(c.options)), c.results, `${file} ${name}`);
      }
    });
  }
});

describe("sampling", () => {
  it("is reproducible per seed, and bestOf keeps the best-ranked sample", async () => {
    const a = await decode(model, tokenizer, mels, { language: "en", temperature: 0.8, seed: 5 });
    const b = await decode(model, tokenizer, mels, { language: "en", temperature: 0.8, seed: 5 });
    const c = await decode(model, tokenizer, mels, { language: "en", temperature: 0.8, seed: 6 });
    expect(a.map((r) => r.tokens)).toEqual(b.map((r) => r.tokens));
    expect(a.map((r) => r.tokens)).not.toEqual(c.map((r) => r.tokens));
    expect(a[0].temperature).toBe(0.8);
    // Near-zero temperature samples the argmax.
    const cold = await decode(model, tokenizer, firstMel, { language: "en", temperature: 1e-6 });
    expect(cold[0].tokens).toEqual(refs.cases.greedy.results[0].tokens);
    const best = await decode(model, tokenizer, firstMel, { language: "en", temperature: 1, bestOf: 3, seed: 1 });
    const score = (r: DecodingResult) => (r.avgLogprob * (r.tokens.length + 1)) / r.tokens.length;
    // The three candidates are the first three draws of seed 1, one row each.
    const rows = await decode(model, tokenizer, firstMel, { language: "en", temperature: 1, bestOf: 1, seed: 1 });
    expect(score(best[0])).toBeGreaterThanOrEqual(score(rows[0]) - 1e-9);
  });
});

describe("compressionRatio", () => {
  it("matches Python's zlib.compress", () => {
    // Byte for byte: pako's deflate is zlib's reference algorithm, as Python links it.
    for (const c of Object.values(refs.cases)) for (const r of c.results) expect(compressionRatio(r.text), r.text).toBe(r.compression_ratio);
    expect(compressionRatio("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")).toBeCloseTo(40 / 12, 12); // len(zlib.compress(b"a" * 40)) == 12
    expect(compressionRatio("hello hello hello hello world")).toBeCloseTo(29 / 21, 12);
    expect(compressionRatio("")).toBe(0);
  });
});

describe("bad input", () => {
  it("rejects wrong shapes and options with openai's messages", async () => {
    await expect(decode(model, tokenizer, tc.zeros([1, 100, 80]))).rejects.toThrow(
      "decode: expected a mel spectrogram [batch?, 200, 80] (frames, mel bins) or audio features [batch?, 100, 8], got [1, 100, 80]");
    await expect(detectLanguage(model, tokenizer, tc.zeros([80, 200]))).rejects.toThrow("detectLanguage: expected a mel spectrogram");
    await expect(decode(model, tokenizer, firstMel, { language: "klingon" })).rejects.toThrow("Unsupported language: 'klingon'");
    await expect(decode(model, tokenizer, firstMel, { beamSize: 2, bestOf: 2, temperature: 0.5 })).rejects.toThrow("beamSize and bestOf can't be given together");
    await expect(decode(model, tokenizer, firstMel, { bestOf: 2 })).rejects.toThrow("bestOf with greedy sampling (temperature 0) is not compatible");
    await expect(decode(model, tokenizer, firstMel, { patience: 2 })).rejects.toThrow("patience requires beamSize to be given");
    await expect(decode(model, tokenizer, firstMel, { lengthPenalty: 2 })).rejects.toThrow("lengthPenalty (alpha) should be a value between 0 and 1");
    await expect(decode(model, tokenizer, firstMel, { beamSize: 0 })).rejects.toThrow("beamSize must be a positive integer, got 0");
    await expect(decode(model, tokenizer, firstMel, { beamSize: 2, patience: 0.1 })).rejects.toThrow("Invalid beam size (2) or patience (0.1)");
    await expect(decode(model, tokenizer, firstMel, { temperature: -1 })).rejects.toThrow("temperature must be a finite number >= 0, got -1");
    await expect(decode(model, tokenizer, firstMel, { suppressTokens: "1,x" })).rejects.toThrow("suppressTokens: 'x' is not an integer token id");
    await expect(decode(model, tokenizer, firstMel, { prompt: [1, 99999] })).rejects.toThrow("prompt and prefix tokens must be integers in [0, 51865), got 99999");
    await expect(decode(model, tokenizer, firstMel, { language: "en", prefix: Array.from({ length: 70 }, () => 100) })).rejects.toThrow(
      "the start sequence, prompt and prefix take 73 tokens, more than the text context of 64");
  });

  it("keeps the last n_text_ctx / 2 - 1 prompt tokens, as openai does", async () => {
    const c = refs.cases.prompt_long;
    const prompt = c.options.prompt as number[];
    expect(prompt.length).toBeGreaterThan(31);
    const r = await decode(model, tokenizer, firstMel, { language: "en", prompt: prompt.slice(-31) });
    expect(r[0].tokens).toEqual(c.results[0].tokens);
  });

  it("an English-only model cannot detect the language", async () => {
    const en = loadWhisperModel(join(models, "en128-hf"), { dtype: "float32" }).model;
    const enTok = getTokenizer({ multilingual: false });
    await expect(detectLanguage(en, enTok, tc.zeros([24, 128]))).rejects.toThrow("This model doesn't have language tokens so it can't perform lang id");
    const r = await decode(en, enTok, tc.zeros([24, 128]), { language: "en", withoutTimestamps: true });
    expect(r[0].language).toBe("en");
    expect(r[0].languageProbs).toBeUndefined();
  });
});
