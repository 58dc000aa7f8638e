import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { downmix, findFfmpeg, loadAudio, resample, sniffFormat } from "@tessera/whisper";
import { fixturesDir, loadFixture, sharedDataFile } from "../../../test/helpers/reference.js";

interface AudioCase {
  decoder: string;
  sample_rate?: number;
  channels?: number;
  frames?: number;
  raw_indices?: number[];
  raw_values?: number[][];
  first_raw?: number[];
  length_16k: number;
  every_1000_16k?: number[];
  every_100_16k?: number[];
  rms_16k: number;
}
const { cases } = loadFixture<{ cases: Record<string, AudioCase> }>("whisper/audio.json");
const audioDir = join(fixturesDir, "whisper", "audio");
const file = (name: string) => join(audioDir, name);
// jfk.flac (1.1 MB) is not committed: it lives in the shared data folder beside the checkout.
const JFK = sharedDataFile("audio/jfk.flac");
if (!JFK) console.warn("audio.test.ts: shared/data/audio/jfk.flac not found beside the checkout: the jfk.flac test is skipped");
const tmp = mkdtempSync(join(tmpdir(), "tessera-audio-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The test tones of gen_whisper_frontend.py at time t (seconds). */
const tones = (t: number) =>
  0.3 * Math.sin(2 * Math.PI * 440 * t) + 0.2 * Math.sin(2 * Math.PI * 1000 * t + 0.5) + 0.1 * Math.sin(2 * Math.PI * 3500 * t + 1.0);

function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s / Math.max(1, a.length));
}

/** Max |a - tones| over samples at 16 kHz, skipping `edge` samples at both ends (filter warm-up). */
function maxToneError(a: Float32Array, scale: number, edge: number): number {
  let worst = 0;
  for (let i = edge; i < a.length - edge; i++) worst = Math.max(worst, Math.abs(a[i] - scale * tones(i / 16000)));
  return worst;
}

/**
 * RMS of (ours - reference) relative to the reference's RMS, on the reference's strided samples,
 * away from the ends (resamplers start and stop their filters differently).
 */
function relativeError(ours: Float32Array, strided: number[], stride: number): number {
  let d = 0, r = 0;
  strided.forEach((v, k) => {
    if (k * stride < 64 || k * stride >= ours.length - 64) return;
    d += (ours[k * stride] - v) ** 2;
    r += v * v;
  });
  return Math.sqrt(d / r);
}

describe("WAV", () => {
  it("int16 mono 16 kHz decodes exactly", async () => {
    const a = await loadAudio(file("tones_16k_int16.wav"));
    const c = cases["tones_16k_int16.wav"];
    expect(a.length).toBe(c.frames);
    c.first_raw!.forEach((v, i) => expect(a[i]).toBeCloseTo(v, 6));
    expect(maxToneError(a, 1, 0)).toBeLessThan(1 / 32768 + 1e-7);
  });

  it("float32 mono 16 kHz decodes exactly", async () => {
    const a = await loadAudio(file("tones_16k_float32.wav"));
    expect(a.length).toBe(4000);
    expect(maxToneError(a, 1, 0)).toBeLessThan(1e-6);
  });

  it("stereo 44.1 kHz int16: channels averaged, resampled to 16 kHz", async () => {
    const a = await loadAudio(file("tones_44k_stereo_int16.wav"));
    const c = cases["tones_44k_stereo_int16.wav"];
    expect(a.length).toBe(Math.ceil((11025 * 16000) / 44100));
    expect(Math.abs(a.length - c.length_16k)).toBeLessThanOrEqual(1); // ffmpeg's count
    // Left = tones, right = tones / 2: the mix is 0.75 x tones, all of them well inside the passband.
    expect(maxToneError(a, 0.75, 64)).toBeLessThan(2e-4);
    expect(relativeError(a, c.every_100_16k!, 100)).toBeLessThan(0.01); // ffmpeg -ac 1 -ar 16000
  });

  it("24-bit 22.05 kHz", async () => {
    const c = cases["tones_22k_int24.wav"];
    const a = await loadAudio(file("tones_22k_int24.wav"));
    expect(Math.abs(a.length - c.length_16k)).toBeLessThanOrEqual(1);
    expect(maxToneError(a, 1, 64)).toBeLessThan(2e-4);
    const raw = await loadAudio(file("tones_22k_int24.wav"), { sampleRate: 22050 });
    c.first_raw!.forEach((v, i) => expect(raw[i]).toBeCloseTo(v, 6));
  });

  it("a WAV with no samples is a valid empty result", async () => {
    const a = await loadAudio(file("empty.wav"));
    expect(a).toBeInstanceOf(Float32Array);
    expect(a.length).toBe(0);
  });

  it("truncated data chunk throws, naming the file", async () => {
    const bytes = readFileSync(file("tones_16k_int16.wav"));
    const path = join(tmp, "cut.wav");
    writeFileSync(path, bytes.subarray(0, 2000));
    await expect(loadAudio(path)).rejects.toThrow(`cannot load audio from '${path}': truncated WAV: the data chunk declares 8000 bytes but only 1956 are present`);
    await expect(loadAudio(bytes.subarray(0, 30))).rejects.toThrow("cannot load audio from the audio buffer (30 bytes): truncated or malformed 'fmt ' chunk");
  });

  it("A-law, mu-law and 8-bit PCM", async () => {
    for (const [encoding, tol] of [["a-law", 0.02], ["mu-law", 0.02], ["unsigned-integer", 0.01]] as const) {
      const wav = makeWav(encoding);
      const a = await loadAudio(wav);
      expect(a.length, encoding).toBe(1600);
      expect(maxToneError(a, 1, 0), encoding).toBeLessThan(tol);
    }
  });
});

/** A 0.1 s 16 kHz tones WAV in 8-bit A-law (tag 6), mu-law (tag 7) or unsigned PCM (tag 1), encoded here. */
function makeWav(encoding: "a-law" | "mu-law" | "unsigned-integer"): Uint8Array {
  const n = 1600;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x = tones(i / 16000);
    if (encoding === "unsigned-integer") data[i] = Math.round(x * 127 + 128);
    else data[i] = encoding === "a-law" ? linearToAlaw(Math.round(x * 32767)) : linearToMulaw(Math.round(x * 32767));
  }
  const b = Buffer.alloc(44 + n);
  b.write("RIFF", 0);
  b.writeUInt32LE(36 + n, 4);
  b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(encoding === "a-law" ? 6 : encoding === "mu-law" ? 7 : 1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(16000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(1, 32);
  b.writeUInt16LE(8, 34);
  b.write("data", 36);
  b.writeUInt32LE(n, 40);
  b.set(data, 44);
  return b;
}

// Reference G.711 encoders (ITU-T / Sun g711.c).
function linearToAlaw(pcm: number): number {
  const segEnd = [0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0x7fff];
  let v = pcm >> 3;
  let mask = 0xd5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  let seg = segEnd.findIndex((e) => v <= e >> 3);
  if (seg < 0) return 0x7f ^ mask;
  const aval = (seg << 4) | (seg < 2 ? (v >> 1) & 0xf : (v >> seg) & 0xf);
  return aval ^ mask;
}

function linearToMulaw(pcm: number): number {
  const BIAS = 0x84;
  let v = pcm >> 2;
  let mask = 0xff;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  }
  v = Math.min(v + (BIAS >> 2), 0x1fff);
  const segEnd = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
  const seg = segEnd.findIndex((e) => v <= e);
  return (((seg << 4) | ((v >> (seg + 1)) & 0xf)) ^ mask) & 0xff;
}

describe("compressed formats decode in process", () => {
  it.skipIf(!JFK)("FLAC: jfk.flac (44.1 kHz stereo, 24-bit) matches soundfile, then ffmpeg at 16 kHz", async () => {
    const c = cases.jfk_flac;
    const raw = await loadAudio(JFK!, { sampleRate: 44100 });
    expect(raw.length).toBe(c.frames);
    // The raw check needs the channels: decode the left/right mix at the native rate.
    c.raw_indices!.forEach((idx, k) => expect(raw[idx]).toBeCloseTo((c.raw_values![k][0] + c.raw_values![k][1]) / 2, 6));
    const a = await loadAudio(JFK!);
    expect(a.length).toBe(c.length_16k);
    expect(relativeError(a, c.every_1000_16k!, 1000)).toBeLessThan(0.01);
    expect(Math.abs(rms(a) - c.rms_16k) / c.rms_16k).toBeLessThan(1e-3);
  });

  it("FLAC: a short last frame decodes too (the frame parser alone drops it)", async () => {
    // garden.flac: 70 frames of 1152 samples, then one of 518 (ffprobe: 81158 samples).
    const a = await loadAudio(join(fixturesDir, "whisper", "speech", "garden.flac"));
    expect(a.length).toBe(81158);
  });

  it("MP3 (16 kHz mono) matches ffmpeg's decode", async () => {
    const c = cases["speech_16k.mp3"];
    const a = await loadAudio(file("speech_16k.mp3"));
    expect(a.length).toBe(c.length_16k);
    expect(relativeError(a, c.every_100_16k!, 100)).toBeLessThan(0.01);
  });

  it("Ogg/Opus matches ffmpeg's decode", async () => {
    const c = cases["speech.opus"];
    const a = await loadAudio(readFileSync(file("speech.opus")));
    expect(a.length).toBe(c.length_16k);
    // libopus decoding at 16 kHz vs ffmpeg decoding at 48 kHz and resampling: same speech, different filters.
    expect(relativeError(a, c.every_100_16k!, 100)).toBeLessThan(0.1);
    expect(Math.abs(rms(a) - c.rms_16k) / c.rms_16k).toBeLessThan(0.02);
  });

  it("Ogg/Vorbis (22.05 kHz stereo) matches ffmpeg's decode", async () => {
    const c = cases["speech_stereo.ogg"];
    const a = await loadAudio(file("speech_stereo.ogg"));
    expect(Math.abs(a.length - c.length_16k)).toBeLessThanOrEqual(1);
    expect(relativeError(a, c.every_100_16k!, 100)).toBeLessThan(0.02);
  });

  it("truncated or corrupt compressed files throw, naming the file", async () => {
    for (const [name, cut, message] of [
      ["jfk_5s_16k.flac", 40_000, "truncated FLAC"],
      ["speech.opus", 3000, "truncated Ogg"],
    ] as const) {
      const path = join(tmp, name);
      writeFileSync(path, readFileSync(file(name)).subarray(0, cut));
      await expect(loadAudio(path), name).rejects.toThrow(`cannot load audio from '${path}': ${message}`);
    }
    const garbage = Buffer.alloc(4000, 0x55);
    garbage.write("fLaC", 0);
    await expect(loadAudio(garbage)).rejects.toThrow("cannot load audio from the audio buffer (4000 bytes)");
  });
});

describe("inputs and errors", () => {
  it("a Float32Array is taken as 16 kHz samples, as is", async () => {
    const x = new Float32Array([0.1, -0.2, 0.3]);
    expect(await loadAudio(x)).toBe(x);
    expect((await loadAudio(new Float32Array(0))).length).toBe(0);
  });

  it("missing, empty and non-file paths", async () => {
    await expect(loadAudio(join(tmp, "nope.wav"))).rejects.toThrow(`audio file not found: '${join(tmp, "nope.wav")}'`);
    writeFileSync(join(tmp, "empty.mp3"), "");
    await expect(loadAudio(join(tmp, "empty.mp3"))).rejects.toThrow(`cannot load audio from '${join(tmp, "empty.mp3")}': it is empty (0 bytes)`);
    await expect(loadAudio(tmp)).rejects.toThrow(`audio path '${tmp}' is not a file`);
    await expect(loadAudio(new Uint8Array(0))).rejects.toThrow("cannot load audio from the audio buffer (0 bytes): it is empty (0 bytes)");
    await expect(loadAudio(42 as unknown as string)).rejects.toThrow("loadAudio: expected a file path");
    await expect(loadAudio(file("empty.wav"), { sampleRate: 0 })).rejects.toThrow("loadAudio: sampleRate must be a positive integer, got 0");
  });

  it("formats needing ffmpeg say how to get it when there is none", async () => {
    const saved = { PATH: process.env.PATH, FFMPEG_PATH: process.env.FFMPEG_PATH };
    process.env.PATH = "";
    delete process.env.FFMPEG_PATH;
    try {
      await expect(loadAudio(file("speech.m4a"))).rejects.toThrow(/it is MP4 \(not decoded in process\), which needs ffmpeg: install ffmpeg/);
      await expect(loadAudio(Buffer.from("just some text, not audio"))).rejects.toThrow(/it is an unrecognised format, which needs ffmpeg/);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.FFMPEG_PATH !== undefined) process.env.FFMPEG_PATH = saved.FFMPEG_PATH;
    }
    await expect(loadAudio(file("speech.m4a"), { ffmpegPath: join(tmp, "no-ffmpeg") })).rejects.toThrow(`ffmpegPath '${join(tmp, "no-ffmpeg")}' is not an executable file`);
  });

  it("recognises containers by their first bytes", () => {
    const head = (name: string) => readFileSync(file(name)).subarray(0, 64);
    expect(sniffFormat(head("tones_16k_int16.wav"))).toBe("wav");
    expect(sniffFormat(head("jfk_5s_16k.flac"))).toBe("flac");
    expect(sniffFormat(head("speech_16k.mp3"))).toBe("mp3");
    expect(sniffFormat(head("speech.opus"))).toBe("ogg-opus");
    expect(sniffFormat(head("speech_stereo.ogg"))).toBe("ogg-vorbis");
    expect(sniffFormat(head("speech.m4a"))).toBe("mp4");
    expect(sniffFormat(Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3, 0, 0]))).toBe("webm");
    expect(sniffFormat(Uint8Array.from([0xff, 0xf1, 0x50, 0x80]))).toBe("unknown"); // ADTS AAC, not MP3
  });
});

const ffmpeg = (() => {
  try {
    return findFfmpeg();
  } catch {
    return undefined;
  }
})();
if (!ffmpeg) console.warn("audio.test.ts: no ffmpeg on this machine (PATH, FFMPEG_PATH, ffmpeg-static): the ffmpeg fallback test is skipped");

describe.skipIf(!ffmpeg)("ffmpeg fallback (skipped when no ffmpeg is installed)", () => {
  it("decodes m4a (AAC) through ffmpeg, from a path and from bytes", async () => {
    const c = cases["speech.m4a"];
    const a = await loadAudio(file("speech.m4a"));
    expect(a.length).toBe(c.length_16k);
    expect(relativeError(a, c.every_100_16k!, 100)).toBeLessThan(1e-5);
    const b = await loadAudio(readFileSync(file("speech.m4a")));
    expect(b).toEqual(a);
    const path = join(tmp, "bad.m4a");
    writeFileSync(path, readFileSync(file("speech.m4a")).subarray(0, 200));
    await expect(loadAudio(path)).rejects.toThrow(`ffmpeg could not decode '${path}'`);
    expect(execFileSync(ffmpeg!, ["-version"]).toString()).toMatch(/ffmpeg version/);
  });
});

describe("resample and downmix", () => {
  it("keeps in-band tones and removes what is above the new Nyquist rate", () => {
    const n = 48000;
    const x = Float32Array.from({ length: n }, (_, i) => tones(i / 48000));
    const y = resample(x, 48000, 16000);
    expect(y.length).toBe(16000);
    expect(maxToneError(y, 1, 64)).toBeLessThan(1e-4);
    // A 10 kHz tone sampled at 44.1 kHz would alias to 6 kHz at 16 kHz: it must be filtered out.
    const hi = Float32Array.from({ length: 44100 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 10000 * i) / 44100));
    expect(rms(resample(hi, 44100, 16000).subarray(100, -100))).toBeLessThan(0.5 * Math.SQRT1_2 * 1e-3);
  });

  it("upsamples and handles odd rates", () => {
    expect(rms(resample(new Float32Array(8000), 8000, 16000))).toBe(0); // silence stays silence
    expect(resample(new Float32Array(0), 44100, 16000).length).toBe(0);
    const y = Float32Array.from({ length: 11025 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 300 * i) / 11025));
    for (const rate of [11025 * 2, 16000, 44101]) {
      const z = resample(y, 11025, rate);
      expect(z.length).toBe(rate); // 1 s in, 1 s out
      let err = 0;
      for (let i = 100; i < z.length - 100; i++) err = Math.max(err, Math.abs(z[i] - 0.5 * Math.sin((2 * Math.PI * 300 * i) / rate)));
      expect(err, `11025 -> ${rate}`).toBeLessThan(1e-4);
    }
    expect(() => resample(y, 0, 16000)).toThrow("resample: fromRate must be a positive integer (Hz), got 0");
  });

  it("downmix averages channels", () => {
    expect(Array.from(downmix([Float32Array.from([1, 0.5]), Float32Array.from([0, -0.5])]))).toEqual([0.5, 0]);
    expect(downmix([]).length).toBe(0);
  });
});
