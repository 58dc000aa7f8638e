// Generation with images, on @tessera/lm's generateTokens: the prompt's forward pass runs on the
// merged input embeddings (image features at the image tokens) with the model's prompt masks,
// its last logits choose the first token, and generateTokens continues from the filled cache.
import { Tensor, argmax, evaluate, tensor, tidy } from "@tessera/core";
import { generateTokens } from "@tessera/lm";
import type { GenerateTokensOptions, GenerateTokensResult, TokenChoice } from "@tessera/lm";
import { mergeImageFeatures } from "./models/base.js";
import type { VisionLanguageModel } from "./models/base.js";
import type { ImageSize } from "./processors/anyres.js";

/**
 * Projected image features of pixel values [tiles, 3, H, W], evaluated: [N, tokens, hidden], or
 * [total tokens, hidden] for LLaVA-NeXT, which needs the images' sizes (processImages gives both).
 */
export async function encodeImages(vlm: VisionLanguageModel, pixels: Tensor, imageSizes?: readonly ImageSize[]): Promise<Tensor> {
  const f = tidy(() => vlm.imageFeatures(pixels, imageSizes));
  await evaluate(f);
  return f;
}

async function firstChoice(logits: Tensor, opts: GenerateTokensOptions, history: number[]): Promise<TokenChoice> {
  if (!opts.sample) {
    const t = argmax(logits, -1);
    const token = Number((await t.data())[0]);
    t.dispose();
    return { token };
  }
  const c = await opts.sample((await logits.data()) as Float32Array, history);
  return typeof c === "number" ? { token: c } : c;
}

/**
 * Generates from prompt ids holding the model's image tokens (vlm.imageTokens(size) per image, in
 * image order) and the images' pixel values (with their sizes for LLaVA-NeXT), or their features
 * from encodeImages. Same options and result as generateTokens.
 */
export async function generateWithImages(vlm: VisionLanguageModel, promptIds: number[],
  images: { pixels?: Tensor; imageSizes?: readonly ImageSize[]; features?: Tensor },
  opts: GenerateTokensOptions = {}): Promise<GenerateTokensResult> {
  const lm = vlm.language;
  const maxTokens = opts.maxTokens ?? 256;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new Error(`generate: maxTokens must be a non-negative integer, got ${String(opts.maxTokens)}`);
  if (!Array.isArray(promptIds) || promptIds.length === 0) throw new Error("generate: the prompt must be a non-empty array of token ids");
  if (lm.contextLength !== undefined && promptIds.length >= lm.contextLength)
    throw new Error(`generate: the prompt (${promptIds.length} tokens, images included) does not fit the model's context of ${lm.contextLength} tokens`);
  const features = images.features ?? (images.pixels ? await encodeImages(vlm, images.pixels, images.imageSizes) : undefined);
  const ownCache = !opts.cache;
  const cache = opts.cache ?? lm.makeCache({ dtype: opts.kvDtype });
  try {
    const logits = tidy(() => {
      const emb = mergeImageFeatures(vlm, promptIds, features);
      const ids = tensor(Int32Array.from(promptIds, (t) => (t < lm.vocabSize ? t : 0)), { shape: [1, promptIds.length] });
      return lm.forward(ids, vlm.prefillCaches(promptIds, cache), { inputEmbeddings: emb, lastTokenOnly: true }).reshape([lm.vocabSize]);
    });
    await evaluate(logits, ...cache.flatMap((c) => c.state()));
    if (opts.signal?.aborted || maxTokens === 0) return { tokens: [], finishReason: opts.signal?.aborted ? "abort" : "length", promptTokens: promptIds.length };
    const first = await firstChoice(logits, opts, promptIds);
    logits.dispose();
    const eos = new Set(opts.eosIds ?? []);
    if (eos.has(first.token)) return { tokens: [], finishReason: "stop", promptTokens: promptIds.length };
    if (opts.onToken?.(first.token, 0) === false || maxTokens === 1)
      return { tokens: [first.token], choices: opts.sample ? [first] : undefined, finishReason: maxTokens === 1 ? "length" : "stop", promptTokens: promptIds.length };
    const onToken = opts.onToken;
    const rest = await generateTokens(lm, [first.token], {
      ...opts, cache, maxTokens: maxTokens - 1, onToken: onToken && ((t, i) => onToken(t, i + 1)),
    });
    return {
      tokens: [first.token, ...rest.tokens],
      choices: rest.choices ? [first, ...rest.choices] : undefined,
      finishReason: rest.finishReason,
      promptTokens: promptIds.length,
    };
  } finally {
    if (ownCache) cache.forEach((c) => c.dispose());
    if (!images.features) features?.dispose();
  }
}
