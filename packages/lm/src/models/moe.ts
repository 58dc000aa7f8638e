// The sparse mixture-of-experts feed-forward block of Mixtral and Qwen 3 MoE, in transformers 5's
// layout: a router `gate` and `experts` holding every expert's gate/up projections fused
// ([E, 2I, H], gate first) and down projections ([E, H, I]). Older checkpoints' per-expert
// matrices are stacked into it by `stackExperts`.
import {
  Tensor, arange, argsort, astype, concatenate, divide, equal, expandDims, matmul, multiply, neg, nn, repeat, reshape,
  silu, slice, softmax, split, stack, sum, swapaxes, take, takeAlongAxis, zeros,
} from "@tessera/core";
import type { Projection } from "./base.js";

export class Experts extends nn.Module {
  gate_up_proj: Tensor;
  down_proj: Tensor;

  constructor(experts: number, hidden: number, intermediate: number) {
    super();
    this.gate_up_proj = zeros([experts, 2 * intermediate, hidden]);
    this.down_proj = zeros([experts, hidden, intermediate]);
  }

  // x [N, 1, H] through the experts' weights [N, ...] (one expert per row) -> [N, 1, H].
  #run(x: Tensor, gateUp: Tensor, down: Tensor): Tensor {
    const [g, u] = split(matmul(x, swapaxes(gateUp, -1, -2)), 2, -1);
    return matmul(multiply(silu(g), u), swapaxes(down, -1, -2));
  }

  /** x [T, H], chosen experts idx [T, K] and their weights [T, K] -> [T, H]. */
  forward(x: Tensor, idx: Tensor, weights: Tensor): Tensor {
    const [t, h] = x.shape;
    const [e] = this.gate_up_proj.shape;
    const k = idx.shape[1];
    weights = astype(weights, x.dtype);
    if (t * k <= e) {
      // Few tokens (decoding): gather the chosen experts' weights, one product per (token, expert).
      const flat = reshape(idx, [t * k]);
      const rows = reshape(repeat(x, k, 0), [t * k, 1, h]);
      const y = this.#run(rows, take(this.gate_up_proj, flat, 0), take(this.down_proj, flat, 0));
      return sum(multiply(reshape(y, [t, k, h]), expandDims(weights, -1)), 1);
    }
    // Many tokens (prefill): every expert on every token, weighted by zero for the unchosen.
    const full = scatterWeights(e, idx, weights);
    const y = this.#run(expandDims(x, 0), this.gate_up_proj, this.down_proj);  // [E, T, H]
    return sum(multiply(y, expandDims(swapaxes(full, 0, 1), -1)), 0);
  }
}

// [T, E] with weights[t, j] at column idx[t, j], zeros elsewhere (a sum of one-hots; K is small).
function scatterWeights(e: number, idx: Tensor, weights: Tensor): Tensor {
  const onehot = astype(equal(expandDims(idx, -1), reshape(arange(e, "int32"), [1, 1, e])), weights.dtype);
  return sum(multiply(onehot, expandDims(weights, -1)), 1);
}

/** Top-k routing as transformers: softmax in float32, the k largest, optionally renormalized. */
export function route(logits: Tensor, k: number, normalize: boolean): { idx: Tensor; weights: Tensor } {
  const probs = softmax(astype(logits, "float32"), -1);
  const order = argsort(neg(probs), -1);
  const idx = slice(order, [0, 0], [order.shape[0], k]);
  let weights = takeAlongAxis(probs, idx, -1);
  if (normalize) weights = divide(weights, sum(weights, -1, true));
  return { idx, weights };
}

export class SparseMoeBlock extends nn.Module {
  gate: Projection;
  experts: Experts;
  readonly topK: number;
  readonly normalize: boolean;

  constructor(hidden: number, intermediate: number, experts: number, topK: number, normalize: boolean) {
    super();
    this.gate = new nn.Linear(hidden, experts, { bias: false });
    this.experts = new Experts(experts, hidden, intermediate);
    this.topK = topK;
    this.normalize = normalize;
  }

  forward(x: Tensor): Tensor {
    const [b, l, h] = x.shape;
    const flat = reshape(x, [b * l, h]);
    const { idx, weights } = route(this.gate.forward(flat), this.topK, this.normalize);
    return reshape(this.experts.forward(flat, idx, weights), [b, l, h]);
  }
}

/**
 * Older checkpoints keep one matrix per expert: `<prefix>.experts.<e>.<gate>.weight` etc. Stacks
 * them into `<prefix>.experts.gate_up_proj` / `down_proj` (names of gate, up and down given).
 */
export function stackExperts(weights: Map<string, Tensor>, names: { gate: string; up: string; down: string }, rename?: [string, string]): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const groups = new Map<string, Map<number, Record<string, Tensor>>>();
  for (const [key0, w] of weights) {
    const key = rename ? key0.replace(rename[0], rename[1]) : key0;
    const m = /^(.*\.experts)\.(\d+)\.(\w+)\.weight$/.exec(key);
    if (!m || ![names.gate, names.up, names.down].includes(m[3])) {
      out.set(key, w);
      continue;
    }
    const byExpert = groups.get(m[1]) ?? new Map<number, Record<string, Tensor>>();
    groups.set(m[1], byExpert);
    const e = byExpert.get(Number(m[2])) ?? {};
    byExpert.set(Number(m[2]), e);
    e[m[3]] = w;
  }
  for (const [prefix, byExpert] of groups) {
    const experts = [...byExpert.keys()].sort((a, b) => a - b).map((i) => byExpert.get(i)!);
    const get = (n: string) => experts.map((e, i) => {
      if (!e[n]) throw new Error(`${prefix}.${i}.${n}.weight is missing`);
      return e[n];
    });
    out.set(`${prefix}.gate_up_proj`, concatenate([stack(get(names.gate)), stack(get(names.up))], 1));
    out.set(`${prefix}.down_proj`, stack(get(names.down)));
  }
  return out;
}
