// Putting adapters on a loaded model: each adapter layer's module path is looked up in the model's
// tree and the adapter is set as a run-time low-rank update of the projection there (core's
// nn.setLowRank, over float, MLX-quantized or ggml-block weights; stacked adapters add updates), or,
// with `fuse`, the projection is replaced by a float Linear holding the adapted weight (nn.fusedLinear). Every mismatch between an
// adapter and the model is an error naming both: paths that match no layer, layers that are not
// projections, input/output sizes, mlx-lm's num_layers against the model's layer count.
import { nn } from "@tessera/core";
import type { LanguageModel } from "../models/base.js";
import type { Adapter, AdapterLayer } from "./adapter.js";

/** Whether `m` is a projection adapters apply to (Linear, MLX-quantized, ggml blocks). */
function isAdaptable(m: unknown): m is nn.LinearTarget {
  return m instanceof nn.Linear || m instanceof nn.QuantizedLinear || m instanceof nn.GgmlLinear;
}

type Node = Record<string, unknown>;

// The holder of `path`'s last part and that part (arrays indexed by number), or undefined.
function locate(root: nn.Module, path: string): { holder: Node; key: string } | undefined {
  const parts = path.split(".");
  let node: unknown = root;
  for (const p of parts.slice(0, -1)) {
    if (node === null || typeof node !== "object" || p.startsWith("_") || !Object.hasOwn(node, p)) return undefined;
    node = (node as Node)[p];
  }
  const key = parts[parts.length - 1];
  if (node === null || typeof node !== "object" || key.startsWith("_") || !Object.hasOwn(node, key)) return undefined;
  return { holder: node as Node, key };
}

function baseHint(adapter: Adapter): string {
  return adapter.baseModel ? ` (its config names the base model ${JSON.stringify(adapter.baseModel)})` : "";
}

// Module paths of the model's projections, a few of them, for "matches no layer" messages.
function someLayers(model: nn.Module): string {
  const names = model.namedModules().filter(([, m]) => isAdaptable(m)).map(([n]) => n);
  return names.slice(0, 4).join(", ") + (names.length > 4 ? ", ..." : "");
}

function checkNumLayers(model: LanguageModel, adapter: Adapter): void {
  if (adapter.numLayers === undefined) return;
  if (adapter.numLayers > model.numLayers)
    throw new Error(`adapter ${adapter.source}: num_layers is ${adapter.numLayers} but the model has ${model.numLayers} layers: an adapter for another base model${baseHint(adapter)}?`);
  const first = model.numLayers - adapter.numLayers;
  for (const path of adapter.layers.keys()) {
    const m = /(?:^|\.)layers\.(\d+)\./.exec(path);
    if (m && Number(m[1]) < first)
      throw new Error(`adapter ${adapter.source}: ${path} is outside the last num_layers (${adapter.numLayers}) of the model's ${model.numLayers} layers: an adapter for another base model${baseHint(adapter)}?`);
  }
}

function checkLayer(adapter: Adapter, path: string, layer: AdapterLayer, target: unknown): void {
  if (!isAdaptable(target)) {
    const kind = target instanceof nn.Module ? target.constructor.name : typeof target;
    throw new Error(`adapter ${adapter.source}: ${path} is a ${kind}, not a linear projection (adapters apply to Linear, MLX-quantized and ggml-block projections)`);
  }
  const [out, inputs] = nn.weightShape(target);
  if (layer.a.shape[0] !== inputs || layer.b.shape[1] !== out)
    throw new Error(`adapter ${adapter.source}: ${path} maps ${layer.a.shape[0]} -> ${layer.b.shape[1]} features but the model's layer maps ${inputs} -> ${out}: an adapter for another base model${baseHint(adapter)}?`);
}

/**
 * Applies `adapters` to `model` in order, in place: a low-rank path beside each adapted projection
 * (run time), or with `fuse` the update folded into a float weight. Call before the model's fuse()
 * (joined q/k/v and gate/up projections are only formed from plain layers).
 */
export function applyAdapters(model: LanguageModel, adapters: readonly Adapter[], opts: { fuse?: boolean } = {}): void {
  // Every adapter is checked against the model before any layer changes.
  const plan: { adapter: Adapter; path: string; layer: AdapterLayer; holder: Node; key: string }[] = [];
  for (const adapter of adapters) {
    checkNumLayers(model, adapter);
    for (const [path, layer] of adapter.layers) {
      const at = locate(model, path);
      if (!at) throw new Error(`adapter ${adapter.source}: ${path} matches no layer of this ${model.modelType} model (its layers are named like ${someLayers(model)})${baseHint(adapter)}`);
      checkLayer(adapter, path, layer, at.holder[at.key]);
      plan.push({ adapter, path, layer, ...at });
    }
  }
  // Updates are kept and computed in float32 (the result cast to the layer's output dtype).
  for (const { adapter, path, layer, holder, key } of plan) {
    const target = holder[key] as nn.LinearTarget;
    const update: nn.LowRankUpdate = { down: layer.a.T, up: layer.b.T, scale: layer.scale, ...(layer.magnitude ? { magnitude: layer.magnitude } : {}) };
    nn.setLowRank(target, [...nn.lowRankOf(target), update], `adapter ${adapter.source}: ${path}`, { float32: true });
  }
  if (!opts.fuse) return;
  // Each adapted layer folds all of its adapters at once.
  const done = new Set<unknown>();
  for (const { holder, key } of plan) {
    const m = holder[key] as nn.LinearTarget;
    if (done.has(m)) continue;
    done.add(m);
    holder[key] = nn.fusedLinear(m);
  }
}
