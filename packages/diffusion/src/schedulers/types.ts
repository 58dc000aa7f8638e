// The sampler contract the pipeline loop drives, and the small helpers every sampler file shares.
import { add, clip, multiply } from "@tessera/core";
import type { Tensor } from "@tessera/core";
import type { PredictionType } from "./config.js";

/** The samplers, by their canonical names (see names.ts for the A1111 / sd.cpp / ComfyUI spellings). */
export const SAMPLER_NAMES = ["ddim", "euler", "euler_a", "heun", "dpmpp_2m", "dpmpp_2m_sde", "lms", "lcm", "pndm"] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

/** How the sigmas of a sigma-based sampler are spaced: the config's own, Karras et al.'s, or log-uniform. */
export type SigmaSchedule = "default" | "karras" | "exponential";

/**
 * Draws standard normal noise of `shape` for model call `index` (ancestral and SDE samplers, LCM,
 * img2img). The pipeline passes one built on core's counter-based `random` with a key per image;
 * tests pass recorded noise.
 */
export type NoiseSource = (shape: readonly number[], index: number) => Tensor;

/**
 * One sampling run: the timesteps of each UNet call, and the update after each. A sampler keeps
 * state between calls (multistep history, Heun's first stage), so make a new one per run.
 */
export interface Sampler {
  readonly name: SamplerName;
  /** The timestep passed to the UNet at each call, in order (Heun calls twice per step). */
  readonly timesteps: readonly number[];
  /** The noise levels, one per call plus the final one, for sigma-based samplers; undefined for ddim/lcm. */
  readonly sigmas: readonly number[] | undefined;
  /** The initial noise is drawn as N(0, 1) times this. */
  readonly initNoiseSigma: number;
  /** UNet calls per step: 2 for Heun, else 1 (img2img starts at `order * t_start`). */
  readonly order: number;
  readonly predictionType: PredictionType;
  /** The UNet input for call `index` (sigma-based samplers divide by sqrt(sigma² + 1)). */
  scaleModelInput(sample: Tensor, index: number): Tensor;
  /** The sample after call `index`, given the model's prediction at that call. Calls must come in order. */
  step(modelOutput: Tensor, index: number, sample: Tensor): Tensor;
  /** `original` noised to the level of call `index` (img2img's starting latents). */
  addNoise(original: Tensor, noise: Tensor, index: number): Tensor;
}

/** a * x + b * y with scalar a and b. */
export function axpby(a: number, x: Tensor, b: number, y: Tensor): Tensor {
  return add(multiply(x, a), multiply(y, b));
}

/** Clamps to [-range, range] when the config asks (`clip_sample`). */
export function maybeClip(x: Tensor, enabled: boolean, range: number): Tensor {
  return enabled ? clip(x, -range, range) : x;
}

/** Throws unless `index` is the next call (samplers keep state and cannot skip or repeat). */
export function checkIndex(who: string, index: number, expected: number, calls: number): void {
  if (index !== expected)
    throw new Error(`${who}: step(${index}) out of order: expected call ${expected} (of ${calls}); make a new sampler per run`);
}

/** The noise of `noise(shape, index)`, checking it came back with the right shape. */
export function drawNoise(who: string, noise: NoiseSource | undefined, shape: readonly number[], index: number): Tensor {
  if (noise === undefined) throw new Error(`${who} draws noise at each step: pass a noise source (the pipeline's seeded one)`);
  const n = noise(shape, index);
  if (n.shape.length !== shape.length || n.shape.some((d, i) => d !== shape[i]))
    throw new Error(`${who}: the noise source returned shape [${n.shape.join(", ")}], expected [${shape.join(", ")}]`);
  return n;
}

/** sample - sigma * eps for epsilon, the v-prediction formula, or the output itself (k-diffusion classes). */
export function sigmaX0(prediction: PredictionType, out: Tensor, sample: Tensor, sigma: number): Tensor {
  if (prediction === "epsilon") return axpby(1, sample, -sigma, out);
  if (prediction === "v_prediction") return axpby(-sigma / Math.sqrt(sigma * sigma + 1), out, 1 / (sigma * sigma + 1), sample);
  return out;
}

/** x0 from the model output at cumulative alpha `alphaProd` (DDIM / LCM form). */
export function alphaX0(prediction: PredictionType, out: Tensor, sample: Tensor, alphaProd: number): Tensor {
  const a = Math.sqrt(alphaProd);
  const b = Math.sqrt(1 - alphaProd);
  if (prediction === "epsilon") return axpby(1 / a, sample, -b / a, out);
  if (prediction === "v_prediction") return axpby(a, sample, -b, out);
  return out;
}
