// Text to image and image to image with @tessera/diffusion, writing PNGs that carry their parameters.
// Run: npx tsx examples/txt2img.ts [model] [prompt]
// (default model: the tiny random SD-1.5 folder of the test fixtures, which makes noise-like 32x24
// images in a second; pass a repo id such as stable-diffusion-v1-5/stable-diffusion-v1-5, a diffusers
// folder or a single-file .safetensors for real pictures)
import { mkdirSync } from "node:fs";
import { loadDiffusion, readParameters } from "@tessera/diffusion";

const [model = "test/fixtures/diffusion/sd15", prompt = "a sunset over mountains, oil painting"] = process.argv.slice(2);
const tiny = model.startsWith("test/fixtures");
const size = tiny ? { width: 32, height: 24 } : {};

const sd = await loadDiffusion(model, { quantize: !tiny });
mkdirSync("out", { recursive: true });

// Two images, seeds 42 and 43 (image i uses seed + i), DPM++ 2M with Karras sigmas.
const images = await sd.txt2img(prompt, {
  negativePrompt: "blurry, low quality", steps: 20, guidance: 7.5, seed: 42, count: 2,
  sampler: "DPM++ 2M Karras", ...size,
  onStep: ({ step, steps }) => process.stdout.write(`\rstep ${step}/${steps}`),
});
process.stdout.write("\n");
for (const [i, image] of images.entries()) await image.toFile(`out/txt2img-${i}.png`);

// The first image again, repainted: strength 0.6 runs the last 60% of the steps.
const [painted] = await sd.img2img("out/txt2img-0.png", "the same, as a watercolor", { strength: 0.6, seed: 7, ...size });
await painted.toFile("out/img2img.png");

// The parameters travel in the PNG (A1111's "parameters" text), so `sd --from out/img2img.png` redoes it.
console.log(await readParameters("out/img2img.png"));
