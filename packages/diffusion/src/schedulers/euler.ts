// Euler (diffusers' EulerDiscreteScheduler, s_churn = 0) and Euler ancestral
// (EulerAncestralDiscreteScheduler): k-diffusion's sampler on the sigma schedule.
import { multiply } from "@tessera/core";
import type { Tensor } from "@tessera/core";
import { resolveConfig } from "./config.js";
import type { ResolvedConfig, SchedulerConfig } from "./config.js";
import { checkSteps, sigmaSchedule, trainSchedule } from "./schedule.js";
import { axpby, checkIndex, drawNoise, sigmaX0 } from "./types.js";
import type { NoiseSource, Sampler, SamplerName } from "./types.js";

/** The part every sigma-based sampler shares: schedule, init noise sigma, input scaling, add_noise. */
export interface SigmaBase {
  c: ResolvedConfig;
  timesteps: number[];
  sigmas: number[];
  initNoiseSigma: number;
  scaleModelInput: (sample: Tensor, index: number) => Tensor;
  addNoise: (x: Tensor, noise: Tensor, index: number) => Tensor;
}

/** init_noise_sigma of the k-diffusion classes: the largest sigma, or sqrt(max² + 1) for "leading". */
export function kInitNoiseSigma(c: ResolvedConfig, sigmas: readonly number[]): number {
  const max = Math.max(...sigmas);
  return c.timestep_spacing === "leading" ? Math.fround(Math.sqrt(max * max + 1)) : max;
}

export function sigmaBase(c: ResolvedConfig, timesteps: number[], sigmas: number[]): SigmaBase {
  return {
    c, timesteps, sigmas, initNoiseSigma: kInitNoiseSigma(c, sigmas),
    scaleModelInput: (sample, index) => multiply(sample, 1 / Math.sqrt(sigmas[index] ** 2 + 1)),
    addNoise: (x, noise, index) => axpby(1, x, sigmas[index], noise),
  };
}

function eulerBase(cls: "EulerDiscreteScheduler" | "EulerAncestralDiscreteScheduler", name: SamplerName,
  config: SchedulerConfig, steps: number): SigmaBase {
  let c = resolveConfig(cls, config);
  checkSteps(steps, c, name);
  // EulerAncestralDiscreteScheduler has none of these options (a config's values are ignored).
  if (cls === "EulerAncestralDiscreteScheduler")
    c = { ...c, use_karras_sigmas: false, use_exponential_sigmas: false, final_sigmas_type: "zero", interpolation_type: "linear" };
  const { alphasCumprod } = trainSchedule(c);
  const { timesteps, sigmas } = sigmaSchedule(c, alphasCumprod, steps);
  return sigmaBase(c, timesteps, sigmas);
}

/** Euler: x += (x - x0) / sigma * (sigma_next - sigma). */
export function euler(config: SchedulerConfig, steps: number): Sampler {
  const b = eulerBase("EulerDiscreteScheduler", "euler", config, steps);
  let next = -1;
  return {
    name: "euler", timesteps: b.timesteps, sigmas: b.sigmas, initNoiseSigma: b.initNoiseSigma, order: 1,
    predictionType: b.c.prediction_type, scaleModelInput: b.scaleModelInput, addNoise: b.addNoise,
    step(out, index, sample) {
      checkIndex("euler", index, next < 0 ? index : next, b.timesteps.length);
      next = index + 1;
      const sigma = b.sigmas[index];
      const x0 = sigmaX0(b.c.prediction_type, out, sample, sigma);
      const dt = b.sigmas[index + 1] - sigma;
      return axpby(1 + dt / sigma, sample, -dt / sigma, x0);
    },
  };
}

/** Euler ancestral: an Euler step to sigma_down, then fresh noise of sigma_up. */
export function eulerAncestral(config: SchedulerConfig, steps: number, opts: { noise?: NoiseSource } = {}): Sampler {
  const b = eulerBase("EulerAncestralDiscreteScheduler", "euler_a", config, steps);
  if (b.c.prediction_type === "sample") throw new Error("euler_a: prediction_type sample is not supported (as in diffusers)");
  let next = -1;
  return {
    name: "euler_a", timesteps: b.timesteps, sigmas: b.sigmas, initNoiseSigma: b.initNoiseSigma, order: 1,
    predictionType: b.c.prediction_type, scaleModelInput: b.scaleModelInput, addNoise: b.addNoise,
    step(out, index, sample) {
      checkIndex("euler_a", index, next < 0 ? index : next, b.timesteps.length);
      next = index + 1;
      const from = b.sigmas[index];
      const to = b.sigmas[index + 1];
      const up = Math.sqrt((to * to * (from * from - to * to)) / (from * from));
      const down = Math.sqrt(to * to - up * up);
      const x0 = sigmaX0(b.c.prediction_type, out, sample, from);
      const dt = down - from;
      const prev = axpby(1 + dt / from, sample, -dt / from, x0);
      return axpby(1, prev, up, drawNoise("euler_a", opts.noise, out.shape, index));
    },
  };
}
