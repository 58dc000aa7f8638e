// Stop strings while streaming: nothing that could start a stop string is emitted early, the output
// ends right before the first stop string, and the chunking never changes the result.
import { describe, expect, it } from "vitest";
import { StopMatcher } from "@tessera/lm";

/** Feeds `chunks`; returns what was emitted and which stop ended it. */
function feed(stops: string[], chunks: string[]): { text: string; stop?: string; emitted: string[] } {
  const m = new StopMatcher(stops);
  const emitted: string[] = [];
  for (const c of chunks) {
    const r = m.push(c);
    emitted.push(r.text);
    if (r.stop !== undefined) return { text: emitted.join(""), stop: r.stop, emitted };
  }
  emitted.push(m.flush());
  return { text: emitted.join(""), emitted };
}

/** The reference: read the whole text one code unit at a time and cut before the first stop string to complete. */
function reference(stops: string[], text: string): { text: string; stop?: string } {
  for (let end = 1; end <= text.length; end++) {
    const done = stops.filter((s) => text.slice(0, end).endsWith(s)).sort((a, b) => b.length - a.length);
    if (done.length) return { text: text.slice(0, end - done[0].length), stop: done[0] };
  }
  return { text };
}

describe("StopMatcher", () => {
  it("holds back a possible start of a stop string, then lets it out", () => {
    const m = new StopMatcher(["\n\nUser:"]);
    expect(m.push("Hello\n").text).toBe("Hello");
    expect(m.push("\nUs").text).toBe("");
    expect(m.push("ually").text).toBe("\n\nUsually");
    expect(m.flush()).toBe("");
  });
  it("stops across chunk boundaries, without the stop string", () => {
    expect(feed(["<|end|>"], ["The answer", " is 4<|e", "nd|> ignored"])).toMatchObject({ text: "The answer is 4", stop: "<|end|>" });
    expect(feed(["###"], ["a#", "#", "#b"])).toMatchObject({ text: "a", stop: "###" });
  });
  it("matches the whole-text reference for every chunking", () => {
    const stops = ["ab", "abc", "bcd", "\n\n", "😀x", "wxyz", "xy"];
    const texts = ["xxabcd", "zbcdab", "wxyz", "awxy", "no stop here a", "tail a", "line\n\nnext", "emoji 😀😀x end", "aab", "bc"];
    for (const t of texts) {
      const ref = reference(stops, t);
      const chars = [...t];
      for (let size = 1; size <= 4; size++) {
        const chunks: string[] = [];
        for (let i = 0; i < chars.length; i += size) chunks.push(chars.slice(i, i + size).join(""));
        const got = feed(stops, chunks);
        expect({ text: got.text, stop: got.stop }, `${JSON.stringify(t)} by ${size}`).toEqual(ref);
      }
    }
  });
  it("emits everything when there are no stop strings, and nothing after a stop", () => {
    expect(feed([], ["a", "b"]).emitted).toEqual(["a", "b", ""]);
    const m = new StopMatcher(["x"]);
    expect(m.push("axb")).toEqual({ text: "a", stop: "x" });
    expect(m.done).toBe(true);
    expect(m.push("more")).toEqual({ text: "", stop: "x" });
    expect(m.flush()).toBe("");
  });
  it("rejects invalid stop strings", () => {
    expect(() => new StopMatcher([""])).toThrow(/Stop string 0 must be a non-empty string/);
    expect(() => new StopMatcher("x" as never)).toThrow(/must be an array/);
  });
});
