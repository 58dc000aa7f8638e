// Single-file checkpoints with the original Stable Diffusion (CompVis / Stability "ldm") key names —
// what most users download: model.diffusion_model.* (UNet), first_stage_model.* (VAE),
// cond_stage_model.transformer.* (SD 1.x CLIP), cond_stage_model.model.* (SD 2.x OpenCLIP),
// conditioner.embedders.{0,1}.* (SDXL). The key mapping follows diffusers' single_file_utils
// (convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint, convert_open_clip_checkpoint).
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { Tensor, io, reshape, split } from "@tessera/core";
import { CLIPTextModel, CLIPTextModelWithProjection, sanitizeClip } from "./clip.js";
import { checkModelDType } from "./config.js";
import { fill, loadDiffusersFolder, maybeQuantize, readPipelineFolder, sanitizeConvs, vaeDtypeFor } from "./load.js";
import type { DiffusionComponents, LoadDiffusionOptions } from "./load.js";
import { UNet2DConditionModel } from "./unet.js";
import { AutoencoderKL } from "./vae.js";

/** The architectures a single file can hold, as detected from its keys. */
export type CheckpointKind = "sd1" | "sd2" | "sdxl";

/** Hub repos whose configs and tokenizers fit each kind (diffusers' defaults for single files). */
export const SINGLE_FILE_CONFIG_REPOS: Record<CheckpointKind, string> = {
  sd1: "stable-diffusion-v1-5/stable-diffusion-v1-5",
  sd2: "stabilityai/stable-diffusion-2-1",
  sdxl: "stabilityai/stable-diffusion-xl-base-1.0",
};

const UNET = "model.diffusion_model.";
const VAE_PREFIXES = ["first_stage_model.", "vae."];
const IGNORED = /(^|\.)(position_ids|logit_scale|attn_mask)$|^model_ema\.|^cond_stage_model\.model\.visual\.|^alphas_cumprod|^betas$|^log_one_minus|^sqrt_|^posterior_|^alphas_cumprod_prev|^lvlb_weights$|^model_ema/;

/** Which architecture a checkpoint's keys belong to; an Error for anything else. */
export function detectCheckpointKind(keys: Iterable<string>, source: string): CheckpointKind {
  const ks = [...keys];
  const has = (prefix: string) => ks.some((k) => k.startsWith(prefix));
  if (!has(UNET)) throw new Error(`${source}: not a Stable Diffusion checkpoint (no ${UNET}* keys; found e.g. ${ks.slice(0, 3).join(", ")})`);
  if (has("conditioner.embedders.1.model.")) return "sdxl";
  if (has("conditioner.embedders.0.model.")) throw new Error(`${source}: an SDXL refiner checkpoint (OpenCLIP only); not supported`);
  if (has("cond_stage_model.transformer.")) return "sd1";
  if (has("cond_stage_model.model.")) return "sd2";
  throw new Error(`${source}: unknown Stable Diffusion variant: no text encoder keys (cond_stage_model.* or conditioner.embedders.*)`);
}

const RESNET: [string, string][] = [
  ["in_layers.0.", "norm1."], ["in_layers.2.", "conv1."], ["emb_layers.1.", "time_emb_proj."],
  ["out_layers.0.", "norm2."], ["out_layers.3.", "conv2."], ["skip_connection.", "conv_shortcut."],
];
const UNET_FIXED: [string, string][] = [
  ["time_embed.0.", "time_embedding.linear_1."], ["time_embed.2.", "time_embedding.linear_2."],
  ["label_emb.0.0.", "add_embedding.linear_1."], ["label_emb.0.2.", "add_embedding.linear_2."],
  ["input_blocks.0.0.", "conv_in."], ["out.0.", "conv_norm_out."], ["out.2.", "conv_out."],
];

function renameResnet(rest: string, key: string): string {
  const r = RESNET.find(([a]) => rest.startsWith(a));
  if (!r) throw new Error(`unexpected UNet resnet key '${key}'`);
  return r[1] + rest.slice(r[0].length);
}

/** Finds (block, index within block) for a running index over blocks of the given sizes. */
function locate(i: number, sizes: number[]): [number, number] {
  for (let b = 0; b < sizes.length; b++) {
    if (i < sizes[b]) return [b, i];
    i -= sizes[b];
  }
  return [-1, -1];
}

/** One original UNet key (without model.diffusion_model.) -> the diffusers key. @internal */
export function unetKey(k: string, lpb: number[]): string {
  for (const [a, b] of UNET_FIXED) if (k.startsWith(a)) return b + k.slice(a.length);
  const mid = /^middle_block\.([012])\.(.*)$/.exec(k);
  if (mid) return mid[1] === "1" ? `mid_block.attentions.0.${mid[2]}` : `mid_block.resnets.${Number(mid[1]) / 2}.${renameResnet(mid[2], k)}`;
  const m = /^(input_blocks|output_blocks)\.(\d+)\.(\d+)\.(.*)$/.exec(k);
  if (!m) throw new Error(`unexpected UNet key '${k}'`);
  const [, part, is, ss, rest] = m;
  const i = Number(is);
  const sub = Number(ss);
  if (part === "input_blocks") {
    const [b, j] = locate(i - 1, lpb.map((n) => n + 1));
    if (b < 0) throw new Error(`UNet key '${k}' is past the configured down blocks`);
    if (rest.startsWith("op.")) return `down_blocks.${b}.downsamplers.0.conv.${rest.slice(3)}`;
    return sub === 0 ? `down_blocks.${b}.resnets.${j}.${renameResnet(rest, k)}` : `down_blocks.${b}.attentions.${j}.${rest}`;
  }
  const up = [...lpb].reverse().map((n) => n + 1);
  const [b, j] = locate(i, up);
  if (b < 0) throw new Error(`UNet key '${k}' is past the configured up blocks`);
  if (rest.startsWith("conv.")) return `up_blocks.${b}.upsamplers.0.conv.${rest.slice(5)}`;
  return sub === 0 ? `up_blocks.${b}.resnets.${j}.${renameResnet(rest, k)}` : `up_blocks.${b}.attentions.${j}.${rest}`;
}

const VAE_ATTN: [RegExp, string][] = [[/\.norm\./, ".group_norm."], [/\.q\./, ".to_q."], [/\.k\./, ".to_k."], [/\.v\./, ".to_v."], [/\.proj_out\./, ".to_out.0."]];

/** One original VAE key (without first_stage_model.) -> the diffusers key. */
function vaeKey(k: string, blocks: number): string {
  let m = /^encoder\.down\.(\d+)\.(block|downsample)\.(.*)$/.exec(k);
  if (m) return m[2] === "block" ? `encoder.down_blocks.${m[1]}.resnets.${m[3]}` : `encoder.down_blocks.${m[1]}.downsamplers.0.${m[3]}`;
  m = /^decoder\.up\.(\d+)\.(block|upsample)\.(.*)$/.exec(k);
  if (m) {
    const b = blocks - 1 - Number(m[1]);
    return m[2] === "block" ? `decoder.up_blocks.${b}.resnets.${m[3]}` : `decoder.up_blocks.${b}.upsamplers.0.${m[3]}`;
  }
  m = /^(encoder|decoder)\.mid\.(block_1|block_2|attn_1)\.(.*)$/.exec(k);
  if (m) {
    if (m[2] !== "attn_1") return `${m[1]}.mid_block.resnets.${m[2] === "block_1" ? 0 : 1}.${m[3]}`;
    let rest = "." + m[3];
    for (const [re, to] of VAE_ATTN) rest = rest.replace(re, to);
    return `${m[1]}.mid_block.attentions.0${rest}`;
  }
  return k.replace(/^(encoder|decoder)\.norm_out\./, "$1.conv_norm_out.");
}

/** vaeKey plus the resnets' nin_shortcut -> conv_shortcut. */
function vaeKeyFull(k: string, blocks: number): string {
  return vaeKey(k, blocks).replace(".nin_shortcut.", ".conv_shortcut.");
}

/** OpenCLIP text-model keys (without the prefix) -> transformers' CLIP keys; in_proj split in three. */
function openClipWeights(w: Map<string, Tensor>, layers: number, withProjection: boolean): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const names: [string, string][] = [["ln_1.", "layer_norm1."], ["ln_2.", "layer_norm2."], ["mlp.c_fc.", "mlp.fc1."], ["mlp.c_proj.", "mlp.fc2."], ["attn.out_proj.", "self_attn.out_proj."]];
  for (const [k, v] of w) {
    if (k === "token_embedding.weight") out.set("embeddings.token_embedding.weight", v);
    else if (k === "positional_embedding") out.set("embeddings.position_embedding.weight", v);
    else if (k.startsWith("ln_final.")) out.set("final_layer_norm." + k.slice(9), v);
    else if (k === "text_projection") {
      if (withProjection) out.set("text_projection.weight", v.T);
    } else {
      const m = /^transformer\.resblocks\.(\d+)\.(.*)$/.exec(k);
      if (!m) throw new Error(`unexpected OpenCLIP key '${k}'`);
      if (Number(m[1]) >= layers) continue; // SD 2.x uses the penultimate layer: diffusers' model has one fewer.
      const p = `encoder.layers.${m[1]}.`;
      if (m[2] === "attn.in_proj_weight" || m[2] === "attn.in_proj_bias") {
        const kind = m[2].endsWith("weight") ? "weight" : "bias";
        split(v, 3, 0).forEach((t, i) => out.set(`${p}self_attn.${"qkv"[i]}_proj.${kind}`, t));
        continue;
      }
      const n = names.find(([a]) => m[2].startsWith(a));
      if (!n) throw new Error(`unexpected OpenCLIP key '${k}'`);
      out.set(p + n[1] + m[2].slice(n[0].length), v);
    }
  }
  return out;
}

/** The checkpoint's tensors under `prefix`, prefix removed. */
function under(all: Map<string, Tensor>, prefix: string, taken: Set<string>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of all) {
    if (!k.startsWith(prefix)) continue;
    taken.add(k);
    if (!IGNORED.test(k)) out.set(k.slice(prefix.length), v);
  }
  return out;
}

function mapKeys(w: Map<string, Tensor>, fn: (k: string) => string, source: string, what: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of w) {
    try {
      out.set(fn(k), v);
    } catch (e) {
      throw new Error(`${source}: ${what}: ${(e as Error).message}`);
    }
  }
  return out;
}

export interface LoadSingleFileOptions extends LoadDiffusionOptions {
  /**
   * A diffusers folder of the same architecture whose configs, tokenizers and scheduler are used
   * (single files carry weights only), e.g. a local copy of SINGLE_FILE_CONFIG_REPOS[kind].
   */
  config: string;
}

/**
 * Loads an original-layout Stable Diffusion checkpoint (`.safetensors`: SD 1.x, 2.x or SDXL base)
 * with the component configs and tokenizers of the diffusers folder `opts.config`. Throws for an
 * unknown architecture, a config folder of another architecture, or keys that do not map.
 */
export function loadSingleFile(path: string, opts: LoadSingleFileOptions): DiffusionComponents {
  const dtype = checkModelDType(opts.dtype ?? "float32", "loadSingleFile");
  if (!existsSync(path)) throw new Error(`loadSingleFile: ${path}: no such file`);
  if (!path.endsWith(".safetensors")) throw new Error(`loadSingleFile: ${path}: only .safetensors checkpoints are read (convert .ckpt pickles first)`);
  if (!opts?.config || typeof opts.config !== "string" || !existsSync(join(opts.config, "model_index.json")))
    throw new Error(`loadSingleFile: ${path}: pass { config: <diffusers folder> } with the pipeline's configs and tokenizers (e.g. a download of ${Object.values(SINGLE_FILE_CONFIG_REPOS).join(" / ")})`);
  const all = io.loadWeights(path).tensors;
  const kind = detectCheckpointKind(all.keys(), path);
  // Configs and tokenizers from the folder; the folder's weights are not read (the file replaces them).
  const base = readPipelineFolder(opts.config);
  if ((kind === "sdxl") !== (base.kind === "sdxl"))
    throw new Error(`loadSingleFile: ${path} is an ${kind} checkpoint but ${opts.config} is a ${base.pipelineClass} folder`);
  const taken = new Set<string>();
  const unetCfg = base.unet.config;
  const unet = fill(new UNet2DConditionModel(unetCfg),
    sanitizeConvs(mapKeys(under(all, UNET, taken), (k) => unetKey(k, unetCfg.layers_per_block), path, "UNet")), dtype, `${path} (UNet)`);
  const vaePrefix = VAE_PREFIXES.find((p) => [...all.keys()].some((k) => k.startsWith(p)));
  if (!vaePrefix) throw new Error(`${path}: no VAE weights (first_stage_model.*)`);
  const vaeRaw = mapKeys(under(all, vaePrefix, taken), (k) => vaeKeyFull(k, base.vae.config.block_out_channels.length), path, "VAE");
  // The original attention is made of 1x1 convolutions; diffusers' are linear layers.
  for (const [k, v] of vaeRaw) if (k.includes("mid_block.attentions") && v.ndim === 4) vaeRaw.set(k, reshape(v, [v.shape[0], v.shape[1]]));
  const vae = fill(new AutoencoderKL(base.vae.config), sanitizeConvs(vaeRaw), vaeDtypeFor(base.kind, base.vae.config, opts, dtype), `${path} (VAE)`);
  const te1Cfg = base.textEncoder.config;
  let textEncoder: CLIPTextModel;
  let textEncoder2: CLIPTextModelWithProjection | undefined;
  if (kind === "sd1") textEncoder = fill(new CLIPTextModel(te1Cfg), sanitizeClip(under(all, "cond_stage_model.transformer.", taken)), dtype, `${path} (text encoder)`);
  else if (kind === "sd2") textEncoder = fill(new CLIPTextModel(te1Cfg), openClipWeights(under(all, "cond_stage_model.model.", taken), te1Cfg.num_hidden_layers, false), dtype, `${path} (text encoder)`);
  else {
    textEncoder = fill(new CLIPTextModel(te1Cfg), sanitizeClip(under(all, "conditioner.embedders.0.transformer.", taken)), dtype, `${path} (text encoder)`);
    if (!base.textEncoder2) throw new Error(`loadSingleFile: ${opts.config} has no text_encoder_2`);
    const cfg2 = base.textEncoder2.config;
    textEncoder2 = fill(new CLIPTextModelWithProjection(cfg2), openClipWeights(under(all, "conditioner.embedders.1.model.", taken), cfg2.num_hidden_layers, true), dtype, `${path} (text encoder 2)`);
  }
  const left = [...all.keys()].filter((k) => !taken.has(k) && !IGNORED.test(k));
  if (left.length) throw new Error(`loadSingleFile: ${path}: unexpected keys ${left.slice(0, 10).join(", ")}${left.length > 10 ? ` and ${left.length - 10} more` : ""}`);
  return maybeQuantize({
    kind: base.kind, pipelineClass: base.pipelineClass, textEncoder, tokenizer: base.tokenizer, textEncoder2, tokenizer2: base.tokenizer2,
    unet, vae, scheduler: base.scheduler, forceZerosForEmptyPrompt: base.forceZerosForEmptyPrompt, source: path, configDir: opts.config,
  }, opts);
}

/**
 * Loads a diffusers folder, or a single `.safetensors` checkpoint (which needs `opts.config`, a
 * diffusers folder of the same architecture).
 */
export function loadComponents(path: string, opts: LoadDiffusionOptions & { config?: string } = {}): DiffusionComponents {
  if (!existsSync(path)) throw new Error(`loadComponents: ${path}: no such file or folder`);
  if (statSync(path).isDirectory()) return loadDiffusersFolder(path, opts);
  return loadSingleFile(path, { ...opts, config: opts.config ?? "" });
}
