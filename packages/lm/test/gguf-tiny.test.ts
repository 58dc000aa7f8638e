// GGUF files of the tiny random-weight checkpoints, made as llama.cpp users make them
// (tools/reference/gen_lm_gguf_tiny.py: convert_hf_to_gguf.py for F16, llama_model_quantize for
// Q8_0 / Q4_0 / Q4_K_M): the F16 files read back to the checkpoints' own tensors (llama's q/k
// permutation and Gemma's 1 + norm undone), and every file gives llama-cpp-python's greedy tokens
// (up to near-ties).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { abs, io, max, subtract } from "@tessera/core";
import { fixturesDir, loadFixture } from "../../../test/helpers/reference.js";
import { Tokenizer, generateTokens, loadModelFromGguf, readGgufCheckpoint } from "../src/index.js";

interface TinyRef {
  tokenize: Record<string, { text: string; ids: number[] }[]>;
  files: Record<string, { arch: string; type: string; prompt: number[]; tokens: number[]; margins: number[] }>;
}

const ref = loadFixture<TinyRef>("lm/gguf/reference.json");
const file = (name: string) => join(fixturesDir, "lm", "gguf", name);

describe("tiny GGUF checkpoints", () => {
  for (const [name, r] of Object.entries(ref.files).filter(([, r]) => r.type === "F16")) {
    it(`${name} reads back to the checkpoint's tensors and config`, () => {
      const ck = readGgufCheckpoint(file(name));
      const hf = io.loadWeights(join(fixturesDir, "lm", r.arch)).tensors;
      expect([...ck.weights.keys()].sort()).toEqual([...hf.keys()].sort());
      expect(ck.ggmlTypes.size).toBe(0);
      for (const [k, t] of hf) {
        const diff = max(abs(subtract(ck.weights.get(k)!.astype("float32"), t.astype("float32")))).item() as number;
        // convert_hf_to_gguf.py adds Gemma's 1 to float16 norms in float16: within half an ulp of 1.
        const tol = r.arch.startsWith("gemma") && k.endsWith("norm.weight") ? 2 ** -11 : 0;
        if (diff > tol) expect.fail(`${name}: ${k} differs by ${diff}`);
      }
      const hfConfig = JSON.parse(readFileSync(join(fixturesDir, "lm", r.arch, "config.json"), "utf8")) as Record<string, unknown>;
      // llama.cpp converts Mistral to its llama architecture (no sliding window), and so it reads back.
      expect(ck.config.model_type).toBe(r.arch === "mistral" ? "llama" : hfConfig.model_type);
      for (const k of ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps", "vocab_size", "tie_word_embeddings"])
        expect(ck.config[k], k).toEqual(hfConfig[k]);
    });
  }

  for (const [name, cases] of Object.entries(ref.tokenize)) {
    it(`${name}: the byte-level BPE tokenizer built from the vocabulary tokenizes as llama.cpp does`, () => {
      const ck = readGgufCheckpoint(file(name));
      expect(ck.tokenizerJson.model.type).toBe("BPE");
      const tok = Tokenizer.fromJson(ck.tokenizerJson, { config: ck.tokenizerConfig });
      const bad = cases.filter((c) => JSON.stringify(tok.encode(c.text, { addSpecialTokens: false })) !== JSON.stringify(c.ids));
      expect(bad.map((c) => `${JSON.stringify(c.text)}: ${JSON.stringify(tok.encode(c.text, { addSpecialTokens: false }))} vs ${JSON.stringify(c.ids)}`)).toEqual([]);
    });
  }

  // Random tiny models have near-ties everywhere (llama.cpp's top-1/top-2 margins down to 0.002):
  // llama.cpp and this library round activations differently (ggml: float16 x for F16 weights,
  // float16 Q8_0 scales), so tokens are compared up to llama.cpp's first margin below TIE, and
  // teacher-forced on llama.cpp's tokens at every step where its margin is at least TIE. Measured:
  // every disagreement was at a llama.cpp margin of 0.084 or less.
  const TIE = 0.1;
  for (const [name, r] of Object.entries(ref.files)) {
    it(`${name}: greedy tokens equal llama.cpp's up to near-ties`, async () => {
      const { model, checkpoint } = loadModelFromGguf(file(name));
      if (r.type !== "F16") expect(checkpoint.ggmlTypes.size).toBeGreaterThan(0);
      const first = r.margins.findIndex((m) => m < TIE);
      const upTo = first < 0 ? r.tokens.length : first;
      const free = await generateTokens(model, r.prompt, { maxTokens: upTo });
      expect(free.tokens).toEqual(r.tokens.slice(0, upTo));
      const bad: string[] = [];
      let clear = 0;
      await generateTokens(model, r.prompt, { maxTokens: r.tokens.length, sample: (l, history) => {
        const s = history.length - r.prompt.length;
        let best = 0;
        for (let i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
        if (r.margins[s] >= TIE && (clear++, best !== r.tokens[s])) bad.push(`step ${s}: ${best} vs ${r.tokens[s]} (margin ${r.margins[s]})`);
        return r.tokens[s];
      } });
      expect(bad).toEqual([]);
      expect(clear).toBeGreaterThanOrEqual(8);
    });
  }
});
