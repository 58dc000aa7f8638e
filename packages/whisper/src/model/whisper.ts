// The Whisper model (encoder-decoder transformer), as mlx-examples' whisper.py. Attribute names
// are the keys of mlx-examples' checkpoints (openai-whisper's names with mlp1 / mlp2 and
// channels-last convolutions); sanitize.ts maps the Hugging Face and whisper.cpp layouts onto them.
// No I/O here: load.ts reads files.
import {
  Tensor, add, astype, concatenate, copy, fast, gelu, index, matmul, nn, reshape, take, tensor, tidy, transpose,
} from "@tessera/core";
import type { DType, NestedArray } from "@tessera/core";
import { DecoderCache } from "./cache.js";
import type { KeyValue } from "./cache.js";

export { DecoderCache };
export type { KeyValue };

/** openai-whisper's ModelDimensions (the names its checkpoints, MLX configs and whisper.cpp use). */
export interface ModelDimensions {
  n_mels: number;
  n_audio_ctx: number;
  n_audio_state: number;
  n_audio_head: number;
  n_audio_layer: number;
  n_vocab: number;
  n_text_ctx: number;
  n_text_state: number;
  n_text_head: number;
  n_text_layer: number;
}

export const DIMENSION_KEYS = [
  "n_mels", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
  "n_vocab", "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer",
] as const;

/** Checks every dimension is a positive integer and the states split evenly into heads. */
export function checkDimensions(d: Partial<Record<string, unknown>>, source: string): ModelDimensions {
  const bad = DIMENSION_KEYS.filter((k) => !Number.isInteger(d[k]) || (d[k] as number) <= 0);
  if (bad.length) throw new Error(`${source}: model dimensions ${bad.map((k) => `${k}=${String(d[k])}`).join(", ")} must be positive integers`);
  const dims = Object.fromEntries(DIMENSION_KEYS.map((k) => [k, d[k]])) as unknown as ModelDimensions;
  if (dims.n_audio_state % dims.n_audio_head || dims.n_text_state % dims.n_text_head)
    throw new Error(`${source}: n_audio_state (${dims.n_audio_state}) and n_text_state (${dims.n_text_state}) must be multiples of their head counts (${dims.n_audio_head}, ${dims.n_text_head})`);
  if (dims.n_audio_state !== dims.n_text_state)
    throw new Error(`${source}: n_audio_state (${dims.n_audio_state}) must equal n_text_state (${dims.n_text_state}): the decoder attends to the encoder's output`);
  return dims;
}

/**
 * Sinusoidal positions [length, channels]: sin in the first half, cos in the second, computed in
 * float32 steps as openai-whisper's (and transformers') `sinusoids` does, so the values match.
 */
export function sinusoids(length: number, channels: number, maxTimescale = 10000): Tensor {
  if (channels % 2) throw new Error(`sinusoids: channels must be even, got ${channels}`);
  const half = channels / 2;
  const inc = Math.fround(Math.log(maxTimescale) / (half - 1));
  const inv = Float32Array.from({ length: half }, (_, j) => Math.fround(Math.exp(Math.fround(-inc * j))));
  const out = new Float32Array(length * channels);
  for (let t = 0; t < length; t++) {
    for (let j = 0; j < half; j++) {
      const a = Math.fround(t * inv[j]);
      out[t * channels + j] = Math.sin(a);
      out[t * channels + half + j] = Math.cos(a);
    }
  }
  return tensor(out, { shape: [length, channels] });
}

/**
 * A linear layer: float, MLX-quantized (an mlx-community checkpoint with a `quantization` block), or
 * ggml blocks (a quantized whisper.cpp file).
 */
export type Projection = nn.Linear | nn.QuantizedLinear | nn.GgmlLinear;

/** The token table: float, MLX-quantized, or ggml blocks. */
export type TokenEmbedding = nn.Embedding | nn.QuantizedEmbedding | nn.GgmlEmbedding;

// A quantized table's weight is packed: the float dtype is its scales' (MLX) or what rows expand to (ggml).
function embeddingDType(e: TokenEmbedding): DType {
  if (e instanceof nn.QuantizedEmbedding) return e.scales.dtype;
  if (e instanceof nn.GgmlEmbedding) return e.dtype;
  return e.weight.dtype;
}

export interface AttentionOutput {
  y: Tensor;
  kv: KeyValue;
  /** Attention probabilities [B, H, L, S] when asked for. */
  weights?: Tensor;
}

/** Multi-head attention with openai-whisper's projections (no bias on `key`). */
export class MultiHeadAttention extends nn.Module {
  query: Projection;
  key: Projection;
  value: Projection;
  out: Projection;
  readonly nHead: number;

  constructor(nState: number, nHead: number) {
    super();
    this.nHead = nHead;
    this.query = new nn.Linear(nState, nState);
    this.key = new nn.Linear(nState, nState, { bias: false });
    this.value = new nn.Linear(nState, nState);
    this.out = new nn.Linear(nState, nState);
  }

  // [B, L, H * D] -> [B / G, H, G * L, D]: G rows of x that attend to the same keys/values (beams
  // of one audio) become the query rows of one batch entry; a view.
  #heads(x: Tensor, groups = 1): Tensor {
    const [b, l, s] = x.shape;
    return transpose(reshape(x, [b / groups, groups * l, this.nHead, s / this.nHead]), [0, 2, 1, 3]);
  }

  /**
   * Self-attention over x (`append` stores the new keys/values and returns all so far, e.g.
   * DecoderCache.append; causal when `causal`), or cross-attention to xa, whose keys/values
   * `cache` holds once computed. Cross-attention keys/values of fewer batch rows than x are
   * shared: x's rows [a * G, (a + 1) * G) attend to row a (G = x rows / key rows).
   */
  forward(x: Tensor, opts: {
    xa?: Tensor; cache?: KeyValue; append?: (kv: KeyValue) => KeyValue; causal?: boolean; returnWeights?: boolean;
  } = {}): AttentionOutput {
    let kv: KeyValue;
    if (!opts.xa) {
      const fresh = { k: this.#heads(this.key.forward(x)), v: this.#heads(this.value.forward(x)) };
      kv = opts.append ? opts.append(fresh) : fresh;
    } else {
      // Made contiguous once per window: every decoding step then reads each head's keys and values in order.
      kv = opts.cache ?? { k: copy(this.#heads(this.key.forward(opts.xa))), v: copy(this.#heads(this.value.forward(opts.xa))) };
    }
    const [b, l, s] = x.shape;
    const groups = b / kv.k.shape[0];
    if (!Number.isInteger(groups))
      throw new Error(`MultiHeadAttention: ${b} query rows cannot share the keys/values of ${kv.k.shape[0]} rows`);
    const q = this.#heads(this.query.forward(x), groups);
    // A single new query sees every cached key, so it needs no mask (nor do shared keys: cross-attention).
    const mask = opts.causal && l > 1 ? "causal" : null;
    if (mask && groups > 1) throw new Error("MultiHeadAttention: causal attention cannot share keys/values across rows");
    const { o, weights: w } = sharedAttention(q, kv, groups, l, mask, opts.returnWeights ?? false);
    const y = this.out.forward(reshape(transpose(o, [0, 2, 1, 3]), [b, l, s]));
    let weights = w;
    if (weights && groups > 1) {
      // [B / G, H, G * L, S] -> [B, H, L, S]
      const [, h, , n] = weights.shape;
      weights = reshape(transpose(reshape(weights, [b / groups, h, groups, l, n]), [0, 2, 1, 3, 4]), [b, h, l, n]);
    }
    return { y, kv, weights };
  }
}

// The attention kernel reads up to DECODE_ROWS query rows per head against the key rows in place;
// more rows take its prefill path, which packs every head's keys and values first: measured on
// base's cross-attention (1500 keys, 8 heads, float16), 5 rows took 12 ms against 0.14 ms for 1.
const DECODE_ROWS = 4;

/**
 * Attention of q [B', H, G * L, D] (G row groups of L queries sharing kv): one call, or, for G
 * groups of a few decoding rows each, calls of at most DECODE_ROWS rows (whole groups).
 */
function sharedAttention(q: Tensor, kv: KeyValue, groups: number, l: number, mask: "causal" | null, returnWeights: boolean) {
  const per = groups > 1 && l <= DECODE_ROWS ? Math.max(1, Math.floor(DECODE_ROWS / l)) * l : q.shape[2];
  const outs: Tensor[] = [], weights: Tensor[] = [];
  for (let r0 = 0; r0 < q.shape[2]; r0 += per) {
    const part = per >= q.shape[2] ? q : index(q, null, null, [r0, Math.min(r0 + per, q.shape[2])]);
    const r = fast.scaledDotProductAttention(part, kv.k, kv.v, { mask, returnWeights });
    if (r instanceof Tensor) outs.push(r);
    else {
      outs.push(r.output);
      weights.push(r.weights);
    }
  }
  const join = (ts: Tensor[]) => (ts.length === 1 ? ts[0] : concatenate(ts, 2));
  return { o: join(outs), weights: weights.length ? join(weights) : undefined };
}

/** Pre-norm transformer block: self-attention, optional cross-attention, MLP (exact GELU). */
export class ResidualAttentionBlock extends nn.Module {
  attn: MultiHeadAttention;
  attn_ln: nn.LayerNorm;
  cross_attn?: MultiHeadAttention;
  cross_attn_ln?: nn.LayerNorm;
  mlp1: Projection;
  mlp2: Projection;
  mlp_ln: nn.LayerNorm;

  constructor(nState: number, nHead: number, crossAttention = false) {
    super();
    this.attn = new MultiHeadAttention(nState, nHead);
    this.attn_ln = new nn.LayerNorm(nState);
    if (crossAttention) {
      this.cross_attn = new MultiHeadAttention(nState, nHead);
      this.cross_attn_ln = new nn.LayerNorm(nState);
    }
    this.mlp1 = new nn.Linear(nState, 4 * nState);
    this.mlp2 = new nn.Linear(4 * nState, nState);
    this.mlp_ln = new nn.LayerNorm(nState);
  }

  /**
   * `append` stores the self-attention keys/values (see MultiHeadAttention.forward); `cross` are the
   * cross-attention keys/values of xa when already computed.
   */
  forward(x: Tensor, opts: {
    xa?: Tensor; cross?: KeyValue; append?: (kv: KeyValue) => KeyValue; causal?: boolean; returnWeights?: boolean;
  } = {}) {
    const self = this.attn.forward(this.attn_ln.forward(x), { append: opts.append, causal: opts.causal });
    x = add(x, self.y);
    let cross: AttentionOutput | undefined;
    if (this.cross_attn && this.cross_attn_ln && opts.xa) {
      cross = this.cross_attn.forward(this.cross_attn_ln.forward(x), { xa: opts.xa, cache: opts.cross, returnWeights: opts.returnWeights });
      x = add(x, cross.y);
    }
    x = add(x, this.mlp2.forward(gelu(this.mlp1.forward(this.mlp_ln.forward(x)))));
    return { x, cross: cross?.kv, crossWeights: cross?.weights };
  }
}

/** conv1 -> GELU -> conv2 (stride 2) -> GELU -> + sinusoids -> blocks -> ln_post. */
export class AudioEncoder extends nn.Module {
  conv1: nn.Conv1d;
  conv2: nn.Conv1d;
  blocks: ResidualAttentionBlock[];
  ln_post: nn.LayerNorm;
  // Computed, not a checkpoint weight ("_" keeps it out of the parameters, as in MLX).
  _positionalEmbedding: Tensor;

  constructor(nMels: number, nCtx: number, nState: number, nHead: number, nLayer: number) {
    super();
    this.conv1 = new nn.Conv1d(nMels, nState, 3, { padding: 1 });
    this.conv2 = new nn.Conv1d(nState, nState, 3, { stride: 2, padding: 1 });
    this.blocks = Array.from({ length: nLayer }, () => new ResidualAttentionBlock(nState, nHead));
    this.ln_post = new nn.LayerNorm(nState);
    this._positionalEmbedding = sinusoids(nCtx, nState);
  }

  /** mel [B, 2 * n_audio_ctx, n_mels] (frames, then mel bins: channels-last) -> [B, n_audio_ctx, n_audio_state]. */
  forward(mel: Tensor): Tensor {
    const nCtx = this._positionalEmbedding.shape[0];
    const nMels = this.conv1.weight.shape[2];
    if (mel.ndim !== 3 || mel.shape[1] !== 2 * nCtx || mel.shape[2] !== nMels)
      throw new Error(`AudioEncoder: expected a mel spectrogram [batch, ${2 * nCtx}, ${nMels}] (frames, mel bins), got [${mel.shape.join(", ")}]`);
    const dtype = this.conv1.weight.dtype;
    let x = gelu(this.conv1.forward(astype(mel, dtype)));
    x = gelu(this.conv2.forward(x));
    x = add(x, astype(this._positionalEmbedding, dtype));
    for (const block of this.blocks) x = block.forward(x).x;
    return this.ln_post.forward(x);
  }
}

export interface DecodeOptions {
  /** Reused and extended across calls for incremental decoding. */
  cache?: DecoderCache;
  /** [layer, head] pairs whose cross-attention probabilities to return (for word timing). */
  alignmentHeads?: readonly (readonly [number, number])[];
  /**
   * Positions of `tokens` (0 to L - 1) whose logits to compute, in that order (default: all). A
   * prompt's first step needs two of its L: the others' [L, n_vocab] logits are never made.
   */
  logitPositions?: readonly number[];
}

export interface DecodeResult {
  /** float32 [B, L, n_vocab] (L: the logitPositions when given). */
  logits: Tensor;
  /** Cross-attention probabilities [B, alignmentHeads.length, L, n_audio_ctx], heads in the order asked. */
  crossAttention?: Tensor;
}

/** Token + learned positional embeddings -> blocks (causal self-attention, cross-attention) -> ln -> tied logits. */
export class TextDecoder extends nn.Module {
  token_embedding: TokenEmbedding;
  positional_embedding: Tensor;
  blocks: ResidualAttentionBlock[];
  ln: nn.LayerNorm;
  // The token table as the checkpoint stores it in float16, for the tied logits of a float32 model:
  // the same values (float16 widens exactly) read at half the bytes. Not a parameter ("_").
  _halfTable?: Tensor;

  constructor(nVocab: number, nCtx: number, nState: number, nHead: number, nLayer: number) {
    super();
    this.token_embedding = new nn.Embedding(nVocab, nState);
    this.positional_embedding = tensor(new Float32Array(nCtx * nState), { shape: [nCtx, nState] });
    this.blocks = Array.from({ length: nLayer }, () => new ResidualAttentionBlock(nState, nHead, true));
    this.ln = new nn.LayerNorm(nState);
  }

  /**
   * tokens [B, L] (int32) attending to audio features xa [B / G, S, n_state]: token rows
   * [a * G, (a + 1) * G) (beams or samples of one audio) share audio row a.
   */
  forward(tokens: Tensor, xa: Tensor, opts: DecodeOptions = {}): DecodeResult {
    const cache = opts.cache;
    const offset = cache?.offset ?? 0;
    const [nCtx, nState] = this.positional_embedding.shape;
    if (tokens.ndim !== 2) throw new Error(`TextDecoder: tokens must be [batch, length], got [${tokens.shape.join(", ")}]`);
    const [b, l] = tokens.shape;
    if (offset + l > nCtx) throw new Error(`TextDecoder: ${offset + l} tokens exceed the text context of ${nCtx}`);
    const audioRows = cache?.cross(0)?.k.shape[0] ?? xa.shape[0];
    if (xa.ndim !== 3 || xa.shape[2] !== nState || !(audioRows > 0 && b % audioRows === 0))
      throw new Error(`TextDecoder: audio features must be [${b} (or a divisor: rows per audio), n_audio_ctx, ${nState}], got [${xa.shape.join(", ")}]`);
    if (cache && cache.nLayer !== this.blocks.length)
      throw new Error(`TextDecoder: the cache has ${cache.nLayer} layers, the decoder ${this.blocks.length}`);
    const heads = opts.alignmentHeads ?? [];
    for (const [layer, head] of heads)
      if (!(layer >= 0 && layer < this.blocks.length && head >= 0 && head < this.blocks[0].attn.nHead))
        throw new Error(`TextDecoder: alignment head [${layer}, ${head}] is out of range (${this.blocks.length} layers, ${this.blocks[0].attn.nHead} heads)`);
    const dtype = embeddingDType(this.token_embedding);
    const pos = this.positional_embedding.shape[0] === l && offset === 0
      ? this.positional_embedding
      : index(this.positional_embedding, [offset, offset + l]);
    let x = add(this.token_embedding.forward(astype(tokens, "int32")), pos);
    xa = astype(xa, dtype);
    const weights = new Map<number, Tensor>();
    this.blocks.forEach((block, i) => {
      const wanted = heads.some(([layer]) => layer === i);
      const append = cache && ((kv: KeyValue) => cache.append(i, kv));
      const r = block.forward(x, { xa, cross: cache?.cross(i), append, causal: true, returnWeights: wanted });
      x = r.x;
      if (cache && !cache.cross(i) && r.cross) cache.setCross(i, r.cross);
      if (wanted && r.crossWeights) weights.set(i, r.crossWeights);
    });
    cache?.advance(l);
    const positions = opts.logitPositions;
    if (positions && !positions.every((p) => Number.isInteger(p) && p >= 0 && p < l))
      throw new Error(`TextDecoder: logitPositions must be integers in [0, ${l}), got [${positions.join(", ")}]`);
    const h = this.ln.forward(positions ? take(x, tensor([...positions], { dtype: "int32" }), 1) : x);
    const half = this._halfTable;
    const logits = half && dtype === "float32" ? matmul(h, half.T) : astype(this.token_embedding.asLinear(h), "float32");
    if (!heads.length) return { logits };
    const picked = heads.map(([layer, head]) => take(weights.get(layer) as Tensor, tensor([head], { dtype: "int32" }), 1));
    return { logits, crossAttention: astype(concatenate(picked, 1), "float32") };
  }
}

function tokensTensor(tokens: Tensor | NestedArray): Tensor {
  return tokens instanceof Tensor ? tokens : tensor(tokens, { dtype: "int32" });
}

/** Whisper: an AudioEncoder and a TextDecoder with the dimensions of one checkpoint. */
export class Whisper extends nn.Module {
  encoder: AudioEncoder;
  decoder: TextDecoder;
  readonly dims: ModelDimensions;

  constructor(dims: ModelDimensions) {
    super();
    this.dims = checkDimensions(dims as unknown as Record<string, unknown>, "Whisper");
    const d = this.dims;
    this.encoder = new AudioEncoder(d.n_mels, d.n_audio_ctx, d.n_audio_state, d.n_audio_head, d.n_audio_layer);
    this.decoder = new TextDecoder(d.n_vocab, d.n_text_ctx, d.n_text_state, d.n_text_head, d.n_text_layer);
  }

  /**
   * Audio features [B, n_audio_ctx, n_audio_state] of mel [B, 2 * n_audio_ctx, n_mels]. The
   * encoder's intermediate tensors are released on return (tidy), so their buffers go back to the
   * allocator as soon as the features are evaluated instead of when the garbage collector finds
   * them (in a synchronous loop, never): in bench/whisper.ts, base's encoder went from 1.1 s to
   * 0.57 s per window, as its activations stopped coming from fresh pages. decode() does the same.
   */
  embedAudio(mel: Tensor): Tensor {
    return tidy(() => this.encoder.forward(mel));
  }

  /** Decoder logits (and cross-attention of chosen heads) for tokens [B, L]; see DecodeOptions. */
  decode(tokens: Tensor | NestedArray, audioFeatures: Tensor, opts: DecodeOptions = {}): DecodeResult {
    // The step's intermediates are released on return (the cache keeps its own buffers), so a
    // beam-search step's memory goes back to the allocator before the next one.
    return tidy(() => this.decoder.forward(tokensTensor(tokens), audioFeatures, opts));
  }

  /** float32 logits [B, L, n_vocab]. */
  logits(tokens: Tensor | NestedArray, audioFeatures: Tensor, cache?: DecoderCache): Tensor {
    return this.decode(tokens, audioFeatures, { cache }).logits;
  }

  /** An empty cache for incremental decoding. */
  newCache(): DecoderCache {
    return new DecoderCache(this.dims.n_text_layer, this.dims.n_text_ctx);
  }

  /** The dtype of the weights (the first float parameter's). */
  get dtype(): DType {
    return embeddingDType(this.decoder.token_embedding);
  }

  get isMultilingual(): boolean {
    return this.dims.n_vocab >= 51865;
  }

  get numLanguages(): number {
    return this.dims.n_vocab - 51765 - Number(this.isMultilingual);
  }
}
