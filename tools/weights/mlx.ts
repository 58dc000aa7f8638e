// An mlx-community-style 4-bit copy of the HF folder, as mlx-examples' whisper convert.py -q writes
// it: config.json in openai's dims naming with a `quantization` block, weights.safetensors with
// every Linear and the token Embedding quantized by MLX's affine scheme (groups of 64, 4 bits:
// packed uint32 `weight`, float16 `scales` / `biases`), the rest float16, plus `alignment_heads`.
// Uses @tessera/core's nn.quantize (MLX's algorithm), so the native addon must be built.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { io, nn, tensor } from "@tessera/core";
import type { Tensor } from "@tessera/core";
import { loadWhisperModel } from "../../packages/whisper/src/model/load.js";
import { cacheRoot, ensureWhisperBase, isComplete, writeAtomically } from "./whisper-base.js";
import type { EnsureResult } from "./whisper-base.js";

export interface MlxQuantizeOptions {
  bits?: 2 | 3 | 4 | 5 | 6 | 8;
  groupSize?: 32 | 64 | 128;
}

/** Writes the quantized mlx-community folder of the HF Whisper folder `hfDir` into `out`. */
export async function writeMlxQuantized(hfDir: string, out: string, opts: MlxQuantizeOptions = {}): Promise<void> {
  const bits = opts.bits ?? 4, groupSize = opts.groupSize ?? 64;
  const { model, dims, alignmentHeads } = loadWhisperModel(hfDir, { dtype: "float16" });
  nn.quantize(model, { bits, groupSize });
  const weights = new Map<string, Tensor>(Object.entries(model.namedParameters()));
  weights.set("alignment_heads", tensor(alignmentHeads.map(([l, h]) => [l, h]), { dtype: "int32" }));
  await io.saveSafetensors(join(out, "weights.safetensors"), weights);
  const config = { ...dims, model_type: "whisper", quantization: { group_size: groupSize, bits } };
  writeFileSync(join(out, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
}

/** Ensures `<cache>/whisper-base-mlx-4bit` (config.json + weights.safetensors). */
export async function ensureWhisperBaseMlx4bit(): Promise<EnsureResult> {
  const hf = await ensureWhisperBase();
  if ("skipped" in hf) return hf;
  const dir = join(cacheRoot(), "whisper-base-mlx-4bit");
  if (!isComplete(dir)) {
    await writeAtomically(dir, { model: "openai/whisper-base", from: "openai-whisper-base (HF), nn.quantize bits 4 group 64" },
      (tmp) => writeMlxQuantized(hf.dir, tmp));
  }
  return { dir };
}
