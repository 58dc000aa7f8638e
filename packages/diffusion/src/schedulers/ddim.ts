// DDIM (diffusers' DDIMScheduler), deterministic (eta = 0) or with eta > 0 noise.
import type { Tensor } from "@tessera/core";
import { resolveConfig } from "./config.js";
import type { SchedulerConfig } from "./config.js";
import { checkSteps, npArange, npLinspace, npRound, trainSchedule } from "./schedule.js";
import { alphaX0, axpby, checkIndex, drawNoise, maybeClip } from "./types.js";
import type { NoiseSource, Sampler } from "./types.js";

export interface DdimOptions {
  /** 0: deterministic DDIM (default); 1: DDPM-like noise at each step. */
  eta?: number;
  noise?: NoiseSource;
}

/** Integer timesteps as DDIMScheduler.set_timesteps spaces them. */
export function ddimTimesteps(n: number, steps: number, spacing: string, offset: number): number[] {
  if (spacing === "linspace") return npLinspace(0, n - 1, steps).map(npRound).reverse();
  if (spacing === "leading") {
    const ratio = Math.floor(n / steps);
    return Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio + offset);
  }
  return npArange(n, 0, -n / steps).map((t) => npRound(t) - 1);
}

export function ddim(config: SchedulerConfig, steps: number, opts: DdimOptions = {}): Sampler {
  const c = resolveConfig("DDIMScheduler", config);
  checkSteps(steps, c, "ddim");
  const eta = opts.eta ?? 0;
  if (!(eta >= 0)) throw new Error(`ddim: eta must be >= 0, got ${String(eta)}`);
  const { alphasCumprod } = trainSchedule(c);
  const finalAlpha = c.set_alpha_to_one ? 1 : alphasCumprod[0];
  const timesteps = ddimTimesteps(c.num_train_timesteps, steps, c.timestep_spacing, c.steps_offset);
  const stride = Math.floor(c.num_train_timesteps / steps);
  const alphaAt = (t: number): number => (t >= 0 ? alphasCumprod[t] : finalAlpha);
  let next = -1;
  return {
    name: "ddim", timesteps, sigmas: undefined, initNoiseSigma: 1, order: 1, predictionType: c.prediction_type,
    scaleModelInput: (sample) => sample,
    step(out: Tensor, index: number, sample: Tensor): Tensor {
      checkIndex("ddim", index, next < 0 ? index : next, timesteps.length);
      next = index + 1;
      const t = timesteps[index];
      const prevT = t - stride;
      const aT = alphasCumprod[t];
      const aPrev = alphaAt(prevT);
      let x0 = alphaX0(c.prediction_type, out, sample, aT);
      const eps = c.prediction_type === "epsilon" ? out
        : c.prediction_type === "v_prediction" ? axpby(Math.sqrt(aT), out, Math.sqrt(1 - aT), sample)
          : axpby(1 / Math.sqrt(1 - aT), sample, -Math.sqrt(aT) / Math.sqrt(1 - aT), out);
      x0 = maybeClip(x0, c.clip_sample, c.clip_sample_range);
      const variance = ((1 - aPrev) / (1 - aT)) * (1 - aT / aPrev);
      const std = eta * Math.sqrt(variance);
      const prev = axpby(Math.sqrt(aPrev), x0, Math.sqrt(1 - aPrev - std * std), eps);
      if (eta === 0) return prev;
      return axpby(1, prev, std, drawNoise("ddim (eta > 0)", opts.noise, out.shape, index));
    },
    addNoise: (x, noise, index) => {
      const a = alphasCumprod[timesteps[index]];
      return axpby(Math.sqrt(a), x, Math.sqrt(1 - a), noise);
    },
  };
}
