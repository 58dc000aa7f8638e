// ggml tensor types (shared by GGUF and whisper.cpp's legacy files), raw block tensors, dequantize.
import type { DType } from "../dtype.js";
import { Tensor, callOp, tensor } from "../tensor.js";
import { MappedFile, WeightsFileError } from "./mapped.js";

/** A ggml type: elements per block, bytes per block, and the dtype when it is a plain element type. */
export interface GGMLTypeInfo {
  id: number;
  name: string;
  blockSize: number;
  typeSize: number;
  dtype?: DType;
}

const TABLE: [number, string, number, number, DType?][] = [
  [0, "F32", 1, 4, "float32"], [1, "F16", 1, 2, "float16"], [30, "BF16", 1, 2, "bfloat16"],
  [24, "I8", 1, 1, "int8"], [25, "I16", 1, 2, "int16"], [26, "I32", 1, 4, "int32"], [27, "I64", 1, 8, "int64"],
  [28, "F64", 1, 8],
  [2, "Q4_0", 32, 18], [3, "Q4_1", 32, 20], [6, "Q5_0", 32, 22], [7, "Q5_1", 32, 24], [8, "Q8_0", 32, 34],
  [9, "Q8_1", 32, 40], [10, "Q2_K", 256, 84], [11, "Q3_K", 256, 110], [12, "Q4_K", 256, 144],
  [13, "Q5_K", 256, 176], [14, "Q6_K", 256, 210], [15, "Q8_K", 256, 292],
  [16, "IQ2_XXS", 256, 66], [17, "IQ2_XS", 256, 74], [18, "IQ3_XXS", 256, 98], [19, "IQ1_S", 256, 50],
  [20, "IQ4_NL", 32, 18], [21, "IQ3_S", 256, 110], [22, "IQ2_S", 256, 82], [23, "IQ4_XS", 256, 136],
  [29, "IQ1_M", 256, 56], [34, "TQ1_0", 256, 54], [35, "TQ2_0", 256, 66], [39, "MXFP4", 32, 17],
];

/** Every ggml type this reader knows, by id. */
export const GGML_TYPES: ReadonlyMap<number, GGMLTypeInfo> = new Map(
  TABLE.map(([id, name, blockSize, typeSize, dtype]) => [id, { id, name, blockSize, typeSize, dtype }]),
);
const BY_NAME = new Map([...GGML_TYPES.values()].map((t) => [t.name, t]));

/** The block-quantized types `dequantize` expands (ggml's reference decoders, bit-exact). */
export const DEQUANTIZABLE = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"] as const;
export type QuantType = (typeof DEQUANTIZABLE)[number];

export function ggmlType(type: string | number): GGMLTypeInfo | undefined {
  return typeof type === "number" ? GGML_TYPES.get(type) : BY_NAME.get(type);
}

/** A tensor's entry in a GGUF or ggml file. `shape` is in NumPy order (the file's reversed). */
export interface GGMLTensorInfo {
  name: string;
  shape: number[];
  /** ggml type name: F32, F16, BF16, Q4_0, Q4_K, ... */
  type: string;
  typeId: number;
  /** Absolute byte offset of the data in the file. */
  offset: number;
  nbytes: number;
}

/** Bytes of a tensor of `shape` (NumPy order) in type `t`; throws when rows are not whole blocks. */
export function ggmlNbytes(path: string, name: string, shape: readonly number[], t: GGMLTypeInfo): number {
  const n = shape.reduce((a, b) => a * b, 1);
  const row = shape.length ? shape[shape.length - 1] : 1;
  if (row % t.blockSize !== 0)
    throw new WeightsFileError(path, `tensor '${name}' has rows of ${row} elements, not a whole number of ${t.name} blocks of ${t.blockSize}`);
  if (!Number.isSafeInteger(n)) throw new WeightsFileError(path, `tensor '${name}' shape [${shape.join(", ")}] is too large`);
  return (n / t.blockSize) * t.typeSize;
}

/** Throws unless the tensors lie inside the file and do not overlap. */
export function checkLayout(file: MappedFile, infos: readonly GGMLTensorInfo[]): void {
  for (const t of infos) file.checkRange(t.offset, t.nbytes, `tensor '${t.name}' data`);
  const sorted = [...infos].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1], b = sorted[i];
    if (b.offset < a.offset + a.nbytes)
      throw new WeightsFileError(file.path, `tensors '${a.name}' and '${b.name}' overlap (bytes [${a.offset}, ${a.offset + a.nbytes}) and [${b.offset}, ${b.offset + b.nbytes}))`);
  }
}

/**
 * Tensors of a ggml-family file: plain types as zero-copy tensors, block-quantized types as their
 * raw blocks (uint8, shape [..., rowBytes]) for `dequantize` or a quantized matmul.
 */
export class GGMLTensors {
  readonly tensors: readonly GGMLTensorInfo[];
  readonly #byName: Map<string, GGMLTensorInfo>;

  constructor(
    readonly file: MappedFile,
    infos: GGMLTensorInfo[],
  ) {
    this.tensors = infos;
    this.#byName = new Map(infos.map((t) => [t.name, t]));
  }

  get path(): string {
    return this.file.path;
  }

  /** Drops this object's hold on the mapped file; tensors already taken from it stay valid. */
  close(): void {
    this.file.close();
  }

  /** The info of tensor `name`; throws naming the file when it has none. */
  info(name: string): GGMLTensorInfo {
    const t = this.#byName.get(name);
    if (!t) throw new WeightsFileError(this.path, `no tensor named '${name}'`);
    return t;
  }

  /**
   * Tensor `name`: F32/F16/BF16/I8/I16/I32/I64 view the file (F64 converts to float32); quantized
   * types give their raw blocks as uint8 [..., rowBytes] (see `dequantize`).
   */
  tensor(name: string): Tensor {
    const t = this.info(name);
    const type = GGML_TYPES.get(t.typeId)!;
    if (type.dtype) return this.file.tensor(t.offset, t.shape, type.dtype);
    if (type.name === "F64") {
      const raw = this.file.bytes(t.offset, t.nbytes);
      return tensor(Float32Array.from(new Float64Array(Uint8Array.from(raw).buffer)), { shape: t.shape });
    }
    const rows = t.shape.slice(0, -1);
    const row = t.shape.length ? t.shape[t.shape.length - 1] : 1;
    return this.file.tensor(t.offset, [...rows, (row / type.blockSize) * type.typeSize], "uint8");
  }

  /** Tensor `name` as float32 (or float16): quantized blocks are expanded natively. */
  dequantize(name: string, dtype: "float32" | "float16" = "float32"): Tensor {
    const t = this.info(name);
    const type = GGML_TYPES.get(t.typeId)!;
    const raw = this.tensor(name);
    if (type.dtype || type.name === "F64") return raw.dtype === dtype ? raw : raw.astype(dtype);
    try {
      return dequantize(raw, type.name, dtype);
    } catch (e) {
      throw new WeightsFileError(this.path, `tensor '${name}': ${(e as Error).message}`);
    }
  }
}

/**
 * Expands ggml blocks (uint8 [..., rowBytes], whole blocks per row) of `type` to float32 or
 * float16 [..., rowElements], bit-exact with ggml's and gguf-py's dequantizers.
 */
export function dequantize(blocks: Tensor, type: string | number, dtype: "float32" | "float16" = "float32"): Tensor {
  const t = ggmlType(type);
  if (!t) throw new Error(`dequantize: unknown ggml type ${String(type)}`);
  if (!(DEQUANTIZABLE as readonly string[]).includes(t.name))
    throw new Error(t.dtype || t.name === "F64"
      ? `dequantize: ${t.name} is not a block-quantized type (read it as a plain tensor)`
      : `dequantize: ggml type ${t.name} is not supported yet`);
  if (dtype !== "float32" && dtype !== "float16") throw new Error(`dequantize: dtype must be float32 or float16, got ${String(dtype)}`);
  return callOp("ggufDequantize", [blocks], { type: t.id, dtype });
}
