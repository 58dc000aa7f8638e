// What the server needs from a model, kept small so that other models (a vision-language model's
// chat with image parts) can be served by the same routes: checking and encoding a prompt, and
// streaming a generation from it.
import type { Lm } from "../lm.js";
import type { GenerateOptions, GenerateResult, TextChunk } from "../text.js";
import type { ChatMessage } from "../tokenizer/template.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";

/** A prompt as the server receives it: completion text (or token ids), or chat messages. */
export type ServedPrompt = { kind: "text"; text: string | readonly number[] } | { kind: "chat"; messages: ChatMessage[] };

/** A model the OpenAI-compatible server can serve. */
export interface ServedModel<Input = unknown> {
  /** The id `/v1/models` lists. */
  id: string;
  /** Context length in tokens (prompt + max_tokens beyond it is refused), when known. */
  contextLength?: number;
  /** Whether `/v1/completions` (plain text prompts) is served; chat always is. */
  completions: boolean;
  /** Whether chat messages may carry images (`{ type: "image", image: Buffer }` parts). */
  images: boolean;
  /** Token text for OpenAI's logprobs entries. */
  tokenizer: Pick<Tokenizer, "decode">;
  /** Checks that the images of a request decode (throwing an Error naming the bad one), before it is queued. */
  checkImages?(images: readonly Uint8Array[]): Promise<void>;
  /** Checks and encodes a prompt (throwing an Error that names what is wrong); its token count when known. */
  prepare(prompt: ServedPrompt): { input: Input; promptTokens?: number };
  /** Generates from a prepared prompt, yielding text chunks; returns the result. */
  stream(input: Input, opts: GenerateOptions): AsyncGenerator<TextChunk, GenerateResult>;
}

/** Serves an {@link Lm}: completions and chat (through its chat template, when it has one). */
export function servedLm(lm: Lm, id: string = lm.source): ServedModel<number[]> {
  return {
    id,
    contextLength: lm.contextLength,
    completions: true,
    images: false,
    tokenizer: lm.tokenizer,
    prepare: (p) => {
      const ids = p.kind === "text" ? lm.encode(p.text) : lm.encode(p.messages);
      return { input: ids, promptTokens: ids.length };
    },
    stream: (ids, opts) => lm.stream(ids, opts),
  };
}
