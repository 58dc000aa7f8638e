// Qwen 2 / 2.5: Llama with biases on the q, k and v projections (transformers' modeling_qwen2.py).
// Its sliding window (use_sliding_window) is off in every released config; a config that turns
// it on gets the window on the layers from max_window_layers on, as transformers does.
import { ConfigReader } from "./base.js";
import type { Config } from "./base.js";
import { Model, llamaArgs } from "./llama.js";

export { Model };

/** Builds a Qwen 2 model from its config.json. */
export function fromConfig(config: Config, source: string): Model {
  const r = new ConfigReader(config, source);
  const args = llamaArgs(config, source, { qkvBias: true });
  if (r.bool("use_sliding_window", false) && r.has("sliding_window")) {
    const window = r.int("sliding_window");
    const from = r.int("max_window_layers", args.numHiddenLayers);
    args.slidingWindows = args.slidingWindows.map((_, i) => (i >= from ? window : undefined));
  }
  return new Model(args);
}
