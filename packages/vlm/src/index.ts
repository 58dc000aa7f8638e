// @tessera/vlm: vision-language generation on Tessera.
export { readImage } from "./processors/image.js";
export type { ImageInput, RawImage, ReadImageOptions, RgbImage } from "./processors/image.js";
export {
  normalizeImage, parseImageProcessorConfig, prepareImage, preprocessImages, readImageProcessorConfig, resizeTarget,
} from "./processors/processor.js";
export type { ImageProcessorConfig } from "./processors/processor.js";
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
