// The JSON files of a Hugging Face openai/whisper-* folder, rebuilt from faster-whisper's
// config.json + tokenizer.json and the model's dimensions.
import type { Ct2WhisperConfig, WhisperCt2Dims } from "./hf.js";

interface AddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

interface TokenizerJson {
  added_tokens: AddedToken[];
  model: { type: string; vocab: Record<string, number>; merges: (string | [string, string])[] } & Record<string, unknown>;
  [k: string]: unknown;
}

const EOT = "<|endoftext|>";

/**
 * The tokenizer.json shipped with faster-whisper's older conversions, brought to today's
 * openai/whisper-* form: the first BPE merge "Ġ t" that the early HF conversion dropped is
 * restored, <|nocaptions|> is <|nospeech|>, and the 1501 timestamp tokens are added tokens.
 * Files already in that form pass through unchanged (apart from key order).
 */
export function normalizeTokenizer(json: TokenizerJson, vocabSize: number): TokenizerJson {
  if (json.model?.type !== "BPE") throw new Error("tokenizer.json: expected a BPE model");
  const vocab = { ...json.model.vocab };
  delete vocab[EOT]; // an added (special) token, not a BPE one
  const merges = json.model.merges.map((m) => (typeof m === "string" ? m : m.join(" ")));
  if (vocab["Ġt"] === 256 && merges[0] !== "Ġ t") merges.unshift("Ġ t");
  const added = json.added_tokens.map((t) => (t.content === "<|nocaptions|>" ? { ...t, content: "<|nospeech|>" } : { ...t }));
  const noTimestamps = added.find((t) => t.content === "<|notimestamps|>");
  if (!noTimestamps) throw new Error("tokenizer.json: no <|notimestamps|> token");
  if (!added.some((t) => t.content === "<|0.00|>"))
    for (let id = noTimestamps.id + 1, i = 0; id < vocabSize; id++, i++)
      added.push({ id, content: `<|${(i * 0.02).toFixed(2)}|>`, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
  if (added[added.length - 1].id !== vocabSize - 1) throw new Error(`tokenizer.json: the last token is ${added[added.length - 1].id}, the model has ${vocabSize}`);
  return { ...json, added_tokens: added, model: { ...json.model, vocab, merges } };
}

/** vocab.json, merges.txt, added_tokens.json, special_tokens_map.json, tokenizer_config.json. */
export function slowTokenizerFiles(tok: TokenizerJson): Record<string, string> {
  const eot = tok.added_tokens.find((t) => t.content === EOT);
  if (!eot) throw new Error("tokenizer.json: no <|endoftext|> token");
  const vocab: Record<string, number> = { ...tok.model.vocab, [EOT]: eot.id };
  const added: Record<string, number> = {};
  for (const t of tok.added_tokens) if (t.content !== EOT) added[t.content] = t.id;
  const specials = tok.added_tokens.filter((t) => t.special && t.content !== EOT).map((t) => t.content);
  const merges = tok.model.merges.map((m) => (typeof m === "string" ? m : m.join(" ")));
  return {
    "vocab.json": JSON.stringify(vocab),
    "merges.txt": `#version: 0.2\n${merges.join("\n")}\n`,
    "added_tokens.json": JSON.stringify(added, null, 2),
    "special_tokens_map.json": JSON.stringify({
      additional_special_tokens: specials, bos_token: EOT, eos_token: EOT, pad_token: EOT, unk_token: EOT,
    }, null, 2),
    "tokenizer_config.json": JSON.stringify({
      add_bos_token: false, add_prefix_space: false, bos_token: EOT, clean_up_tokenization_spaces: true,
      eos_token: EOT, errors: "replace", model_max_length: 1024, pad_token: EOT, processor_class: "WhisperProcessor",
      return_attention_mask: false, tokenizer_class: "WhisperTokenizer", unk_token: EOT,
    }, null, 2),
  };
}

function tokenId(tok: TokenizerJson, content: string): number {
  const t = tok.added_tokens.find((a) => a.content === content);
  if (!t) throw new Error(`tokenizer.json: no ${content} token`);
  return t.id;
}

/** config.json, generation_config.json and preprocessor_config.json of openai/whisper-<name>. */
export function hfConfigFiles(name: string, dims: WhisperCt2Dims, ct2: Ct2WhisperConfig, tok: TokenizerJson): Record<string, string> {
  const eot = tokenId(tok, EOT), sot = tokenId(tok, "<|startoftranscript|>");
  const transcribe = tokenId(tok, "<|transcribe|>"), translate = tokenId(tok, "<|translate|>");
  const suppress = ct2.suppress_ids ?? [];
  const begin = ct2.suppress_ids_begin ?? [220, eot];
  const byId = new Map(tok.added_tokens.map((t) => [t.id, t.content]));
  const langToId: Record<string, number> = {};
  for (const id of ct2.lang_ids ?? []) {
    const c = byId.get(id);
    if (!c) throw new Error(`config.json: language id ${id} is not a token of tokenizer.json`);
    langToId[c] = id;
  }
  const multilingual = Object.keys(langToId).length > 0;
  const forced = multilingual ? [[1, null], [2, transcribe]] : [[1, tokenId(tok, "<|notimestamps|>")]];
  const config = {
    _name_or_path: `openai/whisper-${name}`,
    activation_dropout: 0.0, activation_function: "gelu", apply_spec_augment: false,
    architectures: ["WhisperForConditionalGeneration"], attention_dropout: 0.0,
    begin_suppress_tokens: begin, bos_token_id: eot, classifier_proj_size: 256,
    d_model: dims.dModel, decoder_attention_heads: dims.decoderHeads, decoder_ffn_dim: 4 * dims.dModel,
    decoder_layerdrop: 0.0, decoder_layers: dims.decoderLayers, decoder_start_token_id: sot, dropout: 0.0,
    encoder_attention_heads: dims.encoderHeads, encoder_ffn_dim: 4 * dims.dModel, encoder_layerdrop: 0.0,
    encoder_layers: dims.encoderLayers, eos_token_id: eot, forced_decoder_ids: forced, init_std: 0.02,
    is_encoder_decoder: true, max_length: dims.nTextCtx, max_source_positions: dims.nAudioCtx,
    max_target_positions: dims.nTextCtx, median_filter_width: 7, model_type: "whisper",
    num_hidden_layers: dims.encoderLayers, num_mel_bins: dims.nMels, pad_token_id: eot, scale_embedding: false,
    suppress_tokens: suppress, torch_dtype: "float16", use_cache: true, use_weighted_layer_sum: false,
    vocab_size: dims.vocabSize,
  };
  const generation = {
    alignment_heads: ct2.alignment_heads ?? [],
    begin_suppress_tokens: begin, bos_token_id: eot, decoder_start_token_id: sot, eos_token_id: eot,
    forced_decoder_ids: forced, is_multilingual: multilingual, lang_to_id: langToId,
    max_initial_timestamp_index: 50, max_length: dims.nTextCtx,
    no_timestamps_token_id: tokenId(tok, "<|notimestamps|>"), pad_token_id: eot,
    prev_sot_token_id: tokenId(tok, "<|startofprev|>"), return_timestamps: false, suppress_tokens: suppress,
    task_to_id: { transcribe, translate },
  };
  const preprocessor = {
    chunk_length: 30, feature_extractor_type: "WhisperFeatureExtractor", feature_size: dims.nMels,
    hop_length: 160, n_fft: 400, n_samples: 480000, nb_max_frames: 3000, padding_side: "right",
    padding_value: 0.0, processor_class: "WhisperProcessor", return_attention_mask: false, sampling_rate: 16000,
  };
  const j = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  return { "config.json": j(config), "generation_config.json": j(generation), "preprocessor_config.json": j(preprocessor) };
}

export type { TokenizerJson };
