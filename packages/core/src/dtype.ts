// Dtypes, their typed-array views, and the promotion of JS scalars against tensors.
export const DTYPES = [
  "bool", "uint8", "int8", "int16", "int32", "uint32", "int64", "float16", "bfloat16", "float32",
] as const;
export type DType = (typeof DTYPES)[number];

export type TypedArray =
  | Float32Array | Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | BigInt64Array;

export function isDType(x: unknown): x is DType {
  return typeof x === "string" && (DTYPES as readonly string[]).includes(x);
}

export function checkDType(x: unknown, what = "dtype"): DType {
  if (!isDType(x)) throw new Error(`${what} must be one of ${DTYPES.join(", ")}; got ${String(x)}`);
  return x;
}

export function isFloating(dt: DType): boolean {
  return dt === "float32" || dt === "float16" || dt === "bfloat16";
}

export function itemSize(dt: DType): number {
  switch (dt) {
    case "bool": case "uint8": case "int8": return 1;
    case "int16": case "float16": case "bfloat16": return 2;
    case "int64": return 8;
    default: return 4;
  }
}

/** Wraps row-major bytes read back from the native core (halves already converted to float32). */
export function viewBytes(buf: ArrayBuffer, dt: DType): TypedArray {
  switch (dt) {
    case "float32": case "float16": case "bfloat16": return new Float32Array(buf);
    case "int8": return new Int8Array(buf);
    case "uint8": case "bool": return new Uint8Array(buf);
    case "int16": return new Int16Array(buf);
    case "int32": return new Int32Array(buf);
    case "uint32": return new Uint32Array(buf);
    case "int64": return new BigInt64Array(buf);
  }
}

/** The dtype a typed array holds naturally (Float64Array narrows to float32, as MLX does). */
export function dtypeOfTypedArray(a: ArrayBufferView): DType | undefined {
  if (a instanceof Float32Array || a instanceof Float64Array) return "float32";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint32Array) return "uint32";
  if (a instanceof Int16Array) return "int16";
  if (a instanceof Uint16Array) return "int32";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return "uint8";
  if (a instanceof BigInt64Array) return "int64";
  return undefined;
}

/** The dtype a JS scalar takes beside a tensor of `other` (scalars are "weak", as in MLX and JAX). */
export function scalarDType(value: number | boolean, other: DType): DType {
  if (typeof value === "boolean") return other;
  if (isFloating(other)) return other;
  if (Number.isInteger(value)) return other === "bool" ? "int32" : other;
  return "float32";
}
