// The CLIP text encoder (transformers' CLIPTextModel / CLIPTextModelWithProjection) that Stable
// Diffusion conditions on. Attribute names are transformers' keys without the "text_model." prefix
// (transformers 5 saves them so; older checkpoints' prefix is dropped by sanitizeClip).
import { Tensor, add, argmax, equal, fast, nn, reshape, takeAlongAxis, transpose, arange, expandDims } from "@tessera/core";
import { ConfigReader } from "./config.js";
import type { RawConfig } from "./config.js";

/** The fields of a transformers CLIPTextConfig the encoder uses. */
export interface ClipTextConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  hidden_act: "quick_gelu" | "gelu";
  layer_norm_eps: number;
  /** Width of text_projection (CLIPTextModelWithProjection). */
  projection_dim: number;
  /** EOS id; 2 means "the largest id", as transformers' legacy configs (SD 1.5's) say. */
  eos_token_id: number;
}

/** Reads and checks a text_encoder config.json. */
export function clipTextConfig(raw: RawConfig, source: string): ClipTextConfig {
  const c = new ConfigReader(raw, source);
  const act = c.str("hidden_act", "quick_gelu");
  if (act !== "quick_gelu" && act !== "gelu") throw new Error(`${source}: hidden_act '${act}' is not supported (quick_gelu or gelu)`);
  const cfg: ClipTextConfig = {
    vocab_size: c.int("vocab_size", 49408), hidden_size: c.int("hidden_size", 512),
    intermediate_size: c.int("intermediate_size", 2048), num_hidden_layers: c.int("num_hidden_layers", 12),
    num_attention_heads: c.int("num_attention_heads", 8), max_position_embeddings: c.int("max_position_embeddings", 77),
    hidden_act: act, layer_norm_eps: c.num("layer_norm_eps", 1e-5), projection_dim: c.int("projection_dim", 512),
    eos_token_id: c.int("eos_token_id", 2),
  };
  if (cfg.hidden_size % cfg.num_attention_heads)
    throw new Error(`${source}: hidden_size (${cfg.hidden_size}) must be a multiple of num_attention_heads (${cfg.num_attention_heads})`);
  return cfg;
}

class ClipAttention extends nn.Module {
  q_proj: nn.Linear;
  k_proj: nn.Linear;
  v_proj: nn.Linear;
  out_proj: nn.Linear;
  readonly heads: number;

  constructor(dims: number, heads: number) {
    super();
    this.heads = heads;
    this.q_proj = new nn.Linear(dims, dims);
    this.k_proj = new nn.Linear(dims, dims);
    this.v_proj = new nn.Linear(dims, dims);
    this.out_proj = new nn.Linear(dims, dims);
  }

  forward(x: Tensor): Tensor {
    const [b, l, d] = x.shape;
    const split = (t: Tensor) => transpose(reshape(t, [b, l, this.heads, d / this.heads]), [0, 2, 1, 3]);
    const o = fast.scaledDotProductAttention(split(this.q_proj.forward(x)), split(this.k_proj.forward(x)),
      split(this.v_proj.forward(x)), { mask: "causal" });
    return this.out_proj.forward(reshape(transpose(o, [0, 2, 1, 3]), [b, l, d]));
  }
}

class ClipMlp extends nn.Module {
  fc1: nn.Linear;
  fc2: nn.Linear;
  readonly act: (x: Tensor) => Tensor;

  constructor(cfg: ClipTextConfig) {
    super();
    this.fc1 = new nn.Linear(cfg.hidden_size, cfg.intermediate_size);
    this.fc2 = new nn.Linear(cfg.intermediate_size, cfg.hidden_size);
    this.act = cfg.hidden_act === "quick_gelu" ? nn.geluFastApprox : nn.gelu;
  }

  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.act(this.fc1.forward(x)));
  }
}

class ClipEncoderLayer extends nn.Module {
  self_attn: ClipAttention;
  layer_norm1: nn.LayerNorm;
  mlp: ClipMlp;
  layer_norm2: nn.LayerNorm;

  constructor(cfg: ClipTextConfig) {
    super();
    this.self_attn = new ClipAttention(cfg.hidden_size, cfg.num_attention_heads);
    this.layer_norm1 = new nn.LayerNorm(cfg.hidden_size, { eps: cfg.layer_norm_eps });
    this.mlp = new ClipMlp(cfg);
    this.layer_norm2 = new nn.LayerNorm(cfg.hidden_size, { eps: cfg.layer_norm_eps });
  }

  forward(x: Tensor): Tensor {
    const h = add(x, this.self_attn.forward(this.layer_norm1.forward(x)));
    return add(h, this.mlp.forward(this.layer_norm2.forward(h)));
  }
}

class ClipEmbeddings extends nn.Module {
  token_embedding: nn.Embedding;
  position_embedding: nn.Embedding;

  constructor(cfg: ClipTextConfig) {
    super();
    this.token_embedding = new nn.Embedding(cfg.vocab_size, cfg.hidden_size);
    this.position_embedding = new nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size);
  }

  forward(ids: Tensor): Tensor {
    const l = ids.shape[1];
    return add(this.token_embedding.forward(ids), this.position_embedding.forward(arange(l, "int32")));
  }
}

class ClipEncoder extends nn.Module {
  layers: ClipEncoderLayer[];
  constructor(cfg: ClipTextConfig) {
    super();
    this.layers = Array.from({ length: cfg.num_hidden_layers }, () => new ClipEncoderLayer(cfg));
  }
}

/** What the encoder returns for token ids [B, L]. */
export interface ClipTextOutput {
  /** The last layer's output through final_layer_norm [B, L, D] (SD 1.5 / 2.x conditioning). */
  lastHiddenState: Tensor;
  /** final_layer_norm'd state at each row's first EOS token [B, D]. */
  pooledOutput: Tensor;
  /** The embeddings' output and every layer's, as transformers' hidden_states (length layers + 1); [-2] is SDXL's conditioning. */
  hiddenStates: Tensor[];
  /** text_projection(pooledOutput) [B, projection_dim], for CLIPTextModelWithProjection. */
  textEmbeds?: Tensor;
}

/** transformers' CLIPTextModel: token + position embeddings, pre-LN causal transformer, final LayerNorm. */
export class CLIPTextModel extends nn.Module {
  embeddings: ClipEmbeddings;
  encoder: ClipEncoder;
  final_layer_norm: nn.LayerNorm;
  readonly config: ClipTextConfig;

  constructor(config: ClipTextConfig) {
    super();
    this.config = config;
    this.embeddings = new ClipEmbeddings(config);
    this.encoder = new ClipEncoder(config);
    this.final_layer_norm = new nn.LayerNorm(config.hidden_size, { eps: config.layer_norm_eps });
  }

  /** Encodes int32 token ids [B, L] (L at most max_position_embeddings). */
  forward(ids: Tensor): ClipTextOutput {
    if (ids.ndim !== 2) throw new Error(`CLIPTextModel: token ids must be [batch, length], got [${ids.shape.join(", ")}]`);
    const max = this.config.max_position_embeddings;
    if (ids.shape[1] > max) throw new Error(`CLIPTextModel: ${ids.shape[1]} tokens is more than max_position_embeddings (${max})`);
    if (ids.dtype !== "int32") ids = ids.astype("int32");
    let x = this.embeddings.forward(ids);
    const hiddenStates = [x];
    for (const layer of this.encoder.layers) {
      x = layer.forward(x);
      hiddenStates.push(x);
    }
    const last = this.final_layer_norm.forward(x);
    // The first EOS of each row (legacy configs with eos_token_id 2: the largest id, as transformers).
    const eos = this.config.eos_token_id === 2 ? argmax(ids, -1) : argmax(equal(ids, this.config.eos_token_id).astype("int32"), -1);
    const idx = expandDims(expandDims(eos, -1), -1);
    const pooled = reshape(takeAlongAxis(last, idx, 1), [ids.shape[0], last.shape[2]]);
    return { lastHiddenState: last, pooledOutput: pooled, hiddenStates };
  }
}

/** transformers' CLIPTextModelWithProjection: CLIPTextModel plus text_projection (no bias) of the pooled output. */
export class CLIPTextModelWithProjection extends CLIPTextModel {
  text_projection: nn.Linear;

  constructor(config: ClipTextConfig) {
    super(config);
    this.text_projection = new nn.Linear(config.hidden_size, config.projection_dim, { bias: false });
  }

  override forward(ids: Tensor): ClipTextOutput {
    const out = super.forward(ids);
    return { ...out, textEmbeds: this.text_projection.forward(out.pooledOutput) };
  }
}

/** transformers checkpoints -> our keys: drop the "text_model." prefix and the position_ids buffer. */
export function sanitizeClip(weights: Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of weights) {
    if (k.endsWith("position_ids")) continue;
    out.set(k.startsWith("text_model.") ? k.slice("text_model.".length) : k, v);
  }
  return out;
}
