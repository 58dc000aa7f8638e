// PNG output with A1111's `parameters` chunk, read back by sharp (libvips/libpng) and by us; infotext
// formatting and parsing; atomic writes; reading init images.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { DiffusionImage, formatParameters, parseParameters, readImage, readParameters } from "../src/index.js";
import type { GenerationParameters } from "../src/index.js";
import { crc32, insertPngText, readPngText } from "../src/png_text.js";

const params: GenerationParameters = {
  prompt: "a sunset over mountains, oil painting", negativePrompt: "blurry, low quality", steps: 20,
  sampler: "dpmpp_2m", scheduler: "karras", guidance: 7.5, seed: 7, width: 8, height: 4, model: "tiny-sd",
};

function pattern(w: number, h: number): Uint8Array {
  return Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
}

describe("PNG text chunk", () => {
  it("crc32 is the PNG/zlib CRC", () => {
    expect(crc32(Buffer.from("IEND", "latin1"))).toBe(0xae426082);
    expect(crc32(Buffer.from("123456789", "latin1"))).toBe(0xcbf43926);
  });

  it("writes pixels and parameters that sharp reads back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sd-png-"));
    const img = new DiffusionImage(pattern(8, 4), 8, 4, params);
    const path = join(dir, "out.png");
    await img.toFile(path);
    expect(readdirSync(dir)).toEqual(["out.png"]); // no temporary file left
    const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([8, 4, 3]);
    expect(new Uint8Array(data)).toEqual(img.data);
    const meta = await sharp(path).metadata();
    expect(meta.comments).toEqual([{ keyword: "parameters", text: img.infotext }]);
    expect(await readParameters(path)).toEqual(params);
  });

  it("writes non-Latin-1 text as iTXt (UTF-8)", async () => {
    const p = { ...params, prompt: "富士山と桜 🌸", negativePrompt: "" };
    const png = await new DiffusionImage(pattern(8, 4), 8, 4, p).toPng();
    expect(Buffer.from(png).includes(Buffer.from("iTXt"))).toBe(true);
    expect(parseParameters(readPngText(png).get("parameters") ?? "")).toEqual({ ...p, negativePrompt: "" });
    const meta = await sharp(png).metadata();
    expect(meta.comments?.[0]?.text).toContain("富士山と桜 🌸");
  });

  it("rejects what is not a PNG and bad keywords", () => {
    expect(() => insertPngText(new Uint8Array(40), "parameters", "x")).toThrow(/not a PNG file/);
    expect(() => insertPngText(new Uint8Array(40), "", "x")).toThrow();
  });

  it("an unwritable path throws naming it and leaves nothing behind", async () => {
    const img = new DiffusionImage(pattern(2, 2), 2, 2);
    await expect(img.toFile("/nonexistent-dir/x.png")).rejects.toThrow(/could not write \/nonexistent-dir\/x.png/);
    await expect(img.toFile(join(tmpdir(), "x.bmp"))).rejects.toThrow(/cannot write .bmp images/);
  });

  it("checks the pixel buffer", () => {
    expect(() => new DiffusionImage(new Uint8Array(5), 2, 2)).toThrow(/data must be 2x2x3 = 12 RGB bytes, got 5/);
  });
});

describe("A1111 infotext", () => {
  it("formats as A1111 and parses back", () => {
    expect(formatParameters(params)).toBe(
      "a sunset over mountains, oil painting\nNegative prompt: blurry, low quality\n"
      + "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.5, Seed: 7, Size: 8x4, Model: tiny-sd");
    expect(parseParameters(formatParameters(params))).toEqual(params);
    const skip = { ...params, clipSkip: 1 };
    expect(formatParameters(skip)).toMatch(/Model: tiny-sd, Clip skip: 2$/);
    expect(parseParameters(formatParameters(skip))).toEqual(skip);
  });

  it("parses A1111's own infotext (older sampler spelling, quoted values, extra fields)", () => {
    const text = "masterpiece, 1girl\nwith a second line\nNegative prompt: worst quality\n"
      + 'Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567890, Size: 512x768, Model hash: 6ce0161689, '
      + 'Model: v1-5-pruned-emaonly, Denoising strength: 0.7, Lora hashes: "a: 1, b: 2", Version: v1.6.0';
    expect(parseParameters(text)).toEqual({
      prompt: "masterpiece, 1girl\nwith a second line", negativePrompt: "worst quality", steps: 28, sampler: "dpmpp_2m",
      scheduler: "karras", guidance: 7, seed: 1234567890, width: 512, height: 768, model: "v1-5-pruned-emaonly",
      strength: 0.7, extra: { "Model hash": "6ce0161689", "Lora hashes": "a: 1, b: 2", Version: "v1.6.0" },
    });
  });

  it("a prompt alone, and bad fields", () => {
    expect(parseParameters("just a prompt")).toEqual({ prompt: "just a prompt", negativePrompt: "" });
    expect(() => parseParameters("p\nSteps: many, Sampler: Euler, Seed: 1")).toThrow(/Steps is not an integer/);
    expect(() => parseParameters("p\nSteps: 2, Sampler: Magic, Seed: 1")).toThrow(/unknown sampler "Magic"/);
  });
});

describe("reading images", () => {
  it("reads PNG with alpha and grey as RGB", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sd-read-"));
    const rgba = join(dir, "rgba.png");
    await sharp(Buffer.from([10, 20, 30, 128, 40, 50, 60, 255]), { raw: { width: 2, height: 1, channels: 4 } }).png().toFile(rgba);
    expect(await readImage(rgba)).toEqual({ data: Uint8Array.from([10, 20, 30, 40, 50, 60]), width: 2, height: 1 });
    const grey = await sharp(Buffer.from([7, 9]), { raw: { width: 1, height: 2, channels: 1 } }).png().toBuffer();
    expect((await readImage(grey)).data).toEqual(Uint8Array.from([7, 7, 7, 9, 9, 9]));
    const bad = join(dir, "bad.png");
    writeFileSync(bad, "not an image");
    await expect(readImage(bad)).rejects.toThrow(new RegExp(`could not read the image ${bad}`));
    expect(readFileSync(bad, "utf8")).toBe("not an image");
    await expect(readParameters(join(dir, "missing.png"))).rejects.toThrow(/could not read .*missing.png/);
    expect(await readParameters(rgba)).toBeUndefined();
  });
});
