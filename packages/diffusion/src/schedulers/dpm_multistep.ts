// DPM++ 2M and DPM++ 2M SDE (diffusers' DPMSolverMultistepScheduler with solver_order 2, midpoint,
// algorithm_type "dpmsolver++" / "sde-dpmsolver++"): multistep updates on the data prediction x0.
import type { Tensor } from "@tessera/core";
import { resolveConfig } from "./config.js";
import type { ResolvedConfig, SchedulerConfig } from "./config.js";
import { checkSteps, convertSigmas, interpIndex, npArange, npLinspace, npRound, sigmaToT, trainSchedule, trainSigmas } from "./schedule.js";
import { axpby, checkIndex, drawNoise } from "./types.js";
import type { NoiseSource, Sampler } from "./types.js";

/** Timesteps and sigmas as DPMSolverMultistepScheduler.set_timesteps makes them. */
export function dpmSchedule(c: ResolvedConfig, alphasCumprod: readonly number[], steps: number): { timesteps: number[]; sigmas: number[] } {
  const n = c.num_train_timesteps;
  let timesteps: number[];
  if (c.timestep_spacing === "linspace") {
    timesteps = npLinspace(0, n - 1, steps + 1).map(npRound).reverse().slice(0, -1);
  } else if (c.timestep_spacing === "leading") {
    const ratio = Math.floor(n / (steps + 1));
    timesteps = Array.from({ length: steps }, (_, i) => (steps - i) * ratio + c.steps_offset);
  } else {
    timesteps = npArange(n, 0, -n / steps).map((t) => npRound(t) - 1);
  }
  const train = trainSigmas(alphasCumprod);
  const logSigmas = train.map(Math.log);
  let sigmas = convertSigmas(c, [...train].reverse(), steps);
  if (sigmas) {
    const ts = sigmas.map((s) => sigmaToT(s, logSigmas));
    timesteps = c.use_karras_sigmas && c.beta_schedule !== "squaredcos_cap_v2" ? ts.map(npRound) : ts;
  } else {
    sigmas = timesteps.map((t) => interpIndex(t, train));
  }
  sigmas.push(c.final_sigmas_type === "sigma_min" ? train[0] : 0);
  // diffusers keeps these timesteps as int64 (truncating the unrounded exponential ones).
  return { timesteps: timesteps.map(Math.trunc), sigmas: sigmas.map(Math.fround) };
}

/** alpha_t, sigma_t and lambda_t = log(alpha_t / sigma_t) of a k-diffusion sigma. */
function alphaSigma(sigma: number): { alpha: number; sigmaT: number; lambda: number } {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  const sigmaT = sigma * alpha;
  return { alpha, sigmaT, lambda: Math.log(alpha) - Math.log(sigmaT) };
}

export function dpmpp2m(config: SchedulerConfig, steps: number, opts: { sde?: boolean; noise?: NoiseSource } = {}): Sampler {
  const name = opts.sde ? "dpmpp_2m_sde" : "dpmpp_2m";
  const c = resolveConfig("DPMSolverMultistepScheduler", config);
  checkSteps(steps, c, name);
  const { alphasCumprod } = trainSchedule(c);
  const { timesteps, sigmas } = dpmSchedule(c, alphasCumprod, steps);
  const calls = timesteps.length;
  let previous: Tensor | undefined; // x0 of the last call
  let lowerOrderNums = 0;
  let next = -1;

  const toX0 = (out: Tensor, sample: Tensor, sigma: number): Tensor => {
    const { alpha, sigmaT } = alphaSigma(sigma);
    if (c.prediction_type === "epsilon") return axpby(1 / alpha, sample, -sigmaT / alpha, out);
    if (c.prediction_type === "v_prediction") return axpby(alpha, sample, -sigmaT, out);
    return out;
  };

  return {
    name, timesteps, sigmas, initNoiseSigma: 1, order: 1, predictionType: c.prediction_type,
    scaleModelInput: (sample) => sample,
    addNoise: (x, noise, index) => {
      const { alpha, sigmaT } = alphaSigma(sigmas[index]);
      return axpby(alpha, x, sigmaT, noise);
    },
    step(out, index, sample) {
      checkIndex(name, index, next < 0 ? index : next, calls);
      next = index + 1;
      const lowerFinal = index === calls - 1 && (c.euler_at_final || (c.lower_order_final && calls < 15) || c.final_sigmas_type === "zero");
      const x0 = toX0(out, sample, sigmas[index]);
      const noise = opts.sde ? drawNoise(name, opts.noise, out.shape, index) : undefined;
      const t = alphaSigma(sigmas[index + 1]);
      const s0 = alphaSigma(sigmas[index]);
      const h = t.lambda - s0.lambda;
      let d = x0; // D0 + D1 / 2 (midpoint), or D0 for the first-order step
      if (previous !== undefined && lowerOrderNums >= 1 && !lowerFinal) {
        const r0 = (s0.lambda - alphaSigma(sigmas[index - 1]).lambda) / h;
        d = axpby(1 + 0.5 / r0, x0, -0.5 / r0, previous);
      }
      previous = x0;
      if (lowerOrderNums < 2) lowerOrderNums++;
      const ratio = t.sigmaT === 0 ? 0 : t.sigmaT / s0.sigmaT;
      if (!opts.sde || noise === undefined) return axpby(ratio, sample, -t.alpha * (Math.exp(-h) - 1), d);
      const e2h = Math.exp(-2 * h);
      const x = axpby(ratio * Math.exp(-h), sample, t.alpha * (1 - e2h), d);
      return axpby(1, x, t.sigmaT * Math.sqrt(1 - e2h), noise);
    },
  };
}
