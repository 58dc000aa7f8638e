// Loading: folders, single files, older MoE key layouts, and the errors for bad input.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { SUPPORTED_MODEL_TYPES, buildModel, generateTokens, loadModelFromFolder } from "../src/index.js";
import { lmFixture } from "./fixtures.js";

const tmp = mkdtempSync(join(tmpdir(), "lm-load-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function folderWith(name: string, config: Record<string, unknown>, from = "llama"): string {
  const dir = join(tmp, name);
  const src = lmFixture(from).dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  copyFileSync(join(src, "model.safetensors"), join(dir, "model.safetensors"));
  return dir;
}

describe("loadModelFromFolder", () => {
  const llama = lmFixture("llama");
  const config = JSON.parse(readFileSync(join(llama.dir, "config.json"), "utf8")) as Record<string, unknown>;

  it("takes a weights file inside the folder", () => {
    const { model } = loadModelFromFolder(join(llama.dir, "model.safetensors"));
    expect(model.modelType).toBe("llama");
    expect(model.dtype).toBe("float16");
  });

  it("names the supported model types for an unknown one", () => {
    const dir = folderWith("unknown", { ...config, model_type: "gpt_bigcode" });
    expect(() => loadModelFromFolder(dir)).toThrow(new RegExp(`model_type "gpt_bigcode" is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(", ")}`));
  });

  it("names a bad config value", () => {
    const dir = folderWith("badcfg", { ...config, num_key_value_heads: 3 });
    expect(() => loadModelFromFolder(dir)).toThrow(/num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/);
  });

  it("names missing and mismatched weights", () => {
    const dir = folderWith("missing", { ...config, num_hidden_layers: 3 });
    expect(() => loadModelFromFolder(dir)).toThrow(/missing keys: model\.layers\.2\./);
    const wide = folderWith("wide", { ...config, intermediate_size: 256 });
    expect(() => loadModelFromFolder(wide)).toThrow(/mlp\.gate_proj\.weight' expects shape \[256, 64\] but the weight has \[128, 64\]/);
  });

  it("says what is missing in a folder without config.json", () => {
    expect(() => loadModelFromFolder(tmp)).toThrow(/no config\.json/);
    expect(() => loadModelFromFolder(join(tmp, "nope"))).toThrow(/no such file or folder/);
  });
});

describe("older Mixtral checkpoints (per-expert w1 / w2 / w3)", () => {
  it("load to the same logits", () => {
    const { dir } = lmFixture("mixtral");
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    const fused = tc.io.loadWeights(dir).tensors;
    const legacy = new Map<string, tc.Tensor>();
    for (const [k, w] of fused) {
      const m = /^(.*)\.mlp\.experts\.(gate_up_proj|down_proj)$/.exec(k);
      if (!m) {
        legacy.set(k.replace(".mlp.gate.", ".block_sparse_moe.gate."), w);
        continue;
      }
      const e = w.shape[0];
      for (let i = 0; i < e; i++) {
        const one = tc.index(w, i);
        if (m[2] === "down_proj") legacy.set(`${m[1]}.block_sparse_moe.experts.${i}.w2.weight`, one);
        else {
          const [g, u] = tc.split(one, 2, 0);
          legacy.set(`${m[1]}.block_sparse_moe.experts.${i}.w1.weight`, g);
          legacy.set(`${m[1]}.block_sparse_moe.experts.${i}.w3.weight`, u);
        }
      }
    }
    const a = loadModelFromFolder(dir, { dtype: "float32" }).model;
    const b = buildModel(config, legacy, { source: "legacy", dtype: "float32" });
    const ids = tc.tensor([[5, 9, 300, 17]], { dtype: "int32" });
    expect(Array.from(b.forward(ids).dataSync() as Float32Array)).toEqual(Array.from(a.forward(ids).dataSync() as Float32Array));
  });
});

describe("generateTokens input checks", () => {
  const { model } = loadModelFromFolder(lmFixture("llama").dir);
  it("rejects a prompt longer than the context", async () => {
    await expect(generateTokens(model, Array(256).fill(5))).rejects.toThrow(/does not fit the model's context of 256 tokens/);
  });
  it("rejects ids outside the vocabulary and bad options", async () => {
    await expect(generateTokens(model, [1, 512])).rejects.toThrow(/prompt token 512 is not an id/);
    await expect(generateTokens(model, [])).rejects.toThrow(/non-empty array/);
    await expect(generateTokens(model, [1], { maxTokens: -1 })).rejects.toThrow(/maxTokens/);
  });
  it("stops at an end id, on abort, and at maxTokens", async () => {
    const ref = lmFixture("llama").ref;
    const stop = await generateTokens(model, ref.prompt, { maxTokens: 20, eosIds: [ref.tokens[3]] });
    expect(stop).toMatchObject({ tokens: ref.tokens.slice(0, 3), finishReason: "stop", promptTokens: ref.prompt.length });
    const ac = new AbortController();
    const aborted = await generateTokens(model, ref.prompt, { maxTokens: 20, signal: ac.signal, onToken: (_, i) => { if (i === 1) ac.abort(); } });
    expect(aborted).toMatchObject({ tokens: ref.tokens.slice(0, 2), finishReason: "abort" });
    const short = await generateTokens(model, ref.prompt, { maxTokens: 4 });
    expect(short).toMatchObject({ tokens: ref.tokens.slice(0, 4), finishReason: "length" });
  });
});

describe("fused q/k/v and gate/up projections", () => {
  it.each(["llama", "gemma3_text", "qwen2", "llama-mlx-4bit", "qwen3-mlx-8bit"])("%s: same logits as the separate layers, weights held once", (name) => {
    const dir = lmFixture(name).dir;
    const fused = loadModelFromFolder(dir, { dtype: "float32" }).model;
    const plain = loadModelFromFolder(dir, { dtype: "float32", fuse: false }).model;
    const attn = (m: unknown) => (m as { model: { layers: { self_attn: { _qkv?: unknown; q_proj: { weight: tc.Tensor } }; mlp: { _gateUp?: unknown } }[] } }).model.layers[0];
    expect(attn(fused).self_attn._qkv).toBeDefined();
    expect(attn(fused).mlp._gateUp).toBeDefined();
    expect(attn(plain).self_attn._qkv).toBeUndefined();
    // The checkpoint-named weight is a view of the joined one.
    expect(attn(fused).self_attn.q_proj.weight.shape).toEqual(attn(plain).self_attn.q_proj.weight.shape);
    const ids = tc.tensor([[5, 9, 300, 17, 44]], { dtype: "int32" });
    const a = fused.forward(ids, fused.makeCache({ dtype: "float32" })).dataSync() as Float32Array;
    const b = plain.forward(ids, plain.makeCache({ dtype: "float32" })).dataSync() as Float32Array;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-4);
  });
});
