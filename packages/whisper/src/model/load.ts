// loadWhisperModel: a Hugging Face openai/whisper-* folder, an mlx-community folder, or a
// whisper.cpp ggml .bin, to a Whisper module with our keys, plus what the rest of the pipeline
// needs from the same files (alignment heads, tokenizer files, ggml's vocabulary and mel filters).
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { Tensor, io, isFloating, nn } from "@tessera/core";
import {
  checkAlignmentHeads, defaultAlignmentHeads, officialAlignmentHeads,
} from "./alignment.js";
import type { AlignmentHeads } from "./alignment.js";
import { readMlxQuantization } from "./quantized.js";
import type { MlxQuantization } from "./quantized.js";
import { dimsFromHfConfig, sanitizeGgml, sanitizeHf, sanitizeMlx } from "./sanitize.js";
import type { WeightMap } from "./sanitize.js";
import { Whisper, checkDimensions } from "./whisper.js";
import type { ModelDimensions } from "./whisper.js";

export type WhisperLayout = "huggingface" | "mlx" | "ggml";

/** The compute dtypes a Whisper model loads in. */
export type WhisperDType = "float32" | "float16" | "bfloat16";

export interface LoadWhisperOptions {
  /**
   * dtype of the floating-point weights and activations. Default: the checkpoint's own (a float16
   * file computes in float16, each matmul and reduction accumulating in float32; a float32 file in
   * float32). "float32" widens a half checkpoint (more exact, slower: twice the bytes per token).
   */
  dtype?: WhisperDType;
  /**
   * faster-whisper's `compute_type`: "float16" or "float32" set `dtype`; "int8" quantizes every
   * float Linear and Embedding weight to Q8_0 blocks at load (int8 values, a float16 scale per 32)
   * whose matmuls take int8 dot products (the activations rounded to int8 blocks as llama.cpp does),
   * with the rest (convolutions, norms, attention) in `dtype`, default the checkpoint's.
   * "int8_float16" / "int8_float32" say that dtype. Layers a file already stores quantized stay
   * as they are. Default "default": the checkpoint's weights as they are.
   */
  computeType?: WhisperComputeType;
}

/** faster-whisper's compute types that loadWhisperModel takes. */
export const COMPUTE_TYPES = ["default", "int8", "int8_float16", "int8_float32", "float16", "float32"] as const;
export type WhisperComputeType = (typeof COMPUTE_TYPES)[number];

// The float dtype and whether to quantize to Q8_0, from dtype and computeType (which must agree).
function precision(opts: LoadWhisperOptions): { dtype?: WhisperDType; int8: boolean } {
  const { dtype, computeType = "default" } = opts;
  if (dtype !== undefined && !["float32", "float16", "bfloat16"].includes(dtype))
    throw new Error(`loadWhisperModel: dtype must be float32, float16 or bfloat16, got ${String(dtype)}`);
  if (!(COMPUTE_TYPES as readonly string[]).includes(computeType))
    throw new Error(`loadWhisperModel: computeType must be one of ${COMPUTE_TYPES.join(", ")}, got ${JSON.stringify(computeType)}`);
  const implied = computeType.match(/float(16|32)$/)?.[0] as WhisperDType | undefined;
  if (implied && dtype && implied !== dtype)
    throw new Error(`loadWhisperModel: computeType ${computeType} computes in ${implied}, but dtype is ${dtype}: give one of them`);
  return { dtype: dtype ?? implied, int8: computeType.startsWith("int8") };
}

/** Tokenizer-related files found beside the weights (by file name), and ggml's own vocabulary. */
export interface TokenizerFiles {
  folder: string;
  files: Record<string, string>;
  /** whisper.cpp files carry their vocabulary as byte strings by token id. */
  ggmlVocab?: Uint8Array[];
}

export interface LoadedWhisperModel {
  model: Whisper;
  dims: ModelDimensions;
  layout: WhisperLayout;
  alignmentHeads: AlignmentHeads;
  /** "generation_config.json", "weights" (mlx), "official:<model>" or "default" (last half of the layers). */
  alignmentHeadsSource: string;
  /**
   * How the file was quantized, if it was. MLX-quantized weights stay packed (the model's Linear and
   * Embedding layers are nn.QuantizedLinear / nn.QuantizedEmbedding); so do ggml blocks (nn.GgmlLinear /
   * nn.GgmlEmbedding).
   */
  quantization?: MlxQuantization | { ggmlType: string };
  tokenizerFiles: TokenizerFiles;
  /** whisper.cpp files store the mel filterbank [n_mels, n_fft / 2 + 1]. */
  melFilters?: Tensor;
}

const TOKENIZER_FILES = [
  "tokenizer.json", "vocab.json", "merges.txt", "added_tokens.json", "special_tokens_map.json",
  "tokenizer_config.json", "normalizer.json", "preprocessor_config.json", "generation_config.json",
  "multilingual.tiktoken", "gpt2.tiktoken",
];

const GGML_MAGIC = 0x67676d6c;

function fail(path: string, message: string): never {
  throw new Error(`loadWhisperModel: ${path}: ${message}`);
}

function readJson(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    fail(path, `cannot read JSON (${(e as Error).message})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(path, "expected a JSON object");
  return value as Record<string, unknown>;
}

function isGgml(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === GGML_MAGIC;
  } finally {
    closeSync(fd);
  }
}

function tokenizerFiles(folder: string): TokenizerFiles {
  const files: Record<string, string> = {};
  for (const f of TOKENIZER_FILES) if (existsSync(join(folder, f))) files[f] = join(folder, f);
  return { folder, files };
}

const LOOKED_FOR =
  "looked for config.json with model.safetensors (Hugging Face openai/whisper-*), config.json with " +
  "weights.safetensors or weights.npz (mlx-community), or a whisper.cpp ggml .bin file";

/**
 * Loads a Whisper model from a Hugging Face `openai/whisper-*` folder (config.json +
 * model.safetensors), an mlx-community folder (config.json in openai's dims naming +
 * weights.safetensors or weights.npz, float or MLX-quantized), or a whisper.cpp ggml `.bin`
 * (f32/f16 or block-quantized). A weights file inside a folder may be given instead of the folder.
 * Throws naming the missing files, an unknown layout, or missing/unexpected weight keys.
 */
export function loadWhisperModel(path: string, opts: LoadWhisperOptions = {}): LoadedWhisperModel {
  const { dtype, int8 } = precision(opts);
  const loaded = loadAny(path, dtype);
  if (!int8) return loaded;
  // Q8_0 at load: the tied logits then read the int8 table too (not the float16 copy).
  nn.quantizeGgmlModel(loaded.model);
  loaded.model.decoder._halfTable = undefined;
  return { ...loaded, quantization: loaded.quantization ?? { ggmlType: "Q8_0" } };
}

function loadAny(path: string, dtype: WhisperDType | undefined): LoadedWhisperModel {
  if (!existsSync(path)) fail(path, "no such file or folder");
  if (!statSync(path).isDirectory()) {
    if (isGgml(path)) return loadGgml(path, dtype);
    if (![".safetensors", ".npz"].includes(extname(path))) fail(path, `not a Whisper weights file: ${LOOKED_FOR}`);
    return loadFolder(dirname(path), dtype, path);
  }
  if (existsSync(join(path, "config.json"))) return loadFolder(path, dtype);
  const bins = readdirSync(path).filter((f) => f.endsWith(".bin") && isGgml(join(path, f)));
  if (bins.length === 1) return loadGgml(join(path, bins[0]), dtype);
  if (bins.length > 1) fail(path, `several whisper.cpp models (${bins.join(", ")}): pass the one to load`);
  fail(path, `no Whisper model found: ${LOOKED_FOR}`);
}

function loadFolder(folder: string, dtype: WhisperDType | undefined, weightsFile?: string): LoadedWhisperModel {
  const configPath = join(folder, "config.json");
  if (!existsSync(configPath)) fail(folder, `no config.json beside ${basename(weightsFile ?? folder)}: ${LOOKED_FOR}`);
  const config = readJson(configPath);
  if (config.model_type === "whisper" && "d_model" in config) return loadHf(folder, config, dtype, weightsFile);
  if ("n_mels" in config && "n_audio_state" in config) return loadMlx(folder, config, dtype, weightsFile);
  fail(configPath, `not a Whisper config: expected model_type "whisper" with d_model (Hugging Face) or openai's dims (n_mels, n_audio_state, ...; mlx-community), got keys ${Object.keys(config).slice(0, 8).join(", ")}`);
}

function findWeights(folder: string, names: string[], explicit?: string): string {
  if (explicit) return explicit;
  const found = names.map((n) => join(folder, n)).find((p) => existsSync(p));
  if (found) return found;
  const extra = existsSync(join(folder, "pytorch_model.bin")) ? " (pytorch_model.bin is not read: convert it to safetensors)" : "";
  fail(folder, `missing weights: looked for ${names.join(" or ")}${extra}`);
}

function loadHf(folder: string, config: Record<string, unknown>, dtype: WhisperDType | undefined, explicit?: string): LoadedWhisperModel {
  const dims = dimsFromHfConfig(config, join(folder, "config.json"));
  const file = findWeights(folder, ["model.safetensors", "model.safetensors.index.json"], explicit);
  const weights = sanitizeHf(io.loadWeights(file).tensors);
  const model = build(dims, weights, dtype, file);
  let heads: { heads: AlignmentHeads; source: string } | undefined;
  const genPath = join(folder, "generation_config.json");
  if (existsSync(genPath)) {
    const gen = readJson(genPath);
    if (gen.alignment_heads !== undefined) heads = { heads: checkAlignmentHeads(gen.alignment_heads, dims, genPath), source: "generation_config.json" };
  }
  return { model, dims, layout: "huggingface", ...alignment(dims, heads), tokenizerFiles: tokenizerFiles(folder) };
}

function loadMlx(folder: string, config: Record<string, unknown>, dtype: WhisperDType | undefined, explicit?: string): LoadedWhisperModel {
  const configPath = join(folder, "config.json");
  const dims = checkDimensions(config, configPath);
  const quantization = readMlxQuantization(config, configPath);
  const file = findWeights(folder, ["weights.safetensors", "weights.npz", "model.safetensors"], explicit);
  const { weights, alignmentHeads } = sanitizeMlx(io.loadWeights(file).tensors);
  const model = new Whisper(dims);
  // As mlx-whisper's load_model: nn.quantize over the Linear and Embedding layers (per-module
  // overrides from the config; only those with scales in the checkpoint), then the packed
  // weight / scales / biases load straight in.
  if (quantization) {
    try {
      nn.quantizeFromConfig(model, config, weights.keys());
    } catch (e) {
      throw new Error(`loadWhisperModel: ${configPath}: ${(e as Error).message}`);
    }
  }
  build(dims, weights, dtype, file, model);
  let heads: { heads: AlignmentHeads; source: string } | undefined;
  if (alignmentHeads) {
    const pairs = alignmentHeads.tolist();
    heads = { heads: checkAlignmentHeads(pairs, dims, `${file} (alignment_heads)`), source: "weights" };
  }
  return { model, dims, layout: "mlx", ...alignment(dims, heads), quantization, tokenizerFiles: tokenizerFiles(folder) };
}

function loadGgml(path: string, dtype: WhisperDType | undefined): LoadedWhisperModel {
  const f = io.readWhisperGgml(path);
  try {
    const dims = checkDimensions(f.hparams as unknown as Record<string, unknown>, path);
    const raw: WeightMap = new Map();
    const blockTypes = new Map<string, string>();
    for (const t of f.tensors) {
      raw.set(t.name, f.tensor(t.name));
      if (!["F32", "F16", "BF16", "F64"].includes(t.type)) blockTypes.set(t.name, t.type);
    }
    const weights = sanitizeGgml(raw);
    // Quantized Linear / Embedding weights stay as ggml blocks (the layers matmul them directly).
    const modules = new Map<string, string>();
    for (const [name, w] of weights) {
      if (w.dtype !== "uint8") continue;
      const original = [...raw].find(([, t]) => t === w)?.[0] ?? name;
      const type = blockTypes.get(original);
      if (type === undefined || !name.endsWith(".weight")) fail(path, `tensor '${original}' is quantized where float weights are expected`);
      modules.set(name.slice(0, -".weight".length), type!);
    }
    const ggmlType = modules.size ? [...modules.values()][0] : undefined;
    const model = new Whisper(dims);
    const target = dtype ?? checkpointDType(weights);
    try {
      nn.useGgmlWeights(model, modules, target === "float16" ? "float16" : "float32");
    } catch (e) {
      fail(path, (e as Error).message);
    }
    build(dims, weights, target, path, model);
    return {
      model, dims, layout: "ggml", ...alignment(dims), quantization: ggmlType ? { ggmlType } : undefined,
      tokenizerFiles: { ...tokenizerFiles(dirname(path)), ggmlVocab: f.vocab }, melFilters: f.melFilters,
    };
  } finally {
    f.close();
  }
}

function alignment(dims: ModelDimensions, given?: { heads: AlignmentHeads; source: string }) {
  if (given) return { alignmentHeads: given.heads, alignmentHeadsSource: given.source };
  const official = officialAlignmentHeads(dims);
  if (official) return { alignmentHeads: official.heads, alignmentHeadsSource: `official:${official.name}` };
  return { alignmentHeads: defaultAlignmentHeads(dims), alignmentHeadsSource: "default" };
}

/**
 * The float dtype holding most of a checkpoint's float values (quantized files: their scales' and
 * other float tensors'); float64 counts as float32.
 */
export function checkpointDType(weights: WeightMap): WhisperDType {
  const count = new Map<WhisperDType, number>();
  for (const w of weights.values()) {
    if (!isFloating(w.dtype)) continue;
    const d: WhisperDType = w.dtype === "float16" || w.dtype === "bfloat16" ? w.dtype : "float32";
    count.set(d, (count.get(d) ?? 0) + w.size);
  }
  return [...count].reduce<[WhisperDType, number]>((a, b) => (b[1] > a[1] ? b : a), ["float32", 0])[0];
}

function build(dims: ModelDimensions, weights: WeightMap, requested: WhisperDType | undefined, file: string, model = new Whisper(dims)): Whisper {
  const dtype = requested ?? checkpointDType(weights);
  try {
    model.loadWeights(weights);
  } catch (e) {
    throw new Error(`loadWhisperModel: ${file}: ${(e as Error).message}`);
  }
  // A float16 token table stays float16 for the logits of a float32 model (half the bytes per token).
  const table = model.decoder.token_embedding;
  const half = dtype === "float32" && table instanceof nn.Embedding && table.weight.dtype === "float16" ? table.weight : undefined;
  model.apply((p) => (isFloating(p.dtype) && p.dtype !== dtype ? p.astype(dtype) : p));
  model.decoder._halfTable = half;
  return model;
}
