// model_type -> model file. Each file builds its Model from a config.json.
import type { Config, LanguageModel } from "./base.js";
import * as gemma from "./gemma.js";
import * as gemma2 from "./gemma2.js";
import * as gemma3_text from "./gemma3_text.js";
import * as llama from "./llama.js";
import * as mistral from "./mistral.js";
import * as mixtral from "./mixtral.js";
import * as phi3 from "./phi3.js";
import * as qwen2 from "./qwen2.js";
import * as qwen3 from "./qwen3.js";
import * as qwen3_moe from "./qwen3_moe.js";

type Builder = (config: Config, source: string) => LanguageModel;

const MODELS: Record<string, Builder> = {
  gemma3_text: gemma3_text.fromConfig,
  gemma: gemma.fromConfig,
  gemma2: gemma2.fromConfig,
  llama: llama.fromConfig,
  mistral: mistral.fromConfig,
  qwen2: qwen2.fromConfig,
  qwen3: qwen3.fromConfig,
  qwen3_moe: qwen3_moe.fromConfig,
  mixtral: mixtral.fromConfig,
  phi3: phi3.fromConfig,
};

/** The model_type values this package can build. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = Object.keys(MODELS);

/**
 * Builds the model a config.json describes (weights not loaded yet). Throws naming the supported
 * model types when `model_type` is missing or unknown.
 */
export function modelFromConfig(config: Config, source = "config.json"): LanguageModel {
  const type = config.model_type;
  const build = typeof type === "string" && Object.hasOwn(MODELS, type) ? MODELS[type] : undefined;
  if (!build)
    throw new Error(`${source}: ${type === undefined ? "no model_type" : `model_type ${JSON.stringify(type)} is not supported`}; supported: ${SUPPORTED_MODEL_TYPES.join(", ")}`);
  return build(config, source);
}
