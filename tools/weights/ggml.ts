// whisper.cpp's ggml .bin from a Hugging Face openai/whisper-* folder, written the way
// whisper.cpp's models/convert-h5-to-ggml.py writes it (same header, mel filters, vocabulary and
// tensor order, f16 matrices and f32 vectors / conv biases / positions), so the output equals that
// script's byte for byte (tools/weights/ggml-whispercpp.sh runs the script itself to check).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToUnicode, io } from "@tessera/core";
import type { RawTensor } from "./hf.js";
import { REPO_ROOT, cacheRoot, ensureWhisperBase, isComplete, writeAtomically } from "./whisper-base.js";
import type { EnsureResult } from "./whisper-base.js";

/** Reads a safetensors file into RawTensors (F16/F32 only), in file order. */
export function readSafetensors(path: string): RawTensor[] {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + n;
  const out: RawTensor[] = [];
  for (const [name, h] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (h.dtype !== "F16" && h.dtype !== "F32") throw new Error(`${path}: '${name}' is ${h.dtype}, expected F16/F32`);
    out.push({ name, dtype: h.dtype, shape: h.shape, data: buf.subarray(base + h.data_offsets[0], base + h.data_offsets[1]) });
  }
  return out.sort((a, b) => header[a.name].data_offsets[0] - header[b.name].data_offsets[0]);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function toFloat32(t: RawTensor): Buffer {
  if (t.dtype === "F32") return Buffer.from(t.data);
  const out = Buffer.alloc(t.data.byteLength * 2);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  for (let i = 0; i < t.data.byteLength / 2; i++) out.writeFloatLE(halfToFloat(dv.getUint16(2 * i, true)), 4 * i);
  return out;
}

const CONV_MAP: Record<string, string> = {
  "self_attn.k_proj": "attn.key", "self_attn.q_proj": "attn.query", "self_attn.v_proj": "attn.value",
  "self_attn.out_proj": "attn.out", self_attn_layer_norm: "attn_ln", "encoder_attn.q_proj": "cross_attn.query",
  "encoder_attn.v_proj": "cross_attn.value", "encoder_attn.out_proj": "cross_attn.out",
  encoder_attn_layer_norm: "cross_attn_ln", fc1: "mlp.0", fc2: "mlp.2", final_layer_norm: "mlp_ln",
  "encoder.layer_norm.bias": "encoder.ln_post.bias", "encoder.layer_norm.weight": "encoder.ln_post.weight",
  "encoder.embed_positions.weight": "encoder.positional_embedding", "decoder.layer_norm.bias": "decoder.ln.bias",
  "decoder.layer_norm.weight": "decoder.ln.weight", "decoder.embed_positions.weight": "decoder.positional_embedding",
  "decoder.embed_tokens.weight": "decoder.token_embedding.weight",
};

/** convert-h5-to-ggml.py's renaming of a transformers state_dict key. */
export function ggmlName(name: string): string {
  const nn = name.split(".").slice(1);
  if (nn[1] === "layers") {
    nn[1] = "blocks";
    const mid = nn.slice(3, -1).join(".");
    const mapped = mid === "encoder_attn.k_proj" ? (nn[0] === "encoder" ? "attn.key" : "cross_attn.key") : CONV_MAP[mid];
    if (!mapped) throw new Error(`ggml: no whisper.cpp name for '${name}'`);
    return [...nn.slice(0, 3), mapped, nn[nn.length - 1]].join(".");
  }
  const n = nn.join(".");
  return CONV_MAP[n] ?? n;
}

/**
 * The f16 ggml file of an HF Whisper folder. `melFilters` is openai's mel_filters.npz entry
 * mel_<n_mels> ([n_mels, 201] float32), as the script reads it from the openai/whisper repo.
 */
export function ggmlFromHf(hfDir: string, melFilters: { shape: number[]; data: Float32Array }): Buffer {
  const hp = JSON.parse(readFileSync(join(hfDir, "config.json"), "utf8")) as Record<string, number>;
  const vocab = JSON.parse(readFileSync(join(hfDir, "vocab.json"), "utf8")) as Record<string, number>;
  const tensors = readSafetensors(join(hfDir, "model.safetensors"));
  const chunks: Buffer[] = [];
  const ints = (...v: number[]) => {
    const b = Buffer.alloc(4 * v.length);
    v.forEach((x, i) => b.writeInt32LE(x, 4 * i));
    chunks.push(b);
  };
  const maxLength = Number.isInteger(hp.max_length) ? hp.max_length : (hp.max_target_positions ?? 448);
  ints(0x67676d6c, hp.vocab_size, hp.max_source_positions, hp.d_model, hp.encoder_attention_heads, hp.encoder_layers,
    maxLength, hp.d_model, hp.decoder_attention_heads, hp.decoder_layers, hp.num_mel_bins, 1);
  if (melFilters.shape[0] !== hp.num_mel_bins) throw new Error(`ggml: mel filters have ${melFilters.shape[0]} bins, the model ${hp.num_mel_bins}`);
  ints(melFilters.shape[0], melFilters.shape[1]);
  chunks.push(Buffer.from(melFilters.data.buffer, melFilters.data.byteOffset, melFilters.data.byteLength));
  // GPT-2's bytes_to_unicode, inverted: the unicode character of each byte back to the byte.
  const dec = new Map([...bytesToUnicode()].map(([b, c]) => [c, b]));
  const tokens = Object.entries(vocab).sort((a, b) => a[1] - b[1]);
  ints(tokens.length);
  for (const [token] of tokens) {
    const bytes = Buffer.from([...token].map((c) => {
      const b = dec.get(c);
      if (b === undefined) throw new Error(`ggml: vocab.json token ${JSON.stringify(token)} is not byte-level BPE`);
      return b;
    }));
    ints(bytes.length);
    chunks.push(bytes);
  }
  for (const t of tensors) {
    if (t.name === "proj_out.weight") continue; // tied to the token embedding
    const name = ggmlName(t.name);
    let shape = t.shape.filter((d) => d !== 1); // numpy squeeze()
    if (name === "encoder.conv1.bias" || name === "encoder.conv2.bias") shape = [shape[0], 1];
    const f32 = shape.length < 2 || name === "encoder.conv1.bias" || name === "encoder.conv2.bias" ||
      name === "encoder.positional_embedding" || name === "decoder.positional_embedding";
    if (!f32 && t.dtype !== "F16") throw new Error(`ggml: '${t.name}' is ${t.dtype}; the f16 writer expects float16 weights`);
    const nameBytes = Buffer.from(name, "utf8");
    ints(shape.length, nameBytes.length, f32 ? 0 : 1, ...[...shape].reverse());
    chunks.push(nameBytes, f32 ? toFloat32(t) : Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return Buffer.concat(chunks);
}

/** openai's mel filterbank for n_mels, from @tessera/whisper's assets (the same mel_filters.npz). */
export function openaiMelFilters(nMels: number): { shape: number[]; data: Float32Array } {
  const path = join(REPO_ROOT, "packages", "whisper", "assets", "mel_filters.npz");
  const t = io.readNpz(path).tensors.get(`mel_${nMels}`);
  if (!t || t.dtype !== "float32") throw new Error(`${path}: no float32 mel_${nMels}`);
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
}

/** Ensures `<cache>/whisper-base-ggml/ggml-base.bin` (f16, from the HF folder). */
export async function ensureWhisperBaseGgml(): Promise<EnsureResult & { file?: string }> {
  const hf = await ensureWhisperBase();
  if ("skipped" in hf) return hf;
  const dir = join(cacheRoot(), "whisper-base-ggml");
  const file = join(dir, "ggml-base.bin");
  if (isComplete(dir)) return { dir, file };
  const nMels = (JSON.parse(readFileSync(join(hf.dir, "config.json"), "utf8")) as { num_mel_bins: number }).num_mel_bins;
  await writeAtomically(dir, { model: "openai/whisper-base", from: "openai-whisper-base (HF), as whisper.cpp's convert-h5-to-ggml.py writes it" }, (tmp) => {
    writeFileSync(join(tmp, "ggml-base.bin"), ggmlFromHf(hf.dir, openaiMelFilters(nMels)));
  });
  return { dir, file };
}
