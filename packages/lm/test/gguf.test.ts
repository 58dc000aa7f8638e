// GGUF -> Hugging Face checkpoint pieces without real weights: llama.cpp's q/k permutation undone,
// merges implied by a SentencePiece vocabulary, Gemma's norm shift, llama3 rope scaling from
// rope_freqs, and bad files rejected with errors naming the file and the problem.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixturesDir } from "../../../test/helpers/reference.js";
import { readGgufCheckpoint } from "../src/index.js";
import { llama3RopeScaling } from "../src/gguf/config.js";
import { hfTensor, unpermuteRows } from "../src/gguf/names.js";
import { mergesFromScores } from "../src/gguf/tokenizer.js";
import { ggufBytes } from "./gguf-writer.js";
import type { MetaValue } from "./gguf-writer.js";

/** llama.cpp's LlamaModel.permute on row indices: reshape(h, 2, d/2).swapaxes(1, 2).reshape. */
function llamaPermute(rows: number[], heads: number): number[] {
  const d = rows.length / heads, out: number[] = [];
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < d / 2; i++)
      for (let j = 0; j < 2; j++) out.push(rows[h * d + j * (d / 2) + i]);
  return out;
}

describe("tensor names and layouts", () => {
  it("unpermuteRows inverts llama.cpp's rope permutation of q and k rows", () => {
    for (const [rows, heads] of [[64, 4], [32, 2], [8, 1], [48, 3]]) {
      const hf = Array.from({ length: rows }, (_, i) => i);
      const gguf = llamaPermute(hf, heads);
      expect(gguf).not.toEqual(hf);
      const idx = unpermuteRows(rows, heads);
      expect(Array.from(idx, (g) => gguf[g])).toEqual(hf);
    }
    expect(() => unpermuteRows(12, 4)).toThrow("12 rows are not 4 heads of an even size");
  });

  it("maps llama.cpp names to HF keys per architecture", () => {
    const m = (name: string, arch: string) => hfTensor(name, arch, 8, 2);
    expect(m("token_embd.weight", "llama")).toEqual({ key: "model.embed_tokens.weight" });
    expect(m("output.weight", "qwen2")).toEqual({ key: "lm_head.weight" });
    expect(m("blk.3.attn_q.weight", "llama")).toEqual({ key: "model.layers.3.self_attn.q_proj.weight", unpermuteHeads: 8 });
    expect(m("blk.3.attn_k.bias", "llama")).toEqual({ key: "model.layers.3.self_attn.k_proj.bias", unpermuteHeads: 2 });
    expect(m("blk.3.attn_q.weight", "qwen3")).toEqual({ key: "model.layers.3.self_attn.q_proj.weight" });
    expect(m("blk.0.ffn_norm.weight", "llama")).toEqual({ key: "model.layers.0.post_attention_layernorm.weight" });
    expect(m("blk.0.ffn_norm.weight", "gemma3")).toEqual({ key: "model.layers.0.pre_feedforward_layernorm.weight", unshiftNorm: true });
    expect(m("blk.0.post_attention_norm.weight", "gemma3")).toEqual({ key: "model.layers.0.post_attention_layernorm.weight", unshiftNorm: true });
    expect(m("blk.0.post_ffw_norm.weight", "gemma2")).toEqual({ key: "model.layers.0.post_feedforward_layernorm.weight", unshiftNorm: true });
    expect(m("blk.0.attn_q_norm.weight", "gemma3")).toEqual({ key: "model.layers.0.self_attn.q_norm.weight", unshiftNorm: true });
    expect(m("blk.0.attn_q_norm.weight", "qwen3")).toEqual({ key: "model.layers.0.self_attn.q_norm.weight" });
    expect(m("output_norm.weight", "gemma")).toEqual({ key: "model.norm.weight", unshiftNorm: true });
    expect(m("blk.0.post_ffw_norm.weight", "llama")).toBeUndefined();
    expect(m("blk.0.ffn_gate_exps.weight", "llama")).toBeUndefined();
  });
});

describe("SentencePiece merges from scores", () => {
  it("lists every split into two tokens, best merged score first, longer left piece first", () => {
    const tokens = ["a", "b", "c", "ab", "bc", "abc", "é", "🙂", "é🙂"];
    const scores = [0, 0, 0, -1, -2, -3, 0, 0, -0.5];
    const vocab = new Map(tokens.map((t, i) => [t, i]));
    expect(mergesFromScores(tokens, scores, vocab)).toEqual([
      ["é", "🙂"], ["a", "b"], ["b", "c"], ["ab", "c"], ["a", "bc"],
    ]);
  });
});

describe("llama3 rope scaling from rope_freqs.weight", () => {
  // The divisors convert_hf_to_gguf.py writes for rope_type llama3 (LlamaModel.generate_extra_tensors).
  function divisors(base: number, dim: number, factor: number, orig: number): Float32Array {
    const out: number[] = [];
    for (let i = 0; i < dim; i += 2) {
      const wave = (2 * Math.PI) / Math.fround(1 / Math.fround(base ** (i / dim)));
      if (wave < orig / 4) out.push(1);
      else if (wave > orig) out.push(factor);
      else {
        const s = (orig / wave - 1) / 3;
        out.push(1 / ((1 - s) / factor + s));
      }
    }
    return Float32Array.from(out);
  }
  it("recovers Llama 3.1's and a tiny model's parameters", () => {
    expect(llama3RopeScaling(divisors(500000, 128, 8, 8192), 500000, 128, "f")).toEqual(
      { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 });
    expect(llama3RopeScaling(divisors(500000, 16, 8, 64), 500000, 16, "f").original_max_position_embeddings).toBe(64);
    expect(llama3RopeScaling(divisors(500000, 64, 32, 8192), 500000, 64, "f").factor).toBe(32);
    const odd = divisors(500000, 128, 8, 8192);
    odd[40] *= 1.1;
    expect(() => llama3RopeScaling(odd, 500000, 128, "f.gguf")).toThrow("f.gguf: rope_freqs.weight is not a llama3 rope scaling");
  });
});

describe("bad files", () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-gguf-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(fixturesDir, "io", "model.gguf");

  it("names an unsupported architecture and the supported ones", () => {
    expect(() => readGgufCheckpoint(src)).toThrow(
      /model\.gguf: GGUF architecture 'tessera-test' is not supported \(supported: llama, qwen2, qwen3, gemma, gemma2, gemma3\)/);
  });
  it("rejects truncated and non-GGUF files", () => {
    const b = readFileSync(src);
    const truncated = join(dir, "truncated.gguf");
    writeFileSync(truncated, b.subarray(0, 600));
    expect(() => readGgufCheckpoint(truncated)).toThrow(/readGgufCheckpoint: .*truncated\.gguf.*truncated GGUF header/);
    const text = join(dir, "notes.gguf");
    writeFileSync(text, "just some text, not a model");
    expect(() => readGgufCheckpoint(text)).toThrow(/notes\.gguf.*not a GGUF file/);
    const shortData = join(dir, "short.gguf");
    writeFileSync(shortData, b.subarray(0, b.length - 100));
    expect(() => readGgufCheckpoint(shortData)).toThrow(/short\.gguf.*tensor '.*' data/);
    expect(() => readGgufCheckpoint(join(dir, "missing.gguf"))).toThrow(/missing\.gguf/);
  });

  // A tiny llama-architecture file (2 heads of 4, vocabulary of 8) written here, then broken.
  const TOKENS = ["<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "ab"];
  const META: Record<string, MetaValue> = {
    "general.architecture": "llama", "llama.embedding_length": 8, "llama.block_count": 1, "llama.feed_forward_length": 16,
    "llama.attention.head_count": 2, "llama.attention.head_count_kv": 2, "llama.attention.layer_norm_rms_epsilon": { f32: 1e-5 },
    "llama.context_length": 64, "tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": TOKENS,
    "tokenizer.ggml.scores": { f32s: [0, 0, 0, -1, -2, -3, -4, -5] }, "tokenizer.ggml.token_type": [2, 3, 3, 1, 1, 1, 1, 1],
    "tokenizer.ggml.bos_token_id": 1, "tokenizer.ggml.eos_token_id": 2, "tokenizer.ggml.unknown_token_id": 0,
  };
  const TENSORS: Record<string, { shape: number[]; data?: Float32Array }> = {
    "token_embd.weight": { shape: [8, 8] }, "output_norm.weight": { shape: [8] },
    "blk.0.attn_norm.weight": { shape: [8] }, "blk.0.ffn_norm.weight": { shape: [8] },
    "blk.0.attn_q.weight": { shape: [8, 8], data: Float32Array.from({ length: 64 }, (_, i) => Math.floor(i / 8)) },
    "blk.0.attn_k.weight": { shape: [8, 8] }, "blk.0.attn_v.weight": { shape: [8, 8] }, "blk.0.attn_output.weight": { shape: [8, 8] },
    "blk.0.ffn_gate.weight": { shape: [16, 8] }, "blk.0.ffn_up.weight": { shape: [16, 8] }, "blk.0.ffn_down.weight": { shape: [8, 16] },
  };
  const write = (name: string, meta: Record<string, MetaValue>, tensors = TENSORS) => {
    const p = join(dir, name);
    writeFileSync(p, ggufBytes(meta, tensors));
    return p;
  };
  const without = (key: string) => Object.fromEntries(Object.entries(META).filter(([k]) => k !== key));

  it("reads a written llama file: config, permuted q rows undone, tokenizer with BOS", () => {
    const ck = readGgufCheckpoint(write("tiny.gguf", META));
    expect(ck.config).toMatchObject({ model_type: "llama", hidden_size: 8, head_dim: 4, rms_norm_eps: 1e-5, vocab_size: 8, tie_word_embeddings: true, rope_theta: 10000 });
    // Row r of the file's q holds the value r; HF row order per head of 4 is file rows 0, 2, 1, 3.
    const q = ck.weights.get("model.layers.0.self_attn.q_proj.weight")!.dataSync() as Float32Array;
    expect(Array.from({ length: 8 }, (_, r) => q[r * 8])).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    expect(ck.tokenizerConfig).toMatchObject({ bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", add_bos_token: true });
    expect(ck.tokenizerJson.model.merges).toEqual([["▁", "a"], ["a", "b"]]);
    expect(ck.tokenizerJson.post_processor).toMatchObject({ type: "TemplateProcessing" });
  });

  it("names what is missing or unsupported", () => {
    const cases: [string, Record<string, MetaValue>, RegExp, typeof TENSORS?][] = [
      ["no-heads", without("llama.attention.head_count"), /no metadata 'llama\.attention\.head_count'/],
      ["bad-eps", { ...META, "llama.attention.layer_norm_rms_epsilon": "small" }, /'llama\.attention\.layer_norm_rms_epsilon' must be a number, got "small"/],
      ["bert-vocab", { ...META, "tokenizer.ggml.model": "bert" }, /tokenizer\.ggml\.model 'bert' is not supported \(supported: llama, gpt2\)/],
      ["moe", { ...META, "llama.expert_count": 8 }, /mixture-of-experts GGUF files \(llama\.expert_count\) are not supported yet/],
      ["bos-past", { ...META, "tokenizer.ggml.bos_token_id": 99 }, /tokenizer\.ggml\.bos_token_id 99 is past the vocabulary \(8 tokens\)/],
      ["types", { ...META, "tokenizer.ggml.token_type": [1, 1] }, /tokenizer\.ggml\.token_type has 2 entries for 8 tokens/],
      ["gpt2-pre", { ...META, "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "exotic", "tokenizer.ggml.merges": ["a b"] }, /tokenizer\.ggml\.pre 'exotic' is not supported/],
      ["extra-tensor", META, /tensor 'blk\.0\.ffn_gate_exps\.weight' has no Hugging Face counterpart in a llama model/, { ...TENSORS, "blk.0.ffn_gate_exps.weight": { shape: [8] } }],
      ["no-embd", META, /no token_embd\.weight tensor/, Object.fromEntries(Object.entries(TENSORS).filter(([k]) => k !== "token_embd.weight"))],
    ];
    for (const [name, meta, err, tensors] of cases) expect(() => readGgufCheckpoint(write(`${name}.gguf`, meta, tensors)), name).toThrow(new RegExp(`${name}\\.gguf: .*${err.source}`));
  });
});
