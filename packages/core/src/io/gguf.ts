// GGUF (v2, v3) reader: metadata of every value type, tensor infos, tensors over the mapped file.
import { GGML_TYPES, GGMLTensors, checkLayout, ggmlNbytes } from "./ggml_types.js";
import type { GGMLTensorInfo } from "./ggml_types.js";
import { HeaderReader, MappedFile, WeightsFileError } from "./mapped.js";

/** A metadata value: integers beyond 2^53 (u64/i64) are bigints; arrays may nest. */
export type GGUFValue = number | bigint | boolean | string | GGUFValue[];

const GGUF_MAGIC = 0x46554747; // "GGUF" read little-endian
const MAX_DIMS = 4; // GGML_MAX_DIMS
// Smallest encoded size of each value type, to refuse array counts the file cannot hold.
const VALUE_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 9: 12, 10: 8, 11: 8, 12: 8 };
const VALUE_NAMES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"];

/** A parsed GGUF file; tensors come from `tensor(name)` / `dequantize(name)`. */
export class GGUFFile extends GGMLTensors {
  constructor(
    file: MappedFile,
    readonly version: number,
    readonly metadata: Record<string, GGUFValue>,
    /** The value type of each metadata key (uint8 ... float64, array[type]). */
    readonly metadataTypes: Record<string, string>,
    infos: GGMLTensorInfo[],
    readonly alignment: number,
    readonly dataOffset: number,
  ) {
    super(file, infos);
  }
}

function safeInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function readString(r: HeaderReader, what: string): string {
  const n = r.u64n(`the length of ${what}`);
  return r.utf8(n, what);
}

function readValue(r: HeaderReader, type: number, key: string, depth = 0): GGUFValue {
  switch (type) {
    case 0: return r.u8();
    case 1: return r.i8();
    case 2: return r.u16();
    case 3: return r.i16();
    case 4: return r.u32();
    case 5: return r.i32();
    case 6: return r.f32();
    case 7: {
      const b = r.u8(`bool value of '${key}'`);
      if (b > 1) r.fail(`metadata '${key}' has an invalid bool byte ${b}`);
      return b === 1;
    }
    case 8: return readString(r, `the value of '${key}'`);
    case 9: {
      const et = r.u32(`the element type of '${key}'`);
      if (!(et in VALUE_SIZE)) r.fail(`metadata array '${key}' has an unknown element type ${et}`);
      if (et === 9 && depth > 4) r.fail(`metadata array '${key}' nests too deeply`);
      const n = r.u64n(`the length of '${key}'`);
      if (n * VALUE_SIZE[et] > r.remaining)
        r.fail(`metadata array '${key}' claims ${n} elements, more than the ${r.remaining} bytes left in the file`);
      const out: GGUFValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readValue(r, et, key, depth + 1);
      return out;
    }
    case 10: return safeInt(r.u64());
    case 11: return safeInt(r.i64());
    case 12: return r.f64();
    default: return r.fail(`metadata '${key}' has an unknown value type ${type}`);
  }
}

function readHeader(r: HeaderReader): { version: number; nTensors: number; nKv: number } {
  if (r.file.size < 4) r.fail(`file is too small to be GGUF (${r.file.size} bytes)`);
  const magic = r.u32("the magic");
  if (magic !== GGUF_MAGIC) r.fail(`bad magic 0x${magic.toString(16).padStart(8, "0")}: not a GGUF file`);
  const version = r.u32("the version");
  // A big-endian file's small version number reads byte-swapped.
  if ((version & 0xffffff) === 0 && version >>> 24 >= 1 && version >>> 24 <= 3) r.fail("big-endian GGUF files are not supported");
  if (version === 1) r.fail("GGUF version 1 is not supported (convert the model again with a current llama.cpp)");
  if (version !== 2 && version !== 3) r.fail(`unsupported GGUF version ${version} (expected 2 or 3)`);
  const nTensors = r.u64n("the tensor count");
  const nKv = r.u64n("the metadata count");
  // Each tensor info takes at least 8 + 4 + 4 + 8 bytes, each key-value at least 8 + 4 + 1.
  if (nTensors * 24 > r.remaining || nKv * 13 > r.remaining)
    r.fail(`header claims ${nTensors} tensors and ${nKv} metadata entries, more than the file can hold`);
  return { version, nTensors, nKv };
}

function readTensorInfo(r: HeaderReader, path: string): { info: GGMLTensorInfo; rel: number } {
  const name = readString(r, "a tensor name");
  const nDims = r.u32(`the dimension count of '${name}'`);
  if (nDims > MAX_DIMS) r.fail(`tensor '${name}' has ${nDims} dimensions (at most ${MAX_DIMS})`);
  const ne: number[] = [];
  for (let i = 0; i < nDims; i++) ne.push(r.u64n(`a dimension of '${name}'`));
  const typeId = r.u32(`the type of '${name}'`);
  const rel = r.u64n(`the data offset of '${name}'`);
  const type = GGML_TYPES.get(typeId);
  if (!type) r.fail(`tensor '${name}' has unknown ggml type ${typeId}`);
  const shape = ne.reverse();
  return { info: { name, shape, type: type.name, typeId, offset: rel, nbytes: ggmlNbytes(path, name, shape, type) }, rel };
}

/**
 * Reads a GGUF file (v2 or v3, little-endian): metadata (all value types; 64-bit integers past 2^53
 * as bigint), tensor infos with NumPy-order shapes, and tensors viewing the mapped file. Throws a
 * WeightsFileError naming the file for a bad magic or version, a truncated header, an unknown
 * type, or tensors out of bounds or overlapping.
 */
export function readGGUF(path: string): GGUFFile {
  const file = new MappedFile(path);
  try {
    const r = new HeaderReader(file, 0, "GGUF header");
    const { version, nTensors, nKv } = readHeader(r);
    const metadata: Record<string, GGUFValue> = {};
    const types: Record<string, string> = {};
    for (let i = 0; i < nKv; i++) {
      const key = readString(r, "a metadata key");
      const type = r.u32(`the value type of '${key}'`);
      if (key in metadata) r.fail(`metadata key '${key}' appears twice`);
      if (type === 9) {
        const et = r.u32(`the element type of '${key}'`);
        r.pos -= 4;
        types[key] = `array[${VALUE_NAMES[et] ?? et}]`;
      } else {
        types[key] = VALUE_NAMES[type] ?? String(type);
      }
      metadata[key] = readValue(r, type, key);
    }
    const align = metadata["general.alignment"] ?? 32;
    if (typeof align !== "number" || align <= 0 || (align & (align - 1)) !== 0)
      throw new WeightsFileError(path, `general.alignment ${String(align)} is not a power of two`);
    const alignment: number = align;
    const infos: GGMLTensorInfo[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < nTensors; i++) {
      const { info, rel } = readTensorInfo(r, path);
      if (seen.has(info.name)) r.fail(`tensor '${info.name}' appears twice`);
      if (rel % alignment !== 0) r.fail(`tensor '${info.name}' data offset ${rel} is not a multiple of the alignment ${alignment}`);
      seen.add(info.name);
      infos.push(info);
    }
    const dataOffset = Math.ceil(r.pos / alignment) * alignment;
    for (const t of infos) t.offset += dataOffset;
    if (infos.length && dataOffset > file.size) r.fail(`the data section starts at ${dataOffset}, past the end of the file (${file.size} bytes)`);
    checkLayout(file, infos);
    return new GGUFFile(file, version, metadata, types, infos, alignment, dataOffset);
  } catch (e) {
    file.close();
    if (e instanceof WeightsFileError) throw e;
    throw new WeightsFileError(path, (e as Error).message);
  }
}
