// CTranslate2 WhisperSpec (faster-whisper's model.bin) -> a Hugging Face `openai/whisper-*` folder:
// the inverse of ctranslate2's converters/transformers.py WhisperLoader (which fuses q/k/v into
// linear_0 with a zero key bias, renames everything, and ties proj_out to the token embedding).
import { ct2Get, ct2Int } from "./ct2.js";
import type { Ct2Model, Ct2Variable } from "./ct2.js";

export interface RawTensor {
  name: string;
  dtype: "F16" | "F32";
  shape: number[];
  data: Uint8Array;
}

export interface WhisperCt2Dims {
  nMels: number;
  nAudioCtx: number;
  nTextCtx: number;
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  encoderHeads: number;
  decoderHeads: number;
  vocabSize: number;
}

/** faster-whisper's config.json beside model.bin. */
export interface Ct2WhisperConfig {
  alignment_heads?: [number, number][];
  lang_ids?: number[];
  suppress_ids?: number[];
  suppress_ids_begin?: number[];
}

const DTYPE: Record<string, RawTensor["dtype"]> = { float16: "F16", float32: "F32" };

function countLayers(m: Ct2Model, prefix: string): number {
  let n = 0;
  while (m.variables.has(`${prefix}/layer_${n}/ffn/linear_0/weight`)) n++;
  return n;
}

/** Model dimensions read off the variables' shapes, checked against the WhisperSpec scalars. */
export function whisperDims(m: Ct2Model): WhisperCt2Dims {
  if (m.spec !== "WhisperSpec") throw new Error(`model.bin: spec is '${m.spec}', expected WhisperSpec`);
  const shape = (n: string) => {
    const v = ct2Get(m, n);
    if (!v) throw new Error(`model.bin: missing '${n}'`);
    return v.shape;
  };
  const [dModel, nMels] = shape("encoder/conv1/weight");
  const dims: WhisperCt2Dims = {
    nMels, dModel,
    nAudioCtx: shape("encoder/position_encodings/encodings")[0],
    nTextCtx: shape("decoder/position_encodings/encodings")[0],
    vocabSize: shape("decoder/embeddings/weight")[0],
    encoderLayers: countLayers(m, "encoder"),
    decoderLayers: countLayers(m, "decoder"),
    encoderHeads: ct2Int(m, "encoder/num_heads"),
    decoderHeads: ct2Int(m, "decoder/num_heads"),
  };
  // GELU (common_spec.Activation.GELU = 3), pre-norm, unscaled embeddings: what every Whisper is.
  const expect: [string, number][] = [["decoder/activation", 3], ["decoder/pre_norm", 1], ["decoder/scale_embeddings", 0], ["decoder/alibi", 0]];
  for (const [n, v] of expect)
    if (m.variables.has(n) && ct2Int(m, n) !== v) throw new Error(`model.bin: '${n}' is ${ct2Int(m, n)}, expected ${v} for Whisper`);
  if (dims.encoderLayers === 0 || dims.decoderLayers === 0) throw new Error("model.bin: no encoder/decoder layers found");
  return dims;
}

/**
 * The Hugging Face WhisperForConditionalGeneration tensors, in its state_dict order (which
 * whisper.cpp's convert-h5-to-ggml.py follows), including the tied `proj_out.weight`.
 * Every non-scalar CT2 variable is used exactly once; the fused key biases must be zero.
 */
export function ct2ToHfTensors(m: Ct2Model): RawTensor[] {
  const dims = whisperDims(m);
  const d = dims.dModel;
  const used = new Set<string>();
  const out: RawTensor[] = [];
  const get = (n: string): Ct2Variable => {
    const v = ct2Get(m, n);
    if (!v) throw new Error(`model.bin: missing '${n}'`);
    used.add(m.aliases.get(n) ?? n);
    if (!(v.dtype in DTYPE)) throw new Error(`model.bin: '${n}' is ${v.dtype}; only float16/float32 models are supported (not int8-quantized ones)`);
    return v;
  };
  const put = (name: string, v: Ct2Variable, rows?: [number, number]) => {
    if (!rows) {
      out.push({ name, dtype: DTYPE[v.dtype], shape: [...v.shape], data: v.data });
      return;
    }
    const rowBytes = v.data.byteLength / v.shape[0];
    out.push({
      name, dtype: DTYPE[v.dtype], shape: [rows[1] - rows[0], ...v.shape.slice(1)],
      data: v.data.subarray(rows[0] * rowBytes, rows[1] * rowBytes),
    });
  };
  const zero = (n: string, v: Ct2Variable, rows: [number, number]) => {
    const rowBytes = v.data.byteLength / v.shape[0];
    const bytes = v.data.subarray(rows[0] * rowBytes, rows[1] * rowBytes);
    // float16/float32 zero (or -0): every byte zero except maybe the sign bit.
    const item = v.dtype === "float16" ? 2 : 4;
    for (let i = 0; i < bytes.length; i += item)
      for (let j = 0; j < item; j++) if ((bytes[i + j] & (j === item - 1 ? 0x7f : 0xff)) !== 0)
        throw new Error(`model.bin: '${n}' has a nonzero key bias; Whisper's k_proj has none`);
  };
  const linear = (hf: string, ct: string) => {
    put(`${hf}.weight`, get(`${ct}/weight`));
    put(`${hf}.bias`, get(`${ct}/bias`));
  };
  const norm = (hf: string, ct: string) => {
    put(`${hf}.weight`, get(`${ct}/gamma`));
    put(`${hf}.bias`, get(`${ct}/beta`));
  };
  // HF WhisperAttention registers k_proj, v_proj, q_proj, out_proj in that order.
  const fusedQkv = (hf: string, ct: string) => {
    const w = get(`${ct}/linear_0/weight`), b = get(`${ct}/linear_0/bias`);
    if (w.shape[0] !== 3 * d || b.shape[0] !== 3 * d) throw new Error(`model.bin: '${ct}/linear_0' is [${w.shape.join(", ")}], expected fused q/k/v [${3 * d}, ${d}]`);
    zero(`${ct}/linear_0/bias`, b, [d, 2 * d]);
    put(`${hf}.k_proj.weight`, w, [d, 2 * d]);
    put(`${hf}.v_proj.weight`, w, [2 * d, 3 * d]);
    put(`${hf}.v_proj.bias`, b, [2 * d, 3 * d]);
    put(`${hf}.q_proj.weight`, w, [0, d]);
    put(`${hf}.q_proj.bias`, b, [0, d]);
    linear(`${hf}.out_proj`, `${ct}/linear_1`);
  };
  const crossAttn = (hf: string, ct: string) => {
    const kv = get(`${ct}/linear_1/weight`), kvb = get(`${ct}/linear_1/bias`);
    if (kv.shape[0] !== 2 * d) throw new Error(`model.bin: '${ct}/linear_1' is [${kv.shape.join(", ")}], expected fused k/v [${2 * d}, ${d}]`);
    zero(`${ct}/linear_1/bias`, kvb, [0, d]);
    put(`${hf}.k_proj.weight`, kv, [0, d]);
    put(`${hf}.v_proj.weight`, kv, [d, 2 * d]);
    put(`${hf}.v_proj.bias`, kvb, [d, 2 * d]);
    linear(`${hf}.q_proj`, `${ct}/linear_0`);
    linear(`${hf}.out_proj`, `${ct}/linear_2`);
  };
  const ffn = (hf: string, ct: string) => {
    linear(`${hf}.fc1`, `${ct}/ffn/linear_0`);
    linear(`${hf}.fc2`, `${ct}/ffn/linear_1`);
    norm(`${hf}.final_layer_norm`, `${ct}/ffn/layer_norm`);
  };

  linear("model.encoder.conv1", "encoder/conv1");
  linear("model.encoder.conv2", "encoder/conv2");
  put("model.encoder.embed_positions.weight", get("encoder/position_encodings/encodings"));
  for (let i = 0; i < dims.encoderLayers; i++) {
    const hf = `model.encoder.layers.${i}`, ct = `encoder/layer_${i}`;
    fusedQkv(`${hf}.self_attn`, `${ct}/self_attention`);
    norm(`${hf}.self_attn_layer_norm`, `${ct}/self_attention/layer_norm`);
    ffn(hf, ct);
  }
  norm("model.encoder.layer_norm", "encoder/layer_norm");
  put("model.decoder.embed_tokens.weight", get("decoder/embeddings/weight"));
  put("model.decoder.embed_positions.weight", get("decoder/position_encodings/encodings"));
  for (let i = 0; i < dims.decoderLayers; i++) {
    const hf = `model.decoder.layers.${i}`, ct = `decoder/layer_${i}`;
    fusedQkv(`${hf}.self_attn`, `${ct}/self_attention`);
    norm(`${hf}.self_attn_layer_norm`, `${ct}/self_attention/layer_norm`);
    crossAttn(`${hf}.encoder_attn`, `${ct}/attention`);
    norm(`${hf}.encoder_attn_layer_norm`, `${ct}/attention/layer_norm`);
    ffn(hf, ct);
  }
  norm("model.decoder.layer_norm", "decoder/layer_norm");
  // Tied to the token embedding (the CT2 file aliases it; older files may store a copy).
  const proj = ct2Get(m, "decoder/projection/weight");
  if (proj) {
    used.add(m.aliases.get("decoder/projection/weight") ?? "decoder/projection/weight");
    const emb = get("decoder/embeddings/weight");
    if (proj !== emb && Buffer.compare(Buffer.from(proj.data), Buffer.from(emb.data)) !== 0)
      throw new Error("model.bin: decoder/projection/weight differs from the token embedding (untied output projection)");
  }
  put("proj_out.weight", get("decoder/embeddings/weight"));

  const unused = [...m.variables.values()].filter((v) => v.shape.length > 0 && !used.has(v.name)).map((v) => v.name);
  if (unused.length) throw new Error(`model.bin: unexpected variables ${unused.slice(0, 5).join(", ")}${unused.length > 5 ? ", ..." : ""}`);
  return out;
}

/** A safetensors file image (header + data, in the given order). */
export function safetensorsBytes(tensors: RawTensor[], metadata: Record<string, string> = { format: "pt" }): Buffer[] {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return [len, Buffer.from(json, "utf8"), ...tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
}
