// Gemma (1): Gemma 3's embedding scale, (1 + weight) RMSNorms and GELU MLP in Llama's block (two
// norms, no q/k norms), every layer global, attention scaled by 1 / sqrt(head_dim), tied logits
// (transformers' modeling_gemma.py).
import { ConfigReader, ropeConfig } from "./base.js";
import type { Config } from "./base.js";
import { Model, gemmaArgs } from "./gemma3_text.js";

export { Model };

/** Builds a Gemma model from its config.json. */
export function fromConfig(config: Config, source: string): Model {
  const r = new ConfigReader(config, source);
  const args = gemmaArgs(config, source, () => "full_attention", { qkNorm: false, sandwichNorms: false });
  args.queryPreAttnScalar = args.headDim;
  args.ropeGlobal = args.ropeLocal = ropeConfig(r, args.headDim, undefined, 1e4);
  return new Model(args);
}
