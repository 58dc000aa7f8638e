// @tessera/lm: LLM text generation on Tessera (being built; see issue "@tessera/lm").
export { GGUF_ARCHITECTURES, readGgufCheckpoint } from "./gguf/index.js";
export type { GgufCheckpoint } from "./gguf/index.js";
