// Turning a prompt's image placeholders into the model's image tokens, as transformers' processors
// do: LLaVA's `<image>` becomes tokensPerImage `<image>` tokens; Gemma 3's `<start_of_image>`
// becomes "\n\n<start_of_image>" + tokensPerImage `<image_soft_token>` + "<end_of_image>\n\n".
import type { Config, Tokenizer } from "@tessera/lm";
import type { VisionLanguageModel } from "../models/base.js";

export interface PromptImages {
  /** What marks an image in a prompt's text (and what the chat template writes for an image part). */
  placeholder: string;
  /** The text one image's placeholder expands to. */
  expansion: string;
}

function tokenText(tokenizer: Tokenizer, id: unknown, what: string): string {
  const t = typeof id === "number" ? tokenizer.idToToken(id) : undefined;
  if (t === undefined) throw new Error(`the tokenizer has no ${what} token (id ${String(id)})`);
  return t;
}

export function promptImages(vlm: VisionLanguageModel, config: Config, tokenizer: Tokenizer): PromptImages {
  const image = tokenText(tokenizer, vlm.imageTokenId, "image");
  if (vlm.modelType === "gemma3") {
    const boi = tokenText(tokenizer, config.boi_token_index ?? config.boi_token_id, "start-of-image");
    const eoi = tokenText(tokenizer, config.eoi_token_index ?? config.eoi_token_id, "end-of-image");
    return { placeholder: boi, expansion: `\n\n${boi}${image.repeat(vlm.tokensPerImage)}${eoi}\n\n` };
  }
  return { placeholder: image, expansion: image.repeat(vlm.tokensPerImage) };
}

/** Expands each placeholder; throws when their count differs from the images'. */
export function expandImages(text: string, p: PromptImages, images: number): string {
  const parts = text.split(p.placeholder);
  if (parts.length - 1 !== images)
    throw new Error(`the prompt has ${parts.length - 1} image placeholder(s) (${p.placeholder}) for ${images} image(s)`);
  return parts.join(p.expansion);
}
