// Elementwise ops with NumPy broadcasting and MLX's type promotion.
//
// Promotion: two tensors promote as NumPy does, except that an integer with a float gives that
// float type (int32 + float16 -> float16) and float16 with bfloat16 gives float32. JS scalars are
// "weak": they take the tensor's dtype (float16 + 2.5 stays float16, int8 + 3 stays int8); a
// fractional scalar with an integer tensor gives float32, and an integer scalar that does not fit
// an integer tensor's dtype is an error (as in NumPy 2).
import { checkDType, scalarDType } from "../dtype.js";
import type { DType } from "../dtype.js";
import { callOp, scalar, Tensor } from "../tensor.js";
import type { TensorLike } from "../tensor.js";

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255], int8: [-128, 127], int16: [-32768, 32767], int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1], int64: [-(2 ** 63), 2 ** 63],
};

function describe(x: unknown): string {
  if (x === null) return "null";
  if (x === undefined) return "undefined";
  if (Array.isArray(x)) return "an array (wrap it with tensor())";
  if (typeof x === "object") return `a ${(x as object).constructor?.name ?? "object"}`;
  return `${typeof x} ${String(x)}`;
}

function checkTensor(op: string, x: unknown, what: string): Tensor {
  if (x instanceof Tensor) return x;
  throw new Error(`${op}: ${what} must be a Tensor, got ${describe(x)}`);
}

/** A tensor from a tensor-or-scalar argument; scalars follow `like`'s dtype (weak promotion). */
function operand(op: string, x: unknown, what: string, like?: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "boolean") return scalar(x, like?.dtype ?? "bool");
  if (typeof x !== "number") throw new Error(`${op}: ${what} must be a Tensor, a number or a boolean, got ${describe(x)}`);
  if (!like) return scalar(x, Number.isInteger(x) ? "int32" : "float32");
  const dt = scalarDType(x, like.dtype);
  const range = INT_RANGE[dt];
  if (range && Number.isFinite(x) && (x < range[0] || x > range[1]))
    throw new Error(`${op}: the scalar ${x} is out of range for the ${dt} tensor it is combined with; ` +
      `convert the tensor first (astype) or pass the scalar as a tensor`);
  return scalar(x, dt);
}

function pair(op: string, a: unknown, b: unknown): [Tensor, Tensor] {
  if (a instanceof Tensor) return [a, operand(op, b, "the second argument", a)];
  if (b instanceof Tensor) return [operand(op, a, "the first argument", b), b];
  return [operand(op, a, "the first argument"), operand(op, b, "the second argument")];
}

type BinaryFn = (a: TensorLike, b: TensorLike) => Tensor;
type UnaryFn = (a: Tensor) => Tensor;
const bin = (name: string): BinaryFn => (a, b) => callOp(name, pair(name, a, b));
const un = (name: string): UnaryFn => (a) => callOp(name, [checkTensor(name, a, "the argument")]);

/** a + b, broadcast. Integers wrap around on overflow; bool + bool is logical or. */
export const add = bin("add");
/** a - b, broadcast. Not defined for two bool arrays. */
export const subtract = bin("subtract");
/** a * b, broadcast. Integers wrap around on overflow. */
export const multiply = bin("multiply");
/** True division: integer inputs give float32. */
export const divide = bin("divide");
/**
 * Floor division (Python's //), as NumPy: floats use fmod so that 1 // 0.1 == 9. Integer
 * division by zero gives 0, and MIN // -1 wraps to MIN (NumPy: the same, with a warning).
 */
export const floorDivide = bin("floorDivide");
/** Remainder with the sign of the divisor (Python's %). Integer remainder by zero gives 0. */
export const remainder = bin("remainder");
/**
 * a ** b. For integers, a negative exponent gives the truncated result (1 for a = 1, +-1 for
 * a = -1, else 0) where NumPy raises.
 */
export const power = bin("power");
/** Elementwise maximum; NaN if either is NaN. */
export const maximum = bin("maximum");
/** Elementwise minimum; NaN if either is NaN. */
export const minimum = bin("minimum");
/** a == b (bool). */
export const equal = bin("equal");
/** a != b (bool); true where either is NaN. */
export const notEqual = bin("notEqual");
/** a < b (bool). */
export const less = bin("less");
/** a <= b (bool). */
export const lessEqual = bin("lessEqual");
/** a > b (bool). */
export const greater = bin("greater");
/** a >= b (bool). */
export const greaterEqual = bin("greaterEqual");
/** Logical and of the truth values (nonzero, NaN included, is true); gives bool. */
export const logicalAnd = bin("logicalAnd");
/** Logical or of the truth values; gives bool. */
export const logicalOr = bin("logicalOr");

/** |a|. */
export const abs = un("abs");
/** -a (integers wrap: -MIN == MIN). Not defined for bool; use logicalNot. */
export const neg = un("neg");
/** -1, 0 or 1 by sign (NaN stays NaN). */
export const sign = un("sign");
/** a * a. */
export const square = un("square");
/** e^a. Integer inputs give float32 (so for every transcendental function below). */
export const exp = un("exp");
/** Natural logarithm: -inf at 0, NaN below. */
export const log = un("log");
/** log(1 + a), accurate for small a. */
export const log1p = un("log1p");
/** Square root. */
export const sqrt = un("sqrt");
/** 1 / sqrt(a). */
export const rsqrt = un("rsqrt");
/** Sine (radians). */
export const sin = un("sin");
/** Cosine (radians). */
export const cos = un("cos");
/** Hyperbolic tangent. */
export const tanh = un("tanh");
/** 1 / (1 + e^-a). */
export const sigmoid = un("sigmoid");
/** The error function. */
export const erf = un("erf");
/** a * sigmoid(a) (0 at -inf). */
export const silu = un("silu");
/** max(a, 0); NaN stays NaN. */
export const relu = un("relu");
/** log(1 + e^a), computed without overflow. */
export const softplus = un("softplus");
/** Rounds half to even, as NumPy. Integers are returned as they are. */
export const round = un("round");
/** Largest integer <= a. */
export const floor = un("floor");
/** Smallest integer >= a. */
export const ceil = un("ceil");
/** 1 / a (integer inputs give float32). */
export const reciprocal = un("reciprocal");
/** Logical not of the truth value (nonzero is true); gives bool. */
export const logicalNot = un("logicalNot");

/** GELU: exact, 0.5 a (1 + erf(a / sqrt 2)), by default, or the tanh approximation. */
export function gelu(a: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  if (approximate !== "none" && approximate !== "tanh")
    throw new Error(`gelu: approximate must be "none" or "tanh", got ${describe(approximate)}`);
  const name = approximate === "tanh" ? "geluTanh" : "geluExact";
  return callOp(name, [checkTensor("gelu", a, "the argument")]);
}

/** Elements of `a` where `cond` is true (nonzero), else of `b`; all three broadcast. */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair("where", a, b);
  return callOp("where", [operand("where", cond, "the condition"), x, y]);
}

/**
 * Limits `a` to [min, max] (either bound may be null). Bounds broadcast against `a`; where
 * min > max the result is max, as NumPy. NaN in `a` stays NaN.
 */
export function clip(a: Tensor, min: TensorLike | null, max: TensorLike | null): Tensor {
  let out = checkTensor("clip", a, "the array");
  if (min !== null && min !== undefined) out = maximum(out, min);
  if (max !== null && max !== undefined) out = minimum(out, max);
  return out;
}

/**
 * Converts to `dtype`. Float to integer truncates toward zero and saturates at the integer's
 * range (NaN gives 0); integer to narrower integer wraps; conversions to float16/bfloat16 round
 * once to nearest even; to bool is "nonzero" (NaN is true).
 */
export function astype(a: Tensor, dtype: DType): Tensor {
  return callOp("astype", [checkTensor("astype", a, "the array")], { dtype: checkDType(dtype) });
}

