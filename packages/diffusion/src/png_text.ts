// A PNG text chunk (tEXt, or iTXt for text outside Latin-1) inserted after IHDR: sharp (libvips) reads
// PNG text but cannot write it, and the chunk is a small, fully specified structure (PNG spec §11.3.4).

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, as PNG chunks use) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Buffer.from(type, "latin1"), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** The data of a tEXt chunk (Latin-1 text) or, when the text needs it, an uncompressed iTXt chunk (UTF-8). */
export function textChunk(keyword: string, text: string): Uint8Array {
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword) || /^ | $|  /.test(keyword))
    throw new Error(`PNG text keyword must be 1-79 Latin-1 characters without leading, trailing or double spaces, got ${JSON.stringify(keyword)}`);
  // eslint-disable-next-line no-control-regex
  const latin1 = /^[\x00-\xff]*$/.test(text) && !text.includes("\0");
  if (latin1) return chunk("tEXt", Buffer.concat([Buffer.from(keyword, "latin1"), Buffer.from([0]), Buffer.from(text, "latin1")]));
  // keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, UTF-8 text.
  return chunk("iTXt", Buffer.concat([Buffer.from(keyword, "latin1"), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, "utf8")]));
}

function checkPng(png: Uint8Array): void {
  if (png.length < 33 || !SIGNATURE.every((b, i) => png[i] === b) || Buffer.from(png.subarray(12, 16)).toString("latin1") !== "IHDR")
    throw new Error("not a PNG file (no PNG signature and IHDR chunk)");
}

/** `png` with a text chunk `keyword` = `text` inserted right after IHDR. */
export function insertPngText(png: Uint8Array, keyword: string, text: string): Uint8Array {
  checkPng(png);
  const ihdrEnd = 8 + 12 + new DataView(png.buffer, png.byteOffset).getUint32(8);
  return Buffer.concat([png.subarray(0, ihdrEnd), textChunk(keyword, text), png.subarray(ihdrEnd)]);
}

/** Every tEXt and uncompressed iTXt chunk of a PNG, keyword -> text (the first of a keyword wins). */
export function readPngText(png: Uint8Array): Map<string, string> {
  checkPng(png);
  const out = new Map<string, string>();
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at + 12 <= png.length;) {
    const length = view.getUint32(at);
    const type = Buffer.from(png.subarray(at + 4, at + 8)).toString("latin1");
    const data = png.subarray(at + 8, at + 8 + length);
    if (at + 12 + length > png.length) throw new Error(`truncated PNG: the ${type} chunk at byte ${at} runs past the end`);
    const zero = data.indexOf(0);
    if ((type === "tEXt" || type === "iTXt") && zero > 0) {
      const key = Buffer.from(data.subarray(0, zero)).toString("latin1");
      let text: string | undefined;
      if (type === "tEXt") text = Buffer.from(data.subarray(zero + 1)).toString("latin1");
      else if (data[zero + 1] === 0) {
        const lang = data.indexOf(0, zero + 3);
        const translated = lang < 0 ? -1 : data.indexOf(0, lang + 1);
        if (translated >= 0) text = Buffer.from(data.subarray(translated + 1)).toString("utf8");
      }
      if (text !== undefined && !out.has(key)) out.set(key, text);
    }
    if (type === "IEND") break;
    at += 12 + length;
  }
  return out;
}
