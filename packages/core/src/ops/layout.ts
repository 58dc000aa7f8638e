// Shape and layout ops. reshape, transpose, broadcastTo, swapaxes, expandDims, squeeze and flatten
// are views where the strides allow (always, except reshape/flatten of some non-contiguous data);
// concatenate, stack, pad, repeat and tile copy.
import { callOp, Tensor } from "../tensor.js";
import { checkInt, checkInts, slice, take } from "./indexing.js";

export { index, slice, sliceUpdate, take, takeAlongAxis } from "./indexing.js";
export type { IndexSpec } from "./indexing.js";

/** Gives `a` a new shape with the same number of elements; one dimension may be -1 (inferred). */
export function reshape(a: Tensor, shape: readonly number[]): Tensor {
  return callOp("reshape", [a], { shape });
}

/** Permutes axes (reverses them when none are given). A view. */
export function transpose(a: Tensor, axes?: readonly number[]): Tensor {
  return callOp("transpose", [a], { axes: axes ?? [] });
}

/** Broadcasts `a` to `shape` (NumPy rules). A view: no data is copied. */
export function broadcastTo(a: Tensor, shape: readonly number[]): Tensor {
  return callOp("broadcastTo", [a], { shape });
}

/** A row-major copy. */
export function copy(a: Tensor): Tensor {
  return callOp("copy", [a]);
}

/** Exchanges two axes (negative axes count from the end). A view. */
export function swapaxes(a: Tensor, axis1: number, axis2: number): Tensor {
  return callOp("swapaxes", [a], { axis1: checkInt(axis1, "swapaxes", "axis1"), axis2: checkInt(axis2, "swapaxes", "axis2") });
}

/** Inserts size-1 axes at the given positions of the result (negative count from its end). A view. */
export function expandDims(a: Tensor, axis: number | readonly number[]): Tensor {
  return callOp("expandDims", [a], { axes: checkInts(typeof axis === "number" ? [axis] : axis, "expandDims", "axis") });
}

/** Removes the given size-1 axes, or every size-1 axis when none is given. A view. */
export function squeeze(a: Tensor, axis?: number | readonly number[]): Tensor {
  if (axis === undefined) return callOp("squeeze", [a]);
  return callOp("squeeze", [a], { axes: checkInts(typeof axis === "number" ? [axis] : axis, "squeeze", "axis") });
}

/** Merges axes `start..end` (inclusive) into one; a 0-d tensor gives shape [1]. A view when the data allows. */
export function flatten(a: Tensor, start = 0, end = -1): Tensor {
  return callOp("flatten", [a], { start: checkInt(start, "flatten", "start"), end: checkInt(end, "flatten", "end") });
}

function checkList(tensors: readonly Tensor[], op: string): Tensor[] {
  if (!Array.isArray(tensors)) throw new Error(`${op}: expected an array of tensors`);
  if (tensors.length === 0) throw new Error(`${op}: needs at least one tensor`);
  return [...tensors];
}

/** Joins tensors along an existing axis; shapes must match elsewhere; dtypes promote as in NumPy. */
export function concatenate(tensors: readonly Tensor[], axis = 0): Tensor {
  return callOp("concatenate", checkList(tensors, "concatenate"), { axis: checkInt(axis, "concatenate", "axis") });
}

/** Joins same-shaped tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  return callOp("stack", checkList(tensors, "stack"), { axis: checkInt(axis, "stack", "axis") });
}

/**
 * Splits `a` along `axis` into `sections` equal parts (an error when the size does not divide),
 * or at the given indices (`[2, 5]` gives `a[:2]`, `a[2:5]`, `a[5:]`, Python slice semantics).
 * The parts are views.
 */
export function split(a: Tensor, sectionsOrIndices: number | readonly number[], axis = 0): Tensor[] {
  checkInt(axis, "split", "axis");
  const nd = a.ndim;
  if (axis < -nd || axis >= nd) throw new Error(`split: axis ${axis} is out of range for a tensor of ${nd} dimensions`);
  const ax = axis < 0 ? axis + nd : axis;
  const d = a.shape[ax];
  let cuts: number[];
  if (typeof sectionsOrIndices === "number") {
    const n = checkInt(sectionsOrIndices, "split", "sections");
    if (n <= 0) throw new Error(`split: the number of sections must be positive, got ${n}`);
    if (d % n !== 0) throw new Error(`split: an axis of size ${d} (axis ${ax} of shape [${a.shape.join(", ")}]) cannot be split into ${n} equal sections`);
    cuts = Array.from({ length: n - 1 }, (_, i) => ((i + 1) * d) / n);
  } else {
    cuts = checkInts(sectionsOrIndices, "split", "indices");
  }
  const bounds = [0, ...cuts, d];
  return bounds.slice(1).map((stop, i) => {
    const start = new Array<number>(nd).fill(0);
    const end = [...a.shape];
    start[ax] = bounds[i];
    end[ax] = stop;
    return slice(a, start, end);
  });
}

/** Pad widths: one number for every side, one [before, after] pair for every axis, or a pair per axis. */
export type PadWidths = number | readonly [number, number] | readonly (readonly [number, number])[];

/** Pads with the constant `value` (cast to a's dtype). */
export function pad(a: Tensor, widths: PadWidths, value = 0): Tensor {
  const nd = a.ndim;
  const bad = () => new Error(`pad: widths must be a number, a [before, after] pair, or one pair per axis (${nd} axes); got ${JSON.stringify(widths)}`);
  let pairs: (readonly number[])[];
  if (typeof widths === "number") pairs = Array.from({ length: nd }, () => [widths, widths]);
  else if (!Array.isArray(widths)) throw bad();
  else if (widths.length === 2 && widths.every((w) => typeof w === "number")) pairs = Array.from({ length: nd }, () => widths as readonly number[]);
  else if (widths.length === nd && widths.every((w) => Array.isArray(w) && w.length === 2)) pairs = widths as (readonly number[])[];
  else throw bad();
  const flat = checkInts(pairs.flat(), "pad", "widths");
  if (typeof value !== "number" && typeof value !== "boolean") throw new Error(`pad: value must be a number, got ${String(value)}`);
  return callOp("pad", [a], { widths: flat, value: Number(value) });
}

/**
 * Repeats each element `repeats` times along `axis` (of the flattened tensor when no axis is
 * given), as NumPy's repeat. `repeats` may also give one count per element along the axis.
 */
export function repeat(a: Tensor, repeats: number | readonly number[], axis?: number): Tensor {
  if (axis !== undefined) checkInt(axis, "repeat", "axis");
  if (typeof repeats === "number") {
    checkInt(repeats, "repeat", "repeats");
    return callOp("repeat", [a], axis === undefined ? { repeats } : { repeats, axis });
  }
  const counts = checkInts(repeats, "repeat", "repeats");
  const src = axis === undefined ? flatten(a) : a;
  const ax = axis ?? 0;
  if (ax < -src.ndim || ax >= src.ndim) throw new Error(`repeat: axis ${ax} is out of range for a tensor of ${src.ndim} dimensions`);
  const d = src.shape[ax < 0 ? ax + src.ndim : ax];
  if (counts.length === 1) return repeat(src, counts[0], ax);
  if (counts.length !== d) throw new Error(`repeat: got ${counts.length} repeat counts for an axis of size ${d}`);
  const idx: number[] = [];
  counts.forEach((c, i) => {
    if (c < 0) throw new Error(`repeat: repeats must be non-negative, got ${c}`);
    for (let k = 0; k < c; k++) idx.push(i);
  });
  return take(src, Int32Array.from(idx), ax);
}

/** Repeats the whole tensor reps[i] times along each axis (NumPy's tile; shorter side gets leading 1s). */
export function tile(a: Tensor, reps: number | readonly number[]): Tensor {
  return callOp("tile", [a], { reps: checkInts(typeof reps === "number" ? [reps] : reps, "tile", "reps") });
}
