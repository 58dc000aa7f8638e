// LoRA files as users have them, for the UNet and text encoders: kohya / A1111 (`lora_unet_*`,
// `lora_te_*`, SDXL's `lora_te1_*` / `lora_te2_*`; `.lora_down` / `.lora_up` / `.alpha`, conv LoRA
// included) and diffusers / PEFT (`unet.*.lora_A` / `lora_B`, `text_encoder.*`, as
// save_lora_weights writes them, alphas from its lora_adapter_metadata). Applied fused into the
// weights or as run-time low-rank paths (core nn/lora.ts).
import { existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import { Tensor, io, nn, reshape, transpose } from "@tessera/core";
import type { DiffusionComponents } from "./load.js";
import { unetKey } from "./single_file.js";

/** A LoRA file and its weight (A1111's multiplier; default 1, negative allowed). */
export interface LoraSpec {
  path: string;
  weight?: number;
}

type Part = "unet" | "textEncoder" | "textEncoder2";

/** One layer's factors from a file: down [rank, ...] and up [out, rank] in our layouts, alpha / rank. */
interface LayerLora {
  part: Part;
  module: string;
  down: Tensor;
  up: Tensor;
  alphaScale: number;
}

/** A LoRA file read against a pipeline: its layers by part and module path. */
export interface LoadedLora {
  path: string;
  weight: number;
  layers: LayerLora[];
}

const PARTS: Record<Part, string> = { unet: "UNet", textEncoder: "text encoder", textEncoder2: "text encoder 2" };

// The LoRA-able leaves of each part by module path, and by the path with "_" for "." (kohya's names).
function targets(c: DiffusionComponents, part: Part): { byPath: Map<string, nn.LowRankTarget>; byUnderscore: Map<string, string> } {
  const model = part === "unet" ? c.unet : part === "textEncoder" ? c.textEncoder : c.textEncoder2;
  const byPath = new Map<string, nn.LowRankTarget>();
  const byUnderscore = new Map<string, string>();
  if (!model) return { byPath, byUnderscore };
  for (const [path, m] of model.namedModules()) {
    if (!nn.isLowRankTarget(m)) continue;
    byPath.set(path, m);
    byUnderscore.set(path.replace(/\./g, "_"), path);
  }
  return { byPath, byUnderscore };
}

/** Kohya's name (after lora_unet_ / lora_te_...) -> part and our module path; undefined if unknown. */
function kohyaModule(name: string, c: DiffusionComponents, t: Record<Part, ReturnType<typeof targets>>): { part: Part; module?: string } {
  const m = /^lora_(unet|te|te1|te2)_(.*)$/.exec(name);
  if (!m) return { part: "unet" };
  const part: Part = m[1] === "unet" ? "unet" : m[1] === "te2" ? "textEncoder2" : "textEncoder";
  const rest = part === "unet" ? m[2] : m[2].replace(/^text_model_/, "");
  const direct = t[part].byUnderscore.get(rest);
  const sgm = part === "unet" && !direct ? sgmModule(rest, c.unet.config.layers_per_block) : undefined;
  return { part, module: direct ?? (sgm && t.unet.byUnderscore.get(sgm)) };
}

const SGM_RESNET: Record<string, string> = { in_layers_2: "in_layers.2", emb_layers_1: "emb_layers.1", out_layers_3: "out_layers.3", skip_connection: "skip_connection" };
const SGM_FIXED: Record<string, string> = { time_embed_0: "time_embed.0", time_embed_2: "time_embed.2", label_emb_0_0: "label_emb.0.0", label_emb_0_2: "label_emb.0.2", out_2: "out.2" };

/**
 * Kohya's SDXL names in the original (SGM) layout (input_blocks_4_1_transformer_blocks_0_attn1_to_q)
 * -> our path in underscore form, through the single-file key map; undefined when it is not one.
 */
function sgmModule(rest: string, lpb: number[]): string | undefined {
  let ldm = SGM_FIXED[rest];
  const m = /^(input_blocks|output_blocks)_(\d+)_(\d+)_(.+)$|^middle_block_(\d+)_(.+)$/.exec(rest);
  if (!ldm && m) {
    const inner = m[4] ?? m[6];
    const local = SGM_RESNET[inner] ?? inner;
    ldm = m[1] ? `${m[1]}.${m[2]}.${m[3]}.${local}` : `middle_block.${m[5]}.${local}`;
  }
  if (!ldm) return undefined;
  try {
    return unetKey(`${ldm}.weight`, lpb).replace(/\.weight$/, "").replace(/\./g, "_");
  } catch {
    return undefined;
  }
}

// PEFT's rank_pattern / alpha_pattern keys match a module path or its end.
function pattern(p: Record<string, number> | undefined, module: string): number | undefined {
  if (!p) return undefined;
  for (const [k, v] of Object.entries(p)) if (module === k || module.endsWith(`.${k}`) || new RegExp(`(^|\\.)${k}$`).test(module)) return v;
  return undefined;
}

/** diffusers' lora_adapter_metadata: per part, the LoraConfig fields that set alpha / rank. */
function peftScale(meta: Record<string, unknown>, prefix: string, module: string, rank: number): number {
  const get = (k: string) => meta[`${prefix}.${k}`];
  const alpha = pattern(get("alpha_pattern") as Record<string, number>, module) ?? (get("lora_alpha") as number | undefined) ?? rank;
  return get("use_rslora") === true ? alpha / Math.sqrt(rank) : alpha / rank;
}

const UNSUPPORTED: [RegExp, string][] = [
  [/\.hada_w[12]_[ab]$/, "LoHa (LyCORIS)"], [/\.lokr_w[12](_[ab])?$/, "LoKr (LyCORIS)"], [/\.lora_mid\.weight$/, "LoCon with a Tucker mid factor"],
  [/\.dora_scale$|lora_magnitude_vector/, "DoRA"], [/\.diff(_b)?$/, "a full-weight difference"],
];

/** The factors in our layouts for target `layer`: convolutions channels-last, 1x1 convs <-> linear. */
function toLayout(layer: nn.LowRankTarget, down: Tensor, up: Tensor): { down: Tensor; up: Tensor } {
  if (up.ndim === 4) up = reshape(up, [up.shape[0], up.shape[1]]);
  if (layer instanceof nn.Conv2d) {
    down = down.ndim === 4 ? transpose(down, [0, 2, 3, 1]) : reshape(down, [down.shape[0], 1, 1, down.shape[1]]);
  } else if (down.ndim === 4) {
    down = reshape(down, [down.shape[0], down.shape[1] * down.shape[2] * down.shape[3]]);
  }
  return { down, up };
}

function guessArchitecture(keys: string[]): string | undefined {
  if (keys.some((k) => k.startsWith("lora_te2_") || k.startsWith("text_encoder_2."))) return "SDXL (it has a second text encoder)";
  if (keys.some((k) => /^lora_unet_(input_blocks|output_blocks|middle_block)_/.test(k))) return "another UNet layout (input_blocks / output_blocks names: SDXL's, as kohya writes them)";
  if (keys.some((k) => /^(lora_transformer_|transformer\.|lora_unet_(double|single)_blocks)/.test(k))) return "a DiT model (Flux / SD3)";
  return undefined;
}

/** Reads a LoRA file for these components; throws naming the file and what did not match. */
export function readLora(spec: LoraSpec, c: DiffusionComponents): LoadedLora {
  const what = `LoRA ${spec?.path}`;
  if (!spec || typeof spec.path !== "string" || spec.path === "") throw new Error(`LoRA: give { path, weight }, got ${JSON.stringify(spec)}`);
  const weight = spec.weight ?? 1;
  if (typeof weight !== "number" || !Number.isFinite(weight)) throw new Error(`${what}: the weight must be a finite number, got ${String(spec.weight)}`);
  if (!existsSync(spec.path) || !statSync(spec.path).isFile()) throw new Error(`${what}: no such file`);
  if (!spec.path.endsWith(".safetensors")) throw new Error(`${what}: only .safetensors LoRA files are read`);
  const file = io.loadWeights(spec.path);
  const keys = [...file.tensors.keys()];
  for (const [re, kind] of UNSUPPORTED) {
    const k = keys.find((x) => re.test(x));
    if (k) throw new Error(`${what}: ${kind} weights ('${k}') are not supported; only LoRA (lora_down / lora_up, lora_A / lora_B)`);
  }
  const t = { unet: targets(c, "unet"), textEncoder: targets(c, "textEncoder"), textEncoder2: targets(c, "textEncoder2") };
  let meta: Record<string, unknown> = {};
  if (file.metadata.lora_adapter_metadata) {
    try {
      meta = JSON.parse(file.metadata.lora_adapter_metadata) as Record<string, unknown>;
    } catch {
      throw new Error(`${what}: its lora_adapter_metadata is not JSON`);
    }
  }
  const groups = new Map<string, { part: Part; module?: string; down?: Tensor; up?: Tensor; alpha?: number; peftPrefix?: string }>();
  const unmatched: string[] = [];
  for (const [k, v] of file.tensors) {
    let m = /^(.*)\.(lora_down|lora_up)\.weight$|^(.*)\.(alpha)$/.exec(k);
    if (m && (m[1] ?? m[3]).startsWith("lora_")) {
      const name = m[1] ?? m[3];
      const g = groups.get(name) ?? { ...kohyaModule(name, c, t) };
      if (m[2] === "lora_down") g.down = v;
      else if (m[2] === "lora_up") g.up = v;
      else g.alpha = v.astype("float32").dataSync()[0] as number;
      groups.set(name, g);
      continue;
    }
    m = /^(unet|text_encoder|text_encoder_2)\.(.*)\.(lora_A|lora_B|lora\.down|lora\.up)\.weight$/.exec(k);
    if (m) {
      const part: Part = m[1] === "unet" ? "unet" : m[1] === "text_encoder" ? "textEncoder" : "textEncoder2";
      const path = part === "unet" ? m[2] : m[2].replace(/^text_model\./, "");
      const name = `${m[1]}.${m[2]}`;
      const g = groups.get(name) ?? { part, module: t[part].byPath.has(path) ? path : undefined, peftPrefix: m[1] };
      if (m[3] === "lora_A" || m[3] === "lora.down") g.down = v;
      else g.up = v;
      groups.set(name, g);
      continue;
    }
    m = /^(unet|text_encoder|text_encoder_2)\.(.*)\.alpha$/.exec(k);
    if (m && groups.has(`${m[1]}.${m[2]}`)) {
      groups.get(`${m[1]}.${m[2]}`)!.alpha = v.astype("float32").dataSync()[0] as number;
      continue;
    }
    unmatched.push(k);
  }
  const layers: LayerLora[] = [];
  for (const [name, g] of groups) {
    if (!g.module) {
      unmatched.push(name);
      continue;
    }
    if (!g.down || !g.up) throw new Error(`${what}: '${name}' has no ${g.down ? "up (lora_up / lora_B)" : "down (lora_down / lora_A)"} weight`);
    const layer = t[g.part].byPath.get(g.module)!;
    const f = toLayout(layer, g.down, g.up);
    const rank = f.down.shape[0];
    const alphaScale = g.peftPrefix ? (g.alpha !== undefined ? g.alpha / rank : peftScale(meta, g.peftPrefix, g.module, rank)) : (g.alpha ?? rank) / rank;
    try {
      nn.checkLowRank(layer, { ...f, scale: alphaScale }, `${PARTS[g.part]} layer ${g.module}`);
    } catch (e) {
      const arch = guessArchitecture(keys);
      throw new Error(`${what} does not fit this ${c.kind === "sdxl" ? "SDXL" : "SD 1.x / 2.x"} model${arch ? ` (it looks like a LoRA for ${arch})` : ""}: ${(e as Error).message}`);
    }
    layers.push({ part: g.part, module: g.module, ...f, alphaScale });
  }
  if (unmatched.length) {
    const arch = guessArchitecture(keys);
    throw new Error(`${what}: ${unmatched.length} of its keys match no layer of this ${c.kind === "sdxl" ? "SDXL" : "SD 1.x / 2.x"} model` +
      `${arch ? `; it looks like a LoRA for ${arch}` : ""} (e.g. ${unmatched.slice(0, 3).join(", ")})`);
  }
  if (!layers.length) throw new Error(`${what}: no LoRA weights in the file (${keys.length} tensors)`);
  return { path: spec.path, weight, layers };
}

function layerOf(c: DiffusionComponents, part: Part, module: string): nn.LowRankTarget {
  return targets(c, part).byPath.get(module)!;
}

// The updates of each layer over several LoRAs, keyed by "part:module".
function updatesByLayer(loras: readonly LoadedLora[]): Map<string, { part: Part; module: string; updates: nn.LowRankUpdate[] }> {
  const out = new Map<string, { part: Part; module: string; updates: nn.LowRankUpdate[] }>();
  for (const l of loras) {
    for (const x of l.layers) {
      const key = `${x.part}:${x.module}`;
      const e = out.get(key) ?? { part: x.part, module: x.module, updates: [] };
      e.updates.push({ down: x.down, up: x.up, scale: l.weight * x.alphaScale });
      out.set(key, e);
    }
  }
  return out;
}

/** Adds the LoRAs into the float weights, in place (before quantizing). */
export function fuseLoras(c: DiffusionComponents, loras: readonly LoadedLora[]): void {
  for (const e of updatesByLayer(loras).values()) {
    const layer = layerOf(c, e.part, e.module);
    if (layer instanceof nn.QuantizedLinear)
      throw new Error(`LoRA: ${PARTS[e.part]} layer ${e.module} is already quantized: fuse LoRAs before quantizing (loadDiffusion's lora option does), or apply them at run time`);
    nn.fuseLowRank(layer, e.updates, `LoRA: ${PARTS[e.part]} layer ${e.module}`);
  }
}

/** Makes `loras` the run-time LoRAs of every layer (replacing those set before; [] removes them all). */
export function setRunTimeLoras(c: DiffusionComponents, loras: readonly LoadedLora[]): void {
  const by = updatesByLayer(loras);
  for (const part of ["unet", "textEncoder", "textEncoder2"] as Part[]) {
    for (const [module, layer] of targets(c, part).byPath) nn.setLowRank(layer, by.get(`${part}:${module}`)?.updates ?? []);
  }
}

/** A short name for a LoRA file (its base name without .safetensors), for the generation parameters. */
export function loraName(path: string): string {
  return basename(path).replace(/\.safetensors$/, "");
}
