// An image processor driven by a checkpoint's preprocessor_config.json, as transformers' (PIL)
// CLIPImageProcessor / LlavaImageProcessor / SiglipImageProcessor / Gemma3ImageProcessor do it:
// convert to RGB, pad to square with the mean color (LLaVA's do_pad), resize (shortest_edge or
// height x width, the configured resampling), center crop, rescale, normalize, channels first.
// Resampling is libvips' (sharp), not Pillow's: ARCHITECTURE.md "VLM preprocessing" says by how
// much they differ. Every other step is exact (the tests check bit-equality on unresized images).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tensor, tensor } from "@tessera/core";
import sharp from "sharp";
import type { KernelEnum } from "sharp";
import { parsePinpoints, patchOutputSize, selectBestResolution } from "./anyres.js";
import type { ImageSize } from "./anyres.js";
import { readImage } from "./image.js";
import type { ImageInput, ReadImageOptions, RgbImage } from "./image.js";

/** The settings of a preprocessor_config.json this processor uses. */
export interface ImageProcessorConfig {
  doConvertRgb: boolean;
  doPad: boolean;
  doResize: boolean;
  /** { shortestEdge } or { height, width }. */
  size: { shortestEdge: number } | { height: number; width: number };
  /** PIL resampling code: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic. */
  resample: number;
  doCenterCrop: boolean;
  cropSize?: { height: number; width: number };
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
  /** LLaVA-NeXT's image_grid_pinpoints ([height, width] each): tile each image (do_pad then pads batches, not images). */
  gridPinpoints?: [number, number][];
}

/** Pixel values of some images and what the model needs to place them. */
export interface ProcessedImages {
  /** [tiles, 3, H, W] float32: one tile per image, or LLaVA-NeXT's base tile and grid tiles of each. */
  pixels: Tensor;
  /** Each image's size after decoding (before any resizing). */
  imageSizes: ImageSize[];
  /** Tiles per image. */
  tiles: number[];
}

type Json = Record<string, unknown>;

function triple(v: unknown, key: string, fallback: number): [number, number, number] {
  if (v === undefined || v === null) return [fallback, fallback, fallback];
  if (typeof v === "number") return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number")) return v as [number, number, number];
  throw new Error(`preprocessor config: ${key} must be a number or 3 numbers, got ${JSON.stringify(v)}`);
}

function sizeOf(v: unknown, key: string): ImageProcessorConfig["size"] {
  const s = v as Json | number | undefined;
  if (typeof s === "number") return { height: s, width: s };
  if (s && typeof s.shortest_edge === "number" && s.longest_edge === undefined) return { shortestEdge: s.shortest_edge };
  if (s && typeof s.height === "number" && typeof s.width === "number") return { height: s.height, width: s.width };
  throw new Error(`preprocessor config: ${key} must be {"shortest_edge": n} or {"height": h, "width": w}, got ${JSON.stringify(v)}`);
}

/** Parses a preprocessor_config.json object (null values take transformers' defaults). */
export function parseImageProcessorConfig(c: Json): ImageProcessorConfig {
  const bool = (k: string, d: boolean) => (c[k] === undefined || c[k] === null ? d : Boolean(c[k]));
  const doCenterCrop = bool("do_center_crop", false);
  const crop = doCenterCrop ? sizeOf(c.crop_size, "crop_size") : undefined;
  if (crop && "shortestEdge" in crop) throw new Error("preprocessor config: crop_size must be {height, width}");
  const resample = c.resample === undefined || c.resample === null ? 3 : c.resample;
  if (typeof resample !== "number" || !KERNELS[resample]) throw new Error(`preprocessor config: resample ${JSON.stringify(resample)} is not supported (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic)`);
  if (c.do_pan_and_scan) throw new Error("preprocessor config: do_pan_and_scan is not supported");
  const gridPinpoints = c.image_grid_pinpoints === undefined || c.image_grid_pinpoints === null ? undefined : parsePinpoints(c.image_grid_pinpoints, "preprocessor config");
  return {
    gridPinpoints, doConvertRgb: bool("do_convert_rgb", true), doPad: !gridPinpoints && bool("do_pad", false), doResize: bool("do_resize", true),
    size: sizeOf(c.size, "size"), resample, doCenterCrop, cropSize: crop as ImageProcessorConfig["cropSize"],
    doRescale: bool("do_rescale", true), rescaleFactor: typeof c.rescale_factor === "number" ? c.rescale_factor : 1 / 255,
    doNormalize: bool("do_normalize", true), imageMean: triple(c.image_mean, "image_mean", 0.5), imageStd: triple(c.image_std, "image_std", 0.5),
  };
}

/** Reads preprocessor_config.json, else processor_config.json's image_processor block, in a model folder. */
export function readImageProcessorConfig(folder: string): ImageProcessorConfig {
  for (const [file, pick] of [["preprocessor_config.json", (j: Json) => j], ["processor_config.json", (j: Json) => j.image_processor as Json]] as const) {
    const path = join(folder, file);
    if (!existsSync(path)) continue;
    const block = pick(JSON.parse(readFileSync(path, "utf8")) as Json);
    if (block && typeof block === "object") return parseImageProcessorConfig(block);
  }
  throw new Error(`${folder}: no preprocessor_config.json (or processor_config.json with an image_processor block)`);
}

// PIL resampling codes -> libvips kernels (PIL's bicubic is Keys' a = -0.5, libvips' cubic Catmull-Rom).
const KERNELS: Record<number, keyof KernelEnum> = { 0: "nearest", 1: "lanczos3", 2: "linear", 3: "cubic" };

function padToSquare(img: RgbImage, color: [number, number, number]): RgbImage {
  const { width: w, height: h } = img;
  if (w === h) return img;
  const n = Math.max(w, h);
  const out = new Uint8Array(n * n * 3);
  for (let i = 0; i < n * n; i++) out.set(color, i * 3);
  const top = w > h ? Math.floor((n - h) / 2) : 0, left = w > h ? 0 : Math.floor((n - w) / 2);
  for (let y = 0; y < h; y++) out.set(img.data.subarray(y * w * 3, (y + 1) * w * 3), ((top + y) * n + left) * 3);
  return { data: out, width: n, height: n };
}

/** transformers' output size: shortest edge to s (the other int(s * long / short)), or height x width. */
export function resizeTarget(cfg: ImageProcessorConfig, width: number, height: number): { width: number; height: number } {
  if ("height" in cfg.size) return { width: cfg.size.width, height: cfg.size.height };
  const s = cfg.size.shortestEdge;
  const long = Math.floor((s * Math.max(width, height)) / Math.min(width, height));
  return width <= height ? { width: s, height: long } : { width: long, height: s };
}

async function resize(img: RgbImage, width: number, height: number, resample: number): Promise<RgbImage> {
  if (img.width === width && img.height === height) return img;
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: "fill", kernel: KERNELS[resample] }).raw().toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}

function centerCrop(img: RgbImage, height: number, width: number): RgbImage {
  const top = Math.floor((img.height - height) / 2), left = Math.floor((img.width - width) / 2);
  if (top < 0 || left < 0) throw new Error(`center crop: the image (${img.width}x${img.height}) is smaller than the crop (${width}x${height})`);
  if (top === 0 && left === 0 && img.width === width && img.height === height) return img;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) out.set(img.data.subarray(((top + y) * img.width + left) * 3, ((top + y) * img.width + left + width) * 3), y * width * 3);
  return { data: out, width, height };
}

function tileSide(cfg: ImageProcessorConfig): number {
  if (cfg.doCenterCrop && cfg.cropSize) return cfg.cropSize.height;
  return "height" in cfg.size ? cfg.size.height : cfg.size.shortestEdge;
}

function decode(cfg: ImageProcessorConfig, input: ImageInput, opts: ReadImageOptions): Promise<RgbImage> {
  const side = "height" in cfg.size ? Math.max(cfg.size.width, cfg.size.height) : cfg.size.shortestEdge;
  const area = Math.max(side * side, ...(cfg.gridPinpoints ?? []).map(([h, w]) => h * w));
  // Only huge inputs are shrunk while decoding (to 16 Mpx, or 4x the target per side if larger),
  // so ordinary images take the single resampling step transformers takes.
  return readImage(input, { maxPixels: Math.max(4096 * 4096, 16 * area), ...opts });
}

/** Pad (LLaVA), resize and center crop: what each image (or tile) goes through. */
async function transform(cfg: ImageProcessorConfig, img: RgbImage): Promise<RgbImage> {
  if (cfg.doPad) img = padToSquare(img, cfg.imageMean.map((m) => Math.trunc(m * 255)) as [number, number, number]);
  if (cfg.doResize) {
    const t = resizeTarget(cfg, img.width, img.height);
    img = await resize(img, t.width, t.height, cfg.resample);
  }
  if (cfg.doCenterCrop && cfg.cropSize) img = centerCrop(img, cfg.cropSize.height, cfg.cropSize.width);
  return img;
}

function crop(img: RgbImage, top: number, left: number, height: number, width: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) out.set(img.data.subarray(((top + y) * img.width + left) * 3, ((top + y) * img.width + left + width) * 3), y * width * 3);
  return { data: out, width, height };
}

/**
 * LLaVA-NeXT's tiles of one image (before transform): the image squashed to the tower's size, then
 * the best-fit pinpoint's tiles of the image resized into it (aspect kept) on black padding.
 */
export async function anyresTiles(cfg: ImageProcessorConfig, img: RgbImage): Promise<RgbImage[]> {
  if (!cfg.gridPinpoints) throw new Error("anyresTiles: the config has no image_grid_pinpoints");
  const size = { height: img.height, width: img.width };
  const [bh, bw] = selectBestResolution(size, cfg.gridPinpoints);
  const p = tileSide(cfg);
  if (bh % p || bw % p) throw new Error(`preprocessor config: the pinpoint ${bh}x${bw} is not a multiple of the tile size ${p}`);
  const inner = patchOutputSize(size, [bh, bw]);
  const resized = await resize(img, inner.width, inner.height, cfg.resample);
  const padded = new Uint8Array(bh * bw * 3);
  const top = Math.floor((bh - inner.height) / 2), left = Math.floor((bw - inner.width) / 2);
  for (let y = 0; y < inner.height; y++) padded.set(resized.data.subarray(y * inner.width * 3, (y + 1) * inner.width * 3), ((top + y) * bw + left) * 3);
  const canvas = { data: padded, width: bw, height: bh };
  const base = "height" in cfg.size ? cfg.size : { height: cfg.size.shortestEdge, width: cfg.size.shortestEdge };
  const tiles = [await resize(img, base.width, base.height, cfg.resample)];
  for (let y = 0; y < bh; y += p) for (let x = 0; x < bw; x += p) tiles.push(crop(canvas, y, x, p, p));
  return tiles;
}

/** The resized / padded / cropped 8-bit RGB image the model will see (before rescale and normalize); LLaVA-NeXT: its base tile. */
export async function prepareImage(cfg: ImageProcessorConfig, input: ImageInput, opts: ReadImageOptions = {}): Promise<RgbImage> {
  return (await prepareTiles(cfg, input, opts)).tiles[0];
}

/** The 8-bit RGB tiles of one image (one, or LLaVA-NeXT's base and grid tiles) and its decoded size. */
export async function prepareTiles(cfg: ImageProcessorConfig, input: ImageInput, opts: ReadImageOptions = {}): Promise<{ tiles: RgbImage[]; size: ImageSize }> {
  const img = await decode(cfg, input, opts);
  const size = { height: img.height, width: img.width };
  if (!cfg.gridPinpoints) return { tiles: [await transform(cfg, img)], size };
  const tiles = await Promise.all((await anyresTiles(cfg, img)).map((t) => transform(cfg, t)));
  return { tiles, size };
}

/** Rescale and normalize in float32 as transformers does (each step rounded to float32), channels first [3, H, W]. */
export function normalizeImage(cfg: ImageProcessorConfig, img: RgbImage): Float32Array {
  const { width: w, height: h, data } = img;
  const out = new Float32Array(3 * h * w);
  const f = Math.fround, mean = cfg.imageMean.map(f), std = cfg.imageStd.map(f);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < h * w; i++) {
      let x = data[i * 3 + c];
      if (cfg.doRescale) x = f(x * cfg.rescaleFactor);
      if (cfg.doNormalize) x = f(f(x - mean[c]) / std[c]);
      out[c * h * w + i] = x;
    }
  }
  return out;
}

/** Pixel values, image sizes and tiles per image, as the checkpoint's processor makes them. */
export async function processImages(cfg: ImageProcessorConfig, images: readonly ImageInput[], opts: ReadImageOptions = {}): Promise<ProcessedImages> {
  if (images.length === 0) throw new Error("preprocessImages: no images given");
  const prepared = await Promise.all(images.map((im) => prepareTiles(cfg, im, opts)));
  const all = prepared.flatMap((p) => p.tiles);
  const { width, height } = all[0];
  if (all.some((p) => p.width !== width || p.height !== height)) throw new Error("preprocessImages: the images came out in different sizes (the config has no fixed size)");
  const out = new Float32Array(all.length * 3 * width * height);
  all.forEach((p, i) => out.set(normalizeImage(cfg, p), i * 3 * width * height));
  return {
    pixels: tensor(out, { shape: [all.length, 3, height, width] }),
    imageSizes: prepared.map((p) => p.size), tiles: prepared.map((p) => p.tiles.length),
  };
}

/** Pixel values [tiles, 3, H, W] (float32) for images, as the checkpoint's processor makes them (processImages' pixels). */
export async function preprocessImages(cfg: ImageProcessorConfig, images: readonly ImageInput[], opts: ReadImageOptions = {}): Promise<Tensor> {
  return (await processImages(cfg, images, opts)).pixels;
}
