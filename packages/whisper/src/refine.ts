// Word times moved onto the speech in the audio. Cross-attention timing (openai-whisper's) runs a
// word on from the end of the one before it, so a word after a pause starts in the pause, and its
// boundaries come out about 0.1-0.2 s early. Here the silences in the spectrogram decide: a word
// does not start or end in silence, and a pause near a boundary between two words becomes the gap
// between them. Off by default (results then equal openai-whisper's); `refineWordTimestamps`.
import { HOP_LENGTH } from "./mel.js";
import type { MelFrames } from "./mel.js";
import type { Segment, Word } from "./types.js";

const FRAME = HOP_LENGTH / 16000; // 10 ms
// Mel bins below about 300 Hz (hum, rumble, crowd noise) are left out of a frame's energy.
const LOW_BINS = 5;
// Cross-attention boundaries come out early: a pause is looked for around a point this much later.
const LAG = 0.1;
// Shortest sound a word keeps on either side of a pause moved to its boundary, in seconds.
const MIN_WORD = 0.06;

/** How word times are moved onto speech. */
export interface RefineWordOptions {
  /** A frame is silent when its energy is this many dB below the window's loudest (default 35), or near the noise floor. */
  thresholdDb?: number;
  /** Shortest pause that separates two words, in seconds (default 0.06). */
  minGap?: number;
  /** How far from a boundary a pause is looked for, in seconds (default 0.25). */
  reach?: number;
}

/**
 * Which of the frames [start, start + count) of the spectrogram hold sound: energy (from the log-mel
 * values, undoing openai-whisper's scaling) within `thresholdDb` of the loudest of them.
 */
export function voicedFrames(mel: MelFrames, start: number, count: number, thresholdDb = 35): Uint8Array {
  const db = new Float64Array(count);
  let top = -Infinity;
  for (let f = 0; f < count; f++) {
    let power = 0;
    const row = (start + f) * mel.nMels;
    for (let k = LOW_BINS; k < mel.nMels; k++) power += 10 ** (4 * mel.data[row + k] - 4);
    db[f] = 10 * Math.log10(power);
    if (db[f] > top) top = db[f];
  }
  // Silence is quieter than `thresholdDb` below the loudest frame, and quieter than 40% of the way
  // from the noise floor (the 10th percentile) to the loudest: digital silence allows soft sounds,
  // a noisy room keeps its hum and echo out.
  const floor = [...db].sort((a, b) => a - b)[Math.floor(0.1 * (count - 1))] ?? top;
  const threshold = Math.max(top - thresholdDb, floor + 0.4 * (top - floor));
  return Uint8Array.from(db, (v) => Number(v > threshold));
}

interface Run {
  start: number;
  end: number;
}

/** Silent runs of at least `minFrames` frames, as [start, end) in seconds from `offset`. */
function silences(voiced: Uint8Array, offset: number, minFrames: number): Run[] {
  const runs: Run[] = [];
  for (let f = 0; f < voiced.length; ) {
    if (voiced[f]) {
      f++;
      continue;
    }
    const from = f;
    while (f < voiced.length && !voiced[f]) f++;
    if (f - from >= minFrames) runs.push({ start: offset + from * FRAME, end: offset + f * FRAME });
  }
  return runs;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Moves the words of one window's segments onto speech, in place: a pause within `reach` of the
 * boundary between two words becomes their gap, and no word starts or ends inside a silence. The
 * segments' start and end follow their first and last word. `offset` is the window's start in seconds.
 */
export function refineWordTimes(segments: Segment[], voiced: Uint8Array, offset: number, options: RefineWordOptions = {}): void {
  const minGap = options.minGap ?? 0.06;
  const reach = options.reach ?? 0.25;
  const runs = silences(voiced, offset, Math.max(1, Math.round(minGap / FRAME)));
  const words: Word[] = segments.flatMap((s) => s.words ?? []);
  const inSilence = (t: number) => runs.find((r) => r.start <= t && t < r.end);
  for (let i = 0; i + 1 < words.length; i++) {
    const a = words[i], b = words[i + 1];
    const at = (a.end + b.start) / 2 + LAG;
    // The pause nearest the boundary that lies within both words' span.
    let best: Run | undefined;
    let distance = Infinity;
    for (const r of runs) {
      if (r.start < a.start || r.end > b.end) continue;
      const d = at < r.start ? r.start - at : at > r.end ? at - r.end : 0;
      if (d <= reach && d < distance) [best, distance] = [r, d];
    }
    // Both words keep some sound: a pause at the very edge of a word's span is its trailing silence.
    if (best && best.start - a.start >= MIN_WORD && b.end - best.end >= MIN_WORD) {
      a.end = round2(best.start);
      b.start = round2(best.end);
    }
  }
  // The first word starts where the silence before it ends, the last ends where the one after it starts.
  if (words.length) {
    const first = words[0], last = words[words.length - 1];
    const before = runs.filter((r) => r.start <= first.start + reach && Math.abs(r.end - first.start) <= reach && r.end < first.end).pop();
    if (before) first.start = round2(before.end);
    const after = runs.find((r) => Math.abs(r.start - last.end) <= reach && r.end >= last.end && r.start > last.start);
    if (after) last.end = round2(after.start);
  }
  for (const w of words) {
    const s = inSilence(w.start);
    if (s && s.end < w.end) w.start = round2(s.end);
    const e = inSilence(w.end - 1e-9);
    if (e && e.start > w.start) w.end = round2(e.start);
  }
  for (const s of segments) {
    if (!s.words?.length) continue;
    s.start = s.words[0].start;
    s.end = s.words[s.words.length - 1].end;
  }
}
