// loadDiffusion: a repo id or diffusers folder to a ready txt2img / img2img pipeline: the loaded
// components (load.ts) wrapped as DiffusionNetworks, with diffusers' encode_prompt, and quantized at
// load as mlx-examples does when asked (load.ts).
import { existsSync, statSync } from "node:fs";
import { astype, io, resolveModel } from "@tessera/core";
import type { hub } from "@tessera/core";
import type { ModelDType } from "./config.js";
import type { DiffusionImage, RgbImage } from "./image.js";
import { loadDiffusersFolder } from "./load.js";
import { readLora, setRunTimeLoras } from "./lora.js";
import type { LoraSpec } from "./lora.js";
import type { DiffusionComponents } from "./load.js";
import type { DiffusionNetworks } from "./networks.js";
import { encodePrompts } from "./prompt.js";
import { saveDiffusion } from "./save.js";
import { SINGLE_FILE_CONFIG_REPOS, detectCheckpointKind, loadSingleFile } from "./single_file.js";
import { img2img, txt2img } from "./pipeline.js";
import type { GenerateOptions, Img2ImgOptions } from "./pipeline.js";
import type { SchedulerConfig } from "./schedulers/index.js";
import type { VaeTiling } from "./vae_tiling.js";

/** A single file's configs and tokenizers: the repo's json and text files only. */
const CONFIG_FILES = ["model_index.json", "scheduler/*.json", "tokenizer/*", "tokenizer_2/*", "*/config.json"];

/** Files of a diffusers repo worth downloading (not the .ckpt / .bin / onnx / flax copies). */
const REPO_FILES = [
  "model_index.json", "scheduler/*.json", "tokenizer/*", "tokenizer_2/*", "*/config.json",
  "text_encoder/model.safetensors", "text_encoder_2/model.safetensors",
  "unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors",
];

export interface LoadDiffusionPipelineOptions {
  /** Quantize at load as mlx-examples' --quantize: text encoders 4-bit (groups of 64), UNet 8-bit (groups of 32); Linear layers only. */
  quantize?: boolean;
  /**
   * For a single-file checkpoint: the diffusers folder or repo id with its configs and tokenizers
   * (default: SINGLE_FILE_CONFIG_REPOS for the detected architecture, json/txt files only).
   */
  config?: string;
  /** LoRA files with their weights (kohya / A1111 or diffusers / PEFT .safetensors), applied at load. */
  lora?: readonly LoraSpec[];
  /** "fuse" (default: into the weights, before quantizing) or "runtime" (low-rank paths; see setLoras). */
  loraMode?: "fuse" | "runtime";
  /** Weights dtype of the text encoders and UNet (default float32); the VAE follows its force_upcast. */
  dtype?: ModelDType;
  /** Hub options (revision, cacheDir, offline, progress...) for repo ids. */
  hub?: Omit<hub.ResolveModelOptions, "allowPatterns">;
  /**
   * Tiled VAE decode / encode (diffusers' enable_vae_tiling, sd.cpp's --vae-tiling) for every call
   * unless a call's `vaeTiling` says otherwise: true for diffusers' tiles (the VAE's sample_size,
   * overlap 0.25), or a VaeTiling of your own. Default off: tiling changes the image slightly.
   */
  vaeTiling?: boolean | VaeTiling;
  /** Called with the tokenizer's warning when a prompt is truncated to 77 tokens (default console.warn). */
  warn?: (message: string) => void;
}

/** A loaded pipeline: txt2img and img2img on one set of weights. */
export interface DiffusionPipeline {
  readonly components: DiffusionComponents;
  readonly networks: DiffusionNetworks;
  txt2img(prompt: string, opts?: GenerateOptions): Promise<DiffusionImage[]>;
  img2img(image: string | Uint8Array | RgbImage, prompt: string, opts?: Img2ImgOptions): Promise<DiffusionImage[]>;
  /**
   * Sets the run-time LoRAs (replacing those set before; [] removes them): low-rank paths beside the
   * layers, quantized ones too, so LoRAs can be switched or re-weighted without reloading. LoRAs fused
   * at load stay fused.
   */
  setLoras(loras: readonly LoraSpec[]): void;
  /** Writes the pipeline as a diffusers folder; a quantized one stays quantized (loads again without re-quantizing). */
  save(dir: string): Promise<void>;
}

/** The components as the pipeline's networks (latents and images float32 at the boundary). */
export function networksFrom(c: DiffusionComponents,
  opts: { warn?: (m: string) => void; name?: string; vaeTiling?: boolean | VaeTiling } = {}): DiffusionNetworks {
  const tiling = typeof opts.vaeTiling === "object" ? opts.vaeTiling : c.vae.defaultTiling;
  const tiled = (o?: { tiled?: boolean }): boolean => o?.tiled ?? !!opts.vaeTiling;
  const scheduler: SchedulerConfig = { ...(c.scheduler?.config as SchedulerConfig | undefined), _class_name: c.scheduler?.className };
  return {
    latentChannels: c.unet.config.in_channels,
    vaeScaleFactor: c.vae.scaleFactor,
    scalingFactor: c.vae.config.scaling_factor,
    schedulerConfig: scheduler,
    defaultSize: c.unet.config.sample_size * c.vae.scaleFactor,
    sdxl: c.kind === "sdxl" ? { forceZerosForEmptyPrompt: c.forceZerosForEmptyPrompt } : undefined,
    name: opts.name ?? c.source,
    encodePrompt: (prompts, o) => {
      const e = encodePrompts(c, prompts, { warn: opts.warn, clipSkip: o?.clipSkip });
      return { embeddings: astype(e.embeds, "float32"), pooled: e.pooled && astype(e.pooled, "float32") };
    },
    unet: (latents, t, cond) => {
      const added = cond.textEmbeds && cond.timeIds ? { textEmbeds: cond.textEmbeds, timeIds: cond.timeIds } : undefined;
      return astype(c.unet.forward(latents, t, cond.embeddings, added), "float32");
    },
    vaeDecode: async (latents, o) => astype(tiled(o) ? await c.vae.decodeTiled(latents, tiling) : c.vae.decode(latents), "float32"),
    vaeEncode: async (images, o) => {
      const d = tiled(o) ? await c.vae.encodeTiled(images, tiling) : c.vae.encode(images);
      return { mean: astype(d.mean, "float32"), logvar: astype(d.logvar, "float32") };
    },
  };
}

/**
 * Loads a Stable Diffusion pipeline (1.x, 2.x, SDXL) from a diffusers folder or a Hugging Face repo id
 * (resolved through the huggingface_hub cache, downloading what is missing), or a single-file
 * `.safetensors` checkpoint with the original SD key names (configs from `opts.config`).
 */
export async function loadDiffusion(model: string, opts: LoadDiffusionPipelineOptions = {}): Promise<DiffusionPipeline> {
  if (typeof model !== "string" || model.trim() === "")
    throw new Error(`loadDiffusion: model must be a diffusers folder or a repo id, got ${JSON.stringify(model)}`);
  let components: DiffusionComponents;
  const load = { dtype: opts.dtype, quantize: opts.quantize, lora: opts.lora, loraMode: opts.loraMode };
  if (existsSync(model) && statSync(model).isFile()) {
    const kind = detectCheckpointKind(io.loadWeights(model).tensors.keys(), model);
    const config = opts.config ?? SINGLE_FILE_CONFIG_REPOS[kind];
    const folder = existsSync(config) ? config : await resolveModel(config, { ...opts.hub, allowPatterns: CONFIG_FILES });
    components = loadSingleFile(model, { config: folder, ...load });
  } else {
    const path = existsSync(model) ? model : await resolveModel(model, { ...opts.hub, allowPatterns: REPO_FILES });
    components = loadDiffusersFolder(path, load);
  }
  const networks = networksFrom(components, { warn: opts.warn, name: model, vaeTiling: opts.vaeTiling });
  return {
    components, networks,
    txt2img: (prompt, o) => txt2img(networks, prompt, o),
    img2img: (image, prompt, o) => img2img(networks, image, prompt, o),
    setLoras: (loras) => {
      if (!Array.isArray(loras)) throw new Error("setLoras: give an array of { path, weight }");
      setRunTimeLoras(components, loras.map((l) => readLora(l, components)));
    },
    save: (dir) => saveDiffusion(components, dir),
  };
}
