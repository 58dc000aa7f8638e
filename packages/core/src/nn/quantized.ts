// Quantized layers as MLX's nn.QuantizedLinear / nn.QuantizedEmbedding (checkpoint keys weight,
// scales, biases [, bias]), nn.quantize, and quantizing a model as an mlx-community config.json says.
import type { DType } from "../dtype.js";
import { zeros } from "../ops/creation.js";
import { add } from "../ops/elementwise.js";
import { take } from "../ops/layout.js";
import { dequantize, quantize as quantizeWeight, quantizedMatmul, quantParams } from "../quant/affine.js";
import type { QuantizeOptions } from "../quant/affine.js";
import { quantizationFor, readQuantizationConfig } from "../quant/config.js";
import type { Tensor } from "../tensor.js";
import { Embedding, Linear } from "./layers.js";
import { withLowRank } from "./low_rank_path.js";
import { Module } from "./module.js";

export interface QuantizedLayerOptions extends QuantizeOptions {
  /** dtype of scales and biases (and bias) before weights are loaded (default float32). */
  dtype?: DType;
}

function checkDims(op: string, dims: Record<string, number>, groupSize: number, featureKey: string): void {
  for (const [k, v] of Object.entries(dims))
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${op}: ${k} must be a positive integer, got ${String(v)}`);
  if (dims[featureKey] % groupSize !== 0)
    throw new Error(`${op}: ${featureKey} (${dims[featureKey]}) must be a multiple of groupSize (${groupSize})`);
}

/**
 * y = x W^T + b with W stored quantized: weight uint32 [outputDims, inputDims * bits / 32], scales and
 * biases [outputDims, inputDims / groupSize] (MLX's layout). Parameters are zeros until loaded.
 */
export class QuantizedLinear extends Module {
  weight: Tensor;
  scales: Tensor;
  biases: Tensor;
  bias?: Tensor;
  readonly groupSize: number;
  readonly bits: number;

  constructor(inputDims: number, outputDims: number, opts: QuantizedLayerOptions & { bias?: boolean } = {}) {
    super();
    const { groupSize, bits } = quantParams("QuantizedLinear", opts);
    checkDims("QuantizedLinear", { inputDims, outputDims }, groupSize, "inputDims");
    this.groupSize = groupSize;
    this.bits = bits;
    const dtype = opts.dtype ?? "float32";
    this.weight = zeros([outputDims, (inputDims * bits) / 32], "uint32");
    this.scales = zeros([outputDims, inputDims / groupSize], dtype);
    this.biases = zeros([outputDims, inputDims / groupSize], dtype);
    if (opts.bias ?? true) this.bias = zeros([outputDims], dtype);
    this.freeze();
  }

  /** A quantized copy of `linear` (its bias kept as is). */
  static fromLinear(linear: Linear, opts: QuantizeOptions = {}): QuantizedLinear {
    const [outputDims, inputDims] = linear.weight.shape;
    const q = new QuantizedLinear(inputDims, outputDims, { ...opts, bias: false, dtype: linear.weight.dtype });
    Object.assign(q, quantizeWeight(linear.weight, { groupSize: q.groupSize, bits: q.bits }));
    if (linear.bias) q.bias = linear.bias;
    return q;
  }

  forward(x: Tensor): Tensor {
    const y = quantizedMatmul(x, this.weight, this.scales, this.biases, { groupSize: this.groupSize, bits: this.bits });
    return withLowRank(this, x, this.bias ? add(y, this.bias) : y);
  }
}

/** An Embedding whose table [numEmbeddings, dims] is stored quantized; rows are dequantized on lookup. */
export class QuantizedEmbedding extends Module {
  weight: Tensor;
  scales: Tensor;
  biases: Tensor;
  readonly numEmbeddings: number;
  readonly dims: number;
  readonly groupSize: number;
  readonly bits: number;

  constructor(numEmbeddings: number, dims: number, opts: QuantizedLayerOptions = {}) {
    super();
    const { groupSize, bits } = quantParams("QuantizedEmbedding", opts);
    checkDims("QuantizedEmbedding", { numEmbeddings, dims }, groupSize, "dims");
    this.numEmbeddings = numEmbeddings;
    this.dims = dims;
    this.groupSize = groupSize;
    this.bits = bits;
    const dtype = opts.dtype ?? "float32";
    this.weight = zeros([numEmbeddings, (dims * bits) / 32], "uint32");
    this.scales = zeros([numEmbeddings, dims / groupSize], dtype);
    this.biases = zeros([numEmbeddings, dims / groupSize], dtype);
    this.freeze();
  }

  /** A quantized copy of `embedding`. */
  static fromEmbedding(embedding: Embedding, opts: QuantizeOptions = {}): QuantizedEmbedding {
    const [n, dims] = embedding.weight.shape;
    const q = new QuantizedEmbedding(n, dims, { ...opts, dtype: embedding.weight.dtype });
    Object.assign(q, quantizeWeight(embedding.weight, { groupSize: q.groupSize, bits: q.bits }));
    return q;
  }

  /** Rows for integer ids of any shape: [...ids.shape, dims] in the scales' dtype. */
  forward(ids: Tensor): Tensor {
    const opts = { groupSize: this.groupSize, bits: this.bits };
    return dequantize(take(this.weight, ids, 0), take(this.scales, ids, 0), take(this.biases, ids, 0), opts);
  }

  /** x [..., dims] times the table transposed: [..., numEmbeddings] (a tied output projection). */
  asLinear(x: Tensor): Tensor {
    return quantizedMatmul(x, this.weight, this.scales, this.biases, { groupSize: this.groupSize, bits: this.bits });
  }
}

/** Says whether (true, or the options to use) the leaf module at `path` is quantized. */
export type QuantizePredicate = (path: string, module: Module) => boolean | QuantizeOptions;

export interface QuantizeModelOptions extends QuantizeOptions {
  /**
   * Which leaf modules to quantize. Default: every Linear and Embedding whose feature size is a
   * multiple of groupSize. Returning true for a module that is neither is an error.
   */
  predicate?: QuantizePredicate;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;

// Calls swap(path, leaf) for each leaf module below m; a returned module replaces the leaf in place.
export function replaceLeaves(m: Module, prefix: string, swap: (path: string, leaf: Module) => Module | undefined): void {
  const visit = (value: unknown, path: string, set: (v: Module) => void): void => {
    if (value instanceof Module) {
      if (value.children().length === 0) {
        const r = swap(path, value);
        if (r) set(r);
      } else {
        replaceLeaves(value, path, swap);
      }
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, `${path}.${i}`, (r) => { value[i] = r; }));
    } else if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) visit(v, `${path}.${k}`, (r) => { value[k] = r; });
    }
  };
  const self = m as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(m))
    if (!key.startsWith("_")) visit(value, prefix ? `${prefix}.${key}` : key, (r) => { self[key] = r; });
}

/**
 * Replaces Linear and Embedding leaves of `model` with their quantized versions, in place, as MLX's
 * `nn.quantize(model, group_size, bits, class_predicate)`. Returns the model.
 */
export function quantize<M extends Module>(model: M, opts: QuantizeModelOptions = {}): M {
  const defaults = quantParams("nn.quantize", opts);
  const predicate: QuantizePredicate =
    opts.predicate ??
    ((_, m) => (m instanceof Linear || m instanceof Embedding) && m.weight.shape[m.weight.ndim - 1] % defaults.groupSize === 0);
  replaceLeaves(model, "", (path, m) => {
    if (m instanceof QuantizedLinear || m instanceof QuantizedEmbedding) return undefined;
    const r = predicate(path, m);
    if (r === false) return undefined;
    if (r !== true && (r === null || typeof r !== "object"))
      throw new Error(`nn.quantize: the predicate must return a boolean or { groupSize, bits }, got ${String(r)} for '${path}'`);
    const params = r === true ? defaults : quantParams(`nn.quantize: '${path}'`, { ...defaults, ...r });
    if (m instanceof Linear) return QuantizedLinear.fromLinear(m, params);
    if (m instanceof Embedding) return QuantizedEmbedding.fromEmbedding(m, params);
    throw new Error(`nn.quantize: cannot quantize '${path}' (${m.constructor.name}); only Linear and Embedding layers can be`);
  });
  return model;
}

/**
 * Quantizes `model` the way an mlx-community checkpoint was saved, so its weights load straight in:
 * reads config.json's `quantization` block (defaults, per-module `{ group_size, bits }`, `false`
 * for modules left in float) and, when the checkpoint's tensor names are given, quantizes only
 * the Linear/Embedding modules whose `<path>.scales` it holds (as mlx-lm does for older checkpoints).
 * Returns false (model untouched) when the config has no quantization block.
 */
export function quantizeFromConfig(model: Module, config: unknown, weightNames?: Iterable<string>): boolean {
  const cfg = readQuantizationConfig(config);
  if (!cfg) return false;
  const names = weightNames ? new Set(weightNames) : undefined;
  quantize(model, {
    groupSize: cfg.groupSize,
    bits: cfg.bits,
    predicate: (path, m) => {
      if (!(path in cfg.layers) && !(m instanceof Linear || m instanceof Embedding)) return false;
      const q = quantizationFor(cfg, path, names ? names.has(`${path}.scales`) : undefined);
      return q === false ? false : q;
    },
  });
  return true;
}
