// Qwen 3: Llama with an RMSNorm over each head of q and k before rope, no q/k/v biases, and an
// explicit head_dim (transformers' modeling_qwen3.py).
import type { Config } from "./base.js";
import { Model, llamaArgs } from "./llama.js";

export { Model };

/** Builds a Qwen 3 model from its config.json. */
export function fromConfig(config: Config, source: string): Model {
  return new Model(llamaArgs(config, source, { qkNorm: true }));
}
