// NumPy .npz (a zip of .npy files, stored or deflated) and .npy readers.
import { crc32, inflateRawSync } from "node:zlib";
import type { DType } from "../dtype.js";
import { Tensor, tensor } from "../tensor.js";
import { HeaderReader, MappedFile, WeightsFileError, shapeSize } from "./mapped.js";
import type { Weights } from "./safetensors.js";

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  csize: number;
  usize: number;
  localOffset: number;
}

const U32_MAX = 0xffffffff;

/** Finds the central directory (zip64 too) and lists its entries. */
function readZipDirectory(file: MappedFile): ZipEntry[] {
  const fail = (m: string): never => {
    throw new WeightsFileError(file.path, m);
  };
  if (file.size < 22) fail(`file is too small to be a zip/npz archive (${file.size} bytes)`);
  const tailLen = Math.min(file.size, 22 + 0xffff);
  const tail = file.bytes(file.size - tailLen, tailLen);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--)
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = file.size - tailLen + i;
      break;
    }
  if (eocd < 0) fail("no zip end-of-central-directory record: not an npz archive, or truncated");
  const r = new HeaderReader(file, eocd + 10, "zip directory");
  let count = r.u16("the entry count");
  let cdSize = r.u32("the directory size");
  let cdOffset = r.u32("the directory offset");
  if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
    if (eocd < 20) fail("zip64 archive without a zip64 locator");
    const loc = new HeaderReader(file, eocd - 20, "zip64 locator");
    if (loc.u32() !== 0x07064b50) fail("zip64 archive without a zip64 locator");
    loc.u32();
    const z = new HeaderReader(file, loc.u64n("the zip64 record offset"), "zip64 directory record");
    if (z.u32() !== 0x06064b50) fail("bad zip64 end-of-central-directory signature");
    z.pos += 8 + 2 + 2 + 4 + 4 + 8;
    count = z.u64n("the entry count");
    cdSize = z.u64n("the directory size");
    cdOffset = z.u64n("the directory offset");
  }
  file.checkRange(cdOffset, cdSize, "the zip central directory");
  const cd = new HeaderReader(file, cdOffset, "zip central directory");
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (cd.u32("an entry signature") !== 0x02014b50) fail(`zip central directory entry ${i} has a bad signature`);
    cd.pos += 4;
    const flags = cd.u16(), method = cd.u16();
    cd.pos += 4;
    const crc = cd.u32();
    let csize = cd.u32(), usize = cd.u32();
    const nameLen = cd.u16(), extraLen = cd.u16(), commentLen = cd.u16();
    cd.pos += 8;
    let localOffset = cd.u32();
    const name = cd.utf8(nameLen, "an entry name");
    const extraEnd = cd.pos + extraLen;
    while (cd.pos + 4 <= extraEnd) {
      const id = cd.u16(), size = cd.u16();
      const next = cd.pos + size;
      if (id === 0x0001) {
        // zip64 sizes appear only for the fields that overflowed, in this order.
        if (usize === U32_MAX) usize = cd.u64n("a zip64 size");
        if (csize === U32_MAX) csize = cd.u64n("a zip64 size");
        if (localOffset === U32_MAX) localOffset = cd.u64n("a zip64 offset");
      }
      cd.pos = next;
    }
    cd.pos = extraEnd + commentLen;
    entries.push({ name, method, flags, crc, csize, usize, localOffset });
  }
  return entries;
}

/** Where an entry's bytes start (after its local header). */
function entryDataOffset(file: MappedFile, e: ZipEntry): number {
  const r = new HeaderReader(file, e.localOffset, `local header of '${e.name}'`);
  if (r.u32() !== 0x04034b50) throw new WeightsFileError(file.path, `entry '${e.name}' has a bad local header signature`);
  r.pos += 22;
  const nameLen = r.u16(), extraLen = r.u16();
  const start = e.localOffset + 30 + nameLen + extraLen;
  file.checkRange(start, e.csize, `entry '${e.name}'`);
  return start;
}

interface NpyHeader {
  dtype: DType;
  convert?: "f8" | "u2";
  itemsize: number;
  shape: number[];
  fortran: boolean;
  dataOffset: number;
}

const NPY_DTYPES: Record<string, [DType, number, ("f8" | "u2")?]> = {
  b1: ["bool", 1], i1: ["int8", 1], u1: ["uint8", 1], i2: ["int16", 2], u2: ["int32", 2, "u2"],
  i4: ["int32", 4], u4: ["uint32", 4], i8: ["int64", 8], f2: ["float16", 2], f4: ["float32", 4], f8: ["float32", 8, "f8"],
};

/** Parses an .npy header from its first bytes; `where` names the file or archive entry in errors. */
function parseNpyHeader(head: Buffer, where: string, fail: (m: string) => never): NpyHeader {
  if (head.length < 10 || head.readUInt32BE(0) !== 0x934e554d || head.toString("latin1", 4, 6) !== "PY")
    fail(`${where} is not an .npy array (bad magic)`);
  const major = head[6];
  if (major < 1 || major > 3) fail(`${where} has unsupported .npy format version ${major}.${head[7]}`);
  const lenSize = major === 1 ? 2 : 4;
  const hlen = major === 1 ? head.readUInt16LE(8) : head.length >= 12 ? head.readUInt32LE(8) : fail(`${where}: truncated .npy header`);
  const start = 8 + lenSize;
  if (start + hlen > head.length) fail(`${where}: .npy header length ${hlen} runs past the end of the data`);
  const text = head.toString(major === 3 ? "utf8" : "latin1", start, start + hlen);
  if (/['"]descr['"]\s*:\s*\[/.test(text)) fail(`${where} holds a structured array, which is not supported`);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`${where} has a malformed .npy header: ${text.trim()}`);
  const shape = shapeText.split(",").map((s) => s.trim().replace(/L$/, "")).filter((s) => s.length).map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`${where} has an invalid shape (${shapeText})`);
  const order = descr[0], code = descr.slice(1);
  if (code === "O") fail(`${where} is an object array (dtype 'O', pickled Python objects), which cannot be loaded`);
  const known = NPY_DTYPES[code];
  if (!known) fail(`${where} has dtype '${descr}', which is not supported`);
  if (order === ">" && known[1] > 1) fail(`${where} is big-endian ('${descr}'); save it little-endian (arr.astype('<${code}'))`);
  if (!"<|=>".includes(order)) fail(`${where} has an unknown dtype '${descr}'`);
  return { dtype: known[0], itemsize: known[1], convert: known[2], shape, fortran: fortran === "True", dataOffset: start + hlen };
}

function fromBytes(raw: Uint8Array, h: NpyHeader): Tensor {
  const shape = h.fortran ? [...h.shape].reverse() : h.shape;
  const copy = Uint8Array.from(raw);
  let t: Tensor;
  if (h.convert === "f8") t = tensor(Float32Array.from(new Float64Array(copy.buffer)), { shape });
  else if (h.convert === "u2") t = tensor(Int32Array.from(new Uint16Array(copy.buffer)), { shape });
  else t = tensor(copy, { shape, dtype: h.dtype });
  return orient(t, h);
}

// A Fortran-order array is its transpose stored row-major: view it back without copying.
function orient(t: Tensor, h: NpyHeader): Tensor {
  return h.fortran && h.shape.length > 1 ? t.transpose() : t;
}

function checkDataSize(h: NpyHeader, available: number, where: string, fail: (m: string) => never): number {
  const need = shapeSize(h.shape) * h.itemsize;
  if (available !== need) fail(`${where} holds ${available} data bytes but shape [${h.shape.join(", ")}] needs ${need}`);
  return need;
}

function readEntry(file: MappedFile, e: ZipEntry): Tensor {
  const where = `entry '${e.name}'`;
  const fail = (m: string): never => {
    throw new WeightsFileError(file.path, m);
  };
  if (e.flags & 1) fail(`${where} is encrypted`);
  const start = entryDataOffset(file, e);
  if (e.method === 0) {
    // Stored: the array's data is viewed in place (copied only when unaligned for its dtype).
    if (e.csize !== e.usize) fail(`${where} is stored but its sizes differ (${e.csize} vs ${e.usize})`);
    const head = file.bytes(start, Math.min(e.csize, 65536 + 12));
    const h = parseNpyHeader(head, where, fail);
    checkDataSize(h, e.csize - h.dataOffset, where, fail);
    if (h.convert) return fromBytes(file.bytes(start + h.dataOffset, e.csize - h.dataOffset), h);
    return orient(file.tensor(start + h.dataOffset, h.fortran ? [...h.shape].reverse() : h.shape, h.dtype), h);
  }
  if (e.method !== 8) fail(`${where} uses zip compression method ${e.method}; only stored and deflated entries are supported`);
  let raw: Buffer;
  try {
    raw = inflateRawSync(file.bytes(start, e.csize), { maxOutputLength: Math.max(1, e.usize) });
  } catch (err) {
    fail(`${where} does not inflate to its declared ${e.usize} bytes (${(err as Error).message})`);
  }
  if (raw!.length !== e.usize) fail(`${where} inflates to ${raw!.length} bytes, not its declared ${e.usize}`);
  if (crc32(raw!) !== e.crc) fail(`${where} fails its CRC check: the archive is corrupt`);
  const h = parseNpyHeader(raw!, where, fail);
  checkDataSize(h, raw!.length - h.dataOffset, where, fail);
  return fromBytes(raw!.subarray(h.dataOffset), h);
}

/**
 * Reads a NumPy .npz archive (np.savez or np.savez_compressed): arrays by name (without ".npy").
 * Stored arrays view the mapped file; float64 becomes float32 and uint16 int32 (copies).
 * Object arrays, big-endian and structured dtypes throw a WeightsFileError naming the entry.
 */
export function readNpz(path: string): Weights {
  const file = new MappedFile(path);
  try {
    const tensors = new Map<string, Tensor>();
    for (const e of readZipDirectory(file)) {
      if (e.name.endsWith("/")) continue;
      tensors.set(e.name.replace(/\.npy$/, ""), readEntry(file, e));
    }
    return { tensors, metadata: {} };
  } finally {
    file.close();
  }
}

/** Reads one .npy file (zero-copy where the dtype allows). */
export function readNpy(path: string): Tensor {
  const file = new MappedFile(path);
  try {
    const fail = (m: string): never => {
      throw new WeightsFileError(path, m);
    };
    const h = parseNpyHeader(file.bytes(0, Math.min(file.size, 65536 + 12)), "the file", fail);
    checkDataSize(h, file.size - h.dataOffset, "the file", fail);
    if (h.convert) return fromBytes(file.bytes(h.dataOffset, file.size - h.dataOffset), h);
    return orient(file.tensor(h.dataOffset, h.fortran ? [...h.shape].reverse() : h.shape, h.dtype), h);
  } finally {
    file.close();
  }
}
