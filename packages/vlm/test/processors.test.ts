// Image preprocessing against transformers' PIL image processors (tools/reference/gen_vlm.py):
// exact where no resampling happens, within a measured tolerance where libvips and Pillow resample.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import sharp from "sharp";
import * as tc from "@tessera/core";
import { normalizeImage, prepareImage, readImage, readImageProcessorConfig } from "@tessera/vlm";
import { fixturesDir } from "../../../test/helpers/reference.js";

const dir = join(fixturesDir, "vlm");
const ref = tc.io.loadSafetensors(join(dir, "processors.safetensors")).tensors;
const meta = JSON.parse(readFileSync(join(dir, "processors.json"), "utf8")) as { images: Record<string, { size: number[] }> };
const configs = { llava: readImageProcessorConfig(join(dir, "llava")), gemma3: readImageProcessorConfig(join(dir, "gemma3")) };
const u8 = (k: string) => Uint8Array.from(ref.get(k)!.dataSync() as ArrayLike<number>);
// CHW uint8 (the reference) -> HWC
function hwc(chw: Uint8Array, h: number, w: number): Uint8Array {
  const out = new Uint8Array(chw.length);
  for (let c = 0; c < 3; c++) for (let i = 0; i < h * w; i++) out[i * 3 + c] = chw[c * h * w + i];
  return out;
}
const exact = ["llava/exact336.png", "llava/pad336.png", "gemma3/exact64.png"];

describe("image processors", () => {
  for (const key of Object.keys(meta.images)) {
    const [proc, name] = key.split("/") as ["llava" | "gemma3", string];
    it(`${key}: ${exact.includes(key) ? "identical" : "within the libvips / Pillow resampling difference"}`, async () => {
      const cfg = configs[proc];
      const img = await prepareImage(cfg, join(dir, "images", name));
      const shape = ref.get(`${key}.u8`)!.shape;
      expect([3, img.height, img.width]).toEqual(shape);
      const e = hwc(u8(`${key}.u8`), shape[1], shape[2]);
      let max = 0, sum = 0;
      for (let i = 0; i < e.length; i++) { const d = Math.abs(e[i] - img.data[i]); max = Math.max(max, d); sum += d; }
      const meanDiff = sum / e.length;
      console.log(`${key}: max |libvips - Pillow| ${max}, mean ${meanDiff.toFixed(3)} (8-bit levels)`);
      const [w, h] = meta.images[key].size;
      const downsampled = w * h > shape[1] * shape[2] * 1.5;
      if (exact.includes(key)) {
        expect(max).toBe(0);
      } else if (downsampled) {
        // Measured (ARCHITECTURE.md "VLM preprocessing"): about 0.06-1 level on average when shrinking.
        expect(meanDiff).toBeLessThan(1.5);
      } else {
        // Enlarging differs more (libvips interpolates, Pillow convolves): up to ~8 levels on average.
        expect(meanDiff).toBeLessThan(10);
      }
      const pv = ref.get(`${key}.pixel_values`);
      if (pv) {
        // Normalization is bit-exact given the same 8-bit pixels.
        const norm = normalizeImage(cfg, { data: e, width: shape[2], height: shape[1] });
        expect(Array.from(norm)).toEqual(Array.from(pv.dataSync() as Float32Array));
      }
    });
  }

  it("raw pixels, RGBA and grayscale inputs become RGB", async () => {
    const rgba = await readImage({ data: Uint8Array.from([255, 0, 0, 255, 0, 0, 255, 0]), width: 2, height: 1, channels: 4 });
    expect(Array.from(rgba.data)).toEqual([255, 0, 0, 255, 255, 255]);
    const gray = await readImage({ data: Uint8Array.from([7, 200]), width: 1, height: 2, channels: 1 });
    expect(Array.from(gray.data)).toEqual([7, 7, 7, 200, 200, 200]);
    const s = await readImage(sharp({ create: { width: 3, height: 2, channels: 3, background: { r: 1, g: 2, b: 3 } } }));
    expect([s.width, s.height, s.data[3], s.data[4], s.data[5]]).toEqual([3, 2, 1, 2, 3]);
  });

  it("bad images give clear errors", async () => {
    const png = readFileSync(join(dir, "images", "wide.png"));
    await expect(readImage(new Uint8Array(0))).rejects.toThrow(/empty/);
    await expect(readImage(Uint8Array.from([1, 2, 3, 4, 5]))).rejects.toThrow(/cannot read an encoded image of 5 bytes/);
    await expect(readImage(png.subarray(0, png.length >> 1))).rejects.toThrow(/cannot read/);
    await expect(readImage(join(dir, "nope.png"))).rejects.toThrow(/no such file/);
    await expect(readImage({ data: new Uint8Array(5), width: 2, height: 2, channels: 3 })).rejects.toThrow(/12 bytes/);
    await expect(readImage({ data: new Uint8Array(0), width: 0, height: 2, channels: 3 })).rejects.toThrow(/positive/);
  });

  it("a 20000 x 20000 image is shrunk while decoding (bounded memory)", async () => {
    const huge = sharp({ create: { width: 20000, height: 20000, channels: 3, background: { r: 10, g: 120, b: 250 } }, limitInputPixels: false });
    const before = process.memoryUsage().rss;
    const img = await prepareImage(configs.llava, huge);
    const grown = (process.memoryUsage().rss - before) / 2 ** 20;
    console.log(`20000^2 input: RSS grew ${grown.toFixed(0)} MiB (the decoded image alone would be 1144 MiB)`);
    expect([img.width, img.height]).toEqual([336, 336]);
    expect(Array.from(img.data.subarray(0, 3))).toEqual([10, 120, 250]);
  });
});
