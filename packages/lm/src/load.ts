// loadModelFromFolder: a Hugging Face model folder (config.json + safetensors, sharded or not) or an
// mlx-community one (the same with a `quantization` block and packed weights) to a LanguageModel
// with its weights loaded. buildModel is the part GGUF loading shares (config + named tensors).
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Tensor, io, isFloating, nn } from "@tessera/core";
import type { DType } from "@tessera/core";
import type { Config, LanguageModel } from "./models/base.js";
import { modelFromConfig } from "./models/registry.js";
import { readAdapter } from "./lora/adapter.js";
import { applyAdapters } from "./lora/apply.js";

export interface LoadModelOptions {
  /**
   * dtype of the float weights and activations. Default: the checkpoint's (float16 / bfloat16 stay
   * half, as mlx-lm keeps them; an MLX-quantized model runs in its scales' dtype).
   */
  dtype?: "float32" | "float16" | "bfloat16";
  /** Join q/k/v and gate/up projections into one matmul each (default true). */
  fuse?: boolean;
  /**
   * LoRA / DoRA adapter folders applied in order (stacked): mlx-lm's adapters.safetensors or PEFT's
   * adapter_model.safetensors, each with its adapter_config.json. They run as a low-rank path
   * beside the base layers (float, MLX-quantized or ggml blocks) unless `fuseAdapters` is set.
   */
  adapters?: readonly string[];
  /**
   * Fold the adapters into the weights (default false): adapted layers become float Linear layers
   * (MLX-quantized and ggml bases expanded), so a step costs no extra matmuls but those layers
   * take float memory.
   */
  fuseAdapters?: boolean;
}

export interface LoadedModel {
  model: LanguageModel;
  config: Config;
  /** The folder the files came from. */
  folder: string;
  /** The MLX quantization block, when the checkpoint is quantized. */
  quantization?: { groupSize: number; bits: number };
}

export interface BuildModelOptions extends LoadModelOptions {
  /** Where config and weights came from, for error messages. */
  source: string;
  /** Module paths whose weights are ggml blocks, with their ggml type name (GGUF files). */
  ggmlTypes?: Map<string, string>;
}

function readJson(path: string): Config {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`loadModel: ${path}: cannot read JSON (${(e as Error).message})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`loadModel: ${path}: expected a JSON object`);
  return value as Config;
}

/**
 * Builds the model `config` describes and loads `weights` into it (after the model's sanitize):
 * MLX-quantized layers where the config has a `quantization` block, ggml-block layers where
 * `ggmlTypes` names them. Throws naming missing / unexpected keys and shape mismatches.
 */
export function buildModel(config: Config, weights: Map<string, Tensor>, opts: BuildModelOptions): LanguageModel {
  const fail = (e: unknown): never => { throw new Error(`loadModel: ${opts.source}: ${(e as Error).message}`); };
  let model: LanguageModel;
  try {
    model = modelFromConfig(config, opts.source);
  } catch (e) {
    throw new Error(`loadModel: ${(e as Error).message}`);
  }
  const w = model.sanitize(weights);
  try {
    nn.quantizeFromConfig(model, config, w.keys());
    // Block-quantized models compute in float32 unless asked otherwise, as llama.cpp does: Gemma's
    // activations overflow float16.
    if (opts.ggmlTypes?.size) nn.useGgmlWeights(model, opts.ggmlTypes, opts.dtype === "float16" ? "float16" : "float32");
    model.loadWeights(w);
  } catch (e) {
    fail(e);
  }
  if (opts.dtype) {
    const dtype: DType = opts.dtype;
    model.apply((p) => (isFloating(p.dtype) && p.dtype !== dtype ? p.astype(dtype) : p));
  }
  if (opts.adapters !== undefined) {
    if (!Array.isArray(opts.adapters) || opts.adapters.some((a) => typeof a !== "string"))
      throw new Error(`loadModel: adapters must be an array of adapter folder paths, got ${JSON.stringify(opts.adapters)}`);
    applyAdapters(model, opts.adapters.map(readAdapter), { fuse: opts.fuseAdapters ?? false });
  }
  if (opts.fuse ?? true) model.fuse?.();
  return model;
}

/** The MLX `quantization` block of a config, if any. */
function mlxQuantization(config: Config): LoadedModel["quantization"] {
  const q = (config.quantization ?? undefined) as Config | undefined;
  if (!q || typeof q.bits !== "number" || typeof q.group_size !== "number") return undefined;
  return { bits: q.bits, groupSize: q.group_size };
}

/**
 * Loads a model folder: config.json plus model.safetensors, model.safetensors.index.json (shards)
 * or *.safetensors files, float or MLX-quantized (per-layer quantization blocks included). A
 * .safetensors file inside such a folder may be given instead of the folder.
 */
export function loadModelFromFolder(path: string, opts: LoadModelOptions = {}): LoadedModel {
  if (opts.dtype !== undefined && !["float32", "float16", "bfloat16"].includes(opts.dtype))
    throw new Error(`loadModel: dtype must be float32, float16 or bfloat16, got ${String(opts.dtype)}`);
  if (!existsSync(path)) throw new Error(`loadModel: ${path}: no such file or folder`);
  const isDir = statSync(path).isDirectory();
  const folder = isDir ? path : dirname(path);
  const configPath = join(folder, "config.json");
  if (!existsSync(configPath))
    throw new Error(`loadModel: ${folder}: no config.json${isDir ? "" : ` beside ${basename(path)}`} (expected a Hugging Face or mlx-community model folder)`);
  const config = readJson(configPath);
  const weightsPath = isDir ? folder : path;
  let weights: Map<string, Tensor>;
  try {
    weights = io.loadWeights(weightsPath).tensors;
  } catch (e) {
    const extra = existsSync(join(folder, "pytorch_model.bin")) ? " (pytorch_model.bin is not read: convert it to safetensors)" : "";
    throw new Error(`loadModel: ${(e as Error).message}${extra}`);
  }
  const model = buildModel(config, weights, { ...opts, source: weightsPath });
  return { model, config, folder, quantization: mlxQuantization(config) };
}
