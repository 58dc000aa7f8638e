// Tensors made from a shape and a value.
import { checkDType } from "../dtype.js";
import type { DType } from "../dtype.js";
import { callOp, Tensor } from "../tensor.js";

function checkShape(shape: readonly number[], op: string): number[] {
  if (!Array.isArray(shape)) throw new Error(`${op}: shape must be an array of non-negative integers`);
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: shape must contain non-negative integers, got [${shape.join(", ")}]`);
  return [...shape];
}

export function full(shape: readonly number[], value: number | boolean, dtype?: DType): Tensor {
  const dt = dtype ? checkDType(dtype) : typeof value === "boolean" ? "bool" : "float32";
  return callOp("full", [], { shape: checkShape(shape, "full"), value: Number(value), dtype: dt });
}

export function zeros(shape: readonly number[], dtype: DType = "float32"): Tensor {
  return full(shape, 0, dtype);
}

export function ones(shape: readonly number[], dtype: DType = "float32"): Tensor {
  return full(shape, 1, dtype);
}

export function zerosLike(a: Tensor): Tensor {
  return full(a.shape, 0, a.dtype);
}

export function onesLike(a: Tensor): Tensor {
  return full(a.shape, 1, a.dtype);
}

function checkInt(x: unknown, what: string, op: string, min = -Infinity): number {
  if (typeof x !== "number" || !Number.isInteger(x) || x < min)
    throw new Error(`${op}: ${what} must be ${min === 0 ? "a non-negative integer" : "an integer"}, got ${String(x)}`);
  return x;
}

function checkFinite(x: unknown, what: string, op: string): number {
  if (typeof x !== "number" || !Number.isFinite(x)) throw new Error(`${op}: ${what} must be a finite number, got ${String(x)}`);
  return x;
}

/**
 * Values from `start` up to (not including) `stop` by `step`, as NumPy's arange: there are
 * ceil((stop - start) / step) of them. `arange(stop)` counts from 0. The dtype is int32 when every
 * bound is an integer and float32 otherwise, unless given (as the last argument).
 *
 * @example arange(5) // [0, 1, 2, 3, 4];  arange(1, 2, 0.25) // [1, 1.25, 1.5, 1.75]
 */
export function arange(stop: number, dtype?: DType): Tensor;
export function arange(start: number, stop: number, dtype?: DType): Tensor;
export function arange(start: number, stop: number, step: number, dtype?: DType): Tensor;
export function arange(...args: (number | DType | undefined)[]): Tensor {
  while (args.length && args[args.length - 1] === undefined) args.pop();
  const last = args[args.length - 1];
  const dtype = typeof last === "string" ? checkDType(args.pop()) : undefined;
  if (args.length < 1 || args.length > 3) throw new Error(`arange: expected (stop), (start, stop) or (start, stop, step), got ${args.length} numbers`);
  const nums = args.map((v, i) => checkFinite(v, ["start", "stop", "step"][args.length === 1 ? 1 : i], "arange"));
  const [start, stop, step] = nums.length === 1 ? [0, nums[0], 1] : [nums[0], nums[1], nums[2] ?? 1];
  if (step === 0) throw new Error("arange: step must be non-zero");
  const dt = dtype ?? (nums.every(Number.isInteger) ? "int32" : "float32");
  return callOp("arange", [], { start, stop, step, dtype: dt });
}

/** `num` evenly spaced values from `start` to `stop`, both included (the last is exactly `stop`). */
export function linspace(start: number, stop: number, num: number, dtype: DType = "float32"): Tensor {
  checkFinite(start, "start", "linspace");
  checkFinite(stop, "stop", "linspace");
  checkInt(num, "num", "linspace", 0);
  return callOp("linspace", [], { start, stop, num, dtype: checkDType(dtype) });
}

/** An [n, m] array (m = n by default) with ones on the k-th diagonal (k > 0 above the main one). */
export function eye(n: number, m?: number | null, k = 0, dtype: DType = "float32"): Tensor {
  return diagonalMask("eye", n, m, k, dtype);
}

/** An [n, m] array (m = n by default) with ones at and below the k-th diagonal, zeros above. */
export function tri(n: number, m?: number | null, k = 0, dtype: DType = "float32"): Tensor {
  return diagonalMask("tri", n, m, k, dtype);
}

function diagonalMask(op: "eye" | "tri", n: number, m: number | null | undefined, k: number, dtype: DType): Tensor {
  checkInt(n, "n", op, 0);
  if (m !== undefined && m !== null) checkInt(m, "m", op, 0);
  checkInt(k, "k", op);
  return callOp(op, [], { n, m: m ?? n, k, dtype: checkDType(dtype) });
}
