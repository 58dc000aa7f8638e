// The few real conversions between Whisper checkpoint layouts and ours (mlx-examples' keys,
// channels-last convolutions), plus reading dimensions from each layout's config.
import { Tensor, reshape, swapaxes } from "@tessera/core";
import { checkDimensions } from "./whisper.js";
import type { ModelDimensions } from "./whisper.js";

export type WeightMap = Map<string, Tensor>;

// transformers -> mlx-examples (the renames of mlx_whisper's own HF conversion), applied in order.
const HF_RENAMES: [string, string][] = [
  [".layers.", ".blocks."],
  [".self_attn_layer_norm.", ".attn_ln."],
  [".self_attn.", ".attn."],
  [".encoder_attn_layer_norm.", ".cross_attn_ln."],
  [".encoder_attn.", ".cross_attn."],
  [".final_layer_norm.", ".mlp_ln."],
  [".q_proj.", ".query."],
  [".k_proj.", ".key."],
  [".v_proj.", ".value."],
  [".out_proj.", ".out."],
  [".fc1.", ".mlp1."],
  [".fc2.", ".mlp2."],
  ["decoder.embed_positions.weight", "decoder.positional_embedding"],
  ["decoder.embed_tokens.", "decoder.token_embedding."],
  ["encoder.layer_norm.", "encoder.ln_post."],
  ["decoder.layer_norm.", "decoder.ln."],
];

// PyTorch Conv1d weights are [out, in, kernel]; ours (MLX's) are [out, kernel, in].
function channelsLast(w: Tensor): Tensor {
  return swapaxes(w, 1, 2);
}

const isConvWeight = (k: string) => /^encoder\.conv[12]\.weight$/.test(k);

/**
 * Hugging Face `WhisperForConditionalGeneration` (or `WhisperModel`) weights to ours: renames,
 * conv weights to channels-last; drops the tied `proj_out.weight` and the encoder's stored
 * sinusoidal positions (recomputed).
 */
export function sanitizeHf(weights: WeightMap): WeightMap {
  const out: WeightMap = new Map();
  for (const [name, w] of weights) {
    let k = name.startsWith("model.") ? name.slice("model.".length) : name;
    if (k === "proj_out.weight" || k === "encoder.embed_positions.weight") continue;
    for (const [a, b] of HF_RENAMES) k = k.replace(a, b);
    out.set(k, isConvWeight(k) && w.ndim === 3 ? channelsLast(w) : w);
  }
  return out;
}

/**
 * mlx-community (mlx-examples convert.py) weights: already our layout. `alignment_heads`, which
 * MLX's Whisper keeps among its parameters, is taken out and returned apart.
 */
export function sanitizeMlx(weights: WeightMap): { weights: WeightMap; alignmentHeads?: Tensor } {
  const out: WeightMap = new Map(weights);
  const alignmentHeads = out.get("alignment_heads");
  out.delete("alignment_heads");
  // Conversions that kept the encoder's (computed) positions are tolerated.
  out.delete("encoder.positional_embedding");
  return { weights: out, alignmentHeads };
}

/**
 * whisper.cpp ggml weights (openai-whisper's state-dict names and PyTorch layouts): mlp.0 / mlp.2
 * to mlp1 / mlp2, conv weights to channels-last, conv biases from [n, 1] to [n]; the stored
 * encoder positions are dropped (recomputed).
 */
export function sanitizeGgml(weights: WeightMap): WeightMap {
  const out: WeightMap = new Map();
  for (const [name, w] of weights) {
    if (name === "encoder.positional_embedding") continue;
    const k = name.replace(".mlp.0.", ".mlp1.").replace(".mlp.2.", ".mlp2.");
    if (isConvWeight(k) && w.ndim === 3) out.set(k, channelsLast(w));
    else if (/^encoder\.conv[12]\.bias$/.test(k) && w.ndim === 2) out.set(k, reshape(w, [w.shape[0]]));
    else out.set(k, w);
  }
  return out;
}

/** Dimensions from a Hugging Face WhisperConfig (config.json with model_type "whisper"). */
export function dimsFromHfConfig(c: Record<string, unknown>, source: string): ModelDimensions {
  const d = c.d_model as number;
  for (const [k, expected] of [["encoder_ffn_dim", 4 * d], ["decoder_ffn_dim", 4 * d]] as const)
    if (c[k] !== undefined && c[k] !== expected)
      throw new Error(`${source}: ${k} is ${String(c[k])}; this Whisper supports only 4 * d_model (${expected}), as every openai model has`);
  if (c.scale_embedding === true) throw new Error(`${source}: scale_embedding=true is not supported (no openai Whisper model uses it)`);
  if (c.activation_function !== undefined && c.activation_function !== "gelu")
    throw new Error(`${source}: activation_function "${String(c.activation_function)}" is not supported (expected "gelu")`);
  return checkDimensions({
    n_mels: c.num_mel_bins, n_audio_ctx: c.max_source_positions, n_audio_state: d,
    n_audio_head: c.encoder_attention_heads, n_audio_layer: c.encoder_layers, n_vocab: c.vocab_size,
    n_text_ctx: c.max_target_positions, n_text_state: d, n_text_head: c.decoder_attention_heads,
    n_text_layer: c.decoder_layers,
  }, source);
}
