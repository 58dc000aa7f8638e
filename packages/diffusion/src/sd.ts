// loadDiffusion: a repo id or diffusers folder to a ready txt2img / img2img pipeline: the loaded
// components (load.ts) wrapped as DiffusionNetworks, with diffusers' encode_prompt, and quantized at
// load as mlx-examples does when asked.
import { existsSync, statSync } from "node:fs";
import { astype, concatenate, nn, resolveModel } from "@tessera/core";
import type { Tensor, hub } from "@tessera/core";
import type { CLIPTextModel } from "./clip.js";
import type { ClipTokenizer } from "./clip_tokenizer.js";
import type { ModelDType } from "./config.js";
import type { DiffusionImage, RgbImage } from "./image.js";
import { loadDiffusersFolder } from "./load.js";
import type { DiffusionComponents } from "./load.js";
import type { DiffusionNetworks, TextConditioning } from "./networks.js";
import { img2img, txt2img } from "./pipeline.js";
import type { GenerateOptions, Img2ImgOptions } from "./pipeline.js";
import type { SchedulerConfig } from "./schedulers/index.js";

/** Files of a diffusers repo worth downloading (not the .ckpt / .bin / onnx / flax copies). */
const REPO_FILES = [
  "model_index.json", "scheduler/*.json", "tokenizer/*", "tokenizer_2/*", "*/config.json",
  "text_encoder/model.safetensors", "text_encoder_2/model.safetensors",
  "unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors",
];

export interface LoadDiffusionPipelineOptions {
  /** Quantize at load as mlx-examples' --quantize: text encoders 4-bit (groups of 64), UNet 8-bit (groups of 32); Linear layers only. */
  quantize?: boolean;
  /** Weights dtype of the text encoders and UNet (default float32); the VAE follows its force_upcast. */
  dtype?: ModelDType;
  /** Hub options (revision, cacheDir, offline, progress...) for repo ids. */
  hub?: Omit<hub.ResolveModelOptions, "allowPatterns">;
  /** Called with the tokenizer's warning when a prompt is truncated to 77 tokens (default console.warn). */
  warn?: (message: string) => void;
}

/** A loaded pipeline: txt2img and img2img on one set of weights. */
export interface DiffusionPipeline {
  readonly components: DiffusionComponents;
  readonly networks: DiffusionNetworks;
  txt2img(prompt: string, opts?: GenerateOptions): Promise<DiffusionImage[]>;
  img2img(image: string | Uint8Array | RgbImage, prompt: string, opts?: Img2ImgOptions): Promise<DiffusionImage[]>;
}

function encode(encoder: CLIPTextModel, tokenizer: ClipTokenizer, prompts: readonly string[], warn?: (m: string) => void) {
  return encoder.forward(tokenizer.tokenize(prompts, { warn }).ids);
}

/**
 * diffusers' encode_prompt (clip_skip none): SD 1.x / 2.x condition on the text encoder's last
 * hidden state; SDXL on both encoders' penultimate hidden states side by side, plus the second
 * encoder's projected pooled output.
 */
export function encodePrompt(c: DiffusionComponents, prompts: readonly string[], warn?: (m: string) => void): TextConditioning {
  if (c.kind === "sd") return { embeddings: astype(encode(c.textEncoder, c.tokenizer, prompts, warn).lastHiddenState, "float32") };
  if (!c.textEncoder2 || !c.tokenizer2) throw new Error("encodePrompt: an SDXL pipeline needs text_encoder_2 and tokenizer_2");
  const a = encode(c.textEncoder, c.tokenizer, prompts, warn);
  const b = encode(c.textEncoder2, c.tokenizer2, prompts, warn);
  const penultimate = (h: Tensor[]): Tensor => h[h.length - 2];
  const embeddings = concatenate([penultimate(a.hiddenStates), penultimate(b.hiddenStates)], -1);
  if (!b.textEmbeds) throw new Error("encodePrompt: text_encoder_2 has no text projection (CLIPTextModelWithProjection expected)");
  return { embeddings: astype(embeddings, "float32"), pooled: astype(b.textEmbeds, "float32") };
}

/** The components as the pipeline's networks (latents and images float32 at the boundary). */
export function networksFrom(c: DiffusionComponents, opts: { warn?: (m: string) => void; name?: string } = {}): DiffusionNetworks {
  const scheduler: SchedulerConfig = { ...(c.scheduler?.config as SchedulerConfig | undefined), _class_name: c.scheduler?.className };
  return {
    latentChannels: c.unet.config.in_channels,
    vaeScaleFactor: c.vae.scaleFactor,
    scalingFactor: c.vae.config.scaling_factor,
    schedulerConfig: scheduler,
    defaultSize: c.unet.config.sample_size * c.vae.scaleFactor,
    sdxl: c.kind === "sdxl" ? { forceZerosForEmptyPrompt: c.forceZerosForEmptyPrompt } : undefined,
    name: opts.name ?? c.source,
    encodePrompt: (prompts) => encodePrompt(c, prompts, opts.warn),
    unet: (latents, t, cond) => {
      const added = cond.textEmbeds && cond.timeIds ? { textEmbeds: cond.textEmbeds, timeIds: cond.timeIds } : undefined;
      return astype(c.unet.forward(latents, t, cond.embeddings, added), "float32");
    },
    vaeDecode: (latents) => astype(c.vae.decode(latents), "float32"),
    vaeEncode: (images) => {
      const d = c.vae.encode(images);
      return { mean: astype(d.mean, "float32"), logvar: astype(d.logvar, "float32") };
    },
  };
}

/** mlx-examples' --quantize: Linear layers of the text encoders 4-bit / 64, of the UNet 8-bit / 32. */
export function quantizeComponents(c: DiffusionComponents): void {
  const linear = (groupSize: number) => (_: string, m: nn.Module) => m instanceof nn.Linear && m.weight.shape[1] % groupSize === 0;
  for (const te of [c.textEncoder, c.textEncoder2]) if (te) nn.quantize(te, { bits: 4, groupSize: 64, predicate: linear(64) });
  nn.quantize(c.unet, { bits: 8, groupSize: 32, predicate: linear(32) });
}

/**
 * Loads a Stable Diffusion pipeline (1.x, 2.x, SDXL) from a diffusers folder or a Hugging Face repo id
 * (resolved through the huggingface_hub cache, downloading what is missing).
 */
export async function loadDiffusion(model: string, opts: LoadDiffusionPipelineOptions = {}): Promise<DiffusionPipeline> {
  if (typeof model !== "string" || model.trim() === "")
    throw new Error(`loadDiffusion: model must be a diffusers folder or a repo id, got ${JSON.stringify(model)}`);
  if (existsSync(model) && statSync(model).isFile())
    throw new Error(`loadDiffusion: ${model} is a single file; single-file checkpoints are not supported here yet: pass a diffusers folder or repo id`);
  const path = existsSync(model) ? model : await resolveModel(model, { ...opts.hub, allowPatterns: REPO_FILES });
  const components = loadDiffusersFolder(path, { dtype: opts.dtype });
  if (opts.quantize) quantizeComponents(components);
  const networks = networksFrom(components, { warn: opts.warn, name: model });
  return {
    components, networks,
    txt2img: (prompt, o) => txt2img(networks, prompt, o),
    img2img: (image, prompt, o) => img2img(networks, image, prompt, o),
  };
}
