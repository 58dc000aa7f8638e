// Prompts to the UNet's conditioning, as diffusers' encode_prompt does it (without CFG batching):
// SD 1.x / 2.x use the text encoder's last hidden state; SDXL concatenates both encoders'
// second-to-last hidden states and takes text_encoder_2's projected pooled output.
import { concatenate } from "@tessera/core";
import type { Tensor } from "@tessera/core";
import type { CLIPTextModel, CLIPTextModelWithProjection } from "./clip.js";
import type { ClipTokenizer } from "./clip_tokenizer.js";

/** The text side of a loaded pipeline. */
export interface TextConditioner {
  kind: "sd" | "sdxl";
  textEncoder: CLIPTextModel;
  tokenizer: ClipTokenizer;
  textEncoder2?: CLIPTextModelWithProjection;
  tokenizer2?: ClipTokenizer;
}

export interface EncodePromptOptions {
  /** Layers skipped from the end (diffusers' clip_skip; A1111's "clip skip" minus one). Default 0. */
  clipSkip?: number;
  /** Called with the truncation message for prompts over 77 tokens (default console.warn). */
  warn?: (message: string) => void;
}

export interface PromptEmbeddings {
  /** [prompts, 77, cross_attention_dim]. */
  embeds: Tensor;
  /** SDXL: [prompts, projection_dim] for the UNet's added conditions. */
  pooled?: Tensor;
}

/** Encodes prompts (one row each) as diffusers' encode_prompt with do_classifier_free_guidance=False. */
export function encodePrompts(c: TextConditioner, prompts: string | readonly string[], opts: EncodePromptOptions = {}): PromptEmbeddings {
  const skip = opts.clipSkip ?? 0;
  if (!Number.isInteger(skip) || skip < 0) throw new Error(`encodePrompts: clipSkip must be a non-negative integer, got ${String(skip)}`);
  const layers = c.textEncoder.config.num_hidden_layers;
  if (skip >= layers - (c.kind === "sdxl" ? 1 : 0)) throw new Error(`encodePrompts: clipSkip ${skip} leaves no layer of the ${layers}-layer text encoder`);
  if (c.kind === "sd") {
    const out = c.textEncoder.forward(c.tokenizer.tokenize(prompts, { warn: opts.warn }).ids);
    if (skip === 0) return { embeds: out.lastHiddenState };
    return { embeds: c.textEncoder.final_layer_norm.forward(out.hiddenStates[out.hiddenStates.length - 1 - skip]) };
  }
  if (!c.textEncoder2 || !c.tokenizer2) throw new Error("encodePrompts: an SDXL pipeline needs textEncoder2 and tokenizer2");
  const o1 = c.textEncoder.forward(c.tokenizer.tokenize(prompts, { warn: opts.warn }).ids);
  // The second tokenizer would warn about the same prompt again.
  const o2 = c.textEncoder2.forward(c.tokenizer2.tokenize(prompts, { warn: () => {} }).ids);
  const pick = (h: Tensor[]) => h[h.length - 2 - skip];
  return { embeds: concatenate([pick(o1.hiddenStates), pick(o2.hiddenStates)], -1), pooled: o2.textEmbeds };
}
