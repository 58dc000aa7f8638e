// loadVlm: a model folder to generate / stream / chat with images, on @tessera/lm's tokenizer,
// chat template, samplers and streaming detokenizer. generate resolves to lm.generate's shape.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { resolveModel } from "@tessera/core";
import { ChatTemplate, TokenVocabulary, Tokenizer, drainText, streamText } from "@tessera/lm";
import type { ChatMessage, GenerateOptions, GenerateResult, TextChunk } from "@tessera/lm";
import { generateWithImages } from "./generate.js";
import { loadVlmFromFolder } from "./load.js";
import type { LoadVlmOptions, LoadedVlm } from "./load.js";
import type { ImageInput } from "./processors/image.js";
import { processImages } from "./processors/processor.js";
import { expandImages, promptImages } from "./processors/prompt.js";

export interface VlmGenerateOptions extends GenerateOptions {
  /** Render the prompt with the chat template as one user turn (default: unless it holds image placeholders). */
  chat?: boolean;
}

/** The same result object as lm.generate's. */
export type VlmResult = GenerateResult;

/** A chat message whose content parts may be images ({ type: "image", image }). */
export type VlmMessage = ChatMessage;

export interface Vlm extends LoadedVlm {
  tokenizer: Tokenizer;
  /** Answers a prompt about one image or several (a plain question goes through the chat template). */
  generate(images: ImageInput | readonly ImageInput[], prompt: string, opts?: VlmGenerateOptions): Promise<VlmResult>;
  /** The same, yielding text chunks as they are decoded (never splitting a character). */
  stream(images: ImageInput | readonly ImageInput[], prompt: string, opts?: VlmGenerateOptions): AsyncGenerator<TextChunk, VlmResult>;
  /** A reply to chat messages; image parts ({ type: "image", image }) are taken in order. */
  chat(messages: readonly VlmMessage[], opts?: VlmGenerateOptions): Promise<VlmResult>;
}

function asList(images: ImageInput | readonly ImageInput[]): ImageInput[] {
  return Array.isArray(images) ? [...(images as ImageInput[])] : [images as ImageInput];
}

/** Loads a LLaVA, LLaVA-NeXT or Gemma 3 folder (or a Hub repo id already in the local cache). */
export async function loadVlm(model: string, opts: LoadVlmOptions = {}): Promise<Vlm> {
  const folder = existsSync(model) ? model : await resolveModel(model);
  const loaded = loadVlmFromFolder(folder, opts);
  const tokenizer = Tokenizer.fromFolder(folder);
  const template = tokenizer.chatTemplate ? ChatTemplate.fromTokenizer(tokenizer) : undefined;
  const marks = promptImages(loaded.model, loaded.config, tokenizer);

  const render = (messages: readonly ChatMessage[]) => {
    if (!template) throw new Error(`loadVlm: ${folder} has no chat template (give a prompt with ${marks.placeholder} placeholders instead)`);
    return template.render(messages, { addGenerationPrompt: true });
  };
  const promptText = (prompt: string, n: number, chat?: boolean) => {
    const useChat = chat ?? !prompt.includes(marks.placeholder);
    return useChat ? render([{ role: "user", content: [...Array.from({ length: n }, () => ({ type: "image" })), { type: "text", text: prompt }] }]) : prompt;
  };

  let vocabulary: TokenVocabulary | undefined;
  async function* run(images: ImageInput[], text: string, o: VlmGenerateOptions = {}): AsyncGenerator<TextChunk, VlmResult> {
    if (typeof text !== "string") throw new Error("generate: the prompt must be a string");
    const processed = images.length ? await processImages(loaded.processor, images) : undefined;
    const counts = processed ? processed.imageSizes.map((s) => loaded.model.imageTokens(s)) : [];
    const ids = tokenizer.encode(expandImages(text, marks, counts), { addSpecialTokens: !text.startsWith(tokenizer.bosToken ?? "\u0000") });
    const pixels = processed?.pixels;
    const vocabSize = loaded.model.language.vocabSize;
    try {
      return yield* streamText({
        tokenizer, vocabSize, promptTokens: ids.length,
        vocabulary: () => (vocabulary ??= TokenVocabulary.fromTokenizer(tokenizer, vocabSize)),
        run: (hooks) => generateWithImages(loaded.model, ids, { pixels, imageSizes: processed?.imageSizes }, hooks),
      }, o);
    } finally {
      pixels?.dispose();
    }
  }
  return {
    ...loaded, tokenizer,
    generate: async (images, prompt, o) => drainText(run(asList(images), promptText(prompt, asList(images).length, o?.chat), o)),
    stream: (images, prompt, o) => run(asList(images), promptText(prompt, asList(images).length, o?.chat), o),
    chat: async (messages, o) => {
      const images: ImageInput[] = [];
      const plain = messages.map((m) => (Array.isArray(m.content)
        ? { ...m, content: m.content.map((p) => (p.type === "image" ? (images.push((p as unknown as { image: ImageInput }).image), { type: "image" }) : p)) }
        : m));
      return drainText(run(images, render(plain), o));
    },
  };
}
