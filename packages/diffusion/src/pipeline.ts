// txt2img and img2img on any DiffusionNetworks, following diffusers' StableDiffusion(XL)Pipeline and
// StableDiffusion(XL)Img2ImgPipeline step for step (noise, CFG, strength -> first step, decoding).
import { randomInt } from "node:crypto";
import { add, astype, clip, divide, evaluate, exp, multiply, round, subtract, tensor } from "@tessera/core";
import type { Tensor } from "@tessera/core";
import { conditioning, denoise } from "./denoise.js";
import type { StepProgress } from "./denoise.js";
import { DiffusionImage, readImage, resizeRgb } from "./image.js";
import type { RgbImage } from "./image.js";
import type { DiffusionNetworks } from "./networks.js";
import { checkSeed, seededNoise } from "./noise.js";
import type { PipelineNoise } from "./noise.js";
import type { GenerationParameters } from "./parameters.js";
import { createSampler, defaultSampler, parseSampler, parseSigmaSchedule } from "./schedulers/index.js";
import type { Sampler, SigmaSchedule } from "./schedulers/index.js";

export type { StepProgress } from "./denoise.js";

/** Options of txt2img (and img2img). */
export interface GenerateOptions {
  negativePrompt?: string;
  /** Inference steps (default 20). */
  steps?: number;
  /** Classifier-free guidance scale (default 7.5); at 1 or below the unconditional pass is skipped. */
  guidance?: number;
  /** Image size in pixels, multiples of 8 (default: the model's size; img2img: the input image's). */
  width?: number;
  height?: number;
  /** Image i of the batch uses seed + i (default: a random seed, recorded in the parameters). */
  seed?: number;
  /** Sampler in any accepted spelling ("dpmpp_2m", "DPM++ 2M Karras", "euler_a"; default: the model's scheduler class, else dpmpp_2m). */
  sampler?: string;
  /** Sigma spacing: "karras", "exponential" or "default". */
  scheduler?: string;
  /** Images to make at once (default 1, or the batch of `latents`). */
  count?: number;
  /**
   * Noise [count, height / 8, width / 8, channels] instead of the seeded one: txt2img's initial latents
   * (before init_noise_sigma, as diffusers' `latents`), img2img's noise added at the strength's step.
   */
  latents?: Tensor;
  /** Any of the run's noise instead of the seeded one (tests; reproducing another implementation). */
  noise?: Partial<PipelineNoise>;
  /** DDIM's eta. */
  eta?: number;
  /** Text encoder layers skipped from the end (diffusers' clip_skip; A1111's "Clip skip" is this + 1). Default 0. */
  clipSkip?: number;
  /**
   * Decode (img2img: also encode) with the VAE in overlapping tiles, as diffusers' enable_tiling()
   * (tiles of the VAE's sample_size, 512 pixels for SD 1.5, overlap 0.25): memory bounded by the
   * tile size for large images, at the cost of slight differences from the untiled result.
   * Default: the pipeline's `vaeTiling` (off unless loaded with it).
   */
  vaeTiling?: boolean;
  onStep?: (progress: StepProgress) => void;
  signal?: AbortSignal;
}

/** Options of img2img: those of txt2img and the denoising strength. */
export interface Img2ImgOptions extends GenerateOptions {
  /** How much to change the image, in [0, 1] (default 0.8): the fraction of the steps that run. */
  strength?: number;
}

/** A checked, defaulted run configuration. */
export interface PipelineRun {
  prompt: string; negativePrompt?: string; steps: number; guidance: number; width: number; height: number;
  seed: number; count: number; sampler: Sampler; schedule: SigmaSchedule; noise: PipelineNoise; clipSkip: number; opts: GenerateOptions;
}

function positiveInt(v: unknown, name: string, max = Infinity): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max)
    throw new Error(`${name} must be an integer from 1${max < Infinity ? ` to ${max}` : ""}, got ${String(v)}`);
  return v;
}

function checkSize(v: unknown, name: string, factor: number): number {
  const n = positiveInt(v, name, 16384);
  if (n % factor !== 0) {
    const lo = Math.max(factor, n - (n % factor));
    throw new Error(`${name} must be a multiple of ${factor} (the VAE's scale), got ${n}: use ${lo} or ${lo + factor}`);
  }
  return n;
}

function planRun(net: DiffusionNetworks, prompt: string, opts: GenerateOptions, size: { width?: number; height?: number }): PipelineRun {
  if (typeof prompt !== "string") throw new Error(`prompt must be a string, got ${typeof prompt}`);
  if (opts.negativePrompt !== undefined && typeof opts.negativePrompt !== "string")
    throw new Error(`negativePrompt must be a string, got ${typeof opts.negativePrompt}`);
  const steps = positiveInt(opts.steps ?? 20, "steps", 1000);
  const guidance = opts.guidance ?? 7.5;
  if (typeof guidance !== "number" || !Number.isFinite(guidance) || guidance < 0)
    throw new Error(`guidance must be a finite number >= 0, got ${String(guidance)}`);
  const f = net.vaeScaleFactor;
  const width = checkSize(opts.width ?? size.width ?? net.defaultSize, "width", f);
  const height = checkSize(opts.height ?? size.height ?? net.defaultSize, "height", f);
  const count = positiveInt(opts.count ?? opts.latents?.shape[0] ?? 1, "count", 256);
  const seed = opts.seed ?? randomInt(0, 2 ** 32);
  checkSeed(seed, count);
  const shape = [height / f, width / f, net.latentChannels] as const;
  const seeded = seededNoise(seed, count, [...shape]);
  const noise: PipelineNoise = { ...seeded, ...opts.noise };
  if (opts.latents !== undefined) noise.initial = opts.latents;
  const want = [count, ...shape];
  for (const [k, t] of [["latents", noise.initial], ["noise.encode", noise.encode]] as const) {
    if (t.shape.length !== 4 || t.shape.some((d, i) => d !== want[i]))
      throw new Error(`${k} must have shape [${want.join(", ")}] (count, height / ${f}, width / ${f}, channels), got [${t.shape.join(", ")}]`);
  }
  const samplerName = opts.sampler ?? defaultSampler(net.schedulerConfig);
  const sampler = createSampler(samplerName, {
    steps, config: net.schedulerConfig, scheduler: opts.scheduler, noise: noise.step, eta: opts.eta,
  });
  const clipSkip = opts.clipSkip ?? 0;
  if (!Number.isInteger(clipSkip) || clipSkip < 0) throw new Error(`clipSkip must be a non-negative integer, got ${String(clipSkip)}`);
  const schedule = parseSampler(samplerName).sigmas ?? (opts.scheduler ? parseSigmaSchedule(opts.scheduler)
    : net.schedulerConfig.use_karras_sigmas ? "karras" : "default");
  return { prompt, negativePrompt: opts.negativePrompt, steps, guidance, width, height, seed, count, sampler, schedule, noise, clipSkip, opts };
}

function parameters(net: DiffusionNetworks, run: PipelineRun, i: number, strength?: number): GenerationParameters {
  return {
    prompt: run.prompt, negativePrompt: run.negativePrompt ?? "", steps: run.steps, sampler: run.sampler.name,
    scheduler: run.schedule, guidance: run.guidance, seed: run.seed + i, width: run.width, height: run.height,
    strength, model: net.name, clipSkip: run.clipSkip || undefined,
  };
}

/** Final latents to images in [0, 1] ([batch, height, width, 3] float32), as diffusers' output_type "np". */
export async function decodeLatents(net: DiffusionNetworks, latents: Tensor, opts: { vaeTiling?: boolean } = {}): Promise<Tensor> {
  const images = await net.vaeDecode(divide(latents, net.scalingFactor), { tiled: opts.vaeTiling });
  return clip(add(multiply(images, 0.5), 0.5), 0, 1);
}

async function toImages(net: DiffusionNetworks, latents: Tensor, run: PipelineRun, strength?: number): Promise<DiffusionImage[]> {
  const bytes = astype(round(multiply(await decodeLatents(net, latents, run.opts), 255)), "uint8");
  await evaluate(bytes);
  const all = (await bytes.data()) as Uint8Array;
  const per = run.width * run.height * 3;
  return Array.from({ length: run.count }, (_, i) =>
    new DiffusionImage(all.slice(i * per, (i + 1) * per), run.width, run.height, parameters(net, run, i, strength)));
}

/** The final latents of a txt2img run (before decoding); txt2img decodes them. */
export async function txt2imgLatents(net: DiffusionNetworks, prompt: string, opts: GenerateOptions = {}): Promise<{ latents: Tensor; run: PipelineRun }> {
  const run = planRun(net, prompt, opts, {});
  const cond = await conditioning(net, prompt, run.negativePrompt, run.count, run.guidance, run, run.clipSkip);
  const start = multiply(run.noise.initial, run.sampler.initNoiseSigma);
  const latents = await denoise(net, run.sampler, start, cond, { guidance: run.guidance, start: 0, onStep: opts.onStep, signal: opts.signal });
  return { latents, run };
}

/** Generates `count` images from a prompt. */
export async function txt2img(net: DiffusionNetworks, prompt: string, opts: GenerateOptions = {}): Promise<DiffusionImage[]> {
  const { latents, run } = await txt2imgLatents(net, prompt, opts);
  return toImages(net, latents, run);
}

/** diffusers' img2img get_timesteps: the first sampler call for `strength`. */
export function img2imgStart(sampler: Sampler, steps: number, strength: number): number {
  if (typeof strength !== "number" || !(strength >= 0 && strength <= 1))
    throw new Error(`strength must be a number in [0, 1], got ${String(strength)}`);
  const init = Math.min(Math.floor(steps * strength), steps);
  if (init < 1)
    throw new Error(`strength ${strength} with ${steps} steps runs no step (steps x strength < 1): raise strength or steps`);
  return (steps - init) * sampler.order;
}

/** The image as the VAE encoder's input [1, height, width, 3] in [-1, 1] (diffusers: 2 * (x / 255) - 1). */
export function imageTensor(img: RgbImage): Tensor {
  const x = tensor(img.data, { shape: [1, img.height, img.width, 3] });
  return subtract(multiply(divide(astype(x, "float32"), 255), 2), 1);
}

async function initImage(image: string | Uint8Array | RgbImage, opts: Img2ImgOptions, factor: number): Promise<RgbImage> {
  const img = typeof image === "string" || image instanceof Uint8Array ? await readImage(image) : image;
  if (!img || !(img.data instanceof Uint8Array) || img.data.length !== img.width * img.height * 3 || img.width < 1 || img.height < 1)
    throw new Error("img2img: image must be a file path, encoded image bytes, or { data: RGB bytes, width, height }");
  // diffusers' image processor rounds the size down to a multiple of the VAE scale (then resizes).
  const width = opts.width ?? Math.max(factor, img.width - (img.width % factor));
  const height = opts.height ?? Math.max(factor, img.height - (img.height % factor));
  checkSize(width, "width", factor);
  checkSize(height, "height", factor);
  return resizeRgb(img, width, height);
}

/** Final latents of an img2img run; img2img decodes them. */
export async function img2imgLatents(net: DiffusionNetworks, image: string | Uint8Array | RgbImage, prompt: string,
  opts: Img2ImgOptions = {}): Promise<{ latents: Tensor; run: PipelineRun; strength: number }> {
  const strength = opts.strength ?? 0.8;
  const img = await initImage(image, opts, net.vaeScaleFactor);
  const run = planRun(net, prompt, opts, img);
  const start = img2imgStart(run.sampler, run.steps, strength);
  const dist = await net.vaeEncode(imageTensor(img), { tiled: opts.vaeTiling });
  // One encoder sample per image (its own seed), where diffusers repeats one sample over the batch.
  const sample = add(dist.mean, multiply(exp(multiply(dist.logvar, 0.5)), run.noise.encode));
  const init = run.sampler.addNoise(multiply(sample, net.scalingFactor), run.noise.initial, start);
  const cond = await conditioning(net, prompt, run.negativePrompt, run.count, run.guidance, run, run.clipSkip);
  const latents = await denoise(net, run.sampler, init, cond, { guidance: run.guidance, start, onStep: opts.onStep, signal: opts.signal });
  return { latents, run, strength };
}

/** Changes an image (a path, encoded bytes or RGB) toward a prompt. */
export async function img2img(net: DiffusionNetworks, image: string | Uint8Array | RgbImage, prompt: string,
  opts: Img2ImgOptions = {}): Promise<DiffusionImage[]> {
  const { latents, run, strength } = await img2imgLatents(net, image, prompt, opts);
  return toImages(net, latents, run, strength);
}
