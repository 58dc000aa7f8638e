// What LLaVA and Gemma 3 share: the contract generate.ts uses, placing image features at the
// prompt's image-token positions of the text model's input embeddings (transformers'
// masked_scatter), and the checks on image-token counts.
import { Tensor, concatenate, nn, take, tensor } from "@tessera/core";
import type { Config, LanguageModel, LayerCache } from "@tessera/lm";
import type { ImageSize } from "../processors/anyres.js";

export interface VisionLanguageModel extends nn.Module {
  readonly modelType: string;
  /** The text model (an @tessera/lm model), run on merged input embeddings. */
  readonly language: LanguageModel;
  /** The prompt token each image feature replaces. */
  readonly imageTokenId: number;
  /** Feature vectors (prompt tokens) of an image of this (decoded) size. */
  imageTokens(size: ImageSize): number;
  /**
   * Projected image features of pixel values [tiles, 3, H, W]: [N, tokens, text hidden] for models
   * with one tile and a fixed count per image, [total tokens, text hidden] for LLaVA-NeXT, whose
   * tiles and tokens depend on each image's size (imageSizes, required there).
   */
  imageFeatures(pixels: Tensor, imageSizes?: readonly ImageSize[]): Tensor;
  /** The text model's input embeddings of token ids [1, L]. */
  embed(ids: Tensor): Tensor;
  /** The caches the prompt's forward pass writes through (Gemma 3: with its image-block mask). */
  prefillCaches(ids: readonly number[], cache: LayerCache[]): LayerCache[];
  /** The few real renames between checkpoint keys and this model's (a new map). */
  sanitize(weights: Map<string, Tensor>): Map<string, Tensor>;
}

/** Input embeddings [1, L, H] of prompt ids with the image features' rows at the image tokens. */
export function mergeImageFeatures(vlm: VisionLanguageModel, ids: readonly number[], features?: Tensor): Tensor {
  const positions = ids.flatMap((t, i) => (t === vlm.imageTokenId ? [i] : []));
  const n = features ? features.size / features.shape[features.ndim - 1] : 0;
  if (positions.length !== n)
    throw new Error(`${vlm.modelType}: the prompt has ${positions.length} image tokens but ${features ? `${features.ndim === 3 ? `${features.shape[0]} image(s)` : "the images"} give ${n} features` : "no image was given"}`);
  // Image token ids past the vocabulary (some checkpoints) are embedded as 0; their rows are replaced anyway.
  const safe = ids.map((t) => (t === vlm.imageTokenId && t >= vlm.language.vocabSize ? 0 : t));
  const text = vlm.embed(tensor(Int32Array.from(safe), { shape: [1, ids.length] }));
  if (!features || n === 0) return text;
  const h = text.shape[2];
  const table = concatenate([text.reshape([ids.length, h]), features.astype(text.dtype).reshape([n, h])], 0);
  let j = 0;
  const index = Int32Array.from(ids, (t, i) => (t === vlm.imageTokenId ? ids.length + j++ : i));
  return take(table, tensor(index, { shape: [ids.length] }), 0).reshape([1, ids.length, h]);
}

/** A required sub-config block. */
export function subConfig(config: Config, key: string, source: string): Config {
  const c = config[key];
  if (!c || typeof c !== "object" || Array.isArray(c)) throw new Error(`${source}: config.json has no ${key} block`);
  return c as Config;
}

/** Moves keys from one prefix to another (a new map). */
export function renamePrefixes(weights: Map<string, Tensor>, renames: [string, string][]): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of weights) {
    const r = renames.find(([from]) => k.startsWith(from));
    out.set(r ? r[1] + k.slice(r[0].length) : k, v);
  }
  return out;
}
