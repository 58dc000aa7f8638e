// saveDiffusion: loaded components (quantized ones included) written back as a diffusers folder.
// Quantized components keep their packed weights, scales and biases under the layer's names (as
// mlx's quantized checkpoints) and carry MLX's `quantization` block in their config.json, so
// loadDiffusion reads them back without re-quantizing and computes bit-for-bit the same.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { io, nn, transpose } from "@tessera/core";
import type { Tensor } from "@tessera/core";
import type { DiffusionComponents } from "./load.js";

/** Folders and files of the config folder copied as they are (tokenizers, scheduler, the pipeline index). */
const COPIED = ["model_index.json", "scheduler", "tokenizer", "tokenizer_2"];

/** Our channels-last conv weights back to PyTorch's [O, I, kh, kw] (loading transposes them again). */
function diffusersLayout(m: nn.Module): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of Object.entries(m.namedParameters())) out.set(k, v.ndim === 4 ? transpose(v, [0, 3, 1, 2]) : v);
  return out;
}

/** MLX's quantization block for a module: the bits / group size of its quantized layers (one setting per component). */
function quantizationOf(m: nn.Module, where: string): { group_size: number; bits: number } | undefined {
  const q = m.modules().filter((x): x is nn.QuantizedLinear => x instanceof nn.QuantizedLinear);
  if (!q.length) return undefined;
  const { groupSize, bits } = q[0];
  if (q.some((x) => x.groupSize !== groupSize || x.bits !== bits))
    throw new Error(`saveDiffusion: ${where} mixes quantization settings; one bits / group size per component can be saved`);
  return { group_size: groupSize, bits };
}

/**
 * Writes `c` as a diffusers folder at `dir` (which must not exist, or be empty): model_index.json,
 * scheduler and tokenizers copied from the folder it was loaded with, each component's config.json
 * (with `quantization` when quantized) and safetensors. Written to a sibling temporary folder and
 * renamed, so a failure leaves no half-written model.
 */
export async function saveDiffusion(c: DiffusionComponents, dir: string): Promise<void> {
  if (typeof dir !== "string" || !dir) throw new Error("saveDiffusion: dir must be a folder path");
  if (existsSync(dir) && readdirSync(dir).length) throw new Error(`saveDiffusion: ${dir} exists and is not empty`);
  if (!existsSync(dirname(dir) || ".")) throw new Error(`saveDiffusion: the folder ${dirname(dir)} does not exist`);
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp);
    for (const name of COPIED) {
      const src = join(c.configDir, name);
      if (existsSync(src)) cpSync(src, join(tmp, name), { recursive: true, dereference: true });
    }
    const parts: [string, nn.Module | undefined, string][] = [
      ["text_encoder", c.textEncoder, "model.safetensors"], ["text_encoder_2", c.textEncoder2, "model.safetensors"],
      ["unet", c.unet, "diffusion_pytorch_model.safetensors"], ["vae", c.vae, "diffusion_pytorch_model.safetensors"],
    ];
    for (const [name, m, file] of parts) {
      if (!m) continue;
      mkdirSync(join(tmp, name));
      const config = JSON.parse(readFileSync(join(c.configDir, name, "config.json"), "utf8")) as Record<string, unknown>;
      delete config.quantization;
      const q = quantizationOf(m, name);
      if (q) config.quantization = q;
      writeFileSync(join(tmp, name, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
      await io.saveSafetensors(join(tmp, name, file), diffusersLayout(m), { format: "pt" });
    }
    if (existsSync(dir)) rmSync(dir, { recursive: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
