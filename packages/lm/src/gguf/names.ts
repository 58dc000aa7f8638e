// llama.cpp tensor names (gguf-py's MODEL_TENSOR names) back to Hugging Face checkpoint keys, and
// the two value changes llama.cpp's convert_hf_to_gguf.py makes on the way in:
// - llama (LlamaModel.permute): q_proj / k_proj rows of each head reordered from rotate-half pairs
//   (i, i + d/2) to adjacent pairs (2i, 2i + 1) for its interleaved rope; undone here by a row
//   gather, which works on quantized rows too (blocks never straddle rows).
// - Gemma 1/2/3 (norm_shift): every "*norm.weight" is stored as 1 + weight, the factor
//   Gemma's RMSNorm applies; 1 is subtracted back (in float32: the model's 1 + w then gives the
//   file's value exactly for |1 + w| in [0.5, 2], the usual range).
// Qwen 2/3 and Gemma keep Hugging Face's rope layout (NEOX in llama.cpp), so nothing to undo there.

// Per-block tensors (blk.N.<name>) shared by the architectures here.
const BLOCK: Record<string, string> = {
  attn_norm: "input_layernorm",
  attn_q: "self_attn.q_proj",
  attn_k: "self_attn.k_proj",
  attn_v: "self_attn.v_proj",
  attn_output: "self_attn.o_proj",
  attn_q_norm: "self_attn.q_norm",
  attn_k_norm: "self_attn.k_norm",
  ffn_gate: "mlp.gate_proj",
  ffn_up: "mlp.up_proj",
  ffn_down: "mlp.down_proj",
  ffn_norm: "post_attention_layernorm",
};
// Gemma 2/3 normalize before and after both attention and MLP.
const GEMMA_NORMS: Record<string, string> = {
  ffn_norm: "pre_feedforward_layernorm",
  post_attention_norm: "post_attention_layernorm",
  post_ffw_norm: "post_feedforward_layernorm",
};
const GLOBAL: Record<string, string> = {
  token_embd: "model.embed_tokens",
  output_norm: "model.norm",
  output: "lm_head",
};

/** What becomes of one GGUF tensor. */
export interface TensorMapping {
  /** The Hugging Face key. */
  key: string;
  /** Reverse llama.cpp's rope row permutation, with this many heads. */
  unpermuteHeads?: number;
  /** Subtract 1 (Gemma norms). */
  unshiftNorm?: boolean;
}

/**
 * The HF key of GGUF tensor `name` for architecture `arch` (general.architecture), or undefined
 * when it has none. `heads` / `kvHeads` size the llama rope un-permutation.
 */
export function hfTensor(name: string, arch: string, heads: number, kvHeads: number): TensorMapping | undefined {
  const m = /^(?:blk\.(\d+)\.)?([a-z0-9_]+)\.(weight|bias)$/.exec(name);
  if (!m) return undefined;
  const [, block, base, kind] = m;
  const gemma = arch.startsWith("gemma");
  let key: string | undefined;
  if (block === undefined) {
    const g = GLOBAL[base];
    key = g && `${g}.${kind}`;
  } else {
    const local = (arch === "gemma2" || arch === "gemma3" ? GEMMA_NORMS[base] : undefined) ?? BLOCK[base];
    key = local && `model.layers.${block}.${local}.${kind}`;
  }
  if (!key) return undefined;
  const out: TensorMapping = { key };
  if (arch === "llama" && block !== undefined && (base === "attn_q" || base === "attn_k")) out.unpermuteHeads = base === "attn_q" ? heads : kvHeads;
  if (gemma && kind === "weight" && base.endsWith("norm")) out.unshiftNorm = true;
  return out;
}

/**
 * Row order that undoes llama.cpp's permute for `rows` rows in `heads` heads: HF row
 * h * d + j * d/2 + i is GGUF row h * d + 2i + j.
 */
export function unpermuteRows(rows: number, heads: number): Int32Array {
  const d = rows / heads;
  if (!Number.isInteger(d) || d % 2) throw new Error(`cannot undo llama.cpp's rope permutation: ${rows} rows are not ${heads} heads of an even size`);
  const idx = new Int32Array(rows);
  for (let h = 0; h < heads; h++)
    for (let j = 0; j < 2; j++)
      for (let i = 0; i < d / 2; i++) idx[h * d + j * (d / 2) + i] = h * d + 2 * i + j;
  return idx;
}
