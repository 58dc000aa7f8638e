// Stop strings while streaming: text is let out only once it cannot be the start of a stop string,
// and generation stops at the first one to complete (which is not part of the output, as OpenAI's `stop`).

/** What {@link StopMatcher.push} returns. */
export interface StopResult {
  /** Text that is safe to emit now. */
  text: string;
  /** The stop string that ended the text, once one has appeared. */
  stop?: string;
}

/** Watches streamed text for stop strings. */
export class StopMatcher {
  private readonly stops: readonly string[];
  private held = "";
  private stopped: string | undefined;

  /** `stops`: non-empty strings (an empty list never stops). */
  constructor(stops: readonly string[] = []) {
    if (!Array.isArray(stops)) throw new Error("Stop strings must be an array of strings");
    stops.forEach((s, i) => {
      if (typeof s !== "string" || s.length === 0) throw new Error(`Stop string ${i} must be a non-empty string`);
    });
    this.stops = [...stops];
  }

  /** Whether a stop string has been seen. */
  get done(): boolean {
    return this.stopped !== undefined;
  }

  /** Adds a chunk; returns the text that can be emitted, and the stop string once one completes. */
  push(chunk: string): StopResult {
    if (this.stopped !== undefined) return { text: "", stop: this.stopped };
    const buf = this.held + chunk;
    // The stop string that completes first wins (the longest on ties), as if text came one character
    // at a time: so the result never depends on how the text was chunked.
    let end = Infinity;
    let which: string | undefined;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      const e = i + s.length;
      if (i >= 0 && (e < end || (e === end && s.length > (which as string).length))) {
        end = e;
        which = s;
      }
    }
    if (which !== undefined) {
      this.stopped = which;
      this.held = "";
      return { text: buf.slice(0, end - which.length), stop: which };
    }
    const keep = this.partialSuffix(buf);
    this.held = buf.slice(buf.length - keep);
    return { text: buf.slice(0, buf.length - keep) };
  }

  /** The held-back text, once the stream ended without a stop string. */
  flush(): string {
    const t = this.held;
    this.held = "";
    return this.stopped === undefined ? t : "";
  }

  /** Length of the longest suffix of `buf` that is a proper prefix of some stop string. */
  private partialSuffix(buf: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, buf.length); n > best; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
