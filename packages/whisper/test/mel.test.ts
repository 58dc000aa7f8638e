import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { N_FRAMES, N_SAMPLES, loadAudio, logMelFrames, logMelSpectrogram, melFilters, padOrTrim } from "@tessera/whisper";
import { fixturesDir, loadFixture } from "../../../test/helpers/reference.js";

interface MelCase {
  input: "sweep_2s" | "jfk_5s";
  n_mels: 80 | 128;
  shape: [number, number];
  frames: number[];
  values: number[][];
  sum: number;
  abs_sum: number;
  max_diff_transformers_vs_openai: number;
  unpadded_shape: [number, number];
  unpadded_frames: number[];
  unpadded_values: number[][];
}
const fixture = loadFixture<{ sweep: { seconds: number; sr: number; f0: number; f1: number; amp: number }; cases: MelCase[] }>("whisper/mel.json");

/** The linear sine sweep of gen_whisper_frontend.py (float64 math, then float32). */
function sweep(): Float32Array {
  const { seconds, sr, f0, f1, amp } = fixture.sweep;
  return Float32Array.from({ length: seconds * sr }, (_, i) => {
    const t = i / sr;
    return amp * Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * seconds)));
  });
}

const inputs = {
  sweep_2s: async () => sweep(),
  jfk_5s: () => loadAudio(join(fixturesDir, "whisper", "audio", "jfk_5s_16k.flac")),
};

/** Max |ours[frame] - expected| over the fixture's frames; ours is [frames, nMels]. */
function maxDiff(ours: Float32Array, nMels: number, frames: number[], values: number[][]): number {
  let worst = 0;
  frames.forEach((f, k) => values[k].forEach((v, m) => (worst = Math.max(worst, Math.abs(ours[f * nMels + m] - v)))));
  return worst;
}

describe("log-mel spectrogram matches openai-whisper (and so transformers' WhisperFeatureExtractor)", () => {
  for (const c of fixture.cases) {
    it(`${c.input}, ${c.n_mels} mels: padded to 30 s as transcribe() does, within 1e-4`, async () => {
      const audio = await inputs[c.input]();
      // openai-whisper's transcribe(): log_mel_spectrogram(audio, n_mels, padding=N_SAMPLES)[:, :3000].
      const mel = padOrTrim(logMelSpectrogram(audio, { nMels: c.n_mels, padding: N_SAMPLES }), N_FRAMES, 0);
      expect(mel.shape).toEqual(c.shape);
      expect(mel.dtype).toBe("float32");
      const data = mel.dataSync() as Float32Array;
      expect(maxDiff(data, c.n_mels, c.frames, c.values)).toBeLessThan(1e-4);
      let s = 0, a = 0;
      for (const v of data) {
        s += v;
        a += Math.abs(v);
      }
      // Every element within 1e-4 keeps the sums within 1e-4 per element.
      expect(Math.abs(s - c.sum)).toBeLessThan(1e-4 * data.length);
      expect(Math.abs(a - c.abs_sum)).toBeLessThan(1e-4 * data.length);
      expect(c.max_diff_transformers_vs_openai).toBeLessThan(1e-4);
    });

    it(`${c.input}, ${c.n_mels} mels: unpadded (drops the last STFT frame)`, async () => {
      const mel = logMelSpectrogram(await inputs[c.input](), { nMels: c.n_mels });
      expect(mel.shape).toEqual(c.unpadded_shape);
      // 2e-4: the sweep's last frame (reflect padding at its 7.5 kHz end) has a mel bin 80 dB below the
      // frame's peak, where float32 FFT rounding shows: float64 gives -0.55210 there, torch's float32
      // -0.55209, ours -0.55194. Everything else is within 1e-4.
      expect(maxDiff(mel.dataSync() as Float32Array, c.n_mels, c.unpadded_frames, c.unpadded_values)).toBeLessThan(2e-4);
    });
  }

  it("accepts a Tensor and reusable filters", () => {
    const x = sweep();
    const filters = melFilters(80);
    expect(filters.shape).toEqual([80, 201]);
    const a = logMelSpectrogram(tc.tensor(x), { filters }).dataSync();
    const b = logMelSpectrogram(x).dataSync();
    expect(a).toEqual(b);
  });

  it("logMelFrames computes the same spectrogram chunk by chunk (long audio)", async () => {
    const audio = await inputs.jfk_5s();
    for (const [padding, chunkFrames] of [[0, 37], [N_SAMPLES, 700], [1234, 3000]]) {
      const whole = logMelSpectrogram(audio, { padding }).dataSync() as Float32Array;
      const chunked = logMelFrames(audio, { padding, chunkFrames });
      expect([chunked.frames, chunked.nMels]).toEqual([whole.length / 80, 80]);
      let worst = 0;
      for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs(whole[i] - chunked.data[i]));
      expect(worst).toBeLessThan(1e-5);
    }
    expect(() => logMelFrames(new Float32Array(100))).toThrow("100 samples are too few");
    expect(() => logMelFrames(audio, { chunkFrames: 0 })).toThrow("chunkFrames must be a positive integer");
  });
});

describe("padOrTrim and bad input", () => {
  it("pads with zeros or trims along an axis", () => {
    const x = tc.tensor([1, 2, 3]);
    expect(padOrTrim(x, 5).tolist()).toEqual([1, 2, 3, 0, 0]);
    expect(padOrTrim(x, 2).tolist()).toEqual([1, 2]);
    expect(padOrTrim(x, 3)).toBe(x);
    const m = tc.tensor([[1, 2], [3, 4], [5, 6]]);
    expect(padOrTrim(m, 2, 0).tolist()).toEqual([[1, 2], [3, 4]]);
    expect(padOrTrim(m, 4, 0).tolist()).toEqual([[1, 2], [3, 4], [5, 6], [0, 0]]);
    expect(padOrTrim(m, 3, 1).tolist()).toEqual([[1, 2, 0], [3, 4, 0], [5, 6, 0]]);
    expect(padOrTrim(tc.zeros([10]), undefined).shape).toEqual([N_SAMPLES]);
    expect(() => padOrTrim(m, 3, 2)).toThrow("padOrTrim: axis 2 is out of range for shape [3, 2]");
    expect(() => padOrTrim(m, -1)).toThrow("padOrTrim: length must be a non-negative integer, got -1");
  });

  it("short, empty and malformed input throw clear errors", () => {
    expect(() => logMelSpectrogram(new Float32Array(200))).toThrow(
      "logMelSpectrogram: 200 samples are too few for a 400-point STFT (at least 201 needed); pad the audio",
    );
    expect(() => logMelSpectrogram(new Float32Array(0))).toThrow("logMelSpectrogram: 0 samples are too few");
    // Empty audio padded to 30 s is the silent window Whisper sees: constant (floor - max + ...) = (-10 + 4) / 4.
    const silent = logMelSpectrogram(new Float32Array(0), { padding: N_SAMPLES });
    expect(silent.shape).toEqual([N_FRAMES, 80]);
    expect(new Set(silent.dataSync() as Float32Array)).toEqual(new Set([-1.5]));
    expect(() => logMelSpectrogram(new Float32Array(1000), { nMels: 64 as 80 })).toThrow("nMels must be 80 or 128, got 64");
    expect(() => logMelSpectrogram(new Float32Array(1000), { padding: -1 })).toThrow("logMelSpectrogram: padding must be a non-negative integer, got -1");
    expect(() => logMelSpectrogram(tc.zeros([2, 1000]))).toThrow("logMelSpectrogram: audio must be 1-D (mono samples), got shape [2, 1000]");
    expect(() => logMelSpectrogram(new Float32Array(1000), { filters: tc.zeros([80, 200]) })).toThrow(
      "logMelSpectrogram: filters must be [nMels, 201], got [80, 200]",
    );
  });
});
