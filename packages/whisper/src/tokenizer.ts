// Whisper's tokenizer: GPT-2 byte-level BPE plus Whisper's special tokens, built exactly as
// openai-whisper's tokenizer.py builds them (ids, sot sequence, suppressed tokens, word splitting).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ASSETS_DIR } from "./assets.js";
import { BpeEncoding } from "./bpe.js";
import type { SpecialOptions } from "./bpe.js";
import { LANGUAGES, TO_LANGUAGE_CODE } from "./languages.js";

export type { SpecialOptions } from "./bpe.js";
export { LANGUAGES, TO_LANGUAGE_CODE } from "./languages.js";

export type Task = "transcribe" | "translate";


const LANGUAGE_CODES = Object.keys(LANGUAGES);
/** Languages without spaces between words: split into words at unicode boundaries instead. */
const NO_SPACE_LANGUAGES = new Set(["zh", "ja", "th", "lo", "my", "yue"]);
/** Python's string.punctuation. */
const PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/** Whisper's special tokens in id order, starting right after the BPE ranks. */
export function whisperSpecialTokens(numLanguages: number): string[] {
  return [
    "<|endoftext|>",
    "<|startoftranscript|>",
    ...LANGUAGE_CODES.slice(0, numLanguages).map((c) => `<|${c}|>`),
    "<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>",
    ...Array.from({ length: 1501 }, (_, i) => `<|${(i * 0.02).toFixed(2)}|>`),
  ];
}

/** Resolves a language code or name ("en", "English", "mandarin") to its code; throws if unknown. */
export function languageCode(language: string): string {
  const l = language.toLowerCase();
  if (l in LANGUAGES) return l;
  const code = TO_LANGUAGE_CODE[l];
  if (code === undefined) throw new Error(`Unsupported language: '${language}' (use a code such as "en" or a name such as "english")`);
  return code;
}

export interface TokenizerOptions {
  /** Multilingual vocabulary (every model except the ".en" ones). */
  multilingual: boolean;
  /** Languages the model knows: 99, or 100 for large-v3 (adds "yue"). */
  numLanguages?: number;
  /** Language code or name; multilingual tokenizers default to "en", English-only ones have none. */
  language?: string;
  /** Multilingual tokenizers default to "transcribe"; English-only ones have no task token. */
  task?: Task;
  /** Where gpt2.tiktoken / multilingual.tiktoken are (default: this package's assets). */
  assetsDir?: string;
}

/** Words and the token ids that make each one up. */
export interface WordTokens {
  words: string[];
  wordTokens: number[][];
}

/** Whisper's tokenizer (openai-whisper's `Tokenizer`), over a tiktoken or Hugging Face vocabulary. */
export class WhisperTokenizer {
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly sotSequence: readonly number[];
  readonly eot: number;
  readonly sot: number;
  readonly transcribe: number;
  readonly translate: number;
  readonly sotLm: number;
  readonly sotPrev: number;
  readonly noSpeech: number;
  readonly noTimestamps: number;
  readonly timestampBegin: number;

  constructor(
    readonly encoding: BpeEncoding,
    readonly numLanguages: number,
    readonly language?: string,
    readonly task?: Task,
  ) {
    this.specialTokens = encoding.specialTokens;
    const get = (t: string) => {
      const id = this.specialTokens.get(t);
      if (id === undefined) throw new Error(`the vocabulary has no special token ${t}`);
      return id;
    };
    this.eot = get("<|endoftext|>");
    this.sot = get("<|startoftranscript|>");
    this.transcribe = get("<|transcribe|>");
    this.translate = get("<|translate|>");
    this.sotLm = get("<|startoflm|>");
    this.sotPrev = get("<|startofprev|>");
    this.noSpeech = get("<|nospeech|>");
    this.noTimestamps = get("<|notimestamps|>");
    this.timestampBegin = get("<|0.00|>");
    const seq = [this.sot];
    if (language !== undefined) {
      const index = LANGUAGE_CODES.slice(0, numLanguages).indexOf(language);
      if (index < 0) throw new Error(`language '${language}' is not among this model's ${numLanguages} languages`);
      seq.push(this.sot + 1 + index);
    }
    if (task !== undefined) seq.push(task === "transcribe" ? this.transcribe : this.translate);
    this.sotSequence = seq;
  }

  /** Encodes text (no special tokens unless allowed, as tiktoken). */
  encode(text: string, options?: SpecialOptions): number[] {
    return this.encoding.encode(text, options);
  }

  /** Decodes ids, dropping timestamp tokens. */
  decode(ids: readonly number[]): string {
    return this.encoding.decode(ids.filter((t) => t < this.timestampBegin));
  }

  /** Decodes ids with timestamp tokens written out, e.g. "<|1.08|>". */
  decodeWithTimestamps(ids: readonly number[]): string {
    return this.encoding.decode(ids);
  }

  get sotSequenceIncludingNotimestamps(): number[] {
    return [...this.sotSequence, this.noTimestamps];
  }

  /** The id of the configured language's token. */
  get languageToken(): number {
    if (this.language === undefined) throw new Error("This tokenizer does not have language token configured");
    return this.toLanguageToken(this.language);
  }

  toLanguageToken(language: string): number {
    const id = this.specialTokens.get(`<|${language}|>`);
    if (id === undefined) throw new Error(`Language ${language} not found in tokenizer.`);
    return id;
  }

  /** The language token ids, in order (the model's `numLanguages` of them). */
  get allLanguageTokens(): number[] {
    const ids: number[] = [];
    for (const [token, id] of this.specialTokens) if (token.replace(/^[<|>]+|[<|>]+$/g, "") in LANGUAGES) ids.push(id);
    return ids.slice(0, this.numLanguages);
  }

  get allLanguageCodes(): string[] {
    return this.allLanguageTokens.map((t) => this.decode([t]).replace(/^[<|>]+|[<|>]+$/g, ""));
  }

  /**
   * Tokens to suppress so the model does not write speaker tags or non-speech annotations
   * ("♪♪♪", "( SPEAKING FOREIGN LANGUAGE )", "[DAVID] Hey there,"), keeping basic punctuation.
   */
  get nonSpeechTokens(): number[] {
    const symbols = [...'"#()*+/:;<=>@[\\]^_`{|}~「」『』', ..."<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".split(" ")];
    // Between U+2640 and U+267F: if several tokens, their first one (shared UTF-8 prefix) is safe to suppress.
    const miscellaneous = new Set("♩♪♫♬♭♮♯");
    const result = new Set([this.encode(" -")[0], this.encode(" '")[0]]);
    for (const symbol of [...symbols, ...miscellaneous])
      for (const tokens of [this.encode(symbol), this.encode(" " + symbol)])
        if (tokens.length === 1 || miscellaneous.has(symbol)) result.add(tokens[0]);
    return [...result].sort((a, b) => a - b);
  }

  /** Splits tokens into words: at spaces, or at unicode boundaries for zh/ja/th/lo/my/yue. */
  splitToWordTokens(tokens: readonly number[]): WordTokens {
    if (this.language !== undefined && NO_SPACE_LANGUAGES.has(this.language)) return this.splitTokensOnUnicode(tokens);
    return this.splitTokensOnSpaces(tokens);
  }

  /** Groups tokens so that each group decodes to whole unicode characters. */
  splitTokensOnUnicode(tokens: readonly number[]): WordTokens {
    const full = [...this.decodeWithTimestamps(tokens)];
    const words: string[] = [];
    const wordTokens: number[][] = [];
    let current: number[] = [];
    let offset = 0;
    for (const token of tokens) {
      current.push(token);
      const decoded = this.decodeWithTimestamps(current);
      const bad = decoded.indexOf("\ufffd");
      // Python indexes code points; JS strings are UTF-16, so count in code points too.
      if (bad < 0 || full[offset + [...decoded.slice(0, bad)].length] === "\ufffd") {
        words.push(decoded);
        wordTokens.push(current);
        current = [];
        offset += [...decoded].length;
      }
    }
    return { words, wordTokens };
  }

  splitTokensOnSpaces(tokens: readonly number[]): WordTokens {
    const sub = this.splitTokensOnUnicode(tokens);
    const words: string[] = [];
    const wordTokens: number[][] = [];
    sub.words.forEach((subword, i) => {
      const toks = sub.wordTokens[i];
      const special = toks[0] >= this.eot;
      const withSpace = subword.startsWith(" ");
      const stripped = subword.trim();
      const punctuation = PUNCTUATION.includes(stripped); // Python's `in` on strings: "" and substrings count
      if (special || withSpace || punctuation || words.length === 0) {
        words.push(subword);
        wordTokens.push([...toks]);
      } else {
        words[words.length - 1] += subword;
        wordTokens[wordTokens.length - 1].push(...toks);
      }
    });
    return { words, wordTokens };
  }
}

function resolveLanguageTask(multilingual: boolean, language?: string, task?: Task): [string | undefined, Task | undefined] {
  if (task !== undefined && task !== "transcribe" && task !== "translate") throw new Error(`task must be "transcribe" or "translate", got '${String(task)}'`);
  const code = language === undefined ? undefined : languageCode(language);
  return multilingual ? [code ?? "en", task ?? "transcribe"] : [undefined, undefined];
}

/**
 * Whisper's tokenizer from its .tiktoken vocabulary (openai-whisper's `get_tokenizer`): the
 * multilingual one defaults to language "en" and task "transcribe"; the English-only one has neither.
 */
export function getTokenizer(options: TokenizerOptions): WhisperTokenizer {
  const numLanguages = options.numLanguages ?? 99;
  if (!Number.isInteger(numLanguages) || numLanguages < 1 || numLanguages > LANGUAGE_CODES.length)
    throw new Error(`numLanguages must be an integer from 1 to ${LANGUAGE_CODES.length}, got ${String(numLanguages)}`);
  const [language, task] = resolveLanguageTask(options.multilingual, options.language, options.task);
  const path = join(options.assetsDir ?? ASSETS_DIR, options.multilingual ? "multilingual.tiktoken" : "gpt2.tiktoken");
  const encoding = BpeEncoding.fromTiktoken(path, (nVocab) => new Map(whisperSpecialTokens(numLanguages).map((t, i) => [t, nVocab + i])));
  return new WhisperTokenizer(encoding, numLanguages, language, task);
}

/**
 * Whisper's tokenizer from a Hugging Face checkpoint folder (openai/whisper-* layout: tokenizer.json
 * with its added_tokens). Timestamp tokens missing from added_tokens (older exports) are given the
 * ids after <|notimestamps|>, as openai-whisper numbers them. `multilingual` defaults to whether the
 * vocabulary is the multilingual one.
 */
export function loadTokenizer(folder: string, options: Partial<Omit<TokenizerOptions, "assetsDir">> = {}): WhisperTokenizer {
  const path = join(folder, "tokenizer.json");
  if (!existsSync(path)) throw new Error(`no tokenizer.json in '${folder}'`);
  let encoding = BpeEncoding.fromHuggingFace(path);
  const specials = new Map(encoding.specialTokens);
  const numLanguages = LANGUAGE_CODES.filter((c) => specials.has(`<|${c}|>`)).length;
  const noTimestamps = specials.get("<|notimestamps|>");
  if (noTimestamps !== undefined && !specials.has("<|0.00|>")) {
    whisperSpecialTokens(0).slice(-1501).forEach((t, i) => specials.set(t, noTimestamps + 1 + i));
    encoding = encoding.withSpecialTokens(specials);
  }
  // English-only vocabularies have 50256 BPE tokens, multilingual ones 50257 (openai-whisper tells them
  // apart the same way, by vocabulary size).
  const multilingual = options.multilingual ?? (specials.get("<|endoftext|>") ?? 0) > 50256;
  const [language, task] = resolveLanguageTask(multilingual, options.language, options.task);
  return new WhisperTokenizer(encoding, options.numLanguages ?? Math.max(numLanguages, 1), language, task);
}
