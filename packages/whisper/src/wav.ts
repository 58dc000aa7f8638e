// RIFF/RF64 WAVE reader: PCM 8/16/24/32-bit, IEEE float 32/64, A-law and mu-law, WAVE_FORMAT_EXTENSIBLE.
import type { DecodedAudio } from "./audio_types.js";

const PCM = 1, FLOAT = 3, ALAW = 6, MULAW = 7, EXTENSIBLE = 0xfffe;

interface Format {
  tag: number;
  channels: number;
  sampleRate: number;
  bits: number;
  blockAlign: number;
}

/** Decodes a WAV file's bytes to per-channel float32 in [-1, 1]; `fail` throws an Error naming the file. */
export function decodeWav(bytes: Uint8Array, fail: (message: string) => never): DecodedAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag4 = (at: number) => String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
  if (bytes.length < 12) fail("truncated WAV header");
  const rf64 = tag4(0) === "RF64";
  let fmt: Format | undefined;
  let dataSize64 = -1;
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = tag4(pos);
    let size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === "ds64" && rf64) {
      if (body + 16 > bytes.length) fail("truncated RF64 ds64 chunk");
      dataSize64 = Number(view.getBigUint64(body + 8, true));
    } else if (id === "fmt ") {
      if (size < 16 || body + 16 > bytes.length) fail("truncated or malformed 'fmt ' chunk");
      fmt = readFormat(view, body, size, fail);
    } else if (id === "data") {
      if (!fmt) fail("the 'data' chunk comes before any 'fmt ' chunk");
      // Streaming writers leave 0 or 0xFFFFFFFF as the size; RF64 keeps the real one in ds64.
      if (rf64 && size === 0xffffffff && dataSize64 >= 0) size = dataSize64;
      else if (size === 0xffffffff || (size === 0 && body < bytes.length)) size = bytes.length - body;
      if (body + size > bytes.length)
        fail(`truncated WAV: the data chunk declares ${size} bytes but only ${bytes.length - body} are present`);
      return { ...convert(bytes.subarray(body, body + size), fmt, fail), sampleRate: fmt.sampleRate };
    }
    pos = body + size + (size & 1);
  }
  fail(fmt ? "no 'data' chunk: the file is truncated or not a WAV file" : "no 'fmt ' chunk: not a valid WAV file");
}

function readFormat(view: DataView, at: number, size: number, fail: (m: string) => never): Format {
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (tag === EXTENSIBLE) {
    if (size < 40 || at + 26 > view.byteLength) fail("truncated WAVE_FORMAT_EXTENSIBLE header");
    tag = view.getUint16(at + 24, true); // the first two bytes of the sub-format GUID are the format tag
  }
  if (channels < 1) fail("the WAV header declares 0 channels");
  if (sampleRate < 1) fail("the WAV header declares a sample rate of 0");
  const known = (tag === PCM && [8, 16, 24, 32].includes(bits)) || (tag === FLOAT && (bits === 32 || bits === 64)) || ((tag === ALAW || tag === MULAW) && bits === 8);
  if (!known) fail(`unsupported WAV encoding (format tag ${tag}, ${bits} bits); convert it to PCM or install ffmpeg`);
  if (blockAlign < (channels * bits) / 8) fail(`the WAV block size ${blockAlign} is too small for ${channels} x ${bits}-bit samples`);
  return { tag, channels, sampleRate, bits, blockAlign };
}

function convert(data: Uint8Array, f: Format, fail: (m: string) => never): { channelData: Float32Array[] } {
  const frames = Math.floor(data.length / f.blockAlign);
  if (data.length % f.blockAlign !== 0 && frames === 0) fail("truncated WAV: the data chunk holds less than one sample frame");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const width = f.bits / 8;
  const read = sampleReader(view, f);
  const channelData = Array.from({ length: f.channels }, () => new Float32Array(frames));
  for (let c = 0; c < f.channels; c++) {
    const out = channelData[c];
    for (let i = 0, at = c * width; i < frames; i++, at += f.blockAlign) out[i] = read(at);
  }
  return { channelData };
}

function sampleReader(v: DataView, f: Format): (at: number) => number {
  if (f.tag === FLOAT) return f.bits === 32 ? (at) => v.getFloat32(at, true) : (at) => v.getFloat64(at, true);
  if (f.tag === ALAW) return (at) => alaw(v.getUint8(at));
  if (f.tag === MULAW) return (at) => mulaw(v.getUint8(at));
  switch (f.bits) {
    case 8:
      return (at) => (v.getUint8(at) - 128) / 128;
    case 16:
      return (at) => v.getInt16(at, true) / 32768;
    case 24:
      return (at) => ((v.getUint8(at) | (v.getUint8(at + 1) << 8) | (v.getInt8(at + 2) << 16)) / 8388608);
    default:
      return (at) => v.getInt32(at, true) / 2147483648;
  }
}

// G.711 expansions to 16-bit linear, scaled to [-1, 1] (as ffmpeg's pcm_alaw / pcm_mulaw decoders).
function alaw(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t = exponent === 0 ? t + 8 : (t + 0x108) << (exponent - 1);
  return (a & 0x80 ? t : -t) / 32768;
}

function mulaw(byte: number): number {
  const u = ~byte & 0xff;
  const t = ((((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4)) - 0x84;
  return (u & 0x80 ? -t : t) / 32768;
}
