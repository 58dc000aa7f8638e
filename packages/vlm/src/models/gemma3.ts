// Gemma 3 (transformers' Gemma3ForConditionalGeneration): a SigLIP tower's last hidden state,
// average-pooled to mm_tokens_per_image, RMSNorm (1 + weight) and a projection matrix, in place of
// the prompt's image soft tokens inside @tessera/lm's gemma3_text. During the prompt's pass the
// tokens of one image see each other (bidirectionally) on every layer, within the sliding window
// on local layers: AND(window, OR(causal, same image)) as transformers builds its masks.
import { Tensor, astype, avgPool2d, matmul, nn, tensor, zeros } from "@tessera/core";
import { RotatingKVCache, modelFromConfig } from "@tessera/lm";
import type { CacheView, Config, LanguageModel, LayerCache } from "@tessera/lm";
import { SiglipVisionModel } from "../vision/siglip.js";
import { GemmaRMSNorm as RMSNorm } from "@tessera/lm";
import { sanitizeConditionalGeneration } from "./llava.js";
import { subConfig } from "./base.js";
import type { VisionLanguageModel } from "./base.js";
import type { ImageSize } from "../processors/anyres.js";

class Projector extends nn.Module {
  mm_input_projection_weight: Tensor;
  mm_soft_emb_norm: RMSNorm;
  readonly patchesPerSide: number;
  readonly kernel: number;

  constructor(vision: SiglipVisionModel, textHidden: number, tokens: number, source: string) {
    super();
    const a = vision.args;
    this.mm_input_projection_weight = zeros([a.hiddenSize, textHidden]);
    this.mm_soft_emb_norm = new RMSNorm(a.hiddenSize, a.layerNormEps);
    this.patchesPerSide = a.imageSize / a.patchSize;
    const side = Math.round(Math.sqrt(tokens));
    if (side * side !== tokens || this.patchesPerSide % side) throw new Error(`${source}: mm_tokens_per_image (${tokens}) must be a square whose side divides ${this.patchesPerSide} patches`);
    this.kernel = this.patchesPerSide / side;
  }

  forward(x: Tensor): Tensor {
    const [n, , d] = x.shape;
    const grid = x.reshape([n, this.patchesPerSide, this.patchesPerSide, d]);
    const pooled = avgPool2d(grid, this.kernel);
    const [, s1, s2] = pooled.shape;
    const normed = this.mm_soft_emb_norm.forward(pooled.reshape([n, s1 * s2, d]));
    return astype(matmul(normed, this.mm_input_projection_weight), x.dtype);
  }
}

/** Wraps a layer cache for the prompt's pass: its mask also lets one image's tokens see each other. */
class ImageBlockCache implements LayerCache {
  constructor(readonly inner: LayerCache, readonly groups: Int32Array) {}
  get offset(): number { return this.inner.offset; }
  state(): Tensor[] { return this.inner.state(); }
  dispose(): void { this.inner.dispose(); }

  update(k: Tensor, v: Tensor): CacheView {
    const start = this.inner.offset;
    const view = this.inner.update(k, v);
    const l = k.shape[2], s = view.keys.shape[2];
    if (l === 1) return view;
    const window = this.inner instanceof RotatingKVCache ? this.inner.maxSize : Infinity;
    const keyStart = start + l - s;
    const group = (p: number) => (p >= 0 && p < this.groups.length ? this.groups[p] : -1);
    const m = new Uint8Array(l * s);
    for (let i = 0; i < l; i++) {
      const qp = start + i, g = group(qp);
      for (let j = 0; j < s; j++) {
        const kp = keyStart + j;
        m[i * s + j] = (kp <= qp || (g >= 0 && group(kp) === g)) && qp - kp < window ? 1 : 0;
      }
    }
    return { ...view, mask: tensor(m, { shape: [l, s], dtype: "bool" }) };
  }
}

export class Model extends nn.Module implements VisionLanguageModel {
  vision_tower: SiglipVisionModel;
  multi_modal_projector: Projector;
  language_model: LanguageModel;
  readonly imageTokenId: number;
  readonly tokensPerImage: number;

  constructor(config: Config, source: string) {
    super();
    this.vision_tower = new SiglipVisionModel(subConfig(config, "vision_config", source), source);
    const text = subConfig(config, "text_config", source);
    this.language_model = modelFromConfig({ model_type: "gemma3_text", ...text }, source);
    const tokens = config.mm_tokens_per_image ?? 256;
    if (!Number.isInteger(tokens)) throw new Error(`${source}: mm_tokens_per_image must be an integer`);
    this.tokensPerImage = tokens as number;
    this.multi_modal_projector = new Projector(this.vision_tower, text.hidden_size as number, this.tokensPerImage, source);
    const id = config.image_token_index ?? config.image_token_id ?? 262144;
    if (!Number.isInteger(id)) throw new Error(`${source}: image_token_index must be an integer`);
    this.imageTokenId = id as number;
  }

  get modelType(): string { return "gemma3"; }
  imageTokens(_size?: ImageSize): number { return this.tokensPerImage; }
  get language(): LanguageModel { return this.language_model; }

  imageFeatures(pixels: Tensor): Tensor {
    return this.multi_modal_projector.forward(this.vision_tower.forward(pixels));
  }

  embed(ids: Tensor): Tensor {
    return (this.language_model as unknown as { model: { embed(t: Tensor): Tensor } }).model.embed(ids);
  }

  /** Image-block masks for runs of image tokens (positions from the cache's offset on). */
  prefillCaches(ids: readonly number[], cache: LayerCache[]): LayerCache[] {
    const offset = cache[0]?.offset ?? 0;
    const groups = new Int32Array(offset + ids.length).fill(-1);
    let g = -1;
    ids.forEach((t, i) => {
      if (t !== this.imageTokenId) return;
      if (i === 0 || ids[i - 1] !== this.imageTokenId) g++;
      groups[offset + i] = g;
    });
    return g < 0 ? cache : cache.map((c) => new ImageBlockCache(c, groups));
  }

  sanitize(weights: Map<string, Tensor>): Map<string, Tensor> {
    return sanitizeConditionalGeneration(this, weights);
  }
}

export function fromConfig(config: Config, source: string): Model {
  return new Model(config, source);
}
