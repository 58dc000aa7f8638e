// The `quantization` block of an mlx-community config.json, and what it says for each module.
import { quantParams } from "./affine.js";

/** How one module is quantized. */
export interface LayerQuantization {
  groupSize: number;
  bits: number;
}

/** A parsed `quantization` block: the defaults plus per-module overrides (`false`: left in float). */
export interface QuantizationConfig extends LayerQuantization {
  mode: "affine";
  layers: Record<string, LayerQuantization | false>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function parseEntry(where: string, v: Record<string, unknown>, dflt?: LayerQuantization): LayerQuantization {
  const mode = v.mode ?? "affine";
  if (mode !== "affine") throw new Error(`${where}: quantization mode '${String(mode)}' is not supported (only "affine")`);
  const groupSize = v.group_size ?? dflt?.groupSize;
  const bits = v.bits ?? dflt?.bits;
  if (typeof groupSize !== "number" || typeof bits !== "number")
    throw new Error(`${where}: needs numeric "group_size" and "bits", got ${JSON.stringify({ group_size: v.group_size, bits: v.bits })}`);
  return quantParams(where, { groupSize, bits });
}

/**
 * Reads the quantization block of a parsed config.json (`quantization`, or `quantization_config` as
 * mlx-lm also writes it): `{ group_size, bits, mode?, "<module path>": { group_size, bits } | false }`.
 * Returns undefined when the config has none; throws naming the key for unsupported values.
 */
export function readQuantizationConfig(config: unknown): QuantizationConfig | undefined {
  if (!isObject(config)) throw new Error("readQuantizationConfig: config must be an object (a parsed config.json)");
  const key = "quantization" in config ? "quantization" : "quantization_config" in config ? "quantization_config" : undefined;
  if (key === undefined || config[key] === null) return undefined;
  const block = config[key];
  if (!isObject(block)) throw new Error(`config.json "${key}" must be an object, got ${JSON.stringify(block)}`);
  const base = parseEntry(`config.json "${key}"`, block);
  const layers: Record<string, LayerQuantization | false> = {};
  for (const [path, v] of Object.entries(block)) {
    if (path === "group_size" || path === "bits" || path === "mode") continue;
    if (v === false) layers[path] = false;
    else if (v === true) layers[path] = { ...base };
    else if (isObject(v)) layers[path] = parseEntry(`config.json "${key}" entry "${path}"`, v, base);
    // Other keys (e.g. "quant_method" in HF-style blocks) say nothing about a module.
  }
  return { ...base, mode: "affine", layers };
}

/**
 * How the module at dotted `path` is quantized under `cfg`, as mlx-lm decides it: a per-module entry
 * wins (`false` means float); otherwise, when `hasScales` is given (does the checkpoint hold
 * `<path>.scales`?), only modules with scales are quantized (older checkpoints left some layers
 * in float); otherwise the defaults apply.
 */
export function quantizationFor(cfg: QuantizationConfig, path: string, hasScales?: boolean): LayerQuantization | false {
  if (path in cfg.layers) return cfg.layers[path];
  if (hasScales === false) return false;
  return { groupSize: cfg.groupSize, bits: cfg.bits };
}
