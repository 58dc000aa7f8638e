// The ViT encoder CLIP and SigLIP share (transformers' CLIPEncoderLayer / SiglipEncoderLayer, with
// the checkpoint's key names): pre-LN blocks of bidirectional multi-head attention (q/k/v/out
// projections with biases) and a two-layer MLP, plus the patch embedding (a stride-p convolution).
import { Tensor, add, fast, multiply, nn, sigmoid } from "@tessera/core";
import { mergeHeads, splitHeads } from "@tessera/lm";
import type { Config } from "@tessera/lm";

export interface VisionArgs {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  imageSize: number;
  patchSize: number;
  layerNormEps: number;
  hiddenAct: "quick_gelu" | "gelu" | "gelu_pytorch_tanh";
}

/** A vision_config block's keys, naming the bad one. */
export function visionArgs(c: Config, source: string, defaultAct: VisionArgs["hiddenAct"]): VisionArgs {
  const int = (k: string) => {
    const v = c[k];
    if (!Number.isInteger(v) || (v as number) <= 0) throw new Error(`${source}: vision_config.${k} must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const act = (c.hidden_act ?? defaultAct) as string;
  if (!["quick_gelu", "gelu", "gelu_pytorch_tanh"].includes(act)) throw new Error(`${source}: vision_config.hidden_act ${JSON.stringify(act)} is not supported`);
  const a: VisionArgs = {
    hiddenSize: int("hidden_size"), intermediateSize: int("intermediate_size"), numHiddenLayers: int("num_hidden_layers"),
    numAttentionHeads: int("num_attention_heads"), imageSize: int("image_size"), patchSize: int("patch_size"),
    layerNormEps: typeof c.layer_norm_eps === "number" ? c.layer_norm_eps : 1e-5, hiddenAct: act as VisionArgs["hiddenAct"],
  };
  if (a.imageSize % a.patchSize) throw new Error(`${source}: vision_config.image_size (${a.imageSize}) must be a multiple of patch_size (${a.patchSize})`);
  if (a.hiddenSize % a.numAttentionHeads) throw new Error(`${source}: vision_config.hidden_size must be a multiple of num_attention_heads`);
  return a;
}

export function activation(x: Tensor, act: VisionArgs["hiddenAct"]): Tensor {
  if (act === "quick_gelu") return multiply(x, sigmoid(multiply(x, 1.702)));
  return act === "gelu" ? nn.gelu(x) : nn.geluApprox(x);
}

class Attention extends nn.Module {
  q_proj: nn.Linear;
  k_proj: nn.Linear;
  v_proj: nn.Linear;
  out_proj: nn.Linear;
  readonly heads: number;

  constructor(a: VisionArgs) {
    super();
    const h = a.hiddenSize;
    this.q_proj = new nn.Linear(h, h);
    this.k_proj = new nn.Linear(h, h);
    this.v_proj = new nn.Linear(h, h);
    this.out_proj = new nn.Linear(h, h);
    this.heads = a.numAttentionHeads;
  }

  forward(x: Tensor): Tensor {
    const q = splitHeads(this.q_proj.forward(x), this.heads);
    const k = splitHeads(this.k_proj.forward(x), this.heads);
    const v = splitHeads(this.v_proj.forward(x), this.heads);
    const o = fast.scaledDotProductAttention(q, k, v, { scale: q.shape[3] ** -0.5, mask: null });
    return this.out_proj.forward(mergeHeads(o));
  }
}

class MLP extends nn.Module {
  fc1: nn.Linear;
  fc2: nn.Linear;
  readonly act: VisionArgs["hiddenAct"];

  constructor(a: VisionArgs) {
    super();
    this.fc1 = new nn.Linear(a.hiddenSize, a.intermediateSize);
    this.fc2 = new nn.Linear(a.intermediateSize, a.hiddenSize);
    this.act = a.hiddenAct;
  }

  forward(x: Tensor): Tensor {
    return this.fc2.forward(activation(this.fc1.forward(x), this.act));
  }
}

export class EncoderLayer extends nn.Module {
  self_attn: Attention;
  layer_norm1: nn.LayerNorm;
  mlp: MLP;
  layer_norm2: nn.LayerNorm;

  constructor(a: VisionArgs) {
    super();
    this.self_attn = new Attention(a);
    this.layer_norm1 = new nn.LayerNorm(a.hiddenSize, { eps: a.layerNormEps });
    this.mlp = new MLP(a);
    this.layer_norm2 = new nn.LayerNorm(a.hiddenSize, { eps: a.layerNormEps });
  }

  forward(x: Tensor): Tensor {
    const h = add(x, this.self_attn.forward(this.layer_norm1.forward(x)));
    return add(h, this.mlp.forward(this.layer_norm2.forward(h)));
  }
}

export class Encoder extends nn.Module {
  layers: EncoderLayer[];

  constructor(a: VisionArgs) {
    super();
    this.layers = Array.from({ length: a.numHiddenLayers }, () => new EncoderLayer(a));
  }

  /** Runs the first `count` layers (all by default). */
  forward(x: Tensor, count = this.layers.length): Tensor {
    for (let i = 0; i < count; i++) x = this.layers[i].forward(x);
    return x;
  }
}

/** Pixel values [N, 3, H, W] (transformers' layout) through the stride-p patch convolution -> [N, patches, hidden]. */
export function embedPatches(conv: nn.Conv2d, pixels: Tensor, a: VisionArgs, source: string): Tensor {
  if (pixels.ndim !== 4 || pixels.shape[1] !== 3 || pixels.shape[2] !== a.imageSize || pixels.shape[3] !== a.imageSize)
    throw new Error(`${source}: pixel values must be [N, 3, ${a.imageSize}, ${a.imageSize}], got [${pixels.shape.join(", ")}]`);
  const x = conv.forward(pixels.transpose(0, 2, 3, 1).astype(conv.weight.dtype));
  const [n, gh, gw, d] = x.shape;
  return x.reshape([n, gh * gw, d]);
}

/** PyTorch conv weights [O, C, kh, kw] -> MLX layout [O, kh, kw, C] (already-converted ones kept). */
export function sanitizeConv(weights: Map<string, Tensor>, key: string, channels = 3): void {
  const w = weights.get(key);
  if (w && w.ndim === 4 && w.shape[1] === channels && w.shape[3] !== channels) weights.set(key, w.transpose(0, 2, 3, 1));
}
