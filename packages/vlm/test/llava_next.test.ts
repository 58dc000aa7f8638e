// The tiny LLaVA-NeXT of tools/reference/gen_vlm_next.py against transformers: any-resolution
// tiles from sharp against LlavaNextImageProcessor's (Pillow), image-token counts (the tiny config
// and the real 336-pixel one), features after the projector / unpadding / image newlines, logits
// and 20 greedy tokens for one and two images, and loadVlm end to end.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import {
  encodeImages, expandImages, generateWithImages, loadVlm, normalizeImage, prepareTiles, processImages, promptImages, selectBestResolution, vlmFromConfig,
} from "@tessera/vlm";
import type { ImageSize, VisionLanguageModel } from "@tessera/vlm";
import { fixturesDir } from "../../../test/helpers/reference.js";
import { recordingGreedy, relError } from "../../lm/test/fixtures.js";

interface Case { prompt_text: string; images: string[]; prompt: number[]; tokens: number[]; image_sizes: [number, number][]; feature_lens: number[] }
interface ProcMeta {
  images: Record<string, { size: [number, number]; best: [number, number]; tokens: number }>;
  real_pinpoints: [number, number][];
  tokens_336: { height: number; width: number; tokens: number; best: [number, number] }[];
}

const dir = join(fixturesDir, "vlm", "llava_next");
const imagePath = (f: string) => join(fixturesDir, "vlm", "images", f);
const ref = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8")) as { cases: Record<string, Case> };
const arrays = tc.io.loadSafetensors(join(dir, "reference.safetensors")).tensors;
const proc = tc.io.loadSafetensors(join(dir, "processor.safetensors")).tensors;
const meta = JSON.parse(readFileSync(join(dir, "processor.json"), "utf8")) as ProcMeta;
const vlm = await loadVlm(dir, { dtype: "float32" });
const f32 = (t: tc.Tensor) => Float32Array.from(t.dataSync() as Float32Array);
const sizes = (c: Case): ImageSize[] => c.image_sizes.map(([height, width]) => ({ height, width }));

// CHW uint8 tiles [T, 3, h, w] -> HWC per tile
function hwcTiles(t: tc.Tensor): { data: Uint8Array; width: number; height: number }[] {
  const [n, , h, w] = t.shape;
  const src = Uint8Array.from(t.dataSync() as ArrayLike<number>);
  return Array.from({ length: n }, (_, k) => {
    const out = new Uint8Array(h * w * 3);
    for (let c = 0; c < 3; c++) for (let i = 0; i < h * w; i++) out[i * 3 + c] = src[k * 3 * h * w + c * h * w + i];
    return { data: out, width: w, height: h };
  });
}

// The processor's exact 8-bit tiles -> our normalization -> pixel values [T, 3, H, W].
function exactPixels(c: string): tc.Tensor {
  const tiles = hwcTiles(arrays.get(`${c}.tiles_u8`)!);
  const { width: w, height: h } = tiles[0];
  const out = new Float32Array(tiles.length * 3 * h * w);
  tiles.forEach((t, i) => out.set(normalizeImage(vlm.processor, t), i * 3 * h * w));
  return tc.tensor(out, { shape: [tiles.length, 3, h, w] });
}

describe("LLaVA-NeXT any-resolution preprocessing", () => {
  for (const [name, m] of Object.entries(meta.images)) {
    it(`${name} (${m.size.join("x")}): best fit ${m.best.join("x")}, tiles within the libvips / Pillow resampling difference`, async () => {
      const [w, h] = m.size;
      expect(selectBestResolution({ height: h, width: w }, vlm.processor.gridPinpoints!)).toEqual(m.best);
      const { tiles, size } = await prepareTiles(vlm.processor, imagePath(name));
      expect(size).toEqual({ height: h, width: w });
      const expected = hwcTiles(proc.get(`${name}.u8`)!);
      expect(tiles.length).toBe(expected.length);
      const diffs = tiles.map((t, k) => {
        expect([t.width, t.height]).toEqual([expected[k].width, expected[k].height]);
        let sum = 0;
        for (let i = 0; i < t.data.length; i++) sum += Math.abs(t.data[i] - expected[k].data[i]);
        return sum / t.data.length;
      });
      console.log(`llava_next/${name}: mean |libvips - Pillow| per tile ${diffs.map((d) => d.toFixed(2)).join(", ")} (8-bit levels)`);
      // Downsampling differs by about a level, enlarging more (ARCHITECTURE.md "VLM preprocessing");
      // a misplaced tile or padding band would differ by tens of levels.
      const enlarged = h < m.best[0] && w < m.best[1];
      for (const d of diffs) expect(d).toBeLessThan(enlarged ? 10 : 3);
      // Normalization of the same 8-bit base tile is bit-exact.
      const pv = f32(proc.get(`${name}.pixel_values`)!);
      expect(Array.from(normalizeImage(vlm.processor, expected[0]))).toEqual(Array.from(pv));
      expect(vlm.model.imageTokens(size)).toBe(m.tokens);
    });
  }

  it("image-token counts of the real 336-pixel config (llava-v1.6) match its processor's", () => {
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, Record<string, unknown>>;
    const real = vlmFromConfig({ ...config, image_grid_pinpoints: meta.real_pinpoints, vision_config: { ...config.vision_config, image_size: 336 } }) as
      VisionLanguageModel & { tileGrid(s: ImageSize): [number, number] };
    for (const t of meta.tokens_336) {
      expect(selectBestResolution(t, meta.real_pinpoints)).toEqual(t.best);
      expect(real.imageTokens(t)).toBe(t.tokens);
    }
  });
});

describe("LLaVA-NeXT against transformers", () => {
  for (const c of ["one", "two"]) {
    const cs = ref.cases[c];
    it(`${c} image(s): features after unpadding and newlines, logits and 20 greedy tokens`, async () => {
      expect(sizes(cs).map((s) => vlm.model.imageTokens(s))).toEqual(cs.feature_lens);
      const pixels = exactPixels(c);
      const feats = await encodeImages(vlm.model, pixels, sizes(cs));
      expect(feats.shape).toEqual(arrays.get(`${c}.image_features`)!.shape);
      expect(relError(f32(feats), f32(arrays.get(`${c}.image_features`)!))).toBeLessThan(1e-4);
      const steps: Float32Array[] = [];
      const out = await generateWithImages(vlm.model, cs.prompt, { features: feats }, { maxTokens: 20, sample: recordingGreedy(steps), kvDtype: "float32" });
      expect(out.tokens).toEqual(cs.tokens);
      const eSteps = f32(arrays.get(`${c}.step_logits`)!);
      const vocab = vlm.model.language.vocabSize;
      expect(relError(steps[0], eSteps.subarray(0, vocab))).toBeLessThan(1e-4);
      expect(relError(steps[19], eSteps.subarray(19 * vocab))).toBeLessThan(1e-3);
      const greedy = await generateWithImages(vlm.model, cs.prompt, { pixels, imageSizes: sizes(cs) }, { maxTokens: 20 });
      expect(greedy.tokens).toEqual(cs.tokens);
    });

    it(`${c} image(s): from the image files through sharp and loadVlm`, async () => {
      const files = cs.images.map(imagePath);
      const p = await processImages(vlm.processor, files);
      expect(p.imageSizes).toEqual(sizes(cs));
      const feats = await encodeImages(vlm.model, p.pixels, p.imageSizes);
      const err = relError(f32(feats), f32(arrays.get(`${c}.image_features`)!));
      const marks = promptImages(vlm.model, vlm.config, vlm.tokenizer);
      expect(vlm.tokenizer.encode(expandImages(cs.prompt_text, marks, cs.feature_lens))).toEqual(cs.prompt);
      const out = await vlm.generate(files, cs.prompt_text, { maxTokens: 20 });
      const same = out.tokens.findIndex((t, i) => t !== cs.tokens[i]);
      console.log(`llava_next/${c} from files: feature rel. error ${err.toFixed(4)}, tokens equal to transformers' for ${same < 0 ? 20 : same} of 20`);
      expect(err).toBeLessThan(0.5);
      expect(out.usage.promptTokens).toBe(cs.prompt.length);
      const direct = await generateWithImages(vlm.model, cs.prompt, { pixels: p.pixels, imageSizes: p.imageSizes }, { maxTokens: 20 });
      expect(out.tokens).toEqual(direct.tokens);
    });
  }

  it("rejects missing sizes, mismatched tiles and fixed-count expansion", async () => {
    const pixels = exactPixels("one");
    await expect(encodeImages(vlm.model, pixels)).rejects.toThrow(/imageSizes/);
    await expect(encodeImages(vlm.model, pixels, sizes(ref.cases.two))).rejects.toThrow(/make 8 tiles, but the pixel values hold 5/);
    const marks = promptImages(vlm.model, vlm.config, vlm.tokenizer);
    expect(() => expandImages(ref.cases.one.prompt_text, marks, 1)).toThrow(/depends on each image's size/);
    expect(() => vlm.model.imageTokens({ height: 0, width: 5 })).toThrow(/positive integers/);
  });
});
