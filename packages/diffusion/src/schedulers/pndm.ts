// PNDM as Stable Diffusion runs it (diffusers' PNDMScheduler with skip_prk_steps: PLMS, the linear
// multistep part only): the default scheduler of SD 1.x folders. One extra model call at the start
// (the second-order warm-up), so `steps` give steps + 1 calls.
import type { Tensor } from "@tessera/core";
import { resolveConfig } from "./config.js";
import type { SchedulerConfig } from "./config.js";
import { checkSteps, npArange, npLinspace, npRound, trainSchedule } from "./schedule.js";
import { axpby, checkIndex } from "./types.js";
import type { Sampler } from "./types.js";

/** PNDMScheduler.set_timesteps with skip_prk_steps: the spaced timesteps, descending, the second one twice. */
export function plmsTimesteps(n: number, steps: number, spacing: string, offset: number): number[] {
  let ts: number[];
  if (spacing === "linspace") ts = npLinspace(0, n - 1, steps).map(npRound);
  else if (spacing === "leading") ts = Array.from({ length: steps }, (_, i) => i * Math.floor(n / steps) + offset);
  else ts = npArange(n, 0, -n / steps).map((t) => npRound(t) - 1).reverse();
  return [...ts.slice(0, -1), ...ts.slice(-2, -1), ...ts.slice(-1)].reverse();
}

export function pndm(config: SchedulerConfig, steps: number): Sampler {
  const c = resolveConfig("PNDMScheduler", config);
  checkSteps(steps, c, "pndm");
  if (c.prediction_type === "sample") throw new Error("pndm: prediction_type sample is not supported (as in diffusers)");
  const { alphasCumprod } = trainSchedule(c);
  const finalAlpha = c.set_alpha_to_one ? 1 : alphasCumprod[0];
  const timesteps = plmsTimesteps(c.num_train_timesteps, steps, c.timestep_spacing, c.steps_offset);
  const stride = Math.floor(c.num_train_timesteps / steps);
  const ets: Tensor[] = [];
  let counter = 0;
  let firstSample: Tensor | undefined;
  let next = -1;

  // diffusers' _get_prev_sample (formula (9) of the PNDM paper).
  const prevSample = (sample: Tensor, t: number, prevT: number, eps: Tensor): Tensor => {
    const aT = alphasCumprod[t];
    const aPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlpha;
    const e = c.prediction_type === "v_prediction" ? axpby(Math.sqrt(aT), eps, Math.sqrt(1 - aT), sample) : eps;
    const denom = aT * Math.sqrt(1 - aPrev) + Math.sqrt(aT * (1 - aT) * aPrev);
    return axpby(Math.sqrt(aPrev / aT), sample, -(aPrev - aT) / denom, e);
  };

  return {
    name: "pndm", timesteps, sigmas: undefined, initNoiseSigma: 1, order: 1, predictionType: c.prediction_type,
    scaleModelInput: (sample) => sample,
    addNoise: (x, noise, index) => {
      const a = alphasCumprod[timesteps[index]];
      return axpby(Math.sqrt(a), x, Math.sqrt(1 - a), noise);
    },
    step(out, index, sample) {
      checkIndex("pndm", index, next < 0 ? index : next, timesteps.length);
      next = index + 1;
      let t = timesteps[index];
      let prevT = t - stride;
      if (counter !== 1) {
        if (ets.length > 3) ets.shift();
        ets.push(out);
      } else {
        prevT = t;
        t += stride;
      }
      let eps: Tensor;
      let x = sample;
      const n = ets.length;
      if (n === 1 && counter === 0) {
        eps = out;
        firstSample = sample;
      } else if (n === 1 && counter === 1) {
        eps = axpby(0.5, out, 0.5, ets[0]);
        x = firstSample ?? sample;
        firstSample = undefined;
      } else if (n === 2) {
        eps = axpby(1.5, ets[1], -0.5, ets[0]);
      } else if (n === 3) {
        eps = axpby(1, axpby(23 / 12, ets[2], -16 / 12, ets[1]), 5 / 12, ets[0]);
      } else {
        eps = axpby(1, axpby(55 / 24, ets[3], -59 / 24, ets[2]), 1, axpby(37 / 24, ets[1], -9 / 24, ets[0]));
      }
      counter++;
      return prevSample(x, t, prevT, eps);
    },
  };
}
