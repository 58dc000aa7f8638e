// Reading an image input (a path, encoded bytes, a sharp instance, or raw pixels) into 8-bit RGB
// with sharp (libvips). Alpha is composited over white and grayscale replicated, as transformers'
// convert_rgb does. Huge inputs are shrunk while they are decoded (libvips streams the image, and
// JPEG / WebP shrink on load), so memory stays bounded by the target size, not the input's.
import { existsSync } from "node:fs";
import sharp from "sharp";
import type { Sharp } from "sharp";

/** Raw pixels, row-major, interleaved channels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), 8 bits. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** What an image may be given as. */
export type ImageInput = string | Uint8Array | Sharp | RawImage;

/** An 8-bit RGB image, row-major HWC. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface ReadImageOptions {
  /**
   * Shrink (while decoding) so that width x height stays at most this many pixels; the exact
   * resampling then starts from that. Default: no shrinking.
   */
  maxPixels?: number;
  /** Largest input accepted, in pixels (default 30000 x 30000); sharp's own default is 16383^2. */
  limitInputPixels?: number;
}

function isRaw(x: unknown): x is RawImage {
  return typeof x === "object" && x !== null && "data" in x && "width" in x && "height" in x && !(x instanceof Uint8Array);
}

function describe(input: ImageInput): string {
  if (typeof input === "string") return input;
  if (input instanceof Uint8Array) return `an encoded image of ${input.length} bytes`;
  if (isRaw(input)) return `raw pixels ${input.width}x${input.height}x${input.channels}`;
  return "a sharp instance";
}

function open(input: ImageInput, limit: number): Sharp {
  if (typeof input === "string") {
    if (!existsSync(input)) throw new Error(`readImage: ${input}: no such file`);
    return sharp(input, { limitInputPixels: limit, sequentialRead: true, failOn: "error" });
  }
  if (input instanceof Uint8Array) {
    if (input.length === 0) throw new Error("readImage: the image is empty (0 bytes)");
    return sharp(input, { limitInputPixels: limit, sequentialRead: true, failOn: "error" });
  }
  if (isRaw(input)) {
    const { data, width, height, channels } = input;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0)
      throw new Error(`readImage: raw image size must be positive integers, got ${String(width)}x${String(height)}`);
    if (![1, 2, 3, 4].includes(channels)) throw new Error(`readImage: raw image channels must be 1, 2, 3 or 4, got ${String(channels)}`);
    if (!(data instanceof Uint8Array) || data.length !== width * height * channels)
      throw new Error(`readImage: raw image data must be a Uint8Array of ${width}x${height}x${channels} = ${width * height * channels} bytes, got ${data instanceof Uint8Array ? data.length : typeof data}`);
    return sharp(data, { raw: { width, height, channels }, limitInputPixels: limit });
  }
  if (input && typeof (input as Sharp).metadata === "function") return (input as Sharp).clone();
  throw new Error(`readImage: expected a path, a Buffer/Uint8Array of an encoded image, a sharp instance or { data, width, height, channels }, got ${typeof input}`);
}

/** Decodes an image input to 8-bit RGB (alpha over white, gray replicated); throws naming what was wrong. */
export async function readImage(input: ImageInput, opts: ReadImageOptions = {}): Promise<RgbImage> {
  const limit = opts.limitInputPixels ?? 30000 * 30000;
  const what = describe(input);
  let img = open(input, limit);
  try {
    const meta = await img.metadata();
    const w = meta.autoOrient?.width ?? meta.width, h = meta.autoOrient?.height ?? meta.height;
    if (!w || !h) throw new Error("zero-size image");
    img = img.autoOrient();
    if (opts.maxPixels !== undefined && w * h > opts.maxPixels) {
      const s = Math.sqrt(opts.maxPixels / (w * h));
      img = img.resize(Math.max(1, Math.round(w * s)), Math.max(1, Math.round(h * s)), { fit: "fill", kernel: "lanczos3" });
    }
    const { data, info } = await img.flatten({ background: "#ffffff" }).toColourspace("srgb").removeAlpha().raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new Error(`readImage: cannot read ${what}: ${(e as Error).message}`);
  }
}
