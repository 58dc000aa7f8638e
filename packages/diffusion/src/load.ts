// loadDiffusersFolder: a diffusers pipeline folder (model_index.json + one folder per component with
// config.json and safetensors) to our models. sanitize* here are the only conversions: PyTorch
// convolution weights [O, I, kh, kw] become channels-last [O, kh, kw, I].
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Tensor, io, isFloating, nn, transpose } from "@tessera/core";
import { CLIPTextModel, CLIPTextModelWithProjection, clipTextConfig, sanitizeClip } from "./clip.js";
import type { ClipTextConfig } from "./clip.js";
import { ClipTokenizer } from "./clip_tokenizer.js";
import { checkModelDType } from "./config.js";
import type { ModelDType, RawConfig } from "./config.js";
import { fuseLoras, readLora, setRunTimeLoras } from "./lora.js";
import type { LoraSpec } from "./lora.js";
import { MLX_EXAMPLES_QUANTIZATION, quantizeComponents } from "./quantize.js";
import type { DiffusionQuantization } from "./quantize.js";
import { UNet2DConditionModel, unetConfig } from "./unet.js";
import type { UNetConfig } from "./unet.js";
import { AutoencoderKL, sanitizeVae, vaeConfig } from "./vae.js";
import type { VaeConfig } from "./vae.js";

/** The pipelines whose components we load (text-to-image and image-to-image use the same ones). */
const PIPELINES: Record<string, "sd" | "sdxl"> = {
  StableDiffusionPipeline: "sd", StableDiffusionImg2ImgPipeline: "sd",
  StableDiffusionXLPipeline: "sdxl", StableDiffusionXLImg2ImgPipeline: "sdxl",
};

export interface LoadDiffusionOptions {
  /** dtype of the text encoders and UNet (default float32). */
  dtype?: ModelDType;
  /**
   * dtype of the VAE. Default: for SDXL, float32 when the VAE's config says force_upcast (SDXL's VAE
   * overflows in float16; diffusers' SDXL pipelines upcast it), else `dtype`.
   */
  vaeDtype?: ModelDType;
  /**
   * Quantize at load: true for mlx-examples' choice (text encoders 4-bit groups of 64, UNet 8-bit
   * groups of 32; Linear layers only), or the bits and group sizes to use.
   */
  quantize?: boolean | DiffusionQuantization;
  /** LoRA files (kohya / A1111 or diffusers / PEFT .safetensors) with their weights, applied at load. */
  lora?: readonly LoraSpec[];
  /**
   * "fuse" (default): added into the float weights, before quantizing, so steps cost nothing extra.
   * "runtime": kept as low-rank paths beside the layers (over quantized ones too), replaceable
   * without reloading (`setLoras`).
   */
  loraMode?: "fuse" | "runtime";
}

/** Applies opts.lora and opts.quantize to loaded components (LoRAs fused before quantizing). @internal */
export function maybeQuantize(c: DiffusionComponents, opts: LoadDiffusionOptions): DiffusionComponents {
  const mode = opts.loraMode ?? "fuse";
  if (mode !== "fuse" && mode !== "runtime") throw new Error(`loraMode must be "fuse" or "runtime", got ${JSON.stringify(opts.loraMode)}`);
  if (opts.lora !== undefined && !Array.isArray(opts.lora)) throw new Error("lora must be an array of { path, weight }");
  const loras = (opts.lora ?? []).map((l) => readLora(l, c));
  if (mode === "fuse") fuseLoras(c, loras);
  if (opts.quantize) quantizeComponents(c, opts.quantize === true ? MLX_EXAMPLES_QUANTIZATION : opts.quantize);
  if (mode === "runtime" && loras.length) setRunTimeLoras(c, loras);
  return c;
}

/** A scheduler as the folder describes it; the samplers read `config`. */
export interface SchedulerSpec {
  className: string;
  config: RawConfig;
}

/** Everything a Stable Diffusion pipeline needs, loaded. */
export interface DiffusionComponents {
  /** "sd" (1.x / 2.x: one text encoder) or "sdxl" (two, pooled embeddings, size conditioning). */
  kind: "sd" | "sdxl";
  /** model_index.json's _class_name (or the single-file's inferred one). */
  pipelineClass: string;
  textEncoder: CLIPTextModel;
  tokenizer: ClipTokenizer;
  /** SDXL's second text encoder (OpenCLIP bigG with projection) and its tokenizer (pads with "!"). */
  textEncoder2?: CLIPTextModelWithProjection;
  tokenizer2?: ClipTokenizer;
  unet: UNet2DConditionModel;
  vae: AutoencoderKL;
  scheduler?: SchedulerSpec;
  /** SDXL: an empty negative prompt means zero embeddings (model_index.json's force_zeros_for_empty_prompt). */
  forceZerosForEmptyPrompt: boolean;
  /** Where it was loaded from. */
  source: string;
  /** The diffusers folder holding its configs, tokenizers and scheduler (source, or a single file's config folder). */
  configDir: string;
}

/** Reads a JSON object file, with errors naming the file. @internal */
export function readJsonObject(path: string, what: string): RawConfig {
  if (!existsSync(path)) throw new Error(`${what}: missing ${path}`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${what}: cannot read ${path} as JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error(`${what}: ${path} is not a JSON object`);
  return v as RawConfig;
}

const WEIGHT_FILES = [
  "diffusion_pytorch_model.safetensors", "model.safetensors", "diffusion_pytorch_model.safetensors.index.json",
  "model.safetensors.index.json", "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors",
];

/** The safetensors of one component folder. @internal */
export function componentWeights(dir: string): Map<string, Tensor> {
  const found = WEIGHT_FILES.map((f) => join(dir, f)).find((p) => existsSync(p));
  if (!found) {
    const bins = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".bin")) : [];
    const hint = bins.length ? ` (${bins.join(", ")} found: PyTorch pickles are not read; convert them to safetensors)` : "";
    throw new Error(`loadDiffusersFolder: no weights in ${dir}: looked for ${WEIGHT_FILES.join(", ")}${hint}`);
  }
  return io.loadWeights(found).tensors;
}

/** PyTorch conv weights [O, I, kh, kw] -> channels-last [O, kh, kw, I]; everything else as it is. */
export function sanitizeConvs(weights: Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of weights) out.set(k, v.ndim === 4 ? transpose(v, [0, 2, 3, 1]) : v);
  return out;
}

/** Loads weights into a fresh module and casts floating parameters to `dtype`; errors name `source`. @internal */
export function fill<M extends nn.Module>(model: M, weights: Map<string, Tensor>, dtype: ModelDType, source: string): M {
  try {
    model.loadWeights(weights);
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
  return model.apply((p) => (isFloating(p.dtype) && p.dtype !== dtype ? p.astype(dtype) : p));
}

function componentClass(index: RawConfig, name: string, indexPath: string): string | null {
  const entry = index[name];
  if (entry === undefined || entry === null) return null;
  if (!Array.isArray(entry) || entry.length !== 2) throw new Error(`loadDiffusersFolder: ${indexPath}: '${name}' must be [library, class], got ${JSON.stringify(entry)}`);
  return entry[1] === null ? null : String(entry[1]);
}

function requireClass(index: RawConfig, name: string, allowed: string[], indexPath: string): string {
  const cls = componentClass(index, name, indexPath);
  if (cls === null) throw new Error(`loadDiffusersFolder: ${indexPath} has no '${name}' component`);
  if (!allowed.includes(cls)) throw new Error(`loadDiffusersFolder: ${indexPath}: ${name} is a ${cls}; supported: ${allowed.join(", ")}`);
  return cls;
}

/**
 * The VAE dtype the options ask for: float32 for an SDXL force_upcast VAE unless given (diffusers'
 * SD 1.x / 2.x pipelines never upcast). @internal
 */
export function vaeDtypeFor(kind: "sd" | "sdxl", vae: { force_upcast: boolean }, opts: LoadDiffusionOptions, dtype: ModelDType): ModelDType {
  if (opts.vaeDtype !== undefined) return checkModelDType(opts.vaeDtype, "loadDiffusion");
  return kind === "sdxl" && vae.force_upcast ? "float32" : dtype;
}

/** What a pipeline folder says without its weights: configs, tokenizers and scheduler. */
export interface PipelineSpec {
  kind: "sd" | "sdxl";
  pipelineClass: string;
  textEncoder: { dir: string; config: ClipTextConfig; withProjection: boolean };
  textEncoder2?: { dir: string; config: ClipTextConfig };
  unet: { dir: string; config: UNetConfig };
  vae: { dir: string; config: VaeConfig };
  tokenizer: ClipTokenizer;
  tokenizer2?: ClipTokenizer;
  scheduler?: SchedulerSpec;
  forceZerosForEmptyPrompt: boolean;
}

/**
 * Loads a component's weights; a config.json with an MLX-style `quantization` block (as saveDiffusion
 * writes) first swaps in quantized layers where the file holds `<layer>.scales`, so packed weights
 * load as they are, without re-quantizing. @internal
 */
export function fillComponent<M extends nn.Module>(model: M, dir: string, weights: Map<string, Tensor>, dtype: ModelDType): M {
  const raw = readJsonObject(join(dir, "config.json"), "loadDiffusersFolder");
  if (raw.quantization !== undefined) nn.quantizeFromConfig(model, raw, weights.keys());
  return fill(model, weights, dtype, dir);
}

function componentConfig<T>(dir: string, parse: (raw: RawConfig, source: string) => T): T {
  const p = join(dir, "config.json");
  return parse(readJsonObject(p, "loadDiffusersFolder"), p);
}

/** Reads model_index.json, every component's config.json and the tokenizers (no weights). */
export function readPipelineFolder(dir: string): PipelineSpec {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`loadDiffusersFolder: ${dir} is not a folder`);
  const indexPath = join(dir, "model_index.json");
  if (!existsSync(indexPath)) throw new Error(`loadDiffusersFolder: ${dir} has no model_index.json (not a diffusers pipeline folder)`);
  const index = readJsonObject(indexPath, "loadDiffusersFolder");
  const pipelineClass = String(index._class_name ?? "");
  const kind = PIPELINES[pipelineClass];
  if (!kind) throw new Error(`loadDiffusersFolder: ${indexPath}: pipeline '${pipelineClass}' is not supported (supported: ${Object.keys(PIPELINES).join(", ")})`);
  const sub = (name: string) => {
    const p = join(dir, name);
    if (!existsSync(p)) throw new Error(`loadDiffusersFolder: ${dir} lists '${name}' in model_index.json but has no ${name}/ folder`);
    return p;
  };
  const tokenizers = ["CLIPTokenizer", "CLIPTokenizerFast"];
  requireClass(index, "unet", ["UNet2DConditionModel"], indexPath);
  requireClass(index, "vae", ["AutoencoderKL"], indexPath);
  requireClass(index, "tokenizer", tokenizers, indexPath);
  const te1 = requireClass(index, "text_encoder", ["CLIPTextModel", "CLIPTextModelWithProjection"], indexPath);
  const spec: PipelineSpec = {
    kind, pipelineClass,
    textEncoder: { dir: sub("text_encoder"), config: componentConfig(sub("text_encoder"), clipTextConfig), withProjection: te1 === "CLIPTextModelWithProjection" },
    unet: { dir: sub("unet"), config: componentConfig(sub("unet"), unetConfig) },
    vae: { dir: sub("vae"), config: componentConfig(sub("vae"), vaeConfig) },
    tokenizer: ClipTokenizer.fromFolder(sub("tokenizer")),
    forceZerosForEmptyPrompt: kind === "sdxl" && index.force_zeros_for_empty_prompt !== false,
  };
  if (kind === "sdxl") {
    requireClass(index, "text_encoder_2", ["CLIPTextModelWithProjection"], indexPath);
    requireClass(index, "tokenizer_2", tokenizers, indexPath);
    spec.textEncoder2 = { dir: sub("text_encoder_2"), config: componentConfig(sub("text_encoder_2"), clipTextConfig) };
    spec.tokenizer2 = ClipTokenizer.fromFolder(sub("tokenizer_2"));
  }
  const schedClass = componentClass(index, "scheduler", indexPath);
  const schedPath = join(dir, "scheduler", "scheduler_config.json");
  if (schedClass && existsSync(schedPath)) spec.scheduler = { className: schedClass, config: readJsonObject(schedPath, "loadDiffusersFolder") };
  return spec;
}

/**
 * Loads a diffusers Stable Diffusion folder (1.x, 2.x, SDXL; as `save_pretrained` or the Hub write
 * them): model_index.json, text_encoder/ (+ text_encoder_2/ for SDXL), tokenizer/ (+ tokenizer_2/),
 * unet/, vae/ and scheduler/. Throws naming the missing file, an unsupported pipeline or component
 * class, or missing / unexpected weights.
 */
export function loadDiffusersFolder(dir: string, opts: LoadDiffusionOptions = {}): DiffusionComponents {
  const dtype = checkModelDType(opts.dtype ?? "float32", "loadDiffusersFolder");
  const spec = readPipelineFolder(dir);
  const te = spec.textEncoder;
  const textEncoder = fillComponent(te.withProjection ? new CLIPTextModelWithProjection(te.config) : new CLIPTextModel(te.config),
    te.dir, sanitizeClip(componentWeights(te.dir)), dtype);
  const te2 = spec.textEncoder2;
  const textEncoder2 = te2 ? fillComponent(new CLIPTextModelWithProjection(te2.config), te2.dir, sanitizeClip(componentWeights(te2.dir)), dtype) : undefined;
  const unet = fillComponent(new UNet2DConditionModel(spec.unet.config), spec.unet.dir, sanitizeConvs(componentWeights(spec.unet.dir)), dtype);
  const vae = fill(new AutoencoderKL(spec.vae.config), sanitizeConvs(sanitizeVae(componentWeights(spec.vae.dir))),
    vaeDtypeFor(spec.kind, spec.vae.config, opts, dtype), spec.vae.dir);
  return maybeQuantize({
    kind: spec.kind, pipelineClass: spec.pipelineClass, textEncoder, tokenizer: spec.tokenizer, textEncoder2,
    tokenizer2: spec.tokenizer2, unet, vae, scheduler: spec.scheduler, forceZerosForEmptyPrompt: spec.forceZerosForEmptyPrompt, source: dir, configDir: dir,
  }, opts);
}
