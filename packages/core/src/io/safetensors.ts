// safetensors: memory-mapped loading (zero-copy tensors), sharded indexes, and atomic saving.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { itemSize } from "../dtype.js";
import type { DType } from "../dtype.js";
import { evaluate } from "../evaluate.js";
import { Tensor, tensor } from "../tensor.js";
import { MappedFile, WeightsFileError, shapeSize } from "./mapped.js";

/** Tensors by name and the file's string metadata. */
export interface Weights {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

const DTYPES: Record<string, DType> = {
  F32: "float32", F16: "float16", BF16: "bfloat16", I8: "int8", U8: "uint8", I16: "int16",
  I32: "int32", U32: "uint32", I64: "int64", BOOL: "bool",
};
const NAMES = Object.fromEntries(Object.entries(DTYPES).map(([k, v]) => [v, k])) as Record<DType, string>;
// Known to the format but with no dtype here (F64 is converted on load).
const UNSUPPORTED = new Set(["U16", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"]);
// The reference writer's data order (its dtype enum, descending, then names): larger types first,
// so every tensor is naturally aligned, and our files match its byte for byte.
const WRITE_RANK: Record<DType, number> = {
  int64: 9, float32: 8, uint32: 7, int32: 6, bfloat16: 5, float16: 4, int16: 3, int8: 2, uint8: 1, bool: 0,
};
// The reference implementation's limit: larger headers are refused as likely corrupt.
const MAX_HEADER = 100_000_000;

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(path: string, name: string, v: unknown): Entry {
  const bad = (what: string): never => {
    throw new WeightsFileError(path, `tensor '${name}' in the header has ${what}`);
  };
  if (!v || typeof v !== "object" || Array.isArray(v)) bad("no {dtype, shape, data_offsets} object");
  const { dtype, shape, data_offsets: offs } = v as Record<string, unknown>;
  if (typeof dtype !== "string") bad("no dtype string");
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`an invalid shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1])
    bad(`invalid data_offsets ${JSON.stringify(offs)}`);
  return { name, dtype: dtype as string, shape: shape as number[], begin: (offs as number[])[0], end: (offs as number[])[1] };
}

function elementSize(path: string, e: Entry): number {
  if (e.dtype === "F64") return 8;
  const dt = DTYPES[e.dtype];
  if (dt) return itemSize(dt);
  if (UNSUPPORTED.has(e.dtype)) throw new WeightsFileError(path, `tensor '${e.name}' has dtype ${e.dtype}, which is not supported`);
  throw new WeightsFileError(path, `tensor '${e.name}' has an unknown dtype '${e.dtype}'`);
}

/** Parses and validates the header: every tensor in bounds, sized by its shape, data contiguous. */
function readHeader(file: MappedFile): { entries: Entry[]; metadata: Record<string, string>; dataStart: number } {
  const path = file.path;
  if (file.size < 8) throw new WeightsFileError(path, `file is too small to be safetensors (${file.size} bytes; the 8-byte header length is missing)`);
  const n = file.bytes(0, 8).readBigUInt64LE(0);
  if (n > BigInt(file.size - 8))
    throw new WeightsFileError(path, `header length ${n} runs past the end of the file (${file.size} bytes): the file is truncated or not safetensors`);
  if (n > BigInt(MAX_HEADER)) throw new WeightsFileError(path, `header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  const dataStart = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(file.bytes(8, Number(n))));
  } catch (e) {
    throw new WeightsFileError(path, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) throw new WeightsFileError(path, "header is not a JSON object");
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (!v || typeof v !== "object" || Array.isArray(v)) throw new WeightsFileError(path, "__metadata__ is not an object of strings");
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== "string") throw new WeightsFileError(path, `__metadata__ value '${k}' is not a string`);
        metadata[k] = s;
      }
      continue;
    }
    entries.push(parseEntry(path, name, v));
  }
  const dataLen = file.size - dataStart;
  for (const e of entries) {
    if (e.end > dataLen)
      throw new WeightsFileError(path, `tensor '${e.name}' data_offsets [${e.begin}, ${e.end}) lie beyond the data section (${dataLen} bytes): the file is truncated or corrupt`);
    const want = shapeSize(e.shape) * elementSize(path, e);
    if (e.end - e.begin !== want)
      throw new WeightsFileError(path, `tensor '${e.name}' has ${e.end - e.begin} bytes but shape [${e.shape.join(", ")}] of ${e.dtype} needs ${want}`);
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < pos)
      throw new WeightsFileError(path, `tensors '${prev!.name}' and '${e.name}' overlap (bytes [${prev!.begin}, ${prev!.end}) and [${e.begin}, ${e.end}))`);
    if (e.begin > pos)
      throw new WeightsFileError(path, `tensor '${e.name}' starts at byte ${e.begin} but the previous data ends at ${pos}: safetensors data must be contiguous`);
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLen)
    throw new WeightsFileError(path, `the tensors cover ${pos} bytes but the data section has ${dataLen}: the file has trailing or missing data`);
  return { entries, metadata, dataStart };
}

function loadEntry(file: MappedFile, e: Entry, dataStart: number): Tensor {
  if (e.dtype === "F64") {
    // No float64 dtype here: convert once, as NumPy arrays of float64 become float32 elsewhere too.
    const raw = file.bytes(dataStart + e.begin, e.end - e.begin);
    const f64 = new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    return tensor(Float32Array.from(f64), { shape: e.shape });
  }
  return file.tensor(dataStart + e.begin, e.shape, DTYPES[e.dtype]);
}

/**
 * Loads a .safetensors file by memory-mapping it: tensors view the file without copying (F64 is
 * converted to float32). Throws a WeightsFileError naming the file for a truncated or corrupt
 * header, out-of-bounds or overlapping tensors, or an unsupported dtype.
 */
export function loadSafetensors(path: string): Weights {
  const file = new MappedFile(path);
  try {
    const { entries, metadata, dataStart } = readHeader(file);
    const tensors = new Map<string, Tensor>();
    for (const e of entries) tensors.set(e.name, loadEntry(file, e, dataStart));
    return { tensors, metadata };
  } finally {
    file.close(); // the tensors hold the mapping
  }
}

/**
 * Loads a sharded checkpoint from its `*.safetensors.index.json` (`weight_map`: tensor name to
 * shard file). Every listed tensor must be in its shard; the index's metadata joins each shard's.
 */
export function loadSafetensorsIndex(indexPath: string): Weights {
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexPath, "utf8"));
  } catch (e) {
    throw new WeightsFileError(indexPath, `cannot read the index (${(e as Error).message})`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (!map || typeof map !== "object" || Array.isArray(map)) throw new WeightsFileError(indexPath, "the index has no weight_map object");
  const dir = dirname(indexPath);
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== "string" || !shard) throw new WeightsFileError(indexPath, `weight_map entry '${name}' is not a file name`);
    byShard.set(shard, [...(byShard.get(shard) ?? []), name]);
  }
  const tensors = new Map<string, Tensor>();
  const metadata: Record<string, string> = {};
  for (const [shard, names] of byShard) {
    const p = resolve(dir, shard);
    const rel = relative(resolve(dir), p);
    if (rel.startsWith("..") || isAbsolute(rel)) throw new WeightsFileError(indexPath, `shard '${shard}' lies outside the index's folder`);
    if (!existsSync(p)) throw new WeightsFileError(indexPath, `the index names shard '${shard}', which does not exist in ${dir}`);
    const w = loadSafetensors(p);
    for (const n of names)
      if (!w.tensors.has(n)) throw new WeightsFileError(p, `tensor '${n}', listed for this shard in ${basename(indexPath)}, is missing`);
    for (const [n, t] of w.tensors) {
      if (tensors.has(n)) throw new WeightsFileError(p, `tensor '${n}' also appears in another shard`);
      tensors.set(n, t);
    }
    for (const [k, v] of Object.entries(w.metadata)) metadata[k] ??= v;
  }
  const extra = (index as { metadata?: unknown }).metadata;
  if (extra && typeof extra === "object")
    for (const [k, v] of Object.entries(extra as Record<string, unknown>)) metadata[k] = typeof v === "string" ? v : JSON.stringify(v);
  return { tensors, metadata };
}

/**
 * Saves tensors as safetensors, laid out as the reference writer lays them out (larger dtypes
 * first, then by name; header padded with spaces to 8 bytes). The file is written
 * to a temporary name beside `path` and renamed into place, so a failure leaves nothing behind.
 */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor> | Map<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const items = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  for (const [name, t] of items) {
    if (typeof name !== "string" || !name || name === "__metadata__") throw new Error(`saveSafetensors: invalid tensor name '${String(name)}'`);
    if (!(t instanceof Tensor)) throw new Error(`saveSafetensors: '${name}' is not a Tensor`);
    if (t.disposed) throw new Error(`saveSafetensors: tensor '${name}' was disposed`);
  }
  if (metadata !== undefined)
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== "string") throw new Error(`saveSafetensors: metadata value '${k}' must be a string, got ${typeof v}`);
  items.sort(([an, a], [bn, b]) => WRITE_RANK[b.dtype] - WRITE_RANK[a.dtype] || (an < bn ? -1 : an > bn ? 1 : 0));
  await evaluate(items.map(([, t]) => t));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of items) {
    header[name] = { dtype: NAMES[t.dtype], shape: t.shape, data_offsets: [offset, offset + t.nbytes] };
    offset += t.nbytes;
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const padded = Math.ceil(json.length / 8) * 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));

  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx");
  try {
    await fh.write(len);
    await fh.write(json);
    for (const [, t] of items) if (t.nbytes) await fh.write(new Uint8Array(t.handle.read(true)));
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}
