// Quantization at load, as mlx-examples' stable_diffusion does with --quantize: the text encoders'
// Linear layers in 4 bits (groups of 64), the UNet's in 8 bits (groups of 32); embeddings,
// convolutions, norms and the VAE stay in float. Weights stay packed (nn.QuantizedLinear).
import { nn } from "@tessera/core";
import type { DiffusionComponents } from "./load.js";

/** Bits and group size for the text encoders and the UNet. */
export interface DiffusionQuantization {
  textEncoder: { bits: number; groupSize: number };
  unet: { bits: number; groupSize: number };
}

/** mlx-examples' choice (stable_diffusion/txt2image.py --quantize). */
export const MLX_EXAMPLES_QUANTIZATION: DiffusionQuantization = {
  textEncoder: { bits: 4, groupSize: 64 },
  unet: { bits: 8, groupSize: 32 },
};

// Linear layers whose input width splits into whole groups; others stay in float.
const linears = (groupSize: number): nn.QuantizePredicate => (_, m) => m instanceof nn.Linear && m.weight.shape[1] % groupSize === 0;

/**
 * Quantizes the text encoders and the UNet in place (Linear layers only) and returns the
 * components. Layers already quantized are left alone.
 */
export function quantizeComponents(c: DiffusionComponents, q: DiffusionQuantization = MLX_EXAMPLES_QUANTIZATION): DiffusionComponents {
  const te = q.textEncoder;
  for (const enc of [c.textEncoder, c.textEncoder2]) if (enc) nn.quantize(enc, { ...te, predicate: linears(te.groupSize) });
  nn.quantize(c.unet, { ...q.unet, predicate: linears(q.unet.groupSize) });
  return c;
}
