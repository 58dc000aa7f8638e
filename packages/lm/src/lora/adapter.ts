// Reading a LoRA / DoRA adapter folder into one layout, whichever trainer wrote it:
// - mlx-lm (tuner/utils.py load_adapters): adapter_config.json { fine_tune_type, num_layers (older:
//   lora_layers), lora_parameters { rank, scale, keys? } } + adapters.safetensors with
//   <module>.lora_a [in, r], <module>.lora_b [r, out] and DoRA's <module>.m [out];
// - PEFT (save_pretrained): adapter_config.json { peft_type "LORA", r, lora_alpha, use_rslora,
//   use_dora, rank_pattern, alpha_pattern } + adapter_model.safetensors with
//   base_model.model.<module>.lora_A.weight [r, in], .lora_B.weight [out, r] and
//   .lora_magnitude_vector [out].
// Module paths are the checkpoint's (model.layers.N.self_attn.q_proj), as this package names them.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Tensor, astype, io, transpose } from "@tessera/core";

/** One adapted layer: y = W x + scale * lora_b^T (lora_a^T x), DoRA-rescaled when `magnitude` is set. */
export interface AdapterLayer {
  /** [inputDims, rank], float32 (mlx-lm's lora_a). */
  a: Tensor;
  /** [rank, outputDims], float32 (mlx-lm's lora_b). */
  b: Tensor;
  scale: number;
  /** DoRA's learned row norms [outputDims] (float32). */
  magnitude?: Tensor;
}

export interface Adapter {
  /** The folder, for error messages. */
  source: string;
  format: "mlx-lm" | "peft";
  /** The base model the adapter config names, if it does (PEFT's base_model_name_or_path, mlx-lm's model). */
  baseModel?: string;
  /** mlx-lm's num_layers: the adapter covers the model's last num_layers blocks. */
  numLayers?: number;
  /** Module path -> its low-rank update. */
  layers: Map<string, AdapterLayer>;
}

type Json = Record<string, unknown>;

function readConfig(folder: string): Json {
  const path = join(folder, "adapter_config.json");
  if (!existsSync(path)) throw new Error(`adapter ${folder}: no adapter_config.json (expected an mlx-lm or PEFT adapter folder)`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`adapter ${path}: cannot read JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error(`adapter ${path}: expected a JSON object`);
  return v as Json;
}

function positive(source: string, key: string, v: unknown, integer = false): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw new Error(`adapter ${source}: adapter_config.json's ${key} must be a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(v)}`);
  return v;
}

function loadTensors(path: string): Map<string, Tensor> {
  try {
    return io.loadSafetensors(path).tensors;
  } catch (e) {
    throw new Error(`adapter ${path}: ${(e as Error).message}`);
  }
}

const f32 = (t: Tensor): Tensor => (t.dtype === "float32" ? t : astype(t, "float32"));

// Groups `<module>.<suffix>` keys by module; throws naming keys that fit no suffix.
function byModule(source: string, tensors: Map<string, Tensor>, suffixes: Record<string, string>, strip = ""): Map<string, Record<string, Tensor>> {
  const out = new Map<string, Record<string, Tensor>>();
  const bad: string[] = [];
  for (const [key, t] of tensors) {
    const k = strip && key.startsWith(strip) ? key.slice(strip.length) : key;
    const suffix = Object.keys(suffixes).find((s) => k.endsWith(`.${s}`));
    if (!suffix) {
      bad.push(key);
      continue;
    }
    const path = k.slice(0, -suffix.length - 1);
    const entry = out.get(path) ?? {};
    entry[suffixes[suffix]] = t;
    out.set(path, entry);
  }
  if (bad.length)
    throw new Error(`adapter ${source}: tensors that are not LoRA weights (${Object.keys(suffixes).join(", ")}): ${bad.slice(0, 5).join(", ")}${bad.length > 5 ? ` and ${bad.length - 5} more` : ""}`);
  return out;
}

function checkPair(source: string, path: string, a: Tensor | undefined, b: Tensor | undefined, names: [string, string]): void {
  if (!a || !b) throw new Error(`adapter ${source}: ${path} has ${a ? names[0] : names[1]} but no ${a ? names[1] : names[0]}`);
  if (a.ndim !== 2 || b.ndim !== 2) throw new Error(`adapter ${source}: ${path}: ${names[0]} and ${names[1]} must be matrices, got [${a.shape.join(", ")}] and [${b.shape.join(", ")}]`);
}

function readMlx(folder: string, cfg: Json): Adapter {
  const source = folder;
  const type = cfg.fine_tune_type ?? "lora";
  if (type !== "lora" && type !== "dora")
    throw new Error(`adapter ${source}: fine_tune_type ${JSON.stringify(type)} is not an adapter (lora or dora); a "full" fine-tune is a model: load its fused weights`);
  const params = (cfg.lora_parameters ?? {}) as Json;
  const rank = positive(source, "lora_parameters.rank", params.rank ?? 8, true);
  const scale = typeof params.scale === "number" ? params.scale : 20;
  const numLayersRaw = cfg.num_layers ?? cfg.lora_layers;
  const numLayers = numLayersRaw === undefined ? undefined : positive(source, "num_layers", numLayersRaw, true);
  const grouped = byModule(source, loadTensors(join(folder, "adapters.safetensors")), { lora_a: "a", lora_b: "b", m: "m" });
  const layers = new Map<string, AdapterLayer>();
  for (const [path, t] of grouped) {
    checkPair(source, path, t.a, t.b, ["lora_a", "lora_b"]);
    if (t.a.shape[1] !== rank || t.b.shape[0] !== rank)
      throw new Error(`adapter ${source}: ${path}: lora_a [${t.a.shape.join(", ")}] and lora_b [${t.b.shape.join(", ")}] do not have lora_parameters.rank ${rank}`);
    if (type === "dora" && !t.m) throw new Error(`adapter ${source}: ${path}: a DoRA adapter needs ${path}.m`);
    if (type === "lora" && t.m) throw new Error(`adapter ${source}: ${path}.m is a DoRA magnitude but fine_tune_type is "lora"`);
    layers.set(path, { a: f32(t.a), b: f32(t.b), scale, magnitude: t.m && f32(t.m) });
  }
  return { source, format: "mlx-lm", baseModel: typeof cfg.model === "string" ? cfg.model : undefined, numLayers, layers };
}

// PEFT's rank_pattern / alpha_pattern: the first key that matches the module name's end.
function patternValue(pattern: unknown, path: string): number | undefined {
  if (!pattern || typeof pattern !== "object") return undefined;
  for (const [k, v] of Object.entries(pattern as Json)) {
    if (typeof v !== "number") continue;
    if (new RegExp(`(.*\\.)?(${k})$`).test(path)) return v;
  }
  return undefined;
}

function readPeft(folder: string, cfg: Json): Adapter {
  const source = folder;
  if (cfg.peft_type !== "LORA") throw new Error(`adapter ${source}: peft_type ${JSON.stringify(cfg.peft_type)} is not supported (only LORA, with or without use_dora)`);
  if (cfg.fan_in_fan_out) throw new Error(`adapter ${source}: fan_in_fan_out adapters (GPT-2 Conv1D layers) are not supported`);
  if (cfg.lora_bias) throw new Error(`adapter ${source}: lora_bias adapters are not supported`);
  const r = positive(source, "r", cfg.r, true);
  const alpha = positive(source, "lora_alpha", cfg.lora_alpha ?? 8);
  const file = ["adapter_model.safetensors"].map((f) => join(folder, f)).find(existsSync);
  if (!file) throw new Error(`adapter ${source}: no adapter_model.safetensors${existsSync(join(folder, "adapter_model.bin")) ? " (adapter_model.bin is not read: save it with safe_serialization)" : ""}`);
  const grouped = byModule(source, loadTensors(file), {
    "lora_A.weight": "a", "lora_B.weight": "b", lora_magnitude_vector: "m", "lora_magnitude_vector.weight": "m",
  }, "base_model.model.");
  const layers = new Map<string, AdapterLayer>();
  for (const [path, t] of grouped) {
    checkPair(source, path, t.a, t.b, ["lora_A", "lora_B"]);
    const rank = patternValue(cfg.rank_pattern, path) ?? r;
    if (t.a.shape[0] !== rank || t.b.shape[1] !== rank)
      throw new Error(`adapter ${source}: ${path}: lora_A [${t.a.shape.join(", ")}] and lora_B [${t.b.shape.join(", ")}] do not have the configured rank ${rank}`);
    const a = patternValue(cfg.alpha_pattern, path) ?? alpha;
    const scale = cfg.use_rslora ? a / Math.sqrt(rank) : a / rank;
    if (!!t.m !== !!cfg.use_dora)
      throw new Error(`adapter ${source}: ${path}: ${t.m ? "a DoRA magnitude but use_dora is not set" : "use_dora is set but there is no lora_magnitude_vector"}`);
    layers.set(path, { a: f32(transpose(t.a)), b: f32(transpose(t.b)), scale, magnitude: t.m && f32(t.m) });
  }
  const base = cfg.base_model_name_or_path;
  return { source, format: "peft", baseModel: typeof base === "string" ? base : undefined, layers };
}

/**
 * Reads an adapter folder (mlx-lm's adapters.safetensors or PEFT's adapter_model.safetensors, each
 * with its adapter_config.json). Throws naming the folder and what is wrong: no config, an adapter
 * type other than LoRA / DoRA, tensors that are not LoRA weights, ranks that contradict the config.
 */
export function readAdapter(folder: string): Adapter {
  if (typeof folder !== "string" || !existsSync(folder)) throw new Error(`adapter ${String(folder)}: no such folder`);
  if (!statSync(folder).isDirectory()) throw new Error(`adapter ${folder}: expected a folder with adapter_config.json`);
  const cfg = readConfig(folder);
  const adapter = existsSync(join(folder, "adapters.safetensors")) ? readMlx(folder, cfg) : readPeft(folder, cfg);
  if (adapter.layers.size === 0) throw new Error(`adapter ${folder}: holds no LoRA weights`);
  return adapter;
}
