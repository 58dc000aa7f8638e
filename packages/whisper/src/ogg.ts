// Ogg demuxing (RFC 3533) for the first logical stream, and Ogg/Opus decoding (RFC 7845) with
// the WebAssembly libopus build of `opus-decoder`.
import type { DecodedAudio } from "./audio_types.js";

interface OggStream {
  packets: Uint8Array[];
  /** The granule position of the last complete page (-1 if none carried one). */
  lastGranule: bigint;
  ended: boolean;
}

/** Splits the first logical bitstream of an Ogg file into packets; `fail` throws naming the file. */
export function demuxOgg(bytes: Uint8Array, fail: (m: string) => never): OggStream {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packets: Uint8Array[] = [];
  let serial: number | undefined;
  let partial: Uint8Array[] = [];
  let lastGranule = -1n;
  let ended = false;
  let pos = 0;
  while (pos < bytes.length && !ended) {
    if (pos + 27 > bytes.length) fail(`truncated Ogg page header at byte ${pos}`);
    if (view.getUint32(pos, false) !== 0x4f676753) fail(`lost Ogg page sync at byte ${pos} (corrupt or truncated file)`);
    const flags = bytes[pos + 5];
    const granule = view.getBigInt64(pos + 6, true);
    const pageSerial = view.getUint32(pos + 14, true);
    const nSegments = bytes[pos + 26];
    const lacing = pos + 27;
    if (lacing + nSegments > bytes.length) fail(`truncated Ogg page at byte ${pos}`);
    let bodySize = 0;
    for (let i = 0; i < nSegments; i++) bodySize += bytes[lacing + i];
    let body = lacing + nSegments;
    if (body + bodySize > bytes.length) fail(`truncated Ogg page at byte ${pos}: its body runs past the end of the file`);
    serial ??= pageSerial;
    if (pageSerial === serial) {
      // Segments of 255 bytes continue a packet; a shorter one ends it.
      let start = body;
      for (let i = 0; i < nSegments; i++) {
        const len = bytes[lacing + i];
        body += len;
        if (len < 255) {
          partial.push(bytes.subarray(start, body));
          packets.push(partial.length === 1 ? partial[0] : concat(partial));
          partial = [];
          start = body;
        }
      }
      if (start < body) partial.push(bytes.subarray(start, body));
      if (granule !== -1n) lastGranule = granule;
      ended = (flags & 0x04) !== 0;
    }
    pos = lacing + nSegments + bodySize;
  }
  return { packets, lastGranule, ended };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The codec of an Ogg file, from its first packet's signature. */
export function oggCodec(bytes: Uint8Array): "opus" | "vorbis" | "flac" | "unknown" {
  const first = bytes.subarray(27 + bytes[26], 27 + bytes[26] + 8);
  const text = String.fromCharCode(...first);
  if (text.startsWith("OpusHead")) return "opus";
  if (text.startsWith("\x01vorbis")) return "vorbis";
  if (text.startsWith("\x7fFLAC")) return "flac";
  return "unknown";
}

const OPUS_RATES = [8000, 12000, 16000, 24000, 48000];

/**
 * Decodes Ogg/Opus. libopus decodes natively at 8/12/16/24/48 kHz, so `preferredRate` is used
 * when it is one of those (no resampling needed), else 48 kHz.
 */
export async function decodeOggOpus(bytes: Uint8Array, preferredRate: number, fail: (m: string) => never): Promise<DecodedAudio> {
  const stream = demuxOgg(bytes, fail);
  if (!stream.ended) fail("truncated Ogg/Opus stream: no end-of-stream page");
  const [head, , ...audio] = stream.packets;
  if (!head || head.length < 19) fail("malformed OpusHead packet");
  const h = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const channels = head[9];
  const preSkip48 = h.getUint16(10, true);
  const family = head[18];
  const mapping = family === 0 ? {} : { streamCount: head[19], coupledStreamCount: head[20], channelMappingTable: Array.from(head.subarray(21, 21 + channels)) };
  const sampleRate = OPUS_RATES.includes(preferredRate) ? preferredRate : 48000;
  const { OpusDecoder } = await import("opus-decoder");
  const decoder = new OpusDecoder({ channels, sampleRate: sampleRate as 48000, preSkip: Math.round((preSkip48 * sampleRate) / 48000), ...mapping });
  try {
    await decoder.ready;
    const { channelData, errors } = decoder.decodeFrames(audio);
    if (errors.length) fail(`corrupt Opus data (${errors[0].message})`);
    // The last page's granule position gives the exact length; the final packet is padded.
    const total = Math.max(0, Math.round((Number(stream.lastGranule) - preSkip48) * (sampleRate / 48000)));
    return { channelData: channelData.map((c) => c.subarray(0, Math.min(c.length, total))), sampleRate };
  } finally {
    decoder.free();
  }
}
