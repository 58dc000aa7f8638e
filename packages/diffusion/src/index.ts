// @tessera/diffusion: Stable Diffusion 1.x / 2.x / SDXL on Tessera: CLIP text encoders, UNet, VAE and their loading.
export { CLIPTextModel, CLIPTextModelWithProjection, clipTextConfig, sanitizeClip } from "./clip.js";
export type { ClipTextConfig, ClipTextOutput } from "./clip.js";
export { ClipTokenizer, clipTokenizerJson } from "./clip_tokenizer.js";
export type { ClipTokenizerOptions, TokenizedPrompts } from "./clip_tokenizer.js";
export { UNet2DConditionModel, unetConfig } from "./unet.js";
export type { UNetConfig, AddedConditions } from "./unet.js";
export { AutoencoderKL, Encoder, Decoder, vaeConfig, sanitizeVae } from "./vae.js";
export type { VaeConfig, LatentDistribution } from "./vae.js";
export { ResnetBlock2D, Downsample2D, Upsample2D, TimestepEmbedding, timestepEmbedding } from "./blocks.js";
export { Transformer2DModel, BasicTransformerBlock, Attention } from "./transformer.js";
export { loadDiffusersFolder, readPipelineFolder, sanitizeConvs } from "./load.js";
export type { DiffusionComponents, LoadDiffusionOptions, PipelineSpec, SchedulerSpec } from "./load.js";
export { loadSingleFile, detectCheckpointKind, SINGLE_FILE_CONFIG_REPOS } from "./single_file.js";
export type { CheckpointKind, LoadSingleFileOptions } from "./single_file.js";
export type { ModelDType, RawConfig } from "./config.js";
export { encodePrompts } from "./prompt.js";
export type { TextConditioner, EncodePromptOptions, PromptEmbeddings } from "./prompt.js";
