// Generation parameters as AUTOMATIC1111's web UI writes them into a PNG's `parameters` text
// ("infotext"), so A1111, ComfyUI, Civitai and `sd --from image.png` read them back.
import { parseSampler, parseSigmaSchedule } from "./schedulers/index.js";
import type { SamplerName, SigmaSchedule } from "./schedulers/index.js";

/** What made an image: enough to make it again. */
export interface GenerationParameters {
  prompt: string;
  negativePrompt: string;
  steps: number;
  sampler: SamplerName;
  /** The sigma spacing ("karras"...); "default" for the sampler's own. */
  scheduler: SigmaSchedule;
  guidance: number;
  seed: number;
  width: number;
  height: number;
  /** img2img's denoising strength. */
  strength?: number;
  model?: string;
  /** Text encoder layers skipped (diffusers' clip_skip); A1111 writes it as "Clip skip: clipSkip + 1". */
  clipSkip?: number;
  /** Other fields of a parsed infotext, by A1111's names (written back as they are). */
  extra?: Record<string, string>;
}

const A1111_NAMES: Record<SamplerName, string> = {
  ddim: "DDIM", euler: "Euler", euler_a: "Euler a", heun: "Heun", dpmpp_2m: "DPM++ 2M",
  dpmpp_2m_sde: "DPM++ 2M SDE", lms: "LMS", lcm: "LCM", pndm: "PLMS",
};
const SCHEDULE_NAMES: Record<SigmaSchedule, string | undefined> = { default: undefined, karras: "Karras", exponential: "Exponential" };

/** A1111's name of a sampler ("DPM++ 2M"). */
export function a1111SamplerName(sampler: SamplerName): string {
  return A1111_NAMES[sampler];
}

function quote(v: string): string {
  return /[,:\n"]/.test(v) ? JSON.stringify(v) : v;
}

/** The infotext: prompt, "Negative prompt: ..." and one line of "Key: value" pairs. */
export function formatParameters(p: GenerationParameters): string {
  const fields: [string, string | number | undefined][] = [
    ["Steps", p.steps], ["Sampler", A1111_NAMES[p.sampler]], ["Schedule type", SCHEDULE_NAMES[p.scheduler]],
    ["CFG scale", p.guidance], ["Seed", p.seed], ["Size", `${p.width}x${p.height}`], ["Model", p.model],
    ["Denoising strength", p.strength], ["Clip skip", p.clipSkip ? p.clipSkip + 1 : undefined], ...Object.entries(p.extra ?? {}),
  ];
  const line = fields.filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => `${k}: ${quote(String(v))}`).join(", ");
  const negative = p.negativePrompt ? `\nNegative prompt: ${p.negativePrompt}` : "";
  return `${p.prompt}${negative}\n${line}`;
}

const FIELD = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;

function fieldsOf(line: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of line.matchAll(FIELD)) {
    const raw = m[2].trim();
    out.set(m[1].trim(), raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return out;
}

function numberField(fields: Map<string, string>, key: string, integer: boolean): number | undefined {
  const v = fields.get(key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`generation parameters: ${key} is not a${integer ? "n integer" : " number"}: ${JSON.stringify(v)}`);
  return n;
}

/**
 * Parses an infotext as A1111 does (the last line holds the "Key: value" pairs when it has at least
 * three). Missing fields are left out; an unknown sampler is an error naming it.
 */
export function parseParameters(text: string): Partial<GenerationParameters> {
  const lines = text.replace(/\r\n/g, "\n").trim().split("\n");
  let fields = new Map<string, string>();
  if (lines.length > 0 && [...lines[lines.length - 1].matchAll(FIELD)].length >= 3) fields = fieldsOf(lines.pop() ?? "");
  const prompt: string[] = [];
  const negative: string[] = [];
  let inNegative = false;
  for (const l of lines) {
    if (l.startsWith("Negative prompt:")) {
      inNegative = true;
      negative.push(l.slice("Negative prompt:".length).trim());
    } else (inNegative ? negative : prompt).push(l);
  }
  const out: Partial<GenerationParameters> = { prompt: prompt.join("\n").trim(), negativePrompt: negative.join("\n").trim() };
  const samplerName = fields.get("Sampler");
  if (samplerName !== undefined) {
    const spec = parseSampler(samplerName);
    out.sampler = spec.sampler;
    const schedule = fields.get("Schedule type");
    out.scheduler = spec.sigmas ?? (schedule && schedule !== "Automatic" ? parseSigmaSchedule(schedule) : "default");
  }
  const size = fields.get("Size");
  if (size !== undefined) {
    const m = /^(\d+)x(\d+)$/.exec(size);
    if (!m) throw new Error(`generation parameters: Size must be WIDTHxHEIGHT, got ${JSON.stringify(size)}`);
    out.width = Number(m[1]);
    out.height = Number(m[2]);
  }
  const steps = numberField(fields, "Steps", true);
  const guidance = numberField(fields, "CFG scale", false);
  const seed = numberField(fields, "Seed", true);
  const strength = numberField(fields, "Denoising strength", false);
  if (steps !== undefined) out.steps = steps;
  if (guidance !== undefined) out.guidance = guidance;
  if (seed !== undefined) out.seed = seed;
  if (strength !== undefined) out.strength = strength;
  if (fields.has("Model")) out.model = fields.get("Model");
  const clipSkip = numberField(fields, "Clip skip", true);
  if (clipSkip !== undefined && clipSkip > 1) out.clipSkip = clipSkip - 1;
  const known = new Set(["Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size", "Model", "Denoising strength", "Clip skip"]);
  const extra = Object.fromEntries([...fields].filter(([k]) => !known.has(k)));
  if (Object.keys(extra).length) out.extra = extra;
  return out;
}
