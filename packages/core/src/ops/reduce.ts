// Reductions, softmax, cumsum and sorting. Axes may be negative; `axis` undefined reduces every axis.
// Dtypes follow NumPy adapted to ours: sum/prod of bool and small ints give int32, mean/var/logsumexp
// of ints give float32, halves accumulate in float32 and keep their dtype, arg* give int32.
import { callOp } from "../tensor.js";
import type { Tensor } from "../tensor.js";

/** One axis or several; undefined means every axis. */
export type Axes = number | readonly number[];

function checkInt(op: string, what: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`${op}: ${what} must be an integer, got ${String(v)}`);
  return v;
}

function checkAxes(op: string, axis: Axes | undefined): number[] | undefined {
  if (axis === undefined) return undefined;
  if (typeof axis === "number") return [checkInt(op, "axis", axis)];
  if (!Array.isArray(axis)) throw new Error(`${op}: axis must be an integer or an array of integers, got ${String(axis)}`);
  return axis.map((a: unknown) => checkInt(op, "axis", a));
}

function checkBool(op: string, what: string, v: unknown): boolean {
  if (typeof v !== "boolean") throw new Error(`${op}: ${what} must be a boolean, got ${String(v)}`);
  return v;
}

function reduction(op: string) {
  return (a: Tensor, axis?: Axes, keepdims = false): Tensor =>
    callOp(op, [a], { axis: checkAxes(op, axis), keepdims: checkBool(op, "keepdims", keepdims) });
}

/** Sum over `axis` (every axis when undefined). Bool and small ints sum to int32 (wrapping). */
export const sum: (a: Tensor, axis?: Axes, keepdims?: boolean) => Tensor = reduction("sum");
/** Product over `axis`; dtypes as sum. The product of nothing is 1. */
export const prod: (a: Tensor, axis?: Axes, keepdims?: boolean) => Tensor = reduction("prod");
/** Largest element over `axis` (NaN if any is NaN). An empty axis is an error. */
export const max: (a: Tensor, axis?: Axes, keepdims?: boolean) => Tensor = reduction("max");
/** Smallest element over `axis` (NaN if any is NaN). An empty axis is an error. */
export const min: (a: Tensor, axis?: Axes, keepdims?: boolean) => Tensor = reduction("min");
/** Mean over `axis`: float32 for integer input, NaN for an empty axis. */
export const mean: (a: Tensor, axis?: Axes, keepdims?: boolean) => Tensor = reduction("mean");
/** log(sum(exp(a))) over `axis`, computed stably (the max is subtracted first). */
export const logsumexp: (a: Tensor, axis?: Axes, keepdims?: boolean) => Tensor = reduction("logsumexp");

/** Variance over `axis`, dividing by n - ddof (accumulated in float32). Exported as `var`. */
function variance(a: Tensor, axis?: Axes, keepdims = false, ddof = 0): Tensor {
  return callOp("var", [a], {
    axis: checkAxes("var", axis),
    keepdims: checkBool("var", "keepdims", keepdims),
    ddof: checkInt("var", "ddof", ddof),
  });
}
export { variance as var };

function argReduction(op: string) {
  return (a: Tensor, axis?: number, keepdims = false): Tensor =>
    callOp(op, [a], {
      axis: axis === undefined ? undefined : checkInt(op, "axis", axis),
      keepdims: checkBool(op, "keepdims", keepdims),
    });
}

/** Index (int32) of the first largest element along `axis`, or in the flattened tensor. NaN wins. */
export const argmax: (a: Tensor, axis?: number, keepdims?: boolean) => Tensor = argReduction("argmax");
/** Index (int32) of the first smallest element along `axis`, or in the flattened tensor. NaN wins. */
export const argmin: (a: Tensor, axis?: number, keepdims?: boolean) => Tensor = argReduction("argmin");

/** exp(a) / sum(exp(a)) over `axis` (the last by default), stably; integer input gives float32. */
export function softmax(a: Tensor, axis: Axes = -1): Tensor {
  return callOp("softmax", [a], { axis: checkAxes("softmax", axis) });
}

export interface CumsumOptions {
  /** Accumulate from the end of the axis. */
  reverse?: boolean;
  /** Include the current element (default); false gives the exclusive scan, starting at 0. */
  inclusive?: boolean;
}

/** Cumulative sum along `axis` (of the flattened tensor when undefined). Bool gives int32. */
export function cumsum(a: Tensor, axis?: number, opts: CumsumOptions = {}): Tensor {
  return callOp("cumsum", [a], {
    axis: axis === undefined ? undefined : checkInt("cumsum", "axis", axis),
    reverse: checkBool("cumsum", "reverse", opts.reverse ?? false),
    inclusive: checkBool("cumsum", "inclusive", opts.inclusive ?? true),
  });
}

/** Sorted copy along `axis` (NaN last, as NumPy). */
export function sort(a: Tensor, axis = -1): Tensor {
  return callOp("sort", [a], { axis: checkInt("sort", "axis", axis) });
}

/** Indices (int32) that sort `a` along `axis`; stable (equal elements keep their order). */
export function argsort(a: Tensor, axis = -1): Tensor {
  return callOp("argsort", [a], { axis: checkInt("argsort", "axis", axis) });
}

/** The `k` largest elements along `axis`, in descending order. */
export function topk(a: Tensor, k: number, axis = -1): Tensor {
  return callOp("topk", [a], { k: checkInt("topk", "k", k), axis: checkInt("topk", "axis", axis) });
}

/**
 * Indices (int32) that partition `a` along `axis` around the `kth` element (negative counts from the
 * end): it lands in its sorted place, with no larger element before it and no smaller one after.
 */
export function argpartition(a: Tensor, kth: number, axis = -1): Tensor {
  return callOp("argpartition", [a], { kth: checkInt("argpartition", "kth", kth), axis: checkInt("argpartition", "axis", axis) });
}
