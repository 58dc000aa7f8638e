// mlx-vlm's 4-bit conversions of the tiny LLaVA and Gemma 3 (tools/reference/gen_vlm_mlx.py: mlx-vlm's
// key layout, the text model quantized, the vision tower in float, Gemma 3 with per-layer bits and
// its own quantized lm_head) against transformers on the dequantized weights: the weights stay
// packed here, logits within tolerance and 20 greedy tokens equal.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { expandImages, generateWithImages, loadVlm, loadVlmFromFolder, normalizeImage, promptImages } from "@tessera/vlm";
import { fixturesDir } from "../../../test/helpers/reference.js";
import { recordingGreedy, relError } from "../../lm/test/fixtures.js";

interface Case { prompt_text: string; images: string[]; prompt: number[]; tokens: number[] }

for (const name of ["llava", "gemma3"]) {
  describe(`${name}, MLX 4-bit (mlx-vlm convert)`, () => {
    const dir = join(fixturesDir, "vlm", `${name}_mlx4`);
    const ref = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8")) as { cases: Record<string, Case> };
    const steps = tc.io.loadSafetensors(join(dir, "reference.safetensors")).tensors;
    // The float fixture's processor images (the same pixels the reference saw).
    const images = tc.io.loadSafetensors(join(fixturesDir, "vlm", name, "reference.safetensors")).tensors;
    const vlm = loadVlmFromFolder(dir, { dtype: "float32" });

    it("keeps the text model's weights packed and the tower's in float", () => {
      const kinds = new Set(vlm.model.modules().map((m) => m.constructor.name));
      expect(kinds.has("QuantizedLinear")).toBe(true);
      expect(kinds.has("QuantizedEmbedding")).toBe(true);
      const tower = (vlm.model as unknown as { vision_tower: tc.nn.Module }).vision_tower;
      expect(tower.modules().some((m) => m.constructor.name.startsWith("Quantized"))).toBe(false);
    });

    it("loadVlm: mlx-vlm's tokenizer files give the processor's prompt ids; generate from the files", async () => {
      const v = await loadVlm(dir, { dtype: "float32" });
      const c = ref.cases.two;
      expect(v.tokenizer.encode(expandImages(c.prompt_text, promptImages(v.model, v.config, v.tokenizer), c.images.length))).toEqual(c.prompt);
      const out = await v.generate(c.images.map((f) => join(fixturesDir, "vlm", "images", f)), c.prompt_text, { maxTokens: 8 });
      expect(out.usage).toEqual({ promptTokens: c.prompt.length, completionTokens: 8 });
    });

    for (const c of ["one", "two"]) {
      it(`${c} image(s): logits within tolerance and 20 greedy tokens equal to the dequantized reference`, async () => {
        const u8 = images.get(`${c}.images_u8`)!;
        const [n, , h, w] = u8.shape;
        const src = Uint8Array.from(u8.dataSync() as ArrayLike<number>);
        const out = new Float32Array(n * 3 * h * w);
        for (let k = 0; k < n; k++) {
          const hwc = new Uint8Array(h * w * 3);
          for (let ch = 0; ch < 3; ch++) for (let i = 0; i < h * w; i++) hwc[i * 3 + ch] = src[k * 3 * h * w + ch * h * w + i];
          out.set(normalizeImage(vlm.processor, { data: hwc, width: w, height: h }), k * 3 * h * w);
        }
        const pixels = tc.tensor(out, { shape: [n, 3, h, w] });
        const got: Float32Array[] = [];
        const res = await generateWithImages(vlm.model, ref.cases[c].prompt, { pixels }, { maxTokens: 20, sample: recordingGreedy(got), kvDtype: "float32" });
        const e = Float32Array.from(steps.get(`${c}.step_logits`)!.dataSync() as Float32Array);
        const vocab = vlm.model.language.vocabSize;
        const errs = [0, 19].map((s) => relError(got[s], e.subarray(s * vocab, (s + 1) * vocab)));
        console.log(`${name}_mlx4/${c}: logits rel. error ${errs.map((x) => x.toExponential(2)).join(", ")} (steps 1, 20)`);
        expect(res.tokens).toEqual(ref.cases[c].tokens);
        for (const x of errs) expect(x).toBeLessThan(1e-3);
      });
    }
  });
}
