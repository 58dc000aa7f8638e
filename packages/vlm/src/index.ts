// @tessera/vlm: vision-language generation on Tessera.
export { readImage } from "./processors/image.js";
export type { ImageInput, RawImage, ReadImageOptions, RgbImage } from "./processors/image.js";
export {
  anyresTiles, normalizeImage, parseImageProcessorConfig, prepareImage, prepareTiles, preprocessImages, processImages, readImageProcessorConfig, resizeTarget,
} from "./processors/processor.js";
export type { ImageProcessorConfig, ProcessedImages } from "./processors/processor.js";
export { patchOutputSize, selectBestResolution, unpaddedGrid } from "./processors/anyres.js";
export type { ImageSize } from "./processors/anyres.js";
export { CLIPVisionModel } from "./vision/clip.js";
export { SiglipVisionModel } from "./vision/siglip.js";
export { mergeImageFeatures } from "./models/base.js";
export type { VisionLanguageModel } from "./models/base.js";
export { SUPPORTED_VLM_TYPES, vlmFromConfig } from "./models/registry.js";
export { loadVlmFromFolder } from "./load.js";
export type { LoadVlmOptions, LoadedVlm } from "./load.js";
export { encodeImages, generateWithImages } from "./generate.js";
export { expandImages, promptImages } from "./processors/prompt.js";
export type { PromptImages } from "./processors/prompt.js";
export { loadVlm } from "./vlm.js";
export type { Vlm, VlmGenerateOptions, VlmMessage, VlmResult } from "./vlm.js";
export { servedVlm } from "./serve.js";
export type { VlmServedInput } from "./serve.js";
export { runVlmCli } from "./cli.js";
export type { VlmCliDeps } from "./cli.js";
