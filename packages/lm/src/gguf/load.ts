// loadModelFromGguf: a GGUF file to a LanguageModel with its ggml blocks in place, plus the
// tokenizer files and config readGgufCheckpoint builds from its metadata.
import { buildModel } from "../load.js";
import type { LoadModelOptions } from "../load.js";
import type { LanguageModel } from "../models/base.js";
import { readGgufCheckpoint } from "./checkpoint.js";
import type { GgufCheckpoint } from "./checkpoint.js";

export interface LoadedGguf {
  model: LanguageModel;
  /** config, tokenizerJson, tokenizerConfig, ... (its weights are the model's). */
  checkpoint: GgufCheckpoint;
}

/**
 * Loads a GGUF file (llama, qwen2, qwen3, gemma, gemma2, gemma3). Quantized weights stay ggml
 * blocks (GgmlLinear / GgmlEmbedding through ggufMatmul). `dtype` defaults to float32, the
 * precision llama.cpp computes in; float16 halves the activations' and embedding rows' size.
 */
export function loadModelFromGguf(path: string, opts: LoadModelOptions = {}): LoadedGguf {
  const checkpoint = readGgufCheckpoint(path);
  const model = buildModel(checkpoint.config, checkpoint.weights, { dtype: "float32", ...opts, source: path, ggmlTypes: checkpoint.ggmlTypes });
  return { model, checkpoint };
}
