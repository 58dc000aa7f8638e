// refineWordTimestamps: word times moved onto the sound in the audio (tone bursts with known edges).
import { describe, expect, it } from "vitest";
import { N_SAMPLES, logMelFrames, refineWordTimes, voicedFrames } from "@tessera/whisper";
import type { Segment, Word } from "@tessera/whisper";

const RATE = 16000;
/** Silence 0-0.3 s, tone 0.3-0.8 s, silence, tone 1.0-1.5 s, silence to 1.8 s (a quiet hiss throughout). */
function bursts(): Float32Array {
  const x = new Float32Array(1.8 * RATE);
  let seed = 1;
  for (let i = 0; i < x.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const t = i / RATE;
    const on = (t >= 0.3 && t < 0.8) || (t >= 1.0 && t < 1.5);
    x[i] = (on ? 0.3 * Math.sin(2 * Math.PI * 440 * t) : 0) + 1e-4 * (seed / 2 ** 31 - 0.5);
  }
  return x;
}

const segment = (words: Word[]): Segment => ({
  id: 0, seek: 0, start: words[0].start, end: words[words.length - 1].end, text: "", tokens: [], temperature: 0,
  avgLogprob: 0, compressionRatio: 1, noSpeechProb: 0, words,
});

describe("refineWordTimes", () => {
  const audio = bursts();
  const mel = logMelFrames(audio, { padding: N_SAMPLES });
  const frames = audio.length / 160;
  const voiced = voicedFrames(mel, 0, frames);

  it("finds the tone frames", () => {
    const on = (t: number) => voiced[Math.round(t * 100)];
    for (const t of [0.1, 0.9, 1.7]) expect(on(t), `${t} s`).toBe(0);
    for (const t of [0.4, 0.7, 1.1, 1.4]) expect(on(t), `${t} s`).toBe(1);
  });

  it("moves an early boundary to the pause, and the outer edges off the silence", () => {
    // As cross-attention timing puts them: the first word from 0, the boundary early, the end late.
    const s = segment([{ word: " one", start: 0, end: 0.75, probability: 1 }, { word: " two", start: 0.75, end: 1.7, probability: 1 }]);
    refineWordTimes([s], voiced, 0);
    const [a, b] = s.words!;
    expect(Math.abs(a.start - 0.3)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(a.end - 0.8)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(b.start - 1.0)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(b.end - 1.5)).toBeLessThanOrEqual(0.03);
    expect([s.start, s.end]).toEqual([a.start, b.end]);
  });

  it("does not make a pause at the edge of a word's span the gap (the word would keep no sound)", () => {
    // " two" spans the pause 0.8-1.0 s and only 30 ms of the second tone after it.
    const s = segment([{ word: " one", start: 0.3, end: 0.7, probability: 1 }, { word: " two", start: 0.7, end: 1.03, probability: 1 }]);
    refineWordTimes([s], voiced, 0);
    expect([s.words![0].end, s.words![1].start]).toEqual([0.7, 0.7]);
  });

  it("keeps a boundary with no pause nearby, stretches the edges to the sound, honours the window offset", () => {
    // Both words inside the first tone (0.3-0.8 s of a window starting at 10 s).
    const s = segment([{ word: " on", start: 10.4, end: 10.55, probability: 1 }, { word: " e", start: 10.55, end: 10.7, probability: 1 }]);
    refineWordTimes([s], voiced, 10);
    const [a, b] = s.words!;
    expect([a.end, b.start]).toEqual([10.55, 10.55]);
    expect(Math.abs(a.start - 10.3)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(b.end - 10.8)).toBeLessThanOrEqual(0.03);
  });
});
