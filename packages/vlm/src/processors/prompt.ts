// Turning a prompt's image placeholders into the model's image tokens, as transformers' processors
// do: LLaVA's `<image>` becomes as many `<image>` tokens as the image has features (a fixed count,
// or LLaVA-NeXT's count for the image's size); Gemma 3's `<start_of_image>` becomes
// "\n\n<start_of_image>" + its soft tokens + "<end_of_image>\n\n".
import type { Config, Tokenizer } from "@tessera/lm";
import type { VisionLanguageModel } from "../models/base.js";

export interface PromptImages {
  /** What marks an image in a prompt's text (and what the chat template writes for an image part). */
  placeholder: string;
  /** The text one image's placeholder expands to, for an image of `tokens` features. */
  expand(tokens: number): string;
  /** Features per image, where the model has a fixed count (LLaVA, Gemma 3; not LLaVA-NeXT). */
  tokensPerImage?: number;
}

function tokenText(tokenizer: Tokenizer, id: unknown, what: string): string {
  const t = typeof id === "number" ? tokenizer.idToToken(id) : undefined;
  if (t === undefined) throw new Error(`the tokenizer has no ${what} token (id ${String(id)})`);
  return t;
}

export function promptImages(vlm: VisionLanguageModel, config: Config, tokenizer: Tokenizer): PromptImages {
  const image = tokenText(tokenizer, vlm.imageTokenId, "image");
  const fixed = (vlm as { tokensPerImage?: number }).tokensPerImage;
  const tokensPerImage = vlm.modelType === "llava_next" ? undefined : fixed;
  if (vlm.modelType === "gemma3") {
    const boi = tokenText(tokenizer, config.boi_token_index ?? config.boi_token_id, "start-of-image");
    const eoi = tokenText(tokenizer, config.eoi_token_index ?? config.eoi_token_id, "end-of-image");
    return { placeholder: boi, expand: (n) => `\n\n${boi}${image.repeat(n)}${eoi}\n\n`, tokensPerImage };
  }
  return { placeholder: image, expand: (n) => image.repeat(n), tokensPerImage };
}

/**
 * Expands each placeholder for its image: `images` is each image's feature count
 * (vlm.imageTokens(size)), or the number of images where the model has a fixed count. Throws when
 * the placeholders and the images differ in number.
 */
export function expandImages(text: string, p: PromptImages, images: number | readonly number[]): string {
  const n = typeof images === "number" ? images : images.length;
  const parts = text.split(p.placeholder);
  if (parts.length - 1 !== n)
    throw new Error(`the prompt has ${parts.length - 1} image placeholder(s) (${p.placeholder}) for ${n} image(s)`);
  let counts: readonly number[];
  if (typeof images === "number") {
    const t = p.tokensPerImage;
    if (t === undefined) throw new Error("expandImages: this model's image token count depends on each image's size; give the counts (vlm.imageTokens(size) per image)");
    counts = Array.from({ length: n }, () => t);
  } else counts = images;
  return parts.map((s, i) => (i === 0 ? s : p.expand(counts[i - 1]) + s)).join("");
}
