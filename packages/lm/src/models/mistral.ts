// Mistral: Llama with an optional sliding window on every layer (transformers' modeling_mistral.py;
// Mistral 7B v0.1 has 4096, later versions none).
import { ConfigReader } from "./base.js";
import type { Config } from "./base.js";
import { Model, llamaArgs } from "./llama.js";

export { Model };

/** Builds a Mistral model from its config.json. */
export function fromConfig(config: Config, source: string): Model {
  const r = new ConfigReader(config, source);
  const args = llamaArgs(config, source);
  if (r.has("sliding_window")) args.slidingWindows = args.slidingWindows.map(() => r.int("sliding_window"));
  return new Model(args);
}
