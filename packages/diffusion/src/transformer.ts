// diffusers' Transformer2DModel (continuous input) with BasicTransformerBlock: self-attention,
// cross-attention to the text embeddings, and a GEGLU feed-forward, on channels-last images.
import { Tensor, add, fast, multiply, nn, reshape, split, transpose } from "@tessera/core";

/** diffusers' Attention as the UNet uses it: to_q / to_k / to_v without bias, to_out.0 with bias. */
export class Attention extends nn.Module {
  to_q: nn.Linear;
  to_k: nn.Linear;
  to_v: nn.Linear;
  to_out: [nn.Linear];
  readonly heads: number;

  constructor(queryDim: number, contextDim: number, heads: number, headDim: number, bias = false) {
    super();
    const inner = heads * headDim;
    this.heads = heads;
    this.to_q = new nn.Linear(queryDim, inner, { bias });
    this.to_k = new nn.Linear(contextDim, inner, { bias });
    this.to_v = new nn.Linear(contextDim, inner, { bias });
    this.to_out = [new nn.Linear(inner, queryDim)];
  }

  /** x [B, L, Dq], context [B, S, Dc] (x itself for self-attention) -> [B, L, Dq]. */
  forward(x: Tensor, context: Tensor = x): Tensor {
    const heads = this.heads;
    const split4 = (t: Tensor) => transpose(reshape(t, [t.shape[0], t.shape[1], heads, t.shape[2] / heads]), [0, 2, 1, 3]);
    const o = fast.scaledDotProductAttention(split4(this.to_q.forward(x)), split4(this.to_k.forward(context)), split4(this.to_v.forward(context)));
    const [b, , l, d] = o.shape;
    return this.to_out[0].forward(reshape(transpose(o, [0, 2, 1, 3]), [b, l, heads * d]));
  }
}

/** diffusers' GEGLU: one projection to 2 x inner, then hidden * gelu(gate). */
class GEGLU extends nn.Module {
  proj: nn.Linear;

  constructor(dim: number, inner: number) {
    super();
    this.proj = new nn.Linear(dim, 2 * inner);
  }

  forward(x: Tensor): Tensor {
    const [hidden, gate] = split(this.proj.forward(x), 2, -1);
    return multiply(hidden, nn.gelu(gate));
  }
}

/** diffusers' FeedForward with activation "geglu": net.0 (GEGLU), net.1 (dropout, no weights), net.2. */
class FeedForward extends nn.Module {
  net: [GEGLU, null, nn.Linear];

  constructor(dim: number, mult = 4) {
    super();
    this.net = [new GEGLU(dim, dim * mult), null, new nn.Linear(dim * mult, dim)];
  }

  forward(x: Tensor): Tensor {
    return this.net[2].forward(this.net[0].forward(x));
  }
}

/** diffusers' BasicTransformerBlock with layer norms: self-attention, cross-attention, feed-forward, each residual. */
export class BasicTransformerBlock extends nn.Module {
  norm1: nn.LayerNorm;
  attn1: Attention;
  norm2: nn.LayerNorm;
  attn2: Attention;
  norm3: nn.LayerNorm;
  ff: FeedForward;

  constructor(dim: number, heads: number, headDim: number, contextDim: number) {
    super();
    this.norm1 = new nn.LayerNorm(dim);
    this.attn1 = new Attention(dim, dim, heads, headDim);
    this.norm2 = new nn.LayerNorm(dim);
    this.attn2 = new Attention(dim, contextDim, heads, headDim);
    this.norm3 = new nn.LayerNorm(dim);
    this.ff = new FeedForward(dim);
  }

  forward(x: Tensor, context: Tensor): Tensor {
    let h = add(x, this.attn1.forward(this.norm1.forward(x)));
    h = add(h, this.attn2.forward(this.norm2.forward(h), context));
    return add(h, this.ff.forward(this.norm3.forward(h)));
  }
}

export interface Transformer2DOptions {
  heads: number;
  headDim: number;
  channels: number;
  layers: number;
  contextDim: number;
  groups: number;
  /** Linear proj_in / proj_out (SD 2.x, SDXL) instead of 1x1 convolutions (SD 1.5). */
  linearProjection: boolean;
}

/** diffusers' Transformer2DModel for continuous (latent image) input. */
export class Transformer2DModel extends nn.Module {
  norm: nn.GroupNorm;
  proj_in: nn.Linear | nn.Conv2d;
  transformer_blocks: BasicTransformerBlock[];
  proj_out: nn.Linear | nn.Conv2d;

  constructor(o: Transformer2DOptions) {
    super();
    const inner = o.heads * o.headDim;
    this.norm = new nn.GroupNorm(o.groups, o.channels, { eps: 1e-6 });
    this.proj_in = o.linearProjection ? new nn.Linear(o.channels, inner) : new nn.Conv2d(o.channels, inner, 1);
    this.transformer_blocks = Array.from({ length: o.layers }, () => new BasicTransformerBlock(inner, o.heads, o.headDim, o.contextDim));
    this.proj_out = o.linearProjection ? new nn.Linear(inner, o.channels) : new nn.Conv2d(inner, o.channels, 1);
  }

  /** x [B, H, W, C], context [B, S, Dc] -> [B, H, W, C]. */
  forward(x: Tensor, context: Tensor): Tensor {
    const [b, hh, ww, c] = x.shape;
    // Channels-last: a 1x1 convolution is the same product as the linear projection, on [B, H*W, C].
    let h = this.proj_in.forward(this.norm.forward(x));
    h = reshape(h, [b, hh * ww, h.shape[3]]);
    for (const block of this.transformer_blocks) h = block.forward(h, context);
    h = this.proj_out instanceof nn.Conv2d ? this.proj_out.forward(reshape(h, [b, hh, ww, h.shape[2]])) : reshape(this.proj_out.forward(h), [b, hh, ww, c]);
    return add(h, x);
  }
}
