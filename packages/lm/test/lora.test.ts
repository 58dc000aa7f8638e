// LoRA / DoRA adapters (tools/reference/gen_lm_lora.py: tiny random adapters made with peft on the
// tiny llama) against transformers+peft: prompt logits and 20 greedy tokens, in PEFT's and mlx-lm's
// layouts, stacked, fused into the weights, over MLX-quantized and ggml-block layers; and the
// errors for adapters that do not fit the model.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { fixturesDir } from "../../../test/helpers/reference.js";
import { generateTokens, loadModelFromFolder, loadModelFromGguf } from "../src/index.js";
import type { LanguageModel, LoadModelOptions } from "../src/index.js";
import { lmFixture, recordingGreedy, relError } from "./fixtures.js";

const LM = join(fixturesDir, "lm");
const LORA = join(LM, "lora");
const ref = JSON.parse(readFileSync(join(LORA, "reference.json"), "utf8")) as Record<string, { tokens: number[] }> & { prompt: number[]; base_tokens: number[] };
const arrays = tc.io.loadSafetensors(join(LORA, "reference.safetensors")).tensors;
const expected = (k: string) => Float32Array.from(arrays.get(k)!.dataSync() as Float32Array);
const adapter = (name: string) => join(LORA, name);

function promptLogits(model: LanguageModel): Float32Array {
  const logits = tc.tidy(() => model.forward(tc.tensor([ref.prompt], { dtype: "int32" }), model.makeCache({ dtype: "float32" })));
  const out = Float32Array.from(logits.dataSync() as Float32Array);
  logits.dispose();
  return out;
}

async function greedy(model: LanguageModel): Promise<{ tokens: number[]; steps: Float32Array[] }> {
  const steps: Float32Array[] = [];
  const r = await generateTokens(model, ref.prompt, { maxTokens: 20, sample: recordingGreedy(steps), kvDtype: "float32" });
  return { tokens: r.tokens, steps };
}

function load(opts: LoadModelOptions, folder = "llama"): LanguageModel {
  return loadModelFromFolder(join(LM, folder), { dtype: "float32", ...opts }).model;
}

// [name, reference set, load options]
const CASES: [string, string, LoadModelOptions][] = [
  ["PEFT LoRA (every projection)", "lora", { adapters: [adapter("peft-lora")] }],
  ["PEFT LoRA fused into the weights", "lora", { adapters: [adapter("peft-lora")], fuseAdapters: true }],
  ["mlx-lm LoRA (num_layers 1, q/v/down)", "mlx_lora", { adapters: [adapter("mlx-lora")] }],
  ["mlx-lm LoRA fused", "mlx_lora", { adapters: [adapter("mlx-lora")], fuseAdapters: true }],
  ["PEFT and mlx-lm adapters stacked", "stacked", { adapters: [adapter("peft-lora"), adapter("mlx-lora")] }],
  ["stacked and fused", "stacked", { adapters: [adapter("peft-lora"), adapter("mlx-lora")], fuseAdapters: true }],
  ["PEFT DoRA", "dora", { adapters: [adapter("peft-dora")] }],
  ["mlx-lm DoRA", "dora", { adapters: [adapter("mlx-dora")] }],
  ["DoRA fused", "dora", { adapters: [adapter("mlx-dora")], fuseAdapters: true }],
];

describe.each(CASES)("%s", (_, set, opts) => {
  const model = load(opts);
  const vocab = model.vocabSize;

  it("prompt logits match transformers+peft", () => {
    expect(relError(promptLogits(model), expected(`${set}_prompt_logits`))).toBeLessThan(1e-5);
  });

  it("20 greedy tokens and their logits match transformers+peft", async () => {
    const { tokens, steps } = await greedy(model);
    expect(tokens).toEqual(ref[set].tokens);
    const want = expected(`${set}_step_logits`);
    for (let i = 0; i < 20; i++) expect(relError(steps[i], want.subarray(i * vocab, (i + 1) * vocab)), `step ${i}`).toBeLessThan(1e-5);
  });
});

describe("adapters over quantized layers", () => {
  it("run time over MLX 4-bit layers: transformers+peft on the dequantized weights", async () => {
    const model = load({ adapters: [adapter("peft-lora")] }, "llama-mlx-4bit");
    // As quantized.test.ts: 4-bit weights' float16 scales leave 1e-3 against the unrounded reference.
    expect(relError(promptLogits(model), expected("lora_mlx4_prompt_logits"))).toBeLessThan(1e-3);
    expect((await greedy(model)).tokens).toEqual(ref.lora_mlx4.tokens);
    const fused = load({ adapters: [adapter("peft-lora")], fuseAdapters: true }, "llama-mlx-4bit");
    expect(relError(promptLogits(fused), expected("lora_mlx4_prompt_logits"))).toBeLessThan(1e-3);
  });

  it("the adapter keeps the base layers as they are (ggml blocks, packed weights) at run time", () => {
    const gguf = loadModelFromGguf(join(LM, "gguf", "llama-Q8_0.gguf"), { adapters: [adapter("peft-lora")] }).model as unknown as tc.nn.Module;
    const adapted = gguf.namedModules().filter(([, m]) => tc.nn.isLowRankTarget(m) && tc.nn.lowRankOf(m).length > 0);
    expect(adapted.length).toBe(14);
    expect(adapted.every(([, m]) => m instanceof tc.nn.GgmlLinear)).toBe(true);
  });

  it("GGUF F16 with the adapter gives transformers+peft's tokens (its weights are the checkpoint's)", async () => {
    const { model } = loadModelFromGguf(join(LM, "gguf", "llama-F16.gguf"), { adapters: [adapter("peft-lora")] });
    expect(relError(promptLogits(model), expected("lora_prompt_logits"))).toBeLessThan(1e-4);
    expect((await greedy(model)).tokens).toEqual(ref.lora.tokens);
  });

  it("over Q8_0 blocks: close to the float result, far from the base model's (run time and fused)", () => {
    const want = expected("lora_prompt_logits");
    const base = promptLogits(loadModelFromGguf(join(LM, "gguf", "llama-Q8_0.gguf")).model);
    const baseErr = relError(base, want);
    // The same file without the adapter against the float model: Q8_0's own error.
    const q8Err = relError(base, lmFixture("llama").promptLogits);
    for (const fuseAdapters of [false, true]) {
      const { model } = loadModelFromGguf(join(LM, "gguf", "llama-Q8_0.gguf"), { adapters: [adapter("peft-lora")], fuseAdapters });
      const err = relError(promptLogits(model), want);
      // Measured: 0.037 for both, as the file's own error (0.037); the adapter moves logits by 1.7.
      expect(err, `fuseAdapters ${fuseAdapters}`).toBeLessThan(1.5 * q8Err);
      expect(baseErr).toBeGreaterThan(10 * err);
    }
  });
});

describe("adapters that do not fit", () => {
  const tmp = mkdtempSync(join(tmpdir(), "tessera-lora-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  // A copy of an adapter folder with its config edited.
  const edited = async (name: string, edit: (cfg: Record<string, unknown>) => void, tensors?: Map<string, tc.Tensor>): Promise<string> => {
    const dir = join(tmp, `${name}-${Math.random().toString(36).slice(2)}`);
    cpSync(adapter(name), dir, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    edit(cfg);
    writeFileSync(join(dir, "adapter_config.json"), JSON.stringify(cfg));
    if (tensors) await tc.io.saveSafetensors(join(dir, name.startsWith("mlx") ? "adapters.safetensors" : "adapter_model.safetensors"), tensors);
    return dir;
  };
  const failsWith = async (dir: Promise<string>, message: RegExp) => {
    const d = await dir;
    expect(() => load({ adapters: [d] })).toThrow(message);
  };
  const peftTensors = () => new Map(tc.io.loadSafetensors(join(adapter("peft-lora"), "adapter_model.safetensors")).tensors);

  it("a base model with other sizes (qwen3: head_dim 32)", () => {
    expect(() => load({ adapters: [adapter("peft-lora")] }, "qwen3")).toThrow(/k_proj maps 64 -> 32 features but the model's layer maps 64 -> 64: an adapter for another base model \(its config names the base model "test\/fixtures\/lm\/llama"\)/);
  });

  it("keys that match no layer", async () => {
    const t = peftTensors();
    const k = [...t.keys()][0];
    t.set(k.replace("layers.0", "layers.7"), t.get(k)!);
    t.set(k.replace("layers.0", "layers.7").replace("lora_A", "lora_B"), t.get(k.replace("lora_A", "lora_B"))!);
    await failsWith(edited("peft-lora", () => {}, t), /model\.layers\.7\.mlp\.down_proj matches no layer of this llama model/);
  });

  it("a key on a layer that is not a projection", async () => {
    const t = peftTensors();
    const a = [...t.entries()].find(([k]) => k.includes("layers.0.mlp.down_proj.lora_A"))!;
    t.set("base_model.model.model.layers.0.input_layernorm.lora_A.weight", a[1]);
    t.set("base_model.model.model.layers.0.input_layernorm.lora_B.weight", t.get(a[0].replace("lora_A", "lora_B"))!);
    await failsWith(edited("peft-lora", () => {}, t), /input_layernorm is a RMSNorm, not a linear projection/);
  });

  it("a rank that contradicts the config", async () => {
    await failsWith(edited("peft-lora", (c) => { c.r = 8; }), /do not have the configured rank 8/);
    await failsWith(edited("mlx-lora", (c) => { (c.lora_parameters as Record<string, unknown>).rank = 2; }), /do not have lora_parameters\.rank 2/);
  });

  it("mlx-lm's num_layers against the model's layers", async () => {
    await failsWith(edited("mlx-lora", (c) => { c.num_layers = 4; }), /num_layers is 4 but the model has 2 layers/);
    await failsWith(edited("mlx-dora", (c) => { c.num_layers = 1; }), /model\.layers\.0\.self_attn\.q_proj is outside the last num_layers \(1\)/);
  });

  it("tensors that are not LoRA weights, a lone lora_A, an unsupported PEFT type, a missing folder", async () => {
    const t = peftTensors();
    t.set("base_model.model.lm_head.weight", [...t.values()][0]);
    await failsWith(edited("peft-lora", () => {}, t), /tensors that are not LoRA weights.*lm_head\.weight/);
    const lone = peftTensors();
    for (const k of [...lone.keys()]) if (k.includes("layers.1.self_attn.o_proj.lora_B")) lone.delete(k);
    await failsWith(edited("peft-lora", () => {}, lone), /layers\.1\.self_attn\.o_proj has lora_A but no lora_B/);
    await failsWith(edited("peft-lora", (c) => { c.peft_type = "IA3"; }), /peft_type "IA3" is not supported/);
    expect(() => load({ adapters: [join(tmp, "nothing")] })).toThrow(/no such folder/);
    expect(() => load({ adapters: [LM] })).toThrow(/no adapter_config\.json/);
  });
});
