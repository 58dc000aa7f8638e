// Llama (1, 2, 3, 3.1/3.2 with llama3 rope scaling), as mlx-lm's models/llama.py and transformers'
// modeling_llama.py. Attribute names are the checkpoint's keys (model.layers.N.self_attn.q_proj ...).
// The decoder here also serves the model files that differ from Llama only by options:
// qwen2 (q/k/v biases), qwen3 (q/k RMSNorms per head), mistral (sliding window).
import { Tensor, astype, multiply, nn, silu, split } from "@tessera/core";
import { fuseProjections, qkvHeads } from "./fuse.js";
import { StepCompiler } from "./step.js";
import type { DType } from "@tessera/core";
import { KVCache, RotatingKVCache } from "../cache.js";
import { QuantizedKVCache } from "../quantized_cache.js";
import type { KVCacheOptions, LayerCache } from "../cache.js";
import {
  ConfigReader, applyRope, attend, embeddingDType, lastPosition, mergeHeads, residual, ropeConfig,
} from "./base.js";
import type { Config, ForwardOptions, LanguageModel, Projection, RopeConfig, TokenEmbedding } from "./base.js";

export interface LlamaArgs {
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
  tieWordEmbeddings: boolean;
  attentionBias: boolean;
  /** Biases on q/k/v only (Qwen 2). */
  qkvBias: boolean;
  mlpBias: boolean;
  /** RMSNorm of each head of q and k before rope (Qwen 3). */
  qkNorm: boolean;
  rope: RopeConfig;
  /** Sliding-window size per layer (undefined: full attention). */
  slidingWindows: (number | undefined)[];
}

/** Llama's config.json keys (with the defaults of transformers' LlamaConfig). */
export function llamaArgs(config: Config, source: string, extra: Partial<LlamaArgs> = {}): LlamaArgs {
  const r = new ConfigReader(config, source);
  const hiddenSize = r.int("hidden_size");
  const numAttentionHeads = r.int("num_attention_heads");
  const numHiddenLayers = r.int("num_hidden_layers");
  const numKeyValueHeads = r.int("num_key_value_heads", numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads) throw new Error(`${source}: num_attention_heads (${numAttentionHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads})`);
  const headDim = r.headDim(hiddenSize, numAttentionHeads);
  return {
    modelType: r.str("model_type"), hiddenSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim,
    intermediateSize: r.int("intermediate_size"), rmsNormEps: r.num("rms_norm_eps", 1e-6), vocabSize: r.int("vocab_size"),
    maxPositionEmbeddings: r.has("max_position_embeddings") ? r.int("max_position_embeddings") : undefined,
    tieWordEmbeddings: r.bool("tie_word_embeddings", false), attentionBias: r.bool("attention_bias", false), qkvBias: false,
    mlpBias: r.bool("mlp_bias", false), qkNorm: false, rope: ropeConfig(r, headDim), slidingWindows: Array(numHiddenLayers).fill(undefined),
    ...extra,
  };
}

export class Attention extends nn.Module {
  q_proj: Projection;
  k_proj: Projection;
  v_proj: Projection;
  o_proj: Projection;
  q_norm?: nn.RMSNorm;
  k_norm?: nn.RMSNorm;
  readonly args: LlamaArgs;
  // q, k and v in one matmul (fuse()); not a parameter of its own ("_").
  _qkv?: Projection;

  constructor(args: LlamaArgs) {
    super();
    this.args = args;
    const { hiddenSize: h, numAttentionHeads: nq, numKeyValueHeads: nkv, headDim: d } = args;
    const qkv = args.attentionBias || args.qkvBias;
    this.q_proj = new nn.Linear(h, nq * d, { bias: qkv });
    this.k_proj = new nn.Linear(h, nkv * d, { bias: qkv });
    this.v_proj = new nn.Linear(h, nkv * d, { bias: qkv });
    this.o_proj = new nn.Linear(nq * d, h, { bias: args.attentionBias });
    if (args.qkNorm) {
      this.q_norm = new nn.RMSNorm(d, { eps: args.rmsNormEps });
      this.k_norm = new nn.RMSNorm(d, { eps: args.rmsNormEps });
    }
  }

  /** Joins q/k/v into one projection (see fuse.ts). */
  fuse(): void {
    this._qkv = fuseProjections([this.q_proj, this.k_proj, this.v_proj]);
  }

  /** q, k, v [B, H, L, D] of x (normed per head where the model does), before rope. */
  heads(x: Tensor): [Tensor, Tensor, Tensor] {
    const a = this.args;
    return qkvHeads(this, x, a.numAttentionHeads, a.numKeyValueHeads, a.headDim);
  }

  /** Rope at the cache's position, then attention over the cache: [B, Hq, L, D]. */
  attendHeads(q: Tensor, k: Tensor, v: Tensor, cache: LayerCache): Tensor {
    const a = this.args;
    return attend(applyRope(q, a.rope, cache.offset), applyRope(k, a.rope, cache.offset), v, cache, { scale: 1 / Math.sqrt(a.headDim) });
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

export class MLP extends nn.Module {
  gate_proj: Projection;
  up_proj: Projection;
  down_proj: Projection;
  _gateUp?: Projection;
  readonly _activation: (x: Tensor) => Tensor;

  /** `activation` is applied to the gate (SiLU for Llama; Gemma's MLP passes its GELU). */
  constructor(hidden: number, intermediate: number, bias = false, activation: (x: Tensor) => Tensor = silu) {
    super();
    this.gate_proj = new nn.Linear(hidden, intermediate, { bias });
    this.up_proj = new nn.Linear(hidden, intermediate, { bias });
    this.down_proj = new nn.Linear(intermediate, hidden, { bias });
    this._activation = activation;
  }

  /** Joins gate and up into one projection (see fuse.ts). */
  fuse(): void {
    this._gateUp = fuseProjections([this.gate_proj, this.up_proj]);
  }

  forward(x: Tensor): Tensor {
    const [g, u] = this._gateUp ? split(this._gateUp.forward(x), 2, -1) : [this.gate_proj.forward(x), this.up_proj.forward(x)];
    return this.down_proj.forward(multiply(this._activation(g), u));
  }
}

/** A block's feed-forward part: a dense MLP here, a mixture of experts in mixtral / qwen3_moe. */
export interface FeedForward extends nn.Module {
  forward(x: Tensor): Tensor;
}

/** A block's attention part (Llama's, or Phi 3's with fused q/k/v). */
export interface SelfAttention extends nn.Module {
  forward(x: Tensor, cache: LayerCache): Tensor;
}

export class DecoderLayer extends nn.Module {
  self_attn: SelfAttention;
  mlp: FeedForward;
  input_layernorm: nn.RMSNorm;
  post_attention_layernorm: nn.RMSNorm;

  constructor(args: LlamaArgs, parts: { attn?: SelfAttention; mlp?: FeedForward } = {}) {
    super();
    this.self_attn = parts.attn ?? new Attention(args);
    this.mlp = parts.mlp ?? new MLP(args.hiddenSize, args.intermediateSize, args.mlpBias);
    this.input_layernorm = new nn.RMSNorm(args.hiddenSize, { eps: args.rmsNormEps });
    this.post_attention_layernorm = new nn.RMSNorm(args.hiddenSize, { eps: args.rmsNormEps });
  }

  // A one-token step's parts around the attention, compiled (step.ts); Llama's own attention only.
  _before = new StepCompiler(this, (x: Tensor) => (this.self_attn as Attention).heads(this.input_layernorm.forward(x)));
  _after = new StepCompiler(this, (x: Tensor, o: Tensor) => this.#afterAttention(x, (this.self_attn as Attention).output(o)));

  #afterAttention(x: Tensor, attn: Tensor): Tensor {
    const h = residual(x, attn);
    return residual(h, this.mlp.forward(this.post_attention_layernorm.forward(h)));
  }

  forward(x: Tensor, cache: LayerCache): Tensor {
    const attn = this.self_attn;
    if (x.shape[1] === 1 && attn instanceof Attention) {
      const [q, k, v] = this._before.run(x);
      return this._after.run(x, attn.attendHeads(q, k, v, cache));
    }
    return this.#afterAttention(x, attn.forward(this.input_layernorm.forward(x), cache));
  }
}

export class LlamaModel extends nn.Module {
  embed_tokens: TokenEmbedding;
  layers: DecoderLayer[];
  norm: nn.RMSNorm;

  constructor(args: LlamaArgs, makeLayer: (i: number) => DecoderLayer = () => new DecoderLayer(args)) {
    super();
    this.embed_tokens = new nn.Embedding(args.vocabSize, args.hiddenSize);
    this.layers = Array.from({ length: args.numHiddenLayers }, (_, i) => makeLayer(i));
    this.norm = new nn.RMSNorm(args.hiddenSize, { eps: args.rmsNormEps });
  }

  /** The input embeddings of token ids [B, L]. */
  embed(inputs: Tensor): Tensor {
    return this.embed_tokens.forward(inputs);
  }

  forward(inputs: Tensor, cache: LayerCache[], embeddings?: Tensor): Tensor {
    let h = embeddings ?? this.embed(inputs);
    this.layers.forEach((layer, i) => { h = layer.forward(h, cache[i]); });
    return this.norm.forward(h);
  }
}

/** Checks token ids [B, L] and the cache list against a model. */
export function checkInputs(model: LanguageModel, inputs: Tensor, cache: LayerCache[]): Tensor {
  if (!(inputs instanceof Tensor) || inputs.ndim !== 2) throw new Error(`${model.modelType}: inputs must be token ids [batch, length], got ${inputs instanceof Tensor ? `[${inputs.shape.join(", ")}]` : typeof inputs}`);
  if (cache.length !== model.numLayers) throw new Error(`${model.modelType}: the cache has ${cache.length} layers, the model ${model.numLayers}`);
  return inputs.dtype === "int32" ? inputs : astype(inputs, "int32");
}

/**
 * One cache per layer: rotating where the layer has a sliding window; quantized (full-attention
 * layers only, as mlx-lm) when `opts.kvBits` is set.
 */
export function layerCaches(windows: (number | undefined)[], opts: KVCacheOptions): LayerCache[] {
  const full = (): LayerCache => (opts.kvBits !== undefined ? new QuantizedKVCache(opts) : new KVCache(opts));
  return windows.map((w) => (w === undefined ? full() : new RotatingKVCache(w, opts)));
}

/** Llama for causal LM: `model` (the decoder) and `lm_head` unless tied to the token table. */
export class Model extends nn.Module implements LanguageModel {
  model: LlamaModel;
  lm_head?: Projection;
  readonly args: LlamaArgs;

  constructor(args: LlamaArgs, model?: LlamaModel) {
    super();
    this.args = args;
    this.model = model ?? new LlamaModel(args);
    if (!args.tieWordEmbeddings) this.lm_head = new nn.Linear(args.hiddenSize, args.vocabSize, { bias: false });
  }

  get modelType(): string { return this.args.modelType; }
  get vocabSize(): number { return this.args.vocabSize; }
  get numLayers(): number { return this.args.numHiddenLayers; }
  get dtype(): DType { return embeddingDType(this.model.embed_tokens); }
  get contextLength(): number | undefined { return this.args.maxPositionEmbeddings; }

  forward(inputs: Tensor, cache: LayerCache[] = this.makeCache(), opts?: ForwardOptions): Tensor {
    const h = lastPosition(this.model.forward(checkInputs(this, inputs, cache), cache, opts?.inputEmbeddings), opts);
    const logits = this.lm_head ? this.lm_head.forward(h) : this.model.embed_tokens.asLinear(h);
    return astype(logits, "float32");
  }

  makeCache(opts: KVCacheOptions = {}): LayerCache[] {
    return layerCaches(this.args.slidingWindows, opts);
  }

  /** Joins q/k/v and gate/up projections where the layers allow it (after loading). */
  fuse(): void {
    for (const m of this.modules()) if (m instanceof Attention || m instanceof MLP) m.fuse();
  }

  /** Drops rotary-frequency buffers some exports carry (computed here) and a tied head's copy. */
  sanitize(weights: Map<string, Tensor>): Map<string, Tensor> {
    const out = new Map(weights);
    for (const k of [...out.keys()]) if (k.includes("rotary_emb.inv_freq")) out.delete(k);
    if (this.args.tieWordEmbeddings) for (const k of [...out.keys()]) if (k.startsWith("lm_head.")) out.delete(k);
    return out;
  }
}

/** Builds a Llama from its config.json. */
export function fromConfig(config: Config, source: string): Model {
  return new Model(llamaArgs(config, source));
}
