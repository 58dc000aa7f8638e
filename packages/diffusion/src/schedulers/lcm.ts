// LCM (diffusers' LCMScheduler): consistency-model steps for latent consistency models (LCM, LCM-LoRA):
// each step predicts the denoised latents and, but for the last, noises them again to the next timestep.
import type { Tensor } from "@tessera/core";
import { resolveConfig } from "./config.js";
import type { SchedulerConfig } from "./config.js";
import { checkSteps, npLinspace, trainSchedule } from "./schedule.js";
import { alphaX0, axpby, checkIndex, drawNoise, maybeClip } from "./types.js";
import type { NoiseSource, Sampler } from "./types.js";

/** LCMScheduler.set_timesteps: `steps` of the `original` skipping-step timesteps, evenly picked. */
export function lcmTimesteps(n: number, original: number, steps: number): number[] {
  if (!Number.isInteger(original) || original < 1 || original > n)
    throw new Error(`lcm: original_inference_steps must be an integer in [1, ${n}], got ${String(original)}`);
  if (steps > original)
    throw new Error(`lcm: steps (${steps}) cannot be larger than original_inference_steps (${original}); LCM models are distilled on those timesteps`);
  const k = Math.floor(n / original);
  const origin = Array.from({ length: original }, (_, i) => (i + 1) * k - 1).reverse();
  return npLinspace(0, origin.length, steps, false).map((x) => origin[Math.floor(x)]);
}

export function lcm(config: SchedulerConfig, steps: number, opts: { noise?: NoiseSource } = {}): Sampler {
  const c = resolveConfig("LCMScheduler", config);
  checkSteps(steps, c, "lcm");
  const { alphasCumprod } = trainSchedule(c);
  const finalAlpha = c.set_alpha_to_one ? 1 : alphasCumprod[0];
  const timesteps = lcmTimesteps(c.num_train_timesteps, c.original_inference_steps, steps);
  let next = -1;
  return {
    name: "lcm", timesteps, sigmas: undefined, initNoiseSigma: 1, order: 1, predictionType: c.prediction_type,
    scaleModelInput: (sample) => sample,
    addNoise: (x, noise, index) => {
      const a = alphasCumprod[timesteps[index]];
      return axpby(Math.sqrt(a), x, Math.sqrt(1 - a), noise);
    },
    step(out: Tensor, index: number, sample: Tensor): Tensor {
      checkIndex("lcm", index, next < 0 ? index : next, timesteps.length);
      next = index + 1;
      const t = timesteps[index];
      const prevT = index + 1 < timesteps.length ? timesteps[index + 1] : t;
      const aT = alphasCumprod[t];
      const aPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlpha;
      const scaled = t * c.timestep_scaling;
      const cSkip = 0.25 / (scaled * scaled + 0.25);
      const cOut = scaled / Math.sqrt(scaled * scaled + 0.25);
      const x0 = maybeClip(alphaX0(c.prediction_type, out, sample, aT), c.clip_sample, c.clip_sample_range);
      const denoised = axpby(cOut, x0, cSkip, sample);
      if (index === timesteps.length - 1) return denoised;
      return axpby(Math.sqrt(aPrev), denoised, Math.sqrt(1 - aPrev), drawNoise("lcm", opts.noise, out.shape, index));
    },
  };
}
