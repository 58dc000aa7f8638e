// Loading: single-file checkpoints with the original SD key names give exactly the diffusers
// folder's weights, and bad folders / files / options give Errors that say what is wrong.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { fixturesDir } from "../../../test/helpers/reference.js";
import { detectCheckpointKind, loadComponents, loadDiffusersFolder, loadSingleFile } from "../src/index.js";
import type { DiffusionComponents } from "../src/index.js";

const dir = join(fixturesDir, "diffusion");
const tmp = mkdtempSync(join(tmpdir(), "tessera-diffusion-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectSameWeights(a: tc.nn.Module, b: tc.nn.Module, label: string): void {
  const pa = a.namedParameters();
  const pb = b.namedParameters();
  expect(Object.keys(pa).sort(), label).toEqual(Object.keys(pb).sort());
  for (const [k, v] of Object.entries(pa)) {
    const w = pb[k];
    expect(w.dtype, `${label} ${k}`).toBe(v.dtype);
    expect(w.shape, `${label} ${k}`).toEqual(v.shape);
    const [x, y] = [v.dataSync() as Float32Array, w.dataSync() as Float32Array];
    expect(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), `${label} ${k} differs`).toBe(true);
  }
}

function components(c: DiffusionComponents): [string, tc.nn.Module][] {
  const out: [string, tc.nn.Module][] = [["text_encoder", c.textEncoder], ["unet", c.unet], ["vae", c.vae]];
  if (c.textEncoder2) out.push(["text_encoder_2", c.textEncoder2]);
  return out;
}

/** A writable copy of a fixture pipeline (symlinks followed). */
function copyOf(name: string): string {
  const d = mkdtempSync(join(tmp, `${name}-`));
  cpSync(join(dir, name), d, { recursive: true, dereference: true });
  return d;
}

function editJson(path: string, edit: (j: Record<string, unknown>) => void): void {
  const j = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  edit(j);
  writeFileSync(path, JSON.stringify(j));
}

describe.each(["sd15", "sdxl"])("single-file %s checkpoint", (name) => {
  it("loads to the diffusers folder's weights, bit for bit (float32 and float16)", () => {
    for (const dtype of ["float32", "float16"] as const) {
      const folder = loadDiffusersFolder(join(dir, name), { dtype });
      const single = loadSingleFile(join(dir, `${name}.safetensors`), { config: join(dir, name), dtype });
      expect(single.kind).toBe(folder.kind);
      expect(single.tokenizer.tokenize("a cat").rows).toEqual(folder.tokenizer.tokenize("a cat").rows);
      for (const [[label, a], [, b]] of components(single).map((c, i) => [c, components(folder)[i]] as const)) expectSameWeights(a, b, `${dtype} ${label}`);
    }
  });

  it("loadComponents takes the folder or the file", () => {
    expect(loadComponents(join(dir, name)).source).toBe(join(dir, name));
    expect(loadComponents(join(dir, `${name}.safetensors`), { config: join(dir, name) }).kind).toBe(name === "sdxl" ? "sdxl" : "sd");
    expect(() => loadComponents(join(dir, `${name}.safetensors`))).toThrow(/pass \{ config: <diffusers folder> \}/);
  });

  it("is detected by its keys", () => {
    const keys = tc.io.loadWeights(join(dir, `${name}.safetensors`)).tensors.keys();
    expect(detectCheckpointKind(keys, "x")).toBe(name === "sdxl" ? "sdxl" : "sd1");
  });
});

describe("bad input", () => {
  it("single files: wrong architecture, no config folder, not a checkpoint", () => {
    expect(() => loadSingleFile(join(dir, "sdxl.safetensors"), { config: join(dir, "sd15") })).toThrow(/sdxl checkpoint but .* StableDiffusionPipeline/);
    expect(() => loadSingleFile(join(dir, "sd15.safetensors"), { config: tmp })).toThrow(/pass \{ config: <diffusers folder> \}/);
    expect(() => loadSingleFile(join(dir, "sd15", "unet", "diffusion_pytorch_model.safetensors"), { config: join(dir, "sd15") }))
      .toThrow(/not a Stable Diffusion checkpoint \(no model\.diffusion_model\.\* keys/);
    expect(() => loadSingleFile(join(dir, "missing.safetensors"), { config: join(dir, "sd15") })).toThrow(/no such file/);
    expect(() => detectCheckpointKind(["model.diffusion_model.x", "conditioner.embedders.0.model.text_projection"], "f")).toThrow(/refiner/);
  });

  it("folders: not a pipeline, unknown pipeline or component class, missing component or weights", () => {
    expect(() => loadDiffusersFolder(join(dir, "nowhere"))).toThrow(/is not a folder/);
    expect(() => loadDiffusersFolder(join(dir, "clip-tokenizer"))).toThrow(/no model_index\.json/);
    const a = copyOf("sd15");
    editJson(join(a, "model_index.json"), (j) => { j._class_name = "FluxPipeline"; });
    expect(() => loadDiffusersFolder(a)).toThrow(/pipeline 'FluxPipeline' is not supported/);
    const b = copyOf("sd15");
    editJson(join(b, "model_index.json"), (j) => { j.unet = ["diffusers", "UNet3DConditionModel"]; });
    expect(() => loadDiffusersFolder(b)).toThrow(/unet is a UNet3DConditionModel; supported: UNet2DConditionModel/);
    const c = copyOf("sd15");
    rmSync(join(c, "vae"), { recursive: true });
    expect(() => loadDiffusersFolder(c)).toThrow(/lists 'vae' in model_index\.json but has no vae\/ folder/);
    const d = copyOf("sd15");
    rmSync(join(d, "unet", "diffusion_pytorch_model.safetensors"));
    writeFileSync(join(d, "unet", "diffusion_pytorch_model.bin"), "");
    expect(() => loadDiffusersFolder(d)).toThrow(/no weights in .*unet.*diffusion_pytorch_model\.bin found: PyTorch pickles are not read/);
    const e = copyOf("sdxl");
    editJson(join(e, "model_index.json"), (j) => { delete j.text_encoder_2; });
    expect(() => loadDiffusersFolder(e)).toThrow(/has no 'text_encoder_2' component/);
  });

  it("configs: unsupported UNet features and mismatched weights are named", () => {
    const a = copyOf("sd15");
    editJson(join(a, "unet", "config.json"), (j) => { j.down_block_types = ["CrossAttnDownBlock2D", "SimpleDownBlock2D"]; });
    expect(() => loadDiffusersFolder(a)).toThrow(/unsupported block types SimpleDownBlock2D/);
    const b = copyOf("sd15");
    editJson(join(b, "unet", "config.json"), (j) => { j.class_embed_type = "timestep"; });
    expect(() => loadDiffusersFolder(b)).toThrow(/class_embed_type = "timestep" is not supported/);
    const c = copyOf("sd15");
    editJson(join(c, "unet", "config.json"), (j) => { j.cross_attention_dim = 16; });
    expect(() => loadDiffusersFolder(c)).toThrow(/unet.*shape mismatch: 'down_blocks\.0\.attentions\.0\.transformer_blocks\.0\.attn2\.to_k\.weight'/);
    const d = copyOf("sd15");
    editJson(join(d, "text_encoder", "config.json"), (j) => { j.hidden_act = "relu"; });
    expect(() => loadDiffusersFolder(d)).toThrow(/hidden_act 'relu' is not supported/);
    expect(() => loadDiffusersFolder(join(dir, "sd15"), { dtype: "int8" as "float32" })).toThrow(/dtype must be/);
  });

  it("model calls: wrong layouts and missing SDXL conditions", () => {
    const p = loadDiffusersFolder(join(dir, "sdxl"));
    const ctx = tc.zeros([1, 77, 16]);
    expect(() => p.unet.forward(tc.zeros([1, 4, 8, 8]), 1, ctx)).toThrow(/channels-last \[B, H, W, 4\]/);
    expect(() => p.unet.forward(tc.zeros([1, 8, 8, 4]), 1, ctx)).toThrow(/pass added conditions/);
    expect(() => p.unet.forward(tc.zeros([1, 8, 8, 4]), [1, 2, 3], ctx)).toThrow(/one value or one per batch item/);
    expect(() => p.vae.encode(tc.zeros([1, 10, 8, 3]))).toThrow(/multiples of 4/);
    expect(() => p.textEncoder.forward(tc.zeros([1, 78], "int32"))).toThrow(/78 tokens is more than max_position_embeddings \(77\)/);
    expect(() => p.tokenizer.tokenize([])).toThrow(/no prompts/);
  });
});
