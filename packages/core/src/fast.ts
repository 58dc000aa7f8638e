// Fused ops (as MLX's mx.fast): each is one native kernel. `reference` holds the composite versions
// made of plain ops, which the tests use as the definition of what each fused op computes.
import { ropeParameters } from "./fast/rope-scaling.js";
import type { RopeParameters, RopeScaling } from "./fast/rope-scaling.js";
import { callOp, Tensor } from "./tensor.js";

export * as reference from "./fast/reference.js";
export { ropeParameters, ropeScalingFromConfig, defaultInvFreq } from "./fast/rope-scaling.js";
export type { RopeScaling, LinearRopeScaling, Llama3RopeScaling, YarnRopeScaling, RopeParameters } from "./fast/rope-scaling.js";

function checkTensor(x: unknown, op: string, what: string): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: ${what} must be a Tensor`);
  return x;
}

function checkNumber(x: unknown, op: string, what: string, positive = false): number {
  if (typeof x !== "number" || !Number.isFinite(x) || (positive && x <= 0))
    throw new Error(`${op}: ${what} must be a ${positive ? "positive" : "finite"} number, got ${String(x)}`);
  return x;
}

export interface AttentionOptions {
  /** Multiplies q k^T; default 1 / sqrt(D). */
  scale?: number;
  /**
   * "causal": query l sees keys s <= l + S - L (bottom-right aligned, as with a KV cache, like MLX
   * and PyTorch). A bool Tensor keeps the scores where true; a floating Tensor is added to them.
   * Tensors broadcast to [B, Hq, L, S]. A query that sees no key gets zeros (and zero weights).
   */
  mask?: "causal" | Tensor | null;
  /** Also return the softmax probabilities [B, Hq, L, S] (e.g. cross-attention for word timing). */
  returnWeights?: boolean;
}

export interface AttentionResult {
  output: Tensor;
  weights: Tensor;
}

/** Validated attributes and inputs shared by the fused and the reference attention. @internal */
export function attentionArgs(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions, op: string) {
  checkTensor(q, op, "q");
  checkTensor(k, op, "k");
  checkTensor(v, op, "v");
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4)
    throw new Error(`${op}: q, k and v must be 4-D [B, H, L, D]; got [${q.shape.join(", ")}], [${k.shape.join(", ")}] and [${v.shape.join(", ")}]`);
  const scale = opts.scale === undefined ? 1 / Math.sqrt(q.shape[3]) : checkNumber(opts.scale, op, "scale");
  const mask = opts.mask ?? null;
  if (mask !== null && mask !== "causal" && !(mask instanceof Tensor))
    throw new Error(`${op}: mask must be "causal", a Tensor or null, got ${JSON.stringify(mask)}`);
  return { scale, mask };
}

/**
 * softmax(q k^T * scale + mask) v for q [B, Hq, L, D], k [B, Hkv, S, D], v [B, Hkv, S, Dv]; query
 * heads share key/value heads in groups of Hq / Hkv (grouped-query attention). Returns [B, Hq, L, Dv],
 * or `{ output, weights }` with `returnWeights`. Computed block-wise without an [L, S] matrix
 * unless the weights are asked for.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions & { returnWeights?: false }): Tensor;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions & { returnWeights: true }): AttentionResult;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions): Tensor | AttentionResult;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor | AttentionResult {
  const { scale, mask } = attentionArgs(q, k, v, opts, "scaledDotProductAttention");
  const attrs = { scale, causal: mask === "causal", hasMask: mask instanceof Tensor };
  const extra = mask instanceof Tensor ? [mask] : [];
  if (!opts.returnWeights) return callOp("scaledDotProductAttention", [q, k, v, ...extra], attrs);
  const weights = callOp("attentionWeights", [q, k, ...extra], attrs);
  return { output: callOp("attentionApply", [weights, v]), weights };
}

/** Alias of scaledDotProductAttention (MLX's name). */
export const sdpa = scaledDotProductAttention;

/**
 * x * rsqrt(mean(x^2, -1) + eps) * weight over the last axis, in float32 for half inputs. The
 * result has the promoted dtype of x and weight.
 */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-5): Tensor {
  checkTensor(x, "rmsNorm", "x");
  if (weight !== null) checkTensor(weight, "rmsNorm", "weight");
  const attrs = { eps: checkNumber(eps, "rmsNorm", "eps"), hasWeight: weight !== null };
  return callOp("rmsNorm", weight ? [x, weight] : [x], attrs);
}

/** (x - mean) / sqrt(var + eps) * weight + bias over the last axis (biased variance). */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  checkTensor(x, "layerNorm", "x");
  const params = [weight, bias].filter((p): p is Tensor => p !== null && p !== undefined);
  params.forEach((p) => checkTensor(p, "layerNorm", "weight and bias"));
  return callOp("layerNorm", [x, ...params], {
    eps: checkNumber(eps, "layerNorm", "eps"), hasWeight: weight != null, hasBias: bias != null,
  });
}

/**
 * Group normalization of channels-last x [N, ..., C] (as MLX's GroupNorm with
 * pytorch_compatible=true): statistics per (n, group) over every position and the group's C / groups
 * consecutive channels; then weight [C] and bias [C] per channel.
 */
export function groupNorm(x: Tensor, groups: number, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  checkTensor(x, "groupNorm", "x");
  if (!Number.isInteger(groups) || groups <= 0) throw new Error(`groupNorm: groups must be a positive integer, got ${String(groups)}`);
  const params = [weight, bias].filter((p): p is Tensor => p !== null && p !== undefined);
  params.forEach((p) => checkTensor(p, "groupNorm", "weight and bias"));
  return callOp("groupNorm", [x, ...params], {
    groups, eps: checkNumber(eps, "groupNorm", "eps"), hasWeight: weight != null, hasBias: bias != null,
  });
}

export interface RopeOptions {
  /** Rotate interleaved pairs (x[2i], x[2i+1]) (GPT-J, MLX traditional); default false: halves (x[i], x[i + dims/2]) as HF. */
  traditional?: boolean;
  /** Default 10000. */
  base?: number;
  /** Multiplies positions (1 / factor of linear scaling); default 1. */
  scale?: number;
  /** Position of the first row (the KV cache length); default 0. */
  offset?: number;
  /** dims / 2 periods as MLX's `freqs` (angle = position * scale / freqs[i]); replaces base and scaling. */
  freqs?: Tensor;
  /** HF rope_scaling: linear, llama3 or yarn inverse frequencies (and YaRN's attention factor). */
  scaling?: RopeScaling;
  /**
   * The inverse frequencies and attention factor, precomputed once by `ropeParameters(dims, base,
   * scaling)` (a decoding step then skips recomputing them per call); replaces base and scaling.
   */
  parameters?: RopeParameters;
}

/** Validated attributes of rope, shared with the reference. @internal */
export function ropeArgs(x: Tensor, dims: number, opts: RopeOptions) {
  checkTensor(x, "rope", "x");
  if (!Number.isInteger(dims) || dims <= 0 || dims % 2 !== 0) throw new Error(`rope: dims must be a positive even integer, got ${String(dims)}`);
  const offset = opts.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw new Error(`rope: offset must be a non-negative integer, got ${String(offset)}`);
  const base = checkNumber(opts.base ?? 10000, "rope", "base", true);
  const scale = checkNumber(opts.scale ?? 1, "rope", "scale");
  if (opts.freqs !== undefined) {
    checkTensor(opts.freqs, "rope", "freqs");
    if (opts.scaling) throw new Error("rope: give either freqs or scaling, not both");
    if (opts.freqs.dtype === "bool") throw new Error("rope: freqs must be numbers (periods), got a bool tensor");
  }
  if (opts.parameters !== undefined) {
    if (opts.freqs || opts.scaling) throw new Error("rope: give parameters, freqs or scaling, not more than one");
    if (opts.parameters.invFreq?.length !== dims / 2)
      throw new Error(`rope: parameters.invFreq must have dims / 2 = ${dims / 2} entries, got ${String(opts.parameters.invFreq?.length)}`);
  }
  const params = opts.freqs ? undefined : opts.parameters ?? ropeParameters(dims, base, opts.scaling);
  return { traditional: opts.traditional ?? false, base, scale, offset, params };
}

/**
 * Rotary position embedding of the first `dims` features of x [..., L, D] (the rest pass through);
 * row l has position offset + l. Frequencies follow HF's rope_init_fn for `scaling`.
 */
export function rope(x: Tensor, dims: number, opts: RopeOptions = {}): Tensor {
  const a = ropeArgs(x, dims, opts);
  return callOp("rope", opts.freqs ? [x, opts.freqs] : [x], {
    dims, traditional: a.traditional, base: a.base, scale: a.scale, offset: a.offset, hasFreqs: opts.freqs !== undefined,
    ...(a.params ? { invFreq: a.params.invFreq, mscale: a.params.attentionFactor } : {}),
  });
}
