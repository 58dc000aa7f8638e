// The native mapping of a weights file, and a bounds-checked little-endian reader for headers.
import type { DType } from "../dtype.js";
import { native } from "../native.js";
import type { NativeTensor } from "../native.js";
import { Tensor } from "../tensor.js";

interface NativeMappedFile {
  size(): number;
  path(): string;
  tensor(byteOffset: number, shape: readonly number[], dtype: string): NativeTensor;
  bytes(offset: number, length: number): Buffer;
  close(): void;
}

const MappedFileCtor = native.MappedFile as new (path: string) => NativeMappedFile;

/** An Error about a weights file: the message starts with the file's path. */
export class WeightsFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = "WeightsFileError";
  }
}

/**
 * A file mapped into memory read-only. Tensors made from it view the mapping without copying and
 * keep it alive; close() only drops this handle's hold.
 */
export class MappedFile {
  readonly path: string;
  readonly size: number;
  readonly #handle: NativeMappedFile;
  #closed = false;

  constructor(path: string) {
    try {
      this.#handle = new MappedFileCtor(path);
    } catch (e) {
      throw new WeightsFileError(path, `cannot open: ${(e as Error).message.replace(/^cannot \w+ '[^']*': /, "")}`);
    }
    this.path = path;
    this.size = this.#handle.size();
  }

  /** A tensor over `shape` x `dtype` bytes at `offset` (zero-copy when the offset is aligned for the dtype). */
  tensor(offset: number, shape: readonly number[], dtype: DType): Tensor {
    this.#checkOpen();
    return new Tensor(this.#handle.tensor(offset, shape, dtype));
  }

  /** A copy of `length` bytes at `offset`; throws naming the file when they lie outside it. */
  bytes(offset: number, length: number): Buffer {
    this.#checkOpen();
    this.checkRange(offset, length, "bytes");
    return this.#handle.bytes(offset, length);
  }

  /** Throws a WeightsFileError unless [offset, offset + length) lies inside the file. */
  checkRange(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size)
      throw new WeightsFileError(this.path, `${what} at bytes [${offset}, ${offset + length}) lie outside the file (${this.size} bytes): the file is truncated or corrupt`);
  }

  close(): void {
    this.#closed = true;
    this.#handle.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new WeightsFileError(this.path, "the file was closed; read its tensors before closing it");
  }
}

/**
 * Reads little-endian values from a mapped file's header, fetching bytes in growing chunks so a
 * header of any size is read without copying the whole file. Every read is bounds-checked.
 */
export class HeaderReader {
  pos: number;
  #buf: Buffer = Buffer.alloc(0);
  #bufStart = 0;

  constructor(
    readonly file: MappedFile,
    start = 0,
    readonly what = "header",
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.file.size - this.pos;
  }

  fail(message: string): never {
    throw new WeightsFileError(this.file.path, message);
  }

  /** Makes n bytes at pos available and returns their offset within the chunk buffer. */
  #need(n: number, what: string): number {
    if (n > this.remaining)
      this.fail(`truncated ${this.what}: reading ${what} needs ${n} bytes at offset ${this.pos} but the file has ${this.file.size} bytes`);
    const rel = this.pos - this.#bufStart;
    if (rel >= 0 && rel + n <= this.#buf.length) return rel;
    const len = Math.min(this.remaining, Math.max(n, 1 << 16, this.#buf.length * 2));
    this.#buf = this.file.bytes(this.pos, len);
    this.#bufStart = this.pos;
    return 0;
  }

  u8(what = "a byte"): number {
    const r = this.#need(1, what);
    this.pos += 1;
    return this.#buf[r];
  }
  i8(what = "an int8"): number {
    const r = this.#need(1, what);
    this.pos += 1;
    return this.#buf.readInt8(r);
  }
  u16(what = "a uint16"): number {
    const r = this.#need(2, what);
    this.pos += 2;
    return this.#buf.readUInt16LE(r);
  }
  i16(what = "an int16"): number {
    const r = this.#need(2, what);
    this.pos += 2;
    return this.#buf.readInt16LE(r);
  }
  u32(what = "a uint32"): number {
    const r = this.#need(4, what);
    this.pos += 4;
    return this.#buf.readUInt32LE(r);
  }
  i32(what = "an int32"): number {
    const r = this.#need(4, what);
    this.pos += 4;
    return this.#buf.readInt32LE(r);
  }
  f32(what = "a float32"): number {
    const r = this.#need(4, what);
    this.pos += 4;
    return this.#buf.readFloatLE(r);
  }
  f64(what = "a float64"): number {
    const r = this.#need(8, what);
    this.pos += 8;
    return this.#buf.readDoubleLE(r);
  }
  u64(what = "a uint64"): bigint {
    const r = this.#need(8, what);
    this.pos += 8;
    return this.#buf.readBigUInt64LE(r);
  }
  i64(what = "an int64"): bigint {
    const r = this.#need(8, what);
    this.pos += 8;
    return this.#buf.readBigInt64LE(r);
  }
  /** A uint64 that must fit a JS number (counts, sizes, offsets). */
  u64n(what: string): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is too large: the file is corrupt`);
    return Number(v);
  }
  bytes(n: number, what = "bytes"): Buffer {
    if (!Number.isSafeInteger(n) || n < 0) this.fail(`invalid length ${n} for ${what}`);
    const r = this.#need(n, what);
    this.pos += n;
    return Buffer.from(this.#buf.subarray(r, r + n));
  }
  utf8(n: number, what = "a string"): string {
    return this.bytes(n, what).toString("utf8");
  }
}

/** Product of a shape's dimensions, refusing sizes past 2^53. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
