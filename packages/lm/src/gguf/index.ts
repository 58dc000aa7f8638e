// GGUF files as Hugging Face shaped checkpoints (config, tokenizer, tensors under HF keys).
export { readGgufCheckpoint } from "./checkpoint.js";
export type { GgufCheckpoint } from "./checkpoint.js";
export { GGUF_ARCHITECTURES, ggufConfig } from "./config.js";
export type { HfConfig } from "./config.js";
export { ggufTokenizer } from "./tokenizer.js";
export { loadModelFromGguf } from "./load.js";
export type { LoadedGguf } from "./load.js";
