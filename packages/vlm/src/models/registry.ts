// model_type -> vision-language model (one file per model_type).
import type { Config } from "@tessera/lm";
import type { VisionLanguageModel } from "./base.js";
import * as gemma3 from "./gemma3.js";
import * as llava from "./llava.js";
import * as llavaNext from "./llava_next.js";

const MODELS: Record<string, (config: Config, source: string) => VisionLanguageModel> = {
  llava: llava.fromConfig,
  llava_next: llavaNext.fromConfig,
  gemma3: gemma3.fromConfig,
};

export const SUPPORTED_VLM_TYPES = Object.keys(MODELS);

/** Builds the model a config.json describes (weights not loaded). */
export function vlmFromConfig(config: Config, source = "config.json"): VisionLanguageModel {
  const type = config.model_type;
  const build = typeof type === "string" && Object.hasOwn(MODELS, type) ? MODELS[type] : undefined;
  if (!build) throw new Error(`${source}: ${type === undefined ? "no model_type" : `model_type ${JSON.stringify(type)} is not a vision-language model`}; supported: ${SUPPORTED_VLM_TYPES.join(", ")}`);
  return build(config, source);
}
