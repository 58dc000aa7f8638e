// @tessera/vlm: vision-language generation on Tessera.
export { readImage } from "./processors/image.js";
export type { ImageInput, RawImage, ReadImageOptions, RgbImage } from "./processors/image.js";
export {
  normalizeImage, parseImageProcessorConfig, prepareImage, preprocessImages, readImageProcessorConfig, resizeTarget,
} from "./processors/processor.js";
export type { ImageProcessorConfig } from "./processors/processor.js";
