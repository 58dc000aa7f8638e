// A Hugging Face tokenizer.json tokenizer (byte-level BPE, SentencePiece-style BPE with byte fallback,
// Unigram, WordPiece) run by @huggingface/tokenizers, plus the special tokens a language model needs:
// BOS, the end-of-sequence set (tokenizer_config + generation_config), the chat template source.
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { tokenBytesFunction } from "./bytes.js";
import { readTokenizerFolder, specialTokenContent } from "./config.js";
import type { NamedChatTemplate, TokenizerConfigJson, TokenizerFiles, TokenizerJson } from "./config.js";

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /**
   * Apply tokenizer.json's post-processor (e.g. prepend BOS for Gemma); default true. Pass false for
   * text that already carries its special tokens, such as a rendered chat template.
   */
  addSpecialTokens?: boolean;
}

/** Options of {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /** Leave out special tokens (BOS, EOS, chat markers); default false. */
  skipSpecialTokens?: boolean;
}

function validateJson(json: TokenizerJson): void {
  if (typeof json !== "object" || json === null || typeof json.model !== "object" || json.model === null) {
    throw new Error("Invalid tokenizer.json: expected an object with a 'model' object");
  }
  const type = json.model.type;
  if (!["BPE", "Unigram", "WordPiece", "WordLevel"].includes(String(type))) {
    throw new Error(`Unsupported tokenizer.json model type ${JSON.stringify(type)} (supported: BPE, Unigram, WordPiece)`);
  }
  if (type === "Unigram" && json.model.byte_fallback === true) {
    // @huggingface/tokenizers' Unigram has no byte fallback: it would emit <unk> where the Rust library emits bytes.
    throw new Error("Unsupported tokenizer.json: Unigram with byte_fallback (BPE with byte fallback is supported)");
  }
  if (json.added_tokens !== undefined && !Array.isArray(json.added_tokens)) {
    throw new Error("Invalid tokenizer.json: 'added_tokens' must be an array");
  }
}

function pickTemplate(t: TokenizerConfigJson["chat_template"]): string | undefined {
  if (t === undefined || t === null) return undefined;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t as NamedChatTemplate[];
    return (named.find((x) => x.name === "default") ?? named[0])?.template;
  }
  throw new Error("Invalid tokenizer_config.json: 'chat_template' must be a string or a list of {name, template}");
}

/**
 * A tokenizer.json tokenizer with the special tokens of a language model.
 *
 * `encode` / `decode` match Hugging Face `tokenizers` (Python/Rust) exactly, including special tokens
 * written in the text. `decode` never applies transformers' `clean_up_tokenization_spaces`, so decoding
 * is a plain concatenation that streams (see {@link StreamingDetokenizer}).
 */
export class Tokenizer {
  /** The id of the beginning-of-sequence token, if the model has one. */
  readonly bosTokenId: number | undefined;
  /** The beginning-of-sequence token's text (chat templates use it as `bos_token`). */
  readonly bosToken: string | undefined;
  /** Every id that ends generation: tokenizer_config's `eos_token` and generation_config's `eos_token_id`(s). */
  readonly eosTokenIds: ReadonlySet<number>;
  /** The end-of-sequence token's text (chat templates use it as `eos_token`). */
  readonly eosToken: string | undefined;
  /** The padding token's id, if any. */
  readonly padTokenId: number | undefined;
  /** Ids of all special (control) tokens: these are left out by `skipSpecialTokens`. */
  readonly specialTokenIds: ReadonlySet<number>;
  /** The chat template source (chat_template.jinja, tokenizer_config.json, GGUF, or given), if any. */
  readonly chatTemplate: string | undefined;
  /** Number of ids, added tokens included (the largest id + 1). */
  readonly vocabSize: number;
  /** tokenizer_config.json as read (special_tokens_map.json merged in). */
  readonly config: TokenizerConfigJson;

  private readonly hf: HfTokenizer;
  private readonly vocab: readonly (string | undefined)[];
  /** Added tokens' contents by id. */
  private readonly addedContent: ReadonlyMap<number, string>;
  private readonly bytesOf: (token: string) => Uint8Array;

  private constructor(json: TokenizerJson, files: TokenizerFiles) {
    validateJson(json);
    const config = files.config ?? {};
    this.config = config;
    const added = json.added_tokens ?? [];
    const eosText = specialTokenContent(config.eos_token);
    // The library's own special-token handling reads only these; transformers' text cleanup stays off.
    this.hf = new HfTokenizer({ normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...json, added_tokens: added }, { clean_up_tokenization_spaces: false, eos_token: eosText });
    this.vocab = (this.hf.model as unknown as { vocab: (string | undefined)[] }).vocab;
    this.vocabSize = this.vocab.length;
    this.specialTokenIds = new Set(added.filter((t) => t.special).map((t) => t.id));
    this.addedContent = new Map(added.map((t) => [t.id, t.content]));
    this.bytesOf = tokenBytesFunction(json.decoder);

    const id = (name: string, text: string | undefined): number | undefined => {
      if (text === undefined) return undefined;
      const v = this.hf.token_to_id(text);
      if (v === undefined) throw new Error(`The tokenizer config's ${name} ${JSON.stringify(text)} is not in the vocabulary`);
      return v;
    };
    const gen = files.generationConfig ?? {};
    this.bosToken = specialTokenContent(config.bos_token);
    this.bosTokenId = id("bos_token", this.bosToken) ?? (typeof gen.bos_token_id === "number" ? gen.bos_token_id : undefined);
    if (this.bosToken === undefined && this.bosTokenId !== undefined) this.bosToken = this.idToToken(this.bosTokenId);
    const eos = new Set<number>();
    const eosId = id("eos_token", eosText);
    if (eosId !== undefined) eos.add(eosId);
    const genEos = gen.eos_token_id;
    for (const e of Array.isArray(genEos) ? genEos : genEos === undefined || genEos === null ? [] : [genEos]) {
      if (!Number.isInteger(e) || e < 0 || e >= this.vocabSize) throw new Error(`generation_config.json eos_token_id ${e} is not a token id`);
      eos.add(e);
    }
    this.eosTokenIds = eos;
    this.eosToken = eosText ?? (eos.size ? this.idToToken([...eos][0]) : undefined);
    this.padTokenId = id("pad_token", specialTokenContent(config.pad_token)) ?? (typeof gen.pad_token_id === "number" ? gen.pad_token_id : undefined);
    this.chatTemplate = files.chatTemplate ?? pickTemplate(config.chat_template);
  }

  /**
   * Loads a tokenizer from a model folder: tokenizer.json, and when present tokenizer_config.json,
   * special_tokens_map.json, generation_config.json (EOS list) and chat_template.jinja / chat_template.json.
   */
  static fromFolder(dir: string): Tokenizer {
    const { json, files } = readTokenizerFolder(dir);
    return new Tokenizer(json, files);
  }

  /**
   * Builds a tokenizer from a tokenizer.json object (parsed, or built in memory, e.g. from a GGUF
   * vocabulary) and the optional config files.
   */
  static fromJson(json: TokenizerJson, files: TokenizerFiles = {}): Tokenizer {
    return new Tokenizer(json, files);
  }

  /** Token ids of `text`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== "string") throw new Error(`Tokenizer.encode expects a string, got ${typeof text}`);
    return this.hf.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  /** The text of `ids` (the inverse of `encode` up to normalization). */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    for (const id of ids) this.checkId(id);
    const kept = options.skipSpecialTokens ? ids.filter((id) => !this.specialTokenIds.has(id)) : ids;
    return kept.length === 0 ? "" : this.hf.decode(kept as number[], { skip_special_tokens: false });
  }

  /** The vocabulary entry (raw token string, e.g. "Ġhello" or "▁hello") of an id. */
  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 ? this.vocab[id] : undefined;
  }

  /** The id of a vocabulary entry or added token, if it exists. */
  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  /**
   * The UTF-8 bytes token `id` adds to the text when it is not the first token (byte-level and
   * byte-fallback tokens may hold part of a character). Special tokens give their content.
   */
  tokenBytes(id: number): Uint8Array {
    this.checkId(id);
    if (this.specialTokenIds.has(id)) return new TextEncoder().encode(this.addedContent.get(id));
    return this.bytesOf(this.addedContent.get(id) ?? (this.vocab[id] as string));
  }

  /** Whether an id is a special (control) token. */
  isSpecial(id: number): boolean {
    return this.specialTokenIds.has(id);
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize || this.vocab[id] === undefined) {
      throw new Error(`Token id ${id} is out of range for this tokenizer (vocabulary size ${this.vocabSize})`);
    }
  }
}
