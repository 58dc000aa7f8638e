// Images in and out: RGB bytes, PNG files with the generation parameters in A1111's `parameters`
// text chunk, and reading init images (any format sharp reads) for img2img.
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import sharp from "sharp";
import { formatParameters, parseParameters } from "./parameters.js";
import type { GenerationParameters } from "./parameters.js";
import { insertPngText, readPngText } from "./png_text.js";

/** An RGB image (8 bits per channel, row-major, no padding). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

function checkRgb(img: RgbImage, who: string): void {
  const { data, width, height } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new Error(`${who}: width and height must be positive integers, got ${width}x${height}`);
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3)
    throw new Error(`${who}: data must be ${width}x${height}x3 = ${width * height * 3} RGB bytes, got ${data?.length}`);
}

/** A generated image: its RGB bytes and the parameters that made it. */
export class DiffusionImage implements RgbImage {
  constructor(
    readonly data: Uint8Array,
    readonly width: number,
    readonly height: number,
    /** What made it; written into PNGs as A1111's infotext. */
    readonly parameters?: GenerationParameters,
  ) {
    checkRgb(this, "DiffusionImage");
  }

  /** The parameters as A1111's infotext (undefined without parameters). */
  get infotext(): string | undefined {
    return this.parameters ? formatParameters(this.parameters) : undefined;
  }

  /** PNG bytes, with the infotext in a `parameters` text chunk. */
  async toPng(): Promise<Uint8Array> {
    const png = await sharp(this.data, { raw: { width: this.width, height: this.height, channels: 3 } }).png().toBuffer();
    const text = this.infotext;
    return text === undefined ? png : insertPngText(png, "parameters", text);
  }

  /**
   * Writes the image: PNG (with parameters) for .png, else the format sharp infers from the extension
   * (.jpg, .webp...). Written to a temporary file beside `path`, then renamed, so an interrupted
   * write never leaves a partial image at `path`.
   */
  async toFile(path: string): Promise<void> {
    const ext = extname(path).toLowerCase();
    const bytes = ext === ".png" || ext === "" ? await this.toPng()
      : await sharp(this.data, { raw: { width: this.width, height: this.height, channels: 3 } }).toFormat(formatOf(ext)).toBuffer();
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw new Error(`could not write ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

const FORMATS = ["jpeg", "webp", "tiff", "avif", "gif"] as const;

function formatOf(ext: string): (typeof FORMATS)[number] {
  const f = FORMATS.find((x) => x === (ext === ".jpg" ? "jpeg" : ext.slice(1)));
  if (f === undefined)
    throw new Error(`cannot write ${ext} images: use .png (with the generation parameters), .jpg, .webp, .tiff, .avif or .gif`);
  return f;
}

/** An image file (or its bytes) as RGB: alpha dropped (as PIL's convert("RGB")), grey expanded to RGB. */
export async function readImage(input: string | Uint8Array): Promise<RgbImage> {
  const name = typeof input === "string" ? input : "the image bytes";
  try {
    const { data, info } = await sharp(input).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new Error(`could not read ${typeof input === "string" ? `the image ${name}` : name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Resizes RGB to width x height (Lanczos, as diffusers' image processor with PIL). */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (img.width === width && img.height === height) return img;
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: "fill", kernel: "lanczos3" }).raw().toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}

/** The generation parameters stored in a PNG (A1111's `parameters` chunk), or undefined when it has none. */
export async function readParameters(path: string): Promise<Partial<GenerationParameters> | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`could not read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let text: string | undefined;
  try {
    text = readPngText(bytes).get("parameters");
  } catch (e) {
    throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return text === undefined ? undefined : parseParameters(text);
}
