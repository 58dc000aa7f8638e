// Shape and layout ops. reshape/transpose/broadcastTo/slice are views where the layout allows.
import { callOp, Tensor } from "../tensor.js";

export function reshape(a: Tensor, shape: readonly number[]): Tensor {
  return callOp("reshape", [a], { shape });
}

/** Permutes axes (reverses them when none are given). */
export function transpose(a: Tensor, axes?: readonly number[]): Tensor {
  return callOp("transpose", [a], { axes: axes ?? [] });
}

export function broadcastTo(a: Tensor, shape: readonly number[]): Tensor {
  return callOp("broadcastTo", [a], { shape });
}

/** A row-major copy. */
export function copy(a: Tensor): Tensor {
  return callOp("copy", [a]);
}
