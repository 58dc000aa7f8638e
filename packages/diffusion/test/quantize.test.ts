// Quantization at load (mlx-examples' --quantize: text encoders 4-bit, UNet 8-bit groups of 32):
// which layers get packed, and how close the outputs stay to float32 (PSNR).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { fixturesDir, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";
import { CLIPTextModelWithProjection, MLX_EXAMPLES_QUANTIZATION, loadDiffusersFolder, loadSingleFile, quantizeComponents } from "../src/index.js";

const dir = join(fixturesDir, "diffusion");

/** 10 log10(peak^2 / mse) with peak = max |reference|. */
function psnr(actual: tc.Tensor, reference: ArrayLike<number>): number {
  const a = actual.astype("float32").dataSync() as Float32Array;
  let peak = 0;
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    peak = Math.max(peak, Math.abs(reference[i]));
    se += (a[i] - reference[i]) ** 2;
  }
  return 10 * Math.log10((peak * peak) / (se / a.length));
}

function countLayers(m: tc.nn.Module): { quantized: number; linear: number } {
  const mods = m.modules();
  return { quantized: mods.filter((x) => x instanceof tc.nn.QuantizedLinear).length, linear: mods.filter((x) => x instanceof tc.nn.Linear).length };
}

interface UNetRef { latents: RefArray; timestep: number; encoder_hidden_states: RefArray; text_embeds?: RefArray; time_ids?: RefArray; sample: RefArray }

describe("quantize at load", () => {
  it("UNet 8-bit (groups of 32): the Linear layers whose width allows it are packed; output within 40 dB PSNR of diffusers' float32 (measured 46.7)", () => {
    const c = loadFixture<{ unet: UNetRef[] }>("diffusion/reference_sdxl.json").unet[0];
    const p = loadDiffusersFolder(join(dir, "sdxl"), { quantize: true });
    const n = countLayers(p.unet);
    // Every Linear with an input width of 32 or more (the 32-channel block's attention and feed-forward, time embeddings).
    expect(n.quantized).toBeGreaterThan(20);
    const float = loadDiffusersFolder(join(dir, "sdxl"));
    expect(countLayers(float.unet).quantized).toBe(0);
    const nhwc = (r: RefArray) => tc.transpose(fromRef(r), [0, 2, 3, 1]);
    const added = { textEmbeds: fromRef(c.text_embeds!), timeIds: fromRef(c.time_ids!) };
    const out = tc.transpose(p.unet.forward(nhwc(c.latents), c.timestep, fromRef(c.encoder_hidden_states), added), [0, 3, 1, 2]);
    const db = psnr(out, c.sample.data as number[]);
    expect(db).toBeGreaterThan(40);
    expect(db).toBeLessThan(120); // something was actually quantized
  });

  it("single files quantize the same way", () => {
    const a = loadSingleFile(join(dir, "sd15.safetensors"), { config: join(dir, "sd15"), quantize: true });
    const b = loadDiffusersFolder(join(dir, "sd15"), { quantize: true });
    expect(countLayers(a.unet)).toEqual(countLayers(b.unet));
    expect(countLayers(a.unet).quantized).toBeGreaterThan(0);
  });

  it("text encoder 4-bit (groups of 64) on a CLIP of width 64: attention and MLP packed, embeddings float, PSNR > 20 dB (measured 23-28 over seeds)", () => {
    const cfg = {
      vocab_size: 1000, hidden_size: 64, intermediate_size: 256, num_hidden_layers: 2, num_attention_heads: 4,
      max_position_embeddings: 77, hidden_act: "gelu" as const, layer_norm_eps: 1e-5, projection_dim: 64, eos_token_id: 999,
    };
    tc.random.seed(0); // nn's default init draws from the default key
    const enc = new CLIPTextModelWithProjection(cfg);
    const ids = tc.tensor([[1, 5, 17, 400, 999, 999, 999]], { dtype: "int32" });
    const ref = enc.forward(ids);
    const [hidden, embeds] = [ref.lastHiddenState.dataSync() as Float32Array, ref.textEmbeds!.dataSync() as Float32Array];
    const fake = { textEncoder: enc, unet: new tc.nn.Module() } as unknown as Parameters<typeof quantizeComponents>[0];
    quantizeComponents(fake, MLX_EXAMPLES_QUANTIZATION);
    // q, k, v, out, fc1, fc2 per layer and the projection; fc2 (width 256) too.
    expect(countLayers(enc).quantized).toBe(2 * 6 + 1);
    expect(enc.embeddings.token_embedding).toBeInstanceOf(tc.nn.Embedding);
    const q = enc.forward(ids);
    expect(psnr(q.lastHiddenState, hidden)).toBeGreaterThan(20);
    expect(psnr(q.textEmbeds!, embeds)).toBeGreaterThan(20);
  });
});
