// @tessera/diffusion: Stable Diffusion on Tessera: samplers, the txt2img / img2img pipeline, images.
export * from "./schedulers/index.js";
export * from "./networks.js";
export * from "./pipeline.js";
export { DiffusionImage, readImage, readParameters, resizeRgb } from "./image.js";
export type { RgbImage } from "./image.js";
export { formatParameters, parseParameters, a1111SamplerName } from "./parameters.js";
export type { GenerationParameters } from "./parameters.js";
export { seededNoise } from "./noise.js";
export type { PipelineNoise } from "./noise.js";
