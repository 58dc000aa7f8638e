// The token-level JSON constraint: which tokens may come next so that the text stays a prefix of a
// value the schema accepts. Each token's bytes are computed once (TokenVocabulary); a step walks the
// vocabulary in byte order, reusing the parse of the prefix it shares with the previous token, so a
// step costs about one pass over the vocabulary plus the bytes of the tokens that stay possible.
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { advance, canEnd, initialStacks } from "./parser.js";
import type { Stack } from "./parser.js";
import { compileJsonSchema } from "./schema.js";
import type { JsonSchema, ValueNode } from "./schema.js";

/** The bytes of every token of a tokenizer, sorted for prefix sharing (build once per tokenizer). */
export class TokenVocabulary {
  /** Token ids in lexicographic order of their bytes (special and empty tokens left out). */
  readonly order: Int32Array;
  /** lcp[i]: bytes token order[i] shares with order[i - 1]. */
  readonly lcp: Int32Array;
  readonly bytes: readonly Uint8Array[];
  /** plainChars[id]: how many characters the token is if all of it can sit inside a JSON string unescaped; -1 if not. */
  readonly plainChars: Int32Array;

  /**
   * `bytes[id]`: what token id adds to the text; `eosTokenIds`: the tokens that end it (allowed once the
   * value is complete); `size`: the mask length (the model's logits may be longer than the vocabulary).
   */
  constructor(
    bytes: readonly (Uint8Array | null)[],
    readonly eosTokenIds: ReadonlySet<number>,
    readonly size: number = bytes.length,
  ) {
    if (size < bytes.length) throw new Error(`TokenVocabulary: size ${size} is smaller than the vocabulary (${bytes.length})`);
    const empty = new Uint8Array(0);
    this.bytes = bytes.map((b) => b ?? empty);
    const ids = [...this.bytes.keys()].filter((i) => this.bytes[i].length > 0 && !eosTokenIds.has(i));
    ids.sort((a, b) => compareBytes(this.bytes[a], this.bytes[b]));
    this.order = Int32Array.from(ids);
    this.lcp = new Int32Array(ids.length);
    for (let i = 1; i < ids.length; i++) this.lcp[i] = commonPrefix(this.bytes[ids[i - 1]], this.bytes[ids[i]]);
    this.plainChars = Int32Array.from(this.bytes, plainStringChars);
  }

  /** The vocabulary of a tokenizer: special tokens are never allowed, EOS only at the end. */
  static fromTokenizer(tokenizer: Tokenizer, size: number = tokenizer.vocabSize): TokenVocabulary {
    const bytes: (Uint8Array | null)[] = [];
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      bytes.push(tokenizer.idToToken(id) === undefined || tokenizer.isSpecial(id) ? null : tokenizer.tokenBytes(id));
    }
    return new TokenVocabulary(bytes, tokenizer.eosTokenIds, size);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Characters of `b` if it is whole UTF-8 characters with no quote, backslash or control character; else -1. */
function plainStringChars(b: Uint8Array): number {
  if (b.length === 0) return -1;
  for (const x of b) if (x < 0x20 || x === 0x22 || x === 0x5c || x === 0x7f) return -1;
  let text: string;
  try {
    text = strictUtf8.decode(b);
  } catch {
    return -1;
  }
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function commonPrefix(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

const MASK_CACHE_SIZE = 64;

/** Constrains generation to JSON that a schema accepts. One per generated sequence. */
export class JsonConstraint {
  private stacks: Stack[];
  private finished = false;
  private readonly cache = new Map<string, Uint8Array>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 0;

  /** `schema`: a JSON schema, `{ type: "json_object" }` for any object, or a compiled value grammar. */
  constructor(
    schema: JsonSchema | ValueNode,
    private readonly vocab: TokenVocabulary,
  ) {
    const node = isNode(schema) ? schema : compileJsonSchema(schema);
    this.stacks = initialStacks(node);
  }

  /** Whether the text is a complete value (EOS is then allowed; if it is the only choice, generation should end). */
  get complete(): boolean {
    return canEnd(this.stacks);
  }

  /** Whether an EOS token was accepted. */
  get done(): boolean {
    return this.finished;
  }

  /** The mask of tokens allowed next (1 = allowed), `vocab.size` long, for the sampler's `allowed` argument. */
  allowedTokens(): Uint8Array {
    const key = this.key();
    const hit = this.cache.get(key);
    if (hit) return hit;
    const mask = new Uint8Array(this.vocab.size);
    if (!this.finished) {
      this.walk(mask);
      if (canEnd(this.stacks)) for (const e of this.vocab.eosTokenIds) if (e < mask.length) mask[e] = 1;
    }
    if (this.cache.size >= MASK_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, mask);
    return mask;
  }

  /** A copy in the same state that advances independently (its mask cache starts empty). */
  fork(): JsonConstraint {
    const c = Object.create(JsonConstraint.prototype) as JsonConstraint;
    Object.assign(c, { vocab: this.vocab, stacks: this.stacks, finished: this.finished, cache: new Map(), ids: new WeakMap(), nextId: 0 });
    return c;
  }

  /** Advances by a generated token; throws if the token is not allowed. */
  accept(token: number): void {
    if (this.finished) throw new Error("JsonConstraint: a token came after the end of the value");
    if (this.vocab.eosTokenIds.has(token)) {
      if (!canEnd(this.stacks)) throw new Error(`JsonConstraint: end of sequence (token ${token}) before the JSON value is complete`);
      this.finished = true;
      return;
    }
    const bytes = this.vocab.bytes[token];
    let s = this.stacks;
    if (bytes === undefined || bytes.length === 0) throw new Error(`JsonConstraint: token ${token} adds no text and is not allowed`);
    for (const b of bytes) {
      s = advance(s, b);
      if (s.length === 0) throw new Error(`JsonConstraint: token ${token} does not continue a valid value`);
    }
    this.stacks = this.dedupe(s);
  }

  private walk(mask: Uint8Array): void {
    const { order, lcp, bytes, plainChars } = this.vocab;
    // Inside a plain string, a token of plain characters only needs its length checked, not parsing.
    const top = this.stacks.length === 1 ? this.stacks[0].frame : undefined;
    const room = top?.t === "str" && top.esc === 0 && top.cont === 0 ? top.max - top.len : -1;
    // states[d]: the parse after the first d bytes of the last token parsed (states[0] = now);
    // `shared`: the bytes the current token shares with that one (the minimum lcp since).
    const states: Stack[][] = [this.stacks];
    let known = 1; // states[0..known) are valid for the last token parsed
    let shared = 0;
    for (let i = 0; i < order.length; i++) {
      const id = order[i];
      shared = i === 0 ? 0 : shared < lcp[i] ? shared : lcp[i];
      if (room >= 0 && plainChars[id] >= 0) {
        if (plainChars[id] <= room) mask[id] = 1;
        continue;
      }
      const tb = bytes[id];
      let depth = shared < known - 1 ? shared : known - 1;
      let s = states[depth];
      while (depth < tb.length && s.length > 0) {
        s = advance(s, tb[depth++]);
        states[depth] = s;
      }
      known = depth + 1;
      if (depth === tb.length && s.length > 0) mask[id] = 1;
      shared = tb.length;
    }
  }

  private dedupe(stacks: Stack[]): Stack[] {
    const seen = new Map<string, Stack>();
    for (const s of stacks) seen.set(this.stackKey(s), s);
    return [...seen.values()];
  }

  private key(): string {
    return this.finished ? "end" : this.stacks.map((s) => this.stackKey(s)).sort().join("|");
  }

  /** A canonical text of a stack; counts that no longer matter (an unbounded string past its minimum) are clamped so states repeat. */
  private stackKey(s: Stack | null): string {
    const parts: string[] = [];
    for (let x = s; x !== null; x = x.rest) {
      const f = x.frame;
      switch (f.t) {
        case "value":
          parts.push(`v${this.id(f.node)}`);
          break;
        case "lit":
          parts.push(`l${this.id(f.bytes)}:${f.pos}`);
          break;
        case "str":
          parts.push(`s${f.min},${f.max},${f.max === Infinity ? Math.min(f.len, f.min) : f.len},${f.esc},${f.cont},${f.lo}`);
          break;
        case "num":
          parts.push(`n${f.integer ? 1 : 0},${f.phase},${f.len}`);
          break;
        case "obj":
          parts.push(`o${this.id(f.node)},${f.phase},${f.next},${f.cur},${f.ws}`);
          break;
        case "arr":
          parts.push(`a${this.id(f.node)},${f.phase},${f.node.max === Infinity ? Math.min(f.count, f.node.min) : f.count},${f.ws}`);
          break;
        case "done":
          parts.push("d");
      }
    }
    return parts.join(" ");
  }

  private id(o: object): number {
    let v = this.ids.get(o);
    if (v === undefined) this.ids.set(o, (v = this.nextId++));
    return v;
  }
}

function isNode(x: unknown): x is ValueNode {
  return typeof x === "object" && x !== null && typeof (x as { kind?: unknown }).kind === "string" && !("type" in x);
}
