// Phi 3 / Phi 3.5 / Phi 4 mini: Llama's block with fused projections as the checkpoint stores them
// (self_attn.qkv_proj, mlp.gate_up_proj: gate first), partial rotary embeddings and an optional
// sliding window (transformers' modeling_phi3.py). "longrope" scaling is refused by rope.
import { Tensor, multiply, nn, silu, split } from "@tessera/core";
import type { LayerCache } from "../cache.js";
import { ConfigReader, applyRope, attend, mergeHeads, splitHeads } from "./base.js";
import type { Config, Projection } from "./base.js";
import { DecoderLayer, LlamaModel, Model, llamaArgs } from "./llama.js";
import type { LlamaArgs } from "./llama.js";

export { Model };

export class Attention extends nn.Module {
  qkv_proj: Projection;
  o_proj: Projection;
  readonly args: LlamaArgs;

  constructor(args: LlamaArgs) {
    super();
    this.args = args;
    const { hiddenSize: h, numAttentionHeads: nq, numKeyValueHeads: nkv, headDim: d } = args;
    this.qkv_proj = new nn.Linear(h, (nq + 2 * nkv) * d, { bias: false });
    this.o_proj = new nn.Linear(nq * d, h, { bias: false });
  }

  forward(x: Tensor, cache: LayerCache): Tensor {
    const a = this.args;
    const qd = a.numAttentionHeads * a.headDim, kd = a.numKeyValueHeads * a.headDim;
    const [q0, k0, v0] = split(this.qkv_proj.forward(x), [qd, qd + kd], -1);
    const q = applyRope(splitHeads(q0, a.numAttentionHeads), a.rope, cache.offset);
    const k = applyRope(splitHeads(k0, a.numKeyValueHeads), a.rope, cache.offset);
    const o = attend(q, k, splitHeads(v0, a.numKeyValueHeads), cache, { scale: 1 / Math.sqrt(a.headDim) });
    return this.o_proj.forward(mergeHeads(o));
  }
}

export class MLP extends nn.Module {
  gate_up_proj: Projection;
  down_proj: Projection;

  constructor(hidden: number, intermediate: number) {
    super();
    this.gate_up_proj = new nn.Linear(hidden, 2 * intermediate, { bias: false });
    this.down_proj = new nn.Linear(intermediate, hidden, { bias: false });
  }

  forward(x: Tensor): Tensor {
    const [gate, up] = split(this.gate_up_proj.forward(x), 2, -1);
    return this.down_proj.forward(multiply(up, silu(gate)));
  }
}

/** Builds a Phi 3 model from its config.json. */
export function fromConfig(config: Config, source: string): Model {
  const r = new ConfigReader(config, source);
  const args = llamaArgs(config, source);
  if (r.has("sliding_window")) args.slidingWindows = args.slidingWindows.map(() => r.int("sliding_window"));
  const layer = () => new DecoderLayer(args, { attn: new Attention(args), mlp: new MLP(args.hiddenSize, args.intermediateSize) });
  return new Model(args, new LlamaModel(args, layer));
}
