// The Hugging Face config.json equivalent of a GGUF file's `<arch>.*` metadata, for the
// architectures llama.cpp's convert_hf_to_gguf.py writes and this package runs. Keys follow
// transformers' GGUF mapping (integrations/gguf); what GGUF leaves out is filled with the values
// llama.cpp itself assumes (Gemma 3: local rope base 10000, 5 local layers per global one,
// query_pre_attn_scalar = head_dim but hidden / heads for the 62-layer 27B).
import type { GgufMetadata } from "./metadata.js";

export type HfConfig = Record<string, unknown>;

/** GGUF general.architecture -> HF model_type. */
const MODEL_TYPES: Record<string, string> = {
  llama: "llama", qwen2: "qwen2", qwen3: "qwen3", gemma: "gemma", gemma2: "gemma2", gemma3: "gemma3_text",
};
const ARCHITECTURES: Record<string, string> = {
  llama: "LlamaForCausalLM", qwen2: "Qwen2ForCausalLM", qwen3: "Qwen3ForCausalLM", gemma: "GemmaForCausalLM",
  gemma2: "Gemma2ForCausalLM", gemma3_text: "Gemma3ForCausalLM",
};

/** The GGUF architectures readGgufCheckpoint maps. */
export const GGUF_ARCHITECTURES = Object.keys(MODEL_TYPES);

export interface ConfigInputs {
  meta: GgufMetadata;
  /** Every tensor name in the file. */
  tensors: ReadonlySet<string>;
  /** Rows of token_embd.weight (the model's vocabulary size). */
  vocabSize: number;
  /** HF rope_scaling recovered from a rope_freqs.weight tensor (Llama 3.1+), if any. */
  ropeScaling?: HfConfig;
}

/** HF rope_scaling from `<arch>.rope.scaling.*` metadata (linear, yarn), or undefined. */
function ropeScalingFromMeta(meta: GgufMetadata, arch: string): HfConfig | undefined {
  const type = meta.optStr(`${arch}.rope.scaling.type`);
  if (type === undefined || type === "none") return undefined;
  const factor = meta.num(`${arch}.rope.scaling.factor`);
  const orig = meta.optInt(`${arch}.rope.scaling.original_context_length`);
  if (type === "linear") return { rope_type: "linear", factor };
  if (type === "yarn") {
    const out: HfConfig = { rope_type: "yarn", factor };
    if (orig !== undefined) out.original_max_position_embeddings = orig;
    const fast = meta.optNum(`${arch}.rope.scaling.yarn_beta_fast`), slow = meta.optNum(`${arch}.rope.scaling.yarn_beta_slow`);
    if (fast !== undefined) out.beta_fast = fast;
    if (slow !== undefined) out.beta_slow = slow;
    return out;
  }
  return meta.fail(`${arch}.rope.scaling.type '${type}' is not supported (linear, yarn)`);
}

/** A positive count that must be one number for all layers (some files give per-layer arrays). */
function perModel(meta: GgufMetadata, key: string, fallback?: number): number {
  if (!meta.has(key) && fallback !== undefined) return fallback;
  const v = meta.values[key];
  if (Array.isArray(v)) meta.fail(`metadata '${key}' varies per layer, which is not supported`);
  return meta.int(key);
}

function common(inp: ConfigInputs, arch: string, modelType: string): HfConfig {
  const { meta, tensors } = inp;
  const p = `${arch}.`;
  const hidden = meta.int(`${p}embedding_length`);
  const heads = perModel(meta, `${p}attention.head_count`);
  const kvHeads = perModel(meta, `${p}attention.head_count_kv`, heads);
  const headDim = meta.optInt(`${p}attention.key_length`) ?? meta.optInt(`${p}rope.dimension_count`) ?? hidden / heads;
  if (!Number.isInteger(headDim)) meta.fail(`embedding_length ${hidden} is not a multiple of attention.head_count ${heads}`);
  const valueDim = meta.optInt(`${p}attention.value_length`);
  if (valueDim !== undefined && valueDim !== headDim) meta.fail(`attention.value_length ${valueDim} differs from key_length ${headDim}, which is not supported`);
  if (meta.has(`${p}expert_count`) && meta.int(`${p}expert_count`) > 0) meta.fail(`mixture-of-experts GGUF files (${p}expert_count) are not supported yet`);
  const cfg: HfConfig = {
    architectures: [ARCHITECTURES[modelType]],
    model_type: modelType,
    hidden_size: hidden,
    intermediate_size: perModel(meta, `${p}feed_forward_length`),
    num_hidden_layers: meta.int(`${p}block_count`),
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    rms_norm_eps: meta.num(`${p}attention.layer_norm_rms_epsilon`),
    rope_theta: meta.optNum(`${p}rope.freq_base`) ?? 10000,
    max_position_embeddings: meta.optInt(`${p}context_length`) ?? 4096,
    vocab_size: inp.vocabSize,
    tie_word_embeddings: !tensors.has("output.weight"),
    attention_bias: tensors.has("blk.0.attn_q.bias"),
  };
  const rotary = meta.optInt(`${p}rope.dimension_count`);
  if (rotary !== undefined && rotary !== headDim) cfg.partial_rotary_factor = rotary / headDim;
  const scaling = inp.ropeScaling ?? ropeScalingFromMeta(meta, arch);
  cfg.rope_scaling = scaling ?? null;
  return cfg;
}

function gemmaConfig(inp: ConfigInputs, arch: string, modelType: string): HfConfig {
  const { meta } = inp;
  const cfg = common(inp, arch, modelType);
  const layers = cfg.num_hidden_layers as number;
  cfg.hidden_activation = "gelu_pytorch_tanh";
  if (arch === "gemma") return cfg;
  cfg.sliding_window = meta.int(`${arch}.attention.sliding_window`);
  // llama.cpp: 1 / sqrt(head_dim), but 1 / sqrt(hidden / heads) for the 27B models.
  const big = (arch === "gemma2" && layers === 46) || (arch === "gemma3" && layers === 62);
  cfg.query_pre_attn_scalar = big ? (cfg.hidden_size as number) / (cfg.num_attention_heads as number) : cfg.head_dim;
  cfg.final_logit_softcapping = meta.optNum(`${arch}.final_logit_softcapping`) ?? null;
  cfg.attn_logit_softcapping = meta.optNum(`${arch}.attn_logit_softcapping`) ?? null;
  // Local (sliding) and global layers: Gemma 2 alternates, Gemma 3 has 5 local per global.
  const pattern = meta.optInt(`${arch}.attention.sliding_window_pattern`) ?? (arch === "gemma2" ? 2 : 6);
  cfg.sliding_window_pattern = pattern;
  cfg.layer_types = Array.from({ length: layers }, (_, i) => ((i + 1) % pattern ? "sliding_attention" : "full_attention"));
  if (arch === "gemma3") cfg.rope_local_base_freq = meta.optNum(`${arch}.rope.freq_base_swa`) ?? 10000;
  return cfg;
}

/** config.json for the file's architecture; throws naming the supported ones otherwise. */
export function ggufConfig(inp: ConfigInputs): HfConfig {
  const { meta } = inp;
  const arch = meta.str("general.architecture");
  const modelType = MODEL_TYPES[arch];
  if (!modelType) meta.fail(`GGUF architecture '${arch}' is not supported (supported: ${GGUF_ARCHITECTURES.join(", ")})`);
  const cfg = arch.startsWith("gemma") ? gemmaConfig(inp, arch, modelType) : common(inp, arch, modelType);
  if (arch === "llama" || arch === "qwen2" || arch === "qwen3") {
    cfg.hidden_act = "silu";
    cfg.mlp_bias = inp.tensors.has("blk.0.ffn_up.bias");
  }
  if (arch === "qwen2") {
    // Qwen 2 always has q/k/v biases and never an o_proj one: its config has no attention_bias.
    delete cfg.attention_bias;
    cfg.use_sliding_window = false;
  }
  const ids = { bos_token_id: "bos_token_id", eos_token_id: "eos_token_id", pad_token_id: "padding_token_id" };
  for (const [hf, g] of Object.entries(ids)) {
    const v = meta.optInt(`tokenizer.ggml.${g}`);
    if (v !== undefined) cfg[hf] = v;
  }
  return cfg;
}

/**
 * HF's llama3 rope_scaling from the per-frequency divisors llama.cpp's converter stores as
 * rope_freqs.weight (Llama 3.1+): the factor is the largest divisor, the low/high frequency factors
 * those of the published models (1, 4), the original context the first power of two (8192 first)
 * that reproduces every stored value. Throws when none does.
 */
export function llama3RopeScaling(factors: Float32Array, base: number, headDim: number, source: string): HfConfig {
  const factor = float32Max(factors);
  for (const orig of [8192, ...Array.from({ length: 17 }, (_, k) => 2 ** (k + 4))]) {
    const cand = { rope_type: "llama3", factor, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: orig };
    if (llama3Factors(cand, base, headDim).every((f, i) => Math.abs(f - factors[i]) <= 1e-5 * Math.abs(f))) return cand;
  }
  throw new Error(`readGgufCheckpoint: ${source}: rope_freqs.weight is not a llama3 rope scaling this reader recognizes`);
}

function float32Max(a: Float32Array): number {
  let m = -Infinity;
  for (const v of a) m = Math.max(m, v);
  return Number(m.toPrecision(7));
}

/** The divisors convert_hf_to_gguf.py writes for a llama3 rope_scaling (LlamaModel.generate_extra_tensors). */
function llama3Factors(c: { factor: number; low_freq_factor: number; high_freq_factor: number; original_max_position_embeddings: number }, base: number, dim: number): number[] {
  const lowWave = c.original_max_position_embeddings / c.low_freq_factor, highWave = c.original_max_position_embeddings / c.high_freq_factor;
  const out: number[] = [];
  for (let i = 0; i < dim; i += 2) {
    const wave = (2 * Math.PI) / Math.fround(1 / Math.fround(base ** (i / dim)));
    if (wave < highWave) out.push(1);
    else if (wave > lowWave) out.push(c.factor);
    else {
      const smooth = (c.original_max_position_embeddings / wave - c.low_freq_factor) / (c.high_freq_factor - c.low_freq_factor);
      out.push(1 / ((1 - smooth) / c.factor + smooth));
    }
  }
  return out;
}
