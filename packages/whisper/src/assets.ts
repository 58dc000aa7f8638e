import { fileURLToPath } from "node:url";

/** This package's data folder: gpt2.tiktoken, multilingual.tiktoken, mel_filters.npz. */
export const ASSETS_DIR = fileURLToPath(new URL("../assets/", import.meta.url));
