// Stable Diffusion speed (issue 12), ours only for now: one UNet step at SD 1.5's real size
// (UNet2DConditionModel 320/640/1280/1280, cross-attention 768) on 64x64 latents (512x512 images),
// batch 2 (classifier-free guidance), float32 / float16 / 8-bit (mlx-examples' --quantize), plus the
// CLIP ViT-L/14 text encoder on 2 x 77 tokens and the VAE decode of one 64x64 latent. Random weights
// (timing does not depend on the values), built with the models' own constructors; peak memory is
// the allocator's (tc.memory.stats) over each case.
//
// Run: npx tsx bench/diffusion.ts [--threads=2] [--iters=1] [--warmup=1] [--cases=unet32,unet16,unet8,text,vae]
// (imports the built packages: `pnpm install` or `npx tsc -b` first)
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as tc from "../packages/core/dist/index.js";
import { AutoencoderKL, CLIPTextModel, ResnetBlock2D, Transformer2DModel, UNet2DConditionModel, clipTextConfig, quantizeComponents, unetConfig, vaeConfig } from "../packages/diffusion/dist/index.js";
import type { DiffusionComponents } from "../packages/diffusion/dist/index.js";
import { report, timeIt } from "./lib.js";
import type { BenchRow } from "./lib.js";

const option = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=").slice(1).join("=");
const num = (name: string, dflt: number): number => Number(option(name) ?? dflt);
const threads = num("threads", 2);
const iters = num("iters", 1);
const warmup = num("warmup", 1);
const cases = (option("cases") ?? "unet32,unet16,unet8,text,vae").split(",");
const child = option("child"); // one case, run in its own process so peak memory is that case's alone
tc.setNumThreads(threads);

// stable-diffusion-v1-5's unet/, text_encoder/ and vae/ config.json values.
const UNET = unetConfig({
  block_out_channels: [320, 640, 1280, 1280], layers_per_block: 2, cross_attention_dim: 768, attention_head_dim: 8,
  down_block_types: ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"], sample_size: 64,
}, "sd15 unet");
const CLIP = clipTextConfig({ hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, projection_dim: 768 }, "sd15 text_encoder");
const VAE = vaeConfig({
  block_out_channels: [128, 256, 512, 512], layers_per_block: 2, latent_channels: 4,
  down_block_types: Array(4).fill("DownEncoderBlock2D"), up_block_types: Array(4).fill("UpDecoderBlock2D"),
}, "sd15 vae");

/** Materializes a fresh module's random parameters in `dtype` (so the timed calls read real buffers). */
function realize<M extends tc.nn.Module>(m: M, dtype: "float32" | "float16"): M {
  m.apply((p) => (p.dtype === dtype ? p : p.astype(dtype)));
  tc.evalSync(...Object.values(m.namedParameters()));
  return m;
}

// Multiply-adds x 2 of one UNet call (convolutions, linear layers, attention products), walked as forward() runs.
function unetFlops(u: UNet2DConditionModel, b: number, h: number, w: number, ctx: number): number {
  const conv = (c: tc.nn.Conv2d, hh: number, ww: number) => { const [o, kh, kw, i] = c.weight.shape; return 2 * b * hh * ww * o * kh * kw * i; };
  const lin = (l: tc.nn.Linear, rows: number) => 2 * rows * l.weight.shape[0] * l.weight.shape[1];
  const res = (r: InstanceType<typeof ResnetBlock2D>, hh: number, ww: number) =>
    conv(r.conv1, hh, ww) + conv(r.conv2, hh, ww) + (r.conv_shortcut ? conv(r.conv_shortcut, hh, ww) : 0);
  const attn = (t: InstanceType<typeof Transformer2DModel>, hh: number, ww: number) => {
    const n = b * hh * ww;
    const proj = (p: tc.nn.Linear | tc.nn.Conv2d) => (p instanceof tc.nn.Conv2d ? conv(p, hh, ww) : lin(p, n));
    let f = proj(t.proj_in) + proj(t.proj_out);
    for (const blk of t.transformer_blocks) {
      const inner = blk.attn1.to_q.weight.shape[0];
      f += [blk.attn1.to_q, blk.attn1.to_k, blk.attn1.to_v, blk.attn1.to_out[0], blk.attn2.to_q, blk.attn2.to_out[0]].reduce((a, l) => a + lin(l, n), 0);
      f += lin(blk.attn2.to_k, b * ctx) + lin(blk.attn2.to_v, b * ctx) + 4 * n * hh * ww * inner + 4 * n * ctx * inner;
      f += lin(blk.ff.net[0].proj, n) + lin(blk.ff.net[2], n);
    }
    return f;
  };
  let f = conv(u.conv_in, h, w) + conv(u.conv_out, h, w);
  for (const d of u.down_blocks) {
    d.resnets.forEach((r, j) => { f += res(r, h, w) + (d.attentions ? attn(d.attentions[j], h, w) : 0); });
    if (d.downsamplers) { h /= 2; w /= 2; f += conv(d.downsamplers[0].conv, h, w); }
  }
  f += res(u.mid_block.resnets[0], h, w) + attn(u.mid_block.attentions[0], h, w) + res(u.mid_block.resnets[1], h, w);
  for (const up of u.up_blocks) {
    up.resnets.forEach((r, j) => { f += res(r, h, w) + (up.attentions ? attn(up.attentions[j], h, w) : 0); });
    if (up.upsamplers) { h *= 2; w *= 2; f += conv(up.upsamplers[0].conv, h, w); }
  }
  return f;
}

const gib = (b: number) => b / 2 ** 30;
const rows: BenchRow[] = [];
const notes: string[] = [];

async function measure(label: string, unit: string, setup: () => () => tc.Tensor, flops?: number): Promise<void> {
  tc.memory.clearCache();
  const run = setup();
  tc.memory.resetPeak();
  // CPU time over wall time: on a shared machine the cores this process actually got.
  let cpu = 0;
  let wall = 0;
  const t = await timeIt(async () => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const y = run();
    await tc.eval(y);
    wall += (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    cpu += (c.user + c.system) / 1e6;
    y.dispose();
  }, iters, warmup);
  const peak = tc.memory.stats().peak;
  rows.push({ case: label, value: t, unit });
  rows.push({ case: `${label}: peak memory`, value: gib(peak), unit: "GiB" });
  rows.push({ case: `${label}: cores used (CPU time / wall time)`, value: cpu / wall, unit: "cores" });
  // Per CPU-second, as bench/gemm.ts reports it: comparable on a shared machine.
  if (flops) rows.push({ case: `${label}: GFLOP per CPU-second`, value: flops / 1e9 / (cpu / (iters + warmup)), unit: "GFLOP/CPU-s" });
  console.log(`${label}: ${t.toFixed(2)} ${unit}, peak ${gib(peak).toFixed(2)} GiB, ${(cpu / wall).toFixed(2)} cores`);
}

function unetStep(dtype: "float32" | "float16", quantized: boolean): () => () => tc.Tensor {
  return () => {
    const unet = realize(new UNet2DConditionModel(UNET), dtype);
    if (quantized) {
      quantizeComponents({ unet, textEncoder: new tc.nn.Module() } as unknown as DiffusionComponents, {
        textEncoder: { bits: 4, groupSize: 64 }, unet: { bits: 8, groupSize: 32 },
      });
      tc.evalSync(...Object.values(unet.namedParameters()));
    }
    const x = tc.random.normal([2, 64, 64, 4], { key: tc.random.key(1) }).astype(dtype);
    const ctx = tc.random.normal([2, 77, 768], { key: tc.random.key(2) }).astype(dtype);
    tc.evalSync(x, ctx);
    return () => unet.forward(x, 981, ctx);
  };
}

const flops = unetFlops(new UNet2DConditionModel(UNET), 2, 64, 64, 77);

async function runCase(name: string): Promise<void> {
  if (name === "unet32") await measure("UNet step, SD 1.5, 64x64 latents, batch 2, float32", "s", unetStep("float32", false), flops);
  else if (name === "unet16") await measure("UNet step, float16 weights and activations", "s", unetStep("float16", false), flops);
  else if (name === "unet8") await measure("UNet step, 8-bit Linear layers (groups of 32), float32 activations", "s", unetStep("float32", true), flops);
  else if (name === "text") {
    await measure("CLIP ViT-L/14 text encoder, 2 x 77 tokens, float32", "s", () => {
      const enc = realize(new CLIPTextModel(CLIP), "float32");
      const ids = tc.tensor(Int32Array.from({ length: 154 }, (_, i) => (i * 37) % 49406), { shape: [2, 77] });
      return () => enc.forward(ids).lastHiddenState;
    });
  } else if (name === "vae") {
    await measure("VAE decode, 64x64 latent -> 512x512 image, float32", "s", () => {
      const vae = realize(new AutoencoderKL(VAE), "float32");
      const z = tc.random.normal([1, 64, 64, 4], { key: tc.random.key(3) });
      tc.evalSync(z);
      return () => vae.decode(z);
    });
  } else throw new Error(`bench/diffusion.ts: unknown case '${name}' (unet32, unet16, unet8, text, vae)`);
}

if (child) {
  await runCase(child);
  console.log(`ROWS ${JSON.stringify(rows)}`);
} else {
  for (const name of cases) {
    const r = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), ...process.argv.slice(2), `--child=${name}`], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const line = r.stdout.split("\n").find((l) => l.startsWith("ROWS "));
    if (r.status !== 0 || !line) {
      notes.push(`${name}: failed (${r.status === null ? r.signal : `exit ${r.status}`})`);
      continue;
    }
    process.stdout.write(r.stdout.split("\n").filter((l) => !l.startsWith("ROWS ")).join("\n"));
    rows.push(...(JSON.parse(line.slice(5)) as BenchRow[]));
  }
  notes.push(`UNet call, batch 2 at 64x64: ${(flops / 1e12).toFixed(2)} TFLOP (convolutions, projections, attention products).`);
  notes.push(`${threads} threads; median of ${iters} after ${warmup} warm-up call(s); each case in its own process. Peers (diffusers on CPU, stable-diffusion.cpp) not run yet.`);
  report({ name: "diffusion", title: "Stable Diffusion 1.5 components (random weights, ours only)", rows, notes });
}
