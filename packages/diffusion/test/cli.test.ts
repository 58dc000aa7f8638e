// `sd` argument parsing and errors, with a fake model (no weights needed).
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MODEL, canonicalArgs, outputPath, runCli } from "../src/cli.js";
import type { CliDeps } from "../src/cli.js";
import { DiffusionImage, loadDiffusion, readImage, readParameters } from "../src/index.js";
import { fixturesDir } from "../../../test/helpers/reference.js";
import type { GenerateOptions, GenerationParameters, Img2ImgOptions } from "../src/index.js";

interface Call { mode: string; prompt: string; image?: unknown; opts: Img2ImgOptions }
interface Run { code: number; stdout: string; stderr: string; calls: Call[]; loads: unknown[]; threads: number[] }

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), "sd-cli-")); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

function fakeImages(prompt: string, o: GenerateOptions & { strength?: number }): DiffusionImage[] {
  const n = o.count ?? 1;
  for (let s = 1; s <= 3; s++) o.onStep?.({ step: s, steps: 3, timestep: 999 - s, latents: undefined as never });
  return Array.from({ length: n }, (_, i) => new DiffusionImage(new Uint8Array(8 * 8 * 3).fill(40 * i), 8, 8, {
    prompt, negativePrompt: o.negativePrompt ?? "", steps: o.steps ?? 20, sampler: "euler", scheduler: "default",
    guidance: o.guidance ?? 7.5, seed: (o.seed ?? 1) + i, width: 8, height: 8, strength: o.strength,
  } satisfies GenerationParameters));
}

async function run(argv: string[], opts: { tty?: boolean; failLoad?: boolean } = {}): Promise<Run> {
  const out: Run = { code: 0, stdout: "", stderr: "", calls: [], loads: [], threads: [] };
  const deps: CliDeps = {
    loadModel: async (source, o) => {
      out.loads.push([source, o]);
      if (opts.failLoad) throw new Error("no such repo");
      return {
        txt2img: async (prompt, o2 = {}) => { out.calls.push({ mode: "txt2img", prompt, opts: o2 }); return fakeImages(prompt, o2); },
        img2img: async (image, prompt, o2 = {}) => { out.calls.push({ mode: "img2img", prompt, image, opts: o2 }); return fakeImages(prompt, o2); },
      };
    },
    setThreads: (n) => out.threads.push(n),
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s), isTTY: opts.tty },
  };
  out.code = await runCli(argv, deps);
  return out;
}

describe("sd arguments", () => {
  it("txt2img with the issue's flags", async () => {
    const o = join(dir, "out.png");
    const r = await run(["txt2img", "a sunset over mountains", "--quantize", "--steps", "20", "--seed", "7", "--size", "512x512", "-o", o]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.loads).toEqual([[DEFAULT_MODEL, { quantize: true, dtype: undefined }]]);
    expect(r.calls[0]).toMatchObject({ mode: "txt2img", prompt: "a sunset over mountains", opts: { steps: 20, seed: 7, width: 512, height: 512 } });
    expect(r.stdout).toBe(`${o}\n`);
    expect((await readParameters(o))?.seed).toBe(7);
  });

  it("mlx-examples' spellings", async () => {
    const o = join(dir, "mlx.png");
    const r = await run(["a cat", "--n_images", "2", "--steps", "4", "--cfg", "5", "--negative_prompt", "dog", "--seed", "3", "--output", o]);
    expect(r.code).toBe(0);
    expect(r.calls[0].opts).toMatchObject({ count: 2, steps: 4, guidance: 5, negativePrompt: "dog", seed: 3 });
    expect(r.stdout).toBe(`${join(dir, "mlx_1.png")}\n${join(dir, "mlx_2.png")}\n`);
    expect((await readParameters(join(dir, "mlx_2.png")))?.seed).toBe(4);
  });

  it("stable-diffusion.cpp's spellings", async () => {
    const r = await run(["-p", "a cat", "-n", "ugly", "--cfg-scale", "6.5", "--sampling-method", "dpm++2m", "--scheduler", "karras",
      "-s", "11", "-W", "640", "-H", "384", "-b", "1", "-m", "/models/sd15.safetensors", "-t", "2", "--clip-skip", "2", "--vae-tiling", "-o", join(dir, "cpp.png")]);
    expect(r.stderr).toBe("");
    expect(r.calls[0]).toMatchObject({ prompt: "a cat", opts: { negativePrompt: "ugly", guidance: 6.5, sampler: "dpm++2m", scheduler: "karras", seed: 11, width: 640, height: 384, count: 1, clipSkip: 1, vaeTiling: true } });
    expect(r.loads).toEqual([["/models/sd15.safetensors", { quantize: false, dtype: undefined }]]);
    expect(r.threads).toEqual([2]);
  });

  it("img2img: --image / -i / -M img2img / --init-img", async () => {
    const init = join(dir, "out.png");
    await run(["txt2img", "x", "-o", init, "--seed", "1"]);
    for (const argv of [["img2img", "--image", init, "--strength", "0.7", "make it a painting"],
      ["-M", "img2img", "-i", init, "-p", "make it a painting", "--strength=0.7"],
      ["--init-img", init, "make it a painting", "--strength", "0.7"],
      ["-M", "img_gen", "-i", init, "-p", "make it a painting", "--strength", "0.7"]]) {
      const r = await run([...argv, "-o", join(dir, "i2i.png")]);
      expect(r.stderr, argv.join(" ")).toBe("");
      expect(r.calls[0]).toMatchObject({ mode: "img2img", prompt: "make it a painting", image: init, opts: { strength: 0.7 } });
    }
  });

  it("--from image.png takes the prompt and settings; flags override", async () => {
    const src = join(dir, "src.png");
    await new DiffusionImage(new Uint8Array(8 * 8 * 3), 8, 8, {
      prompt: "castle on a hill", negativePrompt: "fog", steps: 25, sampler: "dpmpp_2m", scheduler: "karras",
      guidance: 6, seed: 99, width: 768, height: 512, model: "my/model",
    }).toFile(src);
    const r = await run(["--from", src, "--seed", "100", "-o", join(dir, "again.png")]);
    expect(r.stderr).toBe("");
    expect(r.loads).toEqual([["my/model", { quantize: false, dtype: undefined }]]);
    expect(r.calls[0]).toMatchObject({ prompt: "castle on a hill", opts: {
      negativePrompt: "fog", steps: 25, sampler: "dpmpp_2m", scheduler: "karras", guidance: 6, seed: 100, width: 768, height: 512 } });
  });

  it("a per-step progress bar with it/s on a terminal", async () => {
    const r = await run(["a cat", "-o", join(dir, "bar.png")], { tty: true });
    expect(r.stderr).toMatch(/3\/3 steps \| [\d.]+ it\/s/);
    const quiet = await run(["a cat", "-o", join(dir, "bar.png")]);
    expect(quiet.stderr).toBe("");
  });

  it("aliases become the canonical flags, also as --flag=value", () => {
    expect(canonicalArgs(["--cfg=7", "--negative_prompt", "x", "--image=a.png", "--n_images", "2"]))
      .toEqual(["--cfg-scale=7", "--negative-prompt", "x", "--init-img=a.png", "--batch-count", "2"]);
    expect(outputPath("out/x.png", 0, 1)).toBe("out/x.png");
    expect(outputPath("out/x.png", 1, 3)).toBe("out/x_2.png");
  });
});

describe("sd errors", () => {
  const expectUsage = async (argv: string[], message: RegExp) => {
    const r = await run(argv);
    expect(r.code, argv.join(" ")).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.loads).toEqual([]);
  };
  it("bad usage exits 2 with one line", async () => {
    await expectUsage([], /no prompt/);
    await expectUsage(["img2img", "a cat"], /img2img needs the image to start from: --init-img/);
    await expectUsage(["a cat", "--strength", "0.5"], /--strength is for img2img/);
    await expectUsage(["img2img", "-i", join(dir, "nope.png"), "x"], /--init-img .*nope.png: no such file/);
    await expectUsage(["a cat", "--steps", "many"], /--steps.*Expected an integer/);
    await expectUsage(["a cat", "--size", "512"], /Expected WIDTHxHEIGHT/);
    await expectUsage(["a cat", "--sampling-method", "unipc"], /unknown sampler "unipc"/);
    await expectUsage(["a cat", "--scheduler", "ays"], /unknown scheduler "ays"/);
    await expectUsage(["a cat", "--dtype", "int8"], /Allowed choices are float32, float16, bfloat16/);
    await expectUsage(["a cat", "--size", "512x512", "-W", "512"], /either as --size WxH or with -W\/-H/);
    await expectUsage(["a cat", "-p", "a dog"], /either as an argument or with -p/);
    await expectUsage(["a cat", "--from", join(dir, "missing.png")], /--from .*missing.png: no such file/);
    await expectUsage(["a cat", "-o", "/nonexistent-dir/x.png"], /the folder \/nonexistent-dir does not exist/);
    await expectUsage(["a cat", "--size", "500x512"], /the width must be a positive multiple of 8, got 500/);
    await expectUsage(["a cat", "-H", "0"], /the height must be a positive multiple of 8, got 0/);
    await expectUsage(["a cat", "--clip-skip", "0"], /--clip-skip must be at least 1/);
    await expectUsage(["a cat", "--bogus"], /unknown option '--bogus'/);
  });

  it("img2img strength outside [0, 1]", async () => {
    const init = join(dir, "out.png");
    await run(["txt2img", "x", "-o", init]);
    const r = await run(["img2img", "-i", init, "x", "--strength", "1.5"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--strength must be in \[0, 1\], got 1.5/);
  });

  it("a model that fails to load exits 1 naming it", async () => {
    const r = await run(["a cat", "-m", "nobody/nothing", "-o", join(dir, "never.png")], { failLoad: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("sd: error: could not load the model nobody/nothing: no such repo\n");
    expect(await readdir(dir)).not.toContain("never.png");
  });
});

describe("sd on the tiny SD-1.5 folder", () => {
  it("writes the image with its parameters; an interrupted run writes nothing", async () => {
    const model = join(fixturesDir, "diffusion", "sd15");
    const out = { stdout: "", stderr: "" };
    const deps = (signal?: AbortSignal): CliDeps => ({
      loadModel: (source, o) => loadDiffusion(source, { quantize: o.quantize }), signal,
      stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) },
    });
    const path = join(dir, "tiny.png");
    expect(await runCli(["txt2img", "a red cube", "-m", model, "--steps", "3", "-s", "5", "--size", "32x24", "-o", path], deps())).toBe(0);
    expect(await readParameters(path)).toMatchObject({ prompt: "a red cube", steps: 3, seed: 5, width: 32, height: 24, sampler: "pndm" });
    const ac = new AbortController();
    ac.abort(new Error("interrupted"));
    const stopped = join(dir, "stopped.png");
    expect(await runCli(["a red cube", "-m", model, "--steps", "3", "--size", "32x24", "-o", stopped], deps(ac.signal))).toBe(1);
    expect(out.stderr).toBe("sd: error: interrupted\n");
    expect((await readdir(dir)).filter((f) => f.includes("stopped"))).toEqual([]);
  });
});

describe("sd --lora", () => {
  const loraDir = join(fixturesDir, "diffusion", "lora");
  it("paths and names in --lora-dir with weights, repeatable", async () => {
    const style = join(loraDir, "style_kohya.safetensors");
    const r = await run(["a cat", "--lora", `${style}:0.8`, "--lora", "detail_kohya:-0.5", "--lora", "style_peft.safetensors", "--lora-dir", loraDir, "-o", join(dir, "lora.png")]);
    expect(r.stderr).toBe("");
    expect((r.loads[0] as [string, object])[1]).toMatchObject({ lora: [
      { path: style, weight: 0.8 }, { path: join(loraDir, "detail_kohya.safetensors"), weight: -0.5 },
      { path: join(loraDir, "style_peft.safetensors"), weight: 1 },
    ] });
  });

  it("a bad weight, a missing LoRA, a missing --lora-dir: usage errors before loading", async () => {
    let r = await run(["a cat", "--lora", "style:strong"]);
    expect([r.code, r.stderr]).toEqual([2, "sd: error: --lora style:strong: the weight after ':' must be a number, got 'strong'\n"]);
    r = await run(["a cat", "--lora", "nothing:0.5", "--lora-dir", loraDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--lora nothing: no such file \(nor nothing or nothing\.safetensors in --lora-dir/);
    r = await run(["a cat", "--lora", "x", "--lora-dir", join(dir, "nope")]);
    expect(r.stderr).toMatch(/--lora-dir .*nope: no such folder/);
    expect(r.loads).toEqual([]);
  });

  it("a LoRA on the tiny SD-1.5 folder changes the image; one for another model is an error naming it", async () => {
    const model = join(fixturesDir, "diffusion", "sd15");
    const out = { stdout: "", stderr: "" };
    const deps: CliDeps = {
      loadModel: (source, o) => loadDiffusion(source, { quantize: o.quantize, lora: o.lora }),
      stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) },
    };
    const args = ["a red cube", "-m", model, "--steps", "2", "-s", "5", "--size", "32x24"];
    const plain = join(dir, "plain.png");
    const styled = join(dir, "styled.png");
    expect(await runCli([...args, "-o", plain], deps)).toBe(0);
    expect(await runCli([...args, "--lora", "style_kohya:0.8", "--lora-dir", loraDir, "-o", styled], deps)).toBe(0);
    const [a, b] = [await readImage(plain), await readImage(styled)];
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(false);
    const unet = join(model, "unet", "diffusion_pytorch_model.safetensors");
    expect(await runCli([...args, "--lora", unet, "-o", join(dir, "bad.png")], deps)).toBe(1);
    expect(out.stderr).toMatch(/LoRA .*diffusion_pytorch_model\.safetensors: .* match no layer/);
  });
});
