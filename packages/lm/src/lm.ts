// loadLm: a model (Hub repo id, Hugging Face / mlx-community folder, or .gguf file) with its
// tokenizer and chat template, to generate / stream / chat. A PromptCache carries the keys and
// values of one conversation from turn to turn, backing up to the prefix a new prompt shares.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { resolveModel } from "@tessera/core";
import type { DType } from "@tessera/core";
import type { LayerCache } from "./cache.js";
import { generateTokens } from "./generate.js";
import type { GenerateTokensOptions, GenerateTokensResult } from "./generate.js";
import { loadModelFromGguf } from "./gguf/load.js";
import { TokenVocabulary } from "./grammar/constraint.js";
import { loadModelFromFolder } from "./load.js";
import type { LoadModelOptions } from "./load.js";
import type { Config, LanguageModel } from "./models/base.js";
import { drainText, streamText } from "./text.js";
import type { GenerateOptions, GenerateResult, TextChunk } from "./text.js";
import { ChatTemplate } from "./tokenizer/template.js";
import type { ChatMessage, ChatTool } from "./tokenizer/template.js";
import { Tokenizer } from "./tokenizer/tokenizer.js";

/** A prompt: plain text (encoded as it is, BOS added as the tokenizer does), chat messages (through the chat template), or token ids. */
export type Prompt = string | readonly ChatMessage[] | readonly number[];

export interface LmGenerateOptions extends GenerateOptions {
  /** Reuse (and update) this conversation's cached keys and values (see {@link Lm.createPromptCache}). */
  promptCache?: PromptCache;
  /** Tools for chat templates that describe them. */
  tools?: ChatTool[];
  /** Other chat template variables, e.g. `{ enable_thinking: false }` for Qwen 3. */
  templateVariables?: Record<string, unknown>;
  /** dtype of a fresh KV cache (default float16). */
  kvDtype?: DType;
  /** Quantize the full-attention layers' keys and values to this many bits (8, as mlx-lm's `--kv-bits`). */
  kvBits?: number;
  /** Group size of the quantized KV cache (default 64). */
  kvGroupSize?: number;
}

export interface LoadLmOptions extends LoadModelOptions {
  /** A chat template to use instead of the model's (Jinja source). */
  chatTemplate?: string;
  /** Only use the local Hugging Face cache for repo ids (as HF_HUB_OFFLINE=1). */
  offline?: boolean;
}

/**
 * Keys and values of one conversation kept between calls. A new prompt that starts with the
 * cached tokens only prefills the rest; one that diverges backs the cache up to the shared
 * prefix (a sliding-window layer that has wrapped cannot back up: the prompt is then prefilled
 * anew). One generation at a time may use it.
 */
export class PromptCache {
  #layers: LayerCache[] | undefined;
  #tokens: number[] = [];
  #busy = false;

  constructor(readonly model: LanguageModel, private readonly kv: { kvDtype?: DType; kvBits?: number; kvGroupSize?: number } = {}) {}

  /** The tokens whose keys and values are held. */
  get tokens(): readonly number[] {
    return this.#tokens;
  }

  /** Releases the held keys and values. */
  dispose(): void {
    this.#layers?.forEach((c) => c.dispose());
    this.#layers = undefined;
    this.#tokens = [];
  }

  /** How many leading tokens of `ids` the cache can serve now (never all of them: the last one is run for its logits). */
  #reuse(ids: readonly number[]): number {
    const layers = this.#layers;
    if (!layers) return 0;
    let common = 0;
    const n = Math.min(this.#tokens.length, ids.length - 1);
    while (common < n && this.#tokens[common] === ids[common]) common++;
    const extra = layers[0].offset - common;
    if (common > 0 && layers.every((c) => (extra === 0 ? true : c.trim?.(extra) ?? false))) return common;
    this.dispose();
    return 0;
  }

  /** Runs `run` on the cached layers with the uncached part of `ids`; updates what is cached. */
  async generate(ids: readonly number[], opts: GenerateTokensOptions,
    run: (newIds: readonly number[], opts: GenerateTokensOptions) => Promise<GenerateTokensResult>): Promise<GenerateTokensResult & { cachedTokens: number }> {
    if (this.#busy) throw new Error("PromptCache: another generation is using this cache; use one cache per conversation");
    this.#busy = true;
    try {
      const cached = this.#reuse(ids);
      const layers = this.#layers ?? this.model.makeCache({ dtype: this.kv.kvDtype, kvBits: this.kv.kvBits, kvGroupSize: this.kv.kvGroupSize });
      this.#layers = layers;
      const r = await run(ids.slice(cached), { ...opts, cache: layers });
      const seq = [...ids, ...r.tokens, ...(r.eosToken !== undefined ? [r.eosToken] : [])];
      this.#tokens = seq.slice(0, layers[0]?.offset ?? 0);
      return { ...r, cachedTokens: cached };
    } catch (e) {
      this.dispose();
      throw e;
    } finally {
      this.#busy = false;
    }
  }
}

/** A loaded language model. */
export interface Lm {
  model: LanguageModel;
  tokenizer: Tokenizer;
  /** The chat template, when the model has one (or one was given). */
  template: ChatTemplate | undefined;
  /** config.json (or its GGUF equivalent). */
  config: Config;
  /** The folder or file loaded. */
  source: string;
  /** Context length in tokens, when the config says. */
  contextLength: number | undefined;
  /** The token ids a prompt becomes (messages through the chat template with the generation prompt). */
  encode(prompt: Prompt, opts?: Pick<LmGenerateOptions, "tools" | "templateVariables">): number[];
  /** Generates a continuation (or, for messages, a reply) and resolves to the whole result. */
  generate(prompt: Prompt, opts?: LmGenerateOptions): Promise<GenerateResult>;
  /** The same, yielding text chunks as they are decoded; the generator returns the result. */
  stream(prompt: Prompt, opts?: LmGenerateOptions): AsyncGenerator<TextChunk, GenerateResult>;
  /** A reply to chat messages (generate with messages). */
  chat(messages: readonly ChatMessage[], opts?: LmGenerateOptions): Promise<GenerateResult>;
  /** A cache to pass as `promptCache` to every turn of one conversation. */
  createPromptCache(opts?: { kvDtype?: DType; kvBits?: number; kvGroupSize?: number }): PromptCache;
}

/** The .gguf file to load for `path`: the file itself, or a folder's only .gguf when it has no config.json. */
function ggufPath(path: string): string | undefined {
  if (path.toLowerCase().endsWith(".gguf") && existsSync(path) && statSync(path).isFile()) return path;
  if (!existsSync(path) || !statSync(path).isDirectory() || existsSync(join(path, "config.json"))) return undefined;
  const files = readdirSync(path).filter((f) => f.toLowerCase().endsWith(".gguf"));
  if (files.length > 1) throw new Error(`loadLm: ${path} holds several .gguf files (${files.join(", ")}): give the one to load`);
  return files.length === 1 ? join(path, files[0]) : undefined;
}

function isTokenIds(p: Prompt): p is readonly number[] {
  return Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === "number");
}

/**
 * Loads a language model: a Hugging Face repo id (from the local cache, or downloaded), a model
 * folder (safetensors, sharded or not, float or MLX-quantized) or a GGUF file (blocks kept).
 */
export async function loadLm(model: string, opts: LoadLmOptions = {}): Promise<Lm> {
  if (typeof model !== "string" || model.trim() === "") throw new Error(`loadLm: model must be a repo id, a folder or a .gguf file, got ${JSON.stringify(model)}`);
  const local = existsSync(model)
    ? model
    : await resolveModel(model, { offline: opts.offline, allowPatterns: ["*.json", "*.safetensors", "*.jinja", "*.txt"] });
  const gguf = ggufPath(local);
  let loaded: { model: LanguageModel; config: Config; tokenizer: Tokenizer; source: string };
  if (gguf) {
    const { model: m, checkpoint } = loadModelFromGguf(gguf, opts);
    const tokenizer = Tokenizer.fromJson(checkpoint.tokenizerJson, { config: checkpoint.tokenizerConfig, chatTemplate: opts.chatTemplate });
    loaded = { model: m, config: checkpoint.config, tokenizer, source: gguf };
  } else {
    const r = loadModelFromFolder(local, opts);
    const tokenizer = Tokenizer.fromFolder(r.folder);
    loaded = { model: r.model, config: r.config, tokenizer, source: local };
  }
  const { tokenizer } = loaded;
  const source = opts.chatTemplate ?? tokenizer.chatTemplate;
  const template = source !== undefined ? ChatTemplate.fromTokenizer(tokenizer, source) : undefined;
  let vocabulary: TokenVocabulary | undefined;
  const lmModel = loaded.model;

  const encode = (prompt: Prompt, o: Pick<LmGenerateOptions, "tools" | "templateVariables"> = {}): number[] => {
    if (typeof prompt === "string") {
      if (prompt === "") throw new Error("generate: the prompt is empty");
      return tokenizer.encode(prompt);
    }
    if (isTokenIds(prompt)) return [...prompt];
    if (!Array.isArray(prompt)) throw new Error("generate: the prompt must be a string, an array of chat messages or an array of token ids");
    if (!template) throw new Error(`generate: ${loaded.source} has no chat template: pass a plain-text prompt, or loadLm(..., { chatTemplate })`);
    const text = template.render(prompt as ChatMessage[], { addGenerationPrompt: true, tools: o.tools, variables: o.templateVariables });
    return tokenizer.encode(text, { addSpecialTokens: false });
  };

  async function* stream(prompt: Prompt, o: LmGenerateOptions = {}): AsyncGenerator<TextChunk, GenerateResult> {
    const ids = encode(prompt, o);
    if (o.promptCache && o.promptCache.model !== lmModel) throw new Error("generate: promptCache belongs to another model");
    let cachedTokens = 0;
    const gen = {
      tokenizer,
      vocabSize: lmModel.vocabSize,
      promptTokens: ids.length,
      get cachedTokens() { return cachedTokens; },
      vocabulary: () => (vocabulary ??= TokenVocabulary.fromTokenizer(tokenizer, lmModel.vocabSize)),
      run: async (hooks: GenerateTokensOptions) => {
        const withKv = { ...hooks, kvDtype: o.kvDtype, kvBits: o.kvBits, kvGroupSize: o.kvGroupSize };
        if (!o.promptCache) return generateTokens(lmModel, ids, withKv);
        const r = await o.promptCache.generate(ids, withKv, (newIds, h) => generateTokens(lmModel, newIds, h));
        cachedTokens = r.cachedTokens;
        return r;
      },
    };
    return yield* streamText(gen, o);
  }

  return {
    model: lmModel,
    tokenizer,
    template,
    config: loaded.config,
    source: loaded.source,
    contextLength: lmModel.contextLength,
    encode,
    generate: async (prompt, o) => drainText(stream(prompt, o)),
    stream,
    chat: async (messages, o) => {
      if (!Array.isArray(messages) || isTokenIds(messages)) throw new Error("chat: messages must be an array of { role, content } objects");
      return drainText(stream(messages, o));
    },
    createPromptCache: (o = {}) => new PromptCache(lmModel, o),
  };
}
