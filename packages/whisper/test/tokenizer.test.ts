import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LANGUAGES, WhisperTokenizer, getTokenizer, languageCode, loadTokenizer, whisperSpecialTokens } from "@tessera/whisper";
import type { TokenizerOptions } from "@tessera/whisper";
import { fixturesDir, loadFixture } from "../../../test/helpers/reference.js";

interface TokenizerInfo {
  config: { multilingual: boolean; num_languages?: number; language?: string; task?: "transcribe" | "translate" };
  n_vocab: number;
  specials: Record<string, number>;
  sot_sequence: number[];
  sot_sequence_including_notimestamps: number[];
  non_speech_tokens: number[];
  all_language_codes: string[];
  all_language_tokens: number[];
  encode: number[][];
  encode_special: number[][];
}
interface Fixture {
  strings: string[];
  special_strings: string[];
  tokenizers: Record<string, TokenizerInfo>;
  decode: { ids: number[]; decode: string; decode_with_timestamps: string };
  split_to_word_tokens: { language: string; tokens: number[]; words: string[]; word_tokens: number[][] }[];
  language_aliases: Record<string, string>;
}
const fx = loadFixture<Fixture>("whisper/tokenizer.json");

const options = (c: TokenizerInfo["config"]): TokenizerOptions => ({
  multilingual: c.multilingual, numLanguages: c.num_languages, language: c.language, task: c.task,
});
const tokenizers = new Map<string, WhisperTokenizer>();
function tok(name: string): WhisperTokenizer {
  if (!tokenizers.has(name)) tokenizers.set(name, getTokenizer(options(fx.tokenizers[name].config)));
  return tokenizers.get(name)!;
}

/** What every Whisper tokenizer must agree with openai-whisper's on. */
function expectSameAsReference(t: WhisperTokenizer, ref: TokenizerInfo): void {
  expect(t.encoding.nVocab).toBe(ref.n_vocab);
  for (const [text, id] of Object.entries(ref.specials)) expect(t.specialTokens.get(text), text).toBe(id);
  expect([t.eot, t.sot, t.translate, t.transcribe, t.sotLm, t.sotPrev, t.noSpeech, t.noTimestamps, t.timestampBegin]).toEqual(
    ["<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
      "<|notimestamps|>", "<|0.00|>"].map((s) => ref.specials[s]),
  );
  expect(t.sotSequence).toEqual(ref.sot_sequence);
  expect(t.sotSequenceIncludingNotimestamps).toEqual(ref.sot_sequence_including_notimestamps);
  // openai-whisper lists them in the order of a Python set (varies per process); ours is id order.
  const pairs = (ids: number[], codes: string[]) => ids.map((id, i) => `${id}:${codes[i]}`).sort();
  expect(pairs(t.allLanguageTokens, t.allLanguageCodes)).toEqual(pairs(ref.all_language_tokens, ref.all_language_codes));
  expect(t.allLanguageTokens).toEqual([...t.allLanguageTokens].sort((a, b) => a - b));
  expect(t.nonSpeechTokens).toEqual(ref.non_speech_tokens);
  fx.strings.forEach((s, i) => expect(t.encode(s), JSON.stringify(s)).toEqual(ref.encode[i]));
  fx.special_strings.forEach((s, i) => expect(t.encode(s, { allowedSpecial: "all" }), s).toEqual(ref.encode_special[i]));
}

describe("tiktoken vocabularies match openai-whisper's tokenizer", () => {
  for (const name of Object.keys(fx.tokenizers)) {
    it(name, () => {
      const t = tok(name);
      expectSameAsReference(t, fx.tokenizers[name]);
      fx.strings.forEach((s) => expect(t.decode(t.encode(s))).toBe(s));
    });
  }

  it("decode drops timestamps, decodeWithTimestamps writes them", () => {
    const t = tok("multilingual");
    expect(t.decode(fx.decode.ids)).toBe(fx.decode.decode);
    expect(t.decodeWithTimestamps(fx.decode.ids)).toBe(fx.decode.decode_with_timestamps);
  });

  it("split_to_word_tokens: spaces, punctuation, and unicode boundaries for ja/zh", () => {
    for (const c of fx.split_to_word_tokens) {
      const t = new WhisperTokenizer(tok("multilingual").encoding, 99, c.language, "transcribe");
      const { words, wordTokens } = t.splitToWordTokens(c.tokens);
      expect(words, c.language).toEqual(c.words);
      expect(wordTokens, c.language).toEqual(c.word_tokens);
    }
  });

  it("languages: 100 codes in token order, names and aliases", () => {
    expect(Object.keys(LANGUAGES).length).toBe(100);
    expect(Object.keys(LANGUAGES).at(-1)).toBe("yue");
    for (const [name, code] of Object.entries(fx.language_aliases)) expect(languageCode(name)).toBe(code);
    expect(languageCode("EN")).toBe("en");
    expect(() => languageCode("klingon")).toThrow("Unsupported language: 'klingon'");
    expect(whisperSpecialTokens(99).length).toBe(2 + 99 + 6 + 1501);
  });
});

describe("Hugging Face tokenizer.json (openai/whisper-* layout)", () => {
  const folder = join(fixturesDir, "whisper", "hf_tokenizer");

  it("gives the same ids as the tiktoken vocabulary, timestamps included", () => {
    const hf = loadTokenizer(folder);
    const ref = tok("multilingual");
    expect(hf.sotSequence).toEqual(ref.sotSequence);
    expect(hf.numLanguages).toBe(99);
    fx.strings.forEach((s, i) => expect(hf.encode(s), s).toEqual(fx.tokenizers.multilingual.encode[i]));
    fx.special_strings.forEach((s, i) => expect(hf.encode(s, { allowedSpecial: "all" }), s).toEqual(fx.tokenizers.multilingual.encode_special[i]));
    expect(hf.decodeWithTimestamps(fx.decode.ids)).toBe(fx.decode.decode_with_timestamps);
    for (const [text, id] of ref.specialTokens) expect(hf.specialTokens.get(text), text).toBe(id);
    const ja = loadTokenizer(folder, { language: "japanese", task: "translate" });
    expect(ja.sotSequence).toEqual(fx.tokenizers.multilingual_ja_translate.sot_sequence);
  });

  it("errors name the folder or file", () => {
    const notHf = join(fixturesDir, "whisper", "tokenizer.json"); // our fixture, not a Hugging Face file
    expect(() => loadTokenizer(join(fixturesDir, "whisper"))).toThrow(`'${notHf}' does not hold a BPE model with vocab and merges (model.type: undefined)`);
    expect(() => loadTokenizer(join(fixturesDir, "whisper", "audio"))).toThrow(`no tokenizer.json in '${join(fixturesDir, "whisper", "audio")}'`);
  });
});

describe("bad input", () => {
  it("special-token text is refused unless allowed, as tiktoken", () => {
    const t = tok("multilingual");
    expect(() => t.encode("hi <|endoftext|>")).toThrow(
      "the text contains the special token '<|endoftext|>'; pass it in allowedSpecial to encode it as a special token, or disallowedSpecial: [] to encode it as plain text",
    );
    expect(t.encode("hi <|endoftext|>", { allowedSpecial: ["<|endoftext|>"] })).toEqual([...t.encode("hi "), t.eot]);
    expect(t.encode("<|endoftext|>", { disallowedSpecial: [] })).toEqual(t.encode("<|", { disallowedSpecial: [] }).concat(t.encode("endoftext|>")));
  });

  it("unknown ids, languages and options", () => {
    const t = tok("multilingual");
    expect(() => t.decodeWithTimestamps([60000])).toThrow("token id 60000 is not in the vocabulary (0..51864)");
    expect(t.decode([60000])).toBe(""); // decode() drops ids from timestampBegin up, as openai-whisper's
    expect(() => getTokenizer({ multilingual: true, language: "yue" })).toThrow("language 'yue' is not among this model's 99 languages");
    expect(() => getTokenizer({ multilingual: true, task: "summarize" as "translate" })).toThrow('task must be "transcribe" or "translate", got \'summarize\'');
    expect(() => getTokenizer({ multilingual: true, numLanguages: 101 })).toThrow("numLanguages must be an integer from 1 to 100, got 101");
    expect(() => getTokenizer({ multilingual: true, assetsDir: "/nonexistent" })).toThrow("cannot read the tiktoken vocabulary '/nonexistent/multilingual.tiktoken'");
    expect(() => tok("gpt2").languageToken).toThrow("This tokenizer does not have language token configured");
    expect(() => t.toLanguageToken("xx")).toThrow("Language xx not found in tokenizer.");
  });
});
