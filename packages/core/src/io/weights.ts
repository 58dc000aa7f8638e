// loadWeights: one entry point for a model folder or a weights file.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { WeightsFileError } from "./mapped.js";
import { readNpz } from "./npz.js";
import { loadSafetensors, loadSafetensorsIndex } from "./safetensors.js";
import type { Weights } from "./safetensors.js";

/**
 * Loads the weights of a model folder or file: a `.safetensors` file, a `*.safetensors.index.json`,
 * a `.npz`, or a folder holding `model.safetensors`, `model.safetensors.index.json`, or else
 * `*.safetensors` files (loaded together). Safetensors tensors view the mapped files (no copies).
 */
export function loadWeights(path: string): Weights {
  if (!existsSync(path)) throw new WeightsFileError(path, "no such file or folder");
  if (!statSync(path).isDirectory()) {
    if (path.endsWith(".index.json")) return loadSafetensorsIndex(path);
    if (path.endsWith(".safetensors")) return loadSafetensors(path);
    if (path.endsWith(".npz")) return readNpz(path);
    if (path.endsWith(".gguf")) throw new WeightsFileError(path, "GGUF files keep quantized blocks: read them with io.readGGUF()");
    throw new WeightsFileError(path, "unknown weights format (expected .safetensors, .safetensors.index.json or .npz)");
  }
  const single = join(path, "model.safetensors");
  if (existsSync(single)) return loadSafetensors(single);
  const index = join(path, "model.safetensors.index.json");
  if (existsSync(index)) return loadSafetensorsIndex(index);
  const files = readdirSync(path).filter((f) => f.endsWith(".safetensors")).sort();
  if (!files.length)
    throw new WeightsFileError(path, "no weights found: expected model.safetensors, model.safetensors.index.json or *.safetensors files");
  const out: Weights = { tensors: new Map(), metadata: {} };
  for (const f of files) {
    const w = loadSafetensors(join(path, f));
    for (const [n, t] of w.tensors) {
      if (out.tensors.has(n)) throw new WeightsFileError(join(path, f), `tensor '${n}' also appears in another file of ${path}`);
      out.tensors.set(n, t);
    }
    for (const [k, v] of Object.entries(w.metadata)) out.metadata[k] ??= v;
  }
  return out;
}
