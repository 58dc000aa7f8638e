// Gemma 2: Gemma 3's blocks without q/k norms, one rope base, sliding-window and global layers
// alternating (the first one local), tanh soft-capping of attention and final logits
// (transformers' modeling_gemma2.py).
import { ConfigReader, ropeConfig } from "./base.js";
import type { Config } from "./base.js";
import { Model, gemmaArgs } from "./gemma3_text.js";

export { Model };

/** Builds a Gemma 2 model from its config.json. */
export function fromConfig(config: Config, source: string): Model {
  const args = gemmaArgs(config, source, (i) => (i % 2 === 0 ? "sliding_attention" : "full_attention"), { qkNorm: false });
  // One rope for both kinds of layers (rope_local_base_freq is Gemma 3's), base 10000 by default.
  args.ropeGlobal = args.ropeLocal = ropeConfig(new ConfigReader(config, source), args.headDim, undefined, 1e4);
  return new Model(args);
}
