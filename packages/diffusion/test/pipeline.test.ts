// The txt2img / img2img loop on fake networks: with the scheduler fixtures' fake model it must give
// diffusers' loops exactly (so noise scaling, strength -> first step and add_noise are diffusers');
// CFG, seeded noise, decoding to bytes and bad options are checked as properties.
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { createSampler, img2imgLatents, seededNoise, txt2img, txt2imgLatents } from "../src/index.js";
import type { DiffusionNetworks, NoiseSource, UNetConditioning } from "../src/index.js";
import { expectClose, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";

interface LoopCase { name: string; sampler: string; sigmas: string | null; steps: number; config: Record<string, unknown>;
  strength: number | null; noise: RefArray[]; final: RefArray }
const fx = loadFixture<{ w: RefArray; latents: RefArray; imageLatents: RefArray; cases: LoopCase[] }>("diffusion/schedulers/loops.json");
const w = fromRef(fx.w);
const SCALING = 0.18215;

/** Fake networks: the fixture model (plus `condWeight` x the mean of the embeddings), 32x32 images. */
function fakeNetworks(opts: { condWeight?: number; config?: Record<string, unknown>; sdxl?: boolean; calls?: UNetConditioning[] } = {}): DiffusionNetworks {
  const k = opts.condWeight ?? 0;
  return {
    latentChannels: 4, vaeScaleFactor: 8, scalingFactor: SCALING, defaultSize: 32, name: "fake",
    schedulerConfig: opts.config ?? fx.cases[0].config, sdxl: opts.sdxl ? { forceZerosForEmptyPrompt: true } : undefined,
    // Each prompt's embedding is [2, 3] filled with its length / 10 (so prompts differ).
    encodePrompt: (prompts) => ({
      embeddings: tc.tensor(Float32Array.from(prompts.flatMap((p) => Array<number>(6).fill(p.length / 10))), { shape: [prompts.length, 2, 3] }),
      pooled: opts.sdxl ? tc.ones([prompts.length, 5]) : undefined,
    }),
    unet: (x, t, cond) => {
      opts.calls?.push(cond);
      const base = tc.add(tc.multiply(x, 0.9), tc.multiply(w, 0.1 + t / 2000));
      return k === 0 ? base : tc.add(base, tc.multiply(tc.reshape(tc.mean(cond.embeddings, [1, 2]), [-1, 1, 1, 1]), k));
    },
    // Latent [B, 4, 4, 4] -> image [B, 32, 32, 3]: channels 0-2, each pixel repeated 8x8.
    vaeDecode: (z) => tc.repeat(tc.repeat(tc.slice(z, [0, 0, 0, 0], [z.shape[0], 4, 4, 3]), 8, 1), 8, 2),
    vaeEncode: () => ({ mean: tc.divide(fromRef(fx.imageLatents), SCALING), logvar: tc.full([1, 4, 4, 4], -30) }),
  };
}

function recorded(draws: RefArray[]): NoiseSource {
  let i = 0;
  return () => fromRef(draws[i++]);
}

const caseNamed = (name: string): LoopCase => {
  const c = fx.cases.find((x) => x.name === name);
  if (!c) throw new Error(`no fixture case ${name}`);
  return c;
};

describe("txt2img loop", () => {
  for (const name of ["sd15 dpmpp_2m", "sd15 euler_a", "sd15 heun", "sd15 dpmpp_2m karras", "sd21 v-prediction lms", "sdxl euler"]) {
    it(`equals diffusers' loop without guidance: ${name}`, async () => {
      const c = caseNamed(name);
      const net = fakeNetworks({ config: c.config });
      const { latents } = await txt2imgLatents(net, "a prompt", {
        steps: c.steps, guidance: 1, sampler: c.sampler, scheduler: c.sigmas ?? undefined,
        latents: fromRef(fx.latents), noise: { step: recorded(c.noise) },
      });
      expectClose(latents, c.final, { rtol: 2e-5, atol: 1e-5, label: name });
    });
  }

  it("combines guidance as uncond + g * (cond - uncond), unconditional half first", async () => {
    const calls: UNetConditioning[] = [];
    const net = fakeNetworks({ condWeight: 0.5, calls });
    const g = 6;
    const opts = { steps: 5, guidance: g, sampler: "euler", latents: fromRef(fx.latents), negativePrompt: "neg" };
    const { latents } = await txt2imgLatents(net, "the prompt", opts);
    expect(calls).toHaveLength(5);
    expect(calls[0].embeddings.shape).toEqual([2, 2, 3]);
    const rows = calls[0].embeddings.tolist() as number[][][];
    expect(rows[0][0][0]).toBeCloseTo(0.3, 6); // "neg"
    expect(rows[1][0][0]).toBeCloseTo(1.0, 6); // "the prompt"
    // The same loop with the combined prediction written out: base + 0.5 * (0.3 + g * (1.0 - 0.3)).
    const s = createSampler("euler", { steps: 5, config: net.schedulerConfig });
    let x = tc.multiply(fromRef(fx.latents), s.initNoiseSigma);
    for (let i = 0; i < s.timesteps.length; i++) {
      const xin = s.scaleModelInput(x, i);
      const base = tc.add(tc.multiply(xin, 0.9), tc.multiply(w, 0.1 + s.timesteps[i] / 2000));
      x = s.step(tc.add(base, Math.fround(0.5 * Math.fround(0.3 + g * Math.fround(1.0 - 0.3)))), i, x);
    }
    expectClose(latents, { shape: x.shape as number[], dtype: "float32", data: Array.from(x.dataSync() as Float32Array) }, { rtol: 1e-5, atol: 1e-5 });
  });

  it("SDXL: zero unconditional embeddings without a negative prompt, size ids per row", async () => {
    const calls: UNetConditioning[] = [];
    const net = fakeNetworks({ sdxl: true, calls });
    await txt2imgLatents(net, "p", { steps: 2, guidance: 5, sampler: "euler", seed: 1 });
    const emb = calls[0].embeddings.tolist() as number[][][];
    expect(emb[0][0][0]).toBe(0);
    expect(emb[1][0][0]).toBeCloseTo(0.1, 6);
    expect(calls[0].textEmbeds?.tolist()).toEqual([[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]]);
    expect(calls[0].timeIds?.tolist()).toEqual([[32, 32, 0, 0, 32, 32], [32, 32, 0, 0, 32, 32]]);
  });

  it("seeded noise: repeatable, and image i of seed s is image 0 of seed s + i", async () => {
    const net = fakeNetworks();
    const run = async (seed: number, count: number) =>
      (await txt2imgLatents(net, "p", { steps: 4, guidance: 1, sampler: "euler_a", seed, count })).latents.tolist() as number[][][][];
    const a = await run(7, 2);
    expect(await run(7, 2)).toEqual(a);
    expect((await run(8, 1))[0]).toEqual(a[1]);
    expect((await run(7, 1))[0]).toEqual(a[0]);
    expect(a[0]).not.toEqual(a[1]);
    const threads = tc.numThreads();
    try {
      const big = () => { const n = seededNoise(11, 2, [128, 96, 4]); return [n.initial, n.step([2, 128, 96, 4], 5), n.encode].map((t) => Array.from(t.dataSync() as Float32Array)); };
      const many = big();
      tc.setNumThreads(1);
      expect(await run(7, 2), "one thread").toEqual(a);
      expect(big(), "one thread, 2 x 49152 values").toEqual(many);
    } finally {
      tc.setNumThreads(threads);
    }
    const n = seededNoise(3, 1, [4, 4, 4]);
    expect(n.step([1, 4, 4, 4], 0).tolist()).not.toEqual(n.step([1, 4, 4, 4], 1).tolist());
    expect(n.initial.tolist()).not.toEqual(n.encode.tolist());
  });

  it("decodes to RGB bytes as diffusers' numpy_to_pil: round(clip(x / 2 + 0.5, 0, 1) * 255)", async () => {
    const net = fakeNetworks();
    const [img] = await txt2img(net, "p", { steps: 3, guidance: 1, sampler: "ddim", seed: 5 });
    const { latents } = await txt2imgLatents(net, "p", { steps: 3, guidance: 1, sampler: "ddim", seed: 5 });
    const z = latents.tolist() as number[][][][];
    expect([img.width, img.height, img.data.length]).toEqual([32, 32, 32 * 32 * 3]);
    for (const [y, x, ch] of [[0, 0, 0], [9, 17, 1], [31, 31, 2], [15, 8, 0]]) {
      const v = Math.fround(z[0][y >> 3][x >> 3][ch] / SCALING);
      const want = Math.round(Math.min(Math.max(v * 0.5 + 0.5, 0), 1) * 255);
      expect(Math.abs(img.data[(y * 32 + x) * 3 + ch] - want)).toBeLessThanOrEqual(1);
    }
    expect(img.parameters).toMatchObject({ prompt: "p", steps: 3, sampler: "ddim", seed: 5, width: 32, height: 32, guidance: 1 });
  });
});

describe("img2img loop", () => {
  for (const name of ["img2img ddim strength 0.6", "img2img heun strength 0.6", "img2img dpmpp_2m karras strength 0.35", "img2img lcm strength 0.6"]) {
    it(`equals diffusers' add_noise + loop from the strength's step: ${name}`, async () => {
      const c = caseNamed(name);
      const net = fakeNetworks({ config: c.config });
      const image = { data: new Uint8Array(32 * 32 * 3).fill(128), width: 32, height: 32 };
      const { latents } = await img2imgLatents(net, image, "p", {
        steps: c.steps, guidance: 1, sampler: c.sampler, scheduler: c.sigmas ?? undefined, strength: c.strength ?? 1,
        noise: { initial: fromRef(c.noise[0]), step: recorded(c.noise.slice(1)), encode: tc.zeros([1, 4, 4, 4]) },
      });
      expectClose(latents, c.final, { rtol: 2e-5, atol: 2e-5, label: name });
    });
  }
});

describe("bad options", () => {
  const net = fakeNetworks();
  const image = { data: new Uint8Array(32 * 32 * 3), width: 32, height: 32 };
  it("sizes that are not multiples of 8", async () => {
    await expect(txt2img(net, "p", { width: 500, height: 512 })).rejects.toThrow(/width must be a multiple of 8 \(the VAE's scale\), got 500: use 496 or 504/);
    await expect(txt2img(net, "p", { height: 0 })).rejects.toThrow(/height must be an integer from 1/);
  });
  it("strength outside [0, 1], or too small to run a step", async () => {
    await expect(img2imgLatents(net, image, "p", { strength: 1.5 })).rejects.toThrow(/strength must be a number in \[0, 1\], got 1.5/);
    await expect(img2imgLatents(net, image, "p", { strength: -0.1 })).rejects.toThrow(/strength must be a number in \[0, 1\]/);
    await expect(img2imgLatents(net, image, "p", { strength: 0.01, steps: 10 })).rejects.toThrow(/runs no step/);
  });
  it("steps, guidance, count, seed, sampler, latents", async () => {
    await expect(txt2img(net, "p", { steps: 0 })).rejects.toThrow(/steps must be an integer from 1 to 1000, got 0/);
    await expect(txt2img(net, "p", { guidance: Number.NaN })).rejects.toThrow(/guidance must be a finite number/);
    await expect(txt2img(net, "p", { count: 0 })).rejects.toThrow(/count must be an integer/);
    await expect(txt2img(net, "p", { seed: -1 })).rejects.toThrow(/seed must be a non-negative integer/);
    await expect(txt2img(net, "p", { sampler: "unipc" })).rejects.toThrow(/unknown sampler "unipc"/);
    await expect(txt2img(net, "p", { latents: tc.zeros([1, 4, 4, 3]) })).rejects.toThrow(/latents must have shape \[1, 4, 4, 4\]/);
    await expect(txt2img(net, "p", { latents: tc.zeros([2, 4, 4, 4]), count: 3 })).rejects.toThrow(/latents must have shape \[3, 4, 4, 4\]/);
    expect(await txt2img(net, "p", { latents: tc.zeros([2, 4, 4, 4]), steps: 1, guidance: 1 })).toHaveLength(2);
    await expect(txt2img(net, 42 as unknown as string)).rejects.toThrow(/prompt must be a string/);
  });
  it("an unreadable init image", async () => {
    await expect(img2imgLatents(net, "/nonexistent/in.png", "p")).rejects.toThrow(/could not read the image \/nonexistent\/in.png/);
    await expect(img2imgLatents(net, new Uint8Array([1, 2, 3]), "p")).rejects.toThrow(/could not read the image bytes/);
  });
  it("an aborted signal stops the loop", async () => {
    const ac = new AbortController();
    let steps = 0;
    const run = txt2img(net, "p", { steps: 10, guidance: 1, seed: 1, signal: ac.signal, onStep: (p) => {
      steps = p.step;
      if (p.step === 2) ac.abort(new Error("stop here"));
    } });
    await expect(run).rejects.toThrow(/stop here/);
    expect(steps).toBe(2);
  });
});
