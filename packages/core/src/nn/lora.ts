// Low-rank (LoRA, DoRA) updates of Linear, Conv2d, QuantizedLinear and GgmlLinear layers: fused
// into the weight (W += scale * up @ down), or kept as a run-time path beside the layer
// (y += scale * up(down(x))) so they can be switched or re-weighted without reloading, also over
// MLX-quantized weights and ggml blocks. DoRA (mlx-lm's DoRALinear, PEFT's use_dora) rescales each
// output row by magnitude / |W + update| (the bias outside the rescaling); the weights are frozen,
// so that factor is computed once, when the update is set.
import type { DType } from "../dtype.js";
import { evalSync } from "../evaluate.js";
import { dequantize as dequantizeGgml, ggmlType } from "../io/ggml_types.js";
import { add, divide, multiply, sqrt, square } from "../ops/elementwise.js";
import { expandDims, reshape } from "../ops/layout.js";
import { matmul } from "../ops/linalg.js";
import { sum } from "../ops/reduce.js";
import { dequantize } from "../quant/affine.js";
import type { Tensor } from "../tensor.js";
import { GgmlLinear } from "./ggml.js";
import { Conv2d, Linear } from "./layers.js";
import type { Module } from "./module.js";
import type { WithLowRank } from "./low_rank_path.js";
import { QuantizedLinear } from "./quantized.js";

/**
 * One low-rank update. Linear / QuantizedLinear / GgmlLinear: down [rank, inputDims], up
 * [outputDims, rank]. Conv2d (channels-last): down [rank, kH, kW, inChannels] (a convolution with
 * the layer's stride and padding), up [outChannels, rank] (a 1x1 convolution). The update is
 * scale * up @ down.
 */
export interface LowRankUpdate {
  down: Tensor;
  up: Tensor;
  /** The LoRA's weight times alpha / rank. */
  scale: number;
  /** DoRA's magnitude [outputDims] (not for Conv2d): rows of the adapted weight are rescaled to it. */
  magnitude?: Tensor;
}

/** A layer a low-rank update can apply to. */
export type LowRankTarget = Linear | Conv2d | QuantizedLinear | GgmlLinear;

/** A linear layer a low-rank update can apply to (float, MLX-quantized or ggml blocks). */
export type LinearTarget = Linear | QuantizedLinear | GgmlLinear;

/** Whether `m` takes low-rank updates (Linear, Conv2d without groups, QuantizedLinear, GgmlLinear). */
export function isLowRankTarget(m: Module): m is LowRankTarget {
  return m instanceof Linear || m instanceof QuantizedLinear || m instanceof GgmlLinear || (m instanceof Conv2d && m.groups === 1);
}

/** The [out, in] / [out, kH, kW, in] shape of a target's (unquantized) weight. */
export function weightShape(layer: LowRankTarget): number[] {
  if (layer instanceof QuantizedLinear) return [layer.scales.shape[0], layer.scales.shape[1] * layer.groupSize];
  if (layer instanceof GgmlLinear) {
    const t = ggmlType(layer.type)!;
    return [layer.weight.shape[0], (layer.weight.shape[1] / t.typeSize) * t.blockSize];
  }
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
  if (u.magnitude && (layer instanceof Conv2d || u.magnitude.ndim !== 1 || u.magnitude.shape[0] !== w[0]))
    throw new Error(`${what}: a DoRA magnitude [${u.magnitude.shape.join(", ")}] does not fit a ${layer.constructor.name} with weight [${w.join(", ")}] (want [${w[0]}], linear layers only)`);
}

/** The dense update scale * up @ down in the weight's layout (float32). */
export function lowRankDelta(u: LowRankUpdate): Tensor {
  const [rank, ...rest] = u.down.shape;
  const d = matmul(u.up.astype("float32"), reshape(u.down.astype("float32"), [rank, rest.reduce((a, b) => a * b, 1)]));
  return multiply(reshape(d, [u.up.shape[0], ...rest]), u.scale);
}

/** A linear layer's own weight [out, in] in float32 (packed weights and ggml blocks expanded). */
export function dequantizedWeight(layer: LinearTarget): Tensor {
  if (layer instanceof QuantizedLinear)
    return dequantize(layer.weight, layer.scales.astype("float32"), layer.biases.astype("float32"), { groupSize: layer.groupSize, bits: layer.bits });
  if (layer instanceof GgmlLinear) return dequantizeGgml(layer.weight, layer.type, "float32");
  return layer.weight.astype("float32");
}

/** The float dtype a linear layer computes its output in. */
function outputDType(layer: LinearTarget): DType {
  if (layer instanceof QuantizedLinear) return layer.scales.dtype;
  if (layer instanceof GgmlLinear) return layer.bias?.dtype ?? "float32";
  return layer.weight.dtype;
}

// w (float32 [out, in]) with the updates added in order, DoRA rows rescaled; rowScales[i] is set
// for each DoRA update.
function adapted(w: Tensor, updates: readonly LowRankUpdate[], rowScales?: (Tensor | undefined)[]): Tensor {
  for (const u of updates) {
    w = add(w, lowRankDelta(u));
    if (!u.magnitude) continue;
    const rs = divide(u.magnitude.astype("float32"), sqrt(sum(square(w), 1)));
    rowScales?.push(rs);
    w = multiply(w, expandDims(rs, 1));
  }
  return w;
}

/** Adds the updates (not DoRA) to a float layer's weight, in place (computed in float32, cast back). */
export function fuseLowRank(layer: Linear | Conv2d, updates: readonly LowRankUpdate[], what = "fuseLowRank"): void {
  if (layer instanceof QuantizedLinear || layer instanceof GgmlLinear) throw new Error(`${what}: cannot fuse into quantized weights (use fusedLinear, or a run-time update)`);
  let w = layer.weight.astype("float32");
  for (const u of updates) {
    checkLowRank(layer, u, what);
    if (u.magnitude) throw new Error(`${what}: a DoRA update changes the layer's rows as a whole (use fusedLinear)`);
    w = add(w, lowRankDelta(u));
  }
  layer.weight = w.astype(layer.weight.dtype);
}

/**
 * Sets (replaces; [] removes) the run-time low-rank updates of a layer. They are kept in the
 * layer's dtype, or with `float32` in float32 (the result cast to the layer's output dtype).
 */
export function setLowRank(layer: LowRankTarget, updates: readonly LowRankUpdate[], what = "setLowRank", opts: { float32?: boolean } = {}): void {
  for (const u of updates) checkLowRank(layer, u, what);
  const dtype: DType = opts.float32 ? "float32" : layer instanceof QuantizedLinear ? layer.scales.dtype : layer instanceof GgmlLinear ? outputDType(layer) : layer.weight.dtype;
  const rowScales: (Tensor | undefined)[] = [];
  if (updates.some((u) => u.magnitude)) {
    adapted(dequantizedWeight(layer as LinearTarget), updates, rowScales);
    evalSync(...(rowScales as Tensor[]));
  }
  let i = 0;
  (layer as WithLowRank)._lowRank = updates.length
    ? updates.map((u) => ({
      down: u.down.astype(dtype), up: u.up.astype(dtype), scale: u.scale,
      ...(u.magnitude ? { magnitude: u.magnitude, rowScale: rowScales[i++], bias: layer.bias } : {}),
    })) : undefined;
}

/** The run-time updates of a layer (empty when none). */
export function lowRankOf(layer: LowRankTarget): readonly LowRankUpdate[] {
  return (layer as WithLowRank)._lowRank ?? [];
}

/**
 * A float Linear holding a linear layer's weight with its run-time updates folded in (the layer's
 * output dtype; float32 for ggml blocks). MLX-quantized and ggml layers are expanded, not
 * requantized: requantizing at the layer's bit width would round most of a small update away
 * (mlx-lm issue #1172).
 */
export function fusedLinear(layer: LinearTarget): Linear {
  const [out, inputs] = weightShape(layer);
  const dtype = outputDType(layer);
  const fused = new Linear(inputs, out, { bias: !!layer.bias, dtype });
  fused.weight = adapted(dequantizedWeight(layer), lowRankOf(layer)).astype(dtype);
  if (layer.bias) fused.bias = layer.bias;
  evalSync(...Object.values(fused.namedParameters()));
  return fused;
}
