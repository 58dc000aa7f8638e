// The denoising loop shared by txt2img and img2img: prompt conditioning with classifier-free guidance
// (as diffusers: uncond + g * (cond - uncond), uncond first in the batch), one UNet call per sampler
// call, evaluation after each step (progress, abort).
import { add, concatenate, evaluate, multiply, split, subtract, tensor, zerosLike } from "@tessera/core";
import type { Tensor } from "@tessera/core";
import type { DiffusionNetworks, UNetConditioning } from "./networks.js";
import type { Sampler } from "./schedulers/index.js";

/** Progress after each UNet call. */
export interface StepProgress {
  /** Calls done (1-based) and in all (Heun makes two per step; img2img skips the first ones). */
  step: number;
  steps: number;
  timestep: number;
  /** The latents after this call. */
  latents: Tensor;
}

/** The conditioning of a batch: prompt embeddings (with the unconditional half first under CFG). */
export async function conditioning(net: DiffusionNetworks, prompt: string, negativePrompt: string | undefined,
  count: number, guidance: number, size: { width: number; height: number }, clipSkip = 0): Promise<UNetConditioning> {
  const opts = clipSkip ? { clipSkip } : undefined;
  const cond = await net.encodePrompt(Array<string>(count).fill(prompt), opts);
  let embeddings = cond.embeddings;
  let pooled = cond.pooled;
  if (guidance > 1) {
    const zeros = net.sdxl?.forceZerosForEmptyPrompt === true && negativePrompt === undefined;
    const uncond = zeros
      ? { embeddings: zerosLike(cond.embeddings), pooled: cond.pooled && zerosLike(cond.pooled) }
      // As diffusers' encode_prompt: clip_skip applies to the prompt, not to the negative prompt.
      : await net.encodePrompt(Array<string>(count).fill(negativePrompt ?? ""));
    embeddings = concatenate([uncond.embeddings, cond.embeddings], 0);
    if (pooled !== undefined && uncond.pooled !== undefined) pooled = concatenate([uncond.pooled, pooled], 0);
  }
  if (!net.sdxl) return { embeddings };
  if (pooled === undefined) throw new Error("SDXL model: encodePrompt returned no pooled embedding");
  // diffusers' _get_add_time_ids: original size = target size = the image's, crop (0, 0).
  const ids = [size.height, size.width, 0, 0, size.height, size.width];
  const rows = embeddings.shape[0];
  const timeIds = tensor(Float32Array.from({ length: rows * 6 }, (_, i) => ids[i % 6]), { shape: [rows, 6] });
  return { embeddings, textEmbeds: pooled, timeIds };
}

export interface DenoiseOptions {
  guidance: number;
  start: number;
  onStep?: (p: StepProgress) => void;
  signal?: AbortSignal;
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error("generation aborted");
}

/** Runs the sampler from call `start` to the end and returns the final latents. */
export async function denoise(net: DiffusionNetworks, sampler: Sampler, latents: Tensor, cond: UNetConditioning,
  opts: DenoiseOptions): Promise<Tensor> {
  const cfg = opts.guidance > 1;
  const calls = sampler.timesteps.length;
  let x = latents;
  for (let i = opts.start; i < calls; i++) {
    checkAbort(opts.signal);
    const t = sampler.timesteps[i];
    const input = sampler.scaleModelInput(x, i);
    let out = net.unet(cfg ? concatenate([input, input], 0) : input, t, cond);
    if (cfg) {
      const [uncond, text] = split(out, 2, 0);
      out = add(uncond, multiply(subtract(text, uncond), opts.guidance));
    }
    x = sampler.step(out, i, x);
    await evaluate(x);
    opts.onStep?.({ step: i - opts.start + 1, steps: calls - opts.start, timestep: t, latents: x });
  }
  checkAbort(opts.signal);
  return x;
}
