// @tessera/diffusion: Stable Diffusion 1.x / 2.x / SDXL on Tessera: CLIP text encoders, UNet, VAE and their
// loading; samplers, the txt2img / img2img pipeline, images with A1111 parameters, the sd command.
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
export { loadDiffusersFolder, loadTextEncoder, loadUNet, loadVae, sanitizeConvs } from "./load.js";
export type { DiffusionComponents, LoadDiffusionOptions, SchedulerSpec } from "./load.js";
export type { ModelDType, RawConfig } from "./config.js";
export * from "./schedulers/index.js";
export * from "./networks.js";
export * from "./pipeline.js";
export { DiffusionImage, readImage, readParameters, resizeRgb } from "./image.js";
export type { RgbImage } from "./image.js";
export { formatParameters, parseParameters, a1111SamplerName } from "./parameters.js";
export type { GenerationParameters } from "./parameters.js";
export { seededNoise } from "./noise.js";
export type { PipelineNoise } from "./noise.js";
export { loadDiffusion, encodePrompt, networksFrom, quantizeComponents } from "./sd.js";
export type { DiffusionPipeline, LoadDiffusionPipelineOptions } from "./sd.js";
