// loadVlm: a model folder to generate / stream / chat with images, on @tessera/lm's tokenizer,
// chat template, samplers and streaming detokenizer. generate resolves to lm.generate's shape.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { resolveModel } from "@tessera/core";
import { ChatTemplate, StreamingDetokenizer, Tokenizer, makeSampler } from "@tessera/lm";
import type { ChatMessage, FinishReason, SamplingOptions } from "@tessera/lm";
import { generateWithImages } from "./generate.js";
import { loadVlmFromFolder } from "./load.js";
import type { LoadVlmOptions, LoadedVlm } from "./load.js";
import type { ImageInput } from "./processors/image.js";
import { processImages } from "./processors/processor.js";
import { expandImages, promptImages } from "./processors/prompt.js";

export interface VlmGenerateOptions extends SamplingOptions {
  /** Most tokens to generate (default 256). */
  maxTokens?: number;
  signal?: AbortSignal;
  /** Render the prompt with the chat template as one user turn (default: unless it holds image placeholders). */
  chat?: boolean;
}

export interface VlmResult {
  text: string;
  tokens: number[];
  finishReason: FinishReason;
  usage: { promptTokens: number; completionTokens: number };
}

/** A chat message whose content parts may be images ({ type: "image", image }). */
export type VlmMessage = ChatMessage;

export interface Vlm extends LoadedVlm {
  tokenizer: Tokenizer;
  /** Answers a prompt about one image or several (a plain question goes through the chat template). */
  generate(images: ImageInput | readonly ImageInput[], prompt: string, opts?: VlmGenerateOptions): Promise<VlmResult>;
  /** The same, yielding text chunks as they are decoded (never splitting a character). */
  stream(images: ImageInput | readonly ImageInput[], prompt: string, opts?: VlmGenerateOptions): AsyncGenerator<{ text: string; token: number }, VlmResult>;
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

  async function* run(images: ImageInput[], text: string, o: VlmGenerateOptions = {}): AsyncGenerator<{ text: string; token: number }, VlmResult> {
    if (typeof text !== "string") throw new Error("generate: the prompt must be a string");
    const processed = images.length ? await processImages(loaded.processor, images) : undefined;
    const counts = processed ? processed.imageSizes.map((s) => loaded.model.imageTokens(s)) : [];
    const ids = tokenizer.encode(expandImages(text, marks, counts), { addSpecialTokens: !text.startsWith(tokenizer.bosToken ?? "\u0000") });
    const pixels = processed?.pixels;
    const greedy = o.temperature === undefined || o.temperature === 0;
    const detok = new StreamingDetokenizer(tokenizer, { skipSpecialTokens: true });
    // Tokens arrive through onToken while generation runs; the generator hands them out as they come.
    const chunks: { text: string; token: number }[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    const done = generateWithImages(loaded.model, ids, { pixels, imageSizes: processed?.imageSizes }, {
      maxTokens: o.maxTokens, signal: o.signal, eosIds: tokenizer.eosTokenIds,
      sample: greedy ? undefined : (() => { const s = makeSampler(o); return (l: Float32Array, h: readonly number[]) => s(l, h).token; })(),
      // Ids past the tokenizer's vocabulary (padded embedding tables) decode to nothing.
      onToken: (t) => { chunks.push({ text: t < tokenizer.vocabSize ? detok.push(t) : "", token: t }); wake?.(); },
    }).finally(() => { pixels?.dispose(); finished = true; wake?.(); });
    while (!finished || chunks.length) {
      if (chunks.length) { yield chunks.shift()!; continue; }
      await new Promise<void>((r) => { wake = r; });
      wake = undefined;
    }
    const result = await done;
    detok.flush();
    return { text: tokenizer.decode(result.tokens.filter((t) => t < tokenizer.vocabSize), { skipSpecialTokens: true }), tokens: result.tokens, finishReason: result.finishReason,
      usage: { promptTokens: result.promptTokens, completionTokens: result.tokens.length } };
  }
  async function drain(g: AsyncGenerator<{ text: string; token: number }, VlmResult>): Promise<VlmResult> {
    for (;;) {
      const r = await g.next();
      if (r.done) return r.value;
    }
  }
  return {
    ...loaded, tokenizer,
    generate: (images, prompt, o) => drain(run(asList(images), promptText(prompt, asList(images).length, o?.chat), o)),
    stream: (images, prompt, o) => run(asList(images), promptText(prompt, asList(images).length, o?.chat), o),
    chat: (messages, o) => {
      const images: ImageInput[] = [];
      const plain = messages.map((m) => (Array.isArray(m.content)
        ? { ...m, content: m.content.map((p) => (p.type === "image" ? (images.push((p as unknown as { image: ImageInput }).image), { type: "image" }) : p)) }
        : m));
      return drain(run(images, render(plain), o));
    },
  };
}
