// The tiny LLaVA and Gemma 3 of tools/reference/gen_vlm.py against transformers: image features
// after the projector, the prompt's last logits and 20 greedy tokens, for one and two images, from
// the processor's exact pixel values and from the image files through our (sharp) processor.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { encodeImages, generateWithImages, loadVlmFromFolder, mergeImageFeatures, normalizeImage, preprocessImages } from "@tessera/vlm";
import { fixturesDir } from "../../../test/helpers/reference.js";
import { recordingGreedy, relError } from "../../lm/test/fixtures.js";

interface Case { prompt_text: string; images: string[]; prompt: number[]; tokens: number[]; min_margin: number }

function fixture(name: string) {
  const dir = join(fixturesDir, "vlm", name);
  const ref = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8")) as { cases: Record<string, Case> };
  const arrays = tc.io.loadSafetensors(join(dir, "reference.safetensors")).tensors;
  return { dir, ref, arrays, vlm: loadVlmFromFolder(dir, { dtype: "float32" }) };
}

// The processor's 8-bit CHW images -> our normalization -> pixel values [N, 3, H, W] (bit-exact with transformers').
function exactPixels(f: ReturnType<typeof fixture>, c: string): tc.Tensor {
  const u8 = f.arrays.get(`${c}.images_u8`)!;
  const [n, , h, w] = u8.shape;
  const src = u8.dataSync() as Uint8Array;
  const out = new Float32Array(n * 3 * h * w);
  for (let k = 0; k < n; k++) {
    const hwc = new Uint8Array(h * w * 3);
    for (let ch = 0; ch < 3; ch++) for (let i = 0; i < h * w; i++) hwc[i * 3 + ch] = src[k * 3 * h * w + ch * h * w + i];
    out.set(normalizeImage(f.vlm.processor, { data: hwc, width: w, height: h }), k * 3 * h * w);
  }
  return tc.tensor(out, { shape: [n, 3, h, w] });
}

const f32 = (t: tc.Tensor) => Float32Array.from(t.dataSync() as Float32Array);

for (const name of ["llava", "gemma3"]) {
  describe(name, () => {
    const f = fixture(name);
    for (const c of ["one", "two"]) {
      const cs = f.ref.cases[c];
      it(`${c} image(s): features, logits and 20 greedy tokens from the processor's pixel values`, async () => {
        const pixels = exactPixels(f, c);
        const pv = f.arrays.get(`${c}.pixel_values`);
        if (pv) expect(Array.from(f32(pixels))).toEqual(Array.from(f32(pv)));
        const feats = await encodeImages(f.vlm.model, pixels);
        const eFeats = f32(f.arrays.get(`${c}.image_features`)!);
        expect(feats.shape).toEqual(f.arrays.get(`${c}.image_features`)!.shape);
        expect(relError(f32(feats), eFeats)).toBeLessThan(1e-4);
        const steps: Float32Array[] = [];
        const out = await generateWithImages(f.vlm.model, cs.prompt, { features: feats }, { maxTokens: 20, sample: recordingGreedy(steps), kvDtype: "float32" });
        expect(out.tokens).toEqual(cs.tokens);
        const eSteps = f32(f.arrays.get(`${c}.step_logits`)!);
        const vocab = f.vlm.model.language.vocabSize;
        expect(relError(steps[0], eSteps.subarray(0, vocab))).toBeLessThan(1e-4);
        expect(relError(steps[19], eSteps.subarray(19 * vocab))).toBeLessThan(1e-3);
        const greedy = await generateWithImages(f.vlm.model, cs.prompt, { pixels }, { maxTokens: 20 });
        expect(greedy.tokens).toEqual(cs.tokens);
        expect(greedy.promptTokens).toBe(cs.prompt.length);
      });

      it(`${c} image(s): from the image files through sharp`, async () => {
        const pixels = await preprocessImages(f.vlm.processor, cs.images.map((im) => join(fixturesDir, "vlm", "images", im)));
        const feats = await encodeImages(f.vlm.model, pixels);
        const err = relError(f32(feats), f32(f.arrays.get(`${c}.image_features`)!));
        const out = await generateWithImages(f.vlm.model, cs.prompt, { features: feats }, { maxTokens: 20, kvDtype: "float32" });
        const same = out.tokens.findIndex((t, i) => t !== cs.tokens[i]);
        console.log(`${name}/${c} from files: feature rel. error ${err.toFixed(4)}, tokens equal to transformers' for ${same < 0 ? 20 : same} of 20`);
        // Random weights amplify the resampling difference; the features stay close.
        expect(err).toBeLessThan(0.5);
      });
    }

    it("rejects a prompt whose image tokens do not match the images", async () => {
      const cs = f.ref.cases.one;
      const pixels = exactPixels(f, "two");
      await expect(generateWithImages(f.vlm.model, cs.prompt, { pixels }, { maxTokens: 2 })).rejects.toThrow(/image tokens but 2 image/);
      expect(() => mergeImageFeatures(f.vlm.model, cs.prompt)).toThrow(/no image was given/);
      await expect(encodeImages(f.vlm.model, tc.zeros([1, 3, 10, 10]))).rejects.toThrow(/pixel values must be/);
    });
  });
}
