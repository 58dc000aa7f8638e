// Alignment heads: the cross-attention heads whose weights follow the audio-text alignment (used for
// word timestamps). openai-whisper publishes them per official model as base85-encoded, gzipped
// boolean [n_text_layer, n_text_head] masks; we recognize official models by their dimensions.
import { gunzipSync } from "node:zlib";
import type { ModelDimensions } from "./whisper.js";

/** [decoder layer, head] pairs. */
export type AlignmentHeads = [number, number][];

// openai-whisper's _ALIGNMENT_HEADS (whisper/__init__.py), with the dimensions that identify each
// model: [n_mels, n_vocab, n_text_state, n_audio_layer, n_text_layer]. large-v1 and large-v2 share
// their dimensions; large-v2 (the later, more used one) is assumed.
const OFFICIAL: { name: string; key: [number, number, number, number, number]; dump: string }[] = [
  { name: "tiny.en", key: [80, 51864, 384, 4, 4], dump: "ABzY8J1N>@0{>%R00Bk>$p{7v037`oCl~+#00" },
  { name: "tiny", key: [80, 51865, 384, 4, 4], dump: "ABzY8bu8Lr0{>%RKn9Fp%m@SkK7Kt=7ytkO" },
  { name: "base.en", key: [80, 51864, 512, 6, 6], dump: "ABzY8;40c<0{>%RzzG;p*o+Vo09|#PsxSZm00" },
  { name: "base", key: [80, 51865, 512, 6, 6], dump: "ABzY8KQ!870{>%RzyTQH3`Q^yNP!>##QT-<FaQ7m" },
  { name: "small.en", key: [80, 51864, 768, 12, 12], dump: "ABzY8>?_)10{>%RpeA61k&I|OI3I$65C{;;pbCHh0B{qLQ;+}v00" },
  { name: "small", key: [80, 51865, 768, 12, 12], dump: "ABzY8DmU6=0{>%Rpa?J`kvJ6qF(V^F86#Xh7JUGMK}P<N0000" },
  { name: "medium.en", key: [80, 51864, 1024, 24, 24], dump: "ABzY8usPae0{>%R7<zz_OvQ{)4kMa0BMw6u5rT}kRKX;$NfYBv00*Hl@qhsU00" },
  { name: "medium", key: [80, 51865, 1024, 24, 24], dump: "ABzY8B0Jh+0{>%R7}kK1fFL7w6%<-Pf*t^=N)Qr&0RR9" },
  { name: "large-v2", key: [80, 51865, 1280, 32, 32], dump: "ABzY8zd+h!0{>%R7=D0pU<_bnWW*tkYAhobTNnu$jnkEkXqp)j;w1Tzk)UH3X%SZd&fFZ2fC2yj" },
  { name: "large-v3", key: [128, 51866, 1280, 32, 32], dump: "ABzY8gWO1E0{>%R7(9S+Kn!D~%ngiGaR?*L!iJG9p-nab0JQ=-{D1-g00" },
  { name: "large-v3-turbo", key: [128, 51866, 1280, 32, 4], dump: "ABzY8j^C+e0{>%RARaKHP%t(lGR*)0g!tONPyhe`" },
];

// Python's base64.b85encode alphabet (RFC 1924).
const B85 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";

/** Python's base64.b85decode. */
export function b85decode(text: string): Uint8Array {
  const values = [...text].map((c) => {
    const v = B85.indexOf(c);
    if (v < 0) throw new Error(`b85decode: invalid character '${c}'`);
    return v;
  });
  const pad = (5 - (values.length % 5)) % 5;
  for (let i = 0; i < pad; i++) values.push(84);
  const out = new Uint8Array((values.length / 5) * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i += 5) {
    let acc = 0;
    for (let j = 0; j < 5; j++) acc = acc * 85 + values[i + j];
    if (acc > 0xffffffff) throw new Error(`b85decode: group ${i / 5} overflows 32 bits`);
    view.setUint32((i / 5) * 4, acc);
  }
  return out.subarray(0, out.length - pad);
}

/** Decodes an openai-whisper alignment-head dump (base85, gzip, bool [layers, heads]) to pairs. */
export function decodeAlignmentHeads(dump: string, nLayer: number, nHead: number): AlignmentHeads {
  const mask = gunzipSync(b85decode(dump));
  if (mask.length !== nLayer * nHead)
    throw new Error(`decodeAlignmentHeads: the mask has ${mask.length} entries, expected ${nLayer} layers x ${nHead} heads`);
  const heads: AlignmentHeads = [];
  mask.forEach((v, i) => { if (v) heads.push([Math.floor(i / nHead), i % nHead]); });
  return heads;
}

/** The official openai-whisper model with these dimensions, if any (by name, e.g. "base.en"). */
export function officialModelName(d: ModelDimensions): string | undefined {
  if (d.n_audio_ctx !== 1500 || d.n_text_ctx !== 448) return undefined;
  const key = [d.n_mels, d.n_vocab, d.n_text_state, d.n_audio_layer, d.n_text_layer];
  return OFFICIAL.find((m) => m.key.every((v, i) => v === key[i]))?.name;
}

/** openai-whisper's heads for an official model recognized by its dimensions. */
export function officialAlignmentHeads(d: ModelDimensions): { name: string; heads: AlignmentHeads } | undefined {
  const name = officialModelName(d);
  const entry = OFFICIAL.find((m) => m.name === name);
  return entry && { name: entry.name, heads: decodeAlignmentHeads(entry.dump, d.n_text_layer, d.n_text_head) };
}

/** openai-whisper's default: every head of the last half of the decoder layers. */
export function defaultAlignmentHeads(d: ModelDimensions): AlignmentHeads {
  const heads: AlignmentHeads = [];
  for (let l = Math.floor(d.n_text_layer / 2); l < d.n_text_layer; l++)
    for (let h = 0; h < d.n_text_head; h++) heads.push([l, h]);
  return heads;
}

/** Validates [layer, head] pairs from a file against the dimensions. */
export function checkAlignmentHeads(value: unknown, d: ModelDimensions, source: string): AlignmentHeads {
  const ok = Array.isArray(value) && value.every((p) =>
    Array.isArray(p) && p.length === 2 && Number.isInteger(p[0]) && Number.isInteger(p[1]) &&
    p[0] >= 0 && p[0] < d.n_text_layer && p[1] >= 0 && p[1] < d.n_text_head);
  if (!ok)
    throw new Error(`${source}: alignment_heads must be [layer, head] pairs within ${d.n_text_layer} layers and ${d.n_text_head} heads, got ${JSON.stringify(value)}`);
  return (value as number[][]).map(([l, h]) => [l, h]);
}
