// Every architecture against transformers on its tiny random-weight checkpoint
// (tools/reference/gen_lm_models.py): prompt logits, the logits of 20 greedy steps, and the 20 greedy
// tokens of model.generate; chunked prefill (rotating caches across chunk borders) and float16 KV
// caches give the same tokens.
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { generateTokens, loadModelFromFolder } from "../src/index.js";
import { lmFixture, recordingGreedy, relError } from "./fixtures.js";

const FLOAT_SETS = ["gemma3_text", "llama", "qwen2", "qwen3", "mistral", "gemma2", "phi3", "mixtral", "qwen3_moe", "gemma"];

describe.each(FLOAT_SETS)("%s (transformers reference)", (name) => {
  const { dir, ref, promptLogits, stepLogits } = lmFixture(name);
  const { model } = loadModelFromFolder(dir, { dtype: "float32" });
  const vocab = model.vocabSize;

  it("has the reference's model type", () => {
    expect(model.modelType).toBe(ref.model_type);
  });

  it("prompt logits match", () => {
    const logits = tc.tidy(() => model.forward(tc.tensor([ref.prompt], { dtype: "int32" }), model.makeCache({ dtype: "float32" })));
    expect(logits.shape).toEqual([1, ref.prompt.length, vocab]);
    expect(relError(logits.dataSync() as Float32Array, promptLogits)).toBeLessThan(1e-5);
    logits.dispose();
  });

  it("20 greedy tokens and their logits match model.generate (float32 KV cache)", async () => {
    const steps: Float32Array[] = [];
    const r = await generateTokens(model, ref.prompt, { maxTokens: 20, sample: recordingGreedy(steps), kvDtype: "float32" });
    expect(r.tokens).toEqual(ref.tokens);
    expect(r.finishReason).toBe("length");
    for (let i = 0; i < 20; i++) expect(relError(steps[i], stepLogits.subarray(i * vocab, (i + 1) * vocab)), `step ${i}`).toBeLessThan(1e-5);
  });

  it("chunked prefill gives the same tokens", async () => {
    const r = await generateTokens(model, ref.prompt, { maxTokens: 20, prefillChunk: 5, kvDtype: "float32" });
    expect(r.tokens).toEqual(ref.tokens);
  });

  it("a float16 KV cache (the default) stays close", async () => {
    const steps: Float32Array[] = [];
    await generateTokens(model, ref.prompt, { maxTokens: 20, sample: recordingGreedy(steps) });
    // Teacher-forced comparison is not possible here, so only the first step (prompt-only) is compared tightly.
    expect(relError(steps[0], stepLogits.subarray(0, vocab))).toBeLessThan(2e-3);
  });
});
