// CLIP's BPE tokenizer through @huggingface/tokenizers, padded and truncated to 77 tokens as the
// diffusers pipelines call it (padding="max_length", truncation=True). Folders with only
// vocab.json + merges.txt (what SD repos ship) get the tokenizer.json that transformers'
// CLIPTokenizerFast would build from them.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { tensor } from "@tessera/core";
import type { Tensor } from "@tessera/core";

const BOS = "<|startoftext|>";
const EOS = "<|endoftext|>";

function readJson(path: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not a JSON object");
    return v as Record<string, unknown>;
  } catch (e) {
    throw new Error(`ClipTokenizer: cannot read ${path} (${(e as Error).message})`);
  }
}

/** The tokenizer.json transformers' CLIPTokenizerFast writes for a CLIP vocab.json + merges.txt. */
export function clipTokenizerJson(vocab: Record<string, number>, merges: string[]): Record<string, unknown> {
  const special = (content: string) => ({
    id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  });
  for (const t of [BOS, EOS]) if (vocab[t] === undefined) throw new Error(`ClipTokenizer: the vocabulary has no ${t} token`);
  return {
    version: "1.0", truncation: null, padding: null, added_tokens: [special(BOS), special(EOS)],
    normalizer: { type: "Sequence", normalizers: [{ type: "NFC" }, { type: "Replace", pattern: { Regex: "\\s+" }, content: " " }, { type: "Lowercase" }] },
    pre_tokenizer: {
      type: "Sequence", pretokenizers: [
        { type: "Split", pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" }, behavior: "Removed", invert: true },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: { type: "RobertaProcessing", sep: [EOS, vocab[EOS]], cls: [BOS, vocab[BOS]], trim_offsets: false, add_prefix_space: false },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE", dropout: null, unk_token: EOS, continuing_subword_prefix: "", end_of_word_suffix: "</w>", fuse_unk: false,
      byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
}

export interface ClipTokenizerOptions {
  /** Token padded with (SD's tokenizer: <|endoftext|>; SDXL's tokenizer_2: "!"). */
  padToken?: string;
  /** Sequence length (77 for every Stable Diffusion text encoder). */
  maxLength?: number;
}

/** Prompts as token ids, padded and truncated to `maxLength`. */
export interface TokenizedPrompts {
  /** int32 [prompts, maxLength]. */
  ids: Tensor;
  /** The same ids as JS arrays. */
  rows: number[][];
  /** Per prompt: the dropped tail as text, or null when nothing was dropped. */
  truncated: (string | null)[];
}

/** A CLIP tokenizer (lowercasing, byte-level BPE with </w> word ends) as Stable Diffusion uses it. */
export class ClipTokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly #tok: Tokenizer;

  constructor(tokenizerJson: Record<string, unknown>, config: Record<string, unknown> = {}, opts: ClipTokenizerOptions = {}) {
    this.#tok = new Tokenizer(tokenizerJson, config);
    const id = (t: string, what: string) => {
      const v = this.#tok.token_to_id(t);
      if (v === undefined) throw new Error(`ClipTokenizer: the ${what} token ${JSON.stringify(t)} is not in the vocabulary`);
      return v;
    };
    const cfgMax = typeof config.model_max_length === "number" && config.model_max_length < 1e6 ? config.model_max_length : 77;
    this.maxLength = opts.maxLength ?? cfgMax;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 2) throw new Error(`ClipTokenizer: maxLength must be an integer >= 2, got ${this.maxLength}`);
    this.bosId = id(BOS, "start");
    this.eosId = id(EOS, "end");
    const pad = opts.padToken ?? (typeof config.pad_token === "string" ? config.pad_token : EOS);
    this.padId = id(pad, "padding");
  }

  /**
   * A tokenizer/ folder: tokenizer.json, or vocab.json + merges.txt; tokenizer_config.json (pad
   * token, model_max_length) and special_tokens_map.json are read when present.
   */
  static fromFolder(dir: string, opts: ClipTokenizerOptions = {}): ClipTokenizer {
    const cfgPath = join(dir, "tokenizer_config.json");
    const config: Record<string, unknown> = existsSync(cfgPath) ? readJson(cfgPath) : {};
    const mapPath = join(dir, "special_tokens_map.json");
    if (config.pad_token === undefined && existsSync(mapPath)) {
      const pad = readJson(mapPath).pad_token;
      config.pad_token = typeof pad === "object" && pad !== null ? (pad as { content?: unknown }).content : pad;
    }
    if (typeof config.pad_token === "object" && config.pad_token !== null) config.pad_token = (config.pad_token as { content?: unknown }).content;
    const jsonPath = join(dir, "tokenizer.json");
    if (existsSync(jsonPath)) return new ClipTokenizer(readJson(jsonPath), config, opts);
    const vocabPath = join(dir, "vocab.json");
    const mergesPath = join(dir, "merges.txt");
    if (!existsSync(vocabPath) || !existsSync(mergesPath))
      throw new Error(`ClipTokenizer: ${dir} has neither tokenizer.json nor vocab.json + merges.txt`);
    const vocab = readJson(vocabPath) as Record<string, number>;
    const merges = readFileSync(mergesPath, "utf8").split("\n").filter((l, i) => l.length > 0 && !(i === 0 && l.startsWith("#version")));
    return new ClipTokenizer(clipTokenizerJson(vocab, merges), config, opts);
  }

  /** Token ids with start and end tokens, not truncated. */
  encode(text: string): number[] {
    if (typeof text !== "string") throw new Error(`ClipTokenizer: a prompt must be a string, got ${typeof text}`);
    return this.#tok.encode(text).ids;
  }

  /** Text of token ids (special tokens skipped). */
  decode(ids: readonly number[]): string {
    return this.#tok.decode([...ids], { skip_special_tokens: true });
  }

  /**
   * Prompts padded (with padId) and truncated to maxLength, end token kept, as diffusers'
   * pipelines tokenize them. A truncated prompt calls `warn` (default console.warn) with the dropped text.
   */
  tokenize(prompts: string | readonly string[], opts: { warn?: (message: string) => void } = {}): TokenizedPrompts {
    const list = typeof prompts === "string" ? [prompts] : [...prompts];
    if (!list.length) throw new Error("ClipTokenizer: no prompts given");
    const warn = opts.warn ?? ((m: string) => console.warn(m));
    const rows: number[][] = [];
    const truncated: (string | null)[] = [];
    for (const p of list) {
      let ids = this.encode(p);
      let dropped: string | null = null;
      if (ids.length > this.maxLength) {
        dropped = this.decode(ids.slice(this.maxLength - 1, -1));
        warn(`The following part of your input was truncated because CLIP can only handle sequences up to ${this.maxLength} tokens: ${JSON.stringify(dropped)}`);
        ids = [...ids.slice(0, this.maxLength - 1), this.eosId];
      }
      rows.push([...ids, ...Array<number>(this.maxLength - ids.length).fill(this.padId)]);
      truncated.push(dropped);
    }
    const ids = tensor(Int32Array.from(rows.flat()), { shape: [list.length, this.maxLength] });
    return { ids, rows, truncated };
  }
}
