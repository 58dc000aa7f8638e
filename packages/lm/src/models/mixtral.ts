// Mixtral: Mistral's attention with a sparse mixture of experts (top-k of num_local_experts, the
// chosen probabilities renormalized) in place of the MLP (transformers' modeling_mixtral.py).
// Checkpoints from before transformers 5 name the block `block_sparse_moe` with per-expert
// w1 (gate) / w3 (up) / w2 (down): sanitize stacks them.
import type { Tensor } from "@tessera/core";
import { ConfigReader } from "./base.js";
import type { Config } from "./base.js";
import { DecoderLayer, LlamaModel, Model, llamaArgs } from "./llama.js";
import type { LlamaArgs } from "./llama.js";
import { SparseMoeBlock, stackExperts } from "./moe.js";

class Mixtral extends Model {
  sanitize(weights: Map<string, Tensor>): Map<string, Tensor> {
    return super.sanitize(stackExperts(weights, { gate: "w1", up: "w3", down: "w2" }, [".block_sparse_moe.", ".mlp."]));
  }
}

export { Mixtral as Model };

/** Builds a Mixtral model from its config.json. */
export function fromConfig(config: Config, source: string): Model {
  const r = new ConfigReader(config, source);
  const args: LlamaArgs = llamaArgs(config, source);
  if (r.has("sliding_window")) args.slidingWindows = args.slidingWindows.map(() => r.int("sliding_window"));
  const experts = r.int("num_local_experts"), topK = r.int("num_experts_per_tok");
  if (topK > experts) throw new Error(`${source}: num_experts_per_tok (${topK}) exceeds num_local_experts (${experts})`);
  const layer = () => new DecoderLayer(args, { mlp: new SparseMoeBlock(args.hiddenSize, args.intermediateSize, experts, topK, true) });
  return new Mixtral(args, new LlamaModel(args, layer));
}
