// Reading the tiny LLM fixtures of tools/reference/gen_lm_models.py, and comparing logits.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tc from "@tessera/core";
import { fixturesDir } from "../../../test/helpers/reference.js";
import type { GenerateSampler as Sampler } from "../src/index.js";

interface Reference {
  model_type: string;
  prompt: number[];
  tokens: number[];
  min_margin: number;
}

export function lmFixture(name: string) {
  const dir = join(fixturesDir, "lm", name);
  const ref = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8")) as Reference;
  const arrays = tc.io.loadSafetensors(join(dir, "reference.safetensors")).tensors;
  const get = (k: string) => Float32Array.from(arrays.get(k)!.dataSync() as Float32Array);
  return { dir, ref, promptLogits: get("prompt_logits"), stepLogits: get("step_logits") };
}

/** Largest |a - e| relative to the largest |e|. */
export function relError(a: Float32Array, e: Float32Array): number {
  let err = 0, scale = 0;
  for (let i = 0; i < e.length; i++) {
    err = Math.max(err, Math.abs(a[i] - e[i]));
    scale = Math.max(scale, Math.abs(e[i]));
  }
  return err / scale;
}

/** A greedy sampler that records each step's logits. */
export function recordingGreedy(out: Float32Array[]): Sampler {
  return (v) => {
    out.push(Float32Array.from(v));
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
    return best;
  };
}

