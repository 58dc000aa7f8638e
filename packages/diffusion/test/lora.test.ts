// LoRAs made with peft on the tiny SD 1.5 pipeline, in diffusers/PEFT and kohya/A1111 keys, against
// diffusers' load_lora_weights (+ set_adapters for two at once; fixtures: tools/reference/gen_diffusion_lora.py):
// text embeddings and one UNet call, a 4-step Euler txt2img; fused and at run time; on --quantize'd weights.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { encodePrompts, loadDiffusion, txt2imgLatents } from "../src/index.js";
import type { DiffusionPipeline, LoraSpec } from "../src/index.js";
import { fixturesDir, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";

interface Outputs { embeddings: RefArray; unet: RefArray; final: RefArray }
interface Ref extends Record<"base" | "peft" | "kohya", Outputs> {
  prompt: string; negativePrompt: string; width: number; height: number; steps: number; guidance: number; sampler: string;
  timestep: number; sample: RefArray; latents: RefArray;
}
const ref = loadFixture<Ref>("diffusion/lora/reference.json");
const sd15 = join(fixturesDir, "diffusion", "sd15");
const file = (name: string) => join(fixturesDir, "diffusion", "lora", `${name}.safetensors`);
const pair = (fmt: "peft" | "kohya"): LoraSpec[] => [{ path: file(`style_${fmt}`), weight: 0.8 }, { path: file("detail_kohya"), weight: -0.6 }];

/** max |a - e| / max |e|. */
function relError(actual: tc.Tensor, expected: RefArray): number {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.astype("float32").dataSync() as Float32Array;
  const e = expected.data as number[];
  let scale = 0;
  let err = 0;
  e.forEach((v, i) => {
    scale = Math.max(scale, Math.abs(v));
    err = Math.max(err, Math.abs(a[i] - v));
  });
  return err / scale;
}

function oneCall(p: DiffusionPipeline): { embeddings: tc.Tensor; unet: tc.Tensor } {
  const c = p.components;
  const embeddings = encodePrompts(c, [ref.prompt, ref.negativePrompt]).embeds;
  // The UNet on diffusers' embeddings, so each part is checked alone.
  const unet = c.unet.forward(fromRef(ref.sample), ref.timestep, fromRef(ref.peft.embeddings));
  return { embeddings, unet };
}

async function final(p: DiffusionPipeline): Promise<tc.Tensor> {
  return (await txt2imgLatents(p.networks, ref.prompt, {
    negativePrompt: ref.negativePrompt, steps: ref.steps, guidance: ref.guidance, sampler: ref.sampler,
    width: ref.width, height: ref.height, latents: fromRef(ref.latents),
  })).latents;
}

describe("LoRA against diffusers' load_lora_weights", () => {
  for (const fmt of ["peft", "kohya"] as const) {
    it(`${fmt} file fused at load: text embeddings, one UNet call, two LoRAs with weights in txt2img`, async () => {
      const one = await loadDiffusion(sd15, { lora: [{ path: file(`style_${fmt}`) }] });
      const r = oneCall(one);
      // Measured: 4.6e-7 (embeddings) and 1.1e-6 (UNet) of the scale, float32; final latents 3.6e-6.
      expect(relError(r.embeddings, ref[fmt].embeddings), "embeddings").toBeLessThan(1e-5);
      // The UNet with the LoRA on diffusers' LoRA embeddings: its own output only depends on the UNet LoRA.
      expect(relError(r.unet, ref[fmt].unet), "unet").toBeLessThan(1e-5);
      const two = await loadDiffusion(sd15, { lora: pair(fmt) });
      expect(relError(await final(two), ref[fmt].final), "final latents").toBeLessThan(5e-5);
    });
  }

  it("run time: set, switch, re-weight and remove LoRAs without reloading", async () => {
    const p = await loadDiffusion(sd15, { lora: [{ path: file("style_kohya") }], loraMode: "runtime" });
    const r = oneCall(p);
    expect(relError(r.embeddings, ref.kohya.embeddings), "embeddings").toBeLessThan(1e-5);
    expect(relError(r.unet, ref.kohya.unet), "unet").toBeLessThan(1e-5);
    p.setLoras(pair("peft"));
    expect(relError(await final(p), ref.peft.final), "two LoRAs").toBeLessThan(5e-5);
    p.setLoras([]);
    expect(relError(await final(p), ref.base.final), "none").toBeLessThan(5e-5);
    // Checkpoint keys stay as they were (the run-time path is not a parameter).
    expect(Object.keys(p.components.unet.namedParameters()).some((k) => k.includes("lora"))).toBe(false);
  });

  it("quantized: fused before quantizing, or at run time over the quantized layers", async () => {
    const fused = await loadDiffusion(sd15, { lora: pair("kohya"), quantize: true });
    const runtime = await loadDiffusion(sd15, { lora: pair("kohya"), quantize: true, loraMode: "runtime" });
    const quantized = Object.values(runtime.components.unet.namedModules()).filter(([, m]) => m instanceof tc.nn.QuantizedLinear);
    expect(quantized.length).toBeGreaterThan(0);
    const a = await final(fused);
    const b = await final(runtime);
    const ea = relError(a, ref.kohya.final);
    const eb = relError(b, ref.kohya.final);
    // Measured: 3.6e-3 (fused, then quantized) and 3.2e-3 (run time over the 8-bit layers) of the scale; 0.66 without the LoRAs.
    expect(ea).toBeLessThan(2e-2);
    expect(eb).toBeLessThan(2e-2);
    expect(ea).toBeGreaterThan(0);
    expect(relError(a, ref.base.final)).toBeGreaterThan(0.1);
  });
});

describe("LoRA bad input", () => {
  it("a missing file, a bad weight, an unknown mode", async () => {
    await expect(loadDiffusion(sd15, { lora: [{ path: file("nope") }] })).rejects.toThrow(/nope\.safetensors: no such file/);
    await expect(loadDiffusion(sd15, { lora: [{ path: file("style_peft"), weight: Number.NaN }] })).rejects.toThrow(/weight must be a finite number/);
    await expect(loadDiffusion(sd15, { lora: [{ path: file("style_peft") }], loraMode: "x" as "fuse" })).rejects.toThrow(/loraMode/);
  });

  it("a LoRA for another architecture is named; keys that match no layer are listed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-lora-"));
    const xl = join(dir, "xl.safetensors");
    await tc.io.saveSafetensors(xl, {
      "lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": tc.zeros([4, 1280]),
      "lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight": tc.zeros([1280, 4]),
    });
    await expect(loadDiffusion(sd15, { lora: [{ path: xl }] })).rejects.toThrow(/match no layer.*SDXL/);
    const wide = join(dir, "wide.safetensors");
    await tc.io.saveSafetensors(wide, {
      "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight": tc.zeros([4, 320]),
      "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight": tc.zeros([320, 4]),
    });
    await expect(loadDiffusion(sd15, { lora: [{ path: wide }] })).rejects.toThrow(/does not fit this SD 1\.x \/ 2\.x model.*attn1\.to_q/);
    const p = await loadDiffusion(sd15);
    expect(() => p.setLoras([{ path: join(sd15, "unet", "diffusion_pytorch_model.safetensors") }])).toThrow(/match no layer/);
  });
});
