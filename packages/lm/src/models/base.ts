// What every model file shares: reading a config.json into typed Args (with errors naming the bad
// key), the rope settings of old (rope_theta + rope_scaling) and new (rope_parameters) configs,
// attention over a layer cache (fused, or composite where logits are soft-capped), and the
// LanguageModel contract that generate.ts and load.ts use.
import {
  Tensor, add, astype, divide, fast, matmul, multiply, nn, repeat, slice, softmax, swapaxes, tanh, tensor, where,
} from "@tessera/core";
import type { DType } from "@tessera/core";
import type { KVCacheOptions, LayerCache } from "../cache.js";

/** A config.json object. */
export type Config = Record<string, unknown>;

/** Reads typed values out of a config.json, naming the file and key in errors. */
export class ConfigReader {
  constructor(readonly config: Config, readonly source: string) {}

  #fail(key: string, expected: string): never {
    throw new Error(`${this.source}: ${key} must be ${expected}, got ${JSON.stringify(this.config[key])}`);
  }

  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null;
  }

  /** A positive integer (required unless a fallback is given). */
  int(key: string, fallback?: number): number {
    const v = this.has(key) ? this.config[key] : fallback;
    if (!Number.isInteger(v) || (v as number) <= 0) this.#fail(key, "a positive integer");
    return v as number;
  }

  num(key: string, fallback?: number): number {
    const v = this.has(key) ? this.config[key] : fallback;
    if (typeof v !== "number" || !Number.isFinite(v)) this.#fail(key, "a finite number");
    return v;
  }

  /** A number, or undefined when absent or null. */
  optNum(key: string): number | undefined {
    return this.has(key) ? this.num(key) : undefined;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.has(key) ? this.config[key] : fallback;
    if (typeof v !== "boolean") this.#fail(key, "true or false");
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.has(key) ? this.config[key] : fallback;
    if (typeof v !== "string") this.#fail(key, "a string");
    return v;
  }

  /** head_dim, else hidden_size / num_attention_heads (which must divide). */
  headDim(hidden: number, heads: number): number {
    if (this.has("head_dim")) return this.int("head_dim");
    if (hidden % heads) this.#fail("num_attention_heads", `a divisor of hidden_size (${hidden}) when head_dim is not given`);
    return hidden / heads;
  }

  /** Per-layer "sliding_attention" / "full_attention" from layer_types, if given. */
  layerTypes(n: number): LayerType[] | undefined {
    const t = this.config.layer_types;
    if (t === undefined || t === null) return undefined;
    if (!Array.isArray(t) || t.length !== n || t.some((x) => x !== "sliding_attention" && x !== "full_attention"))
      this.#fail("layer_types", `${n} entries of "sliding_attention" or "full_attention"`);
    return t as LayerType[];
  }
}

export type LayerType = "sliding_attention" | "full_attention";

/** Rope settings of one layer kind: base, HF scaling, and how many of head_dim's features rotate. */
export interface RopeConfig {
  base: number;
  scaling?: fast.RopeScaling;
  /** Rotated features (head_dim times partial_rotary_factor). */
  dims: number;
  /** Inverse frequencies and attention factor of base and scaling, computed once (not at every step). */
  parameters: fast.RopeParameters;
}

/**
 * Rope settings from a config: transformers 5's `rope_parameters` (flat, or keyed by layer type as
 * Gemma 3 has it) or the older `rope_theta` + `rope_scaling` (+ `rope_local_base_freq` for Gemma
 * 3's local layers, `partial_rotary_factor`).
 */
export function ropeConfig(r: ConfigReader, headDim: number, layerType?: LayerType, defaultBase = 10000): RopeConfig {
  const c = r.config;
  const maxPos = typeof c.max_position_embeddings === "number" ? c.max_position_embeddings : undefined;
  let params = (c.rope_parameters ?? undefined) as Config | undefined;
  if (params && layerType && typeof params[layerType] === "object") params = params[layerType] as Config;
  const legacy = (c.rope_scaling ?? undefined) as Config | undefined;
  let base: unknown = params?.rope_theta ?? c.rope_theta ?? defaultBase;
  if (layerType === "sliding_attention" && !params?.rope_theta && c.rope_local_base_freq !== undefined) base = c.rope_local_base_freq;
  if (typeof base !== "number" || !(base > 0)) throw new Error(`${r.source}: rope_theta must be a positive number, got ${JSON.stringify(base)}`);
  // Old Gemma 3 configs scale only the global layers' rope.
  const scalingCfg = params && (params.rope_type ?? params.type) !== undefined ? params : layerType === "sliding_attention" ? undefined : legacy;
  let scaling: fast.RopeScaling | undefined;
  try {
    scaling = fast.ropeScalingFromConfig(scalingCfg, maxPos);
  } catch (e) {
    throw new Error(`${r.source}: ${(e as Error).message}`);
  }
  const partial = params?.partial_rotary_factor ?? c.partial_rotary_factor ?? 1;
  if (typeof partial !== "number" || !(partial > 0 && partial <= 1))
    throw new Error(`${r.source}: partial_rotary_factor must be in (0, 1], got ${JSON.stringify(partial)}`);
  const dims = Math.floor(headDim * partial);
  if (dims % 2) throw new Error(`${r.source}: head_dim * partial_rotary_factor (${dims}) must be even`);
  const p = fast.ropeParameters(dims, base, scaling);
  return { base, scaling, dims, parameters: { invFreq: Float64Array.from(p.invFreq), attentionFactor: p.attentionFactor } };
}

/** Applies rope to x [B, H, L, D] at the cache's position. */
export function applyRope(x: Tensor, rope: RopeConfig, offset: number): Tensor {
  return fast.rope(x, rope.dims, { parameters: rope.parameters, offset });
}

/** A linear layer as loaded: float or MLX-quantized or ggml blocks. */
export type Projection = nn.Linear | nn.QuantizedLinear | nn.GgmlLinear;
/** A token table as loaded. */
export type TokenEmbedding = nn.Embedding | nn.QuantizedEmbedding | nn.GgmlEmbedding;

/** The float dtype a token table produces (its scales' for MLX-quantized tables). */
export function embeddingDType(e: TokenEmbedding): DType {
  if (e instanceof nn.QuantizedEmbedding) return e.scales.dtype;
  if (e instanceof nn.GgmlEmbedding) return e.dtype;
  return e.weight.dtype;
}

/** [B, L, H * D] -> [B, H, L, D] */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, l, hd] = x.shape;
  return swapaxes(x.reshape([b, l, heads, hd / heads]), 1, 2);
}

/** [B, H, L, D] -> [B, L, H * D] */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, l, d] = x.shape;
  return swapaxes(x, 1, 2).reshape([b, l, h * d]);
}

export interface AttendOptions {
  scale: number;
  /** Gemma 2's tanh soft-capping of the attention logits. */
  softcap?: number;
}

/**
 * Writes k / v [B, Hkv, L, D] into the layer's cache and attends q [B, Hq, L, D] to everything the
 * cache holds, with the cache's mask (causal, sliding window). Returns [B, Hq, L, D].
 */
export function attend(q: Tensor, k: Tensor, v: Tensor, cache: LayerCache, opts: AttendOptions): Tensor {
  // A cache in another dtype than q (float16 keys for a float32 model) is promoted by the kernels.
  const { keys, values, mask } = cache.update(k, v);
  if (opts.softcap === undefined) return fast.scaledDotProductAttention(q, keys, values, { scale: opts.scale, mask });
  return softcappedAttention(q, keys, values, mask, opts.scale, opts.softcap);
}

function softcappedAttention(q: Tensor, k: Tensor, v: Tensor, mask: "causal" | Tensor | null, scale: number, cap: number): Tensor {
  const groups = q.shape[1] / k.shape[1];
  if (groups > 1) {
    k = repeat(k, groups, 1);
    v = repeat(v, groups, 1);
  }
  let scores = astype(matmul(multiply(q, scale), swapaxes(k, 2, 3)), "float32");
  scores = multiply(tanh(divide(scores, cap)), cap);
  const m = mask === "causal" ? causalMask(q.shape[2], k.shape[2]) : mask;
  if (m) scores = where(m, scores, -Infinity);
  return astype(matmul(softmax(scores, -1), v), q.dtype);
}

/** Bottom-right aligned causal mask [L, S] (true = attend). */
export function causalMask(l: number, s: number): Tensor {
  return windowMask(l, s, s - l, Infinity);
}

/**
 * Mask [L, S] for queries at positions offset .. offset + L - 1 over keys at positions
 * keyStart .. keyStart + S - 1 (keyStart = offset + L - S): key j is seen by query i when it is not
 * in the future and fewer than `window` positions back (transformers' sliding window).
 */
export function windowMask(l: number, s: number, queryStart: number, window: number): Tensor {
  const keyStart = queryStart + l - s;
  const m = new Uint8Array(l * s);
  for (let i = 0; i < l; i++) {
    const qp = queryStart + i;
    for (let j = 0; j < s; j++) {
      const kp = keyStart + j;
      m[i * s + j] = kp <= qp && qp - kp < window ? 1 : 0;
    }
  }
  return tensor(m, { shape: [l, s], dtype: "bool" });
}

export interface ForwardOptions {
  /** Compute the head for the last position only (prefill). */
  lastTokenOnly?: boolean;
  /**
   * Input embeddings [B, L, hidden] used instead of embedding `inputs` (transformers' inputs_embeds,
   * as the first layer sees them: already scaled where the model scales its embeddings). A VLM
   * merges image features into them.
   */
  inputEmbeddings?: Tensor;
}

/** The last position of hidden states [B, L, H] -> [B, 1, H]. */
export function lastPosition(h: Tensor, opts?: ForwardOptions): Tensor {
  if (!opts?.lastTokenOnly || h.shape[1] === 1) return h;
  const [b, l, d] = h.shape;
  return slice(h, [0, l - 1, 0], [b, l, d]);
}

/** The interface generate.ts and load.ts use; each model file's Model implements it. */
export interface LanguageModel extends nn.Module {
  readonly modelType: string;
  readonly vocabSize: number;
  readonly numLayers: number;
  /** The float dtype activations run in (the token table's). */
  readonly dtype: DType;
  /** max_position_embeddings, when the config gives it. */
  readonly contextLength?: number;
  /**
   * Logits [B, L, vocab] in float32 for token ids [B, L] (or [B, 1, vocab] of the last position
   * with `lastTokenOnly`), appending to `cache` (one per layer; default a fresh one).
   */
  forward(inputs: Tensor, cache?: LayerCache[], opts?: ForwardOptions): Tensor;
  /** One empty cache per layer (rotating for sliding-window layers; quantized with `kvBits`). */
  makeCache(opts?: KVCacheOptions): LayerCache[];
  /**
   * Joins projections that read the same input (q/k/v, gate/up) into one matmul each, where their
   * formats match; the checkpoint-named parameters become views of the joined weights.
   */
  fuse?(): void;
  /** The few real renames between a checkpoint's keys and this model's (a new map). */
  sanitize(weights: Map<string, Tensor>): Map<string, Tensor>;
}

/** Residual add (a name that reads well in the blocks). */
export const residual = add;
