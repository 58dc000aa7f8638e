// Heun (diffusers' HeunDiscreteScheduler): a second-order step that calls the model twice per step
// (an Euler predictor, then the trapezoid corrector), except at the last step (sigma 0).
import type { Tensor } from "@tessera/core";
import { resolveConfig } from "./config.js";
import type { SchedulerConfig } from "./config.js";
import { sigmaBase } from "./euler.js";
import { checkSteps, sigmaSchedule, trainSchedule } from "./schedule.js";
import { axpby, checkIndex, maybeClip, sigmaX0 } from "./types.js";
import type { Sampler } from "./types.js";

export function heun(config: SchedulerConfig, steps: number): Sampler {
  const c = { ...resolveConfig("HeunDiscreteScheduler", config), final_sigmas_type: "zero" as const, interpolation_type: "linear" as const };
  checkSteps(steps, c, "heun");
  const { alphasCumprod } = trainSchedule(c);
  const s = sigmaSchedule(c, alphasCumprod, steps);
  // Every sigma but the first and the final 0, and every timestep but the first, appear twice.
  const sigmas = [s.sigmas[0], ...s.sigmas.slice(1, -1).flatMap((v) => [v, v]), 0];
  const timesteps = [s.timesteps[0], ...s.timesteps.slice(1).flatMap((v) => [v, v])];
  const b = sigmaBase(c, timesteps, sigmas);
  let first: { derivative: Tensor; dt: number; sample: Tensor } | undefined;
  let next = -1;
  return {
    name: "heun", timesteps, sigmas, initNoiseSigma: b.initNoiseSigma, order: 2, predictionType: c.prediction_type,
    scaleModelInput: b.scaleModelInput, addNoise: b.addNoise,
    step(out, index, sample) {
      checkIndex("heun", index, next < 0 ? index : next, timesteps.length);
      next = index + 1;
      if (first === undefined) {
        const sigma = sigmas[index];
        const x0 = maybeClip(sigmaX0(c.prediction_type, out, sample, sigma), c.clip_sample, c.clip_sample_range);
        const derivative = axpby(1 / sigma, sample, -1 / sigma, x0);
        const dt = sigmas[index + 1] - sigma;
        first = { derivative, dt, sample };
        return axpby(1, sample, dt, derivative);
      }
      const sigmaNext = sigmas[index];
      const x0 = maybeClip(sigmaX0(c.prediction_type, out, sample, sigmaNext), c.clip_sample, c.clip_sample_range);
      const derivative = axpby(0.5 / sigmaNext, sample, -0.5 / sigmaNext, x0);
      const { derivative: d0, dt, sample: start } = first;
      first = undefined;
      return axpby(1, start, dt, axpby(0.5, d0, 1, derivative));
    },
  };
}
