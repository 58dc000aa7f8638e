// Joining projections that read the same input (q/k/v, gate/up) into one matmul at load time: one
// kernel call and one pass of x's quantization instead of two or three. The joined weight is the
// rows of each, concatenated; the original layers' parameters become views of it, so the weights
// are held once and the checkpoint's names stay loadable.
import { Tensor, concatenate, evalSync, io, nn, slice, split } from "@tessera/core";
import { splitHeads } from "./base.js";
import type { Projection } from "./base.js";

// Layers with run-time low-rank updates (adapters) stay apart: a joined matmul would skip them.
const isProjection = (l: unknown): boolean =>
  (l instanceof nn.Linear || l instanceof nn.QuantizedLinear || l instanceof nn.GgmlLinear) && nn.lowRankOf(l).length === 0;

function rows(t: Tensor, start: number, stop: number): Tensor {
  return t.ndim === 1 ? slice(t, [start], [stop]) : slice(t, [start, 0], [stop, t.shape[1]]);
}

function sameBias(layers: { bias?: Tensor }[]): boolean {
  return layers.every((l) => !!l.bias === !!layers[0].bias) && layers.every((l) => !l.bias || l.bias.dtype === layers[0].bias!.dtype);
}

// Re-points each layer's `name` at its rows of `joined`.
function share(layers: Record<string, Tensor | undefined>[], joined: Tensor, name: string, sizes: number[]): void {
  let start = 0;
  layers.forEach((l, i) => {
    l[name] = rows(joined, start, start + sizes[i]);
    start += sizes[i];
  });
}

function joinBias(layers: { bias?: Tensor }[]): Tensor | undefined {
  return layers[0].bias ? concatenate(layers.map((l) => l.bias!), 0) : undefined;
}

/**
 * One layer computing `layers`' outputs side by side, or undefined when they cannot be joined
 * (different kinds, dtypes, bit widths or block types, or biases on some only).
 */
export function fuseProjections(layers: Projection[]): Projection | undefined {
  // Layers with an adapter beside them (lora/layer.ts) are not joined.
  if (layers.length < 2 || !layers.every(isProjection) || !sameBias(layers)) return undefined;
  const sizes = layers.map((l) => l.weight.shape[0]);
  const total = sizes.reduce((a, b) => a + b, 0);
  const bias = joinBias(layers);
  let fused: Projection;
  const all = (ok: (l: Projection) => boolean): boolean => layers.every(ok);
  if (all((l) => l instanceof nn.Linear)) {
    const ls = layers as nn.Linear[];
    if (ls.some((l) => l.weight.dtype !== ls[0].weight.dtype || l.weight.shape[1] !== ls[0].weight.shape[1])) return undefined;
    const f = new nn.Linear(ls[0].weight.shape[1], total, { bias: !!bias, dtype: ls[0].weight.dtype });
    f.weight = concatenate(ls.map((l) => l.weight), 0);
    fused = f;
  } else if (all((l) => l instanceof nn.QuantizedLinear)) {
    const ls = layers as nn.QuantizedLinear[];
    const q = ls[0];
    if (ls.some((l) => l.bits !== q.bits || l.groupSize !== q.groupSize || l.scales.dtype !== q.scales.dtype || l.weight.shape[1] !== q.weight.shape[1])) return undefined;
    const f = new nn.QuantizedLinear((q.weight.shape[1] * 32) / q.bits, total, { bits: q.bits, groupSize: q.groupSize, bias: !!bias, dtype: q.scales.dtype });
    f.weight = concatenate(ls.map((l) => l.weight), 0);
    f.scales = concatenate(ls.map((l) => l.scales), 0);
    f.biases = concatenate(ls.map((l) => l.biases), 0);
    fused = f;
  } else if (all((l) => l instanceof nn.GgmlLinear)) {
    const ls = layers as nn.GgmlLinear[];
    if (ls.some((l) => l.type !== ls[0].type || l.weight.shape[1] !== ls[0].weight.shape[1])) return undefined;
    const t = io.ggmlType(ls[0].type)!;
    const inputDims = (ls[0].weight.shape[1] / t.typeSize) * t.blockSize;
    const f = new nn.GgmlLinear(inputDims, total, ls[0].type, { bias: !!bias });
    f.weight = concatenate(ls.map((l) => l.weight), 0);
    fused = f;
  } else {
    return undefined;
  }
  if (bias) fused.bias = bias;
  evalSync(...Object.values(fused.namedParameters()));
  const views = layers as unknown as Record<string, Tensor | undefined>[];
  const named = fused as unknown as Record<string, Tensor>;
  for (const name of ["weight", "scales", "biases"]) if (named[name]) share(views, named[name], name, sizes);
  if (bias) share(views, bias, "bias", sizes);
  return fused;
}

/** Splits a fused projection's output [..., total] back into the parts' outputs. */
export function splitOutputs(y: Tensor, sizes: number[]): Tensor[] {
  const cuts: number[] = [];
  let at = 0;
  for (const s of sizes.slice(0, -1)) cuts.push((at += s));
  return split(y, cuts, -1);
}

/** An attention layer's input projections, as the checkpoints name them, and their fused join. */
export interface QkvProjections {
  q_proj: Projection;
  k_proj: Projection;
  v_proj: Projection;
  q_norm?: { forward(x: Tensor): Tensor };
  k_norm?: { forward(x: Tensor): Tensor };
  _qkv?: Projection;
}

/**
 * q, k and v of `x` [B, L, hidden] as heads [B, H, L, D]: through the fused projection when the
 * layer has one, with the per-head q/k norms when it has them (Qwen 3, Gemma 3).
 */
export function qkvHeads(m: QkvProjections, x: Tensor, heads: number, kvHeads: number, headDim: number): [Tensor, Tensor, Tensor] {
  const [q0, k0, v0] = m._qkv
    ? splitOutputs(m._qkv.forward(x), [heads * headDim, kvHeads * headDim, kvHeads * headDim])
    : [m.q_proj.forward(x), m.k_proj.forward(x), m.v_proj.forward(x)];
  let q = splitHeads(q0, heads);
  let k = splitHeads(k0, kvHeads);
  if (m.q_norm && m.k_norm) {
    q = m.q_norm.forward(q);
    k = m.k_norm.forward(k);
  }
  return [q, k, splitHeads(v0, kvHeads)];
}
