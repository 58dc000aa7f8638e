// Layers over ggml block-quantized weights (GGUF, whisper.cpp files): the blocks stay as they are in
// the file and matmuls read them directly (quant.ggufMatmul); embedding rows are expanded on lookup.
import { DEQUANTIZABLE, dequantize, ggmlType } from "../io/ggml_types.js";
import { add } from "../ops/elementwise.js";
import { take } from "../ops/layout.js";
import { GGUF_QUANTIZE_TYPES, ggufMatmul, quantizeGgml } from "../quant/gguf.js";
import { zeros } from "../ops/creation.js";
import type { Tensor } from "../tensor.js";
import { Embedding, Linear } from "./layers.js";
import { Module } from "./module.js";
import { withLowRank } from "./low_rank_path.js";
import { replaceLeaves } from "./quantized.js";

function blockType(op: string, type: string, rowElements: number): { name: string; rowBytes: number } {
  const t = ggmlType(type);
  if (!t || !(DEQUANTIZABLE as readonly string[]).includes(t.name))
    throw new Error(`${op}: '${type}' is not a ggml block type this library reads (${DEQUANTIZABLE.join(", ")})`);
  if (!Number.isInteger(rowElements) || rowElements <= 0 || rowElements % t.blockSize !== 0)
    throw new Error(`${op}: rows of ${rowElements} elements are not whole ${t.name} blocks of ${t.blockSize}`);
  return { name: t.name, rowBytes: (rowElements / t.blockSize) * t.typeSize };
}

/** y = x W^T + b with W [outputDims, inputDims] kept as ggml blocks: weight uint8 [outputDims, rowBytes]. */
export class GgmlLinear extends Module {
  weight: Tensor;
  bias?: Tensor;
  /** ggml block type of the weight (Q4_0, Q8_0, Q4_K, ...). */
  readonly type: string;

  constructor(inputDims: number, outputDims: number, type: string, opts: { bias?: boolean; dtype?: "float32" | "float16" } = {}) {
    super();
    const { name, rowBytes } = blockType("GgmlLinear", type, inputDims);
    this.type = name;
    this.weight = zeros([outputDims, rowBytes], "uint8");
    if (opts.bias ?? true) this.bias = zeros([outputDims], opts.dtype ?? "float32");
    this.freeze();
  }

  /** A copy of `linear` with its weight quantized to `type` blocks (its bias kept as is). */
  static fromLinear(linear: Linear, type: (typeof GGUF_QUANTIZE_TYPES)[number] = "Q8_0"): GgmlLinear {
    const [out, inp] = linear.weight.shape;
    const q = new GgmlLinear(inp, out, type, { bias: false });
    q.weight = quantizeGgml(linear.weight, type);
    if (linear.bias) q.bias = linear.bias;
    return q;
  }

  forward(x: Tensor): Tensor {
    const y = ggufMatmul(x, this.weight, this.type);
    return withLowRank(this, x, this.bias ? add(y, this.bias) : y);
  }
}

/** An Embedding whose table is kept as ggml blocks; looked-up rows are expanded to `dtype`. */
export class GgmlEmbedding extends Module {
  weight: Tensor;
  readonly type: string;
  readonly dtype: "float32" | "float16";

  constructor(numEmbeddings: number, dims: number, type: string, opts: { dtype?: "float32" | "float16" } = {}) {
    super();
    const { name, rowBytes } = blockType("GgmlEmbedding", type, dims);
    this.type = name;
    this.dtype = opts.dtype ?? "float32";
    this.weight = zeros([numEmbeddings, rowBytes], "uint8");
    this.freeze();
  }

  /** A copy of `embedding` with its table quantized to `type` blocks; rows expand to its dtype (float16 stays float16). */
  static fromEmbedding(embedding: Embedding, type: (typeof GGUF_QUANTIZE_TYPES)[number] = "Q8_0"): GgmlEmbedding {
    const [n, dims] = embedding.weight.shape;
    const q = new GgmlEmbedding(n, dims, type, { dtype: embedding.weight.dtype === "float16" ? "float16" : "float32" });
    q.weight = quantizeGgml(embedding.weight, type);
    return q;
  }

  /** Rows for integer ids of any shape: [...ids.shape, dims]. */
  forward(ids: Tensor): Tensor {
    return dequantize(take(this.weight, ids, 0), this.type, this.dtype);
  }

  /** x [..., dims] times the table transposed: [..., numEmbeddings] (a tied output projection). */
  asLinear(x: Tensor): Tensor {
    return ggufMatmul(x, this.weight, this.type);
  }
}

/**
 * Swaps the Linear and Embedding leaves of `model` whose weight a checkpoint stores as ggml blocks
 * for GgmlLinear / GgmlEmbedding, in place, so the blocks load straight in. `types` maps module
 * paths ("decoder.blocks.0.mlp1") to block type names; `dtype` is what embedding rows expand to.
 */
export function useGgmlWeights<M extends Module>(model: M, types: ReadonlyMap<string, string>, dtype: "float32" | "float16" = "float32"): M {
  const seen = new Set<string>();
  replaceLeaves(model, "", (path, m) => {
    const type = types.get(path);
    if (type === undefined) return undefined;
    seen.add(path);
    if (m instanceof Linear) {
      const [out, inp] = m.weight.shape;
      return new GgmlLinear(inp, out, type, { bias: m.bias !== undefined, dtype });
    }
    if (m instanceof Embedding) {
      const [n, dims] = m.weight.shape;
      return new GgmlEmbedding(n, dims, type, { dtype });
    }
    throw new Error(`useGgmlWeights: '${path}' (${m.constructor.name}) cannot hold ggml blocks; only Linear and Embedding layers can`);
  });
  const missing = [...types.keys()].filter((p) => !seen.has(p));
  if (missing.length) throw new Error(`useGgmlWeights: the model has no Linear or Embedding layer named ${missing.map((p) => `'${p}'`).join(", ")}`);
  return model;
}

export interface QuantizeGgmlModelOptions {
  /** Block type to write (default Q8_0). */
  type?: (typeof GGUF_QUANTIZE_TYPES)[number];
  /** Which Linear / Embedding leaves to quantize (default: every one whose feature size is a multiple of 32). */
  predicate?: (path: string, module: Linear | Embedding) => boolean;
}

/**
 * Replaces the Linear and Embedding leaves of `model` with GgmlLinear / GgmlEmbedding holding their
 * weights quantized to ggml blocks (Q8_0: int8 values with a float16 scale per 32), in place, so the
 * matmuls take the int8 dot-product kernels of {@link ggufMatmul}. Returns the model.
 */
export function quantizeGgmlModel<M extends Module>(model: M, opts: QuantizeGgmlModelOptions = {}): M {
  const type = opts.type ?? "Q8_0";
  if (!(GGUF_QUANTIZE_TYPES as readonly string[]).includes(type))
    throw new Error(`quantizeGgmlModel: type must be one of ${GGUF_QUANTIZE_TYPES.join(", ")}, got ${String(type)}`);
  const predicate = opts.predicate ?? ((_: string, m: Linear | Embedding) => m.weight.shape[m.weight.ndim - 1] % 32 === 0);
  replaceLeaves(model, "", (path, m) => {
    if (!(m instanceof Linear || m instanceof Embedding) || !predicate(path, m)) return undefined;
    return m instanceof Linear ? GgmlLinear.fromLinear(m, type) : GgmlEmbedding.fromEmbedding(m, type);
  });
  return model;
}
