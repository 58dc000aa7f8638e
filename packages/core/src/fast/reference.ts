// Composite versions of the fused ops, made of plain ops in float32: the definition each fused
// kernel is tested against, and a fallback where a backend lacks a fused kernel.
import type { DType } from "../dtype.js";
import { attentionArgs, ropeArgs } from "../fast.js";
import type { AttentionOptions, AttentionResult, RopeOptions } from "../fast.js";
import { arange } from "../ops/creation.js";
import {
  add, astype, cos, greater, lessEqual, multiply, reciprocal, rsqrt, sin, square, subtract, where,
} from "../ops/elementwise.js";
import { concatenate, expandDims, repeat, reshape, split, stack, swapaxes } from "../ops/layout.js";
import { matmul } from "../ops/linalg.js";
import { max, mean, softmax } from "../ops/reduce.js";
import { tensor } from "../tensor.js";
import type { Tensor } from "../tensor.js";

// The fused ops' result dtype for floating inputs: their common dtype, float32 when they differ.
function resultType(...ts: (Tensor | null | undefined)[]): DType {
  const dts = new Set(ts.filter((t): t is Tensor => !!t).map((t) => t.dtype));
  return dts.size === 1 ? [...dts][0] : "float32";
}

const f32 = (t: Tensor): Tensor => astype(t, "float32");

/** softmax(q k^T * scale + mask) v with key/value heads repeated for grouped-query attention. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions & { returnWeights?: false }): Tensor;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions & { returnWeights: true }): AttentionResult;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor | AttentionResult {
  const { scale, mask } = attentionArgs(q, k, v, opts, "scaledDotProductAttention");
  const dt = resultType(q, k, v);
  const [, hq, l] = q.shape;
  const [, hkv, s] = k.shape;
  const groups = hq / hkv;
  const kk = groups > 1 ? repeat(f32(k), groups, 1) : f32(k);
  const vv = groups > 1 ? repeat(f32(v), groups, 1) : f32(v);
  let scores = multiply(matmul(f32(q), swapaxes(kk, -1, -2)), scale);
  if (mask === "causal") {
    // Bottom-right aligned: query i sees keys j <= i + S - L.
    const keep = lessEqual(expandDims(arange(0, s, 1, "int32"), 0), expandDims(arange(s - l, s, 1, "int32"), 1));
    scores = where(keep, scores, -Infinity);
  } else if (mask) {
    scores = mask.dtype === "bool" ? where(mask, scores, -Infinity) : add(scores, f32(mask));
  }
  // A row with every key masked gives zeros rather than softmax's NaN.
  const seen = greater(max(scores, -1, true), -Infinity);
  const weights = where(seen, softmax(scores, -1), 0);
  const output = astype(matmul(weights, vv), dt);
  return opts.returnWeights ? { output, weights: astype(weights, dt) } : output;
}

/** x * rsqrt(mean(x^2) + eps) * weight over the last axis. */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-5): Tensor {
  const xf = f32(x);
  let y = multiply(xf, rsqrt(add(mean(square(xf), -1, true), eps)));
  if (weight) y = multiply(y, f32(weight));
  return astype(y, resultType(x, weight));
}

/** (x - mean) * rsqrt(var + eps) * weight + bias over the last axis. */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  const xf = f32(x);
  const centered = subtract(xf, mean(xf, -1, true));
  let y = multiply(centered, rsqrt(add(mean(square(centered), -1, true), eps)));
  if (weight) y = multiply(y, f32(weight));
  if (bias) y = add(y, f32(bias));
  return astype(y, resultType(x, weight, bias));
}

/** Group norm of channels-last x [N, ..., C]: statistics over positions and C / groups consecutive channels. */
export function groupNorm(x: Tensor, groups: number, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  const c = x.shape[x.ndim - 1];
  const xg = reshape(f32(x), [x.shape[0], -1, groups, c / groups]);
  const centered = subtract(xg, mean(xg, [1, 3], true));
  let y = reshape(multiply(centered, rsqrt(add(mean(square(centered), [1, 3], true), eps))), x.shape);
  if (weight) y = multiply(y, f32(weight));
  if (bias) y = add(y, f32(bias));
  return astype(y, resultType(x, weight, bias));
}

/** Rotary embedding from cos/sin tables built with plain ops (same frequencies as fast.rope). */
export function rope(x: Tensor, dims: number, opts: RopeOptions = {}): Tensor {
  const a = ropeArgs(x, dims, opts);
  const l = x.shape[x.ndim - 2];
  const d = x.shape[x.ndim - 1];
  if (dims > d) throw new Error(`rope: dims must be even and in [2, ${d}], got ${dims}`);
  const invFreq = opts.freqs ? reciprocal(f32(opts.freqs)) : tensor(Float32Array.from(a.params!.invFreq));
  const mscale = a.params?.attentionFactor ?? 1;
  const pos = multiply(arange(a.offset, a.offset + l, 1, "float32"), a.scale);
  const theta = multiply(expandDims(pos, 1), expandDims(invFreq, 0));  // [L, dims / 2]
  const c = multiply(cos(theta), mscale);
  const s = multiply(sin(theta), mscale);
  const xf = f32(x);
  const [rot, rest] = split(xf, [dims], -1);
  let y: Tensor;
  if (a.traditional) {
    const pairs = reshape(rot, [...x.shape.slice(0, -1), dims / 2, 2]);
    const [x0, x1] = split(pairs, 2, -1).map((t) => reshape(t, [...x.shape.slice(0, -1), dims / 2]));
    y = reshape(stack([subtract(multiply(x0, c), multiply(x1, s)), add(multiply(x0, s), multiply(x1, c))], -1), rot.shape);
  } else {
    const [x0, x1] = split(rot, 2, -1);
    y = concatenate([subtract(multiply(x0, c), multiply(x1, s)), add(multiply(x1, c), multiply(x0, s))], -1);
  }
  return astype(dims < d ? concatenate([y, rest], -1) : y, x.dtype);
}

