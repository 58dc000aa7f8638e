// The whole pipeline on the tiny random SD-1.5 and SDXL folders against diffusers' StableDiffusion(XL)Pipeline
// and StableDiffusionImg2ImgPipeline (fixtures: tools/reference/gen_diffusion_pipeline.py): final latents,
// the decoded image, its bytes; CFG with and without a negative prompt; img2img with diffusers' noise.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { decodeLatents, img2imgLatents, loadDiffusion, txt2img, txt2imgLatents } from "../src/index.js";
import type { DiffusionPipeline } from "../src/index.js";
import { fixturesDir, fromRef, loadFixture, relError } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";

interface Case {
  name: string; mode: "txt2img" | "img2img"; sampler: string | null; sigmas: string | null; steps: number; guidance: number;
  strength?: number; clipSkip?: number | null; prompt: string; negativePrompt: string | null; width: number; height: number; count: number;
  latents?: RefArray; initImage?: number[]; encodeNoise?: RefArray; addNoise?: RefArray;
  final: RefArray; image: RefArray; bytes: number[];
}
const { cases } = loadFixture<{ cases: Case[] }>("diffusion/pipeline/txt2img_img2img.json");

const pipelines = new Map<string, DiffusionPipeline>();
async function pipeline(name: string): Promise<DiffusionPipeline> {
  if (!pipelines.has(name)) pipelines.set(name, await loadDiffusion(join(fixturesDir, "diffusion", name)));
  return pipelines.get(name)!;
}


describe("txt2img and img2img against diffusers", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const p = await pipeline(c.name.startsWith("sdxl") ? "sdxl" : "sd15");
      const opts = {
        steps: c.steps, guidance: c.guidance, sampler: c.sampler ?? undefined, scheduler: c.sigmas ?? undefined,
        negativePrompt: c.negativePrompt ?? undefined, width: c.width, height: c.height, count: c.count,
        clipSkip: c.clipSkip ?? undefined,
      };
      let latents: tc.Tensor;
      if (c.mode === "txt2img") {
        latents = (await txt2imgLatents(p.networks, c.prompt, { ...opts, latents: fromRef(c.latents!) })).latents;
      } else {
        const image = { data: Uint8Array.from(c.initImage!), width: c.width, height: c.height };
        latents = (await img2imgLatents(p.networks, image, c.prompt, {
          ...opts, strength: c.strength, noise: { initial: fromRef(c.addNoise!), encode: fromRef(c.encodeNoise!) },
        })).latents;
      }
      // Measured: final latents and images within 6e-6 of their scale (float32).
      expect(relError(latents, c.final), "final latents").toBeLessThan(5e-5);
      expect(relError(await decodeLatents(p.networks, latents), c.image), "image").toBeLessThan(5e-5);
      if (c.mode === "txt2img") {
        const images = await txt2img(p.networks, c.prompt, { ...opts, latents: fromRef(c.latents!) });
        const bytes = images.flatMap((im) => Array.from(im.data));
        const off = bytes.filter((b, i) => Math.abs(b - c.bytes[i]) > 1).length;
        expect(off, "bytes more than 1 apart").toBe(0);
        expect(images[0].parameters).toMatchObject({ prompt: c.prompt, steps: c.steps, guidance: c.guidance, width: c.width, height: c.height });
      }
    });
  }

  it("a single-file checkpoint gives the folder's result; --quantize stays close to float32", async () => {
    const c = cases[0];
    const opts = { steps: c.steps, guidance: c.guidance, sampler: c.sampler ?? undefined, negativePrompt: c.negativePrompt ?? undefined,
      width: c.width, height: c.height, latents: fromRef(c.latents!) };
    const single = await loadDiffusion(join(fixturesDir, "diffusion", "sd15.safetensors"), { config: join(fixturesDir, "diffusion", "sd15") });
    const { latents } = await txt2imgLatents(single.networks, c.prompt, opts);
    expect(relError(latents, c.final), "single-file final latents").toBeLessThan(5e-5);
    const q = await loadDiffusion(join(fixturesDir, "diffusion", "sd15"), { quantize: true });
    const image = await decodeLatents(q.networks, (await txt2imgLatents(q.networks, c.prompt, opts)).latents);
    const mse = (tc.mean(tc.square(tc.subtract(image, fromRef(c.image)))).item());
    const psnr = 10 * Math.log10(1 / mse);
    // Measured: PSNR 63 dB on the tiny random model (8-bit UNet, 4-bit text encoder); it must differ from float32.
    expect(psnr).toBeGreaterThan(45);
    expect(mse).toBeGreaterThan(0);
  });

  it("float16 weights stay within 2% of the float32 image", async () => {
    const c = cases[0];
    const half = await loadDiffusion(join(fixturesDir, "diffusion", "sd15"), { dtype: "float16" });
    const { latents } = await txt2imgLatents(half.networks, c.prompt, { steps: c.steps, guidance: c.guidance, sampler: c.sampler ?? undefined,
      negativePrompt: c.negativePrompt ?? undefined, width: c.width, height: c.height, latents: fromRef(c.latents!) });
    // Measured: 6.3e-3 of the scale (float16 text encoder, UNet and VAE).
    expect(relError(await decodeLatents(half.networks, latents), c.image)).toBeLessThan(2e-2);
  });

  it("warns once per encoder when a prompt is truncated to 77 tokens", async () => {
    const warnings: string[] = [];
    const p = await loadDiffusion(join(fixturesDir, "diffusion", "sd15"), { warn: (m) => warnings.push(m) });
    const long = Array.from({ length: 100 }, (_, i) => `word${i}`).join(" ");
    await txt2imgLatents(p.networks, long, { steps: 1, guidance: 1, seed: 0, width: 16, height: 16 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/truncated because CLIP can only handle sequences up to 77 tokens/);
  });
});
