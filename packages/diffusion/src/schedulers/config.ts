// A diffusers `scheduler_config.json`, read as the scheduler classes read it: keys keep diffusers'
// snake_case names, keys a class does not know are ignored, missing keys take that class's default.

/** How betas run over the training timesteps (diffusers' `beta_schedule`). */
export type BetaSchedule = "linear" | "scaled_linear" | "squaredcos_cap_v2";
/** What the UNet predicts (diffusers' `prediction_type`). */
export type PredictionType = "epsilon" | "v_prediction" | "sample";
/** How inference timesteps are spread over the training ones (diffusers' `timestep_spacing`). */
export type TimestepSpacing = "linspace" | "leading" | "trailing";

/** The fields of a diffusers scheduler config that the samplers here use (all optional, as in the JSON). */
export interface SchedulerConfig {
  _class_name?: string;
  num_train_timesteps?: number;
  beta_start?: number;
  beta_end?: number;
  beta_schedule?: BetaSchedule;
  trained_betas?: number[] | null;
  prediction_type?: PredictionType;
  timestep_spacing?: TimestepSpacing;
  steps_offset?: number;
  clip_sample?: boolean;
  clip_sample_range?: number;
  set_alpha_to_one?: boolean;
  use_karras_sigmas?: boolean;
  use_exponential_sigmas?: boolean;
  rescale_betas_zero_snr?: boolean;
  final_sigmas_type?: "zero" | "sigma_min";
  interpolation_type?: "linear" | "log_linear";
  sigma_min?: number | null;
  sigma_max?: number | null;
  lower_order_final?: boolean;
  euler_at_final?: boolean;
  original_inference_steps?: number;
  timestep_scaling?: number;
}

/** A config with every field a sampler reads filled in. */
export type ResolvedConfig = Required<Omit<SchedulerConfig, "_class_name" | "trained_betas" | "sigma_min" | "sigma_max">> & {
  trained_betas: number[] | null;
  sigma_min: number | null;
  sigma_max: number | null;
};

/** diffusers' SchedulerMixin defaults shared by the classes used here (each class overrides a few). */
const BASE: ResolvedConfig = {
  num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: "linear", trained_betas: null,
  prediction_type: "epsilon", timestep_spacing: "linspace", steps_offset: 0, clip_sample: false, clip_sample_range: 1,
  set_alpha_to_one: true, use_karras_sigmas: false, use_exponential_sigmas: false, rescale_betas_zero_snr: false,
  final_sigmas_type: "zero", interpolation_type: "linear", sigma_min: null, sigma_max: null,
  lower_order_final: true, euler_at_final: false, original_inference_steps: 50, timestep_scaling: 10,
};

/** The diffusers class behind each sampler, with its constructor defaults where they differ from BASE. */
export const CLASS_DEFAULTS = {
  DDIMScheduler: { timestep_spacing: "leading", clip_sample: true },
  EulerDiscreteScheduler: {},
  EulerAncestralDiscreteScheduler: {},
  HeunDiscreteScheduler: { beta_start: 0.00085, beta_end: 0.012 },
  DPMSolverMultistepScheduler: {},
  LMSDiscreteScheduler: {},
  PNDMScheduler: { timestep_spacing: "leading", set_alpha_to_one: false },
  LCMScheduler: { beta_start: 0.00085, beta_end: 0.012, beta_schedule: "scaled_linear", timestep_spacing: "leading" },
} satisfies Record<string, Partial<ResolvedConfig>>;
export type SchedulerClass = keyof typeof CLASS_DEFAULTS;

const ENUMS: Partial<Record<keyof ResolvedConfig, readonly string[]>> = {
  beta_schedule: ["linear", "scaled_linear", "squaredcos_cap_v2"],
  prediction_type: ["epsilon", "v_prediction", "sample"],
  timestep_spacing: ["linspace", "leading", "trailing"],
  final_sigmas_type: ["zero", "sigma_min"],
  interpolation_type: ["linear", "log_linear"],
};

/**
 * Merges `config` (a parsed scheduler_config.json, or overrides) over the defaults of `cls`, checking
 * the value of every field used. Unknown keys are ignored, as diffusers' `from_config` does.
 */
export function resolveConfig(cls: SchedulerClass, config: SchedulerConfig = {}): ResolvedConfig {
  if (config === null || typeof config !== "object" || Array.isArray(config))
    throw new Error(`scheduler config must be an object (a parsed scheduler_config.json), got ${JSON.stringify(config)}`);
  const out: ResolvedConfig = { ...BASE, ...CLASS_DEFAULTS[cls] } as ResolvedConfig;
  const target = out as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(config)) {
    if (!(key in BASE) || value === undefined) continue;
    if (value === null && key !== "trained_betas" && key !== "sigma_min" && key !== "sigma_max") continue;
    const allowed = ENUMS[key as keyof ResolvedConfig];
    if (allowed && !allowed.includes(value as string))
      throw new Error(`scheduler config: ${key} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
    const expected = typeof (BASE as unknown as Record<string, unknown>)[key];
    if (allowed === undefined && value !== null && expected !== "object" && typeof value !== expected)
      throw new Error(`scheduler config: ${key} must be a ${expected}, got ${JSON.stringify(value)}`);
    target[key] = value;
  }
  const n = out.num_train_timesteps;
  if (!Number.isInteger(n) || n < 2) throw new Error(`scheduler config: num_train_timesteps must be an integer >= 2, got ${n}`);
  if (!Number.isInteger(out.steps_offset) || out.steps_offset < 0)
    throw new Error(`scheduler config: steps_offset must be a non-negative integer, got ${out.steps_offset}`);
  if (out.trained_betas !== null && (!Array.isArray(out.trained_betas) || out.trained_betas.length !== n))
    throw new Error(`scheduler config: trained_betas must be a list of num_train_timesteps (${n}) numbers`);
  if (out.use_karras_sigmas && out.use_exponential_sigmas)
    throw new Error("scheduler config: only one of use_karras_sigmas and use_exponential_sigmas can be set");
  return out;
}
