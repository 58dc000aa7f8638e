// The `sd` command: `sd txt2img "prompt" ...` / `sd img2img --image in.png "prompt" ...`, taking
// mlx-examples' flags (--n_images, --cfg, --negative_prompt, --output...) and stable-diffusion.cpp's
// (-p, -n, --cfg-scale, --sampling-method, -s, -W/-H, -b, -M img2img, -i) as aliases.
import { existsSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { SingleBar } from "cli-progress";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { DiffusionImage, RgbImage } from "./image.js";
import { readParameters } from "./image.js";
import type { LoraSpec } from "./lora.js";
import type { GenerationParameters } from "./parameters.js";
import type { GenerateOptions, Img2ImgOptions, StepProgress } from "./pipeline.js";
import { parseSampler, parseSigmaSchedule, SAMPLER_NAMES } from "./schedulers/index.js";

/** The model `sd` runs when --model is not given. */
export const DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5";

/** What the CLI needs from a loaded model (loadDiffusion's result). */
export interface SdModel {
  txt2img(prompt: string, opts?: GenerateOptions): Promise<DiffusionImage[]>;
  img2img(image: string | Uint8Array | RgbImage, prompt: string, opts?: Img2ImgOptions): Promise<DiffusionImage[]>;
  /** `sd convert`: writes the loaded (maybe quantized) model as a diffusers folder. */
  save?(dir: string): Promise<void>;
}

export interface CliStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** The outside world of runCli; tests pass fakes. */
export interface CliDeps {
  loadModel: (source: string, opts: { quantize: boolean; dtype?: string; lora?: LoraSpec[] }) => Promise<SdModel>;
  setThreads?: (threads: number) => void;
  stdout: CliStream;
  stderr: CliStream;
  exists?: (path: string) => boolean;
  signal?: AbortSignal;
}

// Other spellings -> the canonical flag (mlx-examples' underscores, sd.cpp's and A1111's names).
const ALIASES: Record<string, string> = {
  "--negative_prompt": "--negative-prompt", "--cfg": "--cfg-scale", "--guidance": "--cfg-scale",
  "--sampler": "--sampling-method", "--schedule": "--scheduler", "--n_images": "--batch-count", "--count": "--batch-count",
  "--clip_skip": "--clip-skip", "--image": "--init-img", "--init_image": "--init-img", "--init-image": "--init-img", "--mode": "-M",
};

const int = (v: string): number => {
  if (!/^\s*[+-]?\d+\s*$/.test(v)) throw new InvalidArgumentError("Expected an integer.");
  return Number(v);
};
const num = (v: string): number => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("Expected a number.");
  return n;
};
const size = (v: string): [number, number] => {
  const m = /^\s*(\d+)\s*[x×]\s*(\d+)\s*$/i.exec(v);
  if (!m) throw new InvalidArgumentError("Expected WIDTHxHEIGHT, e.g. 512x512.");
  return [Number(m[1]), Number(m[2])];
};
const sampler = (v: string): string => {
  try {
    parseSampler(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return v;
};

function buildCommand(): Command {
  const o = (flags: string, description: string, parse?: (v: string) => unknown): Option => {
    const opt = new Option(flags, description);
    return parse ? opt.argParser(parse) : opt;
  };
  return new Command("sd")
    .description("Stable Diffusion on Tessera: sd [txt2img|img2img] \"prompt\" [options]")
    .argument("[mode]", "txt2img (default) or img2img")
    .argument("[prompt...]", "the prompt (or -p)")
    .addOption(o("-m, --model <model>", `Hugging Face repo id, diffusers folder or single-file .safetensors (default ${DEFAULT_MODEL})`))
    .addOption(o("-p, --prompt <text>", "the prompt"))
    .addOption(o("-n, --negative-prompt <text>", "what to keep out of the image (also --negative_prompt)"))
    .addOption(o("--steps <n>", "sampling steps (default 20)", int))
    .addOption(o("--cfg-scale <g>", "classifier-free guidance scale (default 7.5; also --cfg)", num))
    .addOption(o("--sampling-method <name>", `sampler: ${SAMPLER_NAMES.join(", ")}, or as A1111 spells them ("DPM++ 2M Karras"; also --sampler)`, sampler))
    .addOption(o("--scheduler <name>", "sigma schedule: default, karras, exponential (also --schedule)"))
    .addOption(o("-s, --seed <n>", "random seed; image i of a batch uses seed + i (default: random)", int))
    .addOption(o("--size <WxH>", "image size, e.g. 512x512 (multiples of 8)", size))
    .addOption(o("-W, --width <px>", "image width (multiple of 8)", int))
    .addOption(o("-H, --height <px>", "image height (multiple of 8)", int))
    .addOption(o("-b, --batch-count <n>", "number of images (also --n_images)", int))
    .addOption(o("-o, --output <path>", "output file; a batch writes <name>_1.png, <name>_2.png... (default output.png)"))
    .addOption(o("-i, --init-img <path>", "img2img: the image to start from (also --image)"))
    .addOption(o("--strength <x>", "img2img: how much to change the image, 0 to 1 (default 0.8)", num))
    .addOption(o("-M <mode>", "sd.cpp's mode: txt2img or img2img (also --mode)").choices(["txt2img", "img2img", "img_gen", "convert"]))
    .addOption(o("--quantize", "quantize at load (text encoders 4-bit, UNet 8-bit, as mlx-examples)"))
    .addOption(o("--vae-tiling", "decode (and encode) with the VAE in overlapping tiles: bounded memory for large images (as sd.cpp and diffusers)"))
    .addOption(o("--dtype <dtype>", "float32 (default), float16 or bfloat16").choices(["float32", "float16", "bfloat16"]))
    .addOption(o("--from <image.png>", "take prompt and settings from a PNG's parameters (A1111 infotext); flags override"))
    .addOption(o("--clip-skip <n>", "CLIP layers to stop at from the end, as A1111 and sd.cpp count (1: the last layer, default; 2: skip one)", int))
    .addOption(new Option("--lora <path_or_name:weight>", "a LoRA (.safetensors, kohya/A1111 or diffusers) and its weight (default 1); repeatable")
      .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(o("--lora-dir <dir>", "where --lora names are looked up (name or name.safetensors)"))
    .addOption(o("-t, --threads <n>", "CPU threads (default: all cores)", int));
}

/** argv with the alias spellings replaced by the canonical flags (also in --flag=value form). */
export function canonicalArgs(argv: readonly string[]): string[] {
  return argv.map((a) => {
    const [flag, ...rest] = a.split("=");
    const c = ALIASES[flag];
    return c === undefined ? a : rest.length ? `${c}=${rest.join("=")}` : c;
  });
}

class UsageError extends Error {}

interface CliOptions {
  model?: string; prompt?: string; negativePrompt?: string; steps?: number; cfgScale?: number; samplingMethod?: string;
  scheduler?: string; seed?: number; size?: [number, number]; width?: number; height?: number; batchCount?: number;
  output?: string; initImg?: string; clipSkip?: number; strength?: number; M?: string; quantize?: boolean; vaeTiling?: boolean; dtype?: string; from?: string; threads?: number;
  lora?: string[]; loraDir?: string;
}

/** `--lora path_or_name[:weight]` (the weight after the last colon, so C:\x.safetensors stays a path). */
export function parseLoraArg(arg: string): { name: string; weight: number } {
  const i = arg.lastIndexOf(":");
  const tail = i > 0 ? arg.slice(i + 1) : "";
  if (i <= 0 || /[\\/]/.test(tail)) return { name: arg, weight: 1 };
  const weight = Number(tail);
  if (tail.trim() === "" || !Number.isFinite(weight)) throw new UsageError(`--lora ${arg}: the weight after ':' must be a number, got '${tail}'`);
  return { name: arg.slice(0, i), weight };
}

/** --lora values to files: a path as given, else a name in --lora-dir (with or without .safetensors). */
function resolveLoras(o: CliOptions, exists: (p: string) => boolean): LoraSpec[] {
  if (o.loraDir !== undefined && !exists(o.loraDir)) throw new UsageError(`--lora-dir ${o.loraDir}: no such folder`);
  return (o.lora ?? []).map((arg) => {
    const { name, weight } = parseLoraArg(arg);
    const found = [name, ...(o.loraDir !== undefined ? [join(o.loraDir, name), join(o.loraDir, `${name}.safetensors`)] : [])].find((p) => exists(p));
    if (found === undefined)
      throw new UsageError(`--lora ${name}: no such file${o.loraDir !== undefined ? ` (nor ${name} or ${name}.safetensors in --lora-dir ${o.loraDir})` : " (give a path, or a name with --lora-dir)"}`);
    return { path: found, weight };
  });
}

/** The output path of image i of n: the path itself for one image, <name>_<i+1><ext> in a batch. */
export function outputPath(path: string, i: number, n: number): string {
  if (n === 1) return path;
  const ext = extname(path) || ".png";
  return join(dirname(path), `${basename(path, extname(path))}_${i + 1}${ext}`);
}

/**
 * Runs `sd` (argv without node and the script) and resolves to the exit code: 0 done, 1 failed,
 * 2 bad usage. Errors are one line on stderr.
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const { stdout, stderr } = deps;
  const command = buildCommand().exitOverride().configureOutput({
    writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s),
    outputError: (s, write) => write(s.replace(/\n(?=.)/g, " ")),
  });
  try {
    command.parse(canonicalArgs(argv), { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  try {
    return await runParsed(command.processedArgs as [string | undefined, string[]], command.opts<CliOptions>(), deps);
  } catch (e) {
    stderr.write(`sd: error: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

/** The mode and prompt from the positionals: `sd txt2img "a cat"`, `sd "a cat"`, `sd -M img2img -p "a cat"`. */
function modeAndPrompt(positional: [string | undefined, string[]], o: CliOptions): { mode: "txt2img" | "img2img"; prompt?: string } {
  const words = [positional[0], ...positional[1]].filter((w): w is string => w !== undefined);
  let mode: "txt2img" | "img2img" | undefined;
  if (words[0] === "txt2img" || words[0] === "img2img") mode = words.shift() as "txt2img" | "img2img";
  // sd.cpp's newer "img_gen" is img2img when an init image is given, else txt2img.
  const m = o.M === "img2img" || o.M === "txt2img" ? o.M : undefined;
  if (mode && m && mode !== m) throw new UsageError(`the mode is ${mode} but -M says ${o.M}`);
  mode = mode ?? m ?? (o.initImg !== undefined ? "img2img" : "txt2img");
  if (words.length && o.prompt !== undefined) throw new UsageError("give the prompt either as an argument or with -p, not both");
  return { mode, prompt: o.prompt ?? (words.length ? words.join(" ") : undefined) };
}

/** Generation options from the flags over the --from image's parameters. */
function generateOptions(o: CliOptions, from: Partial<GenerationParameters>): Img2ImgOptions {
  if (o.size && (o.width !== undefined || o.height !== undefined)) throw new UsageError("give the size either as --size WxH or with -W/-H, not both");
  let scheduler = o.scheduler ?? (from.scheduler && from.scheduler !== "default" ? from.scheduler : undefined);
  if (o.scheduler !== undefined) {
    try {
      parseSigmaSchedule(o.scheduler);
    } catch (e) {
      throw new UsageError(`--scheduler: ${(e as Error).message}`);
    }
  }
  const samplerName = o.samplingMethod ?? from.sampler;
  // A sampler name from the flags that carries its own sigmas ("DPM++ 2M Karras") wins over --from's.
  if (o.samplingMethod !== undefined && o.scheduler === undefined && parseSampler(o.samplingMethod).sigmas) scheduler = undefined;
  return {
    negativePrompt: o.negativePrompt ?? (from.negativePrompt || undefined), steps: o.steps ?? from.steps,
    guidance: o.cfgScale ?? from.guidance, sampler: samplerName, scheduler, seed: o.seed ?? from.seed,
    width: o.size?.[0] ?? o.width ?? from.width, height: o.size?.[1] ?? o.height ?? from.height,
    count: o.batchCount, strength: o.strength ?? from.strength,
    clipSkip: o.clipSkip !== undefined ? o.clipSkip - 1 : from.clipSkip,
    vaeTiling: o.vaeTiling === true ? true : undefined,
  };
}

/** `sd convert --quantize -m model -o folder`: the model saved as a diffusers folder (pre-quantized with --quantize). */
async function runConvert(words: string[], o: CliOptions, deps: CliDeps): Promise<number> {
  if (words.length) throw new UsageError(`convert takes no prompt, got ${JSON.stringify(words.join(" "))}`);
  if (o.output === undefined) throw new UsageError("convert needs the output folder: sd convert --quantize -m <model> -o <folder>");
  const exists = deps.exists ?? existsSync;
  if (exists(o.output)) throw new UsageError(`--output ${o.output} already exists: give a new folder`);
  const source = o.model ?? DEFAULT_MODEL;
  let model: SdModel;
  try {
    model = await deps.loadModel(source, { quantize: o.quantize === true, dtype: o.dtype });
  } catch (e) {
    throw new Error(`could not load the model ${source}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!model.save) throw new Error("this model cannot be saved");
  await model.save(o.output);
  deps.stdout.write(`${o.output}\n`);
  return 0;
}

async function runParsed(positional: [string | undefined, string[]], o: CliOptions, deps: CliDeps): Promise<number> {
  if (positional[0] === "convert" || o.M === "convert")
    return runConvert([positional[0], ...positional[1]].filter((w): w is string => w !== undefined && w !== "convert"), o, deps);
  const exists = deps.exists ?? existsSync;
  let from: Partial<GenerationParameters> = {};
  if (o.from !== undefined) {
    if (!exists(o.from)) throw new UsageError(`--from ${o.from}: no such file`);
    const p = await readParameters(o.from);
    if (p === undefined) throw new UsageError(`--from ${o.from}: the image has no generation parameters (no A1111 "parameters" text chunk)`);
    from = p;
  }
  const { mode, prompt: given } = modeAndPrompt(positional, o);
  const prompt = given ?? from.prompt;
  if (prompt === undefined) throw new UsageError('no prompt: sd txt2img "a photo of a cat" (or -p, or --from image.png)');
  const opts = generateOptions(o, from);
  if (mode === "img2img" && o.initImg === undefined) throw new UsageError("img2img needs the image to start from: --init-img in.png (or --image)");
  if (mode === "txt2img" && o.initImg !== undefined) throw new UsageError("--init-img is for img2img: sd img2img --init-img in.png \"prompt\"");
  if (mode === "txt2img" && o.strength !== undefined) throw new UsageError("--strength is for img2img");
  if (o.initImg !== undefined && !exists(o.initImg)) throw new UsageError(`--init-img ${o.initImg}: no such file`);
  if (o.strength !== undefined && !(o.strength >= 0 && o.strength <= 1)) throw new UsageError(`--strength must be in [0, 1], got ${o.strength}`);
  for (const [flag, v] of [["width", opts.width], ["height", opts.height]] as const) {
    // Every Stable Diffusion VAE scales by 8; checked here so a bad size fails before the model loads.
    if (v !== undefined && (v < 8 || v % 8 !== 0)) throw new UsageError(`the ${flag} must be a positive multiple of 8, got ${v}`);
  }
  if (o.clipSkip !== undefined && o.clipSkip < 1) throw new UsageError(`--clip-skip must be at least 1 (1: no layer skipped), got ${o.clipSkip}`);
  if (o.threads !== undefined && o.threads < 1) throw new UsageError(`--threads must be at least 1, got ${o.threads}`);
  const output = o.output ?? "output.png";
  if (!exists(dirname(output) || ".")) throw new UsageError(`--output ${output}: the folder ${dirname(output)} does not exist`);
  if (o.threads !== undefined) deps.setThreads?.(o.threads);
  const lora = resolveLoras(o, exists);

  const source = o.model ?? from.model ?? DEFAULT_MODEL;
  let model: SdModel;
  try {
    model = await deps.loadModel(source, { quantize: o.quantize === true, dtype: o.dtype, ...(lora.length ? { lora } : {}) });
  } catch (e) {
    throw new Error(`could not load the model ${source}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const progress = progressBar(deps.stderr);
  const run = { ...opts, onStep: progress.update, signal: deps.signal };
  let images: DiffusionImage[];
  try {
    images = mode === "img2img" ? await model.img2img(o.initImg as string, prompt, run) : await model.txt2img(prompt, run);
  } finally {
    progress.stop();
  }
  for (const [i, img] of images.entries()) {
    const path = outputPath(output, i, images.length);
    await img.toFile(path);
    deps.stdout.write(`${path}\n`);
  }
  return 0;
}

/** A per-step bar with it/s on a terminal; nothing otherwise. */
function progressBar(stderr: CliStream): { update: (p: StepProgress) => void; stop: () => void } {
  let bar: SingleBar | undefined;
  const started = performance.now();
  return {
    update: (p) => {
      if (stderr.isTTY !== true) return;
      if (bar === undefined) {
        bar = new SingleBar({
          stream: stderr as unknown as NodeJS.WritableStream, hideCursor: true, clearOnComplete: false,
          format: "{bar} {value}/{total} steps | {speed} it/s | ETA {eta_formatted}",
        });
        bar.start(p.steps, 0, { speed: "-" });
      }
      const seconds = (performance.now() - started) / 1000;
      bar.update(p.step, { speed: seconds > 0 ? (p.step / seconds).toFixed(2) : "-" });
    },
    stop: () => {
      bar?.stop();
      bar = undefined;
    },
  };
}
