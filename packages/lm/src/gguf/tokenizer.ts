// A Hugging Face tokenizer.json (and tokenizer_config.json) built from a GGUF file's vocabulary, as
// transformers' GGUF converters do (integrations/gguf/gguf_tokenizer_mapping.py), so the same
// tokenizer library runs it:
// - tokenizer.ggml.model "llama" (SentencePiece BPE): a BPE model with byte fallback over the
//   file's tokens; merges from tokenizer.ggml.merges or, when the file has none (Gemma, Llama 2),
//   every split of a token into two tokens, ranked by the merged token's score (llama.cpp's SPM
//   merges the adjacent pair whose result scores highest). Spaces become "▁"; with
//   add_space_prefix one is prepended after every special token, as llama.cpp does.
// - "gpt2" (byte-level BPE): the file's merges, split by the regex of tokenizer.ggml.pre.
// Control and unknown tokens (token_type 3, 2) are special added tokens and user-defined ones (4)
// plain added tokens, all matched whole in the raw text, as llama.cpp does.
import type { AddedTokenJson, TokenizerConfigJson, TokenizerJson } from "../tokenizer/config.js";
import type { GgufMetadata } from "./metadata.js";

// llama.cpp's token types (llama_token_type).
const UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4;

// Pre-tokenizer regexes by tokenizer.ggml.pre (llama.cpp's names), as transformers maps them.
const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const PRE_SPLITS: Record<string, string> = {
  "llama3": LLAMA3_SPLIT, "llama-v3": LLAMA3_SPLIT, "llama-bpe": LLAMA3_SPLIT, "smaug-bpe": LLAMA3_SPLIT, "dbrx": LLAMA3_SPLIT,
  "qwen2": QWEN2_SPLIT, "deepseek-r1-qwen": QWEN2_SPLIT, "megrez": QWEN2_SPLIT,
};
/** tokenizer.ggml.pre values that use GPT-2's own byte-level regex. */
const GPT2_PRE = new Set(["default", "gpt-2", "gpt2"]);

/** Merges implied by a vocabulary: every split of a token into two tokens, best merged score first. */
export function mergesFromScores(tokens: readonly string[], scores: readonly number[], vocab: ReadonlyMap<string, number>): [string, string][] {
  // Found in order of token id, and within a token from the longest left piece down; a stable sort
  // by score then gives transformers' generate_merges order (score, longer left piece first), with
  // a lower id first among equal scores (llama.cpp lists better tokens first).
  const pairs: [string, string][] = [];
  const pairScores: number[] = [];
  for (let id = 0; id < tokens.length; id++) {
    const t = tokens[id];
    if (vocab.get(t) !== id) continue; // a duplicate spelling: the vocabulary keeps the last id
    for (let k = t.length - 1; k > 0; k--) {
      const c = t.charCodeAt(k);
      if (c >= 0xdc00 && c <= 0xdfff) continue; // never split a surrogate pair (Python slices code points)
      const r = t.slice(k);
      if (!vocab.has(r)) continue;
      const l = t.slice(0, k);
      if (vocab.has(l)) pairs.push([l, r]), pairScores.push(scores[id]);
    }
  }
  const order = Array.from(pairs.keys()).sort((a, b) => pairScores[b] - pairScores[a]);
  return order.map((i) => pairs[i]);
}

function addedTokens(tokens: readonly string[], types: readonly number[] | undefined, vocab: ReadonlyMap<string, number>): AddedTokenJson[] {
  const out: AddedTokenJson[] = [];
  if (!types) return out;
  types.forEach((type, id) => {
    if (type !== CONTROL && type !== UNKNOWN && type !== USER_DEFINED) return;
    if (vocab.get(tokens[id]) !== id || tokens[id] === "") return;
    out.push({ id, content: tokens[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: type !== USER_DEFINED });
  });
  return out;
}

function tokenName(tokens: readonly string[], id: number | undefined): string | null {
  return id !== undefined && id < tokens.length ? tokens[id] : null;
}

/** The post-processor that adds BOS / EOS as the file asks (TemplateProcessing). */
function postProcessor(bos: string | null, eos: string | null, addBos: boolean, addEos: boolean, vocab: ReadonlyMap<string, number>, fallback: Record<string, unknown> | null): Record<string, unknown> | null {
  const pre = addBos && bos !== null ? [bos] : [], post = addEos && eos !== null ? [eos] : [];
  if (!pre.length && !post.length) return fallback;
  const special = (t: string) => ({ SpecialToken: { id: t, type_id: 0 } });
  const seq = (id: "A" | "B") => ({ Sequence: { id, type_id: 0 } });
  const specials: Record<string, { id: string; ids: number[]; tokens: string[] }> = {};
  for (const t of [...pre, ...post]) specials[t] = { id: t, ids: [vocab.get(t)!], tokens: [t] };
  return {
    type: "TemplateProcessing",
    single: [...pre.map(special), seq("A"), ...post.map(special)],
    pair: [...pre.map(special), seq("A"), ...post.map(special), ...pre.map(special), seq("B"), ...post.map(special)],
    special_tokens: specials,
  };
}

function vocabMap(tokens: readonly string[]): Map<string, number> {
  const vocab = new Map<string, number>();
  tokens.forEach((t, i) => vocab.set(t, i));
  return vocab;
}

type Json = Record<string, unknown>;

/** The pieces of tokenizer.json that differ between vocabulary kinds. */
interface Parts {
  model: TokenizerJson["model"];
  normalizer: Json | null;
  pre_tokenizer: Json | null;
  decoder: Json;
  /** The post-processor when no BOS / EOS is added. */
  fallbackPost: Json | null;
}

function spmModel(meta: GgufMetadata, tokens: string[], vocab: Map<string, number>, unk: string | null): Parts {
  const merges = meta.has("tokenizer.ggml.merges")
    ? meta.strings("tokenizer.ggml.merges").map((m) => splitMerge(meta, m))
    : mergesFromScores(tokens, meta.has("tokenizer.ggml.scores") ? meta.numbers("tokenizer.ggml.scores") : tokens.map((_, i) => -i), vocab);
  const spacePrefix = meta.bool("tokenizer.ggml.add_space_prefix", true);
  const decoders: Record<string, unknown>[] = [
    { type: "Replace", pattern: { String: "▁" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" },
  ];
  if (spacePrefix) decoders.push({ type: "Strip", content: " ", start: 1, stop: 0 });
  return {
    model: { type: "BPE", dropout: null, unk_token: unk, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab: Object.fromEntries(vocab), merges },
    normalizer: spacePrefix ? null : { type: "Replace", pattern: { String: " " }, content: "▁" },
    pre_tokenizer: spacePrefix ? { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: false } : null,
    decoder: { type: "Sequence", decoders },
    fallbackPost: null,
  };
}

function bpeModel(meta: GgufMetadata, vocab: Map<string, number>): Parts {
  const pre = meta.optStr("tokenizer.ggml.pre") ?? "default";
  const byteLevel = (useRegex: boolean) => ({ type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
  let preTokenizer: Record<string, unknown>;
  if (pre in PRE_SPLITS) preTokenizer = { type: "Sequence", pretokenizers: [{ type: "Split", pattern: { Regex: PRE_SPLITS[pre] }, behavior: "Isolated", invert: false }, byteLevel(false)] };
  else if (GPT2_PRE.has(pre)) preTokenizer = byteLevel(true);
  else meta.fail(`tokenizer.ggml.pre '${pre}' is not supported (supported: ${[...GPT2_PRE, ...Object.keys(PRE_SPLITS)].join(", ")})`);
  const merges = meta.strings("tokenizer.ggml.merges").map((m) => splitMerge(meta, m));
  return {
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: pre in PRE_SPLITS && pre.startsWith("llama"), vocab: Object.fromEntries(vocab), merges },
    normalizer: null,
    pre_tokenizer: preTokenizer,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    fallbackPost: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
  };
}

function splitMerge(meta: GgufMetadata, m: string): [string, string] {
  const i = m.indexOf(" ", 1);
  if (i < 0) meta.fail(`tokenizer.ggml.merges entry ${JSON.stringify(m)} is not two tokens separated by a space`);
  return [m.slice(0, i), m.slice(i + 1)];
}

/**
 * tokenizer.json and tokenizer_config.json equivalents of a GGUF file's tokenizer.* metadata
 * (SentencePiece-style "llama" and byte-level "gpt2" vocabularies; others are rejected by name).
 */
export function ggufTokenizer(meta: GgufMetadata): { tokenizerJson: TokenizerJson; tokenizerConfig: TokenizerConfigJson } {
  const kind = meta.str("tokenizer.ggml.model");
  const tokens = meta.strings("tokenizer.ggml.tokens");
  const types = meta.has("tokenizer.ggml.token_type") ? meta.numbers("tokenizer.ggml.token_type") : undefined;
  if (types && types.length !== tokens.length) meta.fail(`tokenizer.ggml.token_type has ${types.length} entries for ${tokens.length} tokens`);
  const vocab = vocabMap(tokens);
  const id = (k: string) => {
    const v = meta.optInt(`tokenizer.ggml.${k}`);
    if (v !== undefined && v >= tokens.length) meta.fail(`tokenizer.ggml.${k} ${v} is past the vocabulary (${tokens.length} tokens)`);
    return v;
  };
  const bos = tokenName(tokens, id("bos_token_id")), eos = tokenName(tokens, id("eos_token_id"));
  const unk = tokenName(tokens, id("unknown_token_id")), pad = tokenName(tokens, id("padding_token_id"));
  let parts: Parts;
  if (kind === "llama") parts = spmModel(meta, tokens, vocab, unk);
  else if (kind === "gpt2") parts = bpeModel(meta, vocab);
  else return meta.fail(`tokenizer.ggml.model '${kind}' is not supported (supported: llama, gpt2)`);
  // llama.cpp adds BOS to SentencePiece vocabularies unless the file says otherwise.
  const addBos = meta.bool("tokenizer.ggml.add_bos_token", kind === "llama");
  const addEos = meta.bool("tokenizer.ggml.add_eos_token", false);
  const tokenizerJson: TokenizerJson = {
    version: "1.0", truncation: null, padding: null,
    added_tokens: addedTokens(tokens, types, vocab),
    normalizer: parts.normalizer, pre_tokenizer: parts.pre_tokenizer,
    post_processor: postProcessor(bos, eos, addBos, addEos, vocab, parts.fallbackPost),
    decoder: parts.decoder, model: parts.model,
  };
  const chatTemplate = meta.optStr("tokenizer.chat_template");
  const tokenizerConfig: TokenizerConfigJson = {
    tokenizer_class: kind === "llama" ? "LlamaTokenizer" : "GPT2Tokenizer",
    bos_token: bos, eos_token: eos, unk_token: unk, pad_token: pad, add_bos_token: addBos, add_eos_token: addEos,
    ...(chatTemplate !== undefined ? { chat_template: chatTemplate } : {}),
  };
  return { tokenizerJson, tokenizerConfig };
}
