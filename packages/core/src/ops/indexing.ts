// Indexing: strided slices and NumPy-style basic indexing (views), slice updates, and gathers.
import { callOp, Tensor, tensor, toTensor } from "../tensor.js";
import type { NestedArray } from "../tensor.js";

/** @internal Checks that `x` is an integer, naming the op and argument otherwise. */
export function checkInt(x: unknown, op: string, what: string): number {
  if (typeof x !== "number" || !Number.isInteger(x)) throw new Error(`${op}: ${what} must be an integer, got ${String(x)}`);
  return x;
}

/** @internal As checkInt for each element of an array. */
export function checkInts(xs: unknown, op: string, what: string): number[] {
  if (!Array.isArray(xs)) throw new Error(`${op}: ${what} must be an array of integers, got ${String(xs)}`);
  return xs.map((x) => checkInt(x, op, what));
}

/**
 * The strided slice `a[start[0]:stop[0]:step[0], ...]` with Python semantics: negative indices count
 * from the end, out-of-range bounds clamp, steps may be negative (not 0). Axes past the given
 * entries are kept whole. A view: no data is copied.
 */
export function slice(a: Tensor, start: readonly number[], stop: readonly number[], step?: readonly number[]): Tensor {
  const s0 = checkInts(start, "slice", "start");
  const e0 = checkInts(stop, "slice", "stop");
  const t0 = step === undefined ? s0.map(() => 1) : checkInts(step, "slice", "step");
  if (e0.length !== s0.length || t0.length !== s0.length)
    throw new Error(`slice: start, stop and step must have the same length, got ${s0.length}, ${e0.length} and ${t0.length}`);
  if (s0.length > a.ndim) throw new Error(`slice: got ${s0.length} bounds for a tensor of ${a.ndim} dimensions`);
  const rest = a.shape.slice(s0.length);
  return callOp("slice", [a], { start: [...s0, ...rest.map(() => 0)], stop: [...e0, ...rest], step: [...t0, ...rest.map(() => 1)] });
}

/**
 * One entry of an index(): an integer (selects and drops the axis; negative from the end), a
 * `[start, stop, step?]` slice (Python semantics; `null` bounds mean the natural end), `null` for
 * the whole axis, `"..."` for as many whole axes as needed, `"newaxis"` for a new size-1 axis.
 */
export type IndexSpec = number | readonly [number | null, number | null, (number | null)?] | null | "..." | "newaxis";

/**
 * NumPy basic indexing: `index(a, 0, [1, null, -1], "...", "newaxis")` is `a[0, 1::-1, ..., None]`.
 * Always a view.
 */
export function index(a: Tensor, ...spec: IndexSpec[]): Tensor {
  const nd = a.ndim;
  const consumes = (s: IndexSpec) => s !== "..." && s !== "newaxis";
  const ellipses = spec.filter((s) => s === "...").length;
  if (ellipses > 1) throw new Error("index: an index can only have a single ellipsis ('...')");
  const used = spec.filter(consumes).length;
  if (used > nd) throw new Error(`index: too many indices for a tensor of ${nd} dimensions (got ${used})`);
  const full: IndexSpec[] = [];
  for (const s of spec) {
    if (s === "...") for (let i = 0; i < nd - used; i++) full.push(null);
    else full.push(s);
  }
  if (!ellipses) for (let i = 0; i < nd - used; i++) full.push(null);

  const start: number[] = [], stop: number[] = [], step: number[] = [];
  const plan: ("keep" | "drop" | "new")[] = [];
  let axis = 0;
  for (const s of full) {
    if (s === "newaxis") {
      plan.push("new");
      continue;
    }
    const d = a.shape[axis];
    if (s === null) {
      start.push(0), stop.push(d), step.push(1), plan.push("keep");
    } else if (typeof s === "number") {
      checkInt(s, "index", "an integer index");
      if (s < -d || s >= d) throw new Error(`index: index ${s} is out of bounds for axis ${axis} with size ${d}`);
      const i = s < 0 ? s + d : s;
      start.push(i), stop.push(i + 1), step.push(1), plan.push("drop");
    } else if (Array.isArray(s) && (s.length === 2 || s.length === 3)) {
      const st = s[2] ?? 1;
      checkInt(st, "index", "a slice step");
      if (st === 0) throw new Error(`index: slice step cannot be 0 (axis ${axis})`);
      // null bounds: the natural ends; -(d + 1) stands for "before the first element" as a stop.
      start.push(s[0] === null ? (st > 0 ? 0 : d - 1) : checkInt(s[0], "index", "a slice start"));
      stop.push(s[1] === null ? (st > 0 ? d : -(d + 1)) : checkInt(s[1], "index", "a slice stop"));
      step.push(st);
      plan.push("keep");
    } else {
      throw new Error(`index: each index must be an integer, [start, stop, step?], null, "..." or "newaxis"; got ${JSON.stringify(s)}`);
    }
    axis++;
  }
  const sliced = callOp("slice", [a], { start, stop, step });
  const shape: number[] = [];
  axis = 0;
  for (const p of plan) {
    if (p === "new") shape.push(1);
    else if (p === "keep") shape.push(sliced.shape[axis++]);
    else axis++;
  }
  return callOp("reshape", [sliced], { shape });
}

function toIndices(indices: Tensor | NestedArray | ArrayBufferView): Tensor {
  return indices instanceof Tensor ? indices : tensor(indices, ArrayBuffer.isView(indices) ? {} : { dtype: "int32" });
}

/**
 * Elements of `a` at `indices` (a tensor of any integer dtype and shape, or JS integers) along
 * `axis`, or of the flattened `a` when no axis is given: the result's shape is
 * `a.shape[:axis] + indices.shape + a.shape[axis+1:]`. Negative indices count from the end. As in
 * NumPy, an index out of range is an error, thrown when the result is evaluated.
 */
export function take(a: Tensor, indices: Tensor | NestedArray | ArrayBufferView, axis?: number): Tensor {
  const attrs = axis === undefined ? {} : { axis: checkInt(axis, "take", "axis") };
  return callOp("take", [a, toIndices(indices)], attrs);
}

/**
 * NumPy's take_along_axis: `out[..., j, ...] = a[..., indices[..., j, ...], ...]` along `axis`.
 * `indices` has a's number of dimensions and broadcasts with it on the other axes (e.g. the
 * output of argsort or topk indices). Out-of-range indices throw at evaluation.
 */
export function takeAlongAxis(a: Tensor, indices: Tensor, axis: number): Tensor {
  return callOp("takeAlongAxis", [a, toIndices(indices)], { axis: checkInt(axis, "takeAlongAxis", "axis") });
}

/**
 * A new tensor equal to `a` with the region `a[start:stop:step]` (as slice()) replaced by
 * `update`, which broadcasts to the region and is cast to a's dtype. Without `stop` the region
 * has update's extent from `start` (update's dims aligned to a's last axes). Axes past `start`'s
 * entries are covered whole.
 *
 * Nothing is mutated. But when, at evaluation, `a` is held by nothing else (no JS handle, no
 * other pending op), its buffer is reused and only the region is written: for a KV cache, call
 * `next = sliceUpdate(cache, kv, [0, 0, t, 0]); cache.dispose(); cache = next` (or work inside
 * tidy()) so each step costs the size of the step rather than a copy of the whole cache.
 */
export function sliceUpdate(
  a: Tensor,
  update: Tensor | number | boolean,
  start: readonly number[],
  stop?: readonly number[],
  step?: readonly number[],
): Tensor {
  const u = toTensor(update, a);
  const nd = a.ndim;
  const s0 = checkInts(start, "sliceUpdate", "start");
  const t0 = step === undefined ? s0.map(() => 1) : checkInts(step, "sliceUpdate", "step");
  if (s0.length > nd) throw new Error(`sliceUpdate: got ${s0.length} start indices for a tensor of ${nd} dimensions`);
  if (t0.length !== s0.length) throw new Error(`sliceUpdate: step must have one entry per start index (${s0.length}), got ${t0.length}`);
  let e0: number[];
  if (stop !== undefined) {
    e0 = checkInts(stop, "sliceUpdate", "stop");
    if (e0.length !== s0.length) throw new Error(`sliceUpdate: stop must have one entry per start index (${s0.length}), got ${e0.length}`);
  } else {
    e0 = s0.map((s, i) => {
      const d = a.shape[i], st = t0[i];
      const ud = i - (nd - u.ndim) >= 0 ? u.shape[i - (nd - u.ndim)] : 1;
      if (st === 0) return s;  // the native op reports the zero step
      const b = s < 0 ? s + d : s;
      const e = ud === 0 ? b : b + (ud - 1) * st + Math.sign(st);
      // A stop before the first element must not wrap around (-1 means "the last one").
      return e < 0 ? -(d + 1) : e;
    });
  }
  const rest = a.shape.slice(s0.length);
  return callOp("sliceUpdate", [a, u], {
    start: [...s0, ...rest.map(() => 0)],
    stop: [...e0, ...rest],
    step: [...t0, ...rest.map(() => 1)],
  });
}
