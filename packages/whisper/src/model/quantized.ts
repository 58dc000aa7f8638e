// MLX-quantized Whisper checkpoints (mlx-examples convert.py -q: nn.quantize over every Linear and
// the token Embedding): each quantized layer has `weight` (uint32, packed), `scales` and `biases`.
// load.ts keeps them packed (core's nn.quantizeFromConfig swaps in nn.QuantizedLinear /
// nn.QuantizedEmbedding, any of core's bit widths). dequantizeAffine / dequantizeMlxWeights remain
// as utilities to expand them to float weights with MLX's affine scheme (w = q * scale + bias per
// group), for the bit widths that pack whole values into 32-bit words (2, 4, 8).
import {
  Tensor, add, astype, floorDivide, multiply, remainder, reshape, tensor,
} from "@tessera/core";
import type { WeightMap } from "./sanitize.js";

export interface MlxQuantization {
  bits: number;
  groupSize: number;
}

/** The `quantization` entry of an mlx-community config.json, if any. */
export function readMlxQuantization(config: Record<string, unknown>, source: string): MlxQuantization | undefined {
  const q = (config.quantization ?? config.quantization_config) as Record<string, unknown> | undefined;
  if (q === undefined) return undefined;
  const bits = q.bits, groupSize = q.group_size;
  if (!Number.isInteger(bits) || !Number.isInteger(groupSize) || ![2, 3, 4, 5, 6, 8].includes(bits as number) || ![32, 64, 128].includes(groupSize as number))
    throw new Error(`${source}: quantization must have bits in 2, 3, 4, 5, 6, 8 and group_size in 32, 64, 128, got ${JSON.stringify(q)}`);
  return { bits: bits as number, groupSize: groupSize as number };
}

/** MLX's dequantize of packed uint32 w [rows, cols * bits / 32] with scales/biases [rows, cols / groupSize]. */
export function dequantizeAffine(w: Tensor, scales: Tensor, biases: Tensor, q: MlxQuantization): Tensor {
  const perWord = 32 / q.bits;
  if (!Number.isInteger(perWord)) throw new Error(`MLX ${q.bits}-bit weights are not supported yet (needs core's quantized layers)`);
  const [rows, packed] = w.shape;
  const cols = packed * perWord;
  const groups = cols / q.groupSize;
  if (w.ndim !== 2 || scales.ndim !== 2 || biases.ndim !== 2) throw new Error(`quantized weights must be 2-D, got [${w.shape.join(", ")}]`);
  if (w.dtype !== "uint32" || scales.shape[0] !== rows || scales.shape[1] !== groups || biases.shape[1] !== groups)
    throw new Error(`quantized weight [${w.shape.join(", ")}] (${w.dtype}) does not match scales [${scales.shape.join(", ")}] for ${q.bits} bits, groups of ${q.groupSize}`);
  // Value j of a word sits in bits [bits * j, bits * (j + 1)), lowest first.
  const shifts = tensor(Array.from({ length: perWord }, (_, j) => 2 ** (q.bits * j)), { dtype: "uint32" });
  const values = remainder(floorDivide(reshape(w, [rows, packed, 1]), shifts), 2 ** q.bits);
  // In the scales' dtype, rounding after the product and after the sum, as MLX does (bit-exact).
  const grouped = reshape(astype(values, scales.dtype), [rows, groups, q.groupSize]);
  const s = reshape(scales, [rows, groups, 1]);
  const b = reshape(biases, [rows, groups, 1]);
  return reshape(add(multiply(grouped, s), b), [rows, cols]);
}

/** Expands every `x.weight` that has `x.scales` / `x.biases` beside it to a float weight. */
export function dequantizeMlxWeights(weights: WeightMap, q: MlxQuantization, file: string): WeightMap {
  const out: WeightMap = new Map();
  for (const [name, w] of weights) {
    if (name.endsWith(".scales") || name.endsWith(".biases")) continue;
    const base = name.endsWith(".weight") ? name.slice(0, -".weight".length) : undefined;
    const scales = base && weights.get(`${base}.scales`);
    if (!scales) {
      out.set(name, w);
      continue;
    }
    const biases = weights.get(`${base}.biases`);
    if (!biases) throw new Error(`loadWhisperModel: ${file}: '${base}.scales' has no '${base}.biases' beside it`);
    try {
      out.set(name, dequantizeAffine(w, scales, biases, q));
    } catch (e) {
      throw new Error(`loadWhisperModel: ${file}: '${name}': ${(e as Error).message}`);
    }
  }
  // Scales without their weight are unexpected keys: keep them so loading names them.
  for (const [name, t] of weights)
    if ((name.endsWith(".scales") || name.endsWith(".biases")) && !weights.has(name.replace(/\.(scales|biases)$/, ".weight"))) out.set(name, t);
  return out;
}
