// Gemma 3 (text), as mlx-lm's models/gemma3_text.py and transformers' modeling_gemma3.py: local
// (sliding-window) and global layers with their own rope bases, RMSNorms that scale by (1 + weight)
// in float32, q/k norms per head, query_pre_attn_scalar, norms before and after attention and MLP,
// embeddings times sqrt(hidden), GELU (tanh) MLP, logits from the tied token table. gemma2.ts reuses
// these blocks (no q/k norms, soft-capped logits), gemma.ts too (Llama's two norms per block).
import { Tensor, add, astype, divide, fast, multiply, nn, scalar, tanh, zeros } from "@tessera/core";
import { fuseProjections, qkvHeads } from "./fuse.js";
import type { DType } from "@tessera/core";
import type { KVCacheOptions, LayerCache } from "../cache.js";
import {
  ConfigReader, applyRope, attend, embeddingDType, lastPosition, mergeHeads, residual, ropeConfig,
} from "./base.js";
import type { Config, ForwardOptions, LanguageModel, LayerType, Projection, RopeConfig, TokenEmbedding } from "./base.js";
import { MLP as LlamaMLP, checkInputs, layerCaches } from "./llama.js";
import { StepCompiler } from "./step.js";

export interface GemmaArgs {
  modelType: string;
  hiddenSize: number;
  numHiddenLayers: number;
  intermediateSize: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  rmsNormEps: number;
  vocabSize: number;
  maxPositionEmbeddings?: number;
  queryPreAttnScalar: number;
  layerTypes: LayerType[];
  slidingWindow: number;
  ropeGlobal: RopeConfig;
  ropeLocal: RopeConfig;
  qkNorm: boolean;
  /** Norms after attention and around the MLP (Gemma 2 and 3); Gemma 1 has Llama's two. */
  sandwichNorms: boolean;
  /** hidden_activation: GELU's tanh approximation (gelu_pytorch_tanh), or exact ("gelu"). */
  exactGelu: boolean;
  attnLogitSoftcapping?: number;
  finalLogitSoftcapping?: number;
}

/** Shared Gemma 2/3 config reading; `pattern` is the local:global period when layer_types is absent. */
export function gemmaArgs(config: Config, source: string, pattern: (i: number) => LayerType, extra: Partial<GemmaArgs> = {}): GemmaArgs {
  const r = new ConfigReader(config, source);
  const hiddenSize = r.int("hidden_size");
  const numAttentionHeads = r.int("num_attention_heads");
  const numHiddenLayers = r.int("num_hidden_layers");
  const numKeyValueHeads = r.int("num_key_value_heads", numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads) throw new Error(`${source}: num_attention_heads (${numAttentionHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads})`);
  const headDim = r.headDim(hiddenSize, numAttentionHeads);
  const layerTypes = r.layerTypes(numHiddenLayers) ?? Array.from({ length: numHiddenLayers }, (_, i) => pattern(i));
  const act = r.str("hidden_activation", "gelu_pytorch_tanh");
  if (!["gelu_pytorch_tanh", "gelu_new", "gelu_tanh", "gelu"].includes(act))
    throw new Error(`${source}: hidden_activation ${JSON.stringify(act)} is not supported (gelu_pytorch_tanh or gelu)`);
  return {
    modelType: r.str("model_type"), hiddenSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim,
    intermediateSize: r.int("intermediate_size"), rmsNormEps: r.num("rms_norm_eps", 1e-6), vocabSize: r.int("vocab_size"),
    maxPositionEmbeddings: r.has("max_position_embeddings") ? r.int("max_position_embeddings") : undefined,
    queryPreAttnScalar: r.num("query_pre_attn_scalar", headDim), layerTypes, slidingWindow: r.int("sliding_window", 4096),
    ropeGlobal: ropeConfig(r, headDim, "full_attention", 1e6), ropeLocal: ropeConfig(r, headDim, "sliding_attention", 1e4),
    qkNorm: true, sandwichNorms: true, exactGelu: act === "gelu", attnLogitSoftcapping: r.optNum("attn_logit_softcapping"), finalLogitSoftcapping: r.optNum("final_logit_softcapping"),
    ...extra,
  };
}

/** Gemma 3's config.json keys; the local:global pattern defaults to sliding_window_pattern (6). */
export function gemma3Args(config: Config, source: string): GemmaArgs {
  const p = config.sliding_window_pattern ?? config._sliding_window_pattern ?? 6;
  if (!Number.isInteger(p) || (p as number) <= 0) throw new Error(`${source}: sliding_window_pattern must be a positive integer, got ${JSON.stringify(p)}`);
  return gemmaArgs(config, source, (i) => ((i + 1) % (p as number) ? "sliding_attention" : "full_attention"));
}

/** Gemma's RMSNorm: x * rsqrt(mean(x^2) + eps) * (1 + weight), computed in float32. */
export class RMSNorm extends nn.Module {
  weight: Tensor;
  readonly eps: number;

  constructor(dims: number, eps: number) {
    super();
    // Stored as the offset from 1.
    this.weight = zeros([dims]);
    this.eps = eps;
  }

  forward(x: Tensor): Tensor {
    const y = fast.rmsNorm(x, add(astype(this.weight, "float32"), 1), this.eps);
    return y.dtype === x.dtype ? y : astype(y, x.dtype);
  }
}

export class Attention extends nn.Module {
  q_proj: Projection;
  k_proj: Projection;
  v_proj: Projection;
  o_proj: Projection;
  q_norm?: RMSNorm;
  k_norm?: RMSNorm;
  readonly args: GemmaArgs;
  readonly rope: RopeConfig;
  _qkv?: Projection;

  constructor(args: GemmaArgs, layer: number) {
    super();
    this.args = args;
    const { hiddenSize: h, numAttentionHeads: nq, numKeyValueHeads: nkv, headDim: d } = args;
    this.q_proj = new nn.Linear(h, nq * d, { bias: false });
    this.k_proj = new nn.Linear(h, nkv * d, { bias: false });
    this.v_proj = new nn.Linear(h, nkv * d, { bias: false });
    this.o_proj = new nn.Linear(nq * d, h, { bias: false });
    if (args.qkNorm) {
      this.q_norm = new RMSNorm(d, args.rmsNormEps);
      this.k_norm = new RMSNorm(d, args.rmsNormEps);
    }
    this.rope = args.layerTypes[layer] === "sliding_attention" ? args.ropeLocal : args.ropeGlobal;
  }

  /** Joins q/k/v into one projection (see fuse.ts). */
  fuse(): void {
    this._qkv = fuseProjections([this.q_proj, this.k_proj, this.v_proj]);
  }

  /** q, k, v [B, H, L, D] of x, normed, before rope. */
  heads(x: Tensor): [Tensor, Tensor, Tensor] {
    const a = this.args;
    return qkvHeads(this, x, a.numAttentionHeads, a.numKeyValueHeads, a.headDim);
  }

  /** Rope at the cache's position, then attention over the cache: [B, Hq, L, D]. */
  attendHeads(q: Tensor, k: Tensor, v: Tensor, cache: LayerCache): Tensor {
    const a = this.args;
    return attend(applyRope(q, this.rope, cache.offset), applyRope(k, this.rope, cache.offset), v, cache,
      { scale: a.queryPreAttnScalar ** -0.5, softcap: a.attnLogitSoftcapping });
  }

  /** The output projection of the heads. */
  output(o: Tensor): Tensor {
    return this.o_proj.forward(mergeHeads(o));
  }

  forward(x: Tensor, cache: LayerCache): Tensor {
    const [q, k, v] = this.heads(x);
    return this.output(this.attendHeads(q, k, v, cache));
  }
}

/** Llama's gated MLP with Gemma's GELU on the gate (tanh approximation unless `exact`). */
export class MLP extends LlamaMLP {
  constructor(hidden: number, intermediate: number, exact = false) {
    super(hidden, intermediate, false, exact ? nn.gelu : nn.geluApprox);
  }
}

export class DecoderLayer extends nn.Module {
  self_attn: Attention;
  mlp: MLP;
  input_layernorm: RMSNorm;
  post_attention_layernorm: RMSNorm;
  pre_feedforward_layernorm?: RMSNorm;
  post_feedforward_layernorm?: RMSNorm;

  constructor(args: GemmaArgs, layer: number) {
    super();
    const norm = () => new RMSNorm(args.hiddenSize, args.rmsNormEps);
    this.self_attn = new Attention(args, layer);
    this.mlp = new MLP(args.hiddenSize, args.intermediateSize, args.exactGelu);
    this.input_layernorm = norm();
    this.post_attention_layernorm = norm();
    if (args.sandwichNorms) {
      this.pre_feedforward_layernorm = norm();
      this.post_feedforward_layernorm = norm();
    }
  }

  // A one-token step's parts around the attention, compiled (step.ts).
  _before = new StepCompiler(this, (x: Tensor) => this.self_attn.heads(this.input_layernorm.forward(x)));
  _after = new StepCompiler(this, (x: Tensor, o: Tensor) => this.#afterAttention(x, this.self_attn.output(o)));

  #afterAttention(x: Tensor, attn: Tensor): Tensor {
    if (!this.pre_feedforward_layernorm || !this.post_feedforward_layernorm) {
      // Gemma 1: Llama's block.
      const h = residual(x, attn);
      return residual(h, this.mlp.forward(this.post_attention_layernorm.forward(h)));
    }
    const h = residual(x, this.post_attention_layernorm.forward(attn));
    return residual(h, this.post_feedforward_layernorm.forward(this.mlp.forward(this.pre_feedforward_layernorm.forward(h))));
  }

  forward(x: Tensor, cache: LayerCache): Tensor {
    if (x.shape[1] === 1) {
      const [q, k, v] = this._before.run(x);
      return this._after.run(x, this.self_attn.attendHeads(q, k, v, cache));
    }
    return this.#afterAttention(x, this.self_attn.forward(this.input_layernorm.forward(x), cache));
  }
}

export class GemmaModel extends nn.Module {
  embed_tokens: TokenEmbedding;
  layers: DecoderLayer[];
  norm: RMSNorm;
  readonly args: GemmaArgs;

  constructor(args: GemmaArgs) {
    super();
    this.args = args;
    this.embed_tokens = new nn.Embedding(args.vocabSize, args.hiddenSize);
    this.layers = Array.from({ length: args.numHiddenLayers }, (_, i) => new DecoderLayer(args, i));
    this.norm = new RMSNorm(args.hiddenSize, args.rmsNormEps);
  }

  /** The input embeddings of token ids [B, L]: the table's rows times sqrt(hidden). */
  embed(inputs: Tensor): Tensor {
    const h = this.embed_tokens.forward(inputs);
    // transformers rounds sqrt(hidden) to the table's dtype first.
    return multiply(h, scalar(Math.sqrt(this.args.hiddenSize), h.dtype));
  }

  forward(inputs: Tensor, cache: LayerCache[], embeddings?: Tensor): Tensor {
    let h = embeddings ?? this.embed(inputs);
    this.layers.forEach((layer, i) => { h = layer.forward(h, cache[i]); });
    return this.norm.forward(h);
  }
}

/** Gemma 2/3 for causal LM: the decoder and logits from the tied token table. */
export class Model extends nn.Module implements LanguageModel {
  model: GemmaModel;
  readonly args: GemmaArgs;

  constructor(args: GemmaArgs) {
    super();
    this.args = args;
    this.model = new GemmaModel(args);
  }

  get modelType(): string { return this.args.modelType; }
  get vocabSize(): number { return this.args.vocabSize; }
  get numLayers(): number { return this.args.numHiddenLayers; }
  get dtype(): DType { return embeddingDType(this.model.embed_tokens); }
  get contextLength(): number | undefined { return this.args.maxPositionEmbeddings; }

  forward(inputs: Tensor, cache: LayerCache[] = this.makeCache(), opts?: ForwardOptions): Tensor {
    const h = lastPosition(this.model.forward(checkInputs(this, inputs, cache), cache, opts?.inputEmbeddings), opts);
    let logits = astype(this.model.embed_tokens.asLinear(h), "float32");
    const cap = this.args.finalLogitSoftcapping;
    if (cap !== undefined) logits = multiply(tanh(divide(logits, cap)), cap);
    return logits;
  }

  makeCache(opts: KVCacheOptions = {}): LayerCache[] {
    return layerCaches(this.args.layerTypes.map((t) => (t === "sliding_attention" ? this.args.slidingWindow : undefined)), opts);
  }

  /** Joins q/k/v and gate/up projections where the layers allow it (after loading). */
  fuse(): void {
    for (const m of this.modules()) if (m instanceof Attention || m instanceof MLP) m.fuse();
  }

  /** Drops a tied head's copy and computed rotary buffers. */
  sanitize(weights: Map<string, Tensor>): Map<string, Tensor> {
    const out = new Map(weights);
    for (const k of [...out.keys()]) if (k.startsWith("lm_head.") || k.includes("rotary_emb.")) out.delete(k);
    return out;
  }
}

/** Builds a Gemma 3 text model from its config.json. */
export function fromConfig(config: Config, source: string): Model {
  return new Model(gemma3Args(config, source));
}
