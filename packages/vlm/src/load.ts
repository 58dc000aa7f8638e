// loadVlmFromFolder: a Hugging Face VLM folder (config.json, safetensors, preprocessor_config.json)
// to a model with its weights loaded and the image processor's settings.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Tensor, io, isFloating, nn } from "@tessera/core";
import type { DType } from "@tessera/core";
import type { Config } from "@tessera/lm";
import type { VisionLanguageModel } from "./models/base.js";
import { vlmFromConfig } from "./models/registry.js";
import { readImageProcessorConfig } from "./processors/processor.js";
import type { ImageProcessorConfig } from "./processors/processor.js";

export interface LoadVlmOptions {
  /** dtype of float weights and activations (default: the checkpoint's). */
  dtype?: "float32" | "float16" | "bfloat16";
}

export interface LoadedVlm {
  model: VisionLanguageModel;
  config: Config;
  processor: ImageProcessorConfig;
  folder: string;
}

/** Loads a LLaVA, LLaVA-NeXT or Gemma 3 folder (Hugging Face or mlx-vlm layout, MLX-quantized too); throws naming missing files, unsupported types and bad keys. */
export function loadVlmFromFolder(folder: string, opts: LoadVlmOptions = {}): LoadedVlm {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`loadVlm: ${folder}: no such folder`);
  const configPath = join(folder, "config.json");
  if (!existsSync(configPath)) throw new Error(`loadVlm: ${folder}: no config.json`);
  let config: Config;
  try {
    config = JSON.parse(readFileSync(configPath, "utf8")) as Config;
  } catch (e) {
    throw new Error(`loadVlm: ${configPath}: cannot read JSON (${(e as Error).message})`);
  }
  let model: VisionLanguageModel;
  try {
    model = vlmFromConfig(config, configPath);
  } catch (e) {
    throw new Error(`loadVlm: ${(e as Error).message}`);
  }
  const processor = readImageProcessorConfig(folder);
  let weights: Map<string, Tensor>;
  try {
    weights = io.loadWeights(folder).tensors;
    const w = model.sanitize(weights);
    nn.quantizeFromConfig(model, config, w.keys());
    model.loadWeights(w);
  } catch (e) {
    throw new Error(`loadVlm: ${folder}: ${(e as Error).message}`);
  }
  if (opts.dtype) {
    const dtype: DType = opts.dtype;
    model.apply((p) => (isFloating(p.dtype) && p.dtype !== dtype ? p.astype(dtype) : p));
  }
  return { model, config, processor, folder };
}
