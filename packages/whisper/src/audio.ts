// Audio loading: WAV, MP3, FLAC and Ogg (Opus, Vorbis) decode in process (WebAssembly decoders, no
// binaries); anything else goes through ffmpeg when one is found. Output: mono float32 at 16 kHz.
import { readFile, stat } from "node:fs/promises";
import type { DecodedAudio } from "./audio_types.js";
import { FFMPEG_HELP, decodeWithFfmpeg, findFfmpeg } from "./ffmpeg.js";
import { decodeOggOpus, oggCodec } from "./ogg.js";
import { downmix, resample } from "./resample.js";
import { decodeWav } from "./wav.js";

/** Whisper's sample rate. */
export const SAMPLE_RATE = 16000;

/**
 * Audio to transcribe: a file path, the bytes of an encoded file (Buffer or Uint8Array), or a
 * Float32Array of mono samples already at the target rate (16 kHz), used as is.
 */
export type AudioInput = string | Uint8Array | Float32Array;

export interface LoadAudioOptions {
  /** Output sample rate in Hz (default 16000). */
  sampleRate?: number;
  /** The ffmpeg binary for formats not decoded in process (default: FFMPEG_PATH, PATH, then `ffmpeg-static`). */
  ffmpegPath?: string;
}

/** The container formats recognised from a file's first bytes. */
export type AudioFormat = "wav" | "mp3" | "flac" | "ogg-opus" | "ogg-vorbis" | "ogg-flac" | "mp4" | "webm" | "aiff" | "unknown";

/** Recognises a container from its magic bytes. */
export function sniffFormat(b: Uint8Array): AudioFormat {
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if ((ascii(0, 4) === "RIFF" || ascii(0, 4) === "RF64") && ascii(8, 12) === "WAVE") return "wav";
  if (ascii(0, 4) === "fLaC") return "flac";
  if (ascii(0, 4) === "OggS" && b.length >= 28) {
    const codec = oggCodec(b);
    if (codec !== "unknown") return `ogg-${codec}`;
    return "unknown";
  }
  if (ascii(0, 3) === "ID3") return "mp3";
  // An MPEG audio frame sync with layer bits != 00 (ADTS AAC has 00 there).
  if (b.length >= 2 && b[0] === 0xff && (b[1] & 0xe0) === 0xe0 && (b[1] & 0x06) !== 0) return "mp3";
  if (ascii(4, 8) === "ftyp") return "mp4";
  if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return "webm";
  if (ascii(0, 4) === "FORM" && (ascii(8, 12) === "AIFF" || ascii(8, 12) === "AIFC")) return "aiff";
  return "unknown";
}

async function readInput(input: string): Promise<Uint8Array> {
  let info;
  try {
    info = await stat(input);
  } catch {
    throw new Error(`audio file not found: '${input}'`);
  }
  if (!info.isFile()) throw new Error(`audio path '${input}' is not a file`);
  return readFile(input);
}

/** Byte offset of the first audio frame: after the metadata blocks (undefined when they run past the end). */
function firstFlacFrame(bytes: Uint8Array): number | undefined {
  let at = 4;
  for (;;) {
    if (at + 4 > bytes.length) return undefined;
    const last = (bytes[at] & 0x80) !== 0;
    at += 4 + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]);
    if (last) return at;
  }
}

async function decodeFlac(bytes: Uint8Array, fail: (m: string) => never): Promise<DecodedAudio> {
  const { FLACDecoder } = await import("@wasm-audio-decoders/flac");
  const decoder = new FLACDecoder();
  try {
    await decoder.ready;
    // STREAMINFO (right after "fLaC" and a 4-byte block header) holds the total sample count.
    const expected = bytes.length >= 42 ? (bytes[8 + 13] & 0x0f) * 2 ** 32 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(8 + 14, false) : 0;
    // The decoder's frame parser only emits a frame once it has seen the next frame's header, so it
    // drops the file's last frame. Appending the first frame's header (16 bytes, no data) gives that
    // frame a successor; the bare header decodes to nothing, so a truncated file still comes up short.
    const first = firstFlacFrame(bytes);
    let input = bytes;
    if (expected > 0 && first !== undefined && first < bytes.length) {
      const again = bytes.subarray(first, Math.min(bytes.length, first + 16));
      input = new Uint8Array(bytes.length + again.length);
      input.set(bytes);
      input.set(again, bytes.length);
    }
    const { channelData, samplesDecoded, sampleRate, errors } = await decoder.decodeFile(input);
    if (errors.length) fail(`corrupt FLAC data (${errors[0].message})`);
    if (expected > 0 && samplesDecoded < expected) fail(`truncated FLAC: ${samplesDecoded} of its ${expected} samples decode`);
    if (samplesDecoded === 0 && bytes.length > 42 + 16 && expected !== 0) fail("no FLAC frames could be decoded");
    return { channelData: expected > 0 ? channelData.map((c) => c.subarray(0, expected)) : channelData, sampleRate };
  } finally {
    decoder.free();
  }
}

async function decodeMp3(bytes: Uint8Array, fail: (m: string) => never): Promise<DecodedAudio> {
  const { MPEGDecoder } = await import("mpg123-decoder");
  const decoder = new MPEGDecoder();
  try {
    await decoder.ready;
    const { channelData, samplesDecoded, sampleRate, errors } = decoder.decode(bytes);
    if (errors.length) fail(`corrupt or truncated MP3 data (${errors[0].message})`);
    if (samplesDecoded === 0) fail("no MPEG audio frames could be decoded");
    return { channelData, sampleRate };
  } finally {
    decoder.free();
  }
}

async function decodeOggVorbis(bytes: Uint8Array, fail: (m: string) => never): Promise<DecodedAudio> {
  const { OggVorbisDecoder } = await import("@wasm-audio-decoders/ogg-vorbis");
  const decoder = new OggVorbisDecoder();
  try {
    await decoder.ready;
    const { channelData, sampleRate, errors } = await decoder.decodeFile(bytes);
    if (errors.length) fail(`corrupt Ogg/Vorbis data (${errors[0].message})`);
    return { channelData, sampleRate };
  } finally {
    decoder.free();
  }
}

/**
 * Loads audio as mono float32 samples at `sampleRate` (16 kHz by default), as Whisper expects.
 *
 * WAV (PCM, float, A-/mu-law), MP3, FLAC and Ogg (Opus, Vorbis) are decoded in process; channels
 * are averaged and the result resampled with a windowed-sinc filter. Other formats (m4a, mp4,
 * webm, ...) are decoded by ffmpeg (`-ac 1 -ar <rate>`) when one is found (`ffmpegPath`,
 * FFMPEG_PATH, PATH, or an installed `ffmpeg-static`); otherwise this throws, saying how to get one.
 * A Float32Array is taken as samples already at `sampleRate` and returned as is.
 *
 * A valid file that holds no samples gives an empty Float32Array. A missing or empty file, or
 * unreadable, corrupt or truncated audio throws an Error naming the file.
 */
export async function loadAudio(input: AudioInput, options: LoadAudioOptions = {}): Promise<Float32Array> {
  const sampleRate = options.sampleRate ?? SAMPLE_RATE;
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new Error(`loadAudio: sampleRate must be a positive integer, got ${String(sampleRate)}`);
  if (input instanceof Float32Array) return input;
  let what: string;
  let bytes: Uint8Array;
  if (typeof input === "string") {
    what = `'${input}'`;
    bytes = await readInput(input);
  } else if (input instanceof Uint8Array) {
    what = `the audio buffer (${input.length} bytes)`;
    bytes = input;
  } else {
    throw new Error("loadAudio: expected a file path, a Buffer/Uint8Array of an encoded file, or a Float32Array of samples");
  }
  if (bytes.length === 0) throw new Error(`cannot load audio from ${what}: it is empty (0 bytes)`);
  const fail = (message: string): never => {
    throw new Error(`cannot load audio from ${what}: ${message}`);
  };
  const format = sniffFormat(bytes);
  let decoded: DecodedAudio;
  switch (format) {
    case "wav":
      decoded = decodeWav(bytes, fail);
      break;
    case "flac":
      decoded = await decodeFlac(bytes, fail);
      break;
    case "mp3":
      decoded = await decodeMp3(bytes, fail);
      break;
    case "ogg-opus":
      decoded = await decodeOggOpus(bytes, sampleRate, fail);
      break;
    case "ogg-vorbis":
      decoded = await decodeOggVorbis(bytes, fail);
      break;
    default: {
      const ffmpeg = findFfmpeg(options.ffmpegPath);
      const kind = format === "unknown" ? "an unrecognised format" : `${format.toUpperCase()} (${format === "ogg-flac" ? "FLAC in Ogg" : "not decoded in process"})`;
      if (!ffmpeg) fail(`it is ${kind}, which needs ffmpeg: ${FFMPEG_HELP}`);
      return decodeWithFfmpeg(ffmpeg!, typeof input === "string" ? input : bytes, sampleRate, what);
    }
  }
  return resample(downmix(decoded.channelData), decoded.sampleRate, sampleRate);
}
