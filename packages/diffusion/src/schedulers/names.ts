// Sampler names as users type them: ours (dpmpp_2m), A1111's ("DPM++ 2M Karras", "Euler a"),
// stable-diffusion.cpp's (dpm++2m, euler_a, ddim_trailing), ComfyUI's (euler_ancestral, dpmpp_2m_sde_gpu),
// k-diffusion's (k_euler, k_lms) and diffusers' class names (EulerDiscreteScheduler).
import type { TimestepSpacing } from "./config.js";
import { SAMPLER_NAMES } from "./types.js";
import type { SamplerName, SigmaSchedule } from "./types.js";

/** A parsed sampler name: which sampler, and what the name itself says about sigmas and spacing. */
export interface SamplerSpec {
  sampler: SamplerName;
  /** Set when the name carries it ("DPM++ 2M Karras"); else the scheduler option or the config decide. */
  sigmas?: SigmaSchedule;
  /** Set by sd.cpp's ddim_trailing. */
  spacing?: TimestepSpacing;
}

// Keys are names lower-cased with "++" -> "pp" and spaces, "_", "-" and "." removed.
const ALIASES: Record<string, SamplerName> = {
  ddim: "ddim", ddimscheduler: "ddim",
  euler: "euler", eulerdiscrete: "euler", eulerdiscretescheduler: "euler",
  eulera: "euler_a", eulerancestral: "euler_a", eulerancestraldiscrete: "euler_a", eulerancestraldiscretescheduler: "euler_a",
  heun: "heun", heundiscrete: "heun", heundiscretescheduler: "heun",
  dpmpp2m: "dpmpp_2m", dpmsolvermultistep: "dpmpp_2m", dpmsolvermultistepscheduler: "dpmpp_2m",
  dpmpp2msde: "dpmpp_2m_sde", dpmpp2msdegpu: "dpmpp_2m_sde",
  lms: "lms", lmsdiscrete: "lms", lmsdiscretescheduler: "lms",
  lcm: "lcm", lcmscheduler: "lcm",
  pndm: "pndm", plms: "pndm", pndmscheduler: "pndm",
};

const SCHEDULES: Record<string, SigmaSchedule> = {
  default: "default", normal: "default", discrete: "default", karras: "karras", exponential: "exponential",
};

const EXAMPLES = `"Euler a", "DPM++ 2M Karras", dpm++2m, euler_ancestral, k_lms, ddim_trailing`;

function squash(s: string): string {
  return s.toLowerCase().replaceAll("++", "pp").replace(/[\s_.-]+/g, "");
}

/** Parses a sampler name in any of the spellings above; an unknown one throws, listing the known names. */
export function parseSampler(name: string): SamplerSpec {
  if (typeof name !== "string" || name.trim() === "")
    throw new Error(`sampler must be a name (${SAMPLER_NAMES.join(", ")}), got ${JSON.stringify(name)}`);
  const trimmed = name.trim();
  let key = squash(/^k[_-]/i.test(trimmed) ? trimmed.slice(2) : trimmed); // k-diffusion's k_euler, k_lms
  const spec: Partial<SamplerSpec> = {};
  for (const [suffix, sigmas] of [["karras", "karras"], ["exponential", "exponential"]] as const) {
    if (key.endsWith(suffix) && key !== suffix) {
      spec.sigmas = sigmas;
      key = key.slice(0, -suffix.length);
    }
  }
  if (key === "ddimtrailing") {
    spec.spacing = "trailing";
    key = "ddim";
  }
  const sampler = ALIASES[key];
  if (sampler === undefined)
    throw new Error(`unknown sampler ${JSON.stringify(name)}: known samplers are ${SAMPLER_NAMES.join(", ")} (also spelled ${EXAMPLES}; append " Karras" for Karras sigmas)`);
  return { ...spec, sampler };
}

/** Parses a sigma schedule name (ComfyUI's "scheduler", sd.cpp's --schedule): default/normal/discrete, karras, exponential. */
export function parseSigmaSchedule(name: string): SigmaSchedule {
  const s = typeof name === "string" ? SCHEDULES[squash(name)] : undefined;
  if (s === undefined)
    throw new Error(`unknown scheduler ${JSON.stringify(name)}: known ones are default (also normal, discrete), karras, exponential`);
  return s;
}
