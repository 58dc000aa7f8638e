// Tensor: a handle on a node of the lazy graph. Ops return at once; data is computed by eval().
import { checkDType, dtypeOfTypedArray, isFloating, itemSize, scalarDType, viewBytes } from "./dtype.js";
import type { DType, TypedArray } from "./dtype.js";
import { native } from "./native.js";
import type { NativeTensor } from "./native.js";
import { track } from "./scope.js";

export type Scalar = number | boolean;
export type TensorLike = Tensor | Scalar;
export type NestedArray = Scalar | NestedArray[];

export class Tensor {
  /** @internal */
  readonly handle: NativeTensor;
  #shape?: readonly number[];
  #dtype?: DType;

  /** @internal Tensors are made by ops and `tensor()`, not constructed directly. */
  constructor(handle: NativeTensor) {
    this.handle = handle;
    track(this);
  }

  get shape(): readonly number[] {
    this.#checkAlive("shape");
    return (this.#shape ??= Object.freeze(this.handle.shape()));
  }
  get dtype(): DType {
    this.#checkAlive("dtype");
    return (this.#dtype ??= this.handle.dtype() as DType);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get nbytes(): number {
    return this.size * itemSize(this.dtype);
  }
  get disposed(): boolean {
    return this.handle.disposed();
  }

  /** Evaluates (off the event loop) and returns a copy of the data, row-major. Halves read as float32. */
  async data(): Promise<TypedArray> {
    this.#checkAlive("data()");
    if (!this.handle.evaluated()) await native.eval([this.handle]);
    return viewBytes(this.handle.read(), this.dtype);
  }
  /** As data(), evaluating on this thread. */
  dataSync(): TypedArray {
    this.#checkAlive("dataSync()");
    return viewBytes(this.handle.read(), this.dtype);
  }
  /** The raw 16-bit patterns of a float16/bfloat16 tensor. */
  rawHalfBits(): Uint16Array {
    if (this.dtype !== "float16" && this.dtype !== "bfloat16") throw new Error(`rawHalfBits() needs a half tensor, not ${this.dtype}`);
    return new Uint16Array(this.handle.read(true));
  }
  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a tensor with one element; this one has shape [${this.shape.join(", ")}]`);
    const v = this.dataSync()[0];
    return typeof v === "bigint" ? Number(v) : v;
  }
  /** Nested JS arrays of numbers (bool as 0/1, int64 as number). */
  tolist(): NestedArray {
    const flat = Array.from(this.dataSync() as ArrayLike<number | bigint>, (v) => (typeof v === "bigint" ? Number(v) : v));
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.ndim) return flat[offset];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** Releases this handle now (the data is freed once nothing else needs it). Idempotent. */
  dispose(): void {
    this.handle.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  reshape(...shape: number[] | [readonly number[]]): Tensor {
    const s = Array.isArray(shape[0]) ? (shape[0] as number[]) : (shape as number[]);
    return callOp("reshape", [this], { shape: s });
  }
  transpose(...axes: number[]): Tensor {
    return callOp("transpose", [this], { axes });
  }
  get T(): Tensor {
    return this.transpose();
  }
  astype(dtype: DType): Tensor {
    return callOp("astype", [this], { dtype: checkDType(dtype) });
  }
  toString(): string {
    return `Tensor(shape=[${this.shape.join(", ")}], dtype=${this.dtype})`;
  }

  #checkAlive(what: string): void {
    if (this.handle.disposed()) throw new Error(`cannot read ${what} of a disposed tensor`);
  }
}

/** Builds a graph node with the native op `name`. */
export function callOp(name: string, inputs: readonly Tensor[], attrs?: object): Tensor {
  return new Tensor(native.op(name, inputs.map(toHandle), attrs));
}

function toHandle(t: Tensor): NativeTensor {
  if (!(t instanceof Tensor)) throw new Error(`expected a Tensor, got ${describe(t)}`);
  return t.handle;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  return typeof x === "object" ? (x as object).constructor?.name ?? "an object" : `${typeof x} ${String(x)}`;
}

/** A 0-d tensor of `value` in `dtype`. */
export function scalar(value: number | boolean, dtype: DType = typeof value === "boolean" ? "bool" : "float32"): Tensor {
  return callOp("full", [], { shape: [], value: Number(value), dtype });
}

/** Turns a JS scalar into a tensor that follows `like`'s dtype (weak scalar promotion). */
export function toTensor(x: TensorLike, like?: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== "number" && typeof x !== "boolean") throw new Error(`expected a Tensor or a number, got ${describe(x)}`);
  const dt = like ? scalarDType(x, like.dtype) : typeof x === "boolean" ? "bool" : Number.isInteger(x) ? "int32" : "float32";
  return scalar(x, dt);
}

export interface TensorOptions {
  dtype?: DType;
  shape?: readonly number[];
}

/**
 * Makes a tensor from a TypedArray, a Buffer (raw bytes of `dtype`, uint8 by default), nested arrays
 * or a scalar. Integers infer int32, other numbers float32, booleans bool (as MLX does).
 */
export function tensor(data: NestedArray | ArrayBufferView | Tensor, opts: TensorOptions = {}): Tensor {
  if (data instanceof Tensor) return opts.dtype ? data.astype(opts.dtype) : data;
  const dtype = opts.dtype === undefined ? undefined : checkDType(opts.dtype);
  if (ArrayBuffer.isView(data)) return fromView(data, dtype, opts.shape);
  const { flat, shape } = flatten(data);
  const inferred: DType = flat.every((v) => typeof v === "boolean")
    ? flat.length ? "bool" : "float32"
    : flat.every((v) => Number.isInteger(v)) && flat.length ? "int32" : "float32";
  const target = dtype ?? inferred;
  const storage: DType = isFloating(target) ? "float32" : target === "int64" ? "int64" : target === "uint32" ? "uint32" : "int32";
  let view: ArrayBufferView;
  if (storage === "float32") view = Float32Array.from(flat, Number);
  else if (storage === "int64") view = BigInt64Array.from(flat, (v) => BigInt(Math.trunc(Number(v))));
  else if (storage === "uint32") view = Uint32Array.from(flat, Number);
  else view = Int32Array.from(flat, Number);
  const t = new Tensor(native.fromBytes(view, reshapeTarget(opts.shape, shape, flat.length), storage));
  return target === storage ? t : t.astype(target);
}

function reshapeTarget(requested: readonly number[] | undefined, inferred: number[], n: number): number[] {
  if (!requested) return inferred;
  const size = requested.reduce((a, b) => a * b, 1);
  if (size !== n) throw new Error(`shape [${requested.join(", ")}] needs ${size} elements but the data has ${n}`);
  return [...requested];
}

function fromView(data: ArrayBufferView, dtype: DType | undefined, shape?: readonly number[]): Tensor {
  const natural = dtypeOfTypedArray(data);
  if (data instanceof Float64Array || data instanceof Uint16Array) {
    const conv = data instanceof Float64Array ? Float32Array.from(data) : Int32Array.from(data);
    return fromView(conv, dtype, shape);
  }
  // Buffers and plain Uint8Arrays with another dtype are raw bytes of that dtype.
  if ((data instanceof Uint8Array || data instanceof DataView) && dtype && dtype !== "uint8" && dtype !== "bool") {
    const n = data.byteLength / itemSize(dtype);
    if (!Number.isInteger(n)) throw new Error(`${data.byteLength} bytes is not a whole number of ${dtype} elements`);
    return new Tensor(native.fromBytes(data, reshapeTarget(shape, [n], n), dtype));
  }
  if (!natural) throw new Error(`unsupported data type ${data.constructor.name}`);
  const n = data.byteLength / itemSize(natural);
  const t = new Tensor(native.fromBytes(data, reshapeTarget(shape, [n], n), dtype === "bool" && natural === "uint8" ? "bool" : natural));
  return dtype && dtype !== t.dtype ? t.astype(dtype) : t;
}

function flatten(data: NestedArray): { flat: Scalar[]; shape: number[] } {
  const shape: number[] = [];
  for (let d: NestedArray = data; Array.isArray(d); d = d[0]) {
    shape.push(d.length);
    if (d.length === 0) break;
  }
  const flat: Scalar[] = [];
  const walk = (d: NestedArray, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(d)) throw new Error("nested arrays are ragged: every row must have the same length");
      if (typeof d !== "number" && typeof d !== "boolean") throw new Error(`tensor data must be numbers or booleans, got ${describe(d)}`);
      flat.push(d);
      return;
    }
    if (!Array.isArray(d) || d.length !== shape[dim]) throw new Error("nested arrays are ragged: every row must have the same length");
    for (const x of d) walk(x, dim + 1);
  };
  walk(data, 0);
  return { flat, shape };
}
