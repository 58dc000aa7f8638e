// Text encoders, UNet and VAE against diffusers on the tiny random pipelines of
// tools/reference/gen_diffusion_models.py (float32 and float16 weights; fixtures are NCHW).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { fixturesDir, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";
import { encodePrompts, loadDiffusersFolder } from "../src/index.js";
import type { DiffusionComponents, ModelDType } from "../src/index.js";

interface EncoderRef {
  input_ids: number[];
  untruncated_length: number;
  last_hidden_state: RefArray;
  penultimate: RefArray;
  pooler_output?: RefArray;
  text_embeds?: RefArray;
}
interface TextRef {
  prompt: string;
  encoders: EncoderRef[];
  prompt_embeds: RefArray;
  pooled_prompt_embeds?: RefArray;
  prompt_embeds_clip_skip_1?: RefArray;
}
interface UNetRef {
  latents: RefArray;
  timestep: number;
  encoder_hidden_states: RefArray;
  text_embeds?: RefArray;
  time_ids?: RefArray;
  sample: RefArray;
}
interface Refs {
  text: TextRef[];
  unet: UNetRef[];
  vae: { decode: { latents: RefArray; sample: RefArray }; encode: { image: RefArray; mean: RefArray; logvar: RefArray }; scaling_factor: number };
}

const dir = join(fixturesDir, "diffusion");
const refs: Record<string, Refs> = { sd15: loadFixture<Refs>("diffusion/reference_sd15.json"), sdxl: loadFixture<Refs>("diffusion/reference_sdxl.json") };

const nhwc = (r: RefArray) => tc.transpose(fromRef(r), [0, 2, 3, 1]);
const nchw = (t: tc.Tensor) => tc.transpose(t, [0, 3, 1, 2]);

/** max |a - e| <= tol * max |e| (a relative bound on the whole tensor, robust for half precision). */
function expectNear(actual: tc.Tensor, expected: RefArray, tol: number, label: string): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  const a = actual.astype("float32").dataSync() as Float32Array;
  const e = expected.data as number[];
  let scale = 0;
  let err = 0;
  let at = 0;
  for (let i = 0; i < e.length; i++) {
    scale = Math.max(scale, Math.abs(e[i]));
    const d = Math.abs(a[i] - e[i]);
    if (!(d <= err)) [err, at] = [d, i];
  }
  expect(err, `${label}: max error ${err} at ${at} (got ${a[at]}, expected ${e[at]}), scale ${scale}`).toBeLessThanOrEqual(tol * scale);
}

// Measured: float32 ~1e-6 of the scale, float16 ~2e-3.
const TOL: Record<ModelDType, number> = { float32: 1e-5, float16: 1e-2, bfloat16: 5e-2 };
const cache = new Map<string, DiffusionComponents>();
function load(name: string, dtype: ModelDType): DiffusionComponents {
  const key = `${name}:${dtype}`;
  if (!cache.has(key)) cache.set(key, loadDiffusersFolder(join(dir, name), { dtype }));
  return cache.get(key)!;
}

describe.each(["sd15", "sdxl"])("%s", (name) => {
  const ref = refs[name];

  it("tokenizes as diffusers does (padding, truncation to 77 with a warning)", () => {
    const p = load(name, "float32");
    const toks = name === "sdxl" ? [p.tokenizer, p.tokenizer2!] : [p.tokenizer];
    for (const t of ref.text) {
      toks.forEach((tok, i) => {
        const warnings: string[] = [];
        const out = tok.tokenize(t.prompt, { warn: (m) => warnings.push(m) });
        expect(out.rows[0], `${JSON.stringify(t.prompt)} encoder ${i}`).toEqual(t.encoders[i].input_ids);
        expect(warnings.length).toBe(t.encoders[i].untruncated_length > 77 ? 1 : 0);
        expect(tok.encode(t.prompt).length).toBe(t.encoders[i].untruncated_length);
      });
    }
  });

  describe.each(["float32", "float16"] as ModelDType[])("%s", (dtype) => {
    const tol = TOL[dtype];

    it("text encoders: hidden states, pooled output, projection", () => {
      const p = load(name, dtype);
      const encs = name === "sdxl" ? [p.textEncoder, p.textEncoder2!] : [p.textEncoder];
      for (const t of ref.text) {
        encs.forEach((enc, i) => {
          const e = t.encoders[i];
          const out = enc.forward(tc.tensor([e.input_ids], { dtype: "int32" }));
          const label = `${JSON.stringify(t.prompt.slice(0, 20))} encoder ${i}`;
          expectNear(out.lastHiddenState, e.last_hidden_state, tol, `${label} last_hidden_state`);
          expectNear(out.hiddenStates[out.hiddenStates.length - 2], e.penultimate, tol, `${label} penultimate`);
          if (e.pooler_output) expectNear(out.pooledOutput, e.pooler_output, tol, `${label} pooled`);
          if (e.text_embeds) expectNear(out.textEmbeds!, e.text_embeds, tol, `${label} text_embeds`);
        });
      }
    });

    it("encodePrompts: diffusers' encode_prompt (SDXL: both encoders' penultimate states + pooled; SD: clip_skip too)", () => {
      const p = load(name, dtype);
      for (const t of ref.text) {
        const label = JSON.stringify(t.prompt.slice(0, 20));
        const out = encodePrompts(p, t.prompt, { warn: () => {} });
        expectNear(out.embeds, t.prompt_embeds, tol, `${label} prompt_embeds`);
        if (t.pooled_prompt_embeds) expectNear(out.pooled!, t.pooled_prompt_embeds, tol, `${label} pooled`);
        if (t.prompt_embeds_clip_skip_1)
          expectNear(encodePrompts(p, t.prompt, { clipSkip: 1, warn: () => {} }).embeds, t.prompt_embeds_clip_skip_1, tol, `${label} clip_skip 1`);
      }
      const batch = encodePrompts(p, ref.text.map((t) => t.prompt), { warn: () => {} });
      expect(batch.embeds.shape[0]).toBe(ref.text.length);
      expect(() => encodePrompts(p, "x", { clipSkip: 5 })).toThrow(/clipSkip 5/);
    });

    it("UNet: one call (CFG batch of 2 at t=981; odd-sized latents at t=37.5)", () => {
      const p = load(name, dtype);
      for (const [i, c] of ref.unet.entries()) {
        const added = c.text_embeds ? { textEmbeds: fromRef(c.text_embeds), timeIds: fromRef(c.time_ids!) } : undefined;
        const out = p.unet.forward(nhwc(c.latents), c.timestep, fromRef(c.encoder_hidden_states), added);
        expect(out.dtype).toBe(dtype);
        expectNear(nchw(out), c.sample, tol * 2, `unet case ${i}`);
      }
    });

    it("VAE: decode, and encode's latent mean and log-variance", () => {
      const p = load(name, dtype);
      const v = ref.vae;
      expect(p.vae.config.scaling_factor).toBe(v.scaling_factor);
      // SDXL's VAE (force_upcast) stays float32 in a float16 pipeline, as diffusers upcasts it.
      expect(p.vae.decoder.conv_in.weight.dtype).toBe(name === "sdxl" ? "float32" : dtype);
      expectNear(nchw(p.vae.decode(nhwc(v.decode.latents))), v.decode.sample, tol, "decode");
      const dist = p.vae.encode(nhwc(v.encode.image));
      expectNear(nchw(dist.mean), v.encode.mean, tol, "encode mean");
      expectNear(nchw(dist.logvar), v.encode.logvar, tol, "encode logvar");
    });
  });
});
