// Samplers by name, on a diffusers scheduler config (see names.ts for the accepted spellings).
import type { SchedulerConfig } from "./config.js";
import { ddim } from "./ddim.js";
import { dpmpp2m } from "./dpm_multistep.js";
import { euler, eulerAncestral } from "./euler.js";
import { heun } from "./heun.js";
import { lcm } from "./lcm.js";
import { lms } from "./lms.js";
import { pndm } from "./pndm.js";
import { parseSampler, parseSigmaSchedule } from "./names.js";
import type { NoiseSource, Sampler, SamplerName, SigmaSchedule } from "./types.js";

export * from "./types.js";
export * from "./config.js";
export { parseSampler, parseSigmaSchedule } from "./names.js";
export type { SamplerSpec } from "./names.js";

/** The samplers that take Karras / exponential sigmas (the sigma-based ones diffusers converts). */
export const SIGMA_SAMPLERS: readonly SamplerName[] = ["euler", "heun", "dpmpp_2m", "dpmpp_2m_sde", "lms"];

export interface CreateSamplerOptions {
  /** Inference steps (UNet calls, except Heun's 2 per step). */
  steps: number;
  /** The model's scheduler_config.json (noise schedule, prediction type, spacing); diffusers' defaults when absent. */
  config?: SchedulerConfig;
  /** Sigma spacing: "karras", "exponential", or "default" (the config's own); the sampler name may say it too. */
  scheduler?: string;
  /** Noise for the ancestral / SDE / LCM samplers (and DDIM with eta > 0). */
  noise?: NoiseSource;
  /** DDIM's eta (0: deterministic). */
  eta?: number;
}

/** The sampler a diffusers config names in `_class_name` (PNDM for SD 1.x folders), or dpmpp_2m (A1111's default) for others. */
export function defaultSampler(config: SchedulerConfig & { algorithm_type?: string } = {}): SamplerName {
  const cls = config._class_name;
  if (cls === "DPMSolverMultistepScheduler") return config.algorithm_type === "sde-dpmsolver++" ? "dpmpp_2m_sde" : "dpmpp_2m";
  try {
    return cls ? parseSampler(cls).sampler : "dpmpp_2m";
  } catch {
    return "dpmpp_2m";
  }
}

/**
 * A fresh sampler for one run: `name` in any accepted spelling ("DPM++ 2M Karras", "euler_a", ...),
 * on the config's noise schedule. Karras / exponential sigmas come from the name or `scheduler`
 * (both saying different things is an error) and override the config's `use_karras_sigmas`.
 */
export function createSampler(name: string, opts: CreateSamplerOptions): Sampler {
  const spec = parseSampler(name);
  const fromOption = opts.scheduler === undefined ? undefined : parseSigmaSchedule(opts.scheduler);
  if (spec.sigmas && fromOption && spec.sigmas !== fromOption)
    throw new Error(`sampler ${JSON.stringify(name)} asks for ${spec.sigmas} sigmas but scheduler is ${JSON.stringify(opts.scheduler)}`);
  const sigmas: SigmaSchedule | undefined = spec.sigmas ?? fromOption;
  if (sigmas !== undefined && sigmas !== "default" && !SIGMA_SAMPLERS.includes(spec.sampler))
    throw new Error(`${spec.sampler} has no ${sigmas} sigmas; ${sigmas} sigmas work with ${SIGMA_SAMPLERS.join(", ")}`);
  const config: SchedulerConfig = { ...opts.config };
  if (sigmas !== undefined) {
    config.use_karras_sigmas = sigmas === "karras";
    config.use_exponential_sigmas = sigmas === "exponential";
  }
  if (spec.spacing) config.timestep_spacing = spec.spacing;
  const { steps, noise } = opts;
  switch (spec.sampler) {
    case "ddim": return ddim(config, steps, { eta: opts.eta, noise });
    case "euler": return euler(config, steps);
    case "euler_a": return eulerAncestral(config, steps, { noise });
    case "heun": return heun(config, steps);
    case "dpmpp_2m": return dpmpp2m(config, steps);
    case "dpmpp_2m_sde": return dpmpp2m(config, steps, { sde: true, noise });
    case "lms": return lms(config, steps);
    case "lcm": return lcm(config, steps, { noise });
    case "pndm": return pndm(config, steps);
  }
}
