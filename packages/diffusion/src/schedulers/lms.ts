// LMS (diffusers' LMSDiscreteScheduler): linear multistep of order up to 4 on the sigma schedule; the
// coefficients integrate the Lagrange basis polynomials between consecutive sigmas.
import type { Tensor } from "@tessera/core";
import { resolveConfig } from "./config.js";
import type { SchedulerConfig } from "./config.js";
import { sigmaBase } from "./euler.js";
import { checkSteps, sigmaSchedule, trainSchedule } from "./schedule.js";
import { axpby, checkIndex, sigmaX0 } from "./types.js";
import type { Sampler } from "./types.js";

const ORDER = 4;
// 4-point Gauss-Legendre nodes and weights on [-1, 1]: exact for the cubic integrands here
// (diffusers integrates them numerically with scipy's quad to 1e-4 relative).
const GL_X = [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526];
const GL_W = [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538];

/** ∫ from sigmas[t] to sigmas[t + 1] of the Lagrange basis polynomial `current` over sigmas[t - k], k < order. */
export function lmsCoefficient(sigmas: readonly number[], order: number, t: number, current: number): number {
  const basis = (tau: number): number => {
    let prod = 1;
    for (let k = 0; k < order; k++) {
      if (k !== current) prod *= (tau - sigmas[t - k]) / (sigmas[t - current] - sigmas[t - k]);
    }
    return prod;
  };
  const a = sigmas[t];
  const b = sigmas[t + 1];
  const half = (b - a) / 2;
  const mid = (a + b) / 2;
  return half * GL_X.reduce((sum, x, i) => sum + GL_W[i] * basis(mid + half * x), 0);
}

export function lms(config: SchedulerConfig, steps: number): Sampler {
  const c = { ...resolveConfig("LMSDiscreteScheduler", config), final_sigmas_type: "zero" as const, interpolation_type: "linear" as const };
  checkSteps(steps, c, "lms");
  const { alphasCumprod } = trainSchedule(c);
  // LMS takes Karras endpoints from the sigmas alone (it ignores sigma_min / sigma_max).
  const cfg = c.use_karras_sigmas ? { ...c, sigma_min: null, sigma_max: null } : c;
  const { timesteps, sigmas } = sigmaSchedule(cfg, alphasCumprod, steps);
  const b = sigmaBase(c, timesteps, sigmas);
  const derivatives: Tensor[] = [];
  let next = -1;
  return {
    name: "lms", timesteps, sigmas, initNoiseSigma: b.initNoiseSigma, order: 1, predictionType: c.prediction_type,
    scaleModelInput: b.scaleModelInput, addNoise: b.addNoise,
    step(out, index, sample) {
      checkIndex("lms", index, next < 0 ? index : next, timesteps.length);
      next = index + 1;
      const sigma = sigmas[index];
      const x0 = sigmaX0(c.prediction_type, out, sample, sigma);
      derivatives.push(axpby(1 / sigma, sample, -1 / sigma, x0));
      if (derivatives.length > ORDER) derivatives.shift();
      // As diffusers: the order follows the step index, the sum as many derivatives as are kept.
      const order = Math.min(index + 1, ORDER);
      let prev = sample;
      const terms = Math.min(order, derivatives.length);
      for (let j = 0; j < terms; j++) {
        prev = axpby(1, prev, lmsCoefficient(sigmas, order, index, j), derivatives[derivatives.length - 1 - j]);
      }
      return prev;
    },
  };
}
