// Qwen 3 MoE: Qwen 3's attention (q/k norms) with a sparse mixture of experts on the layers that
// decoder_sparse_step and mlp_only_layers select (a dense MLP elsewhere); the chosen experts'
// probabilities are renormalized when norm_topk_prob (transformers' modeling_qwen3_moe.py).
// Older checkpoints' per-expert gate_proj / up_proj / down_proj are stacked by sanitize.
import type { Tensor } from "@tessera/core";
import { ConfigReader } from "./base.js";
import type { Config } from "./base.js";
import { DecoderLayer, LlamaModel, MLP, Model, llamaArgs } from "./llama.js";
import { SparseMoeBlock, stackExperts } from "./moe.js";

class Qwen3Moe extends Model {
  sanitize(weights: Map<string, Tensor>): Map<string, Tensor> {
    return super.sanitize(stackExperts(weights, { gate: "gate_proj", up: "up_proj", down: "down_proj" }));
  }
}

export { Qwen3Moe as Model };

/** Builds a Qwen 3 MoE model from its config.json. */
export function fromConfig(config: Config, source: string): Model {
  const r = new ConfigReader(config, source);
  const args = llamaArgs(config, source, { qkNorm: true });
  const experts = r.int(r.has("num_local_experts") ? "num_local_experts" : "num_experts");
  const topK = r.int("num_experts_per_tok");
  if (topK > experts) throw new Error(`${source}: num_experts_per_tok (${topK}) exceeds the ${experts} experts`);
  const step = r.int("decoder_sparse_step", 1);
  const denseOnly = new Set((config.mlp_only_layers ?? []) as number[]);
  const normalize = r.bool("norm_topk_prob", false);
  const moeSize = r.int("moe_intermediate_size");
  const layer = (i: number) => new DecoderLayer(args, {
    mlp: !denseOnly.has(i) && (i + 1) % step === 0
      ? new SparseMoeBlock(args.hiddenSize, moeSize, experts, topK, normalize)
      : new MLP(args.hiddenSize, args.intermediateSize),
  });
  return new Qwen3Moe(args, new LlamaModel(args, layer));
}
