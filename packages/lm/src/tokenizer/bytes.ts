// The bytes one token contributes to decoded text, in the middle of a text (so without SentencePiece's
// dropped first space): what a byte-level grammar constraint needs, since byte-level BPE and byte
// fallback tokens can carry part of a UTF-8 character. Derived from tokenizer.json's decoder spec.

import { bytesToUnicode } from "@tessera/core";

type DecoderSpec = { type?: string; [key: string]: unknown } | null | undefined;

const utf8 = new TextEncoder();

/** GPT-2's bytes_to_unicode, inverted: the character a byte-level vocabulary uses → the byte. */
const BYTE_LEVEL = new Map([...bytesToUnicode()].map(([b, c]) => [c.codePointAt(0) as number, b]));

function flatten(spec: DecoderSpec): { type?: string; [key: string]: unknown }[] {
  if (spec === null || spec === undefined) return [];
  if (spec.type === "Sequence") return ((spec.decoders as DecoderSpec[]) ?? []).flatMap(flatten);
  return [spec];
}

function patternString(p: unknown): string | undefined {
  return typeof p === "object" && p !== null && typeof (p as { String?: unknown }).String === "string" ? (p as { String: string }).String : undefined;
}

/**
 * Returns a function from a vocabulary entry to its bytes. Byte-level entries map through GPT-2's
 * table; `<0xAB>` entries of a byte-fallback vocabulary are that byte; Replace / Metaspace / BPE
 * suffix decoders apply as they do mid-text.
 */
export function tokenBytesFunction(decoder: unknown): (token: string) => Uint8Array {
  const steps = flatten(decoder as DecoderSpec);
  return (token: string): Uint8Array => {
    let s = token;
    for (const d of steps) {
      switch (d.type) {
        case "ByteLevel": {
          const out: number[] = [];
          for (const ch of s) {
            const b = BYTE_LEVEL.get(ch.codePointAt(0) as number);
            if (b !== undefined) out.push(b);
            else out.push(...utf8.encode(ch));
          }
          return Uint8Array.from(out);
        }
        case "ByteFallback": {
          const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(s);
          if (m) return Uint8Array.of(parseInt(m[1], 16));
          break;
        }
        case "Replace": {
          const p = patternString(d.pattern);
          if (p !== undefined) s = s.split(p).join(String(d.content ?? ""));
          break;
        }
        case "Metaspace":
          s = s.split(String(d.replacement ?? "▁")).join(" ");
          break;
        case "BPEDecoder": {
          const suffix = String(d.suffix ?? "</w>");
          if (s.endsWith(suffix)) s = s.slice(0, s.length - suffix.length) + " ";
          break;
        }
        case "WordPiece": {
          const prefix = String(d.prefix ?? "##");
          s = s.startsWith(prefix) ? s.slice(prefix.length) : " " + s;
          break;
        }
        default:
          break; // Fuse, Strip (first-token only), CTC: no change mid-text
      }
    }
    return utf8.encode(s);
  };
}
