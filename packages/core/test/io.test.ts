import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { fixturesDir, loadFixture } from "../../../test/helpers/reference.js";

const { io } = tc;
const dir = join(fixturesDir, "io");
const fx = (name: string) => join(dir, name);
const tmp = mkdtempSync(join(tmpdir(), "tessera-io-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Expected {
  shape: number[];
  dtype: tc.DType;
  data: number[];
}
const values = loadFixture<{
  safetensors: { reference: { metadata: Record<string, string>; tensors: Record<string, Expected> }; with_f64: { tensors: Record<string, Expected> }; sharded: { total_size: number; tensors: Record<string, Expected> } };
  npz: { arrays: Record<string, Expected> };
}>("io/values.json");

interface GgmlExpected {
  type: string;
  shape: number[];
  bits?: number[];
  values?: number[];
}
const ggufFx = loadFixture<{
  gguf: { metadata: Record<string, unknown>; tensors: Record<string, GgmlExpected> };
  whisper: { hparams: Record<string, number>; filters: number[]; filters_shape: number[]; vocab: string[]; tensors: Record<string, GgmlExpected> };
}>("io/gguf.json");

function expectTensor(t: tc.Tensor, e: Expected, label: string, rtol = 0): void {
  expect(t.shape, `${label} shape`).toEqual(e.shape);
  expect(t.dtype, `${label} dtype`).toBe(e.dtype);
  const got = Array.from(t.dataSync() as ArrayLike<number | bigint>, Number);
  if (rtol === 0) expect(got, label).toEqual(e.data);
  else e.data.forEach((v, i) => expect(Math.abs(got[i] - v), `${label}[${i}]`).toBeLessThanOrEqual(rtol * Math.abs(v)));
}

function f32Bits(t: tc.Tensor): number[] {
  return Array.from(new Uint32Array((t.dataSync() as Float32Array).buffer));
}

/** A copy of fixture `name` under tmp, optionally edited. */
function variant(name: string, as: string, edit?: (b: Buffer) => Buffer): string {
  const p = join(tmp, as);
  const b = readFileSync(fx(name));
  writeFileSync(p, edit ? edit(Buffer.from(b)) : b);
  return p;
}

/** Asserts fn throws an Error whose message names `path` and matches `problem`. */
function expectFileError(fn: () => unknown, path: string, problem: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected an error matching ${problem}`).toBeInstanceOf(Error);
  const msg = (err as Error).message;
  expect(msg.includes(path), `message names the file: ${msg}`).toBe(true);
  expect(msg).toMatch(problem);
}

/** A safetensors file from a header object and a data section. */
function safetensorsBytes(header: object, data: Buffer | number): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, typeof data === "number" ? Buffer.alloc(data) : data]);
}
function writeTmp(name: string, bytes: Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

describe("safetensors", () => {
  it("loads every dtype written by the reference implementation, without copying", () => {
    const before = tc.memory.stats().active;
    const { tensors, metadata } = io.loadSafetensors(fx("reference.safetensors"));
    expect(tc.memory.stats().active).toBe(before); // views of the mapping, nothing allocated
    expect(metadata).toEqual(values.safetensors.reference.metadata);
    const exp = values.safetensors.reference.tensors;
    expect([...tensors.keys()].sort()).toEqual(Object.keys(exp).sort());
    for (const [name, e] of Object.entries(exp)) expectTensor(tensors.get(name)!, e, name);
  });

  it("converts F64 to float32", () => {
    const { tensors } = io.loadSafetensors(fx("with_f64.safetensors"));
    for (const [name, e] of Object.entries(values.safetensors.with_f64.tensors)) expectTensor(tensors.get(name)!, e, name, 1e-7);
  });

  it("saves files byte-identical to the reference writer's, atomically", async () => {
    const { tensors, metadata } = io.loadSafetensors(fx("reference.safetensors"));
    const out = join(tmp, "ours.safetensors");
    await io.saveSafetensors(out, tensors, metadata);
    expect(readFileSync(out).equals(readFileSync(fx("reference.safetensors")))).toBe(true);
    // Overwriting replaces the file whole and leaves no temporary file behind.
    await io.saveSafetensors(out, { x: tc.tensor([1, 2, 3], { dtype: "float16" }) });
    const back = io.loadSafetensors(out);
    expect([...back.tensors.keys()]).toEqual(["x"]);
    expect(back.tensors.get("x")!.dtype).toBe("float16");
    expect(back.tensors.get("x")!.tolist()).toEqual([1, 2, 3]);
    expect(back.metadata).toEqual({});
    expect(readdirSync(tmp).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("round-trips computed, non-contiguous and empty tensors", async () => {
    const a = tc.tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float32" }).T;
    const out = join(tmp, "roundtrip.safetensors");
    await io.saveSafetensors(out, new Map([["a", a], ["b", tc.exp(tc.zeros([0, 2]))], ["c", tc.tensor([true, false])]]), { k: "v" });
    const { tensors, metadata } = io.loadSafetensors(out);
    expect(tensors.get("a")!.tolist()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(tensors.get("b")!.shape).toEqual([0, 2]);
    expect(tensors.get("c")!.dtype).toBe("bool");
    expect(metadata).toEqual({ k: "v" });
    expect((readFileSync(out).readUInt32LE(0) % 8)).toBe(0); // header padded to 8 bytes
  });

  it("refuses bad arguments to saveSafetensors and writes nothing", async () => {
    const out = join(tmp, "never.safetensors");
    await expect(io.saveSafetensors(out, { a: 3 as unknown as tc.Tensor })).rejects.toThrow(/'a' is not a Tensor/);
    const d = tc.ones([2]);
    d.dispose();
    await expect(io.saveSafetensors(out, { d })).rejects.toThrow(/'d' was disposed/);
    await expect(io.saveSafetensors(out, { a: tc.ones([1]) }, { n: 1 as unknown as string })).rejects.toThrow(/metadata value 'n' must be a string/);
    await expect(io.saveSafetensors(join(tmp, "no", "such", "dir.safetensors"), { a: tc.ones([1]) })).rejects.toThrow(/ENOENT/);
    expect(existsSync(out)).toBe(false);
  });

  it("loads sharded checkpoints through their index, and model folders", () => {
    const idx = join(dir, "sharded", "model.safetensors.index.json");
    const exp = values.safetensors.sharded;
    for (const w of [io.loadSafetensorsIndex(idx), io.loadWeights(join(dir, "sharded")), io.loadWeights(idx)]) {
      expect([...w.tensors.keys()].sort()).toEqual(Object.keys(exp.tensors).sort());
      for (const [name, e] of Object.entries(exp.tensors)) expectTensor(w.tensors.get(name)!, e, name);
      expect(w.metadata.total_size).toBe(String(exp.total_size));
      expect(w.metadata.format).toBe("pt");
    }
    expect(io.loadWeights(fx("reference.safetensors")).tensors.size).toBe(13);
  });

  it("rejects truncated and corrupt files with errors naming the file and the problem", () => {
    const ref = readFileSync(fx("reference.safetensors"));
    const hlen = Number(ref.readBigUInt64LE(0));
    expectFileError(() => io.loadSafetensors(writeTmp("tiny.safetensors", ref.subarray(0, 5))), "tiny.safetensors", /too small to be safetensors/);
    expectFileError(() => io.loadSafetensors(writeTmp("hdr.safetensors", ref.subarray(0, 8 + hlen - 10))), "hdr.safetensors", /header length \d+ runs past the end of the file/);
    expectFileError(() => io.loadSafetensors(writeTmp("cut.safetensors", ref.subarray(0, ref.length - 3))), "cut.safetensors", /lie beyond the data section/);
    const huge = Buffer.from(ref);
    huge.writeBigUInt64LE(1n << 62n);
    expectFileError(() => io.loadSafetensors(writeTmp("huge.safetensors", huge)), "huge.safetensors", /runs past the end/);
    const f32 = (offs: number[]) => ({ dtype: "F32", shape: [2], data_offsets: offs });
    const cases: [string, object, number, RegExp][] = [
      ["overlap", { a: f32([0, 8]), b: f32([4, 12]) }, 12, /tensors 'a' and 'b' overlap/],
      ["oob", { a: f32([0, 8]), b: f32([8, 16]) }, 12, /tensor 'b' data_offsets \[8, 16\) lie beyond the data section \(12 bytes\)/],
      ["gap", { a: f32([0, 8]), b: f32([12, 20]) }, 20, /must be contiguous/],
      ["trailing", { a: f32([0, 8]) }, 12, /trailing or missing data/],
      ["size", { a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8, /has 8 bytes but shape \[3\] of F32 needs 12/],
      ["unknown", { a: { dtype: "X9", shape: [1], data_offsets: [0, 1] } }, 1, /unknown dtype 'X9'/],
      ["f8", { a: { dtype: "F8_E4M3", shape: [1], data_offsets: [0, 1] } }, 1, /dtype F8_E4M3, which is not supported/],
      ["shape", { a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, 4, /invalid shape/],
      ["offsets", { a: { dtype: "F32", shape: [1], data_offsets: [4, 0] } }, 4, /invalid data_offsets/],
      ["meta", { __metadata__: { n: 1 } }, 0, /__metadata__ value 'n' is not a string/],
    ];
    for (const [name, header, n, problem] of cases)
      expectFileError(() => io.loadSafetensors(writeTmp(`${name}.safetensors`, safetensorsBytes(header, n))), `${name}.safetensors`, problem);
    const badJson = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{bad")]);
    expectFileError(() => io.loadSafetensors(writeTmp("json.safetensors", badJson)), "json.safetensors", /not valid UTF-8 JSON/);
    expectFileError(() => io.loadSafetensors(join(tmp, "missing.safetensors")), "missing.safetensors", /cannot open: No such file/);
  });

  it("rejects an index naming a missing shard or a tensor its shard lacks", () => {
    const sub = join(tmp, "badindex");
    rmSync(sub, { recursive: true, force: true });
    mkdirSync(sub);
    copyFileSync(join(dir, "sharded", "model-00001-of-00002.safetensors"), join(sub, "a.safetensors"));
    const idx = join(sub, "model.safetensors.index.json");
    writeFileSync(idx, JSON.stringify({ weight_map: { "layers.0.weight": "a.safetensors", norm: "b.safetensors" } }));
    expectFileError(() => io.loadSafetensorsIndex(idx), idx, /names shard 'b.safetensors', which does not exist/);
    expectFileError(() => io.loadWeights(sub), idx, /does not exist/);
    writeFileSync(idx, JSON.stringify({ weight_map: { "layers.0.weight": "a.safetensors", ghost: "a.safetensors" } }));
    expectFileError(() => io.loadSafetensorsIndex(idx), "a.safetensors", /tensor 'ghost', listed for this shard in model.safetensors.index.json, is missing/);
    writeFileSync(idx, JSON.stringify({ weight_map: { x: "../escape.safetensors" } }));
    expectFileError(() => io.loadSafetensorsIndex(idx), idx, /lies outside the index's folder/);
    writeFileSync(idx, "{}");
    expectFileError(() => io.loadSafetensorsIndex(idx), idx, /no weight_map/);
    expectFileError(() => io.loadWeights(join(tmp, "nothing-here")), "nothing-here", /no such file or folder/);
  });
});

describe("GGUF", () => {
  const exp = ggufFx.gguf;

  it("reads metadata of every value type", () => {
    const g = io.readGGUF(fx("model.gguf"));
    expect(g.version).toBe(3);
    expect(g.alignment).toBe(32);
    const m = g.metadata;
    for (const [k, v] of Object.entries(exp.metadata)) {
      if (k === "test.u64_big" || k === "test.i64") expect(m[k], k).toBe(BigInt(v as string));
      else if (k === "test.f32") expect(m[k], k).toBe(Math.fround(v as number));
      else expect(m[k], k).toEqual(v);
    }
    expect(m["test.u64_small"]).toBe(12345);
    expect(g.metadataTypes["test.u8"]).toBe("uint8");
    expect(g.metadataTypes["test.strings"]).toBe("array[string]");
    expect(g.metadataTypes["test.nested"]).toBe("array[array]");
  });

  it("gives float tensors as views and dequantizes every block type bit-exactly", () => {
    const g = io.readGGUF(fx("model.gguf"));
    expect(g.tensors.map((t) => t.name).sort()).toEqual(Object.keys(exp.tensors).sort());
    for (const [name, e] of Object.entries(exp.tensors)) {
      const info = g.info(name);
      expect(info.type, name).toBe(e.type);
      expect(info.shape, name).toEqual(e.shape);
      expect(info.offset % 32, name).toBe(0);
      if (e.values) expect(g.tensor(name).tolist(), name).toEqual([e.values.slice(0, 4), e.values.slice(4)]);
      if (!e.bits) continue;
      const t = g.tensor(name);
      const type = io.ggmlType(e.type)!;
      if (type.dtype) {
        expect(t.dtype, name).toBe(type.dtype);
        expect(t.shape, name).toEqual(e.shape);
      } else {
        expect(t.dtype, name).toBe("uint8");
        expect(t.shape, name).toEqual([e.shape[0], (e.shape[1] / type.blockSize) * type.typeSize]);
      }
      expect(f32Bits(g.dequantize(name)), name).toEqual(e.bits);
      // float16 output is the float32 result rounded once.
      const want = tc.tensor(Float32Array.from(new Float32Array(new Uint32Array(e.bits).buffer)), { shape: e.shape }).astype("float16");
      expect(Array.from(g.dequantize(name, "float16").rawHalfBits()), `${name} f16`).toEqual(Array.from(want.rawHalfBits()));
    }
  });

  it("dequantizes through the op directly, in place of any block-rows layout", () => {
    const g = io.readGGUF(fx("model.gguf"));
    const blocks = g.tensor("quant.Q4_K"); // [2, 144]
    const flat = io.dequantize(blocks.reshape(1, 288), "Q4_K");
    expect(flat.shape).toEqual([1, 512]);
    expect(f32Bits(flat)).toEqual(exp.tensors["quant.Q4_K"].bits);
    expect(() => io.dequantize(g.tensor("float.f32"), "Q4_0")).toThrow(/blocks must be uint8, got float32/);
    expect(() => io.dequantize(tc.zeros([2, 17], "uint8"), "Q4_0")).toThrow(/17 bytes\) is not a whole number of Q4_0 blocks of 18 bytes/);
    expect(() => io.dequantize(blocks, "Q9_Z")).toThrow(/unknown ggml type Q9_Z/);
    expect(() => io.dequantize(blocks, "F16")).toThrow(/F16 is not a block-quantized type/);
    expect(() => tc.callOp("ggufDequantize", [blocks], { type: 16 })).toThrow(/IQ2_XXS is not supported yet/);
  });

  it("reads IQ blocks raw but refuses to dequantize them", () => {
    const g = io.readGGUF(fx("model.gguf"));
    expect(g.tensor("quant.IQ4_NL").shape).toEqual([1, 18]);
    expectFileError(() => g.dequantize("quant.IQ4_NL"), "model.gguf", /IQ4_NL is not supported yet/);
    expectFileError(() => g.tensor("nope"), "model.gguf", /no tensor named 'nope'/);
    const kept = g.tensor("float.f32");
    g.close();
    expectFileError(() => g.tensor("float.f32"), "model.gguf", /the file was closed/);
    expect(f32Bits(kept)).toEqual(exp.tensors["float.f32"].bits); // the tensor keeps the mapping alive
  });

  it("reads version 2 files", () => {
    const p = variant("model.gguf", "v2.gguf", (b) => (b.writeUInt32LE(2, 4), b));
    const g = io.readGGUF(p);
    expect(g.version).toBe(2);
    expect(f32Bits(g.dequantize("quant.Q8_0"))).toEqual(exp.tensors["quant.Q8_0"].bits);
  });

  it("rejects bad GGUF files with errors naming the file and the problem", () => {
    const b = readFileSync(fx("model.gguf"));
    // The type and offset fields of a tensor info follow its name, n_dims and dims.
    const infoAt = (name: string) => {
      const at = b.indexOf(Buffer.from(name)) + name.length;
      const nDims = b.readUInt32LE(at);
      return { type: at + 4 + 8 * nDims, offset: at + 8 + 8 * nDims };
    };
    const cases: [string, (x: Buffer) => Buffer, RegExp][] = [
      ["magic", (x) => (x.write("GGUX", 0), x), /bad magic 0x58554747: not a GGUF file/],
      ["v1", (x) => (x.writeUInt32LE(1, 4), x), /GGUF version 1 is not supported/],
      ["v9", (x) => (x.writeUInt32LE(9, 4), x), /unsupported GGUF version 9/],
      ["be", (x) => (x.writeUInt32BE(3, 4), x), /big-endian GGUF files are not supported/],
      ["header", (x) => x.subarray(0, 1000), /truncated GGUF header/],
      ["empty", (x) => x.subarray(0, 0), /too small to be GGUF/],
      ["counts", (x) => (x.writeBigUInt64LE(1n << 40n, 8), x), /more than the file can hold/],
      ["type", (x) => (x.writeUInt32LE(99, infoAt("float.f16").type), x), /tensor 'float.f16' has unknown ggml type 99/],
      ["overlap", (x) => (x.writeBigUInt64LE(0n, infoAt("float.f16").offset), x), /tensors 'float.f32' and 'float.f16' overlap/],
      ["oob", (x) => (x.writeBigUInt64LE(1n << 20n, infoAt("quant.Q8_K").offset), x), /tensor 'quant.Q8_K' data at bytes \[\d+, \d+\) lie outside the file/],
      ["misaligned", (x) => (x.writeBigUInt64LE(33n, infoAt("float.f16").offset), x), /offset 33 is not a multiple of the alignment 32/],
      ["data", (x) => x.subarray(0, x.length - 40), /lie outside the file/],
    ];
    for (const [name, edit, problem] of cases) {
      const p = variant("model.gguf", `bad-${name}.gguf`, edit);
      expectFileError(() => io.readGGUF(p), `bad-${name}.gguf`, problem);
    }
  });
});

describe("whisper.cpp ggml", () => {
  const exp = ggufFx.whisper;

  it("reads hparams, mel filters, vocab and tensors", () => {
    const w = io.readWhisperGgml(fx("whisper-tiny-ggml.bin"));
    expect(w.hparams).toEqual(exp.hparams);
    expect(w.melFilters.shape).toEqual(exp.filters_shape);
    expect(f32Bits(w.melFilters)).toEqual(exp.filters);
    expect(w.vocab.map((t) => Buffer.from(t).toString("hex"))).toEqual(exp.vocab);
    expect(w.tensors.map((t) => t.name)).toEqual(Object.keys(exp.tensors));
    for (const [name, e] of Object.entries(exp.tensors)) {
      expect(w.info(name).type, name).toBe(e.type);
      expect(w.info(name).shape, name).toEqual(e.shape);
      expect(f32Bits(w.dequantize(name)), name).toEqual(e.bits);
    }
    expect(w.tensor("encoder.conv1.weight").dtype).toBe("float16");
  });

  it("rejects other and truncated files", () => {
    expectFileError(() => io.readWhisperGgml(fx("model.gguf")), "model.gguf", /bad magic 0x46554747: not a whisper.cpp ggml model/);
    const cut = variant("whisper-tiny-ggml.bin", "cut.bin", (x) => x.subarray(0, x.length - 5));
    expectFileError(() => io.readWhisperGgml(cut), "cut.bin", /tensor 'decoder.blocks.0.mlp.0.weight' needs 272 bytes .* it is truncated/);
    const head = variant("whisper-tiny-ggml.bin", "head.bin", (x) => x.subarray(0, 30));
    expectFileError(() => io.readWhisperGgml(head), "head.bin", /truncated ggml header/);
    const badType = variant("whisper-tiny-ggml.bin", "type.bin", (x) => {
      const at = x.indexOf(Buffer.from("decoder.ln.weight")) - 4 - 12;
      x.writeInt32LE(77, at + 8);
      return x;
    });
    expectFileError(() => io.readWhisperGgml(badType), "type.bin", /tensor 'decoder.ln.weight' has unknown ggml type 77/);
  });
});

describe("npz", () => {
  const exp = values.npz.arrays;

  for (const file of ["arrays.npz", "arrays_compressed.npz"])
    it(`reads every supported dtype, C and Fortran order (${file})`, () => {
      const { tensors } = io.readNpz(fx(file));
      expect([...tensors.keys()].sort()).toEqual(Object.keys(exp).sort());
      for (const [name, e] of Object.entries(exp)) expectTensor(tensors.get(name)!, e, `${file}:${name}`, name === "f8" ? 1e-7 : 0);
    });

  it("reads .npy format versions 1, 2 and 3 and single .npy files", () => {
    const { tensors } = io.readNpz(fx("versions.npz"));
    for (const v of ["v1", "v2", "v3"]) expectTensor(tensors.get(v)!, exp.f4, v);
    expectTensor(io.readNpy(fx("single.npy")), exp.f4, "single.npy");
    expect(io.loadWeights(fx("arrays.npz")).tensors.size).toBe(Object.keys(exp).length);
  });

  it("rejects unsupported arrays and corrupt archives with errors naming the file", () => {
    expectFileError(() => io.readNpz(fx("object.npz")), "object.npz", /entry 'obj.npy' is an object array/);
    expectFileError(() => io.readNpz(fx("bigendian.npz")), "bigendian.npz", /entry 'be.npy' is big-endian \('>f4'\)/);
    expectFileError(() => io.readNpz(fx("structured.npz")), "structured.npz", /holds a structured array/);
    const cut = variant("arrays.npz", "cut.npz", (x) => x.subarray(0, x.length - 30));
    expectFileError(() => io.readNpz(cut), "cut.npz", /end-of-central-directory/);
    const tiny = variant("arrays.npz", "tiny.npz", (x) => x.subarray(0, 10));
    expectFileError(() => io.readNpz(tiny), "tiny.npz", /too small to be a zip/);
    // Flip a byte inside the first compressed entry's data.
    const corrupt = variant("arrays_compressed.npz", "corrupt.npz", (x) => ((x[60] ^= 0x55), x));
    expectFileError(() => io.readNpz(corrupt), "corrupt.npz", /does not inflate|CRC check|not an \.npy array|malformed/);
    const npy = variant("single.npy", "bad.npy", (x) => x.subarray(0, x.length - 4));
    expectFileError(() => io.readNpy(npy), "bad.npy", /holds 44 data bytes but shape \[3, 4\] needs 48/);
  });
});

describe("corrupted files", () => {
  // A small deterministic PRNG (mulberry32) so failures reproduce.
  function rng(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const readers: [string, (p: string) => tc.Tensor[]][] = [
    ["reference.safetensors", (p) => [...io.loadSafetensors(p).tensors.values()]],
    ["model.gguf", (p) => { const g = io.readGGUF(p); return g.tensors.filter((t) => !t.type.startsWith("IQ")).map((t) => g.dequantize(t.name)); }],
    ["whisper-tiny-ggml.bin", (p) => { const w = io.readWhisperGgml(p); return [w.melFilters, ...w.tensors.map((t) => w.dequantize(t.name))]; }],
    ["arrays.npz", (p) => [...io.readNpz(p).tensors.values()]],
    ["arrays_compressed.npz", (p) => [...io.readNpz(p).tensors.values()]],
  ];

  for (const [name, read] of readers)
    it(`either loads or throws a WeightsFileError for mutated ${name}, never crashes`, () => {
      const next = rng(name.length * 7919);
      const original = readFileSync(fx(name));
      let loaded = 0;
      for (let i = 0; i < 60; i++) {
        let b = Buffer.from(original);
        const flips = 1 + Math.floor(next() * 4);
        for (let k = 0; k < flips; k++) b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
        if (next() < 0.3) b = b.subarray(0, Math.floor(next() * b.length));
        const p = writeTmp(`fuzz-${i}-${name}`, b);
        try {
          for (const t of read(p)) t.dataSync();
          loaded++;
        } catch (e) {
          expect(e, (e as Error).stack).toBeInstanceOf(io.WeightsFileError);
          expect((e as Error).message.startsWith(p)).toBe(true);
        }
      }
      expect(loaded).toBeLessThan(60); // some mutations must have been caught
    });
});
