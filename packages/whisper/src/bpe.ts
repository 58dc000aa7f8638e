// Byte-level BPE as tiktoken runs it (GPT-2's pre-tokenizer regex, merges by rank), readable from a
// .tiktoken ranks file or from a Hugging Face tokenizer.json (vocab + merges + added_tokens).
import { readFileSync } from "node:fs";
import { bytesToUnicode } from "@tessera/core";

/** GPT-2's pre-tokenizer (tiktoken's `pat_str` for Whisper; also the HF ByteLevel regex). */
// \s is written as \p{White_Space}: JS's \s differs from Unicode's (it has U+FEFF, lacks U+0085).
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;
/** The same pattern as tiktoken/Hugging Face write it, to recognise it in a tokenizer.json. */
const GPT2_PATTERN_SOURCE = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

const utf8 = new TextEncoder();
const utf8Lenient = new TextDecoder("utf-8", { fatal: false });

/** Bytes as a latin1 string (one char per byte): the key type of the vocabulary maps. */
function bytesKey(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function keyBytes(key: string): Uint8Array {
  return Uint8Array.from(key, (c) => c.charCodeAt(0));
}

/** Never in a byte key (chars < 256): joins a merge pair into one map key. */
const PAIR_SEPARATOR = "\u0100";

interface HfTokenizerJson {
  model?: { type?: string; vocab: Record<string, number>; merges: (string | [string, string])[]; ignore_merges?: boolean };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  pre_tokenizer?: HfPreTokenizer | null;
}

interface HfPreTokenizer {
  type: string;
  use_regex?: boolean;
  add_prefix_space?: boolean;
  pattern?: { Regex?: string; String?: string };
  pretokenizers?: HfPreTokenizer[];
}

/** Accepts GPT-2's byte-level pre-tokenization, as ByteLevel(use_regex) or Split(GPT-2 regex) + ByteLevel. */
function checkPreTokenizer(p: HfPreTokenizer | null | undefined, path: string): void {
  const ok = (q: HfPreTokenizer) => q.type === "ByteLevel" && q.add_prefix_space !== true;
  const fine = p && (p.type === "Sequence"
    ? p.pretokenizers?.length === 2 && p.pretokenizers[0].type === "Split" && p.pretokenizers[0].pattern?.Regex === GPT2_PATTERN_SOURCE && ok(p.pretokenizers[1])
    : ok(p) && p.use_regex !== false);
  if (!fine) throw new Error(`'${path}' uses a pre_tokenizer other than GPT-2's byte-level one (${JSON.stringify(p)?.slice(0, 200)}), which is not supported`);
}

export interface SpecialOptions {
  /** Special tokens that may appear in the text and are encoded as themselves ("all" or a list). */
  allowedSpecial?: "all" | Iterable<string>;
  /** Special tokens whose text is an error (default "all" not allowed, as tiktoken). An empty list encodes them as plain text. */
  disallowedSpecial?: "all" | Iterable<string>;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A byte-level BPE encoding. `pairRank` gives a merge's priority (lower first): tiktoken ranks the
 * concatenation, a Hugging Face model ranks the pair by its position in `merges`. With
 * `wholeWordFirst` (tiktoken; HF's `ignore_merges`) a word that is itself a token is one token.
 */
export class BpeEncoding {
  readonly specialTokens: ReadonlyMap<string, number>;
  private readonly decoder = new Map<number, Uint8Array>();
  private readonly cache = new Map<string, number[]>();

  constructor(
    private readonly encoder: ReadonlyMap<string, number>,
    private readonly pairRank: (a: string, b: string) => number | undefined,
    specialTokens: ReadonlyMap<string, number>,
    private readonly wholeWordFirst: boolean,
  ) {
    this.specialTokens = specialTokens;
    for (const [key, id] of encoder) this.decoder.set(id, keyBytes(key));
    for (const [text, id] of specialTokens) this.decoder.set(id, utf8.encode(text));
  }

  /** Reads a .tiktoken file: lines of "<base64 token bytes> <rank>". */
  static fromTiktoken(path: string, specials: (nVocab: number) => Map<string, number>): BpeEncoding {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new Error(`cannot read the tiktoken vocabulary '${path}': ${(e as Error).message}`);
    }
    const ranks = new Map<string, number>();
    for (const line of text.split("\n")) {
      if (!line) continue;
      const [b64, rank] = line.split(" ");
      const id = Number(rank);
      if (!b64 || !Number.isInteger(id)) throw new Error(`malformed line in tiktoken vocabulary '${path}': '${line.slice(0, 80)}'`);
      ranks.set(bytesKey(Buffer.from(b64, "base64")), id);
    }
    return new BpeEncoding(ranks, (a, b) => ranks.get(a + b), specials(ranks.size), true);
  }

  /**
   * Reads a Hugging Face tokenizer.json holding a byte-level BPE model (GPT-2 / Whisper layout):
   * `model.vocab` and `model.merges` (as "a b" strings or [a, b] pairs) and `added_tokens`, which are
   * matched as special tokens.
   */
  static fromHuggingFace(path: string): BpeEncoding {
    let json: HfTokenizerJson;
    try {
      json = JSON.parse(readFileSync(path, "utf8")) as HfTokenizerJson;
    } catch (e) {
      throw new Error(`cannot read the tokenizer '${path}': ${(e as Error).message}`);
    }
    const model = json.model;
    if (!model || model.type !== "BPE" || typeof model.vocab !== "object" || !Array.isArray(model.merges))
      throw new Error(`'${path}' does not hold a BPE model with vocab and merges (model.type: ${String(model?.type)})`);
    checkPreTokenizer(json.pre_tokenizer, path);
    const byteOf = new Map([...bytesToUnicode()].map(([b, c]) => [c, b]));
    const toKey = (token: string): string | undefined => {
      let key = "";
      for (const c of token) {
        const b = byteOf.get(c);
        if (b === undefined) return undefined;
        key += String.fromCharCode(b);
      }
      return key;
    };
    const encoder = new Map<string, number>();
    for (const [token, id] of Object.entries(model.vocab)) {
      const key = toKey(token);
      if (key !== undefined) encoder.set(key, id);
    }
    const merges = new Map<string, number>();
    model.merges.forEach((m, rank) => {
      const [a, b] = typeof m === "string" ? m.split(" ") : m;
      const ka = toKey(a ?? ""), kb = toKey(b ?? "");
      if (ka === undefined || kb === undefined || !a || !b) throw new Error(`'${path}' has a malformed merge at index ${rank}: ${JSON.stringify(m)}`);
      merges.set(ka + PAIR_SEPARATOR + kb, rank);
    });
    const specials = new Map((json.added_tokens ?? []).map((t) => [t.content, t.id] as [string, number]));
    return new BpeEncoding(encoder, (a, b) => merges.get(a + PAIR_SEPARATOR + b), specials, model.ignore_merges === true);
  }

  /** The same vocabulary with another set of special tokens. */
  withSpecialTokens(specialTokens: ReadonlyMap<string, number>): BpeEncoding {
    return new BpeEncoding(this.encoder, this.pairRank, specialTokens, this.wholeWordFirst);
  }

  /** Number of ids (the largest id + 1). */
  get nVocab(): number {
    let n = 0;
    for (const id of this.decoder.keys()) n = Math.max(n, id + 1);
    return n;
  }

  /** The id of one token given as its text (a special token or a single vocabulary entry). */
  encodeSingleToken(text: string): number {
    const id = this.specialTokens.get(text) ?? this.encoder.get(bytesKey(utf8.encode(text)));
    if (id === undefined) throw new Error(`'${text}' is not a single token`);
    return id;
  }

  /** Encodes text to ids. Special-token text raises an Error unless allowed (as tiktoken's encode). */
  encode(text: string, options: SpecialOptions = {}): number[] {
    const allowed = options.allowedSpecial === "all" ? new Set(this.specialTokens.keys()) : new Set(options.allowedSpecial ?? []);
    const disallowed = options.disallowedSpecial === undefined || options.disallowedSpecial === "all"
      ? [...this.specialTokens.keys()].filter((t) => !allowed.has(t)) : [...options.disallowedSpecial];
    for (const t of disallowed)
      if (text.includes(t))
        throw new Error(`the text contains the special token '${t}'; pass it in allowedSpecial to encode it as a special token, or disallowedSpecial: [] to encode it as plain text`);
    const ids: number[] = [];
    if (allowed.size === 0) {
      this.encodeOrdinary(text, ids);
      return ids;
    }
    const splitter = new RegExp([...allowed].sort((a, b) => b.length - a.length).map(escapeRegex).join("|"), "g");
    let last = 0;
    for (const m of text.matchAll(splitter)) {
      this.encodeOrdinary(text.slice(last, m.index), ids);
      ids.push(this.specialTokens.get(m[0])!);
      last = m.index! + m[0].length;
    }
    this.encodeOrdinary(text.slice(last), ids);
    return ids;
  }

  private encodeOrdinary(text: string, into: number[]): void {
    for (const m of text.matchAll(GPT2_PATTERN)) {
      const word = bytesKey(utf8.encode(m[0]));
      let ids = this.cache.get(word);
      if (!ids) {
        ids = this.encodeWord(word);
        if (this.cache.size > 50_000) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (const id of ids) into.push(id);
    }
  }

  /** The BPE merge loop on one pre-tokenized word (bytes as a latin1 string). */
  private encodeWord(word: string): number[] {
    const whole = this.wholeWordFirst ? this.encoder.get(word) : undefined;
    if (whole !== undefined) return [whole];
    const parts = Array.from(word);
    while (parts.length > 1) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = this.pairRank(parts[i], parts[i + 1]);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      parts.splice(best, 2, parts[best] + parts[best + 1]);
    }
    return parts.map((p) => {
      const id = this.encoder.get(p);
      if (id === undefined) throw new Error(`the vocabulary has no token for the bytes [${Array.from(keyBytes(p)).join(", ")}]`);
      return id;
    });
  }

  /** The bytes of the given ids, concatenated. Unknown ids throw. */
  decodeBytes(ids: Iterable<number>): Uint8Array {
    const parts: Uint8Array[] = [];
    let n = 0;
    for (const id of ids) {
      const b = this.decoder.get(id);
      if (!b) throw new Error(`token id ${id} is not in the vocabulary (0..${this.nVocab - 1})`);
      parts.push(b);
      n += b.length;
    }
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Decodes ids to text; invalid UTF-8 becomes U+FFFD (tiktoken's errors="replace"). */
  decode(ids: Iterable<number>): string {
    return utf8Lenient.decode(this.decodeBytes(ids));
  }
}
