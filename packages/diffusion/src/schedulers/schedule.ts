// The noise schedule arithmetic the diffusers schedulers share: betas, cumulative alphas, timestep
// spacing, sigmas (Karras, exponential) and sigma -> timestep. Scalars are JS numbers; where diffusers
// keeps a value in float32 (torch tensors, `astype(np.float32)`) it is rounded with Math.fround so the
// schedules match to the last float32 bit in most places.
import type { ResolvedConfig } from "./config.js";

const f32 = Math.fround;

/** NumPy's round (half to even). */
export function npRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torch.linspace(start, end, n) in float32 (its two-sided formula). */
function torchLinspace32(start: number, end: number, n: number): number[] {
  const s = f32(start);
  const e = f32(end);
  const step = f32((e - s) / (n - 1));
  const half = Math.floor(n / 2);
  return Array.from({ length: n }, (_, i) => (i < half ? f32(s + f32(step * i)) : f32(e - f32(step * (n - 1 - i)))));
}

/** np.linspace(start, stop, n) (float64, the last value exactly `stop`). */
export function npLinspace(start: number, stop: number, n: number, endpoint = true): number[] {
  if (n === 1) return [start];
  const div = endpoint ? n - 1 : n;
  const step = (stop - start) / div;
  const out = Array.from({ length: n }, (_, i) => start + i * step);
  if (endpoint && n > 1) out[n - 1] = stop;
  return out;
}

/** np.arange(start, stop, step) for float steps: ceil((stop - start) / step) values start + i * step. */
export function npArange(start: number, stop: number, step: number): number[] {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return Array.from({ length: n }, (_, i) => start + i * step);
}

function betasForAlphaBar(n: number, maxBeta = 0.999): number[] {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  return Array.from({ length: n }, (_, i) => f32(Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), maxBeta)));
}

function rescaleZeroTerminalSnr(betas: number[]): number[] {
  const cum = cumprod(betas.map((b) => f32(1 - b)));
  const sqrt = cum.map((a) => Math.sqrt(a));
  const first = sqrt[0];
  const last = sqrt[sqrt.length - 1];
  const bar = sqrt.map((s) => ((s - last) * first / (first - last)) ** 2);
  return bar.map((a, i) => f32(1 - (i === 0 ? a : a / bar[i - 1])));
}

// torch.cumprod on the CPU accumulates float32 inputs in double and stores float32.
function cumprod(xs: number[]): number[] {
  let acc = 1;
  return xs.map((x) => f32((acc *= x)));
}

/** The training noise schedule: betas and cumulative alphas (float32 values), as diffusers builds them. */
export interface TrainSchedule {
  betas: number[];
  alphasCumprod: number[];
}

export function trainSchedule(c: ResolvedConfig): TrainSchedule {
  const n = c.num_train_timesteps;
  let betas: number[];
  if (c.trained_betas !== null) betas = c.trained_betas.map(f32);
  else if (c.beta_schedule === "linear") betas = torchLinspace32(c.beta_start, c.beta_end, n);
  else if (c.beta_schedule === "scaled_linear") betas = torchLinspace32(c.beta_start ** 0.5, c.beta_end ** 0.5, n).map((b) => f32(b * b));
  else betas = betasForAlphaBar(n);
  if (c.rescale_betas_zero_snr) betas = rescaleZeroTerminalSnr(betas);
  const alphasCumprod = cumprod(betas.map((b) => f32(1 - b)));
  if (c.rescale_betas_zero_snr) alphasCumprod[n - 1] = 2 ** -24;
  return { betas, alphasCumprod };
}

/** sqrt((1 - ᾱ) / ᾱ) for each training timestep (float32, increasing with t). */
export function trainSigmas(alphasCumprod: readonly number[]): number[] {
  return alphasCumprod.map((a) => f32(Math.sqrt(f32(f32(1 - a) / a))));
}

/**
 * Timesteps (descending, before any sigma conversion) as the k-diffusion style classes (Euler, Euler
 * ancestral, Heun, LMS) space them: float32 values.
 */
export function sigmaClassTimesteps(c: ResolvedConfig, steps: number): number[] {
  const n = c.num_train_timesteps;
  if (c.timestep_spacing === "linspace") return npLinspace(0, n - 1, steps).map(f32).reverse();
  if (c.timestep_spacing === "leading") {
    const ratio = Math.floor(n / steps);
    return Array.from({ length: steps }, (_, i) => f32((steps - 1 - i) * ratio + c.steps_offset));
  }
  return npArange(n, 0, -n / steps).map((t) => f32(npRound(t) - 1));
}

/** np.interp(x, [0, 1, ..., n-1], values). */
export function interpIndex(x: number, values: readonly number[]): number {
  if (x <= 0) return values[0];
  const last = values.length - 1;
  if (x >= last) return values[last];
  const i = Math.floor(x);
  const w = x - i;
  return values[i] + w * (values[i + 1] - values[i]);
}

/** diffusers' `_sigma_to_t`: the fractional training timestep of `sigma` (log-linear between neighbours). */
export function sigmaToT(sigma: number, logSigmas: readonly number[]): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i] >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lo = logSigmas[low];
  const hi = logSigmas[low + 1];
  const w = Math.min(Math.max((lo - logSigma) / (lo - hi), 0), 1);
  return (1 - w) * low + w * (low + 1);
}

/** Karras et al.'s sigmas (rho = 7) from sigmaMax down to sigmaMin. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, steps: number): number[] {
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return npLinspace(0, 1, steps).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/** Sigmas evenly spaced in log from sigmaMax down to sigmaMin. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, steps: number): number[] {
  return npLinspace(Math.log(sigmaMax), Math.log(sigmaMin), steps).map(Math.exp);
}

/**
 * The Karras / exponential conversion of a descending sigma list `inSigmas` (endpoints from the
 * config's sigma_min / sigma_max when set), or undefined when the config asks for neither.
 */
export function convertSigmas(c: ResolvedConfig, inSigmas: readonly number[], steps: number): number[] | undefined {
  if (!c.use_karras_sigmas && !c.use_exponential_sigmas) return undefined;
  const sigmaMin = c.sigma_min ?? inSigmas[inSigmas.length - 1];
  const sigmaMax = c.sigma_max ?? inSigmas[0];
  return c.use_karras_sigmas ? karrasSigmas(sigmaMin, sigmaMax, steps) : exponentialSigmas(sigmaMin, sigmaMax, steps);
}

/**
 * The sigma schedule of the k-diffusion style classes (Euler, Heun, LMS...): timesteps spaced per the
 * config, sigmas interpolated at them (or converted to Karras / exponential, with the timesteps
 * recomputed from the sigmas), and a final sigma of 0 (or sigma_min). Timesteps are float32.
 */
export function sigmaSchedule(c: ResolvedConfig, alphasCumprod: readonly number[], steps: number, finalSigma = true)
  : { timesteps: number[]; sigmas: number[] } {
  let timesteps = sigmaClassTimesteps(c, steps);
  const train = trainSigmas(alphasCumprod);
  const logSigmas = train.map(Math.log);
  if (c.interpolation_type !== "linear")
    throw new Error(`scheduler config: interpolation_type ${c.interpolation_type} is not supported (only "linear")`);
  let sigmas = timesteps.map((t) => interpIndex(t, train));
  const converted = convertSigmas(c, sigmas, steps);
  if (converted) {
    sigmas = converted;
    timesteps = sigmas.map((s) => f32(sigmaToT(s, logSigmas)));
  }
  if (finalSigma) sigmas.push(c.final_sigmas_type === "sigma_min" ? train[0] : 0);
  return { timesteps, sigmas: sigmas.map(f32) };
}

/** The number of steps requested, checked (1..num_train_timesteps). */
export function checkSteps(steps: number, c: ResolvedConfig, who: string): number {
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`${who}: steps must be a positive integer, got ${String(steps)}`);
  if (steps > c.num_train_timesteps)
    throw new Error(`${who}: steps (${steps}) cannot be larger than the scheduler's num_train_timesteps (${c.num_train_timesteps})`);
  return steps;
}
