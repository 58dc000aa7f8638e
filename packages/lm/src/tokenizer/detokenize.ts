// Incremental detokenization: text from ids as they are generated, never splitting a UTF-8
// character and never repeating or losing a space.
//
// The method is vLLM's: decode a short window of recent ids twice, once up to the last emitted id and
// once up to the newest, and emit the difference. Both decodes start at the same id, so a decoder's
// start-of-text effects (SentencePiece dropping the first "▁", byte-level BPE's partial bytes) cancel
// out, and the chunks concatenate to exactly `decode(all ids)`. A window that decodes to a trailing
// U+FFFD is an unfinished character (a byte-fallback or byte-level token carrying part of it): its
// text waits for the next id.
import type { DecodeOptions, Tokenizer } from "./tokenizer.js";

/** A UTF-8 character is at most 4 bytes, and every token carries at least one. */
const MAX_PENDING_TOKENS = 4;
const REPLACEMENT = "\ufffd";

/** Turns a stream of token ids into a stream of text chunks. */
export class StreamingDetokenizer {
  private readonly ids: number[] = [];
  /** Where the decode window starts. */
  private prefixOffset = 0;
  /** The ids before this have all been emitted as text. */
  private readOffset = 0;
  private emitted = "";

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly options: DecodeOptions = {},
  ) {}

  /** All ids pushed so far. */
  get tokens(): readonly number[] {
    return this.ids;
  }

  /** All text emitted so far (the concatenation of every chunk returned). */
  get text(): string {
    return this.emitted;
  }

  /** Adds one id; returns the text it completes ("" when it ends inside a character). */
  push(id: number): string {
    this.ids.push(id);
    return this.step(false);
  }

  /** Emits whatever is held back (call once the stream ends). */
  flush(): string {
    return this.step(true);
  }

  private decode(from: number, to: number): string {
    return this.tokenizer.decode(this.ids.slice(from, to), this.options);
  }

  private step(final: boolean): string {
    if (this.readOffset === this.ids.length) return "";
    const prefix = this.decode(this.prefixOffset, this.readOffset);
    const full = this.decode(this.prefixOffset, this.ids.length);
    const pending = this.ids.length - this.readOffset;
    // A genuine U+FFFD (invalid bytes, or the character itself) is let out once it cannot be a partial character.
    if (!final && full.endsWith(REPLACEMENT) && pending < MAX_PENDING_TOKENS) return "";
    if (!full.startsWith(prefix)) {
      // A decoder whose output for the window changed retroactively: emit nothing of the old text again.
      this.prefixOffset = this.readOffset;
      return this.step(final);
    }
    const chunk = full.slice(prefix.length);
    // The window must keep a token that shows text (not only skipped specials), or the next decode
    // would treat a later token as the first one and drop its leading space.
    if (chunk !== "") this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    this.emitted += chunk;
    return chunk;
  }
}
