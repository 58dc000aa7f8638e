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
