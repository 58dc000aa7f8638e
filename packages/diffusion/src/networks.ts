// What the pipeline loop needs from a Stable Diffusion model: text encoding, one UNet call, and the
// VAE. Written against this interface, the loop runs (and is tested) with any implementation.
import type { Tensor } from "@tessera/core";
import type { SchedulerConfig } from "./schedulers/index.js";

/** The text encoders' output for a batch of prompts. */
export interface TextConditioning {
  /** [batch, tokens, dim] hidden states the UNet cross-attends to (SDXL: both encoders concatenated). */
  embeddings: Tensor;
  /** [batch, dim] pooled text embedding (SDXL's `text_embeds`); absent for SD 1.x / 2.x. */
  pooled?: Tensor;
}

/** What one UNet call is conditioned on, besides the latents and timestep. */
export interface UNetConditioning {
  embeddings: Tensor;
  /** SDXL's added conditions: the pooled text embedding [batch, dim]... */
  textEmbeds?: Tensor;
  /** ...and the size / crop ids [batch, 6]: original (h, w), crop (top, left), target (h, w). */
  timeIds?: Tensor;
}

/**
 * A Stable Diffusion model as the pipeline uses it. Tensors are channels-last, as in core:
 * latents [batch, height / 8, width / 8, channels], images [batch, height, width, 3] in [-1, 1].
 */
export interface DiffusionNetworks {
  /** Latent channels (4 for SD 1.x, 2.x and SDXL). */
  readonly latentChannels: number;
  /** Image pixels per latent pixel along each side (8). */
  readonly vaeScaleFactor: number;
  /** The VAE's `scaling_factor` (0.18215 for SD 1.x / 2.x, 0.13025 for SDXL). */
  readonly scalingFactor: number;
  /** The model's scheduler_config.json: noise schedule, prediction type, timestep spacing. */
  readonly schedulerConfig: SchedulerConfig;
  /** The size it was trained at (512, 768, 1024): the default width and height. */
  readonly defaultSize: number;
  /** Set for SDXL-style models: pooled embeddings and size ids condition the UNet. */
  readonly sdxl?: {
    /** Without a negative prompt, the unconditional embeddings are zeros (diffusers' force_zeros_for_empty_prompt). */
    forceZerosForEmptyPrompt: boolean;
  };
  /** A name for the generation parameters (the repo id or file name). */
  readonly name?: string;
  /** `clipSkip`: text encoder layers skipped from the end (diffusers' clip_skip; 0 = none). */
  encodePrompt(prompts: readonly string[], opts?: { clipSkip?: number }): TextConditioning | Promise<TextConditioning>;
  /** The prediction (noise, v or sample, per the scheduler config) for `latents` at `timestep`. */
  unet(latents: Tensor, timestep: number, cond: UNetConditioning): Tensor;
  /** Latents (already divided by scalingFactor) to images in about [-1, 1]; `tiled`: in overlapping tiles (bounded memory). */
  vaeDecode(latents: Tensor, opts?: { tiled?: boolean }): Tensor | Promise<Tensor>;
  /** Images in [-1, 1] to the encoder's diagonal Gaussian over latents (before scalingFactor); `tiled` as vaeDecode. */
  vaeEncode(images: Tensor, opts?: { tiled?: boolean }): { mean: Tensor; logvar: Tensor } | Promise<{ mean: Tensor; logvar: Tensor }>;
}
