// A low-rank path beside a loaded projection (mlx-lm's LoRALinear / DoRALinear, PEFT's lora.Linear):
// the base layer runs as it is (float, MLX-quantized or ggml blocks) and
// y = base(x) + scale * (x lora_a) lora_b, in float32, cast to the base output's dtype. DoRA
// rescales each output row by m / |W + scale lora_b^T lora_a^T| (the bias outside the rescaling);
// the weights are frozen, so that factor is computed once. fuseAdapter folds the update into a
// float weight instead.
import { Tensor, add, astype, evalSync, io, matmul, multiply, nn, quant, sqrt, square, subtract, sum, divide, expandDims } from "@tessera/core";
import type { DType } from "@tessera/core";
import type { Projection } from "../models/base.js";
import type { AdapterLayer } from "./adapter.js";

/** A layer an adapter can sit on: a loaded projection or another adapted one (stacked adapters). */
export type AdaptableLayer = Projection | LoraLinear;

/** Whether `m` is a layer adapters apply to. */
export function isAdaptable(m: unknown): m is AdaptableLayer {
  return m instanceof nn.Linear || m instanceof nn.QuantizedLinear || m instanceof nn.GgmlLinear || m instanceof LoraLinear;
}

/** [outputDims, inputDims] of a layer. */
export function layerDims(m: AdaptableLayer): [number, number] {
  if (m instanceof LoraLinear) return [m.b.shape[1], m.a.shape[0]];
  if (m instanceof nn.QuantizedLinear) return [m.weight.shape[0], (m.weight.shape[1] * 32) / m.bits];
  if (m instanceof nn.GgmlLinear) {
    const t = io.ggmlType(m.type)!;
    return [m.weight.shape[0], (m.weight.shape[1] / t.typeSize) * t.blockSize];
  }
  return [m.weight.shape[0], m.weight.shape[1]];
}

function baseBias(m: AdaptableLayer): Tensor | undefined {
  return m instanceof LoraLinear ? m.baseBias : m.bias;
}

/** The float dtype a layer computes its output in. */
function outputDType(m: AdaptableLayer): DType {
  if (m instanceof LoraLinear) return outputDType(m.base);
  if (m instanceof nn.QuantizedLinear) return m.scales.dtype;
  if (m instanceof nn.GgmlLinear) return m.bias?.dtype ?? "float32";
  return m.weight.dtype;
}

/** The layer's effective weight [out, in] in float32 (blocks and packed weights expanded, adapters added). */
export function denseWeight(m: AdaptableLayer): Tensor {
  if (m instanceof LoraLinear) {
    const w = add(denseWeight(m.base), multiply(matmul(m.b.T, m.a.T), m.scale));
    return m._rowScale ? multiply(w, expandDims(m._rowScale, 1)) : w;
  }
  if (m instanceof nn.QuantizedLinear)
    return quant.dequantize(m.weight, astype(m.scales, "float32"), astype(m.biases, "float32"), { groupSize: m.groupSize, bits: m.bits });
  if (m instanceof nn.GgmlLinear) return io.dequantize(m.weight, m.type, "float32");
  return astype(m.weight, "float32");
}

/** A projection with one adapter's low-rank update beside it. */
export class LoraLinear extends nn.Module {
  base: AdaptableLayer;
  /** [inputDims, rank] */
  a: Tensor;
  /** [rank, outputDims] */
  b: Tensor;
  readonly scale: number;
  /** DoRA's m / |adapted row| [outputDims] (float32), computed once. */
  _rowScale?: Tensor;

  constructor(base: AdaptableLayer, layer: AdapterLayer) {
    super();
    this.base = base;
    this.a = layer.a;
    this.b = layer.b;
    this.scale = layer.scale;
    if (layer.magnitude) {
      const w = add(denseWeight(base), multiply(matmul(layer.b.T, layer.a.T), layer.scale));
      this._rowScale = divide(layer.magnitude, sqrt(sum(square(w), 1)));
      evalSync(this._rowScale);
    }
    this.freeze();
  }

  /** The bias the base layers add (outside DoRA's rescaling). */
  get baseBias(): Tensor | undefined {
    return baseBias(this.base);
  }

  forward(x: Tensor): Tensor {
    const y = this.base.forward(x);
    const dtype = y.dtype;
    const z = multiply(matmul(matmul(astype(x, "float32"), this.a), this.b), this.scale);
    if (!this._rowScale) return add(y, astype(z, dtype));
    const bias = this.baseBias;
    const noBias = bias ? subtract(astype(y, "float32"), bias) : astype(y, "float32");
    const out = multiply(add(noBias, z), this._rowScale);
    return astype(bias ? add(out, bias) : out, dtype);
  }
}

/**
 * The layer with its adapters folded into one float Linear (the base's float dtype; float32 for
 * ggml blocks). MLX-quantized and ggml bases are expanded, not requantized: requantizing at the
 * base's bit width would round most of a small update away (mlx-lm issue #1172).
 */
export function fuseAdapter(m: LoraLinear): nn.Linear {
  const [out, inputs] = layerDims(m);
  const bias = m.baseBias;
  const dtype = outputDType(m);
  const fused = new nn.Linear(inputs, out, { bias: !!bias, dtype });
  fused.weight = astype(denseWeight(m), dtype);
  if (bias) fused.bias = bias;
  evalSync(...Object.values(fused.namedParameters()));
  return fused;
}
