// Chat templates: a model's Jinja template (tokenizer_config.json, chat_template.jinja, GGUF metadata,
// or a string) rendered with @huggingface/jinja the way transformers' apply_chat_template renders it.
import { Template } from "@huggingface/jinja";
import type { Tokenizer } from "./tokenizer.js";

/** A text part of a multi-part message. */
export interface TextPart {
  type: "text";
  text: string;
}

/** A non-text part (an image, audio...): the template decides what it becomes (e.g. Gemma's `<start_of_image>`). */
export interface MediaPart {
  type: string;
  [key: string]: unknown;
}

/** A tool call made by the assistant (OpenAI's shape). */
export interface ToolCall {
  id?: string;
  type?: "function";
  function: { name: string; arguments: string | Record<string, unknown> };
}

/** One chat message (OpenAI's shape; extra fields are passed to the template as they are). */
export interface ChatMessage {
  role: string;
  content?: string | (TextPart | MediaPart)[] | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  name?: string;
  /** Qwen 3 style reasoning text of an assistant turn. */
  reasoning_content?: string;
  [key: string]: unknown;
}

/** A tool the model may call (OpenAI's shape). */
export interface ChatTool {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

/** Options of {@link ChatTemplate.render}. */
export interface RenderOptions {
  /** End with the header of an assistant turn, so that the model writes the reply; default true. */
  addGenerationPrompt?: boolean;
  /** Tools for templates that describe them (`tools` in the template). */
  tools?: ChatTool[];
  /** Other template variables, e.g. `{ enable_thinking: false }` for Qwen 3. */
  variables?: Record<string, unknown>;
}

/** The special-token variables a template sees. */
export interface TemplateTokens {
  bosToken?: string;
  eosToken?: string;
  padToken?: string;
  unkToken?: string;
}

/** Throws a clear Error for a conversation that is not a list of well-formed messages. */
export function validateMessages(messages: unknown): asserts messages is ChatMessage[] {
  if (!Array.isArray(messages)) throw new Error("Chat messages must be an array of {role, content} objects");
  if (messages.length === 0) throw new Error("Chat messages must not be empty");
  messages.forEach((m: unknown, i) => {
    const where = `Chat message ${i}`;
    if (typeof m !== "object" || m === null || Array.isArray(m)) throw new Error(`${where} must be an object with 'role' and 'content'`);
    const msg = m as Record<string, unknown>;
    if (typeof msg.role !== "string" || msg.role === "") throw new Error(`${where} needs a non-empty string 'role'`);
    const c = msg.content;
    const hasCalls = Array.isArray(msg.tool_calls) && msg.tool_calls.length > 0;
    if (c === undefined || c === null) {
      if (!(msg.role === "assistant" && hasCalls)) throw new Error(`${where} (${msg.role}) has no 'content'`);
    } else if (Array.isArray(c)) {
      c.forEach((p: unknown, j) => {
        if (typeof p !== "object" || p === null || typeof (p as MediaPart).type !== "string") {
          throw new Error(`${where}: content part ${j} must be an object with a string 'type'`);
        }
        if ((p as MediaPart).type === "text" && typeof (p as TextPart).text !== "string") {
          throw new Error(`${where}: text part ${j} needs a string 'text'`);
        }
      });
    } else if (typeof c !== "string") {
      throw new Error(`${where}: 'content' must be a string or an array of parts, got ${typeof c}`);
    }
    if (msg.tool_calls !== undefined) validateToolCalls(msg.tool_calls, where);
  });
}

function validateToolCalls(calls: unknown, where: string): void {
  if (!Array.isArray(calls)) throw new Error(`${where}: 'tool_calls' must be an array`);
  calls.forEach((tc: unknown, j) => {
    const fn = (tc as ToolCall | null)?.function as Record<string, unknown> | undefined;
    if (typeof fn !== "object" || fn === null || typeof fn.name !== "string") {
      throw new Error(`${where}: tool call ${j} needs a 'function' with a string 'name'`);
    }
    if (typeof fn.arguments !== "string" && (typeof fn.arguments !== "object" || fn.arguments === null)) {
      throw new Error(`${where}: tool call ${j} 'arguments' must be a JSON string or an object`);
    }
  });
}

function validateTools(tools: unknown): void {
  if (!Array.isArray(tools)) throw new Error("'tools' must be an array of {type: \"function\", function: {name, ...}}");
  tools.forEach((t: unknown, i) => {
    const fn = (t as ChatTool | null)?.function;
    if (typeof fn !== "object" || fn === null || typeof fn.name !== "string") throw new Error(`Tool ${i} needs a 'function' with a string 'name'`);
  });
}

/** A compiled chat template. */
export class ChatTemplate {
  private readonly template: Template;

  /** Compiles `source`; throws a clear Error when it is not valid Jinja. */
  constructor(
    readonly source: string,
    private readonly tokens: TemplateTokens = {},
  ) {
    if (typeof source !== "string" || source.trim() === "") throw new Error("A chat template must be a non-empty string");
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new Error(`Invalid chat template: ${(e as Error).message}`);
    }
  }

  /** The template of a tokenizer (its config's, chat_template.jinja, or GGUF's), with its bos/eos tokens. */
  static fromTokenizer(tokenizer: Tokenizer, source: string | undefined = tokenizer.chatTemplate): ChatTemplate {
    if (source === undefined) {
      throw new Error("This model has no chat template (tokenizer_config.json 'chat_template', chat_template.jinja or GGUF metadata): pass one, or use plain-text generation");
    }
    const tokenText = (id: number | undefined): string | undefined => (id === undefined ? undefined : tokenizer.idToToken(id));
    return new ChatTemplate(source, {
      bosToken: tokenizer.bosToken,
      eosToken: tokenizer.eosToken,
      padToken: tokenText(tokenizer.padTokenId),
      unkToken: typeof tokenizer.config.unk_token === "string" ? tokenizer.config.unk_token : undefined,
    });
  }

  /** Renders a conversation to the prompt text (encode it with `addSpecialTokens: false`). */
  render(messages: readonly ChatMessage[], options: RenderOptions = {}): string {
    validateMessages(messages);
    if (options.tools !== undefined) validateTools(options.tools);
    const vars: Record<string, unknown> = {
      // As transformers: absent tools/documents are None, not undefined, to the template.
      tools: options.tools ?? null,
      documents: null,
      ...(options.variables ?? {}),
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? true,
    };
    // Like transformers, a token the model lacks is undefined to the template (not "").
    if (this.tokens.bosToken !== undefined) vars.bos_token = this.tokens.bosToken;
    if (this.tokens.eosToken !== undefined) vars.eos_token = this.tokens.eosToken;
    if (this.tokens.padToken !== undefined) vars.pad_token = this.tokens.padToken;
    if (this.tokens.unkToken !== undefined) vars.unk_token = this.tokens.unkToken;
    try {
      return this.template.render(vars);
    } catch (e) {
      throw new Error(`Chat template error: ${(e as Error).message}`);
    }
  }
}
