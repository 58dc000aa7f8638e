// LoRAs made with peft on the tiny SD 1.5 pipeline, in diffusers/PEFT and kohya/A1111 keys, against
// diffusers' load_lora_weights (+ set_adapters for two at once; fixtures: tools/reference/gen_diffusion_lora.py):
// text embeddings and one UNet call, a 4-step Euler txt2img; fused and at run time; on --quantize'd weights.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { encodePrompts, loadDiffusersFolder, loadDiffusion, readLora, txt2imgLatents } from "../src/index.js";
import type { DiffusionPipeline, LoraSpec } from "../src/index.js";
import { fixturesDir, fromRef, loadFixture, relError } from "../../../test/helpers/reference.js";
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

describe("kohya SDXL names in the original layout", () => {
  it("input_blocks / middle_block / output_blocks / time_embed map to the diffusers layers (lora_te1_ / lora_te2_ too)", async () => {
    const c = loadDiffusersFolder(join(fixturesDir, "diffusion", "sdxl"));
    const pairs: [string, string][] = [
      ["lora_unet_input_blocks_3_1_transformer_blocks_1_attn2_to_k", "down_blocks.1.attentions.0.transformer_blocks.1.attn2.to_k"],
      ["lora_unet_input_blocks_1_0_in_layers_2", "down_blocks.0.resnets.0.conv1"],
      ["lora_unet_input_blocks_2_0_op", "down_blocks.0.downsamplers.0.conv"],
      ["lora_unet_middle_block_1_proj_in", "mid_block.attentions.0.proj_in"],
      ["lora_unet_middle_block_2_emb_layers_1", "mid_block.resnets.1.time_emb_proj"],
      ["lora_unet_output_blocks_1_2_conv", "up_blocks.0.upsamplers.0.conv"],
      ["lora_unet_output_blocks_2_0_skip_connection", "up_blocks.1.resnets.0.conv_shortcut"],
      ["lora_unet_time_embed_0", "time_embedding.linear_1"],
      ["lora_te1_text_model_encoder_layers_0_self_attn_q_proj", "encoder.layers.0.self_attn.q_proj"],
      ["lora_te2_text_model_encoder_layers_1_mlp_fc2", "encoder.layers.1.mlp.fc2"],
    ];
    const modules = new Map([...c.unet.namedModules(), ...c.textEncoder.namedModules(), ...c.textEncoder2!.namedModules()]);
    const tensors: Record<string, tc.Tensor> = {};
    for (const [name, path] of pairs) {
      const layer = modules.get(path) as tc.nn.Linear | tc.nn.Conv2d;
      const w = layer.weight.shape; // ours: [out, in] or [out, kh, kw, in]; the file: PyTorch's [out, in, kh, kw]
      tensors[`${name}.lora_down.weight`] = tc.zeros(w.length === 4 ? [2, w[3], w[1], w[2]] : [2, w[1]]);
      tensors[`${name}.lora_up.weight`] = tc.zeros(w.length === 4 ? [w[0], 2, 1, 1] : [w[0], 2]);
      tensors[`${name}.alpha`] = tc.tensor([1]);
    }
    const path = join(mkdtempSync(join(tmpdir(), "tessera-lora-")), "sgm.safetensors");
    await tc.io.saveSafetensors(path, tensors);
    const lora = readLora({ path }, c);
    expect(lora.layers.map((l) => l.module).sort()).toEqual(pairs.map(([, p]) => p).sort());
    expect(lora.layers.find((l) => l.module === "down_blocks.0.resnets.0.conv1")!.alphaScale).toBe(0.5);
  });
});
