// OpenAI's request fields → generate options, and results → OpenAI's response shapes (chat and
// legacy completions, whole and streamed).
import { compileJsonSchema } from "../grammar/schema.js";
import type { JsonSchema } from "../grammar/schema.js";
import { checkGenerateOptions } from "../text.js";
import type { GenerateOptions, GenerateResult, ResponseFormat, TokenLogprobInfo } from "../text.js";
import type { ChatMessage, MediaPart, TextPart } from "../tokenizer/template.js";
import { RequestError } from "./errors.js";
import type { ServedPrompt } from "./model.js";

/** The sampling fields both endpoints share (already type-checked by the route's schema). */
export interface SamplingBody {
  model: string;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  min_p?: number | null;
  repetition_penalty?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  seed?: number | null;
  logit_bias?: Record<string, number> | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  n?: number | null;
  response_format?: { type: "text" | "json_object" | "json_schema"; json_schema?: { name: string; schema?: Record<string, unknown>; strict?: boolean | null } } | null;
}

type ContentPart = { type: string; text?: string; image_url?: string | { url: string } };

export interface ChatBody extends SamplingBody {
  messages: { role: string; content?: string | ContentPart[] | null; name?: string; [k: string]: unknown }[];
  logprobs?: boolean | null;
  top_logprobs?: number | null;
}

export interface CompletionBody extends SamplingBody {
  prompt: string | string[] | number[];
  logprobs?: number | null;
  echo?: boolean | null;
  best_of?: number | null;
  suffix?: string | null;
}

/** How images in chat messages are read. */
export interface ImageOptions {
  /** The model takes images at all. */
  images: boolean;
  /** Fetch http(s) image URLs (default: only base64 data URLs). */
  allowRemoteImages?: boolean;
}

/** A checked request: its prompt, the generate options and how to answer. */
export interface Request {
  prompt: ServedPrompt;
  options: GenerateOptions;
  /** max_tokens as asked (undefined: up to the context's end). */
  maxTokens: number | undefined;
  stream: boolean;
  includeUsage: boolean;
}

const given = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

function responseFormat(body: SamplingBody): ResponseFormat | undefined {
  const f = body.response_format;
  if (!given(f) || f.type === "text") return undefined;
  if (f.type === "json_object") return { type: "json_object" };
  const schema = f.json_schema?.schema;
  if (!f.json_schema) throw new RequestError("response_format json_schema needs a json_schema object { name, schema }", "response_format.json_schema");
  const s = (schema ?? { type: "object" }) as JsonSchema;
  try {
    compileJsonSchema(s);
  } catch (e) {
    throw new RequestError(`response_format.json_schema.schema: ${(e as Error).message}`, "response_format.json_schema.schema");
  }
  return { type: "json_schema", schema: s };
}

function sampling(body: SamplingBody, maxTokens: number | undefined, logprobs: boolean | number | undefined): { options: GenerateOptions; stream: boolean; includeUsage: boolean } {
  if (given(body.n) && body.n !== 1) throw new RequestError("n must be 1 (one choice per request)", "n");
  const bias = given(body.logit_bias) ? body.logit_bias : undefined;
  if (bias) for (const k of Object.keys(bias)) if (!/^\d+$/.test(k)) throw new RequestError(`logit_bias keys must be token ids, got ${JSON.stringify(k)}`, "logit_bias");
  const options: GenerateOptions = {
    // OpenAI's default temperature is 1 (sampling); 0 is greedy.
    temperature: body.temperature ?? 1,
    ...(given(body.top_p) ? { topP: body.top_p } : {}),
    ...(given(body.top_k) ? { topK: body.top_k } : {}),
    ...(given(body.min_p) ? { minP: body.min_p } : {}),
    ...(given(body.repetition_penalty) ? { repetitionPenalty: body.repetition_penalty } : {}),
    ...(given(body.frequency_penalty) ? { frequencyPenalty: body.frequency_penalty } : {}),
    ...(given(body.presence_penalty) ? { presencePenalty: body.presence_penalty } : {}),
    ...(given(body.seed) ? { seed: body.seed } : {}),
    ...(bias ? { logitBias: bias as Record<number, number> } : {}),
    ...(given(body.stop) ? { stop: body.stop } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(logprobs !== undefined ? { logprobs } : {}),
  };
  const format = responseFormat(body);
  if (format) options.responseFormat = format;
  try {
    checkGenerateOptions(options);
  } catch (e) {
    throw new RequestError((e as Error).message);
  }
  const stream = body.stream === true;
  if (given(body.stream_options) && !stream) throw new RequestError("stream_options is only allowed with stream: true", "stream_options");
  return { options, stream, includeUsage: stream && body.stream_options?.include_usage === true };
}

function imageBuffer(url: string, param: string, opts: ImageOptions): Buffer | URL {
  const m = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(url);
  if (m) {
    if (!m[2]) throw new RequestError("image_url data URLs must be base64-encoded", param);
    return Buffer.from(m[3], "base64");
  }
  if (/^https?:\/\//i.test(url)) {
    if (!opts.allowRemoteImages) throw new RequestError("image_url must be a base64 data URL (this server does not fetch remote images; start it with --allow-remote-images)", param);
    return new URL(url);
  }
  throw new RequestError("image_url must be a data: URL (or http(s) with --allow-remote-images)", param);
}

/** Chat messages in OpenAI's shape → the template's (text parts joined; images as { type: "image", image }). */
export function chatMessages(body: ChatBody, opts: ImageOptions): { messages: ChatMessage[]; remote: { part: MediaPart; url: URL }[] } {
  const remote: { part: MediaPart; url: URL }[] = [];
  const messages = body.messages.map((m, i): ChatMessage => {
    const role = m.role === "developer" ? "system" : m.role;
    if (typeof m.content === "string" || !given(m.content)) return { ...m, role, content: m.content ?? "" };
    const parts: (TextPart | MediaPart)[] = m.content.map((p, j) => {
      const param = `messages[${i}].content[${j}]`;
      if (p.type === "text") {
        if (typeof p.text !== "string") throw new RequestError("a text part needs a text string", param);
        return { type: "text", text: p.text };
      }
      if (p.type === "image_url") {
        if (!opts.images) throw new RequestError("this model does not take images", param, 400, "invalid_request_error", "unsupported_content");
        const url = typeof p.image_url === "string" ? p.image_url : p.image_url?.url;
        if (typeof url !== "string") throw new RequestError("an image_url part needs image_url.url", param);
        const img = imageBuffer(url, `${param}.image_url`, opts);
        const part: MediaPart = { type: "image", image: img instanceof URL ? Buffer.alloc(0) : img };
        if (img instanceof URL) remote.push({ part, url: img });
        return part;
      }
      throw new RequestError(`unsupported content part type ${JSON.stringify(p.type)} (text${opts.images ? ", image_url" : ""})`, `${param}.type`);
    });
    const text = parts.every((p) => p.type === "text");
    return { ...m, role, content: text ? parts.map((p) => (p as TextPart).text).join("") : parts };
  });
  return { messages, remote };
}

/** A checked chat request (throws RequestError naming the bad field). */
export function chatRequest(body: ChatBody, messages: ChatMessage[]): Request {
  if (given(body.top_logprobs) && body.logprobs !== true) throw new RequestError("top_logprobs needs logprobs: true", "top_logprobs");
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const lp = body.logprobs === true ? (body.top_logprobs ? body.top_logprobs : true) : undefined;
  return { prompt: { kind: "chat", messages }, maxTokens, ...sampling(body, maxTokens, lp) };
}

/** A checked completions request. */
export function completionRequest(body: CompletionBody): Request {
  if (given(body.echo) && body.echo) throw new RequestError("echo is not supported", "echo");
  if (given(body.suffix)) throw new RequestError("suffix is not supported", "suffix");
  if (given(body.best_of) && body.best_of !== 1) throw new RequestError("best_of must be 1", "best_of");
  const p = body.prompt;
  let text: string | number[];
  if (typeof p === "string") text = p;
  else if (typeof p[0] === "number") text = p as number[];
  else if (p.length === 1) text = p[0] as string;
  else throw new RequestError("one prompt per request (an array of several strings is not supported)", "prompt");
  // OpenAI's completions default to 16 tokens.
  const maxTokens = body.max_tokens ?? 16;
  const lp = given(body.logprobs) ? (body.logprobs > 0 ? body.logprobs : true) : undefined;
  return { prompt: { kind: "text", text }, maxTokens, ...sampling(body, maxTokens, lp) };
}

const bytes = (s: string) => [...Buffer.from(s, "utf8")];

/** OpenAI's chat logprobs entries. */
export function chatLogprobs(infos: readonly TokenLogprobInfo[]) {
  return infos.map((t) => ({
    token: t.text,
    logprob: t.logprob,
    bytes: bytes(t.text),
    top_logprobs: (t.topLogprobs ?? []).map((x) => ({ token: x.text, logprob: x.logprob, bytes: bytes(x.text) })),
  }));
}

/** OpenAI's legacy completions logprobs object; text offsets start at `offset`. */
export function completionLogprobs(infos: readonly TokenLogprobInfo[], offset = 0) {
  const text_offset: number[] = [];
  let at = offset;
  for (const t of infos) {
    text_offset.push(at);
    at += t.text.length;
  }
  return {
    tokens: infos.map((t) => t.text),
    token_logprobs: infos.map((t) => t.logprob),
    // Keyed by text: of tokens with the same text, the most likely one's logprob is kept.
    top_logprobs: infos.map((t) => {
      const top: Record<string, number> = {};
      for (const x of t.topLogprobs ?? []) if (!(x.text in top)) top[x.text] = x.logprob;
      return top;
    }),
    text_offset,
  };
}

/** OpenAI's finish_reason. */
export const finishReason = (r: GenerateResult["finishReason"]): "stop" | "length" => (r === "length" ? "length" : "stop");

/** OpenAI's usage object. */
export function usage(r: GenerateResult) {
  const u = r.usage;
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    ...(u.cachedTokens ? { prompt_tokens_details: { cached_tokens: u.cachedTokens } } : {}),
  };
}
