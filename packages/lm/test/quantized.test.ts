// mlx-community-style MLX-quantized checkpoints (mlx.core.quantize's packed weights, 4- and 8-bit,
// the 8-bit ones sharded with an index) against transformers on the dequantized weights.
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { generateTokens, loadModelFromFolder } from "../src/index.js";
import { lmFixture, recordingGreedy, relError } from "./fixtures.js";

const SETS = ["gemma3_text", "llama", "qwen3"].flatMap((a) => [`${a}-mlx-4bit`, `${a}-mlx-8bit`]);

describe.each(SETS)("%s", (name) => {
  const { dir, ref, promptLogits, stepLogits } = lmFixture(name);
  const loaded = loadModelFromFolder(dir, { dtype: "float32" });
  const model = loaded.model;
  const bits = Number(/(\d)bit/.exec(name)![1]);
  // 4-bit matmuls round activations to int16 per 32 values (ARCHITECTURE.md "Quantization"); 8-bit ones are float.
  const tol = bits === 4 ? 1e-3 : 1e-5;

  it("keeps the weights packed", () => {
    expect(loaded.quantization).toEqual({ bits, groupSize: 64 });
    const layers = model.modules().filter((m) => m instanceof tc.nn.QuantizedLinear) as tc.nn.QuantizedLinear[];
    expect(layers.length).toBeGreaterThan(0);
    for (const l of layers) expect([l.bits, l.weight.dtype]).toEqual([bits, "uint32"]);
    expect(model.modules().some((m) => m instanceof tc.nn.QuantizedEmbedding)).toBe(true);
  });

  it("prompt logits and 20 greedy tokens match the dequantized reference", async () => {
    const logits = tc.tidy(() => model.forward(tc.tensor([ref.prompt], { dtype: "int32" }), model.makeCache({ dtype: "float32" })));
    expect(relError(logits.dataSync() as Float32Array, promptLogits)).toBeLessThan(tol);
    logits.dispose();
    const steps: Float32Array[] = [];
    const r = await generateTokens(model, ref.prompt, { maxTokens: 20, sample: recordingGreedy(steps), kvDtype: "float32" });
    expect(r.tokens).toEqual(ref.tokens);
    const v = model.vocabSize;
    for (let i = 0; i < 20; i++) expect(relError(steps[i], stepLogits.subarray(i * v, (i + 1) * v)), `step ${i}`).toBeLessThan(tol);
  });
});
