// SigLIP's vision transformer (transformers' SiglipVisionTransformer without the pooling head, as
// Gemma 3 uses it): patches (convolution with bias) + learned positions, no class token, pre-LN
// blocks with GELU (tanh), post_layernorm.
import { Tensor, add, nn } from "@tessera/core";
import type { Config } from "@tessera/lm";
import { Encoder, embedPatches, sanitizeConv, visionArgs } from "./encoder.js";
import type { VisionArgs } from "./encoder.js";

class Embeddings extends nn.Module {
  patch_embedding: nn.Conv2d;
  position_embedding: nn.Embedding;

  constructor(a: VisionArgs) {
    super();
    this.patch_embedding = new nn.Conv2d(3, a.hiddenSize, a.patchSize, { stride: a.patchSize });
    this.position_embedding = new nn.Embedding((a.imageSize / a.patchSize) ** 2, a.hiddenSize);
  }
}

export class SiglipVisionModel extends nn.Module {
  embeddings: Embeddings;
  encoder: Encoder;
  post_layernorm: nn.LayerNorm;
  readonly args: VisionArgs;

  constructor(config: Config, source: string) {
    super();
    if (config.vision_use_head === true) throw new Error(`${source}: vision_config.vision_use_head (the pooling head) is not supported`);
    const a = (this.args = visionArgs(config, source, "gelu_pytorch_tanh"));
    this.embeddings = new Embeddings(a);
    this.encoder = new Encoder(a);
    this.post_layernorm = new nn.LayerNorm(a.hiddenSize, { eps: a.layerNormEps });
  }

  /** last_hidden_state [N, patches, hidden] of pixel values [N, 3, H, W]. */
  forward(pixels: Tensor): Tensor {
    const patches = embedPatches(this.embeddings.patch_embedding, pixels, this.args, "SigLIP");
    const x = add(patches, this.embeddings.position_embedding.weight.astype(patches.dtype));
    return this.post_layernorm.forward(this.encoder.forward(x));
  }

  sanitize(weights: Map<string, Tensor>, prefix: string): void {
    sanitizeConv(weights, `${prefix}embeddings.patch_embedding.weight`);
  }
}
