// The JSON files a Hugging Face model folder carries next to tokenizer.json, as far as tokenization,
// special tokens and chat templates need them, and the reading of them from a folder.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** An added token in `tokenizer.json` (`added_tokens`). */
export interface AddedTokenJson {
  id: number;
  content: string;
  special: boolean;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
}

/**
 * A `tokenizer.json` object (Hugging Face `tokenizers` serialization). Only the fields read here are
 * typed; the pipeline parts (normalizer, pre_tokenizer, model, post_processor, decoder) are passed to
 * the tokenizer library as they are.
 */
export interface TokenizerJson {
  version?: string;
  added_tokens?: AddedTokenJson[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  model: { type: string; [key: string]: unknown };
  post_processor?: unknown;
  decoder?: unknown;
  [key: string]: unknown;
}

/** A special token as tokenizer_config.json / special_tokens_map.json write it: a string or an AddedToken dict. */
export type SpecialTokenValue = string | { content: string; [key: string]: unknown } | null;

/** A named template in tokenizer_config.json's list form of `chat_template`. */
export interface NamedChatTemplate {
  name: string;
  template: string;
}

/** The fields of `tokenizer_config.json` (and `special_tokens_map.json`) that the tokenizer reads. */
export interface TokenizerConfigJson {
  bos_token?: SpecialTokenValue;
  eos_token?: SpecialTokenValue;
  pad_token?: SpecialTokenValue;
  unk_token?: SpecialTokenValue;
  additional_special_tokens?: SpecialTokenValue[];
  chat_template?: string | NamedChatTemplate[] | null;
  model_max_length?: number;
  [key: string]: unknown;
}

/** The fields of `generation_config.json` that name special tokens. */
export interface GenerationConfigJson {
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
  [key: string]: unknown;
}

/** Everything besides tokenizer.json that a tokenizer is built with. */
export interface TokenizerFiles {
  /** tokenizer_config.json, with special_tokens_map.json's entries filled in where it lacks them. */
  config?: TokenizerConfigJson;
  /** generation_config.json: its `eos_token_id` list is added to the end-of-sequence set. */
  generationConfig?: GenerationConfigJson;
  /**
   * A chat template that overrides the config's (chat_template.jinja's text, GGUF's
   * `tokenizer.chat_template`, or one passed by the user).
   */
  chatTemplate?: string;
}

/** The text of a special-token entry, whichever of its two forms it has. */
export function specialTokenContent(v: SpecialTokenValue | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "object" && typeof v.content === "string") return v.content;
  throw new Error(`Invalid special token entry ${JSON.stringify(v)}: expected a string or {"content": string}`);
}

function readJson<T>(path: string): T {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`Cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function readJsonIfPresent<T>(path: string): T | undefined {
  return existsSync(path) ? readJson<T>(path) : undefined;
}

/** The files of a model folder: tokenizer.json (required) and the optional configs beside it. */
export function readTokenizerFolder(dir: string): { json: TokenizerJson; files: TokenizerFiles } {
  const jsonPath = join(dir, "tokenizer.json");
  if (!existsSync(jsonPath)) {
    throw new Error(`No tokenizer.json in ${dir} (only tokenizer.json tokenizers are supported; convert sentencepiece/tiktoken files with transformers first)`);
  }
  const json = readJson<TokenizerJson>(jsonPath);
  const config = readJsonIfPresent<TokenizerConfigJson>(join(dir, "tokenizer_config.json")) ?? {};
  const map = readJsonIfPresent<TokenizerConfigJson>(join(dir, "special_tokens_map.json")) ?? {};
  for (const key of ["bos_token", "eos_token", "pad_token", "unk_token", "additional_special_tokens"] as const) {
    if (config[key] === undefined && map[key] !== undefined) (config as Record<string, unknown>)[key] = map[key];
  }
  const generationConfig = readJsonIfPresent<GenerationConfigJson>(join(dir, "generation_config.json"));
  // Newer transformers save the template beside the config: chat_template.jinja, or chat_template.json.
  const jinjaPath = join(dir, "chat_template.jinja");
  const templateJson = readJsonIfPresent<{ chat_template?: unknown }>(join(dir, "chat_template.json"));
  let chatTemplate = existsSync(jinjaPath) ? readFileSync(jinjaPath, "utf8") : undefined;
  if (chatTemplate === undefined && typeof templateJson?.chat_template === "string") chatTemplate = templateJson.chat_template;
  return { json, files: { config, generationConfig, chatTemplate } };
}
