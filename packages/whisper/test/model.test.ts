// The Whisper model against transformers on tiny random checkpoints in three layouts
// (fixtures from tools/reference/gen_whisper_model.py).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { expectClose, fixturesDir, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";
import {
  Whisper, decodeAlignmentHeads, defaultAlignmentHeads, loadWhisperModel, officialAlignmentHeads, officialModelName,
} from "../src/model/index.js";
import type { ModelDimensions } from "../src/model/index.js";

interface ModelRef {
  dims: ModelDimensions;
  alignment_heads?: [number, number][];
  mel: RefArray;
  tokens: number[];
  encoder: RefArray;
  cross_attentions: RefArray[];
  logsumexp: RefArray;
  argmax: number[];
  logits: RefArray;
  logit_ids?: number[];
}
type Refs = Record<string, ModelRef> & { official_heads: Record<string, [number, number][]> };

const refs = loadFixture<Refs>("whisper/models/reference.json");
const dir = join(fixturesDir, "whisper", "models");
const tmp = mkdtempSync(join(tmpdir(), "tessera-whisper-model-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The fixture's mel is transformers' [1, n_mels, frames]; ours is channels-last.
const melOf = (r: ModelRef) => tc.transpose(fromRef(r.mel), [0, 2, 1]);
const tol = { rtol: 2e-4, atol: 2e-4 };
const GGML_Q8_TOL = { rtol: 5e-2, atol: 2e-2 };

// Row statistics over the last axis, in JS (float64).
function rows(t: tc.Tensor): Float32Array[] {
  const n = t.shape[t.ndim - 1];
  const d = t.astype("float32").dataSync() as Float32Array;
  return Array.from({ length: d.length / n }, (_, i) => d.subarray(i * n, (i + 1) * n));
}
const argmaxRows = (t: tc.Tensor) => rows(t).map((r) => r.indexOf(Math.max(...r)));
function logsumexpRows(t: tc.Tensor): RefArray {
  const data = rows(t).map((r) => {
    const m = Math.max(...r);
    return m + Math.log(r.reduce((s, x) => s + Math.exp(x - m), 0));
  });
  return { shape: [data.length], dtype: "float32", data };
}
function maxAbsDiff(a: tc.Tensor, b: tc.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.astype("float32").dataSync() as Float32Array, y = b.astype("float32").dataSync() as Float32Array;
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
}

function checkAgainstReference(m: Whisper, r: ModelRef, label: string, t = tol) {
  const features = m.embedAudio(melOf(r));
  expectClose(features.astype("float32"), r.encoder, { ...t, label: `${label} encoder` });
  const nHead = r.dims.n_text_head;
  const heads = Array.from({ length: r.dims.n_text_layer * nHead }, (_, i): [number, number] => [Math.floor(i / nHead), i % nHead]);
  const out = m.decode([r.tokens], features, { alignmentHeads: heads });
  const logits = r.logit_ids ? tc.take(out.logits, tc.tensor(r.logit_ids, { dtype: "int32" }), 2) : out.logits;
  expectClose(tc.squeeze(logits, 0), r.logits, { ...t, atol: t.atol * 10, label: `${label} logits` });
  expectClose(tc.tensor(logsumexpRows(out.logits).data as number[]), r.logsumexp, { ...t, atol: t.atol * 10, label: `${label} logsumexp` });
  expect(argmaxRows(out.logits), `${label} argmax`).toEqual(r.argmax);
  // Per-layer [1, H, L, S] from transformers; ours stacks the asked heads in order.
  const expected = tc.concatenate(r.cross_attentions.map(fromRef), 1);
  const e = { shape: expected.shape.slice(), dtype: "float32" as const, data: Array.from(expected.dataSync() as Float32Array) };
  expectClose(out.crossAttention!, e, { ...t, label: `${label} cross-attention` });
}

describe("tiny model in three layouts", () => {
  const r = refs.tiny;
  const layouts = {
    huggingface: join(dir, "tiny-hf"),
    mlx: join(dir, "tiny-mlx"),
    ggml: join(dir, "tiny-ggml.bin"),
  } as const;

  for (const [layout, path] of Object.entries(layouts)) {
    it(`${layout}: encoder output, logits and cross-attention match transformers`, () => {
      const loaded = loadWhisperModel(path, { dtype: "float32" });
      expect(loaded.layout).toBe(layout);
      expect(loaded.dims).toEqual(r.dims);
      expect(loaded.model.dtype).toBe("float32");
      checkAgainstReference(loaded.model, r, layout);
    });
  }

  it("the three layouts hold the same model: identical logits", () => {
    const outs = Object.values(layouts).map((p) => {
      const m = loadWhisperModel(p, { dtype: "float32" }).model;
      return m.logits([r.tokens], m.embedAudio(melOf(r)));
    });
    for (const o of outs.slice(1)) expect(maxAbsDiff(o, outs[0])).toBeLessThan(1e-5);
  });

  it("alignment heads: generation_config.json, MLX weights, else the last half of the layers", () => {
    const hf = loadWhisperModel(layouts.huggingface, { dtype: "float32" });
    expect(hf.alignmentHeads).toEqual(r.alignment_heads);
    expect(hf.alignmentHeadsSource).toBe("generation_config.json");
    const mlx = loadWhisperModel(layouts.mlx, { dtype: "float32" });
    expect(mlx.alignmentHeads).toEqual(r.alignment_heads);
    expect(mlx.alignmentHeadsSource).toBe("weights");
    const ggml = loadWhisperModel(layouts.ggml, { dtype: "float32" });
    expect(ggml.alignmentHeads).toEqual([[1, 0], [1, 1]]);
    expect(ggml.alignmentHeadsSource).toBe("default");
  });

  it("returns tokenizer files beside the weights, and ggml's vocabulary and mel filters", () => {
    const hf = loadWhisperModel(layouts.huggingface, { dtype: "float32" });
    expect(Object.keys(hf.tokenizerFiles.files)).toEqual(["generation_config.json"]);
    const ggml = loadWhisperModel(layouts.ggml, { dtype: "float32" });
    expect(ggml.tokenizerFiles.ggmlVocab?.length).toBe(256);
    expect(ggml.melFilters?.shape).toEqual([80, 201]);
  });

  it("loads a weights file given instead of its folder, and mlx weights.safetensors", async () => {
    const viaFile = loadWhisperModel(join(layouts.mlx, "weights.npz"), { dtype: "float32" });
    expect(viaFile.layout).toBe("mlx");
    const folder = join(tmp, "mlx-safetensors");
    mkdirSync(folder);
    copyFileSync(join(layouts.mlx, "config.json"), join(folder, "config.json"));
    await tc.io.saveSafetensors(join(folder, "weights.safetensors"), tc.io.readNpz(join(layouts.mlx, "weights.npz")).tensors);
    const st = loadWhisperModel(folder, { dtype: "float32" });
    checkAgainstReference(st.model, r, "mlx safetensors");
  });

  it("computes in the checkpoint's dtype by default: a float16 file stays float16, float32 on request", async () => {
    for (const path of [layouts.huggingface, layouts.mlx, layouts.ggml]) {
      const stored = loadWhisperModel(path).model;
      expect(stored.dtype, path).toBe("float16");
      expect(stored.encoder.conv1.weight.dtype, path).toBe("float16");
      expect(loadWhisperModel(path, { dtype: "float32" }).model.encoder.conv1.weight.dtype, path).toBe("float32");
    }
    // A float32 file stays float32.
    const folder = join(tmp, "f32-hf");
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(layouts.huggingface, "config.json"), join(folder, "config.json"));
    const wide = new Map([...tc.io.loadSafetensors(join(layouts.huggingface, "model.safetensors")).tensors].map(([k, t]) => [k, tc.astype(t, "float32")]));
    await tc.io.saveSafetensors(join(folder, "model.safetensors"), wide);
    expect(loadWhisperModel(folder).model.dtype).toBe("float32");
    expect(() => loadWhisperModel(folder, { dtype: "int8" as never })).toThrow(/dtype must be float32, float16 or bfloat16, got int8/);
  });

  it("float16 weights stay close to the float32 reference", () => {
    const m = loadWhisperModel(layouts.huggingface, { dtype: "float16" }).model;
    expect(m.dtype).toBe("float16");
    const out = m.logits([r.tokens], m.embedAudio(melOf(r)));
    expect(out.dtype).toBe("float32");
    expectClose(tc.tensor(logsumexpRows(out).data as number[]), r.logsumexp, { rtol: 2e-2, atol: 5e-2, label: "float16 logsumexp" });
  });
});

describe("float16 token table for the logits of a float32 model", () => {
  it("keeps the checkpoint's float16 table and gives the float32 table's logits", () => {
    const m = loadWhisperModel(join(dir, "tiny-hf"), { dtype: "float32" }).model;
    expect(m.decoder._halfTable?.dtype).toBe("float16");
    expect(m.decoder.token_embedding.weight.dtype).toBe("float32");
    const features = tc.random.normal([1, m.dims.n_audio_ctx, m.dims.n_audio_state], { key: tc.random.key(3) });
    const tokens = [[50258, 50259, 50359, 440, 1029]];
    const half = m.logits(tokens, features);
    const saved = m.decoder._halfTable;
    m.decoder._halfTable = undefined;
    const full = m.logits(tokens, features);
    m.decoder._halfTable = saved;
    expect(tc.max(tc.abs(tc.subtract(half, full))).item()).toBeLessThan(1e-5);
    // A float16 model uses its own table; a float32 checkpoint keeps none.
    expect(loadWhisperModel(join(dir, "tiny-hf"), { dtype: "float16" }).model.decoder._halfTable).toBeUndefined();
  });
});

describe("English-only model with 128 mel bins", () => {
  it("matches transformers", () => {
    const loaded = loadWhisperModel(join(dir, "en128-hf"), { dtype: "float32" });
    expect(loaded.dims).toEqual(refs.en128.dims);
    expect(loaded.model.isMultilingual).toBe(false);
    expect(loaded.alignmentHeads).toEqual(refs.en128.alignment_heads);
    checkAgainstReference(loaded.model, refs.en128, "en128");
  });
});

describe("quantized checkpoints", () => {
  for (const [name, path, quant] of [
    ["q-mlx-4bit", "q-mlx-4bit", { bits: 4, groupSize: 32 }],
    ["q-mlx-8bit", "q-mlx-8bit", { bits: 8, groupSize: 32 }],
    ["q-ggml-q8_0", "q-ggml-q8_0.bin", { ggmlType: "Q8_0" }],
    ["q-ggml-q4_0", "q-ggml-q4_0.bin", { ggmlType: "Q4_0" }],
  ] as const) {
    it(`${name}: matches transformers on the dequantized weights`, () => {
      const loaded = loadWhisperModel(join(dir, path), { dtype: "float32" });
      expect(loaded.quantization).toEqual(quant);
      // ggml blocks multiply activations rounded to int8 per block (ggufMatmul, as whisper.cpp and
      // llama.cpp do): each projection's input moves by up to amax / 254 of its block, which the
      // float reference on dequantized weights does not do. Measured through this model: encoder
      // values off by up to ~0.025 (of ~0.5); fails at rtol 2e-2 / atol 1e-2. Argmax stays exact.
      checkAgainstReference(loaded.model, refs[name], name, "ggmlType" in quant ? GGML_Q8_TOL : tol);
    });
  }

  for (const [type, file] of [["Q8_0", "q-ggml-q8_0.bin"], ["Q4_0", "q-ggml-q4_0.bin"]] as const) {
    it(`${file}: ggml blocks stay blocks (GgmlLinear / GgmlEmbedding, uint8), not dequantized`, () => {
      const m = loadWhisperModel(join(dir, file), { dtype: "float32" }).model;
      const layers = m.namedModules().filter(([, l]) => l instanceof tc.nn.GgmlLinear || l instanceof tc.nn.GgmlEmbedding);
      // whisper.cpp's quantize keeps only 2-D weights in blocks: every projection and the token table.
      expect(layers.length).toBe(2 * 6 + 2 * 10 + 1);
      for (const [path, l] of layers) expect([(l as tc.nn.GgmlLinear).weight.dtype, (l as tc.nn.GgmlLinear).type], path).toEqual(["uint8", type]);
      expect(m.decoder.token_embedding).toBeInstanceOf(tc.nn.GgmlEmbedding);
      expect(m.namedModules().some(([, l]) => l instanceof tc.nn.Linear)).toBe(false);
    });
  }

  // Every Linear and the token Embedding of the MLX files (all divisible by the group size).
  const quantizedLayers = (m: Whisper) => m.namedModules().filter(([, l]) => l instanceof tc.nn.Linear || l instanceof tc.nn.Embedding || l instanceof tc.nn.QuantizedLinear || l instanceof tc.nn.QuantizedEmbedding);

  for (const bits of [4, 8]) {
    it(`q-mlx-${bits}bit: weights stay packed (QuantizedLinear / QuantizedEmbedding, uint32), not dequantized`, () => {
      tc.memory.clearCache();
      const before = tc.memory.stats().active;
      const m = loadWhisperModel(join(dir, `q-mlx-${bits}bit`), { dtype: "float32" }).model;
      tc.evalSync(m.parameters());
      const grew = tc.memory.stats().active - before;
      const layers = quantizedLayers(m);
      expect(layers.length).toBe(2 * 6 + 2 * 10 + 1);
      let packed = 0, dequantized = 0;
      for (const [path, l] of layers) {
        expect(l instanceof tc.nn.QuantizedLinear || l instanceof tc.nn.QuantizedEmbedding, path).toBe(true);
        const q = l as tc.nn.QuantizedLinear;
        expect([q.weight.dtype, q.bits, q.groupSize], path).toEqual(["uint32", bits, 32]);
        packed += q.weight.nbytes + q.scales.nbytes + q.biases.nbytes;
        dequantized += q.weight.shape[0] * q.scales.shape[1] * 32 * 4;
      }
      expect(m.decoder.token_embedding).toBeInstanceOf(tc.nn.QuantizedEmbedding);
      expect(m.dtype).toBe("float32");
      // 4 bits: 1/8 of float32 plus scales and biases (2 floats per 32 values); 8 bits: 1/4 plus those.
      expect(packed / dequantized).toBeCloseTo(bits / 32 + 1 / 16, 6);
      // Live bytes after loading (the whole model) are well below its quantized layers in float32 alone.
      expect(grew).toBeGreaterThan(packed);
      expect(grew).toBeLessThan(0.6 * dequantized);
    });
  }

  // 2/3/5/6-bit (and a per-module override): the 8-bit file's weights requantized with core's
  // quantize, as MLX's convert would; the packed model must give the logits of the same weights
  // dequantized into the float model.
  const writeFolder = (name: string, config: unknown) => {
    const p = join(tmp, name);
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, "config.json"), JSON.stringify(config));
    return p;
  };
  for (const bits of [2, 3, 5, 6]) {
    it(`MLX ${bits}-bit with a per-layer override: loads packed, logits match its dequantized float model`, async () => {
      const r = refs["q-mlx-8bit"];
      const src = join(dir, "q-mlx-8bit");
      const { tensors } = tc.io.loadWeights(join(src, "weights.npz"));
      const override = "decoder.blocks.1.mlp1";
      const packed = new Map<string, tc.Tensor>(), float = new Map<string, tc.Tensor>();
      for (const [k, w] of tensors) {
        const base = k.slice(0, -".weight".length);
        if (k.endsWith(".scales") || k.endsWith(".biases")) continue;
        if (!tensors.has(`${base}.scales`)) {
          packed.set(k, w);
          float.set(k, w);
          continue;
        }
        const w8 = tc.quant.dequantize(w, tensors.get(`${base}.scales`)!, tensors.get(`${base}.biases`)!, { bits: 8, groupSize: 32 });
        const b = base === override ? 8 : bits;
        const q = tc.quant.quantize(w8, { bits: b, groupSize: 32 });
        packed.set(k, q.weight).set(`${base}.scales`, q.scales).set(`${base}.biases`, q.biases);
        // In float32, as the quantized matmul computes (float16 would round each weight).
        float.set(k, tc.quant.dequantize(q.weight, q.scales.astype("float32"), q.biases.astype("float32"), { bits: b, groupSize: 32 }));
      }
      const { quantization: _, ...cfg } = JSON.parse(readFileSync(join(src, "config.json"), "utf8"));
      const quantization = { group_size: 32, bits, [override]: { group_size: 32, bits: 8 } };
      const qDir = writeFolder(`q${bits}`, { ...cfg, quantization });
      const fDir = writeFolder(`f${bits}`, cfg);
      await tc.io.saveSafetensors(join(qDir, "weights.safetensors"), packed);
      await tc.io.saveSafetensors(join(fDir, "weights.safetensors"), float);
      const q = loadWhisperModel(qDir, { dtype: "float32" }), f = loadWhisperModel(fDir, { dtype: "float32" });
      expect(q.quantization).toEqual({ bits, groupSize: 32 });
      const blocks = q.model.decoder.blocks;
      expect(blocks[0].mlp1).toBeInstanceOf(tc.nn.QuantizedLinear);
      expect((blocks[0].mlp1 as tc.nn.QuantizedLinear).bits).toBe(bits);
      expect((blocks[1].mlp1 as tc.nn.QuantizedLinear).bits).toBe(8);
      expect(f.model.decoder.blocks[0].mlp1).toBeInstanceOf(tc.nn.Linear);
      const logits = (m: Whisper) => m.logits([r.tokens], m.embedAudio(melOf(r)));
      expect(maxAbsDiff(logits(q.model), logits(f.model))).toBeLessThan(1e-3);
    });
  }
});

describe("computeType int8 (Q8_0 at load)", () => {
  // The q model (d_model 32: whole Q8_0 blocks) as a float checkpoint: the 8-bit file dequantized,
  // the weights transformers' reference ran on.
  const r = refs["q-mlx-8bit"];
  const folder = join(tmp, "q-float");
  const floatFolder = async () => {
    if (existsSync(folder)) return folder;
    const src = join(dir, "q-mlx-8bit");
    const { tensors } = tc.io.loadWeights(join(src, "weights.npz"));
    const float = new Map<string, tc.Tensor>();
    for (const [k, w] of tensors) {
      const base = k.slice(0, -".weight".length);
      if (k.endsWith(".scales") || k.endsWith(".biases")) continue;
      float.set(k, tensors.has(`${base}.scales`)
        ? tc.quant.dequantize(w, tensors.get(`${base}.scales`)!.astype("float32"), tensors.get(`${base}.biases`)!.astype("float32"), { bits: 8, groupSize: 32 })
        : w);
    }
    const { quantization: _, ...cfg } = JSON.parse(readFileSync(join(src, "config.json"), "utf8"));
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "config.json"), JSON.stringify(cfg));
    await tc.io.saveSafetensors(join(folder, "weights.safetensors"), float);
    return folder;
  };

  // Two roundings on top of the float model: the weights (MLX 8-bit values re-rounded to Q8_0
  // blocks) and the activations (int8 per block, as ggufMatmul does). On this random model the
  // encoder output moves by up to ~0.04 (of ~0.5 at most, so under 10% of its range); argmax stays exact.
  const relativeDiff = (a: tc.Tensor, b: tc.Tensor) => maxAbsDiff(a, b) / Math.max(...(b.astype("float32").dataSync() as Float32Array).map(Math.abs));
  for (const computeType of ["int8_float32", "int8"] as const) {
    it(`${computeType}: every Linear and the token table become Q8_0 blocks; within 10% of the float model, transformers' argmax`, async () => {
      const loaded = loadWhisperModel(await floatFolder(), { computeType });
      expect(loaded.quantization).toEqual({ ggmlType: "Q8_0" });
      const layers = loaded.model.namedModules().filter(([, l]) => l instanceof tc.nn.GgmlLinear || l instanceof tc.nn.GgmlEmbedding);
      expect(layers.length).toBe(2 * 6 + 2 * 10 + 1);
      expect(loaded.model.namedModules().some(([, l]) => l instanceof tc.nn.Linear || l instanceof tc.nn.Embedding)).toBe(false);
      // int8 alone keeps the checkpoint's other weights as they are (this file: float32).
      expect(loaded.model.encoder.conv1.weight.dtype).toBe("float32");
      const float = loadWhisperModel(await floatFolder(), { dtype: "float32" }).model;
      const want = float.embedAudio(melOf(r)), got = loaded.model.embedAudio(melOf(r));
      expect(relativeDiff(got, want)).toBeLessThan(0.1);
      const logits = loaded.model.logits([r.tokens], got);
      expect(relativeDiff(logits, float.logits([r.tokens], want))).toBeLessThan(0.1);
      expect(argmaxRows(logits)).toEqual(r.argmax);
    });
  }

  it("int8_float16 computes the rest in float16; bad values and contradictions are named", async () => {
    const f = await floatFolder();
    expect(loadWhisperModel(f, { computeType: "int8_float16" }).model.encoder.conv1.weight.dtype).toBe("float16");
    expect(loadWhisperModel(f, { computeType: "int8", dtype: "float16" }).model.dtype).toBe("float16");
    expect(() => loadWhisperModel(f, { computeType: "int4" as "int8" })).toThrow(
      'computeType must be one of default, int8, int8_float16, int8_float32, float16, float32, got "int4"');
    expect(() => loadWhisperModel(f, { computeType: "float16", dtype: "float32" })).toThrow(
      "computeType float16 computes in float16, but dtype is float32: give one of them");
  });
});

describe("incremental decoding", () => {
  const r = refs.tiny;
  const loaded = loadWhisperModel(join(dir, "tiny-hf"), { dtype: "float32" });
  const m = loaded.model;
  const features = m.embedAudio(melOf(r));
  const heads = loaded.alignmentHeads;

  it("KV-cached decoding (prompt, then one token at a time) equals full-sequence decoding", () => {
    const full = m.decode([r.tokens], features, { alignmentHeads: heads });
    const cache = m.newCache();
    const parts = [m.decode([r.tokens.slice(0, 3)], features, { cache, alignmentHeads: heads })];
    expect(cache.offset).toBe(3);
    for (let i = 3; i < r.tokens.length; i++) parts.push(m.decode([[r.tokens[i]]], features, { cache, alignmentHeads: heads }));
    expect(cache.offset).toBe(r.tokens.length);
    const logits = tc.concatenate(parts.map((p) => p.logits), 1);
    expect(maxAbsDiff(logits, full.logits)).toBeLessThan(1e-4);
    const cross = tc.concatenate(parts.map((p) => p.crossAttention!), 2);
    expect(maxAbsDiff(cross, full.crossAttention!)).toBeLessThan(1e-5);
  });

  it("token rows sharing one audio row's cross-attention equal rows with their own copy", () => {
    const rows = [r.tokens.slice(0, 3), [50258, 50259, 50360], r.tokens.slice(0, 3), [50258, 50259, 50359], [50258, 50260, 50359]];
    const next = [[1169], [2068], [440], [1169], [50257]];
    const own = tc.concatenate(rows.map(() => features), 0);
    const run = (xa: tc.Tensor) => {
      const cache = m.newCache();
      const first = m.decode(rows, xa, { cache, alignmentHeads: heads });
      const second = m.decode(next, xa, { cache, alignmentHeads: heads });
      expect(cache.cross(0)?.k.shape[0]).toBe(xa.shape[0]);
      return [first.logits, first.crossAttention!, second.logits, second.crossAttention!];
    };
    const shared = run(features), copied = run(own);
    shared.forEach((t, i) => expect(maxAbsDiff(t, copied[i]), `output ${i}`).toBeLessThan(1e-4));
    // Beam search's reorder keeps rows within their audio; rows of another audio are refused.
    const cache = m.newCache();
    m.decode(rows.slice(0, 4), tc.concatenate([features, features], 0), { cache });
    expect(() => cache.reorder([1, 0, 3, 3])).not.toThrow();
    expect(() => cache.reorder([2, 0, 3, 3])).toThrow(/row 0 takes row 2 of another audio/);
  });

  it("reorder() keeps the cache rows of chosen beams", () => {
    const a = r.tokens.slice(0, 4), b = [50258, 50259, 50360, 50364];
    const batch = tc.concatenate([features, features], 0);
    const cache = m.newCache();
    m.decode([a, b], batch, { cache });
    cache.reorder([1, 1]);
    const next = m.logits([[1169], [2068]], batch, cache);
    const ref = m.logits([[...b, 1169], [...b, 2068]], batch);
    expect(maxAbsDiff(next, tc.index(ref, null, [4, 5]))).toBeLessThan(1e-4);
  });

  it("rejects tokens past the text context, bad mel shapes and bad alignment heads", () => {
    const cache = m.newCache();
    expect(() => m.decode([Array(25).fill(0)], features, { cache })).toThrow(/25 tokens exceed the text context of 24/);
    expect(() => m.embedAudio(tc.zeros([1, 30, 80]))).toThrow(/expected a mel spectrogram \[batch, 32, 80\].*got \[1, 30, 80\]/);
    expect(() => m.decode([[1]], features, { alignmentHeads: [[2, 0]] })).toThrow(/alignment head \[2, 0\] is out of range \(2 layers, 2 heads\)/);
  });
});

describe("alignment heads of official models", () => {
  const dims = (n: Partial<ModelDimensions>): ModelDimensions => ({
    n_mels: 80, n_audio_ctx: 1500, n_audio_state: 384, n_audio_head: 6, n_audio_layer: 4, n_vocab: 51865,
    n_text_ctx: 448, n_text_state: 384, n_text_head: 6, n_text_layer: 4, ...n,
  });
  const official: Record<string, ModelDimensions> = {
    tiny: dims({}),
    "base.en": dims({ n_audio_state: 512, n_text_state: 512, n_audio_head: 8, n_text_head: 8, n_audio_layer: 6, n_text_layer: 6, n_vocab: 51864 }),
    "large-v3": dims({ n_mels: 128, n_vocab: 51866, n_audio_state: 1280, n_text_state: 1280, n_audio_head: 20, n_text_head: 20, n_audio_layer: 32, n_text_layer: 32 }),
    "large-v3-turbo": dims({ n_mels: 128, n_vocab: 51866, n_audio_state: 1280, n_text_state: 1280, n_audio_head: 20, n_text_head: 20, n_audio_layer: 32, n_text_layer: 4 }),
  };

  for (const [name, d] of Object.entries(official)) {
    it(`${name}: recognized by its dimensions, heads decoded as openai-whisper does`, () => {
      expect(officialModelName(d)).toBe(name);
      expect(officialAlignmentHeads(d)?.heads).toEqual(refs.official_heads[name]);
    });
  }

  it("unknown dimensions get none; the default is every head of the last half", () => {
    expect(officialModelName(dims({ n_text_ctx: 224 }))).toBeUndefined();
    expect(defaultAlignmentHeads(dims({ n_text_layer: 3, n_text_head: 2 }))).toEqual([[1, 0], [1, 1], [2, 0], [2, 1]]);
  });

  it("a mask of the wrong size is an error", () => {
    expect(() => decodeAlignmentHeads("ABzY8bu8Lr0{>%RKn9Fp%m@SkK7Kt=7ytkO", 4, 5)).toThrow(/24 entries, expected 4 layers x 5 heads/);
  });
});

describe("loading errors", () => {
  const hf = join(dir, "tiny-hf");
  const folder = (name: string, files: Record<string, string | Buffer>) => {
    const p = join(tmp, name);
    mkdirSync(p, { recursive: true });
    for (const [f, v] of Object.entries(files)) writeFileSync(join(p, f), v);
    return p;
  };
  const config = readFileSync(join(hf, "config.json"));

  it("names what it looked for in a folder without a model", () => {
    expect(() => loadWhisperModel(folder("empty", {}), { dtype: "float32" })).toThrow(/no Whisper model found: looked for config.json with model.safetensors .*weights.npz .*ggml/);
    expect(() => loadWhisperModel(join(tmp, "nope"), { dtype: "float32" })).toThrow(/nope: no such file or folder/);
  });

  it("names the missing weights files and an unknown config", () => {
    expect(() => loadWhisperModel(folder("config-only", { "config.json": config }), { dtype: "float32" })).toThrow(/missing weights: looked for model.safetensors or model.safetensors.index.json/);
    expect(() => loadWhisperModel(folder("other", { "config.json": '{"model_type": "llama"}' }), { dtype: "float32" })).toThrow(/not a Whisper config/);
    expect(() => loadWhisperModel(folder("badjson", { "config.json": "{" }))).toThrow(/config.json: cannot read JSON/);
  });

  it("names missing and unexpected weight keys", async () => {
    const w = tc.io.loadSafetensors(join(hf, "model.safetensors")).tensors;
    w.delete("model.decoder.layers.1.fc2.bias");
    w.set("model.decoder.extra.weight", tc.zeros([2]));
    const p = folder("bad-keys", { "config.json": config });
    await tc.io.saveSafetensors(join(p, "model.safetensors"), w);
    expect(() => loadWhisperModel(p, { dtype: "float32" })).toThrow(/missing keys: decoder\.blocks\.1\.mlp2\.bias.*unexpected keys: decoder\.extra\.weight/);
  });

  it("rejects configs it cannot run", () => {
    const c = JSON.parse(config.toString());
    expect(() => loadWhisperModel(folder("ffn", { "config.json": JSON.stringify({ ...c, encoder_ffn_dim: 10 }) }), { dtype: "float32" })).toThrow(/encoder_ffn_dim is 10; this Whisper supports only 4 \* d_model \(32\)/);
    const mlx = JSON.parse(readFileSync(join(dir, "tiny-mlx", "config.json"), "utf8"));
    expect(() => loadWhisperModel(folder("dims", { "config.json": JSON.stringify({ ...mlx, n_text_head: 3 }) }), { dtype: "float32" })).toThrow(/multiples of their head counts/);
    expect(() => loadWhisperModel(folder("quant", { "config.json": JSON.stringify({ ...mlx, quantization: { bits: 7, group_size: 64 } }) }), { dtype: "float32" })).toThrow(/quantization must have bits in 2, 3, 4, 5, 6, 8/);
  });
});
