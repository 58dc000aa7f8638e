// Elementwise ops with NumPy broadcasting. Scalars follow the tensor's dtype (weak promotion).
import { checkDType } from "../dtype.js";
import type { DType } from "../dtype.js";
import { callOp, Tensor, toTensor } from "../tensor.js";
import type { TensorLike } from "../tensor.js";

function pair(a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (a instanceof Tensor) return [a, toTensor(b, a)];
  if (b instanceof Tensor) return [toTensor(a, b), b];
  return [toTensor(a), toTensor(b)];
}
const bin = (name: string) => (a: TensorLike, b: TensorLike): Tensor => callOp(name, pair(a, b));
const un = (name: string) => (a: Tensor): Tensor => callOp(name, [toTensor(a)]);

export const add = bin("add");
export const subtract = bin("subtract");
export const multiply = bin("multiply");
/** True division: integer inputs give float32. */
export const divide = bin("divide");
export const floorDivide = bin("floorDivide");
/** Remainder with the sign of the divisor (Python's %). */
export const remainder = bin("remainder");
export const power = bin("power");
export const maximum = bin("maximum");
export const minimum = bin("minimum");
export const equal = bin("equal");
export const notEqual = bin("notEqual");
export const less = bin("less");
export const lessEqual = bin("lessEqual");
export const greater = bin("greater");
export const greaterEqual = bin("greaterEqual");
export const logicalAnd = bin("logicalAnd");
export const logicalOr = bin("logicalOr");

export const abs = un("abs");
export const neg = un("neg");
export const sign = un("sign");
export const square = un("square");
export const exp = un("exp");
export const log = un("log");
export const log1p = un("log1p");
export const sqrt = un("sqrt");
export const rsqrt = un("rsqrt");
export const sin = un("sin");
export const cos = un("cos");
export const tanh = un("tanh");
export const sigmoid = un("sigmoid");
export const erf = un("erf");
export const silu = un("silu");
export const relu = un("relu");
export const softplus = un("softplus");
/** Rounds half to even, as NumPy. */
export const round = un("round");
export const floor = un("floor");
export const ceil = un("ceil");
export const reciprocal = un("reciprocal");
export const logicalNot = un("logicalNot");

/** GELU: exact (erf) by default, or the tanh approximation. */
export function gelu(a: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  if (approximate !== "none" && approximate !== "tanh") throw new Error(`gelu: approximate must be "none" or "tanh", got ${String(approximate)}`);
  return callOp(approximate === "tanh" ? "geluTanh" : "geluExact", [a]);
}

/** Elements of `a` where `cond` is true, else of `b` (all three broadcast). */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair(a, b);
  return callOp("where", [toTensor(cond), x, y]);
}

export function clip(a: Tensor, min: TensorLike | null, max: TensorLike | null): Tensor {
  let out = a;
  if (min !== null && min !== undefined) out = maximum(out, min);
  if (max !== null && max !== undefined) out = minimum(out, max);
  return out;
}

export function astype(a: Tensor, dtype: DType): Tensor {
  return callOp("astype", [a], { dtype: checkDType(dtype) });
}
