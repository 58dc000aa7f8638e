// Low-rank (LoRA) updates of Linear, Conv2d and QuantizedLinear layers: fused into the weight
// (W += scale * up @ down), or kept as a run-time path beside the layer (y += scale * up(down(x))) so
// they can be switched or re-weighted without reloading, also over quantized weights.
import { add, multiply } from "../ops/elementwise.js";
import { reshape } from "../ops/layout.js";
import { matmul } from "../ops/linalg.js";
import type { Tensor } from "../tensor.js";
import { Conv2d, Linear } from "./layers.js";
import type { Module } from "./module.js";
import type { WithLowRank } from "./low_rank_path.js";
import { QuantizedLinear } from "./quantized.js";

/**
 * One low-rank update. Linear / QuantizedLinear: down [rank, inputDims], up [outputDims, rank].
 * Conv2d (channels-last): down [rank, kH, kW, inChannels] (a convolution with the layer's stride and
 * padding), up [outChannels, rank] (a 1x1 convolution). The update is scale * up @ down.
 */
export interface LowRankUpdate {
  down: Tensor;
  up: Tensor;
  /** The LoRA's weight times alpha / rank. */
  scale: number;
}

/** A layer a low-rank update can apply to. */
export type LowRankTarget = Linear | Conv2d | QuantizedLinear;

/** Whether `m` takes low-rank updates (Linear, Conv2d without groups, QuantizedLinear). */
export function isLowRankTarget(m: Module): m is LowRankTarget {
  return m instanceof Linear || m instanceof QuantizedLinear || (m instanceof Conv2d && m.groups === 1);
}

// The [out, in] / [out, kH, kW, in] shape of a target's (unquantized) weight.
function weightShape(layer: LowRankTarget): number[] {
  if (layer instanceof QuantizedLinear) return [layer.scales.shape[0], layer.scales.shape[1] * layer.groupSize];
  return [...layer.weight.shape];
}

/** Throws, naming `what`, when `u` does not fit `layer`. */
export function checkLowRank(layer: LowRankTarget, u: LowRankUpdate, what: string): void {
  const w = weightShape(layer);
  const rank = u.down.shape[0];
  const downOk = u.down.ndim === w.length && u.down.shape.every((d, i) => i === 0 || d === w[i]);
  const upOk = u.up.ndim === 2 && u.up.shape[0] === w[0] && u.up.shape[1] === rank;
  if (!downOk || !upOk || !Number.isFinite(u.scale))
    throw new Error(`${what}: a low-rank update with down [${u.down.shape.join(", ")}] and up [${u.up.shape.join(", ")}] does not fit a ${layer.constructor.name} with weight [${w.join(", ")}] (want down [rank, ${w.slice(1).join(", ")}], up [${w[0]}, rank])`);
}

/** The dense update scale * up @ down in the weight's layout (float32). */
export function lowRankDelta(u: LowRankUpdate): Tensor {
  const [rank, ...rest] = u.down.shape;
  const d = matmul(u.up.astype("float32"), reshape(u.down.astype("float32"), [rank, rest.reduce((a, b) => a * b, 1)]));
  return multiply(reshape(d, [u.up.shape[0], ...rest]), u.scale);
}

/** Adds the updates to a float layer's weight, in place (computed in float32, cast back). */
export function fuseLowRank(layer: Linear | Conv2d, updates: readonly LowRankUpdate[], what = "fuseLowRank"): void {
  if (layer instanceof QuantizedLinear) throw new Error(`${what}: cannot fuse into quantized weights (fuse before quantizing, or use a run-time update)`);
  let w = layer.weight.astype("float32");
  for (const u of updates) {
    checkLowRank(layer, u, what);
    w = add(w, lowRankDelta(u));
  }
  layer.weight = w.astype(layer.weight.dtype);
}

/** Sets (replaces; [] removes) the run-time low-rank updates of a layer. */
export function setLowRank(layer: LowRankTarget, updates: readonly LowRankUpdate[], what = "setLowRank"): void {
  for (const u of updates) checkLowRank(layer, u, what);
  const dtype = layer instanceof QuantizedLinear ? layer.scales.dtype : layer.weight.dtype;
  (layer as WithLowRank)._lowRank = updates.length
    ? updates.map((u) => ({ down: u.down.astype(dtype), up: u.up.astype(dtype), scale: u.scale })) : undefined;
}

/** The run-time updates of a layer (empty when none). */
export function lowRankOf(layer: LowRankTarget): readonly LowRankUpdate[] {
  return (layer as WithLowRank)._lowRank ?? [];
}
