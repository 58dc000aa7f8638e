// readGgufCheckpoint: a GGUF file (llama.cpp's convert_hf_to_gguf.py layout) as a Hugging Face
// shaped checkpoint: config.json, tokenizer.json and tokenizer_config.json equivalents, and tensors
// under HF keys. Quantized tensors stay the file's ggml blocks (uint8 [rows, rowBytes], viewing the
// mapped file) and are listed in `ggmlTypes` by module path, for nn.useGgmlWeights.
import { Tensor, io, subtract, take } from "@tessera/core";
import { GGUF_ARCHITECTURES, ggufConfig, llama3RopeScaling } from "./config.js";
import type { HfConfig } from "./config.js";
import { GgufMetadata } from "./metadata.js";
import { hfTensor, unpermuteRows } from "./names.js";
import { ggufTokenizer } from "./tokenizer.js";
import type { TokenizerConfigJson, TokenizerJson } from "../tokenizer/config.js";

export interface GgufCheckpoint {
  /** HF model_type (gemma3_text, llama, qwen2, qwen3, gemma, gemma2). */
  modelType: string;
  /** The config.json equivalent. */
  config: HfConfig;
  /** tokenizer.json built from the GGUF vocabulary. */
  tokenizerJson: TokenizerJson;
  /** tokenizer_config.json fields (special tokens, add_bos_token, chat_template when present). */
  tokenizerConfig: TokenizerConfigJson;
  /** Tensors by HF key: float tensors as stored (F32/F16/BF16), quantized ones as raw blocks. */
  weights: Map<string, Tensor>;
  /** Module path (HF key without ".weight") -> ggml type name, for every block-quantized weight. */
  ggmlTypes: Map<string, string>;
  /** The file's general.* metadata that says what the model is (name, file_type, ...). */
  general: Record<string, io.GGUFValue>;
}

function openGguf(path: string): io.GGUFFile {
  try {
    return io.readGGUF(path);
  } catch (e) {
    throw new Error(`readGgufCheckpoint: ${(e as Error).message}`);
  }
}

/** Rope scaling stored as a tensor (llama.cpp's rope_freqs.weight for Llama 3.1+). */
function ropeFreqs(g: io.GGUFFile, meta: GgufMetadata, names: ReadonlySet<string>): HfConfig | undefined {
  if (!names.has("rope_freqs.weight")) return undefined;
  const arch = meta.str("general.architecture");
  const factors = g.dequantize("rope_freqs.weight").dataSync() as Float32Array;
  const hidden = meta.int(`${arch}.embedding_length`), heads = meta.int(`${arch}.attention.head_count`);
  const dim = meta.optInt(`${arch}.rope.dimension_count`) ?? hidden / heads;
  if (factors.length !== dim / 2) meta.fail(`rope_freqs.weight has ${factors.length} values, expected ${dim / 2}`);
  return llama3RopeScaling(factors, meta.optNum(`${arch}.rope.freq_base`) ?? 10000, dim, g.path);
}

/**
 * Reads a GGUF file as an HF-shaped checkpoint. Every tensor is mapped to an HF key or the call
 * throws naming it; llama.cpp's q/k row permutation (llama) and Gemma's stored 1 + norm weights
 * are undone. A truncated or corrupt file, an unsupported architecture or tokenizer throws an
 * Error naming the file and the problem. The tensors view the memory-mapped file.
 */
export function readGgufCheckpoint(path: string): GgufCheckpoint {
  const g = openGguf(path);
  try {
    const meta: GgufMetadata = new GgufMetadata(g.metadata, g.metadataTypes, path);
    const arch = meta.str("general.architecture");
    if (!GGUF_ARCHITECTURES.includes(arch)) meta.fail(`GGUF architecture '${arch}' is not supported (supported: ${GGUF_ARCHITECTURES.join(", ")})`);
    const names = new Set(g.tensors.map((t) => t.name));
    if (!names.has("token_embd.weight")) meta.fail("no token_embd.weight tensor");
    const vocabSize = g.info("token_embd.weight").shape[0];
    const config = ggufConfig({ meta, tensors: names, vocabSize, ropeScaling: ropeFreqs(g, meta, names) });
    const { tokenizerJson, tokenizerConfig } = ggufTokenizer(meta);
    const heads = config.num_attention_heads as number, kvHeads = config.num_key_value_heads as number;
    const weights = new Map<string, Tensor>();
    const ggmlTypes = new Map<string, string>();
    for (const info of g.tensors) {
      if (info.name === "rope_freqs.weight") continue; // folded into config.rope_scaling
      const m = hfTensor(info.name, arch, heads, kvHeads);
      if (!m) meta.fail(`tensor '${info.name}' has no Hugging Face counterpart in a ${arch} model`);
      const type = io.ggmlType(info.typeId)!;
      const quantized = type.dtype === undefined && type.name !== "F64";
      let t = g.tensor(info.name);
      if (m.unpermuteHeads !== undefined) t = take(t, unpermuteRows(t.shape[0], m.unpermuteHeads), 0);
      if (m.unshiftNorm) {
        if (quantized) meta.fail(`norm tensor '${info.name}' is ${type.name}; expected a float type`);
        t = subtract(t, 1);
      }
      weights.set(m.key, t);
      if (quantized) {
        if (info.shape.length !== 2 || !m.key.endsWith(".weight")) meta.fail(`quantized tensor '${info.name}' (${type.name}) must be a 2-D weight`);
        ggmlTypes.set(m.key.slice(0, -".weight".length), type.name);
      }
    }
    const general = Object.fromEntries(Object.entries(g.metadata).filter(([k]) => k.startsWith("general.")));
    return { modelType: config.model_type as string, config, tokenizerJson, tokenizerConfig, weights, ggmlTypes, general };
  } finally {
    g.close();
  }
}
