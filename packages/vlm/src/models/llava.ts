// LLaVA (transformers' LlavaForConditionalGeneration): a CLIP tower's vision_feature_layer hidden
// states ('default' strategy: without the class token) through a 2-layer GELU MLP projector,
// replacing the prompt's image tokens in the input embeddings of an @tessera/lm text model.
import { Tensor, nn, slice } from "@tessera/core";
import { modelFromConfig } from "@tessera/lm";
import type { Config, LanguageModel, LayerCache } from "@tessera/lm";
import { CLIPVisionModel } from "../vision/clip.js";
import { activation } from "../vision/encoder.js";
import type { VisionArgs } from "../vision/encoder.js";
import { renamePrefixes, subConfig } from "./base.js";
import type { VisionLanguageModel } from "./base.js";
import type { ImageSize } from "../processors/anyres.js";

class Projector extends nn.Module {
  linear_1: nn.Linear;
  linear_2: nn.Linear;
  readonly act: VisionArgs["hiddenAct"];

  constructor(vision: number, text: number, act: VisionArgs["hiddenAct"], bias: boolean) {
    super();
    this.linear_1 = new nn.Linear(vision, text, { bias });
    this.linear_2 = new nn.Linear(text, text, { bias });
    this.act = act;
  }

  forward(x: Tensor): Tensor {
    return this.linear_2.forward(activation(this.linear_1.forward(x), this.act));
  }
}

export class Model extends nn.Module implements VisionLanguageModel {
  vision_tower: CLIPVisionModel;
  multi_modal_projector: Projector;
  language_model: LanguageModel;
  readonly imageTokenId: number;
  readonly featureLayer: number;
  readonly dropCls: boolean;

  constructor(config: Config, source: string) {
    super();
    const act = config.projector_hidden_act ?? "gelu";
    if (act !== "gelu" && act !== "gelu_pytorch_tanh" && act !== "quick_gelu") throw new Error(`${source}: projector_hidden_act ${JSON.stringify(act)} is not supported`);
    const strategy = config.vision_feature_select_strategy ?? "default";
    if (strategy !== "default" && strategy !== "full") throw new Error(`${source}: vision_feature_select_strategy ${JSON.stringify(strategy)} is not supported (default or full)`);
    const layer = config.vision_feature_layer ?? -2;
    if (!Number.isInteger(layer)) throw new Error(`${source}: vision_feature_layer must be one integer (several layers are not supported), got ${JSON.stringify(layer)}`);
    const id = config.image_token_index ?? config.image_token_id;
    if (!Number.isInteger(id)) throw new Error(`${source}: config.json has no image_token_index`);
    this.vision_tower = new CLIPVisionModel(subConfig(config, "vision_config", source), source);
    const text = subConfig(config, "text_config", source);
    this.language_model = modelFromConfig({ model_type: "llama", ...text }, source);
    this.multi_modal_projector = new Projector(this.vision_tower.args.hiddenSize, text.hidden_size as number, act,
      config.multimodal_projector_bias !== false);
    this.imageTokenId = id as number;
    this.featureLayer = layer as number;
    this.dropCls = strategy === "default";
  }

  get modelType(): string { return "llava"; }
  get language(): LanguageModel { return this.language_model; }
  /** Features per image: one per patch (and the class token's with the 'full' strategy). */
  get tokensPerImage(): number { return (this.vision_tower.args.imageSize / this.vision_tower.args.patchSize) ** 2 + (this.dropCls ? 0 : 1); }
  imageTokens(_size?: ImageSize): number { return this.tokensPerImage; }

  imageFeatures(pixels: Tensor): Tensor {
    let h = this.vision_tower.hiddenStates(pixels, this.featureLayer);
    if (this.dropCls) h = slice(h, [0, 1, 0], h.shape);
    return this.multi_modal_projector.forward(h);
  }

  embed(ids: Tensor): Tensor {
    return (this.language_model as unknown as { model: { embed(t: Tensor): Tensor } }).model.embed(ids);
  }

  prefillCaches(_ids: readonly number[], cache: LayerCache[]): LayerCache[] {
    return cache;
  }

  /** transformers 4.x/5.x layouts to the saved one: vision_tower.vision_model. -> vision_tower., model.* -> top level. */
  sanitize(weights: Map<string, Tensor>): Map<string, Tensor> {
    return sanitizeConditionalGeneration(this, weights);
  }
}

/**
 * transformers 4.x/5.x (and mlx-vlm's) layouts of a *ForConditionalGeneration checkpoint (LLaVA, LLaVA-NeXT, Gemma 3) to the
 * saved one (vision_tower.vision_model. -> vision_tower., model.* -> top level), then the tower's
 * and the text model's own sanitize.
 */
export function sanitizeConditionalGeneration(
  m: { vision_tower: { sanitize(w: Map<string, Tensor>, prefix: string): void }; language_model: LanguageModel },
  weights: Map<string, Tensor>,
): Map<string, Tensor> {
  const w = renamePrefixes(weights, [
    ["model.language_model.", "language_model.model."], ["model.vision_tower.vision_model.", "vision_tower."],
    ["model.vision_tower.", "vision_tower."], ["model.multi_modal_projector.", "multi_modal_projector."],
    ["vision_tower.vision_model.", "vision_tower."], ["lm_head.", "language_model.lm_head."], ["model.image_newline", "image_newline"],
  ]);
  m.vision_tower.sanitize(w, "vision_tower.");
  return sanitizeLanguage(m.language_model, w);
}

/** Applies the text model's sanitize to its language_model.* keys. */
export function sanitizeLanguage(lm: LanguageModel, w: Map<string, Tensor>): Map<string, Tensor> {
  const inner = new Map<string, Tensor>(), out = new Map<string, Tensor>();
  for (const [k, v] of w) (k.startsWith("language_model.") ? inner.set(k.slice(15), v) : out.set(k, v));
  for (const [k, v] of lm.sanitize(inner)) out.set(`language_model.${k}`, v);
  return out;
}

export function fromConfig(config: Config, source: string): Model {
  return new Model(config, source);
}
