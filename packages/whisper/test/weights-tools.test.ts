// tools/weights without downloads: the CTranslate2 model.bin reader and the WhisperSpec -> Hugging
// Face conversion on a tiny synthetic file written here as ctranslate2's model_spec.py writes one.
import { describe, expect, it } from "vitest";
import { parseCt2 } from "../../../tools/weights/ct2.js";
import { ct2ToHfTensors, whisperDims } from "../../../tools/weights/hf.js";
import { ggmlName } from "../../../tools/weights/ggml.js";

type Var = [name: string, shape: number[], dtype: "float32" | "int8" | "int16", values: number[]];
const DTYPE_ID = { float32: 0, int8: 1, int16: 2 };

function ct2File(vars: Var[], aliases: [string, string][] = []): Buffer {
  const out: Buffer[] = [];
  const u8 = (v: number) => out.push(Buffer.from([v]));
  const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); out.push(b); };
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); out.push(b); };
  const str = (s: string) => { u16(Buffer.byteLength(s) + 1); out.push(Buffer.from(s), Buffer.from([0])); };
  u32(6); str("WhisperSpec"); u32(3); u32(vars.length);
  for (const [name, shape, dtype, values] of vars) {
    str(name); u8(shape.length); shape.forEach(u32); u8(DTYPE_ID[dtype]);
    const item = dtype === "float32" ? 4 : dtype === "int16" ? 2 : 1;
    const b = Buffer.alloc(values.length * item);
    values.forEach((v, i) => (dtype === "float32" ? b.writeFloatLE(v, 4 * i) : dtype === "int16" ? b.writeInt16LE(v, 2 * i) : b.writeInt8(v, i)));
    u32(b.length); out.push(b);
  }
  u32(aliases.length);
  for (const [a, t] of aliases) { str(a); str(t); }
  return Buffer.concat(out);
}

// d_model 2, one layer each side, 1 head, 3 mels, vocab 5, 4 audio / 3 text positions.
const D = 2;
const seq = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
function tinyWhisper(keyBias = 0): Var[] {
  const lin = (p: string, rows: number, cols: number, from: number): Var[] => [
    [`${p}/weight`, [rows, cols], "float32", seq(rows * cols, from)], [`${p}/bias`, [rows], "float32", seq(rows, from + 1000)]];
  const ln = (p: string): Var[] => [[`${p}/gamma`, [D], "float32", [1, 1]], [`${p}/beta`, [D], "float32", [0, 0]]];
  const qkvBias = [0.5, 0.25, keyBias, 0, 7, 8];
  return [
    ["decoder/activation", [], "int8", [3]], ["decoder/num_heads", [], "int16", [1]], ["decoder/pre_norm", [], "int8", [1]],
    ["decoder/scale_embeddings", [], "int8", [0]], ["decoder/embeddings/weight", [5, D], "float32", seq(10)],
    ["decoder/position_encodings/encodings", [3, D], "float32", seq(6)],
    ...ln("decoder/layer_0/self_attention/layer_norm"),
    ["decoder/layer_0/self_attention/linear_0/weight", [3 * D, D], "float32", seq(12, 100)],
    ["decoder/layer_0/self_attention/linear_0/bias", [3 * D], "float32", qkvBias],
    ...lin("decoder/layer_0/self_attention/linear_1", D, D, 200),
    ...ln("decoder/layer_0/attention/layer_norm"), ...lin("decoder/layer_0/attention/linear_0", D, D, 300),
    ["decoder/layer_0/attention/linear_1/weight", [2 * D, D], "float32", seq(8, 400)],
    ["decoder/layer_0/attention/linear_1/bias", [2 * D], "float32", [0, 0, 3, 4]],
    ...lin("decoder/layer_0/attention/linear_2", D, D, 500),
    ...ln("decoder/layer_0/ffn/layer_norm"), ...lin("decoder/layer_0/ffn/linear_0", 4 * D, D, 600), ...lin("decoder/layer_0/ffn/linear_1", D, 4 * D, 700),
    ...ln("decoder/layer_norm"),
    ["encoder/num_heads", [], "int16", [1]], ...lin("encoder/conv1", D, 3 * 3, 800).map((v, i): Var => (i === 0 ? [v[0], [D, 3, 3], v[2], v[3]] : v)),
    ...lin("encoder/conv2", D, D * 3, 900).map((v, i): Var => (i === 0 ? [v[0], [D, D, 3], v[2], v[3]] : v)),
    ["encoder/position_encodings/encodings", [4, D], "float32", seq(8)],
    ...ln("encoder/layer_0/self_attention/layer_norm"),
    ["encoder/layer_0/self_attention/linear_0/weight", [3 * D, D], "float32", seq(12, 1100)],
    ["encoder/layer_0/self_attention/linear_0/bias", [3 * D], "float32", [1, 2, 0, 0, 5, 6]],
    ...lin("encoder/layer_0/self_attention/linear_1", D, D, 1200),
    ...ln("encoder/layer_0/ffn/layer_norm"), ...lin("encoder/layer_0/ffn/linear_0", 4 * D, D, 1300), ...lin("encoder/layer_0/ffn/linear_1", D, 4 * D, 1400),
    ...ln("encoder/layer_norm"),
  ];
}
const ALIAS: [string, string][] = [["decoder/projection/weight", "decoder/embeddings/weight"]];

const floats = (data: Uint8Array) => Array.from(new Float32Array(new Uint8Array(data).buffer));

describe("tools/weights: CTranslate2 WhisperSpec to Hugging Face", () => {
  it("reads model.bin and splits fused q/k/v into transformers' tensors", () => {
    const m = parseCt2(ct2File(tinyWhisper(), ALIAS));
    expect(m.spec).toBe("WhisperSpec");
    expect(m.revision).toBe(3);
    expect(m.aliases.get("decoder/projection/weight")).toBe("decoder/embeddings/weight");
    expect(whisperDims(m)).toEqual({ nMels: 3, dModel: 2, nAudioCtx: 4, nTextCtx: 3, vocabSize: 5, encoderLayers: 1, decoderLayers: 1, encoderHeads: 1, decoderHeads: 1 });
    const t = new Map(ct2ToHfTensors(m).map((x) => [x.name, x]));
    const sa = "model.decoder.layers.0.self_attn";
    expect(floats(t.get(`${sa}.q_proj.weight`)!.data)).toEqual(seq(4, 100));
    expect(floats(t.get(`${sa}.k_proj.weight`)!.data)).toEqual(seq(4, 104));
    expect(floats(t.get(`${sa}.v_proj.weight`)!.data)).toEqual(seq(4, 108));
    expect(floats(t.get(`${sa}.q_proj.bias`)!.data)).toEqual([0.5, 0.25]);
    expect(floats(t.get(`${sa}.v_proj.bias`)!.data)).toEqual([7, 8]);
    expect(t.has(`${sa}.k_proj.bias`)).toBe(false);
    const ca = "model.decoder.layers.0.encoder_attn";
    expect(floats(t.get(`${ca}.k_proj.weight`)!.data)).toEqual(seq(4, 400));
    expect(floats(t.get(`${ca}.v_proj.weight`)!.data)).toEqual(seq(4, 404));
    expect(floats(t.get(`${ca}.v_proj.bias`)!.data)).toEqual([3, 4]);
    expect(t.get("model.encoder.conv1.weight")!.shape).toEqual([2, 3, 3]);
    expect(floats(t.get("proj_out.weight")!.data)).toEqual(seq(10));
    expect(t.get("model.decoder.layers.0.fc1.weight")!.shape).toEqual([8, 2]);
    // transformers' state_dict order, which whisper.cpp's converter follows.
    expect([...t.keys()].slice(0, 8)).toEqual([
      "model.encoder.conv1.weight", "model.encoder.conv1.bias", "model.encoder.conv2.weight", "model.encoder.conv2.bias",
      "model.encoder.embed_positions.weight", "model.encoder.layers.0.self_attn.k_proj.weight",
      "model.encoder.layers.0.self_attn.v_proj.weight", "model.encoder.layers.0.self_attn.v_proj.bias",
    ]);
    expect(t.size).toBe(22 + 28 + 1); // encoder, decoder, proj_out
  });

  it("rejects a nonzero key bias, truncated files, other specs and quantized weights", () => {
    expect(() => ct2ToHfTensors(parseCt2(ct2File(tinyWhisper(0.5), ALIAS)))).toThrow("'decoder/layer_0/self_attention/linear_0/bias' has a nonzero key bias");
    const full = ct2File(tinyWhisper(), ALIAS);
    expect(() => parseCt2(full.subarray(0, 300))).toThrow(/model\.bin: truncated at byte \d+ reading/);
    expect(() => parseCt2(Buffer.concat([full, Buffer.from([1])]))).toThrow("1 trailing bytes after the aliases");
    const v5 = Buffer.from(full); v5.writeUInt32LE(5, 0);
    expect(() => parseCt2(v5)).toThrow("CTranslate2 binary version 5 is not supported (expected 6)");
    const int8 = tinyWhisper().map((v): Var => (v[0] === "decoder/embeddings/weight" ? [v[0], v[1], "int8", v[3]] : v));
    expect(() => ct2ToHfTensors(parseCt2(ct2File(int8, ALIAS)))).toThrow("'decoder/embeddings/weight' is int8; only float16/float32 models are supported");
  });

  it("names tensors as whisper.cpp's convert-h5-to-ggml.py does", () => {
    expect(ggmlName("model.encoder.layers.3.self_attn.k_proj.weight")).toBe("encoder.blocks.3.attn.key.weight");
    expect(ggmlName("model.decoder.layers.1.encoder_attn.k_proj.weight")).toBe("decoder.blocks.1.cross_attn.key.weight");
    expect(ggmlName("model.decoder.layers.1.fc2.bias")).toBe("decoder.blocks.1.mlp.2.bias");
    expect(ggmlName("model.decoder.embed_tokens.weight")).toBe("decoder.token_embedding.weight");
    expect(ggmlName("model.encoder.conv1.bias")).toBe("encoder.conv1.bias");
  });
});
