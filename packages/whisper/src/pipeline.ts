// loadWhisper: a model name, repo id, folder or whisper.cpp file to everything transcribe() needs.
import { resolveModel } from "@tessera/core";
import type { Tensor, hub } from "@tessera/core";
import { melFilters } from "./mel.js";
import type { MelBins } from "./mel.js";
import { loadWhisperModel } from "./model/load.js";
import type { LoadWhisperOptions, LoadedWhisperModel } from "./model/load.js";
import type { Whisper } from "./model/whisper.js";
import { getTokenizer, loadTokenizer } from "./tokenizer.js";
import type { WhisperTokenizer } from "./tokenizer.js";

/** The model transcribe() loads when none is given. */
export const DEFAULT_MODEL = "openai/whisper-base";

/** openai-whisper's model names; each is the Hugging Face repo `openai/whisper-<name>`. */
export const MODEL_NAMES = [
  "tiny.en", "tiny", "base.en", "base", "small.en", "small", "medium.en", "medium",
  "large-v1", "large-v2", "large-v3", "large", "large-v3-turbo", "turbo",
] as const;

/** Files of a Whisper repo worth downloading (not the PyTorch/TF/Flax copies of the weights). */
const REPO_FILES = ["*.json", "*.safetensors", "*.npz", "*.txt", "*.tiktoken", "*.bin"];

export interface LoadWhisperPipelineOptions extends LoadWhisperOptions {
  /** Hub download and cache options (revision, cacheDir, offline, progress...), for repo ids. */
  hub?: Omit<hub.ResolveModelOptions, "allowPatterns">;
}

/** A loaded Whisper model with its tokenizer and mel filterbank; reuse it across transcriptions. */
export interface WhisperPipeline extends LoadedWhisperModel {
  /** The folder or file the model was loaded from. */
  path: string;
  /** A tokenizer of the model's vocabulary (decoding makes the one for each language and task). */
  tokenizer: WhisperTokenizer;
  /** The mel filterbank [n_mels, 201]: the model file's own (whisper.cpp), or openai-whisper's. */
  filters: Tensor;
}

/** The repo id or path to load for `model`: an openai-whisper name becomes `openai/whisper-<name>`. */
export function modelSource(model: string): string {
  if (!(MODEL_NAMES as readonly string[]).includes(model)) return model;
  return `openai/whisper-${model === "turbo" ? "large-v3-turbo" : model === "large" ? "large-v3" : model}`;
}

/**
 * Loads a Whisper model for {@link transcribe}: an openai-whisper name ("tiny", "base.en",
 * "large-v3-turbo"...), a Hugging Face repo id (openai/whisper-*, mlx-community/whisper-*; resolved
 * through the huggingface_hub cache, downloading what is missing), a local folder, or a whisper.cpp
 * ggml `.bin`. The tokenizer comes from the folder's tokenizer.json, or else openai-whisper's
 * tiktoken vocabularies shipped with this package.
 */
export async function loadWhisper(model: string = DEFAULT_MODEL, options: LoadWhisperPipelineOptions = {}): Promise<WhisperPipeline> {
  if (typeof model !== "string" || model.trim() === "")
    throw new Error(`loadWhisper: model must be a model name (${MODEL_NAMES.join(", ")}), a repo id, a folder or a .bin file; got ${JSON.stringify(model)}`);
  const path = await resolveModel(modelSource(model), { ...options.hub, allowPatterns: REPO_FILES });
  const loaded = loadWhisperModel(path, options);
  return { ...loaded, path, tokenizer: tokenizerFor(loaded), filters: loaded.melFilters ?? melFilters(loaded.dims.n_mels as MelBins) };
}

function tokenizerFor(loaded: LoadedWhisperModel): WhisperTokenizer {
  const model: Whisper = loaded.model;
  const { folder, files } = loaded.tokenizerFiles;
  const tokenizer = files["tokenizer.json"]
    ? loadTokenizer(folder, { multilingual: model.isMultilingual, numLanguages: model.numLanguages })
    : getTokenizer({ multilingual: model.isMultilingual, numLanguages: model.numLanguages });
  const top = Math.max(...tokenizer.specialTokens.values());
  if (top >= loaded.dims.n_vocab)
    throw new Error(`loadWhisper: the tokenizer's token ids reach ${top} but the model's vocabulary has ${loaded.dims.n_vocab} (${folder})`);
  return tokenizer;
}
