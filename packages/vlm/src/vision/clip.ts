// CLIP's vision transformer (transformers' CLIPVisionTransformer): class embedding + patches +
// learned positions, pre_layrnorm (sic, the checkpoint's key), pre-LN blocks, post_layernorm.
// LLaVA reads the hidden states of a chosen layer (vision_feature_layer, -2: the penultimate).
import { Tensor, add, broadcastTo, concatenate, nn, zeros } from "@tessera/core";
import { Encoder, embedPatches, sanitizeConv, visionArgs } from "./encoder.js";
import type { VisionArgs } from "./encoder.js";
import type { Config } from "@tessera/lm";

class Embeddings extends nn.Module {
  class_embedding: Tensor;
  patch_embedding: nn.Conv2d;
  position_embedding: nn.Embedding;

  constructor(a: VisionArgs) {
    super();
    this.class_embedding = zeros([a.hiddenSize]);
    this.patch_embedding = new nn.Conv2d(3, a.hiddenSize, a.patchSize, { stride: a.patchSize, bias: false });
    this.position_embedding = new nn.Embedding((a.imageSize / a.patchSize) ** 2 + 1, a.hiddenSize);
  }
}

export class CLIPVisionModel extends nn.Module {
  embeddings: Embeddings;
  pre_layrnorm: nn.LayerNorm;
  encoder: Encoder;
  post_layernorm: nn.LayerNorm;
  readonly args: VisionArgs;

  constructor(config: Config, source: string) {
    super();
    const a = (this.args = visionArgs(config, source, "quick_gelu"));
    this.embeddings = new Embeddings(a);
    this.pre_layrnorm = new nn.LayerNorm(a.hiddenSize, { eps: a.layerNormEps });
    this.encoder = new Encoder(a);
    this.post_layernorm = new nn.LayerNorm(a.hiddenSize, { eps: a.layerNormEps });
  }

  /**
   * Hidden states [N, 1 + patches, hidden] of pixel values [N, 3, H, W] after `layer` blocks
   * (transformers' hidden_states[layer]: 0 the embeddings, -1 the last block, -2 the penultimate).
   */
  hiddenStates(pixels: Tensor, layer = -1): Tensor {
    const n = this.args.numHiddenLayers;
    const count = layer < 0 ? n + 1 + layer : layer;
    if (!Number.isInteger(count) || count < 0 || count > n) throw new Error(`CLIP: vision_feature_layer ${layer} is outside the ${n} layers`);
    const e = this.embeddings;
    const patches = embedPatches(e.patch_embedding, pixels, this.args, "CLIP");
    const [b, , d] = patches.shape;
    const cls = broadcastTo(e.class_embedding.astype(patches.dtype).reshape([1, 1, d]), [b, 1, d]);
    const x = add(concatenate([cls, patches], 1), e.position_embedding.weight.astype(patches.dtype));
    return this.encoder.forward(this.pre_layrnorm.forward(x), count);
  }

  /** The tower's PyTorch patch-convolution weight in MLX layout. */
  sanitize(weights: Map<string, Tensor>, prefix: string): void {
    sanitizeConv(weights, `${prefix}embeddings.patch_embedding.weight`);
  }
}
